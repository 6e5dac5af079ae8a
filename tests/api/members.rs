//! Roles and membership through the API: who may see and hand out what,
//! the workspace always keeps an owner, and every change is audited.

use blazz::services::invitations::{self, Acceptor};
use blazz_domain::Role;
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

/// The secret of an invitation link: its last path segment.
fn secret_of(invitation: &Value) -> String {
    invitation["link"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string()
}

/// Invites `email` as `role` and accepts as a new user; returns the user id.
async fn join(app: &TestApp, t: &Tenant, email: &str, role: &str) -> String {
    let (status, inv) = app
        .post(
            &t.token,
            "/api/v1/invitations",
            json!({"email": email, "role": role}),
        )
        .await;
    assert_eq!(status, 201, "{inv}");
    let user = invitations::accept(
        app.state(),
        &secret_of(&inv),
        Acceptor::NewUser {
            name: "Joiner",
            password: PASSWORD,
        },
    )
    .await
    .unwrap();
    user.id.to_string()
}

async fn owner_id(app: &TestApp, t: &Tenant) -> String {
    let (_, members) = app.get(&t.token, "/api/v1/members").await;
    let owner = members["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["email"] == t.owner_email.as_str())
        .unwrap();
    owner["user_id"].as_str().unwrap().to_string()
}

/// The members as `email=role`, in the order they joined.
async fn roles(app: &TestApp, token: &str) -> Vec<String> {
    let (status, members) = app.get(token, "/api/v1/members").await;
    assert_eq!(status, 200, "{members}");
    members["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            format!(
                "{}={}",
                m["email"].as_str().unwrap(),
                m["role"].as_str().unwrap()
            )
        })
        .collect()
}

/// The audit log, newest first.
async fn audit(app: &TestApp, token: &str) -> Vec<Value> {
    let (status, audit) = app.get(token, "/api/v1/audit").await;
    assert_eq!(status, 200, "{audit}");
    audit["data"].as_array().unwrap().clone()
}

fn actions(entries: &[Value]) -> Vec<&str> {
    entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect()
}

async fn token_id(app: &TestApp, token: &str) -> String {
    let (_, me) = app.get(token, "/api/v1/me").await;
    me["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn an_agent_lists_members_but_not_tokens_invitations_audit_or_jobs() {
    let app = spawn().await;
    let t = app.tenant("Agents").await;
    let agent = app.token(t.id, Role::Agent).await;
    let (status, members) = app.get(&agent, "/api/v1/members").await;
    assert_eq!(status, 200);
    assert_eq!(members["data"][0]["email"], t.owner_email.as_str());
    for path in [
        "/api/v1/tokens",
        "/api/v1/invitations",
        "/api/v1/audit",
        "/api/v1/jobs",
        "/api/v1/jobs/1",
    ] {
        assert_error(&app.get(&agent, path).await, 403, "forbidden");
    }
    let (status, me) = app.get(&agent, "/api/v1/me").await;
    assert_eq!((status, me["role"].as_str()), (200, Some("agent")));
    assert_eq!(app.get(&agent, "/api/v1/workspace").await.0, 200);
    app.finish().await;
}

#[tokio::test]
async fn an_agent_changes_nothing() {
    let app = spawn().await;
    let t = app.tenant("Readers").await;
    let agent = app.token(t.id, Role::Agent).await;
    let owner = owner_id(&app, &t).await;
    let member = join(&app, &t, "colleague@readers.test", "agent").await;
    let owner_token = token_id(&app, &t.token).await;
    let before = audit(&app, &t.token).await;

    for role in ["agent", "admin", "owner"] {
        let body = json!({"name": "mine", "role": role});
        assert_error(
            &app.post(&agent, "/api/v1/tokens", body).await,
            403,
            "forbidden",
        );
        let body = json!({"email": "new@readers.test", "role": role});
        assert_error(
            &app.post(&agent, "/api/v1/invitations", body).await,
            403,
            "forbidden",
        );
    }
    for id in [&owner, &member] {
        let path = format!("/api/v1/members/{id}");
        assert_error(
            &app.patch(&agent, &path, json!({"role": "agent"})).await,
            403,
            "forbidden",
        );
        assert_error(&app.delete(&agent, &path).await, 403, "forbidden");
    }
    assert_error(
        &app.delete(&agent, &format!("/api/v1/tokens/{owner_token}"))
            .await,
        403,
        "forbidden",
    );
    assert_error(
        &app.patch(&agent, "/api/v1/workspace", json!({"name": "Mine"}))
            .await,
        403,
        "forbidden",
    );

    assert_eq!(
        app.get(&t.token, "/api/v1/me").await.0,
        200,
        "the owner token still works"
    );
    assert_eq!(audit(&app, &t.token).await, before, "nothing happened");
    app.finish().await;
}

#[tokio::test]
async fn an_admin_cannot_hand_out_or_touch_the_owner_role() {
    let app = spawn().await;
    let t = app.tenant("Admins").await;
    let admin = app.token(t.id, Role::Admin).await;
    let owner = owner_id(&app, &t).await;
    let member = join(&app, &t, "agent@admins.test", "agent").await;

    let answer = app
        .post(
            &admin,
            "/api/v1/tokens",
            json!({"name": "root", "role": "owner"}),
        )
        .await;
    assert_error(&answer, 403, "forbidden");
    let answer = app
        .post(
            &admin,
            "/api/v1/invitations",
            json!({"email": "boss@admins.test", "role": "owner"}),
        )
        .await;
    assert_error(&answer, 403, "forbidden");
    let answer = app
        .patch(
            &admin,
            &format!("/api/v1/members/{member}"),
            json!({"role": "owner"}),
        )
        .await;
    assert_error(&answer, 403, "forbidden");
    let answer = app
        .patch(
            &admin,
            &format!("/api/v1/members/{owner}"),
            json!({"role": "admin"}),
        )
        .await;
    assert_error(&answer, 403, "forbidden");
    assert_error(
        &app.delete(&admin, &format!("/api/v1/members/{owner}"))
            .await,
        403,
        "forbidden",
    );

    // Up to their own role, an admin may.
    let (status, token) = app
        .post(
            &admin,
            "/api/v1/tokens",
            json!({"name": "helper", "role": "admin"}),
        )
        .await;
    assert_eq!((status, token["role"].as_str()), (201, Some("admin")));
    let (status, inv) = app
        .post(
            &admin,
            "/api/v1/invitations",
            json!({"email": "second@admins.test", "role": "admin"}),
        )
        .await;
    assert_eq!(
        (status, inv["role"].as_str(), inv["status"].as_str()),
        (201, Some("admin"), Some("pending"))
    );
    let (status, m) = app
        .patch(
            &admin,
            &format!("/api/v1/members/{member}"),
            json!({"role": "admin"}),
        )
        .await;
    assert_eq!((status, m["role"].as_str()), (200, Some("admin")));

    assert_eq!(
        roles(&app, &t.token).await,
        ["admins@example.com=owner", "agent@admins.test=admin"]
    );
    app.finish().await;
}

#[tokio::test]
async fn an_owner_hands_out_the_owner_role() {
    let app = spawn().await;
    let t = app.tenant("Owners").await;
    let (status, token) = app
        .post(
            &t.token,
            "/api/v1/tokens",
            json!({"name": "root", "role": "owner"}),
        )
        .await;
    assert_eq!((status, token["role"].as_str()), (201, Some("owner")));
    let (_, me) = app
        .get(token["token"].as_str().unwrap(), "/api/v1/me")
        .await;
    assert_eq!(me["role"], "owner");

    join(&app, &t, "partner@owners.test", "owner").await;
    let member = join(&app, &t, "promoted@owners.test", "agent").await;
    let (status, m) = app
        .patch(
            &t.token,
            &format!("/api/v1/members/{member}"),
            json!({"role": "owner"}),
        )
        .await;
    assert_eq!((status, m["role"].as_str()), (200, Some("owner")));
    assert_eq!(
        roles(&app, &t.token).await,
        [
            "owners@example.com=owner",
            "partner@owners.test=owner",
            "promoted@owners.test=owner",
        ]
    );
    app.finish().await;
}

#[tokio::test]
async fn the_last_owner_can_be_neither_demoted_nor_removed() {
    let app = spawn().await;
    let t = app.tenant("Solo").await;
    let first = owner_id(&app, &t).await;
    let path = format!("/api/v1/members/{first}");
    for role in ["admin", "agent"] {
        assert_error(
            &app.patch(&t.token, &path, json!({"role": role})).await,
            409,
            "last_owner",
        );
    }
    assert_error(&app.delete(&t.token, &path).await, 409, "last_owner");
    // Keeping the role is no change, and allowed.
    let (status, m) = app.patch(&t.token, &path, json!({"role": "owner"})).await;
    assert_eq!((status, m["role"].as_str()), (200, Some("owner")));
    assert_eq!(roles(&app, &t.token).await, ["solo@example.com=owner"]);

    // With a second owner the first may step down; then the second is last.
    let second = join(&app, &t, "heir@solo.test", "owner").await;
    let (status, m) = app.patch(&t.token, &path, json!({"role": "admin"})).await;
    assert_eq!((status, m["role"].as_str()), (200, Some("admin")));
    let heir = format!("/api/v1/members/{second}");
    assert_error(
        &app.patch(&t.token, &heir, json!({"role": "agent"})).await,
        409,
        "last_owner",
    );
    assert_error(&app.delete(&t.token, &heir).await, 409, "last_owner");
    assert_eq!(
        roles(&app, &t.token).await,
        ["solo@example.com=admin", "heir@solo.test=owner"]
    );
    // The demoted first owner can now be removed.
    assert_eq!(app.delete(&t.token, &path).await.0, 204);
    assert_eq!(roles(&app, &t.token).await, ["heir@solo.test=owner"]);
    app.finish().await;
}

#[tokio::test]
async fn role_changes_and_removals_are_audited_with_their_actor() {
    let app = spawn().await;
    let t = app.tenant("Ledger").await;
    let member = join(&app, &t, "clerk@ledger.test", "agent").await;
    let actor = token_id(&app, &t.token).await;
    let path = format!("/api/v1/members/{member}");

    let (status, m) = app.patch(&t.token, &path, json!({"role": "admin"})).await;
    assert_eq!(status, 200);
    assert_eq!(
        (
            m["user_id"].as_str(),
            m["email"].as_str(),
            m["role"].as_str()
        ),
        (
            Some(member.as_str()),
            Some("clerk@ledger.test"),
            Some("admin")
        )
    );
    // The same role again changes nothing and records nothing.
    assert_eq!(
        app.patch(&t.token, &path, json!({"role": "admin"})).await.0,
        200
    );
    let (status, body) = app.delete(&t.token, &path).await;
    assert_eq!((status, body), (204, Value::Null));
    assert_error(&app.delete(&t.token, &path).await, 404, "member_not_found");
    assert_error(
        &app.patch(&t.token, &path, json!({"role": "agent"})).await,
        404,
        "member_not_found",
    );
    assert_eq!(roles(&app, &t.token).await, ["ledger@example.com=owner"]);

    let entries = audit(&app, &t.token).await;
    assert_eq!(
        actions(&entries)[..3],
        ["member.removed", "member.role_changed", "member.added"],
        "{entries:?}"
    );
    for e in &entries[..2] {
        assert_eq!(e["actor_kind"], "token");
        assert_eq!(e["actor_id"], actor.as_str());
        assert_eq!(e["actor_name"], "owner token");
        assert_eq!(e["target_kind"], "user");
        assert_eq!(e["target_id"], member.as_str());
    }
    assert_eq!(
        entries[1]["details"],
        json!({"email": "clerk@ledger.test", "from": "agent", "to": "admin"})
    );
    assert_eq!(
        entries[0]["details"],
        json!({"email": "clerk@ledger.test", "role": "admin"})
    );
    // Joining was the joiner's own doing.
    assert_eq!(entries[2]["actor_kind"], "user");
    assert_eq!(entries[2]["actor_id"], member.as_str());
    app.finish().await;
}

#[tokio::test]
async fn a_token_is_shown_once_works_and_stops_when_revoked() {
    let app = spawn().await;
    let t = app.tenant("Keys").await;
    let (status, created) = app
        .post(
            &t.token,
            "/api/v1/tokens",
            json!({"name": "  ci  ", "role": "agent"}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let secret = created["token"].as_str().unwrap().to_string();
    let id = created["id"].as_str().unwrap().to_string();
    assert!(secret.starts_with("blz_") && secret.len() == 47, "{secret}");
    assert_eq!(created["prefix"], &secret[..12]);
    assert_eq!(
        (created["name"].as_str(), created["role"].as_str()),
        (Some("ci"), Some("agent"))
    );
    assert!(created["revoked_at"].is_null());

    let (status, me) = app.get(&secret, "/api/v1/me").await;
    assert_eq!(status, 200);
    assert_eq!(
        me,
        json!({"kind": "token", "id": id, "name": "ci", "workspace_id": t.id.to_string(), "role": "agent"})
    );

    let (_, list) = app.get(&t.token, "/api/v1/tokens").await;
    let text = list.to_string();
    assert!(!text.contains(&secret), "the list shows the secret: {text}");
    for entry in list["data"].as_array().unwrap() {
        assert!(entry.get("token").is_none(), "{entry}");
    }
    let listed = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == id.as_str())
        .unwrap();
    assert_eq!(listed["prefix"], &secret[..12]);
    assert!(
        listed["last_used_at"].is_string(),
        "using the token is recorded: {listed}"
    );

    let (status, body) = app.delete(&t.token, &format!("/api/v1/tokens/{id}")).await;
    assert_eq!((status, body), (204, Value::Null));
    assert_error(&app.get(&secret, "/api/v1/me").await, 401, "unauthorized");
    assert_error(
        &app.get(&secret, "/api/v1/members").await,
        401,
        "unauthorized",
    );
    // Revoking again is harmless, and records nothing more.
    assert_eq!(
        app.delete(&t.token, &format!("/api/v1/tokens/{id}"))
            .await
            .0,
        204
    );
    let (_, list) = app.get(&t.token, "/api/v1/tokens").await;
    let listed = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == id.as_str())
        .unwrap();
    assert!(listed["revoked_at"].is_string(), "{listed}");

    let entries = audit(&app, &t.token).await;
    assert_eq!(actions(&entries)[..2], ["token.revoked", "token.created"]);
    assert!(
        entries.iter().all(|e| !e.to_string().contains(&secret)),
        "the audit shows the secret"
    );
    assert_eq!(
        entries[1]["details"],
        json!({"name": "ci", "role": "agent"})
    );

    let answer = app
        .post(
            &t.token,
            "/api/v1/tokens",
            json!({"name": "   ", "role": "agent"}),
        )
        .await;
    assert_error(&answer, 422, "invalid_name");
    assert_eq!(
        app.get(&t.token, "/api/v1/me").await.0,
        200,
        "the owner's own token is untouched"
    );
    app.finish().await;
}

#[tokio::test]
async fn a_revoked_invitation_link_no_longer_accepts() {
    let app = spawn().await;
    let t = app.tenant("Doors").await;
    let (status, inv) = app
        .post(
            &t.token,
            "/api/v1/invitations",
            json!({"email": "Guest@Doors.test", "role": "agent"}),
        )
        .await;
    assert_eq!(status, 201, "{inv}");
    assert_eq!(
        (inv["email"].as_str(), inv["status"].as_str()),
        (Some("guest@doors.test"), Some("pending"))
    );
    let secret = secret_of(&inv);
    let id = inv["id"].as_str().unwrap();
    let pending = invitations::pending(app.state(), &secret).await.unwrap();
    assert_eq!(pending.id.to_string(), id);

    let (status, body) = app
        .delete(&t.token, &format!("/api/v1/invitations/{id}"))
        .await;
    assert_eq!((status, body), (204, Value::Null));
    let err = invitations::pending(app.state(), &secret)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "invitation_not_found");
    let err = invitations::accept(
        app.state(),
        &secret,
        Acceptor::NewUser {
            name: "Guest",
            password: PASSWORD,
        },
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), "invitation_not_found");

    let (_, list) = app.get(&t.token, "/api/v1/invitations").await;
    assert_eq!(list["data"][0]["status"], "revoked");
    assert!(
        list["data"][0].get("link").is_none(),
        "the link is shown once: {list}"
    );
    assert_eq!(roles(&app, &t.token).await, ["doors@example.com=owner"]);
    let entries = audit(&app, &t.token).await;
    assert_eq!(
        actions(&entries)[..2],
        ["invitation.revoked", "invitation.created"]
    );
    assert_eq!(entries[0]["target_id"], id);
    app.finish().await;
}

#[tokio::test]
async fn an_invitation_link_accepts_once_and_members_are_not_invited_twice() {
    let app = spawn().await;
    let t = app.tenant("Once").await;
    let (_, inv) = app
        .post(
            &t.token,
            "/api/v1/invitations",
            json!({"email": "new@once.test", "role": "admin"}),
        )
        .await;
    let secret = secret_of(&inv);
    invitations::accept(
        app.state(),
        &secret,
        Acceptor::NewUser {
            name: "New",
            password: PASSWORD,
        },
    )
    .await
    .unwrap();
    let err = invitations::accept(
        app.state(),
        &secret,
        Acceptor::ExistingUser { password: PASSWORD },
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), "invitation_not_found");
    assert_eq!(
        roles(&app, &t.token).await,
        ["once@example.com=owner", "new@once.test=admin"]
    );
    let (_, list) = app.get(&t.token, "/api/v1/invitations").await;
    assert_eq!(list["data"][0]["status"], "accepted");
    // Revoking an accepted invitation undoes nothing.
    let id = inv["id"].as_str().unwrap();
    assert_eq!(
        app.delete(&t.token, &format!("/api/v1/invitations/{id}"))
            .await
            .0,
        204
    );
    assert_eq!(roles(&app, &t.token).await.len(), 2);

    let again = app
        .post(
            &t.token,
            "/api/v1/invitations",
            json!({"email": "NEW@once.test", "role": "agent"}),
        )
        .await;
    assert_error(&again, 409, "already_member");
    let bad = app
        .post(
            &t.token,
            "/api/v1/invitations",
            json!({"email": "not an address", "role": "agent"}),
        )
        .await;
    assert_error(&bad, 422, "invalid_email");
    app.finish().await;
}

#[tokio::test]
async fn admins_rename_the_workspace_and_agents_cannot() {
    let app = spawn().await;
    let t = app.tenant("Old Name").await;
    let admin = app.token(t.id, Role::Admin).await;
    let agent = app.token(t.id, Role::Agent).await;

    assert_error(
        &app.patch(
            &agent,
            "/api/v1/workspace",
            json!({"name": "Agent Was Here"}),
        )
        .await,
        403,
        "forbidden",
    );
    assert_error(
        &app.patch(&admin, "/api/v1/workspace", json!({"name": "  "}))
            .await,
        422,
        "invalid_name",
    );
    let long = "x".repeat(121);
    assert_error(
        &app.patch(&admin, "/api/v1/workspace", json!({"name": long}))
            .await,
        422,
        "invalid_name",
    );

    let (status, ws) = app
        .patch(&admin, "/api/v1/workspace", json!({"name": " New Name "}))
        .await;
    assert_eq!(status, 200, "{ws}");
    assert_eq!(
        (ws["name"].as_str(), ws["slug"].as_str()),
        (Some("New Name"), Some(t.slug.as_str()))
    );
    let (_, seen) = app.get(&agent, "/api/v1/workspace").await;
    assert_eq!(seen, ws);

    let entries = audit(&app, &t.token).await;
    let updates: Vec<&Value> = entries
        .iter()
        .filter(|e| e["action"] == "workspace.updated")
        .collect();
    assert_eq!(updates.len(), 1, "{entries:?}");
    assert_eq!(entries[0]["action"], "workspace.updated");
    assert_eq!(entries[0]["actor_kind"], "token");
    assert_eq!(
        entries[0]["actor_id"],
        token_id(&app, &admin).await.as_str()
    );
    assert_eq!(entries[0]["target_id"], t.id.to_string().as_str());
    assert_eq!(
        entries[0]["details"],
        json!({"name": {"from": "Old Name", "to": "New Name"}})
    );
    app.finish().await;
}
