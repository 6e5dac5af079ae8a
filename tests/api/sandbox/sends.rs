//! What a sandbox number sends, seen from the network's side: messages
//! (a resend of an id counts once, also across a restart with a journal),
//! read receipts and typing; receipts and send failures on demand; inbound
//! media.

use std::time::Duration;

use blazz::jobs::Registry;
use blazz_provider::{MessageBody, OutboundMessage, ProviderEvent, ReceiptStatus};
use serde_json::{json, Value};

use super::{direct, next, paced, sandbox, send};
use crate::helpers::{assert_error, TestApp, TestDb};
use crate::numbers::{connected_account, create_account, wait_status};

fn text(to: &str, id: &str, text: &str) -> OutboundMessage {
    OutboundMessage {
        id: id.into(),
        to: to.into(),
        body: MessageBody::Text { text: text.into() },
        reply_to: None,
        media: None,
    }
}

/// Sends `message` through the number's live session: its provider id.
async fn send_message(app: &TestApp, account: &str, message: OutboundMessage) -> String {
    app.state()
        .sessions
        .send(account.parse().unwrap(), message)
        .await
        .unwrap()
        .provider_message_id
}

async fn received(app: &TestApp, token: &str, id: &str, query: &str) -> (u16, Value) {
    app.get(
        token,
        &format!("/api/v1/sandbox/accounts/{id}/received{query}"),
    )
    .await
}

#[tokio::test]
async fn the_network_lists_what_a_number_sent_and_a_resend_counts_once() {
    let app = TestApp::spawn_with(paced, Registry::builtin()).await;
    let t = app.tenant("Observer").await;
    let id = connected_account(&app, &t.token).await;
    let first = text("+15550007001", "BLZ-1", "Your order shipped");
    assert_eq!(send_message(&app, &id, first.clone()).await, "BLZ-1");
    assert_eq!(send_message(&app, &id, first).await, "BLZ-1");
    for i in 2..=3 {
        let m = text("+15550007001", &format!("BLZ-{i}"), "More news");
        send_message(&app, &id, m).await;
    }

    let (status, all) = received(&app, &t.token, &id, "").await;
    assert_eq!(status, 200, "{all}");
    assert_eq!(all["count"], 3, "{all}");
    let first = &all["messages"][0];
    assert_eq!(first["id"], "BLZ-1");
    assert_eq!(first["to"], "+15550007001");
    assert_eq!(
        first["body"],
        json!({"type": "text", "text": "Your order shipped"})
    );
    assert!(first["at"].as_i64().unwrap() > 1_600_000_000_000, "{first}");
    assert!(first.get("media").is_none(), "{first}");

    let (_, newest) = received(&app, &t.token, &id, "?limit=2").await;
    let ids: Vec<&str> = newest["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["BLZ-2", "BLZ-3"], "newest last");
    assert_eq!(newest["count"], 3);
    let (_, none) = received(&app, &t.token, &id, "?limit=0").await;
    assert_eq!(
        (
            none["count"].as_i64(),
            none["messages"].as_array().map(Vec::len)
        ),
        (Some(3), Some(0))
    );
    let (_, many) = received(&app, &t.token, &id, "?limit=5000").await;
    assert_eq!(many["messages"].as_array().unwrap().len(), 3);
    assert_error(
        &received(&app, &t.token, &id, "?limit=-1").await,
        422,
        "invalid_query",
    );
    app.finish().await;
}

#[tokio::test]
async fn read_receipts_and_typing_the_number_sends_are_listed() {
    let app = TestApp::spawn_with(paced, Registry::builtin()).await;
    let t = app.tenant("Marks").await;
    let id = create_account(&app, &t.token, "Direct").await;
    let path = |what: &str| format!("/api/v1/sandbox/accounts/{id}/{what}");
    assert_eq!(app.get(&t.token, &path("reads")).await, (200, json!([])));

    let (mut conn, _events) = direct(&app, &id).await;
    let ids = vec!["IN-1".to_string(), "IN-2".to_string()];
    conn.mark_read("+15550007002", &ids).await.unwrap();
    conn.typing("+15550007002", true).await.unwrap();
    conn.typing("+15550007002", false).await.unwrap();

    let (status, reads) = app.get(&t.token, &path("reads")).await;
    assert_eq!(status, 200, "{reads}");
    assert_eq!(reads[0]["chat"], "+15550007002");
    assert_eq!(reads[0]["ids"], json!(["IN-1", "IN-2"]));
    assert!(reads[0]["at"].is_i64(), "{reads}");
    let (status, typing) = app.get(&t.token, &path("typing")).await;
    assert_eq!(status, 200, "{typing}");
    let states: Vec<(&str, bool)> = typing
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["chat"].as_str().unwrap(), t["typing"].as_bool().unwrap()))
        .collect();
    assert_eq!(states, [("+15550007002", true), ("+15550007002", false)]);
    app.finish().await;
}

#[tokio::test]
async fn an_injected_receipt_reaches_the_connection_for_any_message_id() {
    let app = TestApp::spawn_with(paced, Registry::builtin()).await;
    let t = app.tenant("Receipts on demand").await;
    let id = create_account(&app, &t.token, "Direct").await;
    let (_conn, mut events) = direct(&app, &id).await;
    let (status, body) = sandbox(
        &app,
        &t.token,
        &id,
        "receipts",
        json!({"provider_message_id": "NOT-SENT", "status": "failed", "error": "recipient blocked"}),
    )
    .await;
    assert_eq!(status, 202, "{body}");
    match next(&mut events).await {
        ProviderEvent::Receipt {
            provider_message_id,
            status,
            error,
            ..
        } => assert_eq!(
            (provider_message_id.as_str(), status, error.as_deref()),
            ("NOT-SENT", ReceiptStatus::Failed, Some("recipient blocked"))
        ),
        other => panic!("expected the receipt, got {other:?}"),
    }

    for (bad, code) in [
        (
            json!({"provider_message_id": "X", "status": "seen"}),
            "invalid_body",
        ),
        (
            json!({"provider_message_id": "", "status": "read"}),
            "invalid_message_id",
        ),
    ] {
        assert_error(
            &sandbox(&app, &t.token, &id, "receipts", bad).await,
            422,
            code,
        );
    }
    let (status, _) = sandbox(&app, &t.token, &id, "outage", json!({"down": true})).await;
    assert_eq!(status, 204);
    assert_error(
        &sandbox(
            &app,
            &t.token,
            &id,
            "receipts",
            json!({"provider_message_id": "X", "status": "read"}),
        )
        .await,
        409,
        "not_connected",
    );
    app.finish().await;
}

#[tokio::test]
async fn injected_send_failures_fail_the_next_sends_and_are_never_received() {
    let app = TestApp::spawn_with(paced, Registry::builtin()).await;
    let t = app.tenant("Flaky").await;
    let id = connected_account(&app, &t.token).await;
    let (status, body) = sandbox(
        &app,
        &t.token,
        &id,
        "send-failures",
        json!({"count": 2, "kind": "transient", "reason": "gateway timeout"}),
    )
    .await;
    assert_eq!(status, 204, "{body}");
    for _ in 0..2 {
        let failed = send(&app, &id, "+15550007003").await.unwrap_err();
        assert!(failed.contains("transient: gateway timeout"), "{failed}");
    }
    send(&app, &id, "+15550007003").await.unwrap();
    let (status, body) = sandbox(
        &app,
        &t.token,
        &id,
        "send-failures",
        json!({"count": 1, "kind": "permanent"}),
    )
    .await;
    assert_eq!(status, 204, "{body}");
    let failed = send(&app, &id, "+15550007003").await.unwrap_err();
    assert!(failed.starts_with("permanent:"), "{failed}");
    assert_eq!(received(&app, &t.token, &id, "").await.1["count"], 1);

    let bad = json!({"count": 1, "kind": "sometimes"});
    assert_error(
        &sandbox(&app, &t.token, &id, "send-failures", bad).await,
        422,
        "invalid_body",
    );
    app.finish().await;
}

#[tokio::test]
async fn an_inbound_message_carries_its_media_bytes() {
    let app = TestApp::spawn_with(paced, Registry::builtin()).await;
    let t = app.tenant("Photos").await;
    let id = create_account(&app, &t.token, "Direct").await;
    let (_conn, mut events) = direct(&app, &id).await;
    let message = |data: &str| {
        json!({
            "from": "+15550007004",
            "body": {"type": "image", "media_id": "m1", "caption": "my receipt"},
            "media": {"mime_type": "image/jpeg", "filename": "x.jpg", "data_base64": data},
        })
    };
    let (status, body) = sandbox(&app, &t.token, &id, "inbound", message("/9j/4AAQ")).await;
    assert_eq!(status, 202, "{body}");
    let ProviderEvent::Message(m) = next(&mut events).await else {
        panic!("expected the message");
    };
    let media = m.media.unwrap();
    assert_eq!(media.mime_type, "image/jpeg");
    assert_eq!(media.filename.as_deref(), Some("x.jpg"));
    assert_eq!(media.data, [0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10]);

    assert_error(
        &sandbox(&app, &t.token, &id, "inbound", message("not base64!")).await,
        422,
        "invalid_media",
    );
    let mut no_type = message("/9j/4AAQ");
    no_type["media"]["mime_type"] = json!("jpeg");
    assert_error(
        &sandbox(&app, &t.token, &id, "inbound", no_type).await,
        422,
        "invalid_media",
    );
    app.finish().await;
}

#[tokio::test]
async fn with_a_journal_a_resend_after_a_restart_is_still_the_same_message() {
    let testdb = TestDb::new().await;
    let url = testdb.url.clone();
    let journal = testdb.dir.path().join("sandbox.jsonl");
    let with_journal = {
        let journal = journal.clone();
        move |c: &mut blazz::config::Config| {
            c.sandbox.journal = Some(journal);
            // No receipt comes by itself during the test.
            c.sandbox.delivered_after_ms = 600_000;
        }
    };
    let mut app = TestApp::spawn_on(testdb, with_journal.clone(), Registry::builtin(), None).await;
    let t = app.tenant("Journal").await;
    let id = connected_account(&app, &t.token).await;
    let message = text("+15550007005", "BLZ-CRASH-1", "Sent before the crash");
    send_message(&app, &id, message.clone()).await;

    // Another Blazz on the same database, data directory and journal: a
    // fresh network that reads the journal back.
    app.running.take().unwrap().stop().await;
    let mut config = crate::helpers::test_config(app.testdb.dir.path());
    config.database_url = Some(blazz::config::Secret::new(url));
    with_journal(&mut config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let again = blazz::server::start(config, app.db.clone(), Registry::builtin(), listener)
        .await
        .unwrap();
    app.base = format!("http://{}", again.addr);
    app.running = Some(again);
    // The stored credentials are accepted: restored without a scan.
    let net = app.state().sessions.sandbox.clone().unwrap();
    for _ in 0..250 {
        if net.is_live(&id) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    wait_status(&app, &t.token, &id, "connected").await;
    assert_eq!(received(&app, &t.token, &id, "").await.1["count"], 1);

    assert_eq!(send_message(&app, &id, message).await, "BLZ-CRASH-1");
    let (_, list) = received(&app, &t.token, &id, "").await;
    assert_eq!(list["count"], 1, "the resend was received again: {list}");

    send_message(&app, &id, text("+15550007005", "BLZ-CRASH-2", "After")).await;
    assert_eq!(received(&app, &t.token, &id, "").await.1["count"], 2);
    let lines = std::fs::read_to_string(&journal).unwrap();
    assert_eq!(lines.lines().count(), 2, "{lines}");
    app.finish().await;
}
