//! Meta's webhook calls at `/webhooks/meta`: the verification handshake,
//! signatures (bad or missing: 401 and nothing stored), every entry and
//! change of a call, duplicates, out-of-order statuses, calls for numbers
//! whose session is not running here, template status updates.

use std::time::Duration;

use blazz_cloud::fake::FakeGraph;
use blazz_cloud::webhook::sign;
use serde_json::{json, Value};

use crate::cloud::{
    cloud_number, customer_writes, send_text, spawn, wait_message, wait_stored, CUSTOMER,
};
use crate::helpers::TestApp;

async fn handshake(app: &TestApp, token: &str, mode: &str) -> (u16, String, String) {
    let resp = app
        .client
        .get(app.url("/webhooks/meta"))
        .query(&[
            ("hub.mode", mode),
            ("hub.verify_token", token),
            ("hub.challenge", "1158201444"),
        ])
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let ctype = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, ctype, resp.text().await.unwrap())
}

async fn post_raw(app: &TestApp, body: &[u8], signature: Option<&str>) -> u16 {
    let mut req = app
        .client
        .post(app.url("/webhooks/meta"))
        .body(body.to_vec());
    if let Some(s) = signature {
        req = req.header("X-Hub-Signature-256", s);
    }
    req.send().await.unwrap().status().as_u16()
}

fn signed(fake: &FakeGraph, body: &Value) -> (Vec<u8>, String) {
    let raw = body.to_string().into_bytes();
    let secret = fake
        .app_secret(&fake.credentials().phone_number_id)
        .unwrap();
    let sig = sign(&secret, &raw);
    (raw, sig)
}

fn text_message(wamid: &str, from: &str, text: &str) -> Value {
    json!({"from": from, "id": wamid, "timestamp": now_secs(), "type": "text",
           "text": {"body": text}})
}

fn now_secs() -> String {
    (blazz_store::now_ms() / 1000).to_string()
}

fn value(fake: &FakeGraph, messages: Vec<Value>, statuses: Vec<Value>) -> Value {
    let c = fake.credentials();
    let mut v = json!({"messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": c.phone_number_id}});
    if !messages.is_empty() {
        v["contacts"] = json!([{"profile": {"name": "Ana"}, "wa_id": "6281234567890"}]);
        v["messages"] = json!(messages);
    }
    if !statuses.is_empty() {
        v["statuses"] = json!(statuses);
    }
    v
}

fn call(fake: &FakeGraph, entries: Vec<Vec<Value>>) -> Value {
    let waba = fake.credentials().business_account_id;
    json!({"object": "whatsapp_business_account", "entry": entries.into_iter().map(|changes| json!({
        "id": waba,
        "changes": changes.into_iter().map(|v| json!({"field": "messages", "value": v})).collect::<Vec<_>>(),
    })).collect::<Vec<_>>()})
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    let (n,): (i64,) = sqlx::query_as(sql).fetch_one(&app.db.pool).await.unwrap();
    n
}

/// Waits until every job is finished.
async fn settle(app: &TestApp) {
    for _ in 0..500 {
        if count(
            app,
            "SELECT COUNT(*) FROM jobs WHERE state NOT IN ('done', 'dead')",
        )
        .await
            == 0
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("jobs never settled");
}

fn status(wamid: &str, status: &str, ts: i64) -> Value {
    json!({"id": wamid, "status": status, "timestamp": ts.to_string(), "recipient_id": "6281234567890"})
}

#[tokio::test]
async fn the_verification_handshake_answers_the_challenge_only_for_a_known_verify_token() {
    let (app, fake) = spawn().await;
    let t = app.tenant("Acme").await;
    // No number yet: nobody's token.
    let (status, _, _) = handshake(&app, "fake-verify-token", "subscribe").await;
    assert_eq!(status, 403);
    cloud_number(&app, &t.token, &fake).await;
    let (status, ctype, body) = handshake(&app, "fake-verify-token", "subscribe").await;
    assert_eq!(status, 200);
    assert!(ctype.starts_with("text/plain"), "{ctype}");
    assert_eq!(body, "1158201444");
    assert_eq!(handshake(&app, "someone-elses", "subscribe").await.0, 403);
    assert_eq!(
        handshake(&app, "fake-verify-token", "unsubscribe").await.0,
        403
    );
    app.finish().await;
}

#[tokio::test]
async fn a_bad_or_missing_signature_is_401_and_nothing_is_stored() {
    let (app, fake) = spawn().await;
    let t = app.tenant("Acme").await;
    cloud_number(&app, &t.token, &fake).await;
    let body = call(
        &fake,
        vec![vec![value(
            &fake,
            vec![text_message("wamid.A", "6281234567890", "hi")],
            vec![],
        )]],
    );
    let (raw, good) = signed(&fake, &body);
    assert_eq!(post_raw(&app, &raw, None).await, 401);
    let forged = sign("not-the-app-secret", &raw);
    assert_eq!(post_raw(&app, &raw, Some(&forged)).await, 401);
    assert_eq!(post_raw(&app, &raw, Some("sha256=zz")).await, 401);
    // The right signature over other bytes (re-serialized JSON) fails too.
    let mut tampered = raw.clone();
    tampered.push(b' ');
    assert_eq!(post_raw(&app, &tampered, Some(&good)).await, 401);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM jobs WHERE name = 'cloud.webhook'"
        )
        .await,
        0
    );
    assert_eq!(count(&app, "SELECT COUNT(*) FROM messages").await, 0);
    // The same call signed right is taken.
    assert_eq!(post_raw(&app, &raw, Some(&good)).await, 200);
    wait_stored(&app, "wamid.A").await;
    app.finish().await;
}

#[tokio::test]
async fn every_entry_and_every_change_of_one_call_is_handled() {
    let (app, fake) = spawn().await;
    let t = app.tenant("Acme").await;
    cloud_number(&app, &t.token, &fake).await;
    let from = "6281234567890";
    let body = call(
        &fake,
        vec![
            vec![
                value(
                    &fake,
                    vec![
                        text_message("wamid.1", from, "one"),
                        text_message("wamid.2", from, "two"),
                    ],
                    vec![],
                ),
                value(&fake, vec![text_message("wamid.3", from, "three")], vec![]),
            ],
            vec![value(
                &fake,
                vec![text_message("wamid.4", from, "four")],
                vec![],
            )],
        ],
    );
    let (raw, sig) = signed(&fake, &body);
    assert_eq!(post_raw(&app, &raw, Some(&sig)).await, 200);
    for w in ["wamid.1", "wamid.2", "wamid.3", "wamid.4"] {
        wait_stored(&app, w).await;
    }
    let (_, chats) = app.get(&t.token, "/api/v1/chats").await;
    assert_eq!(chats["data"].as_array().unwrap().len(), 1);
    assert_eq!(chats["data"][0]["unread_count"], 4, "{chats}");
    app.finish().await;
}

#[tokio::test]
async fn a_repeated_message_and_a_repeated_status_are_ignored() {
    let (app, fake) = spawn().await;
    let t = app.tenant("Acme").await;
    let id = cloud_number(&app, &t.token, &fake).await;
    let wamid = customer_writes(&app, &fake, "hello").await;
    // Meta retries the same message in another call (another envelope).
    let again = call(
        &fake,
        vec![vec![value(
            &fake,
            vec![text_message(&wamid, "6281234567890", "hello")],
            vec![],
        )]],
    );
    let (raw, sig) = signed(&fake, &again);
    assert_eq!(post_raw(&app, &raw, Some(&sig)).await, 200);
    assert_eq!(post_raw(&app, &raw, Some(&sig)).await, 200);
    settle(&app).await;
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM messages WHERE direction = 'in'").await,
        1
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM outbox WHERE kind = 'message.received'"
        )
        .await,
        1
    );

    let (_, m) = send_text(&app, &t.token, &id, "answer").await;
    let m = wait_message(&app, &t.token, m["id"].as_str().unwrap(), "sent").await;
    let sent_wamid = m["provider_message_id"].as_str().unwrap().to_string();
    let ts = blazz_store::now_ms() / 1000;
    for n in 0..3 {
        // The same status, in differently shaped calls.
        let body = call(
            &fake,
            vec![vec![value(
                &fake,
                vec![],
                vec![status(&sent_wamid, "delivered", ts + n)],
            )]],
        );
        let (raw, sig) = signed(&fake, &body);
        assert_eq!(post_raw(&app, &raw, Some(&sig)).await, 200);
    }
    settle(&app).await;
    wait_message(&app, &t.token, m["id"].as_str().unwrap(), "delivered").await;
    let changes: Vec<(String,)> = sqlx::query_as(
        "SELECT payload FROM outbox WHERE kind = 'message.status_changed' ORDER BY id",
    )
    .fetch_all(&app.db.pool)
    .await
    .unwrap();
    let delivered = changes
        .iter()
        .filter(|(p,)| p.contains("\"delivered\""))
        .count();
    assert_eq!(delivered, 1, "one status event, however often Meta says it");
    app.finish().await;
}

#[tokio::test]
async fn a_late_delivered_never_moves_a_read_message_back() {
    let (app, fake) = spawn().await;
    let t = app.tenant("Acme").await;
    let id = cloud_number(&app, &t.token, &fake).await;
    customer_writes(&app, &fake, "hello").await;
    let (_, m) = send_text(&app, &t.token, &id, "answer").await;
    let mid = m["id"].as_str().unwrap().to_string();
    let m = wait_message(&app, &t.token, &mid, "sent").await;
    let wamid = m["provider_message_id"].as_str().unwrap().to_string();
    let pnid = fake.credentials().phone_number_id;
    assert_eq!(
        fake.deliver_status(&pnid, &wamid, CUSTOMER, "read", vec![])
            .await
            .unwrap(),
        200
    );
    wait_message(&app, &t.token, &mid, "read").await;
    assert_eq!(
        fake.deliver_status(&pnid, &wamid, CUSTOMER, "delivered", vec![])
            .await
            .unwrap(),
        200
    );
    settle(&app).await;
    let (_, after) = app.get(&t.token, &format!("/api/v1/messages/{mid}")).await;
    assert_eq!(after["status"], "read", "{after}");
    app.finish().await;
}

#[tokio::test]
async fn a_status_with_errors_fails_the_message_with_metas_words() {
    let (app, fake) = spawn().await;
    let t = app.tenant("Acme").await;
    let id = cloud_number(&app, &t.token, &fake).await;
    customer_writes(&app, &fake, "hello").await;
    let (_, m) = send_text(&app, &t.token, &id, "answer").await;
    let mid = m["id"].as_str().unwrap().to_string();
    let m = wait_message(&app, &t.token, &mid, "sent").await;
    let wamid = m["provider_message_id"].as_str().unwrap().to_string();
    let pnid = fake.credentials().phone_number_id;
    let errors = vec![json!({"code": 131026, "title": "Message undeliverable",
        "message": "Message undeliverable", "error_data": {"details": "Receiver is incapable of receiving this message"}})];
    fake.deliver_status(&pnid, &wamid, CUSTOMER, "failed", errors)
        .await
        .unwrap();
    let failed = wait_message(&app, &t.token, &mid, "failed").await;
    assert!(
        failed["error"]
            .as_str()
            .unwrap()
            .contains("Receiver is incapable"),
        "{failed}"
    );
    app.finish().await;
}

#[tokio::test]
async fn calls_for_a_number_whose_session_is_not_running_here_are_stored_all_the_same() {
    let (app, fake) = spawn().await;
    let t = app.tenant("Acme").await;
    let id = cloud_number(&app, &t.token, &fake).await;
    app.state().sessions.stop(id.parse().unwrap(), 5).await;
    assert!(!app.state().sessions.cloud.as_ref().unwrap().is_open(&id));
    let wamid = customer_writes(&app, &fake, "anyone there?").await;
    let m = wait_stored(&app, &wamid).await;
    assert_eq!(m["status"], "received");
    let (_, chats) = app.get(&t.token, "/api/v1/chats").await;
    assert_eq!(chats["data"][0]["last_message_preview"], "anyone there?");
    app.finish().await;
}

#[tokio::test]
async fn inbound_media_is_downloaded_with_the_numbers_token() {
    let (app, fake) = spawn().await;
    let t = app.tenant("Acme").await;
    cloud_number(&app, &t.token, &fake).await;
    let pnid = fake.credentials().phone_number_id;
    let png = b"\x89PNG\r\n\x1a\nfake image bytes".to_vec();
    let media = fake.add_media(&pnid, "image/png", png.clone());
    let (wamid, status) = fake
        .deliver_inbound(&pnid, "6281234567890", "Ana",
            json!({"type": "image", "image": {"id": media, "mime_type": "image/png", "caption": "my receipt"}}))
        .await
        .unwrap();
    assert_eq!(status, 200);
    let stored = wait_stored(&app, &wamid).await;
    let (_, m) = app
        .get(
            &t.token,
            &format!("/api/v1/messages/{}", stored["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(m["type"], "image", "{m}");
    let media_id = m["body"]["media_id"].as_str().expect("the media was kept");
    let bytes = app
        .client
        .get(app.url(&format!("/api/v1/media/{media_id}")))
        .bearer_auth(&t.token)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(bytes.to_vec(), png);
    app.finish().await;
}
