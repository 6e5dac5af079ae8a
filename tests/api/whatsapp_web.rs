//! `web` numbers end to end: Blazz's HTTP API, the real `whatsapp-rust`
//! client inside Blazz, the offline WhatsApp server (`blazz-wa-fake`), and
//! a second real client as the customer's phone.

use std::sync::Arc;
use std::time::Duration;

use blazz_wa::WebOptions;
use blazz_wa_fake::FakeWhatsApp;
use serde_json::{json, Value};

use blazz::jobs::Registry;
use blazz::server::Prepare;
use blazz::state::AppState;

use crate::helpers::{Tenant, TestApp, TestDb};
use crate::numbers::wait_status;

const NUMBER: &str = "15550101010";
const CUSTOMER: &str = "15550202020";
const WAIT: Duration = Duration::from_secs(20);

/// Puts the offline server behind `web` numbers (before the app restores
/// any number).
fn connect(fake: &FakeWhatsApp) -> Prepare {
    let fake = fake.clone();
    Box::new(move |state: &AppState| {
        let options = WebOptions {
            transport: Some(Arc::new(fake.transport_factory())),
            http: Some(Arc::new(fake.http_client())),
            version: Some(FakeWhatsApp::VERSION),
            ..WebOptions::default()
        };
        let provider = blazz::sessions::web::provider(
            &state.db,
            state.keyring.clone(),
            &state.config.web,
            options,
        );
        state.sessions.install_provider(Arc::new(provider));
    })
}

async fn app_on(fake: &FakeWhatsApp) -> TestApp {
    TestApp::spawn_prepared(
        TestDb::new().await,
        // The tests poll the API often.
        |c| c.limits.api_per_minute = 100_000,
        Registry::builtin(),
        None,
        connect(fake),
    )
    .await
}

async fn new_number(app: &TestApp, t: &Tenant) -> String {
    let (status, a) = app
        .post(
            &t.token,
            "/api/v1/accounts",
            json!({"provider": "web", "name": "Shop"}),
        )
        .await;
    assert_eq!(status, 201, "{a}");
    a["id"].as_str().unwrap().to_string()
}

/// Polls `path` until `done` holds.
async fn wait_for(app: &TestApp, token: &str, path: &str, done: impl Fn(&Value) -> bool) -> Value {
    let mut last = Value::Null;
    for _ in 0..500 {
        let (status, v) = app.get(token, path).await;
        if status == 200 && done(&v) {
            return v;
        }
        last = v;
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
    panic!("{path} never got there: {last}");
}

/// Links a new `web` number by QR: the fake phone of `NUMBER` scans the
/// code Blazz shows.
async fn linked_by_qr(app: &TestApp, t: &Tenant, fake: &FakeWhatsApp) -> String {
    let id = new_number(app, t).await;
    let (status, a) = app
        .post(&t.token, &format!("/api/v1/accounts/{id}/link"), json!({}))
        .await;
    assert_eq!(status, 202, "{a}");
    let qr = wait_for(app, &t.token, &format!("/api/v1/accounts/{id}/qr"), |q| {
        q["code"].is_string()
    })
    .await;
    let code = qr["code"].as_str().unwrap();
    assert!(code.starts_with("2@"), "a WhatsApp QR payload: {code}");
    assert!(qr["svg"].as_str().unwrap().contains("<svg"));
    fake.scan_qr(NUMBER, code).await.unwrap();
    let a = wait_status(app, &t.token, &id, "connected").await;
    assert_eq!(a["phone"], format!("+{NUMBER}"));
    id
}

#[tokio::test]
async fn a_number_links_by_qr_and_comes_back_after_a_restart() {
    let fake = FakeWhatsApp::new();
    let app = app_on(&fake).await;
    let t = app.tenant("Qr").await;
    let id = linked_by_qr(&app, &t, &fake).await;
    assert_eq!(fake.linked_devices(NUMBER).len(), 1);

    // The device keys are in Blazz's store, sealed: a restart restores the
    // session with no new scan.
    let app = app
        .restart(|c| c.limits.api_per_minute = 100_000, connect(&fake))
        .await;
    let a = wait_status(&app, &t.token, &id, "connected").await;
    assert_eq!(a["phone"], format!("+{NUMBER}"));
    assert_eq!(
        fake.linked_devices(NUMBER).len(),
        1,
        "still one linked device"
    );
    app.finish().await;
}

#[tokio::test]
async fn a_number_links_by_pair_code() {
    let fake = FakeWhatsApp::new();
    let app = app_on(&fake).await;
    let t = app.tenant("PairCode").await;
    let id = new_number(&app, &t).await;
    let (status, a) = app
        .post(
            &t.token,
            &format!("/api/v1/accounts/{id}/link"),
            json!({"phone": format!("+{NUMBER}")}),
        )
        .await;
    assert_eq!(status, 202, "{a}");
    let code = a["pair_code"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("a pair code in {a}"))
        .to_string();
    assert_eq!(code.replace('-', "").len(), 8, "{code}");
    fake.enter_pair_code(NUMBER, &code).await.unwrap();
    let a = wait_status(&app, &t.token, &id, "connected").await;
    assert_eq!(a["phone"], format!("+{NUMBER}"));
    app.finish().await;
}

/// The messages of the one chat of `account`, once `done` holds.
async fn chat_messages(
    app: &TestApp,
    token: &str,
    done: impl Fn(&[Value]) -> bool,
) -> (String, Vec<Value>) {
    let chats = wait_for(app, token, "/api/v1/chats", |v| {
        v["data"].as_array().is_some_and(|d| !d.is_empty())
    })
    .await;
    let chat = chats["data"][0]["id"].as_str().unwrap().to_string();
    let msgs = wait_for(app, token, &format!("/api/v1/chats/{chat}/messages"), |v| {
        v["data"].as_array().is_some_and(|d| done(d))
    })
    .await;
    (chat, msgs["data"].as_array().unwrap().clone())
}

async fn wait_message(app: &TestApp, token: &str, id: &str, status: &str) -> Value {
    wait_for(app, token, &format!("/api/v1/messages/{id}"), |m| {
        m["status"] == status
    })
    .await
}

#[tokio::test]
async fn texts_and_images_go_both_ways_and_receipts_reach_read() {
    let fake = FakeWhatsApp::new();
    let app = app_on(&fake).await;
    let t = app.tenant("Talk").await;
    let account = linked_by_qr(&app, &t, &fake).await;
    let customer = fake.customer(CUSTOMER).await.unwrap();

    // In: a text, stored in the number's inbox under the customer's number.
    let sent_id = customer
        .send_text(NUMBER, "is my order ready?")
        .await
        .unwrap();
    let (chat, msgs) = chat_messages(&app, &t.token, |d| d.len() == 1).await;
    assert_eq!(msgs[0]["direction"], "in");
    assert_eq!(msgs[0]["body"]["text"], "is my order ready?");
    assert_eq!(msgs[0]["provider_message_id"], sent_id.as_str());
    let (_, c) = app.get(&t.token, &format!("/api/v1/chats/{chat}")).await;
    assert_eq!(c["account_id"], account.as_str());
    assert_eq!(c["contact"]["phone"], format!("+{CUSTOMER}"), "{c}");

    // Out: a reply, encrypted to the customer's device.
    let (status, m) = app
        .post(
            &t.token,
            &format!("/api/v1/chats/{chat}/messages"),
            json!({"text": "yes, pick it up at 5"}),
        )
        .await;
    assert_eq!(status, 202, "{m}");
    let ours = m["id"].as_str().unwrap().to_string();
    let got = customer.next_message(WAIT).await.unwrap();
    assert_eq!(got.text.as_deref(), Some("yes, pick it up at 5"));
    assert_eq!(got.from, NUMBER);
    wait_message(&app, &t.token, &ours, "delivered").await;
    customer
        .mark_read(NUMBER, std::slice::from_ref(&got.id))
        .await
        .unwrap();
    let read = wait_message(&app, &t.token, &ours, "read").await;
    assert_eq!(read["provider_message_id"], got.id.as_str());

    // An image in: its bytes kept in Blazz's media store.
    let jpeg: Vec<u8> = [&[0xFFu8, 0xD8, 0xFF, 0xE0][..], &[3u8; 300][..]].concat();
    customer
        .send_image(NUMBER, jpeg.clone(), "image/jpeg", Some("the box"))
        .await
        .unwrap();
    let (_, msgs) = chat_messages(&app, &t.token, |d| d.iter().any(|m| m["type"] == "image")).await;
    let photo = msgs.iter().find(|m| m["type"] == "image").unwrap();
    assert_eq!(photo["body"]["caption"], "the box");
    let media = photo["body"]["media_id"]
        .as_str()
        .expect("the photo was kept");
    let down = app
        .client
        .get(app.url(&format!("/api/v1/media/{media}")))
        .bearer_auth(&t.token)
        .send()
        .await
        .unwrap();
    assert_eq!(down.status().as_u16(), 200);
    assert_eq!(down.bytes().await.unwrap().to_vec(), jpeg);

    // An image out: uploaded through the crate, downloaded by the customer.
    let png: Vec<u8> = [&b"\x89PNG\r\n\x1a\n"[..], &[9u8; 200][..]].concat();
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
    let up: Value = up.json().await.unwrap();
    let (status, m) = app
        .post(
            &t.token,
            &format!("/api/v1/chats/{chat}/messages"),
            json!({"body": {"type": "image", "media_id": up["id"], "caption": "your label"}}),
        )
        .await;
    assert_eq!(status, 202, "{m}");
    let got = customer.next_message(WAIT).await.unwrap();
    assert_eq!(got.caption.as_deref(), Some("your label"));
    assert_eq!(got.image.as_deref(), Some(&png[..]));
    wait_message(&app, &t.token, m["id"].as_str().unwrap(), "delivered").await;

    customer.shutdown().await;
    app.finish().await;
}

#[tokio::test]
async fn a_dropped_connection_reconnects_and_a_temporary_ban_ends_the_session() {
    let fake = FakeWhatsApp::new();
    let app = app_on(&fake).await;
    let t = app.tenant("Rough").await;
    let id = linked_by_qr(&app, &t, &fake).await;

    // WhatsApp drops the socket: the number comes back by itself.
    fake.drop_connections(NUMBER).await;
    wait_status(&app, &t.token, &id, "connected").await;
    let customer = fake.customer(CUSTOMER).await.unwrap();
    customer.send_text(NUMBER, "still there?").await.unwrap();
    chat_messages(&app, &t.token, |d| d.len() == 1).await;

    // A temporary ban: `banned`, with how long it lasts.
    fake.temporary_ban(NUMBER, Duration::from_secs(3600)).await;
    let a = wait_status(&app, &t.token, &id, "banned").await;
    let reason = a["status_reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("temporarily banned") && reason.contains(" s, until "),
        "{a}"
    );
    customer.shutdown().await;
    app.finish().await;
}

#[tokio::test]
async fn an_unlink_from_the_phone_and_a_logout_from_blazz_both_end_the_link() {
    let fake = FakeWhatsApp::new();
    let app = app_on(&fake).await;
    let t = app.tenant("Unlink").await;
    let id = linked_by_qr(&app, &t, &fake).await;
    fake.unlink_devices(NUMBER).await;
    wait_status(&app, &t.token, &id, "logged_out").await;

    // Linked again, then logged out through the API: the phone's list of
    // linked devices is empty afterwards.
    let id = linked_by_qr(&app, &t, &fake).await;
    assert_eq!(fake.linked_devices(NUMBER).len(), 1);
    let (status, a) = app
        .post(
            &t.token,
            &format!("/api/v1/accounts/{id}/logout"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{a}");
    assert_eq!(a["status"], "logged_out");
    for _ in 0..100 {
        if fake.linked_devices(NUMBER).is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(fake.linked_devices(NUMBER).is_empty());
    app.finish().await;
}
