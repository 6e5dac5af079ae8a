//! The shared inbox end to end with the sandbox network: inbound messages
//! (deduplicated, chats and contacts created), sends (idempotent, queued,
//! then sent → delivered → read), forward-only and early receipts, retries
//! and failures, read receipts, typing, chat work (status, assignment,
//! labels, notes, filters, pages) and full-text search.

use std::time::Duration;

use blazz::jobs::Registry;
use serde_json::{json, Value};

use crate::helpers::{assert_error, TestApp};
use crate::numbers::connected_account;

/// An app whose sandbox answers quickly (delivered after 30 ms, read 30 ms
/// later) and never bans for pacing.
async fn app() -> TestApp {
    TestApp::spawn_with(
        |c| {
            c.sandbox.delivered_after_ms = 30;
            c.sandbox.read_after_ms = 30;
            c.sandbox.enforce_pacing = false;
        },
        Registry::builtin(),
    )
    .await
}

/// An app whose sandbox never sends receipts by itself (they come from the
/// test, through the receipts endpoint).
async fn quiet_app() -> TestApp {
    TestApp::spawn_with(
        |c| {
            c.sandbox.delivered_after_ms = 3_600_000;
            c.sandbox.read_after_ms = 3_600_000;
            c.sandbox.enforce_pacing = false;
        },
        Registry::builtin(),
    )
    .await
}

const CUSTOMER: &str = "+14155552671";

async fn inbound(app: &TestApp, token: &str, account: &str, body: Value) {
    let (status, b) = app
        .post(
            token,
            &format!("/api/v1/sandbox/accounts/{account}/inbound"),
            body,
        )
        .await;
    assert_eq!(status, 202, "{b}");
}

/// Polls `path` until `done` holds for its answer.
async fn wait_for(app: &TestApp, token: &str, path: &str, done: impl Fn(&Value) -> bool) -> Value {
    let mut last = Value::Null;
    for _ in 0..400 {
        let (status, v) = app.get(token, path).await;
        if status == 200 && done(&v) {
            return v;
        }
        last = v;
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{path} never got there: {last}");
}

async fn the_chat(app: &TestApp, token: &str) -> Value {
    let chats = wait_for(app, token, "/api/v1/chats", |v| {
        v["data"].as_array().is_some_and(|d| !d.is_empty())
    })
    .await;
    chats["data"][0].clone()
}

async fn send_with_key(app: &TestApp, token: &str, key: Option<&str>, body: Value) -> (u16, Value) {
    let mut req = app
        .client
        .post(app.url("/api/v1/messages"))
        .bearer_auth(token)
        .json(&body);
    if let Some(k) = key {
        req = req.header("Idempotency-Key", k);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

async fn wait_message(app: &TestApp, token: &str, id: &str, status: &str) -> Value {
    wait_for(app, token, &format!("/api/v1/messages/{id}"), |m| {
        m["status"] == status
    })
    .await
}

async fn received(app: &TestApp, token: &str, account: &str) -> Value {
    let (status, r) = app
        .get(
            token,
            &format!("/api/v1/sandbox/accounts/{account}/received?limit=1000"),
        )
        .await;
    assert_eq!(status, 200, "{r}");
    r
}

#[tokio::test]
async fn an_inbound_message_creates_its_chat_and_contact_once() {
    let app = app().await;
    let t = app.tenant("Inbound").await;
    let account = connected_account(&app, &t.token).await;
    let msg = json!({"from": CUSTOMER, "text": "Hi, is my order ready?", "id": "WAIN1", "push_name": "Ana"});
    inbound(&app, &t.token, &account, msg.clone()).await;
    // The network delivers the same message again (a reconnect replay).
    inbound(&app, &t.token, &account, msg).await;
    inbound(
        &app,
        &t.token,
        &account,
        json!({"from": CUSTOMER, "text": "Hello?", "id": "WAIN2"}),
    )
    .await;

    let chat = the_chat(&app, &t.token).await;
    let chat_id = chat["id"].as_str().unwrap();
    let messages = wait_for(
        &app,
        &t.token,
        &format!("/api/v1/chats/{chat_id}/messages"),
        |v| v["data"].as_array().is_some_and(|d| d.len() >= 2),
    )
    .await;
    let data = messages["data"].as_array().unwrap();
    assert_eq!(
        data.len(),
        2,
        "the replayed message was stored twice: {messages}"
    );
    assert_eq!(data[0]["body"]["text"], "Hello?", "newest first");
    assert_eq!(data[1]["provider_message_id"], "WAIN1");
    assert_eq!(data[1]["direction"], "in");
    assert_eq!(data[1]["status"], "received");
    assert_eq!(data[1]["source"], "contact");

    let (_, chat) = app.get(&t.token, &format!("/api/v1/chats/{chat_id}")).await;
    assert_eq!(chat["unread_count"], 2);
    assert_eq!(chat["status"], "open");
    assert_eq!(chat["account_id"], account);
    assert_eq!(chat["contact"]["phone"], CUSTOMER);
    assert_eq!(
        chat["contact"]["name"], "Ana",
        "named after the WhatsApp name"
    );
    assert_eq!(chat["last_message_preview"], "Hello?");

    let (_, contacts) = app.get(&t.token, "/api/v1/contacts").await;
    assert_eq!(contacts["data"].as_array().unwrap().len(), 1);

    // Published for realtime and webhooks.
    let kinds: Vec<(String,)> =
        sqlx::query_as("SELECT kind FROM outbox WHERE kind = 'message.received'")
            .fetch_all(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(kinds.len(), 2);
    app.finish().await;
}

#[tokio::test]
async fn a_send_goes_sent_delivered_read_and_a_repeated_key_never_sends_twice() {
    let app = app().await;
    let t = app.tenant("Sender").await;
    let account = connected_account(&app, &t.token).await;
    let body = json!({"account_id": account, "to": CUSTOMER, "text": "Your order shipped"});
    let first = send_with_key(&app, &t.token, Some("order-77"), body.clone()).await;
    assert_eq!(first.0, 202, "{}", first.1);
    let id = first.1["id"].as_str().unwrap().to_string();
    assert_eq!(first.1["direction"], "out");
    assert_eq!(first.1["source"], "api");
    assert_eq!(first.1["idempotency_key"], "order-77");

    let again = send_with_key(&app, &t.token, Some("order-77"), body.clone()).await;
    assert_eq!(again.0, 200, "{}", again.1);
    assert_eq!(again.1["id"], id.as_str(), "same key, same message");

    let other = send_with_key(
        &app,
        &t.token,
        Some("order-77"),
        json!({"account_id": account, "to": CUSTOMER, "text": "something else"}),
    )
    .await;
    assert_error(&other, 422, "idempotency_key_reused");

    let read = wait_message(&app, &t.token, &id, "read").await;
    assert!(read["provider_message_id"].is_string(), "{read}");
    assert!(read["delivered_at"].is_string() && read["read_at"].is_string());

    let r = received(&app, &t.token, &account).await;
    assert_eq!(r["count"], 1, "the network got the message once: {r}");
    assert_eq!(r["messages"][0]["to"], CUSTOMER);
    assert_eq!(r["messages"][0]["id"], read["provider_message_id"]);

    // The statuses were published in order.
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT payload FROM outbox WHERE kind = 'message.status_changed' ORDER BY id",
    )
    .fetch_all(&app.db.pool)
    .await
    .unwrap();
    let seen: Vec<String> = rows
        .iter()
        .map(|(p,)| {
            serde_json::from_str::<Value>(p).unwrap()["status"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(seen, ["sent", "delivered", "read"]);
    app.finish().await;
}

#[tokio::test]
async fn statuses_move_forward_only_and_a_late_failure_counts() {
    let app = quiet_app().await;
    let t = app.tenant("Ticks").await;
    let account = connected_account(&app, &t.token).await;
    let receipt = |pid: &str, status: &str| json!({"provider_message_id": pid, "status": status, "error": if status == "failed" { Some("recipient unreachable") } else { None }});
    let post_receipt = |body: Value| {
        let app = &app;
        let token = t.token.clone();
        let account = account.clone();
        async move {
            let (s, b) = app
                .post(
                    &token,
                    &format!("/api/v1/sandbox/accounts/{account}/receipts"),
                    body,
                )
                .await;
            assert!(s == 202 || s == 204, "{s} {b}");
        }
    };

    // One message reads, then a late "delivered" arrives: it stays read.
    let (_, m) = send_with_key(
        &app,
        &t.token,
        None,
        json!({"account_id": account, "to": CUSTOMER, "text": "one"}),
    )
    .await;
    let sent = wait_message(&app, &t.token, m["id"].as_str().unwrap(), "sent").await;
    let pid = sent["provider_message_id"].as_str().unwrap().to_string();
    post_receipt(receipt(&pid, "read")).await;
    wait_message(&app, &t.token, m["id"].as_str().unwrap(), "read").await;
    post_receipt(receipt(&pid, "delivered")).await;
    post_receipt(receipt(&pid, "failed")).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (_, still) = app
        .get(
            &t.token,
            &format!("/api/v1/messages/{}", m["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(still["status"], "read", "{still}");

    // Another is delivered, then the network says it failed after all.
    let (_, m2) = send_with_key(
        &app,
        &t.token,
        None,
        json!({"account_id": account, "to": CUSTOMER, "text": "two"}),
    )
    .await;
    let id2 = m2["id"].as_str().unwrap();
    let sent2 = wait_message(&app, &t.token, id2, "sent").await;
    let pid2 = sent2["provider_message_id"].as_str().unwrap().to_string();
    post_receipt(receipt(&pid2, "delivered")).await;
    wait_message(&app, &t.token, id2, "delivered").await;
    post_receipt(receipt(&pid2, "failed")).await;
    let failed = wait_message(&app, &t.token, id2, "failed").await;
    assert_eq!(failed["error"], "recipient unreachable");
    assert!(
        failed["delivered_at"].is_string(),
        "the delivery is still on record"
    );
    app.finish().await;
}

#[tokio::test]
async fn a_receipt_that_beats_its_message_is_kept_and_applied() {
    let app = TestApp::spawn_with(
        |c| {
            c.sandbox.delivered_after_ms = 3_600_000;
            c.sandbox.read_after_ms = 3_600_000;
            c.jobs.retry_base_secs = 2;
        },
        Registry::builtin(),
    )
    .await;
    let t = app.tenant("Early").await;
    let account = connected_account(&app, &t.token).await;
    // The first attempt fails transiently; the retry comes a second or
    // more later. Meanwhile the network reports "delivered" for the id the
    // message goes out under, before Blazz has recorded it as sent.
    let (s, b) = app
        .post(
            &t.token,
            &format!("/api/v1/sandbox/accounts/{account}/send-failures"),
            json!({"count": 1, "kind": "transient"}),
        )
        .await;
    assert!(s == 202 || s == 204, "{s} {b}");
    let (_, m) = send_with_key(
        &app,
        &t.token,
        None,
        json!({"account_id": account, "to": CUSTOMER, "text": "early"}),
    )
    .await;
    let id = m["id"].as_str().unwrap();
    let network_id = id.replace('-', "").to_uppercase();
    let (s, b) = app
        .post(
            &t.token,
            &format!("/api/v1/sandbox/accounts/{account}/receipts"),
            json!({"provider_message_id": network_id, "status": "delivered"}),
        )
        .await;
    assert!(s == 202 || s == 204, "{s} {b}");
    let (_, now) = app.get(&t.token, &format!("/api/v1/messages/{id}")).await;
    assert_eq!(
        now["status"], "pending",
        "the retry came too soon for this test: {now}"
    );

    let done = wait_message(&app, &t.token, id, "delivered").await;
    assert_eq!(done["provider_message_id"], network_id.as_str());
    let kept: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM early_receipts")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(kept.0, 0, "an applied early receipt is not kept");
    assert_eq!(received(&app, &t.token, &account).await["count"], 1);
    app.finish().await;
}

#[tokio::test]
async fn transient_failures_are_retried_and_permanent_ones_fail_at_once() {
    let app = quiet_app().await;
    let t = app.tenant("Retry").await;
    let account = connected_account(&app, &t.token).await;
    let failures = |kind: &str, count: u32| json!({"count": count, "kind": kind, "reason": format!("{kind} trouble")});
    let path = format!("/api/v1/sandbox/accounts/{account}/send-failures");

    let (s, _) = app.post(&t.token, &path, failures("transient", 3)).await;
    assert!(s == 202 || s == 204);
    let (_, m) = send_with_key(
        &app,
        &t.token,
        None,
        json!({"account_id": account, "to": CUSTOMER, "text": "retry me"}),
    )
    .await;
    wait_message(&app, &t.token, m["id"].as_str().unwrap(), "sent").await;

    let (s, _) = app.post(&t.token, &path, failures("permanent", 1)).await;
    assert!(s == 202 || s == 204);
    let (_, m) = send_with_key(
        &app,
        &t.token,
        None,
        json!({"account_id": account, "to": CUSTOMER, "text": "refused"}),
    )
    .await;
    let failed = wait_message(&app, &t.token, m["id"].as_str().unwrap(), "failed").await;
    assert!(
        failed["error"]
            .as_str()
            .unwrap()
            .contains("permanent trouble"),
        "{failed}"
    );
    assert!(failed["failed_at"].is_string());
    assert_eq!(received(&app, &t.token, &account).await["count"], 1);
    app.finish().await;
}

#[tokio::test]
async fn a_chat_s_messages_go_out_in_order() {
    let app = quiet_app().await;
    let t = app.tenant("Order").await;
    let account = connected_account(&app, &t.token).await;
    for i in 0..30 {
        let (s, b) = send_with_key(
            &app,
            &t.token,
            None,
            json!({"account_id": account, "to": CUSTOMER, "text": format!("part {i}")}),
        )
        .await;
        assert_eq!(s, 202, "{b}");
    }
    let r = wait_for(
        &app,
        &t.token,
        &format!("/api/v1/sandbox/accounts/{account}/received?limit=1000"),
        |v| v["count"] == 30,
    )
    .await;
    let texts: Vec<String> = r["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"]["text"].as_str().unwrap().to_string())
        .collect();
    let expected: Vec<String> = (0..30).map(|i| format!("part {i}")).collect();
    assert_eq!(texts, expected);
    app.finish().await;
}

#[tokio::test]
async fn bad_sends_get_clear_errors() {
    let app = quiet_app().await;
    let t = app.tenant("Bad sends").await;
    let account = connected_account(&app, &t.token).await;
    let send = |body: Value| send_with_key(&app, &t.token, None, body);
    assert_error(
        &send(json!({"account_id": account, "to": "banana", "text": "x"})).await,
        422,
        "invalid_phone",
    );
    assert_error(
        &send(json!({"account_id": account, "to": CUSTOMER, "text": "  "})).await,
        422,
        "invalid_body",
    );
    assert_error(
        &send(json!({"account_id": account, "to": CUSTOMER})).await,
        422,
        "invalid_body",
    );
    assert_error(
        &send(json!({"to": CUSTOMER, "text": "x"})).await,
        422,
        "invalid_recipient",
    );
    assert_error(
        &send(json!({"chat_id": "0190c5a8-0000-7000-8000-000000000000", "text": "x"})).await,
        404,
        "chat_not_found",
    );
    assert_error(
        &send(json!({"account_id": account, "to": CUSTOMER, "body": {"type": "image"}})).await,
        422,
        "invalid_body",
    );
    assert_error(&send(json!({"account_id": account, "to": CUSTOMER, "body": {"type": "image", "media_id": "0190c5a8-0000-7000-8000-000000000000"}})).await, 404, "media_not_found");
    assert_error(&send(json!({"account_id": account, "to": CUSTOMER, "body": {"type": "location", "latitude": 100, "longitude": 0}})).await, 422, "invalid_body");
    assert_error(&send(json!({"account_id": account, "to": CUSTOMER, "body": {"type": "template", "template": "nope"}})).await, 404, "template_not_found");
    assert_error(
        &send(json!({"account_id": account, "to": CUSTOMER, "body": {"type": "nonsense"}})).await,
        422,
        "invalid_body",
    );
    let long_key = "k".repeat(300);
    assert_error(
        &send_with_key(
            &app,
            &t.token,
            Some(&long_key),
            json!({"account_id": account, "to": CUSTOMER, "text": "x"}),
        )
        .await,
        422,
        "invalid_idempotency_key",
    );
    // A number that is not linked cannot send.
    let (_, idle) = app
        .post(
            &t.token,
            "/api/v1/accounts",
            json!({"provider": "sandbox", "name": "Idle"}),
        )
        .await;
    assert_error(
        &send(json!({"account_id": idle["id"], "to": CUSTOMER, "text": "x"})).await,
        409,
        "number_not_linked",
    );
    // Nothing was stored for any of these.
    let (_, chats) = app.get(&t.token, "/api/v1/chats").await;
    assert_eq!(chats["data"].as_array().unwrap().len(), 0, "{chats}");
    app.finish().await;
}

#[tokio::test]
async fn marking_a_chat_read_sends_read_receipts_and_typing_reaches_the_contact() {
    let app = quiet_app().await;
    let t = app.tenant("Reader").await;
    let account = connected_account(&app, &t.token).await;
    for (id, text) in [("R1", "one"), ("R2", "two")] {
        inbound(
            &app,
            &t.token,
            &account,
            json!({"from": CUSTOMER, "text": text, "id": id}),
        )
        .await;
    }
    let chat = wait_for(&app, &t.token, "/api/v1/chats", |v| {
        v["data"][0]["unread_count"] == 2
    })
    .await["data"][0]
        .clone();
    let chat_id = chat["id"].as_str().unwrap();

    let (status, r) = app
        .post(
            &t.token,
            &format!("/api/v1/chats/{chat_id}/read"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["messages_read"], 2);
    assert_eq!(r["receipts_sent"], true);
    assert_eq!(r["chat"]["unread_count"], 0);
    let (_, reads) = app
        .get(
            &t.token,
            &format!("/api/v1/sandbox/accounts/{account}/reads"),
        )
        .await;
    let text = reads.to_string();
    assert!(
        text.contains("R1") && text.contains("R2") && text.contains(CUSTOMER),
        "{reads}"
    );
    let (_, msgs) = app
        .get(&t.token, &format!("/api/v1/chats/{chat_id}/messages"))
        .await;
    assert!(
        msgs["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["status"] == "read"),
        "{msgs}"
    );
    // Reading again changes nothing and sends nothing.
    let (_, again) = app
        .post(
            &t.token,
            &format!("/api/v1/chats/{chat_id}/read"),
            json!({}),
        )
        .await;
    assert_eq!(again["messages_read"], 0);

    let (status, _) = app
        .post(
            &t.token,
            &format!("/api/v1/chats/{chat_id}/typing"),
            json!({"typing": true}),
        )
        .await;
    assert_eq!(status, 204);
    let (_, typing) = app
        .get(
            &t.token,
            &format!("/api/v1/sandbox/accounts/{account}/typing"),
        )
        .await;
    assert!(typing.to_string().contains(CUSTOMER), "{typing}");
    assert_error(
        &app.post(
            &t.token,
            &format!("/api/v1/chats/{chat_id}/typing"),
            json!({"typing": "yes"}),
        )
        .await,
        422,
        "invalid_body",
    );

    // With the number offline, typing is refused and reading is local only.
    let (s, _) = app
        .post(
            &t.token,
            &format!("/api/v1/sandbox/accounts/{account}/outage"),
            json!({"down": true}),
        )
        .await;
    assert!(s == 202 || s == 204, "{s}");
    crate::numbers::wait_status(&app, &t.token, &account, "reconnecting").await;
    assert_error(
        &app.post(
            &t.token,
            &format!("/api/v1/chats/{chat_id}/typing"),
            json!({"typing": true}),
        )
        .await,
        409,
        "number_not_connected",
    );
    app.finish().await;
}

#[tokio::test]
async fn the_team_works_chats_with_status_assignment_labels_and_notes() {
    let app = quiet_app().await;
    let t = app.tenant("Team").await;
    let account = connected_account(&app, &t.token).await;
    for i in 0..5 {
        inbound(&app, &t.token, &account, json!({"from": format!("+1415555{:04}", 2670 + i), "text": format!("hello {i}"), "id": format!("T{i}")})).await;
    }
    let all = wait_for(&app, &t.token, "/api/v1/chats", |v| {
        v["data"].as_array().is_some_and(|d| d.len() == 5)
    })
    .await;
    let ids: Vec<String> = all["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        all["data"][0]["last_message_preview"], "hello 4",
        "most recent first"
    );

    // Pages of two cover every chat once.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/chats?limit=2&cursor={c}"),
            None => "/api/v1/chats?limit=2".to_string(),
        };
        let (_, page) = app.get(&t.token, &path).await;
        seen.extend(
            page["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["id"].as_str().unwrap().to_string()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(seen, ids);

    let owner: (String,) =
        sqlx::query_as("SELECT user_id FROM memberships WHERE workspace_id = $1")
            .bind(t.id.to_string())
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    let (status, c) = app
        .patch(&t.token, &format!("/api/v1/chats/{}", ids[0]), json!({"status": "pending", "assignee_id": owner.0, "labels": ["VIP", "billing", "vip"]}))
        .await;
    assert_eq!(status, 200, "{c}");
    assert_eq!(c["status"], "pending");
    assert_eq!(c["assignee_id"], owner.0.as_str());
    assert_eq!(c["labels"], json!(["billing", "vip"]));
    app.patch(
        &t.token,
        &format!("/api/v1/chats/{}", ids[1]),
        json!({"status": "resolved"}),
    )
    .await;
    app.post(
        &t.token,
        &format!("/api/v1/chats/{}/read", ids[2]),
        json!({}),
    )
    .await;

    let count = |q: &'static str| {
        let app = &app;
        let token = t.token.clone();
        async move {
            let (s, v) = app.get(&token, &format!("/api/v1/chats?{q}")).await;
            assert_eq!(s, 200, "{q}: {v}");
            v["data"].as_array().unwrap().len()
        }
    };
    assert_eq!(count("status=pending").await, 1);
    assert_eq!(count("status=resolved").await, 1);
    assert_eq!(count("status=open").await, 3);
    assert_eq!(count("unread=false").await, 1);
    assert_eq!(count("unread=true").await, 4);
    assert_eq!(count("label=vip").await, 1);
    assert_eq!(count("assigned=none").await, 4);
    assert_eq!(
        app.get(&t.token, &format!("/api/v1/chats?assigned={}", owner.0))
            .await
            .1["data"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        app.get(&t.token, &format!("/api/v1/chats?account_id={account}"))
            .await
            .1["data"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
    assert_eq!(count("q=2672").await, 1);
    assert_error(
        &app.get(&t.token, "/api/v1/chats?status=sleeping").await,
        422,
        "invalid_filter",
    );
    assert_error(
        &app.get(&t.token, "/api/v1/chats?cursor=garbage").await,
        422,
        "invalid_cursor",
    );

    // Unassign; assigning to someone outside the workspace is refused.
    let (_, c) = app
        .patch(
            &t.token,
            &format!("/api/v1/chats/{}", ids[0]),
            json!({"assignee_id": null}),
        )
        .await;
    assert!(c["assignee_id"].is_null(), "{c}");
    let stranger = app.tenant("Stranger").await;
    let their_owner: (String,) =
        sqlx::query_as("SELECT user_id FROM memberships WHERE workspace_id = $1")
            .bind(stranger.id.to_string())
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_error(
        &app.patch(
            &t.token,
            &format!("/api/v1/chats/{}", ids[0]),
            json!({"assignee_id": their_owner.0}),
        )
        .await,
        422,
        "not_a_member",
    );

    // A resolved chat reopens when the contact writes again.
    let resolved = &ids[1];
    let (_, r) = app
        .get(&t.token, &format!("/api/v1/chats/{resolved}"))
        .await;
    inbound(
        &app,
        &t.token,
        &account,
        json!({"from": r["contact"]["phone"], "text": "one more thing", "id": "T-again"}),
    )
    .await;
    wait_for(&app, &t.token, &format!("/api/v1/chats/{resolved}"), |c| {
        c["status"] == "open"
    })
    .await;

    // Notes.
    let (status, n) = app
        .post(
            &t.token,
            &format!("/api/v1/chats/{}/notes", ids[0]),
            json!({"body": "Called them, will ship Monday"}),
        )
        .await;
    assert_eq!(status, 201, "{n}");
    assert_error(
        &app.post(
            &t.token,
            &format!("/api/v1/chats/{}/notes", ids[0]),
            json!({"body": " "}),
        )
        .await,
        422,
        "invalid_note",
    );
    let (_, notes) = app
        .get(&t.token, &format!("/api/v1/chats/{}/notes", ids[0]))
        .await;
    assert_eq!(notes["data"][0]["body"], "Called them, will ship Monday");
    app.finish().await;
}

#[tokio::test]
async fn full_text_search_finds_words_in_the_workspace_only() {
    let app = quiet_app().await;
    let t = app.tenant("Search").await;
    let other = app.tenant("Other search").await;
    let account = connected_account(&app, &t.token).await;
    let their_account = connected_account(&app, &other.token).await;
    inbound(
        &app,
        &t.token,
        &account,
        json!({"from": CUSTOMER, "text": "Where is my parcel? Order 4471", "id": "S1"}),
    )
    .await;
    inbound(
        &app,
        &t.token,
        &account,
        json!({"from": CUSTOMER, "text": "The parcel arrived, thanks!", "id": "S2"}),
    )
    .await;
    inbound(
        &app,
        &other.token,
        &their_account,
        json!({"from": CUSTOMER, "text": "my parcel too", "id": "S3"}),
    )
    .await;
    let (s, m) = send_with_key(&app, &t.token, None, json!({"account_id": account, "to": CUSTOMER, "text": "Your order 4471 left the warehouse"})).await;
    assert_eq!(s, 202, "{m}");
    // Inbound messages are stored asynchronously: wait for both.
    wait_for(&app, &t.token, "/api/v1/chats", |v| {
        v["data"][0]["last_direction"] == "out" && v["data"][0]["unread_count"] == 2
    })
    .await;
    // ...and the other workspace's, or finding nothing of it proves nothing.
    the_chat(&app, &other.token).await;

    let hits = |q: &str| {
        let app = &app;
        let path = format!("/api/v1/messages?q={q}");
        let token = t.token.clone();
        async move {
            let (s, v) = app.get(&token, &path).await;
            assert_eq!(s, 200, "{v}");
            v["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["body"]["text"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        hits("parcel").await.len(),
        2,
        "the other workspace's parcel is not found"
    );
    assert_eq!(hits("order%204471").await.len(), 2);
    assert_eq!(
        hits("warehouse").await,
        ["Your order 4471 left the warehouse"]
    );
    assert!(hits("PARCEL%20arrived").await[0].contains("arrived"));
    assert!(
        hits("%22OR%22%20*").await.is_empty(),
        "search syntax is taken as words"
    );
    assert_error(
        &app.get(&t.token, "/api/v1/messages?q=").await,
        422,
        "invalid_query",
    );
    app.finish().await;
}

#[tokio::test]
async fn every_message_type_goes_out_and_media_comes_in() {
    let app = app().await;
    let t = app.tenant("Types").await;
    let account = connected_account(&app, &t.token).await;
    inbound(
        &app,
        &t.token,
        &account,
        json!({"from": CUSTOMER, "text": "hi", "id": "TY1", "push_name": "Bea"}),
    )
    .await;
    let chat = the_chat(&app, &t.token).await;
    let chat_id = chat["id"].as_str().unwrap();
    let (_, first) = app
        .get(&t.token, &format!("/api/v1/chats/{chat_id}/messages"))
        .await;
    let their_message = first["data"][0]["id"].as_str().unwrap().to_string();

    // An uploaded image.
    let png: Vec<u8> = [&b"\x89PNG\r\n\x1a\n"[..], &[7u8; 64][..]].concat();
    let up = app
        .client
        .post(app.url("/api/v1/media?kind=image&filename=label.png"))
        .bearer_auth(&t.token)
        .header("content-type", "image/png")
        .body(png.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(up.status().as_u16(), 201);
    let media: Value = up.json().await.unwrap();
    let (s, c) = app.post(&t.token, "/api/v1/canned-replies", json!({"shortcut": "thanks", "body": "Thanks {{contact.name}}, order {{order}} is on its way"})).await;
    assert_eq!(s, 201, "{c}");

    let bodies = [
        json!({"type": "image", "media_id": media["id"], "caption": "your label"}),
        json!({"type": "location", "latitude": 51.5, "longitude": -0.12, "name": "Shop"}),
        json!({"type": "contact", "name": "Support", "phones": ["+14155550000"]}),
        json!({"type": "reaction", "message_id": their_message, "emoji": "👍"}),
        json!({"type": "template", "template": "thanks", "variables": {"order": "4471"}}),
    ];
    let mut ids = Vec::new();
    for b in bodies {
        let (s, m) = app
            .post(
                &t.token,
                &format!("/api/v1/chats/{chat_id}/messages"),
                json!({"body": b}),
            )
            .await;
        assert_eq!(s, 202, "{m}");
        ids.push(m["id"].as_str().unwrap().to_string());
    }
    let (s, quoted) = app
        .post(
            &t.token,
            &format!("/api/v1/chats/{chat_id}/messages"),
            json!({"text": "about this", "reply_to": their_message}),
        )
        .await;
    assert_eq!(s, 202, "{quoted}");
    assert_eq!(quoted["reply_to"], their_message.as_str());
    ids.push(quoted["id"].as_str().unwrap().to_string());
    for id in &ids {
        wait_message(&app, &t.token, id, "read").await;
    }
    let r = received(&app, &t.token, &account).await;
    assert_eq!(r["count"], 6, "{r}");
    let got = r["messages"].as_array().unwrap();
    assert_eq!(got[0]["body"]["type"], "image");
    assert_eq!(got[3]["body"]["type"], "reaction");
    assert_eq!(got[3]["body"]["to_provider_message_id"], "TY1");
    assert_eq!(
        got[4]["body"]["text"],
        "Thanks Bea, order 4471 is on its way"
    );
    let (_, t_msg) = app
        .get(&t.token, &format!("/api/v1/messages/{}", ids[4]))
        .await;
    assert_eq!(
        t_msg["body"]["text"],
        "Thanks Bea, order 4471 is on its way"
    );

    // An inbound photo: stored, downloadable by the workspace only.
    let jpeg: Vec<u8> = [&[0xFFu8, 0xD8, 0xFF, 0xE0][..], &[1u8; 100][..]].concat();
    let b64 = data_encoding::BASE64.encode(&jpeg);
    inbound(&app, &t.token, &account, json!({"from": CUSTOMER, "id": "TYIMG", "body": {"type": "image", "media_id": "wa-media-1", "caption": "broken box"}, "media": {"mime_type": "image/jpeg", "data_base64": b64}})).await;
    let msgs = wait_for(
        &app,
        &t.token,
        &format!("/api/v1/chats/{chat_id}/messages"),
        |v| v["data"][0]["type"] == "image",
    )
    .await;
    let photo = &msgs["data"][0];
    assert_eq!(photo["body"]["caption"], "broken box");
    let media_id = photo["body"]["media_id"]
        .as_str()
        .expect("the photo was kept");
    let down = app
        .client
        .get(app.url(&format!("/api/v1/media/{media_id}")))
        .bearer_auth(&t.token)
        .send()
        .await
        .unwrap();
    assert_eq!(down.status().as_u16(), 200);
    assert_eq!(down.headers()["content-type"], "image/jpeg");
    assert_eq!(down.bytes().await.unwrap().to_vec(), jpeg);
    let stranger = app.tenant("Peeker").await;
    let peek = app
        .client
        .get(app.url(&format!("/api/v1/media/{media_id}")))
        .bearer_auth(&stranger.token)
        .send()
        .await
        .unwrap();
    assert_eq!(peek.status().as_u16(), 404);
    app.finish().await;
}
