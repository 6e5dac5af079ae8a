//! The settings pages over HTTP, as a browser posts them: tenancy (another
//! workspace's members, invitations, tokens and webhooks are "not found"
//! and never shown), role limits (the API's), the form token, the profile's
//! language, and a token's secret shown in exactly one answer.

use blazz::auth::password;
use blazz::jobs::Registry;
use blazz_domain::{Email, Role, WorkspaceId};
use blazz_store::{members, users};
use serde_json::{json, Value};

use crate::helpers::{TestApp, PASSWORD};
use crate::web_client::Web;

/// A member of `ws` with `role` (and no workspace of their own); their e-mail.
async fn member(app: &TestApp, ws: WorkspaceId, name: &str, role: Role) -> String {
    let email = format!("{}@example.com", name.to_lowercase());
    let mut conn = app.db.write().await.unwrap();
    let user = users::create(
        &mut conn,
        &Email::parse(&email).unwrap(),
        name,
        &password::hash(PASSWORD).unwrap(),
    )
    .await
    .unwrap();
    members::add(&mut conn, ws, user.id, role).await.unwrap();
    email
}

async fn user_id(app: &TestApp, email: &str) -> String {
    let (id,): (String,) = sqlx::query_as("SELECT id FROM users WHERE email = $1")
        .bind(email)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    id
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    let (n,): (i64,) = sqlx::query_as(sql).fetch_one(&app.db.pool).await.unwrap();
    n
}

/// An app that may send webhooks to 127.0.0.1.
async fn app() -> TestApp {
    TestApp::spawn_with(
        |c| c.webhooks.allow_private_targets = true,
        Registry::builtin(),
    )
    .await
}

#[tokio::test]
async fn an_owner_sees_every_settings_page_from_the_sub_navigation() {
    let app = app().await;
    let t = app.tenant("Acme").await;
    let b = Web::new(&app);
    b.sign_in(&t.owner_email).await;
    let home = b.get("/settings").await;
    home.assert_status(200);
    for path in [
        "/settings/profile",
        "/settings/security",
        "/settings/members",
        "/settings/invitations",
        "/settings/tokens",
        "/settings/webhooks",
        "/settings/realtime",
    ] {
        assert!(
            home.body.contains(&format!("href=\"{path}\"")),
            "{path} missing"
        );
        let page = b.get(path).await;
        page.assert_status(200);
        assert!(
            page.body
                .contains(&format!("href=\"{path}\" aria-current=\"page\"")),
            "{path} is not marked current"
        );
    }
    // Empty states say what to do next.
    // The tenant's API token is listed by name and prefix, never whole.
    let tokens = b.get("/settings/tokens").await;
    assert!(tokens.body.contains("owner token"), "{}", tokens.body);
    assert!(tokens.body.contains(&t.token[..8]));
    assert!(!tokens.body.contains(&t.token));
    assert!(b
        .get("/settings/webhooks")
        .await
        .body
        .contains("data-testid=\"no-webhooks\""));
    assert!(b
        .get("/settings/invitations")
        .await
        .body
        .contains("data-testid=\"no-invitations\""));
    // The realtime page shows the owner the app's secret, as the API does.
    let (status, rt) = app.get(&t.token, "/api/v1/realtime").await;
    assert_eq!(status, 200, "{rt}");
    let realtime = b.get("/settings/realtime").await;
    assert!(realtime.body.contains(rt["key"].as_str().unwrap()));
    assert!(realtime.body.contains(rt["secret"].as_str().unwrap()));
    // Signed out, settings send the browser to sign in.
    let anonymous = Web::new(&app);
    anonymous
        .get("/settings/tokens")
        .await
        .assert_redirect("/login");
    app.finish().await;
}

#[tokio::test]
async fn an_agent_gets_no_admin_settings_and_cannot_create_tokens_webhooks_or_invitations() {
    let app = app().await;
    let t = app.tenant("Acme").await;
    let agent = member(&app, t.id, "Agnes", Role::Agent).await;
    let b = Web::new(&app);
    b.sign_in(&agent).await;

    let home = b.get("/settings").await;
    home.assert_status(200);
    for hidden in [
        "/settings/tokens",
        "/settings/webhooks",
        "/settings/invitations",
    ] {
        assert!(
            !home.body.contains(&format!("href=\"{hidden}\"")),
            "an agent is offered {hidden}"
        );
        let page = b.get(hidden).await;
        page.assert_status(403);
        page.assert_html();
    }
    assert!(home.body.contains("href=\"/settings/members\""));
    let csrf = home.csrf();

    let tokens_before = count(&app, "SELECT COUNT(*) FROM api_tokens").await;
    let refused = b
        .post(
            "/settings/tokens",
            &[("csrf", &csrf), ("name", "mine"), ("role", "agent")],
        )
        .await;
    refused.assert_status(403);
    refused.assert_html();
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM api_tokens").await,
        tokens_before
    );

    let refused = b
        .post(
            "/settings/webhooks",
            &[
                ("csrf", &csrf),
                ("url", "http://127.0.0.1:9/hook"),
                ("events", "*"),
            ],
        )
        .await;
    refused.assert_status(403);
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM webhook_endpoints").await,
        0
    );

    let refused = b
        .post(
            "/settings/invitations",
            &[
                ("csrf", &csrf),
                ("email", "x@example.com"),
                ("role", "agent"),
            ],
        )
        .await;
    refused.assert_status(403);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM invitations").await, 0);

    // Members: the list without controls; the service refuses a removal.
    let members = b.get("/settings/members").await;
    members.assert_status(200);
    assert!(members.body.contains(&t.owner_email));
    assert!(!members.body.contains("/remove\""), "{}", members.body);
    let owner = user_id(&app, &t.owner_email).await;
    b.post(
        &format!("/settings/members/{owner}/remove"),
        &[("csrf", &csrf)],
    )
    .await
    .assert_status(403);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM memberships").await, 2);

    // Realtime: the key, not the secret, and no rotation.
    let (_, rt) = app.get(&t.token, "/api/v1/realtime").await;
    let realtime = b.get("/settings/realtime").await;
    realtime.assert_status(200);
    assert!(realtime.body.contains(rt["key"].as_str().unwrap()));
    assert!(!realtime.body.contains(rt["secret"].as_str().unwrap()));
    assert!(!realtime.body.contains("/settings/realtime/rotate"));
    b.post("/settings/realtime/rotate", &[("csrf", &csrf)])
        .await
        .assert_status(403);
    let (_, after) = app.get(&t.token, "/api/v1/realtime").await;
    assert_eq!(after["key"], rt["key"], "an agent rotated the key");
    app.finish().await;
}

#[tokio::test]
async fn an_admin_cannot_remove_or_demote_the_owner_nor_hand_out_the_owner_role() {
    let app = app().await;
    let t = app.tenant("Acme").await;
    let admin = member(&app, t.id, "Adam", Role::Admin).await;
    let agent = member(&app, t.id, "Agnes", Role::Agent).await;
    let owner = user_id(&app, &t.owner_email).await;
    let agent_id = user_id(&app, &agent).await;
    let b = Web::new(&app);
    b.sign_in(&admin).await;
    let csrf = b.csrf().await;

    let page = b.get("/settings/members").await;
    assert!(!page
        .body
        .contains(&format!("/settings/members/{owner}/remove")));
    assert!(page
        .body
        .contains(&format!("/settings/members/{agent_id}/remove")));

    b.post(
        &format!("/settings/members/{owner}/remove"),
        &[("csrf", &csrf)],
    )
    .await
    .assert_status(403);
    b.post(
        &format!("/settings/members/{owner}/role"),
        &[("csrf", &csrf), ("role", "agent")],
    )
    .await
    .assert_status(403);
    b.post(
        &format!("/settings/members/{agent_id}/role"),
        &[("csrf", &csrf), ("role", "owner")],
    )
    .await
    .assert_status(403);
    b.post(
        "/settings/invitations",
        &[
            ("csrf", &csrf),
            ("email", "o@example.com"),
            ("role", "owner"),
        ],
    )
    .await
    .assert_status(403);
    b.post(
        "/settings/tokens",
        &[("csrf", &csrf), ("name", "root"), ("role", "owner")],
    )
    .await
    .assert_status(403);
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM memberships WHERE role = 'owner'"
        )
        .await,
        1
    );

    // What an admin may do works: the agent becomes admin, then leaves.
    b.post(
        &format!("/settings/members/{agent_id}/role"),
        &[("csrf", &csrf), ("role", "admin")],
    )
    .await
    .assert_redirect("/settings/members");
    let (_, list) = app.get(&t.token, "/api/v1/members").await;
    let roles: Vec<(String, String)> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["email"].as_str().unwrap().into(),
                m["role"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert!(
        roles.contains(&(agent.clone(), "admin".into())),
        "{roles:?}"
    );
    b.post(
        &format!("/settings/members/{agent_id}/remove"),
        &[("csrf", &csrf)],
    )
    .await
    .assert_redirect("/settings/members");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM memberships").await, 2);

    // The last owner stays owner: the page says so.
    let o = Web::new(&app);
    o.sign_in(&t.owner_email).await;
    let csrf = o.csrf().await;
    let last = o
        .post(
            &format!("/settings/members/{owner}/role"),
            &[("csrf", &csrf), ("role", "admin")],
        )
        .await;
    last.assert_status(409);
    last.assert_html();
    assert!(last.body.contains("class=\"error\""), "{}", last.body);
    assert!(last.body.contains("at least one owner"), "{}", last.body);
    app.finish().await;
}

#[tokio::test]
async fn another_workspaces_members_invitations_tokens_and_webhooks_are_not_found() {
    let app = app().await;
    let a = app.tenant("Acme").await;
    let other = app.tenant("Other").await;
    let b_owner = user_id(&app, &other.owner_email).await;
    let (_, b_inv) = app
        .post(
            &other.token,
            "/api/v1/invitations",
            json!({"email": "secret.hire@example.com", "role": "agent"}),
        )
        .await;
    let b_inv = b_inv["id"].as_str().unwrap().to_string();
    let (_, b_tok) = app
        .post(
            &other.token,
            "/api/v1/tokens",
            json!({"name": "other-crm-sync", "role": "agent"}),
        )
        .await;
    let b_tok_id = b_tok["id"].as_str().unwrap().to_string();
    let b_tok_secret = b_tok["token"].as_str().unwrap().to_string();
    let (status, b_wh) = app
        .post(
            &other.token,
            "/api/v1/webhooks",
            json!({"url": "http://127.0.0.1:9/other-hook", "description": "other's hook"}),
        )
        .await;
    assert_eq!(status, 201, "{b_wh}");
    let b_wh = b_wh["id"].as_str().unwrap().to_string();
    let (status, b_ping) = app
        .post(
            &other.token,
            &format!("/api/v1/webhooks/{b_wh}/test"),
            json!({}),
        )
        .await;
    assert_eq!(status, 202, "{b_ping}");
    let b_delivery = b_ping["id"].as_str().unwrap().to_string();

    let b = Web::new(&app);
    b.sign_in(&a.owner_email).await;
    let csrf = b.csrf().await;

    // Nothing of theirs in any list.
    for path in [
        "/settings/members",
        "/settings/invitations",
        "/settings/tokens",
        "/settings/webhooks",
    ] {
        let page = b.get(path).await;
        page.assert_status(200);
        for theirs in [
            other.owner_email.as_str(),
            "secret.hire@example.com",
            "other-crm-sync",
            "other-hook",
        ] {
            assert!(!page.body.contains(theirs), "{path} shows {theirs}");
        }
    }

    // Their ids are not found, whatever the action.
    let not_found = [
        b.get(&format!("/settings/webhooks/{b_wh}")).await,
        b.post(
            &format!("/settings/webhooks/{b_wh}"),
            &[
                ("csrf", &csrf),
                ("url", "http://127.0.0.1:9/mine"),
                ("events", "*"),
            ],
        )
        .await,
        b.post(
            &format!("/settings/webhooks/{b_wh}/enabled"),
            &[("csrf", &csrf), ("enabled", "false")],
        )
        .await,
        b.post(
            &format!("/settings/webhooks/{b_wh}/rotate"),
            &[("csrf", &csrf)],
        )
        .await,
        b.post(
            &format!("/settings/webhooks/{b_wh}/test"),
            &[("csrf", &csrf)],
        )
        .await,
        b.post(
            &format!("/settings/webhooks/{b_wh}/deliveries/{b_delivery}/replay"),
            &[("csrf", &csrf)],
        )
        .await,
        b.post(
            &format!("/settings/webhooks/{b_wh}/delete"),
            &[("csrf", &csrf)],
        )
        .await,
        b.post(
            &format!("/settings/tokens/{b_tok_id}/revoke"),
            &[("csrf", &csrf)],
        )
        .await,
        b.post(
            &format!("/settings/invitations/{b_inv}/revoke"),
            &[("csrf", &csrf)],
        )
        .await,
        b.post(
            &format!("/settings/members/{b_owner}/remove"),
            &[("csrf", &csrf)],
        )
        .await,
        b.post(
            &format!("/settings/members/{b_owner}/role"),
            &[("csrf", &csrf), ("role", "agent")],
        )
        .await,
        b.get("/settings/webhooks/not-an-id").await,
    ];
    for page in &not_found {
        page.assert_status(404);
        page.assert_html();
        assert!(!page.body.contains("other-hook") && !page.body.contains("other-crm-sync"));
    }

    // And all of it is still theirs, untouched.
    let (status, wh) = app
        .get(&other.token, &format!("/api/v1/webhooks/{b_wh}"))
        .await;
    assert_eq!(status, 200, "{wh}");
    assert_eq!(wh["enabled"], true);
    assert_eq!(wh["url"], "http://127.0.0.1:9/other-hook");
    assert_eq!(wh["secret_rotated_at"], Value::Null);
    let (status, me) = app.get(&b_tok_secret, "/api/v1/me").await;
    assert_eq!(status, 200, "their token still works: {me}");
    let (_, invs) = app.get(&other.token, "/api/v1/invitations").await;
    assert_eq!(invs["data"][0]["status"], "pending");
    let (_, ms) = app.get(&other.token, "/api/v1/members").await;
    assert_eq!(ms["data"][0]["role"], "owner");
    app.finish().await;
}

#[tokio::test]
async fn settings_forms_without_the_form_token_change_nothing() {
    let app = app().await;
    let t = app.tenant("Acme").await;
    let agent = member(&app, t.id, "Agnes", Role::Agent).await;
    let agent_id = user_id(&app, &agent).await;
    let (_, tok) = app
        .post(
            &t.token,
            "/api/v1/tokens",
            json!({"name": "keep", "role": "agent"}),
        )
        .await;
    let tok_id = tok["id"].as_str().unwrap().to_string();
    let (_, wh) = app
        .post(
            &t.token,
            "/api/v1/webhooks",
            json!({"url": "http://127.0.0.1:9/hook"}),
        )
        .await;
    let wh = wh["id"].as_str().unwrap().to_string();
    let b = Web::new(&app);
    b.sign_in(&t.owner_email).await;

    let forged: Vec<(String, Vec<(&str, &str)>)> = vec![
        (
            "/settings/profile".into(),
            vec![("name", "Mallory"), ("language", "id")],
        ),
        (
            "/settings/tokens".into(),
            vec![("name", "forged"), ("role", "owner")],
        ),
        (format!("/settings/tokens/{tok_id}/revoke"), vec![]),
        (
            "/settings/invitations".into(),
            vec![("email", "m@example.com"), ("role", "admin")],
        ),
        (
            format!("/settings/members/{agent_id}/role"),
            vec![("role", "admin")],
        ),
        (format!("/settings/members/{agent_id}/remove"), vec![]),
        (
            "/settings/webhooks".into(),
            vec![("url", "http://127.0.0.1:9/x"), ("events", "*")],
        ),
        (format!("/settings/webhooks/{wh}/delete"), vec![]),
        (format!("/settings/webhooks/{wh}/rotate"), vec![]),
        ("/settings/realtime/rotate".into(), vec![]),
    ];
    for (path, mut form) in forged {
        let no_token = b.post(&path, &form).await;
        no_token.assert_status(403);
        no_token.assert_html();
        form.push(("csrf", "not-the-token"));
        b.post(&path, &form).await.assert_status(403);
    }
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM api_tokens WHERE revoked_at IS NULL"
        )
        .await,
        2
    );
    assert_eq!(count(&app, "SELECT COUNT(*) FROM invitations").await, 0);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM memberships").await, 2);
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM webhook_endpoints").await,
        1
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM users WHERE name = 'Mallory'").await,
        0
    );
    let (_, w) = app.get(&t.token, &format!("/api/v1/webhooks/{wh}")).await;
    assert_eq!(w["secret_rotated_at"], Value::Null);
    app.finish().await;
}

#[tokio::test]
async fn a_new_tokens_secret_is_in_exactly_one_answer_and_works() {
    let app = app().await;
    let t = app.tenant("Acme").await;
    let b = Web::new(&app);
    b.sign_in(&t.owner_email).await;
    let csrf = b.csrf().await;

    // A name the service refuses is shown on the form.
    let blank = b
        .post(
            "/settings/tokens",
            &[("csrf", &csrf), ("name", " "), ("role", "agent")],
        )
        .await;
    blank.assert_status(422);
    assert!(blank.body.contains("class=\"error\""), "{}", blank.body);

    let created = b
        .post(
            "/settings/tokens",
            &[("csrf", &csrf), ("name", "CRM sync"), ("role", "admin")],
        )
        .await;
    created.assert_status(200);
    let secret = created.input_value("id=\"new-token\" class=\"copy\" readonly value=\"");
    assert!(secret.len() > 20, "{secret}");
    let (status, me) = app.get(&secret, "/api/v1/me").await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["kind"], "token");
    assert_eq!(me["role"], "admin");
    assert_eq!(me["name"], "CRM sync");

    // Never again: not in the list, nor anywhere else.
    for path in ["/settings/tokens", "/settings", "/settings/members", "/"] {
        b.get(path).await;
    }
    let list = b.get("/settings/tokens").await;
    assert!(list.body.contains("CRM sync"));
    assert_eq!(b.answers_with(&secret), 1);

    // Revoked from the list, it stops working.
    let id = me["id"].as_str().unwrap();
    b.post(&format!("/settings/tokens/{id}/revoke"), &[("csrf", &csrf)])
        .await
        .assert_redirect("/settings/tokens");
    assert_eq!(app.get(&secret, "/api/v1/me").await.0, 401);
    app.finish().await;
}

#[tokio::test]
async fn the_profile_sets_the_name_and_the_language_of_the_pages() {
    let app = app().await;
    let t = app.tenant("Acme").await;
    let b = Web::new(&app);
    b.sign_in(&t.owner_email).await;
    let csrf = b.csrf().await;
    let english = b.get("/settings").await;
    assert!(english.body.contains("<html lang=\"en\">"));
    assert!(english.body.contains(">API tokens</a>"));

    b.post(
        "/settings/profile",
        &[("csrf", &csrf), ("name", "Asha Rahman"), ("language", "id")],
    )
    .await
    .assert_redirect("/settings/profile?saved=1");
    let saved = b.get("/settings/profile?saved=1").await;
    assert!(saved.body.contains("<html lang=\"id\">"), "{}", saved.body);
    assert!(saved.body.contains("Tersimpan."));
    assert!(saved.body.contains("value=\"Asha Rahman\""));
    assert!(saved
        .body
        .contains("<option value=\"id\" lang=\"id\" selected>"));
    let settings = b.get("/settings").await;
    assert!(
        settings.body.contains(">Token API</a>"),
        "{}",
        settings.body
    );
    assert!(settings.body.contains(">Pengaturan<"));

    // A refused name is shown on the form, in the member's language.
    let bad = b
        .post(
            "/settings/profile",
            &[("csrf", &csrf), ("name", ""), ("language", "id")],
        )
        .await;
    bad.assert_status(422);
    assert!(bad.body.contains("class=\"error\""));

    // "Follow the browser": the browser's language again.
    b.post(
        "/settings/profile",
        &[("csrf", &csrf), ("name", "Asha Rahman"), ("language", "")],
    )
    .await
    .assert_redirect("/settings/profile?saved=1");
    let back = b.get("/settings").await;
    assert!(back.body.contains("<html lang=\"en\">"));
    let (lang,): (Option<String>,) = sqlx::query_as("SELECT language FROM users WHERE email = $1")
        .bind(&t.owner_email)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(lang, None);
    let (_, me) = app.get(&t.token, "/api/v1/members").await;
    assert_eq!(me["data"][0]["name"], "Asha Rahman");
    app.finish().await;
}

#[tokio::test]
async fn a_webhook_endpoint_is_added_edited_and_refused_on_the_page() {
    let app = app().await;
    let t = app.tenant("Acme").await;
    let b = Web::new(&app);
    b.sign_in(&t.owner_email).await;
    let csrf = b.csrf().await;

    let bad = b
        .post(
            "/settings/webhooks",
            &[("csrf", &csrf), ("url", "ftp://nowhere"), ("events", "*")],
        )
        .await;
    bad.assert_status(422);
    assert!(bad.body.contains("class=\"error\""), "{}", bad.body);
    assert!(
        bad.body.contains("value=\"ftp://nowhere\""),
        "the form keeps what was typed"
    );

    let created = b
        .post(
            "/settings/webhooks",
            &[
                ("csrf", &csrf),
                ("url", "http://127.0.0.1:9/hook"),
                ("description", "CRM"),
                ("events", "contact.updated"),
                ("events", "message.created"),
            ],
        )
        .await;
    created.assert_status(200);
    let secret = created.input_value("id=\"webhook-secret\" class=\"copy\" readonly value=\"");
    assert!(secret.starts_with("whsec_"), "{secret}");
    let (_, list) = app.get(&t.token, "/api/v1/webhooks").await;
    let w = &list["data"][0];
    assert_eq!(w["events"], json!(["contact.updated", "message.created"]));
    assert_eq!(w["description"], "CRM");
    let id = w["id"].as_str().unwrap().to_string();
    let page = b.get(&format!("/settings/webhooks/{id}")).await;
    page.assert_status(200);
    assert!(!page.body.contains(&secret), "the secret is shown once");

    // Edit: every event; then disable.
    b.post(
        &format!("/settings/webhooks/{id}"),
        &[
            ("csrf", &csrf),
            ("url", "http://127.0.0.1:9/hook2"),
            ("description", ""),
            ("events", "*"),
        ],
    )
    .await
    .assert_redirect(&format!("/settings/webhooks/{id}"));
    b.post(
        &format!("/settings/webhooks/{id}/enabled"),
        &[("csrf", &csrf), ("enabled", "false")],
    )
    .await
    .assert_redirect(&format!("/settings/webhooks/{id}"));
    let (_, w) = app.get(&t.token, &format!("/api/v1/webhooks/{id}")).await;
    assert_eq!(w["url"], "http://127.0.0.1:9/hook2");
    assert_eq!(w["events"], json!(["*"]));
    assert_eq!(w["description"], Value::Null);
    assert_eq!(w["enabled"], false);
    // A disabled endpoint takes no test ping: the page says so.
    let refused = b
        .post(&format!("/settings/webhooks/{id}/test"), &[("csrf", &csrf)])
        .await;
    refused.assert_status(409);
    assert!(
        refused.body.contains("data-testid=\"notice\""),
        "{}",
        refused.body
    );

    // A new secret is shown once, then delete.
    let rotated = b
        .post(
            &format!("/settings/webhooks/{id}/rotate"),
            &[("csrf", &csrf)],
        )
        .await;
    rotated.assert_status(200);
    let new_secret = rotated.input_value("id=\"webhook-secret\" class=\"copy\" readonly value=\"");
    assert_ne!(new_secret, secret);
    b.post(
        &format!("/settings/webhooks/{id}/delete"),
        &[("csrf", &csrf)],
    )
    .await
    .assert_redirect("/settings/webhooks");
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM webhook_endpoints").await,
        0
    );
    app.finish().await;
}
