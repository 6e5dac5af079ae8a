//! Tenant isolation: nothing of one workspace can be seen, changed or even
//! probed for with the credentials of another. The walk is a table of every
//! route that takes an id, and a second test holds that table to the
//! OpenAPI document, so a new route cannot ship without its check.

use blazz::services::invitations::{self, Acceptor};
use blazz_domain::{Priority, Role, WorkspaceId};
use blazz_store::jobs::{self as store_jobs, NewJob};
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_error, Tenant, TestApp, PASSWORD};

/// The API without the job workers and the outbox dispatcher writing beside
/// it. Those are not under test here, and on SQLite any concurrent writer can
/// make a request fail with `database is locked` (a 500): the services open
/// deferred transactions that read before they write (a known src problem).
fn quiet(c: &mut blazz::config::Config) {
    c.jobs.workers = 0;
    c.outbox.dispatch = false;
}

async fn spawn() -> TestApp {
    TestApp::spawn_with(quiet, blazz::jobs::Registry::builtin()).await
}

/// Every workspace-scoped route that takes an id: method, path as the
/// OpenAPI document spells it, JSON body, and the stable code of its 404.
/// A new route with an id must be added here (the OpenAPI test insists).
#[rustfmt::skip]
const WALK: &[(&str, &str, &str, &str)] = &[
    ("PATCH",  "/api/v1/members/{user_id}", r#"{"role": "agent"}"#, "member_not_found"),
    ("DELETE", "/api/v1/members/{user_id}", "",                    "member_not_found"),
    ("DELETE", "/api/v1/invitations/{id}",  "",                    "invitation_not_found"),
    ("DELETE", "/api/v1/tokens/{id}",       "",                    "token_not_found"),
    ("GET",    "/api/v1/jobs/{id}",         "",                    "job_not_found"),
    ("POST",   "/api/v1/jobs/{id}/retry",   "",                    "job_not_found"),
    ("GET",    "/api/v1/canned-replies/{id}", "",                  "canned_reply_not_found"),
    ("PATCH",  "/api/v1/canned-replies/{id}", r#"{"body": "x"}"#,   "canned_reply_not_found"),
    ("DELETE", "/api/v1/canned-replies/{id}", "",                  "canned_reply_not_found"),
    ("POST",   "/api/v1/canned-replies/{id}/render", r#"{"contact_id": "x"}"#, "canned_reply_not_found"),
    ("GET",    "/api/v1/contacts/{id}",     "",                    "contact_not_found"),
    ("PATCH",  "/api/v1/contacts/{id}",     r#"{"name": "taken"}"#, "contact_not_found"),
    ("DELETE", "/api/v1/contacts/{id}",     "",                    "contact_not_found"),
    ("GET",    "/api/v1/accounts/{id}",     "",                    "account_not_found"),
    ("DELETE", "/api/v1/accounts/{id}",     "",                    "account_not_found"),
    ("POST",   "/api/v1/accounts/{id}/link", "",                   "account_not_found"),
    ("GET",    "/api/v1/accounts/{id}/qr",  "",                    "account_not_found"),
    ("POST",   "/api/v1/accounts/{id}/reconnect", "",              "account_not_found"),
    ("POST",   "/api/v1/accounts/{id}/logout", "",                 "account_not_found"),
    ("POST",   "/api/v1/sandbox/accounts/{id}/scan", r#"{"code": "2@x"}"#, "account_not_found"),
    ("POST",   "/api/v1/sandbox/accounts/{id}/inbound", r#"{"from": "+15550001111", "text": "hi"}"#, "account_not_found"),
    ("POST",   "/api/v1/sandbox/accounts/{id}/typing", r#"{"from": "+15550001111", "typing": true}"#, "account_not_found"),
    ("POST",   "/api/v1/sandbox/accounts/{id}/disconnect", "",     "account_not_found"),
    ("POST",   "/api/v1/sandbox/accounts/{id}/silence", "",        "account_not_found"),
    ("POST",   "/api/v1/sandbox/accounts/{id}/logout", "",         "account_not_found"),
    ("POST",   "/api/v1/sandbox/accounts/{id}/ban", "",            "account_not_found"),
    ("POST",   "/api/v1/sandbox/accounts/{id}/presence", r#"{"from": "+15550001111", "available": true}"#, "account_not_found"),
    ("POST",   "/api/v1/sandbox/accounts/{id}/outage", r#"{"down": true}"#, "account_not_found"),
    ("POST",   "/api/v1/sandbox/accounts/{id}/pacing", r#"{"enforce": false}"#, "account_not_found"),
    ("GET",    "/api/v1/sandbox/accounts/{id}/received", "",       "account_not_found"),
    ("GET",    "/api/v1/sandbox/accounts/{id}/reads", "",          "account_not_found"),
    ("GET",    "/api/v1/sandbox/accounts/{id}/typing", "",         "account_not_found"),
    ("POST",   "/api/v1/sandbox/accounts/{id}/receipts", r#"{"provider_message_id": "x", "status": "read"}"#, "account_not_found"),
    ("POST",   "/api/v1/sandbox/accounts/{id}/send-failures", r#"{"count": 1, "kind": "transient"}"#, "account_not_found"),
    ("GET",    "/api/v1/media/{id}",        "",                    "media_not_found"),
    ("DELETE", "/api/v1/media/{id}",        "",                    "media_not_found"),
    ("GET",    "/api/v1/media/{id}/info",   "",                    "media_not_found"),
    ("GET",    "/api/v1/chats/{id}",        "",                    "chat_not_found"),
    ("PATCH",  "/api/v1/chats/{id}",        r#"{"status": "resolved"}"#, "chat_not_found"),
    ("POST",   "/api/v1/chats/{id}/read",   "",                    "chat_not_found"),
    ("POST",   "/api/v1/chats/{id}/typing", r#"{"typing": true}"#, "chat_not_found"),
    ("GET",    "/api/v1/chats/{id}/notes",  "",                    "chat_not_found"),
    ("POST",   "/api/v1/chats/{id}/notes",  r#"{"body": "peek"}"#, "chat_not_found"),
    ("GET",    "/api/v1/chats/{id}/messages", "",                  "chat_not_found"),
    ("POST",   "/api/v1/chats/{id}/messages", r#"{"text": "hello"}"#, "chat_not_found"),
    ("GET",    "/api/v1/messages/{id}",     "",                    "message_not_found"),
    ("GET",    "/api/v1/webhooks/{id}",     "",                    "webhook_not_found"),
    ("PATCH",  "/api/v1/webhooks/{id}",     r#"{"description": "taken"}"#, "webhook_not_found"),
    ("DELETE", "/api/v1/webhooks/{id}",     "",                    "webhook_not_found"),
    ("POST",   "/api/v1/webhooks/{id}/rotate-secret", "",          "webhook_not_found"),
    ("GET",    "/api/v1/webhooks/{id}/deliveries", "",             "webhook_not_found"),
    // (the walk fills the first id only: the endpoint is checked first)
    ("POST",   "/api/v1/webhooks/{id}/deliveries/{delivery_id}/replay", "", "webhook_not_found"),
    ("POST",   "/api/v1/webhooks/{id}/replay", r#"{"since": "2020-01-01T00:00:00Z"}"#, "webhook_not_found"),
    ("POST",   "/api/v1/webhooks/{id}/test", "",                   "webhook_not_found"),
    ("POST",   "/api/v1/sandbox/accounts/{id}/phone-send", r#"{"to": "+15550001111", "text": "hi"}"#, "account_not_found"),
    ("GET",    "/api/v1/campaigns/{id}",    "",                    "campaign_not_found"),
    ("PUT",    "/api/v1/campaigns/{id}",    r#"{"name": "taken", "text": "x"}"#, "campaign_not_found"),
    ("DELETE", "/api/v1/campaigns/{id}",    "",                    "campaign_not_found"),
    ("POST",   "/api/v1/campaigns/{id}/start", "",                 "campaign_not_found"),
    ("POST",   "/api/v1/campaigns/{id}/pause", "",                 "campaign_not_found"),
    ("POST",   "/api/v1/campaigns/{id}/resume", "",                "campaign_not_found"),
    ("POST",   "/api/v1/campaigns/{id}/cancel", "",                "campaign_not_found"),
    ("GET",    "/api/v1/campaigns/{id}/recipients", "",            "campaign_not_found"),
    ("GET",    "/api/v1/campaigns/{id}/recipients.csv", "",        "campaign_not_found"),
    ("PATCH",  "/api/v1/accounts/{id}",     r#"{"cloud": {"access_token": "taken"}}"#, "account_not_found"),
    ("POST",   "/api/v1/accounts/{id}/test", "",                   "account_not_found"),
    ("POST",   "/api/v1/accounts/{id}/resume-sending", "",         "account_not_found"),
    ("POST",   "/api/v1/accounts/{id}/templates/sync", "",         "account_not_found"),
    ("GET",    "/api/v1/templates/{id}",    "",                    "template_not_found"),
    ("DELETE", "/api/v1/templates/{id}",    "",                    "template_not_found"),
    ("GET",    "/api/v1/account-groups/{id}", "",                  "account_group_not_found"),
    ("DELETE", "/api/v1/account-groups/{id}", "",                  "account_group_not_found"),
];

/// One row of the walk, ready to send.
struct Probe {
    method: Method,
    path: &'static str,
    body: Option<Value>,
    not_found: &'static str,
}

fn walk() -> Vec<Probe> {
    WALK.iter()
        .map(|&(method, path, body, not_found)| Probe {
            method: method.parse().unwrap(),
            path,
            body: (!body.is_empty()).then(|| serde_json::from_str(body).unwrap()),
            not_found,
        })
        .collect()
}

/// Everything with an id that tenant A owns, and a way to tell it apart.
struct Holdings {
    tenant: Tenant,
    owner_id: String,
    member_id: String,
    member_email: String,
    pending_invitation: String,
    pending_email: String,
    accepted_invitation: String,
    owner_token_id: String,
    script_token_id: String,
    script_token: String,
    job: i64,
    /// A sandbox number, linked and connected.
    account: String,
    contact: String,
    contact_phone: String,
    canned: String,
    /// An uploaded image.
    media: String,
    /// A chat (from an inbound message) and a message sent in it.
    chat: String,
    message: String,
    /// A webhook endpoint (on a public address; nothing is sent here).
    webhook: String,
    /// A draft campaign from the number.
    campaign: String,
    /// A Meta message template stored for the number.
    template: String,
    /// An account group of the number and a second one.
    group: String,
}

impl Holdings {
    /// A's ids for the resource a route names, by the route's first segment.
    fn ids_for(&self, path: &str) -> Vec<String> {
        let resource = path
            .trim_start_matches("/api/v1/")
            .split('/')
            .next()
            .unwrap_or_default();
        match resource {
            "members" => vec![self.owner_id.clone(), self.member_id.clone()],
            "invitations" => vec![
                self.pending_invitation.clone(),
                self.accepted_invitation.clone(),
            ],
            "tokens" => vec![self.owner_token_id.clone(), self.script_token_id.clone()],
            "jobs" => vec![self.job.to_string()],
            "accounts" | "sandbox" => vec![self.account.clone()],
            "contacts" => vec![self.contact.clone()],
            "canned-replies" => vec![self.canned.clone()],
            "media" => vec![self.media.clone()],
            "chats" => vec![self.chat.clone()],
            "messages" => vec![self.message.clone()],
            "webhooks" => vec![self.webhook.clone()],
            "campaigns" => vec![self.campaign.clone()],
            "templates" => vec![self.template.clone()],
            "account-groups" => vec![self.group.clone()],
            other => panic!("the isolation walk has no resource of tenant A for /{other}: add one"),
        }
    }

    /// An id of the same kind that names nothing at all.
    fn unknown_id_for(path: &str) -> String {
        if path.starts_with("/api/v1/jobs/") {
            i64::MAX.to_string()
        } else {
            blazz_domain::UserId::new().to_string()
        }
    }

    /// Strings that must never appear in an answer to another tenant.
    fn secrets(&self) -> Vec<String> {
        vec![
            self.tenant.id.to_string(),
            self.tenant.owner_email.clone(),
            self.tenant.token.clone(),
            self.owner_id.clone(),
            self.member_id.clone(),
            self.member_email.clone(),
            self.pending_invitation.clone(),
            self.pending_email.clone(),
            self.accepted_invitation.clone(),
            self.owner_token_id.clone(),
            self.script_token_id.clone(),
            self.script_token.clone(),
            self.script_token[..12].to_string(),
            self.account.clone(),
            self.contact.clone(),
            self.contact_phone.clone(),
            self.canned.clone(),
            self.media.clone(),
            self.chat.clone(),
            self.message.clone(),
            self.webhook.clone(),
            self.campaign.clone(),
            self.template.clone(),
            self.group.clone(),
        ]
    }
}

fn fill(path: &str, id: &str) -> String {
    let start = path.find('{').unwrap();
    let end = path[start..].find('}').unwrap() + start;
    format!("{}{id}{}", &path[..start], &path[end + 1..])
}

fn ids(list: &Value, key: &str) -> Vec<String> {
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e[key].to_string().trim_matches('"').to_string())
        .collect()
}

/// A dead job of the workspace, as the queue leaves one after its attempts.
async fn dead_job(app: &TestApp, ws: WorkspaceId) -> i64 {
    let mut conn = app.db.pool.acquire().await.unwrap();
    let job = NewJob {
        name: "test.isolation".into(),
        workspace_id: Some(ws),
        payload: json!({"workspace": ws.to_string()}),
        priority: Priority::Normal,
        run_at: blazz_store::now_ms() + 3_600_000,
        max_attempts: 1,
        idempotency_key: None,
    };
    let id = store_jobs::enqueue(&mut conn, &job).await.unwrap().unwrap();
    sqlx::query(
        "UPDATE jobs SET state = 'dead', attempts = 1, last_error = 'gave up' WHERE id = $1",
    )
    .bind(id)
    .execute(&app.db.pool)
    .await
    .unwrap();
    id
}

async fn create(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    let answer = app.post(token, path, body).await;
    assert_eq!(answer.0, 201, "{answer:?}");
    answer.1
}

/// Gives tenant `name` one of every resource that has an id.
async fn populate(app: &TestApp, name: &str) -> Holdings {
    let tenant = app.tenant(name).await;
    let lower = name.to_lowercase();
    let pending_email = format!("pending@{lower}.test");
    let member_email = format!("member@{lower}.test");

    let pending = create(
        app,
        &tenant.token,
        "/api/v1/invitations",
        json!({"email": pending_email, "role": "agent"}),
    )
    .await;
    let invited = create(
        app,
        &tenant.token,
        "/api/v1/invitations",
        json!({"email": member_email, "role": "admin"}),
    )
    .await;
    let secret = invited["link"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    let member = invitations::accept(
        app.state(),
        &secret,
        Acceptor::NewUser {
            name: "Second",
            password: PASSWORD,
        },
    )
    .await
    .unwrap();
    let script = create(
        app,
        &tenant.token,
        "/api/v1/tokens",
        json!({"name": "script", "role": "admin"}),
    )
    .await;

    let (_, me) = app.get(&tenant.token, "/api/v1/me").await;
    let (_, members) = app.get(&tenant.token, "/api/v1/members").await;
    let owner = members["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["email"] == tenant.owner_email.as_str())
        .unwrap();
    let job = dead_job(app, tenant.id).await;
    let account = crate::numbers::connected_account(app, &tenant.token).await;
    let contact_phone = if name == "Alpha" {
        "+14155552671"
    } else {
        "+14155552672"
    };
    let contact = create(
        app,
        &tenant.token,
        "/api/v1/contacts",
        json!({"phone": contact_phone, "name": name}),
    )
    .await;
    let canned = create(
        app,
        &tenant.token,
        "/api/v1/canned-replies",
        json!({"shortcut": "hi", "body": "Hi"}),
    )
    .await;
    let media = app
        .client
        .post(app.url("/api/v1/media?kind=image&filename=logo.png"))
        .bearer_auth(&tenant.token)
        .header(reqwest::header::CONTENT_TYPE, "image/png")
        .body(format!("{name} logo").into_bytes())
        .send()
        .await
        .unwrap();
    assert_eq!(media.status(), 201);
    let media: Value = media.json().await.unwrap();
    let (status, _) = app
        .post(
            &tenant.token,
            &format!("/api/v1/sandbox/accounts/{account}/inbound"),
            json!({"from": contact_phone, "text": format!("{name} asks")}),
        )
        .await;
    assert_eq!(status, 202);
    let mut chat = Value::Null;
    for _ in 0..200 {
        let (_, chats) = app.get(&tenant.token, "/api/v1/chats").await;
        chat = chats["data"][0].clone();
        if chat.is_object() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let chat = chat["id"]
        .as_str()
        .expect("the inbound message made a chat")
        .to_string();
    let (status, message) = app
        .post(
            &tenant.token,
            &format!("/api/v1/chats/{chat}/messages"),
            json!({"text": format!("{name} answers")}),
        )
        .await;
    assert_eq!(status, 202, "{message}");
    let webhook = create(
        app,
        &tenant.token,
        "/api/v1/webhooks",
        json!({"url": format!("https://93.184.216.34/hooks/{lower}"), "description": name}),
    )
    .await;
    let campaign = create(
        app,
        &tenant.token,
        "/api/v1/campaigns",
        json!({"name": format!("{name} promo"), "text": "hi", "account_ids": [account],
               "audience": {"tags": ["vip"]}}),
    )
    .await;
    // A stored Meta template (as a sync would leave it).
    let template = {
        let mut conn = app.db.pool.acquire().await.unwrap();
        let t = blazz_store::cloud::templates::Template {
            id: uuid::Uuid::now_v7(),
            workspace_id: tenant.id,
            account_id: account.parse().unwrap(),
            meta_id: Some(format!("meta-{name}")),
            name: "order_update".into(),
            language: "en_US".into(),
            category: Some("UTILITY".into()),
            status: "APPROVED".into(),
            parameter_format: "POSITIONAL".into(),
            components: json!([{"type": "BODY", "text": "Hi {{1}}"}]),
            reason: None,
            created_at: 0,
            updated_at: 0,
        };
        blazz_store::cloud::templates::upsert(&mut conn, &t)
            .await
            .unwrap()
            .id
            .to_string()
    };
    let second = crate::numbers::create_account(app, &tenant.token, "Second line").await;
    let group = create(
        app,
        &tenant.token,
        "/api/v1/account-groups",
        json!({"name": format!("{name} failover"), "primary_account_id": account,
               "fallback_account_id": second}),
    )
    .await;
    Holdings {
        group: group["id"].as_str().unwrap().to_string(),
        template,
        campaign: campaign["id"].as_str().unwrap().to_string(),
        webhook: webhook["id"].as_str().unwrap().to_string(),
        chat,
        message: message["id"].as_str().unwrap().to_string(),
        canned: canned["id"].as_str().unwrap().to_string(),
        media: media["id"].as_str().unwrap().to_string(),
        account,
        contact: contact["id"].as_str().unwrap().to_string(),
        contact_phone: contact_phone.to_string(),
        owner_id: owner["user_id"].as_str().unwrap().to_string(),
        member_id: member.id.to_string(),
        member_email,
        pending_invitation: pending["id"].as_str().unwrap().to_string(),
        pending_email,
        accepted_invitation: invited["id"].as_str().unwrap().to_string(),
        owner_token_id: me["id"].as_str().unwrap().to_string(),
        script_token_id: script["id"].as_str().unwrap().to_string(),
        script_token: script["token"].as_str().unwrap().to_string(),
        job,
        tenant,
    }
}

/// What A can see of its own resources, to compare before and after.
async fn snapshot(app: &TestApp, a: &Holdings) -> Vec<(u16, Value)> {
    let token = &a.tenant.token;
    let mut out = Vec::new();
    for path in [
        "/api/v1/members",
        "/api/v1/invitations",
        "/api/v1/tokens",
        "/api/v1/audit",
        "/api/v1/jobs",
        "/api/v1/workspace",
        "/api/v1/accounts",
        "/api/v1/contacts",
        "/api/v1/canned-replies",
        "/api/v1/chats",
        "/api/v1/webhooks",
        "/api/v1/campaigns",
    ] {
        let (status, mut body) = app.get(token, path).await;
        if path == "/api/v1/tokens" {
            // Using a token moves its last_used_at; that is A's own doing.
            for t in body["data"].as_array_mut().unwrap() {
                t["last_used_at"] = Value::Null;
            }
        }
        out.push((status, body));
    }
    out.push(app.get(token, &format!("/api/v1/jobs/{}", a.job)).await);
    out.push(
        app.get(token, &format!("/api/v1/media/{}/info", a.media))
            .await,
    );
    out.push(app.get(token, &format!("/api/v1/media/{}", a.media)).await);
    out.push(
        app.get(token, &format!("/api/v1/chats/{}/messages", a.chat))
            .await,
    );
    out.push(
        app.get(token, &format!("/api/v1/chats/{}/notes", a.chat))
            .await,
    );
    out.push(
        app.get(token, &format!("/api/v1/messages/{}", a.message))
            .await,
    );
    out.push(
        app.get(token, &format!("/api/v1/webhooks/{}/deliveries", a.webhook))
            .await,
    );
    out
}

async fn remove_dead_jobs(app: &TestApp) {
    sqlx::query("DELETE FROM jobs WHERE state = 'dead'")
        .execute(&app.db.pool)
        .await
        .unwrap();
}

#[tokio::test]
async fn another_tenant_cannot_touch_or_detect_any_resource_by_id() {
    let app = spawn().await;
    let a = populate(&app, "Alpha").await;
    let b = populate(&app, "Beta").await;
    let before = snapshot(&app, &a).await;
    // The ids are real: A reaches them.
    assert_eq!(
        app.get(&a.tenant.token, &format!("/api/v1/jobs/{}", a.job))
            .await
            .0,
        200
    );

    for probe in walk() {
        // What B gets for an id that names nothing: the answer for A's ids
        // must be the very same, or it tells that A's id exists.
        let unknown = fill(probe.path, &Holdings::unknown_id_for(probe.path));
        let nothing = app
            .call(
                probe.method.clone(),
                &b.tenant.token,
                &unknown,
                probe.body.clone(),
            )
            .await;
        assert_error(&nothing, 404, probe.not_found);
        for id in a.ids_for(probe.path) {
            let path = fill(probe.path, &id);
            let answer = app
                .call(
                    probe.method.clone(),
                    &b.tenant.token,
                    &path,
                    probe.body.clone(),
                )
                .await;
            assert_error(&answer, 404, probe.not_found);
            assert_eq!(
                answer, nothing,
                "{} {path} tells A's id from a missing one",
                probe.method
            );
        }
    }

    assert_eq!(
        snapshot(&app, &a).await,
        before,
        "B's requests changed A's resources"
    );
    let (_, members) = app.get(&a.tenant.token, "/api/v1/members").await;
    let roles: Vec<(&str, &str)> = members["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["user_id"].as_str().unwrap(), m["role"].as_str().unwrap()))
        .collect();
    assert_eq!(
        roles,
        [
            (a.owner_id.as_str(), "owner"),
            (a.member_id.as_str(), "admin")
        ]
    );
    let (_, invs) = app.get(&a.tenant.token, "/api/v1/invitations").await;
    let statuses: Vec<&str> = invs["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids(&invs, "id"),
        [a.accepted_invitation.clone(), a.pending_invitation.clone()]
    );
    assert_eq!(statuses, ["accepted", "pending"]);
    let (_, tokens) = app.get(&a.tenant.token, "/api/v1/tokens").await;
    assert_eq!(
        ids(&tokens, "id"),
        [a.owner_token_id.clone(), a.script_token_id.clone()]
    );
    assert!(
        tokens["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["revoked_at"].is_null()),
        "{tokens}"
    );
    let (status, me) = app.get(&a.script_token, "/api/v1/me").await;
    assert_eq!(
        (status, me["workspace_id"].as_str()),
        (200, Some(a.tenant.id.to_string().as_str()))
    );
    let (_, job) = app
        .get(&a.tenant.token, &format!("/api/v1/jobs/{}", a.job))
        .await;
    assert_eq!(
        (job["state"].as_str(), job["attempts"].as_i64()),
        (Some("dead"), Some(1))
    );
    // B's own resources still answer B: the 404s were about A's ids only.
    assert_eq!(
        app.get(&b.tenant.token, &format!("/api/v1/jobs/{}", b.job))
            .await
            .0,
        200
    );

    remove_dead_jobs(&app).await;
    app.finish().await;
}

#[tokio::test]
async fn another_tenants_lists_never_show_a_trace_of_this_one() {
    let app = spawn().await;
    let a = populate(&app, "Alpha").await;
    let b = populate(&app, "Beta").await;
    let secrets = a.secrets();
    for path in [
        "/api/v1/members",
        "/api/v1/invitations",
        "/api/v1/tokens",
        "/api/v1/audit",
        "/api/v1/jobs",
        "/api/v1/jobs?state=dead",
        "/api/v1/workspace",
        "/api/v1/me",
        "/api/v1/accounts",
        "/api/v1/contacts",
        "/api/v1/contacts?q=Alpha",
        "/api/v1/contacts?q=4155552671",
        "/api/v1/chats",
        "/api/v1/chats?q=4155552671",
        "/api/v1/messages?q=Alpha",
        "/api/v1/messages?q=asks",
        "/api/v1/webhooks",
        "/api/v1/campaigns",
    ] {
        let (status, body) = app.get(&b.tenant.token, path).await;
        assert_eq!(status, 200, "{path}: {body}");
        let text = body.to_string();
        for secret in &secrets {
            assert!(
                !text.contains(secret.as_str()),
                "{path} shows {secret} of tenant A: {text}"
            );
        }
        // Not vacuous: B's own things are there.
        let own = b.secrets();
        assert!(
            // (searches for A's name and number rightly find nothing)
            path.starts_with("/api/v1/jobs")
                || path.contains("?q=")
                || own.iter().any(|s| text.contains(s.as_str())),
            "{path}: {text}"
        );
    }
    // B's jobs: its dead one, and the send of its message (no worker runs
    // here); never A's.
    let (_, dead) = app.get(&b.tenant.token, "/api/v1/jobs?state=dead").await;
    assert_eq!(ids(&dead, "id"), [b.job.to_string()]);
    let (_, jobs) = app.get(&b.tenant.token, "/api/v1/jobs").await;
    let listed = ids(&jobs, "id");
    assert!(listed.contains(&b.job.to_string()), "{jobs}");
    assert!(!listed.contains(&a.job.to_string()), "{jobs}");
    assert!(
        jobs["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|j| j["name"] == "message.send" || j["id"] == b.job),
        "{jobs}"
    );
    let (_, members) = app.get(&b.tenant.token, "/api/v1/members").await;
    assert_eq!(
        ids(&members, "user_id"),
        [b.owner_id.clone(), b.member_id.clone()]
    );
    let (_, audit) = app.get(&b.tenant.token, "/api/v1/audit?limit=200").await;
    assert!(audit["next_cursor"].is_null());

    // An agent of B sees no more of A than B's owner does.
    let agent = app.token(b.tenant.id, Role::Agent).await;
    for path in ["/api/v1/members", "/api/v1/workspace", "/api/v1/me"] {
        let (status, body) = app.get(&agent, path).await;
        assert_eq!(status, 200, "{path}: {body}");
        let text = body.to_string();
        assert!(
            secrets.iter().all(|s| !text.contains(s.as_str())),
            "{path} shows tenant A: {text}"
        );
    }

    remove_dead_jobs(&app).await;
    app.finish().await;
}

#[tokio::test]
async fn every_route_with_an_id_in_the_openapi_document_is_in_the_isolation_walk() {
    let app = spawn().await;
    let resp = app
        .client
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let doc: Value = resp.json().await.unwrap();
    let walked: Vec<(String, String)> = walk()
        .iter()
        .map(|p| (p.method.as_str().to_lowercase(), p.path.to_string()))
        .collect();
    let mut with_ids = 0;
    for (path, operations) in doc["paths"].as_object().unwrap() {
        if !path.contains('{') {
            continue;
        }
        let methods = [
            "get", "put", "post", "delete", "options", "head", "patch", "trace",
        ];
        for method in operations
            .as_object()
            .unwrap()
            .keys()
            .filter(|m| methods.contains(&m.as_str()))
        {
            with_ids += 1;
            assert!(
                walked.contains(&(method.clone(), path.clone())),
                "{} {path} takes an id but is not in the tenant-isolation walk (tests/api/tenancy.rs)",
                method.to_uppercase()
            );
        }
    }
    assert_eq!(
        with_ids,
        walked.len(),
        "the walk lists routes the API does not have"
    );
    app.finish().await;
}
