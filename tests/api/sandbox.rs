//! The sandbox network's own behaviour through the API: outages that
//! outlast the reconnects, anti-ban pacing (and switching it off),
//! receipts, and customers' presence; what numbers send in `sends`.

mod sends;

use std::time::Duration;

use blazz::config::Config;
use blazz::jobs::Registry;
use blazz_provider::{
    AccountRef, Connection, MessageBody, OutboundMessage, Provider, ProviderEvent, ReceiptStatus,
};
use blazz_sandbox::SandboxProvider;
use serde_json::{json, Value};
use tokio::sync::mpsc;

use crate::helpers::{assert_error, TestApp};
use crate::numbers::{connected_account, create_account, wait_status};

/// Quick receipts, and at most 3 messages a minute to contacts who never
/// wrote.
fn paced(c: &mut Config) {
    c.sandbox.delivered_after_ms = 20;
    c.sandbox.read_after_ms = 20;
    c.sandbox.pacing_per_minute = 3;
    c.sandbox.pacing_ban_secs = 1;
}

fn cold(i: usize) -> String {
    format!("+1555800{i:04}")
}

/// Sends a text through the number's live session: its provider id, or
/// the error.
async fn send(app: &TestApp, account: &str, to: &str) -> Result<String, String> {
    let message = OutboundMessage {
        id: uuid::Uuid::now_v7().simple().to_string(),
        to: to.into(),
        body: MessageBody::Text {
            text: "Hello from the shop".into(),
        },
        reply_to: None,
        media: None,
    };
    app.state()
        .sessions
        .send(account.parse().unwrap(), message)
        .await
        .map(|s| s.provider_message_id)
        .map_err(|e| e.to_string())
}

/// A connection of the test's own to the network, for a sandbox number
/// Blazz does not run: the test plays Blazz's side of the provider
/// boundary (what Blazz makes of receipts is the inbox's business).
async fn direct(
    app: &TestApp,
    account: &str,
) -> (Box<dyn Connection>, mpsc::Receiver<ProviderEvent>) {
    let provider = SandboxProvider {
        network: app.state().sessions.sandbox.clone().unwrap(),
    };
    let (tx, mut rx) = mpsc::channel(16);
    let account = AccountRef {
        id: account.into(),
        phone: None,
        credentials: Some(b"sbx-device-direct".to_vec()),
    };
    let conn = provider.open(account, tx).await.unwrap();
    assert_eq!(next(&mut rx).await, ProviderEvent::Connected);
    (conn, rx)
}

async fn next(events: &mut mpsc::Receiver<ProviderEvent>) -> ProviderEvent {
    tokio::time::timeout(Duration::from_secs(5), events.recv())
        .await
        .expect("no event in time")
        .expect("the connection's events ended")
}

async fn sandbox(app: &TestApp, token: &str, id: &str, what: &str, body: Value) -> (u16, Value) {
    app.post(
        token,
        &format!("/api/v1/sandbox/accounts/{id}/{what}"),
        body,
    )
    .await
}

/// The payloads of the outbox events of one kind about this account.
async fn events(app: &TestApp, kind: &str, account: &str) -> Vec<Value> {
    let rows: Vec<(String,)> =
        sqlx::query_as("SELECT payload FROM outbox WHERE kind = $1 ORDER BY id")
            .bind(kind)
            .fetch_all(&app.db.pool)
            .await
            .unwrap();
    rows.iter()
        .map(|(p,)| serde_json::from_str::<Value>(p).unwrap())
        .filter(|p| p["account_id"] == account)
        .collect()
}

/// Polls the outbox until `done` holds for the events of `kind`.
async fn wait_events(
    app: &TestApp,
    kind: &str,
    account: &str,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let mut last = Vec::new();
    for _ in 0..250 {
        last = events(app, kind, account).await;
        if done(&last) {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the outbox never had the {kind} events expected: {last:?}");
}

/// Links a number again by QR, as its owner would after a ban.
async fn link_again(app: &TestApp, token: &str, id: &str) {
    let (status, a) = app
        .post(token, &format!("/api/v1/accounts/{id}/link"), json!({}))
        .await;
    assert_eq!(status, 202, "{a}");
    for _ in 0..250 {
        let (status, qr) = app.get(token, &format!("/api/v1/accounts/{id}/qr")).await;
        if status == 200 {
            let (status, body) = sandbox(app, token, id, "scan", json!({"code": qr["code"]})).await;
            assert_eq!(status, 204, "{body}");
            wait_status(app, token, id, "connected").await;
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("no QR code for {id}");
}

#[tokio::test]
async fn an_outage_longer_than_the_reconnects_fails_the_number_and_a_retry_brings_it_back() {
    let app = TestApp::spawn_with(
        |c| {
            c.sessions.max_reconnects = 2;
            c.sessions.reconnect_base_ms = 20;
            c.sessions.reconnect_cap_ms = 50;
        },
        Registry::builtin(),
    )
    .await;
    let t = app.tenant("Outage").await;
    let id = connected_account(&app, &t.token).await;
    let (_, before) = app.get(&t.token, &format!("/api/v1/accounts/{id}")).await;

    let (status, body) = sandbox(&app, &t.token, &id, "outage", json!({"down": true})).await;
    assert_eq!(status, 204, "{body}");
    let a = wait_status(&app, &t.token, &id, "failed").await;
    let reason = a["status_reason"].as_str().unwrap();
    assert!(
        reason.starts_with("gave up after 2 reconnect attempts"),
        "{reason}"
    );
    assert!(reason.contains("network unreachable"), "{reason}");

    // The network is back: an operator's retry reconnects with the link.
    let (status, body) = sandbox(&app, &t.token, &id, "outage", json!({"down": false})).await;
    assert_eq!(status, 204, "{body}");
    let (status, a) = app
        .post(
            &t.token,
            &format!("/api/v1/accounts/{id}/reconnect"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{a}");
    let a = wait_status(&app, &t.token, &id, "connected").await;
    // The same link: no new scan, same number, same link time.
    assert_eq!(a["phone"], before["phone"]);
    assert_eq!(a["linked_at"], before["linked_at"]);
    app.finish().await;
}

#[tokio::test]
async fn messaging_contacts_who_never_wrote_too_fast_bans_the_number_for_a_while() {
    let app = TestApp::spawn_with(paced, Registry::builtin()).await;
    let t = app.tenant("Spammer").await;
    let id = connected_account(&app, &t.token).await;
    for i in 0..3 {
        send(&app, &id, &cold(i)).await.unwrap();
    }
    let refused = send(&app, &id, &cold(3)).await.unwrap_err();
    assert!(refused.contains("temporarily banned"), "{refused}");
    let a = wait_status(&app, &t.token, &id, "banned").await;
    let reason = a["status_reason"].as_str().unwrap();
    assert!(
        reason.starts_with("temporarily banned: sent 4 messages"),
        "{reason}"
    );
    assert!(!app.state().sessions.sandbox.as_ref().unwrap().is_live(&id));

    // While the ban lasts, the number cannot even link again...
    let (status, a) = app
        .post(&t.token, &format!("/api/v1/accounts/{id}/link"), json!({}))
        .await;
    assert_eq!(status, 202, "{a}");
    let mut last = Value::Null;
    for _ in 0..250 {
        last = app.get(&t.token, &format!("/api/v1/accounts/{id}")).await.1;
        if last["status"] == "banned" && last["status_reason"] == "the number is temporarily banned"
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        last["status_reason"], "the number is temporarily banned",
        "{last}"
    );
    // ...and once it is over, it can.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    link_again(&app, &t.token, &id).await;
    send(&app, &id, &cold(10)).await.unwrap();
    app.finish().await;
}

#[tokio::test]
async fn messages_to_customers_who_wrote_first_never_count_against_pacing() {
    let app = TestApp::spawn_with(paced, Registry::builtin()).await;
    let t = app.tenant("Support").await;
    let id = connected_account(&app, &t.token).await;
    let customers: Vec<String> = (0..5).map(cold).collect();
    for c in &customers {
        let (status, body) = sandbox(
            &app,
            &t.token,
            &id,
            "inbound",
            json!({"from": c, "text": "Is my order on its way?"}),
        )
        .await;
        assert_eq!(status, 202, "{body}");
    }
    for round in 0..2 {
        for c in &customers {
            send(&app, &id, c)
                .await
                .unwrap_or_else(|e| panic!("reply {round} to {c}: {e}"));
        }
    }
    // Cold contacts still count, from zero.
    for i in 100..103 {
        send(&app, &id, &cold(i)).await.unwrap();
    }
    let (_, a) = app.get(&t.token, &format!("/api/v1/accounts/{id}")).await;
    assert_eq!(a["status"], "connected", "{a}");
    app.finish().await;
}

#[tokio::test]
async fn pacing_enforcement_switches_off_and_back_on_per_number() {
    let app = TestApp::spawn_with(paced, Registry::builtin()).await;
    let t = app.tenant("Load test").await;
    let id = connected_account(&app, &t.token).await;
    let (status, body) = sandbox(&app, &t.token, &id, "pacing", json!({"enforce": false})).await;
    assert_eq!(status, 204, "{body}");
    for i in 0..10 {
        send(&app, &id, &cold(i)).await.unwrap();
    }
    let (_, a) = app.get(&t.token, &format!("/api/v1/accounts/{id}")).await;
    assert_eq!(a["status"], "connected", "{a}");

    let (status, body) = sandbox(&app, &t.token, &id, "pacing", json!({"enforce": true})).await;
    assert_eq!(status, 204, "{body}");
    for i in 20..23 {
        send(&app, &id, &cold(i)).await.unwrap();
    }
    assert!(send(&app, &id, &cold(23)).await.is_err());
    wait_status(&app, &t.token, &id, "banned").await;

    let bad = sandbox(&app, &t.token, &id, "pacing", json!({"enforce": "no"})).await;
    assert_eq!(bad.0, 422, "{bad:?}");
    app.finish().await;
}

#[tokio::test]
async fn a_sent_message_is_delivered_then_read() {
    let app = TestApp::spawn_with(paced, Registry::builtin()).await;
    let t = app.tenant("Receipts").await;
    let id = create_account(&app, &t.token, "Direct").await;
    let (mut conn, mut events) = direct(&app, &id).await;
    let message = OutboundMessage {
        id: "BLZ-RECEIPTS".into(),
        to: cold(1),
        body: MessageBody::Text { text: "Hi".into() },
        reply_to: None,
        media: None,
    };
    let sent = conn.send(message).await.unwrap();
    assert_eq!(sent.provider_message_id, "BLZ-RECEIPTS");
    for want in [ReceiptStatus::Delivered, ReceiptStatus::Read] {
        match next(&mut events).await {
            ProviderEvent::Receipt {
                provider_message_id,
                status,
                error,
                ..
            } => assert_eq!(
                (provider_message_id.as_str(), status, error),
                ("BLZ-RECEIPTS", want, None)
            ),
            other => panic!("expected a receipt, got {other:?}"),
        }
    }
    app.finish().await;
}

#[tokio::test]
async fn a_customers_presence_is_injected_and_published() {
    let app = TestApp::spawn_with(paced, Registry::builtin()).await;
    let t = app.tenant("Presence").await;
    let id = connected_account(&app, &t.token).await;
    for available in [true, false] {
        let (status, body) = sandbox(
            &app,
            &t.token,
            &id,
            "presence",
            json!({"from": "+15550009999", "available": available}),
        )
        .await;
        assert_eq!(status, 202, "{body}");
    }
    let seen = wait_events(&app, "account.presence", &id, |e| e.len() >= 2).await;
    let states: Vec<(&str, bool)> = seen
        .iter()
        .map(|p| {
            (
                p["from"].as_str().unwrap(),
                p["available"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(states, [("+15550009999", true), ("+15550009999", false)]);

    assert_error(
        &sandbox(
            &app,
            &t.token,
            &id,
            "presence",
            json!({"from": "5550009999", "available": true}),
        )
        .await,
        422,
        "invalid_phone",
    );
    // No live connection, no presence.
    let (status, _) = sandbox(&app, &t.token, &id, "outage", json!({"down": true})).await;
    assert_eq!(status, 204);
    assert_error(
        &sandbox(
            &app,
            &t.token,
            &id,
            "presence",
            json!({"from": "+15550009999", "available": true}),
        )
        .await,
        409,
        "not_connected",
    );
    app.finish().await;
}
