//! Linked numbers through the HTTP API with the sandbox network: QR and
//! pair-code linking, rotation and timeout, restore after a restart,
//! reconnects (dropped and silent), logout, ban, link-attempt limit and
//! admission cap.

use std::time::Duration;

use blazz::jobs::Registry;
use serde_json::{json, Value};

use crate::helpers::{assert_error, TestApp, TestDb};

pub async fn create_account(app: &TestApp, token: &str, name: &str) -> String {
    let (status, a) = app
        .post(
            token,
            "/api/v1/accounts",
            json!({"provider": "sandbox", "name": name}),
        )
        .await;
    assert_eq!(status, 201, "{a}");
    assert_eq!(a["status"], "logged_out");
    a["id"].as_str().unwrap().to_string()
}

/// Polls the account until its status is `want`.
pub async fn wait_status(app: &TestApp, token: &str, id: &str, want: &str) -> Value {
    let mut last = Value::Null;
    for _ in 0..500 {
        let (status, a) = app.get(token, &format!("/api/v1/accounts/{id}")).await;
        assert_eq!(status, 200, "{a}");
        if a["status"] == want {
            return a;
        }
        last = a;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("account {id} never reached {want}: {last}");
}

async fn current_qr(app: &TestApp, token: &str, id: &str) -> Value {
    for _ in 0..250 {
        let (status, qr) = app.get(token, &format!("/api/v1/accounts/{id}/qr")).await;
        if status == 200 {
            return qr;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("no QR code for {id}");
}

/// A sandbox number, linked by QR and connected; returns its id.
pub async fn connected_account(app: &TestApp, token: &str) -> String {
    let id = create_account(app, token, "Support line").await;
    let (status, a) = app
        .post(token, &format!("/api/v1/accounts/{id}/link"), json!({}))
        .await;
    assert_eq!(status, 202, "{a}");
    let qr = current_qr(app, token, &id).await;
    let (status, body) = app
        .post(
            token,
            &format!("/api/v1/sandbox/accounts/{id}/scan"),
            json!({"code": qr["code"]}),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    wait_status(app, token, &id, "connected").await;
    id
}

/// The statuses the account went through, from its outbox events.
async fn status_history(app: &TestApp, id: &str) -> Vec<String> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT payload FROM outbox WHERE kind = 'account.status_changed' ORDER BY id",
    )
    .fetch_all(&app.db.pool)
    .await
    .unwrap();
    rows.iter()
        .map(|(p,)| serde_json::from_str::<Value>(p).unwrap())
        .filter(|p| p["account_id"] == id)
        .map(|p| p["status"].as_str().unwrap().to_string())
        .collect()
}

async fn audit_actions(app: &TestApp, token: &str) -> Vec<String> {
    let (_, audit) = app.get(token, "/api/v1/audit").await;
    audit["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_number_links_by_qr_and_a_wrong_code_is_refused() {
    let app = TestApp::spawn().await;
    let t = app.tenant("Linking").await;
    let id = create_account(&app, &t.token, "Sales").await;
    let (status, a) = app
        .post(&t.token, &format!("/api/v1/accounts/{id}/link"), json!({}))
        .await;
    assert_eq!(status, 202, "{a}");
    let qr = current_qr(&app, &t.token, &id).await;
    assert!(qr["code"].as_str().unwrap().starts_with("2@"), "{qr}");
    assert!(qr["svg"].as_str().unwrap().contains("<svg"), "{qr}");
    assert!(qr["expires_at"].is_string());
    wait_status(&app, &t.token, &id, "qr_required").await;

    let wrong = app
        .post(
            &t.token,
            &format!("/api/v1/sandbox/accounts/{id}/scan"),
            json!({"code": "2@forged"}),
        )
        .await;
    assert_error(&wrong, 422, "wrong_code");
    assert_eq!(
        app.get(&t.token, &format!("/api/v1/accounts/{id}")).await.1["status"],
        "qr_required"
    );

    let scan = json!({"code": qr["code"], "phone": "+15550001234"});
    let (status, _) = app
        .post(
            &t.token,
            &format!("/api/v1/sandbox/accounts/{id}/scan"),
            scan,
        )
        .await;
    assert_eq!(status, 204);
    let a = wait_status(&app, &t.token, &id, "connected").await;
    assert_eq!(a["phone"], "+15550001234");
    assert!(a["linked_at"].is_string());
    // Once linked there is no QR code, and linking again needs a logout.
    assert_error(
        &app.get(&t.token, &format!("/api/v1/accounts/{id}/qr"))
            .await,
        404,
        "qr_not_available",
    );
    assert_error(
        &app.post(&t.token, &format!("/api/v1/accounts/{id}/link"), json!({}))
            .await,
        409,
        "already_linked",
    );
    let actions = audit_actions(&app, &t.token).await;
    assert!(
        actions.contains(&"account.created".to_string())
            && actions.contains(&"account.link_started".to_string()),
        "{actions:?}"
    );
    // The credentials are stored sealed, never in clear.
    let rows: Vec<(String,)> = sqlx::query_as("SELECT sealed FROM secrets WHERE owner_id = $1")
        .bind(&id)
        .fetch_all(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert!(
        !rows[0].0.contains("sbx-device"),
        "credentials in clear: {}",
        rows[0].0
    );
    app.finish().await;
}

#[tokio::test]
async fn a_number_links_by_pair_code() {
    let app = TestApp::spawn().await;
    let t = app.tenant("Pairing").await;
    let id = create_account(&app, &t.token, "Pair").await;
    let bad = app
        .post(
            &t.token,
            &format!("/api/v1/accounts/{id}/link"),
            json!({"phone": "5550001"}),
        )
        .await;
    assert_error(&bad, 422, "invalid_phone");
    let (status, a) = app
        .post(
            &t.token,
            &format!("/api/v1/accounts/{id}/link"),
            json!({"phone": "+15557654321"}),
        )
        .await;
    assert_eq!(status, 202, "{a}");
    let code = a["pair_code"]["code"].as_str().unwrap().to_string();
    assert_eq!(code.len(), 9, "XXXX-XXXX: {code}");
    let (status, _) = app
        .post(
            &t.token,
            &format!("/api/v1/sandbox/accounts/{id}/scan"),
            json!({"code": code.to_lowercase()}),
        )
        .await;
    assert_eq!(status, 204);
    let a = wait_status(&app, &t.token, &id, "connected").await;
    assert_eq!(a["phone"], "+15557654321");
    app.finish().await;
}

#[tokio::test]
async fn qr_codes_rotate_then_linking_times_out() {
    let app = TestApp::spawn_with(
        |c| {
            c.sandbox.qr_first_ms = 400;
            c.sandbox.qr_rotate_ms = 300;
            c.sandbox.qr_codes = 3;
        },
        Registry::builtin(),
    )
    .await;
    let t = app.tenant("Rotation").await;
    let id = create_account(&app, &t.token, "Rotating").await;
    app.post(&t.token, &format!("/api/v1/accounts/{id}/link"), json!({}))
        .await;
    let first = current_qr(&app, &t.token, &id).await["code"].clone();
    let mut seen = vec![first.clone()];
    for _ in 0..100 {
        let (status, qr) = app
            .get(&t.token, &format!("/api/v1/accounts/{id}/qr"))
            .await;
        if status != 200 {
            break;
        }
        if !seen.contains(&qr["code"]) {
            seen.push(qr["code"].clone());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(seen.len() >= 2, "the QR code never rotated: {seen:?}");
    // An expired code no longer links.
    let stale = app
        .post(
            &t.token,
            &format!("/api/v1/sandbox/accounts/{id}/scan"),
            json!({"code": first}),
        )
        .await;
    assert!(stale.0 == 422 || stale.0 == 409, "{stale:?}");
    let a = wait_status(&app, &t.token, &id, "failed").await;
    assert_eq!(a["status_reason"], "qr_timeout");
    app.finish().await;
}

#[tokio::test]
async fn a_restart_restores_linked_numbers_without_a_new_scan() {
    let testdb = TestDb::new().await;
    let url = testdb.url.clone();
    let app = TestApp::spawn_on(testdb, |_| {}, Registry::builtin(), None).await;
    let t = app.tenant("Restart").await;
    let id = connected_account(&app, &t.token).await;
    // Stop this Blazz (sessions stop, links stay) and start another on the
    // same database and data directory.
    let mut app = app;
    let running = app.running.take().unwrap();
    running.stop().await;
    let (status,): (String,) = sqlx::query_as("SELECT status FROM accounts WHERE id = $1")
        .bind(&id)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(
        status, "connected",
        "a clean stop keeps the status for the restore"
    );
    let data_dir = app.testdb.dir.path().to_path_buf();
    let mut config = crate::helpers::test_config(&data_dir);
    config.database_url = Some(blazz::config::Secret::new(url));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let again = blazz::server::start(config, app.db.clone(), Registry::builtin(), listener)
        .await
        .unwrap();
    app.base = format!("http://{}", again.addr);
    app.running = Some(again);
    let net = app.state().sessions.sandbox.clone().unwrap();
    for _ in 0..250 {
        if net.is_live(&id) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(net.is_live(&id), "no live connection after restore");
    let a = wait_status(&app, &t.token, &id, "connected").await;
    let history = status_history(&app, &id).await;
    assert!(
        history.ends_with(&["initializing".to_string(), "connected".to_string()]),
        "{history:?}"
    );
    assert!(
        !history.contains(&"qr_required".to_string())
            || history.iter().filter(|s| *s == "qr_required").count() == 1,
        "restoring asked for a new scan: {history:?}"
    );
    assert_eq!(a["phone"].as_str().map(|p| p.starts_with('+')), Some(true));
    app.finish().await;
}

#[tokio::test]
async fn a_dropped_connection_reconnects_by_itself() {
    let app = TestApp::spawn_with(|c| c.sessions.reconnect_base_ms = 50, Registry::builtin()).await;
    let t = app.tenant("Drops").await;
    let id = connected_account(&app, &t.token).await;
    let (status, _) = app
        .post(
            &t.token,
            &format!("/api/v1/sandbox/accounts/{id}/disconnect"),
            json!({}),
        )
        .await;
    assert_eq!(status, 204);
    let mut seq = Vec::new();
    for _ in 0..250 {
        seq = status_history(&app, &id).await;
        if seq.ends_with(&["reconnecting".to_string(), "connected".to_string()]) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        seq.ends_with(&["reconnecting".to_string(), "connected".to_string()]),
        "{seq:?}"
    );
    assert_eq!(
        app.get(&t.token, &format!("/api/v1/accounts/{id}")).await.1["status"],
        "connected"
    );
    let metrics = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(r#"blazz_session_reconnects_total{provider="sandbox"} 1"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"blazz_sessions{provider="sandbox",state="connected"} 1"#),
        "{metrics}"
    );
    app.finish().await;
}

#[tokio::test]
async fn a_silent_connection_is_probed_and_replaced() {
    let app = TestApp::spawn_with(
        |c| {
            c.sessions.idle_probe_secs = 1;
            c.sessions.probe_timeout_secs = 1;
            c.sessions.reconnect_base_ms = 50;
        },
        Registry::builtin(),
    )
    .await;
    let t = app.tenant("Silence").await;
    let id = connected_account(&app, &t.token).await;
    let (status, _) = app
        .post(
            &t.token,
            &format!("/api/v1/sandbox/accounts/{id}/silence"),
            json!({}),
        )
        .await;
    assert_eq!(status, 204);
    let mut saw_reconnecting = false;
    for _ in 0..300 {
        let (_, a) = app.get(&t.token, &format!("/api/v1/accounts/{id}")).await;
        if a["status"] == "reconnecting" {
            saw_reconnecting = true;
            assert_eq!(a["status_reason"], "health probe unanswered");
        }
        if saw_reconnecting && a["status"] == "connected" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(saw_reconnecting, "the silent connection was never noticed");
    wait_status(&app, &t.token, &id, "connected").await;
    app.finish().await;
}

#[tokio::test]
async fn logging_out_from_blazz_or_the_phone_and_bans_end_the_session() {
    let app = TestApp::spawn().await;
    let t = app.tenant("Ends").await;
    let by_api = connected_account(&app, &t.token).await;
    let (status, a) = app
        .post(
            &t.token,
            &format!("/api/v1/accounts/{by_api}/logout"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{a}");
    assert_eq!(a["status"], "logged_out");
    assert!(
        a["status_reason"]
            .as_str()
            .unwrap()
            .starts_with("logged out by"),
        "{a}"
    );
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM secrets WHERE owner_id = $1")
        .bind(&by_api)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(n, 0, "a logged-out number keeps no credentials");

    let by_phone = connected_account(&app, &t.token).await;
    app.post(
        &t.token,
        &format!("/api/v1/sandbox/accounts/{by_phone}/logout"),
        json!({}),
    )
    .await;
    let a = wait_status(&app, &t.token, &by_phone, "logged_out").await;
    assert_eq!(a["status_reason"], "unlinked from the phone");

    let banned = connected_account(&app, &t.token).await;
    app.post(
        &t.token,
        &format!("/api/v1/sandbox/accounts/{banned}/ban"),
        json!({}),
    )
    .await;
    wait_status(&app, &t.token, &banned, "banned").await;
    // A banned number cannot simply be reconnected.
    assert_error(
        &app.post(
            &t.token,
            &format!("/api/v1/accounts/{banned}/reconnect"),
            json!({}),
        )
        .await,
        409,
        "not_linked",
    );

    let (status, _) = app
        .delete(&t.token, &format!("/api/v1/accounts/{by_phone}"))
        .await;
    assert_eq!(status, 204);
    assert_error(
        &app.get(&t.token, &format!("/api/v1/accounts/{by_phone}"))
            .await,
        404,
        "account_not_found",
    );
    app.finish().await;
}

#[tokio::test]
async fn the_sixth_link_attempt_in_an_hour_is_refused() {
    let app = TestApp::spawn().await;
    let t = app.tenant("Limits").await;
    let id = create_account(&app, &t.token, "Busy").await;
    for _ in 0..5 {
        let (status, a) = app
            .post(&t.token, &format!("/api/v1/accounts/{id}/link"), json!({}))
            .await;
        assert_eq!(status, 202, "{a}");
    }
    let sixth = app
        .post(&t.token, &format!("/api/v1/accounts/{id}/link"), json!({}))
        .await;
    assert_error(&sixth, 429, "link_rate_limited");
    // Another workspace has its own allowance.
    let other = app.tenant("Other").await;
    let oid = create_account(&app, &other.token, "Fresh").await;
    assert_eq!(
        app.post(
            &other.token,
            &format!("/api/v1/accounts/{oid}/link"),
            json!({})
        )
        .await
        .0,
        202
    );
    app.finish().await;
}

#[tokio::test]
async fn linking_past_the_session_cap_is_a_clear_error() {
    let app = TestApp::spawn_with(|c| c.sessions.max_per_process = 1, Registry::builtin()).await;
    let t = app.tenant("Cap").await;
    connected_account(&app, &t.token).await;
    let second = create_account(&app, &t.token, "One too many").await;
    let answer = app
        .post(
            &t.token,
            &format!("/api/v1/accounts/{second}/link"),
            json!({}),
        )
        .await;
    assert_error(&answer, 503, "session_capacity_reached");
    app.finish().await;
}

#[tokio::test]
async fn agents_cannot_link_numbers_and_unknown_providers_are_refused() {
    let app = TestApp::spawn().await;
    let t = app.tenant("Roles").await;
    let agent = app.token(t.id, blazz_domain::Role::Agent).await;
    let no = app
        .post(
            &agent,
            "/api/v1/accounts",
            json!({"provider": "sandbox", "name": "x"}),
        )
        .await;
    assert_error(&no, 403, "forbidden");
    let bad = app
        .post(
            &t.token,
            "/api/v1/accounts",
            json!({"provider": "telegram", "name": "x"}),
        )
        .await;
    assert_error(&bad, 422, "invalid_provider");
    // Agents can see the numbers.
    create_account(&app, &t.token, "Visible").await;
    let (status, list) = app.get(&agent, "/api/v1/accounts").await;
    assert_eq!(status, 200);
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    app.finish().await;
}

#[tokio::test]
async fn sandbox_endpoints_are_gone_when_the_sandbox_is_off() {
    let app = TestApp::spawn_with(
        |c| {
            c.sandbox.enabled = false;
            c.web.enabled = false;
        },
        Registry::builtin(),
    )
    .await;
    let t = app.tenant("NoSandbox").await;
    let no = app
        .post(
            &t.token,
            "/api/v1/accounts",
            json!({"provider": "sandbox", "name": "x"}),
        )
        .await;
    assert_error(&no, 422, "provider_unavailable");
    // WhatsApp Web numbers can be switched off too (`[web] enabled`).
    let no_web = app
        .post(
            &t.token,
            "/api/v1/accounts",
            json!({"provider": "web", "name": "x"}),
        )
        .await;
    assert_error(&no_web, 422, "provider_unavailable");
    let id = blazz_domain::AccountId::new();
    let gone = app
        .post(
            &t.token,
            &format!("/api/v1/sandbox/accounts/{id}/ban"),
            json!({}),
        )
        .await;
    assert_error(&gone, 404, "sandbox_disabled");
    app.finish().await;
}
