//! Cloud API numbers against a fake Graph API on a local port: creation
//! (validated, credentials sealed and never shown), connecting without a
//! QR code, "test connection", a refused token and a new one, the 24-hour
//! window, and what each class of Meta error does.

use std::time::Duration;

use blazz::jobs::Registry;
use blazz_cloud::fake::FakeGraph;
use serde_json::{json, Value};

use crate::helpers::{assert_error, TestApp};
use crate::numbers::wait_status;

/// The app, pointed at a fresh fake Graph API that posts its webhooks back.
pub async fn spawn() -> (TestApp, FakeGraph) {
    let fake = FakeGraph::start().await.unwrap();
    let url = fake.base_url();
    let app = TestApp::spawn_with(
        move |c| {
            c.cloud.graph_url = url;
        },
        Registry::builtin(),
    )
    .await;
    fake.set_webhook_url(app.url("/webhooks/meta"));
    (app, fake)
}

pub fn cloud_body(fake: &FakeGraph) -> Value {
    let c = fake.credentials();
    json!({
        "phone_number_id": c.phone_number_id,
        "business_account_id": c.business_account_id,
        "access_token": c.access_token,
        "app_secret": c.app_secret,
        "verify_token": c.verify_token,
    })
}

/// The fake's default number, created and connected; its account id.
pub async fn cloud_number(app: &TestApp, token: &str, fake: &FakeGraph) -> String {
    let (status, a) = app
        .post(
            token,
            "/api/v1/accounts",
            json!({"provider": "cloud", "name": "Cloud line", "cloud": cloud_body(fake)}),
        )
        .await;
    assert_eq!(status, 201, "{a}");
    let id = a["id"].as_str().unwrap().to_string();
    wait_status(app, token, &id, "connected").await;
    id
}

pub const CUSTOMER: &str = "+6281234567890";

/// The contact writes to the number (opening the 24-hour window); waits
/// until the message is stored. Its wamid.
pub async fn customer_writes(app: &TestApp, fake: &FakeGraph, text: &str) -> String {
    let pnid = fake.credentials().phone_number_id;
    let (wamid, status) = fake
        .deliver_inbound(
            &pnid,
            CUSTOMER.trim_start_matches('+'),
            "Ana",
            json!({"type": "text", "text": {"body": text}}),
        )
        .await
        .unwrap();
    assert_eq!(status, 200);
    wait_stored(app, &wamid).await;
    wamid
}

/// Waits until a message with this provider id is stored.
pub async fn wait_stored(app: &TestApp, wamid: &str) -> Value {
    for _ in 0..500 {
        let row: Option<(String, String)> =
            sqlx::query_as("SELECT id, status FROM messages WHERE provider_message_id = $1")
                .bind(wamid)
                .fetch_optional(&app.db.pool)
                .await
                .unwrap();
        if let Some((id, status)) = row {
            return json!({"id": id, "status": status});
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("message {wamid} was never stored");
}

/// Polls a message until its status is `want`.
pub async fn wait_message(app: &TestApp, token: &str, id: &str, want: &str) -> Value {
    let mut last = Value::Null;
    for _ in 0..500 {
        let (status, m) = app.get(token, &format!("/api/v1/messages/{id}")).await;
        assert_eq!(status, 200, "{m}");
        if m["status"] == want {
            return m;
        }
        last = m;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("message {id} never reached {want}: {last}");
}

pub async fn send_text(app: &TestApp, token: &str, account: &str, text: &str) -> (u16, Value) {
    app.post(
        token,
        "/api/v1/messages",
        json!({"account_id": account, "to": CUSTOMER, "text": text}),
    )
    .await
}

#[tokio::test]
async fn a_cloud_number_connects_without_a_qr_code_and_never_shows_its_secrets() {
    let (app, fake) = spawn().await;
    let t = app.tenant("Acme").await;
    let id = cloud_number(&app, &t.token, &fake).await;
    let (status, a) = app.get(&t.token, &format!("/api/v1/accounts/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(a["provider"], "cloud");
    assert_eq!(a["phone"], "+15550783881");
    let creds = fake.credentials();
    assert_eq!(a["cloud"]["phone_number_id"], creds.phone_number_id);
    assert_eq!(a["cloud"]["business_account_id"], creds.business_account_id);
    assert_eq!(a["cloud"]["access_token_set"], true);
    assert_eq!(a["cloud"]["needs_reauth"], false);
    let (_, list) = app.get(&t.token, "/api/v1/accounts").await;
    for shown in [a.to_string(), list.to_string()] {
        for secret in [&creds.access_token, &creds.app_secret, &creds.verify_token] {
            assert!(
                !shown.contains(secret.as_str()),
                "a secret was shown: {shown}"
            );
        }
    }
    // Sealed at rest: no secret in the clear in the secrets table.
    let sealed: Vec<(String,)> = sqlx::query_as("SELECT sealed FROM secrets WHERE owner_id = $1")
        .bind(&id)
        .fetch_all(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(sealed.len(), 2, "the session's and the number's copies");
    for (s,) in sealed {
        assert!(!s.contains(&creds.access_token) && !s.contains(&creds.app_secret));
    }
    // No QR code for a Cloud number, and no linking by QR either.
    let (status, _) = app
        .get(&t.token, &format!("/api/v1/accounts/{id}/qr"))
        .await;
    assert_eq!(status, 404);
    let linked = app
        .post(&t.token, &format!("/api/v1/accounts/{id}/link"), json!({}))
        .await;
    assert_error(&linked, 422, "not_linkable");
    app.finish().await;
}

#[tokio::test]
async fn cloud_credentials_are_validated_with_clear_codes() {
    let (app, fake) = spawn().await;
    let t = app.tenant("Acme").await;
    let create = |cloud: Value| {
        let app = &app;
        let token = t.token.clone();
        async move {
            app.post(
                &token,
                "/api/v1/accounts",
                json!({"provider": "cloud", "name": "Cloud", "cloud": cloud}),
            )
            .await
        }
    };
    let missing = app
        .post(
            &t.token,
            "/api/v1/accounts",
            json!({"provider": "cloud", "name": "Cloud"}),
        )
        .await;
    assert_error(&missing, 422, "invalid_cloud_credentials");
    let mut no_token = cloud_body(&fake);
    no_token["access_token"] = json!("  ");
    let answer = create(no_token).await;
    assert_error(&answer, 422, "invalid_cloud_credentials");
    assert!(answer.1["error"]["message"]
        .as_str()
        .unwrap()
        .contains("access_token"));
    let mut not_numeric = cloud_body(&fake);
    not_numeric["phone_number_id"] = json!("+15550783881");
    assert_error(&create(not_numeric).await, 422, "invalid_cloud_credentials");
    let mut unknown_field = cloud_body(&fake);
    unknown_field["password"] = json!("x");
    assert_eq!(create(unknown_field).await.0, 422);
    let sandbox_with_cloud = app
        .post(
            &t.token,
            "/api/v1/accounts",
            json!({"provider": "sandbox", "name": "S", "cloud": cloud_body(&fake)}),
        )
        .await;
    assert_error(&sandbox_with_cloud, 422, "invalid_body");
    let (_, list) = app.get(&t.token, "/api/v1/accounts").await;
    assert_eq!(
        list["data"].as_array().unwrap().len(),
        0,
        "nothing was created"
    );
    app.finish().await;
}

#[tokio::test]
async fn test_connection_reports_a_refused_token_and_a_wrong_phone_number_id_in_metas_words() {
    let (app, fake) = spawn().await;
    let t = app.tenant("Acme").await;
    let id = cloud_number(&app, &t.token, &fake).await;
    let (status, ok) = app
        .post(&t.token, &format!("/api/v1/accounts/{id}/test"), json!({}))
        .await;
    assert_eq!(status, 200, "{ok}");
    assert_eq!(ok["ok"], true);
    assert_eq!(ok["phone_number"]["verified_name"], "Blazz Test");

    let pnid = fake.credentials().phone_number_id;
    fake.set_access_token(&pnid, "a-newer-token");
    let (_, bad) = app
        .post(&t.token, &format!("/api/v1/accounts/{id}/test"), json!({}))
        .await;
    assert_eq!(bad["ok"], false);
    assert_eq!(bad["problem"], "access_token_rejected");
    assert_eq!(bad["meta_error"]["code"], 190);
    assert_eq!(
        bad["meta_error"]["message"],
        "Invalid OAuth access token - Cannot parse access token"
    );

    let mut wrong = cloud_body(&fake);
    wrong["phone_number_id"] = json!("999999999");
    let (status, other) = app
        .post(
            &t.token,
            "/api/v1/accounts",
            json!({"provider": "cloud", "name": "Typo", "cloud": wrong}),
        )
        .await;
    assert_eq!(status, 201, "{other}");
    let other_id = other["id"].as_str().unwrap();
    let (_, answer) = app
        .post(
            &t.token,
            &format!("/api/v1/accounts/{other_id}/test"),
            json!({}),
        )
        .await;
    assert_eq!(answer["problem"], "phone_number_not_found", "{answer}");
    assert!(answer["meta_error"]["message"]
        .as_str()
        .unwrap()
        .contains("999999999"));
    // A sandbox number has nothing to test at Meta.
    let sandbox = crate::numbers::create_account(&app, &t.token, "Sandbox").await;
    let answer = app
        .post(
            &t.token,
            &format!("/api/v1/accounts/{sandbox}/test"),
            json!({}),
        )
        .await;
    assert_error(&answer, 422, "not_a_cloud_number");
    app.finish().await;
}

#[tokio::test]
async fn a_refused_token_needs_reauth_and_a_new_token_reconnects_the_number() {
    let (app, fake) = spawn().await;
    let t = app.tenant("Acme").await;
    let mut body = cloud_body(&fake);
    body["access_token"] = json!("an-expired-token");
    let (status, a) = app
        .post(
            &t.token,
            "/api/v1/accounts",
            json!({"provider": "cloud", "name": "Cloud", "cloud": body}),
        )
        .await;
    assert_eq!(status, 201, "{a}");
    let id = a["id"].as_str().unwrap().to_string();
    // It starts "not linked yet"; the session's first call to Meta is refused.
    let mut a = Value::Null;
    for _ in 0..500 {
        let (_, now) = app.get(&t.token, &format!("/api/v1/accounts/{id}")).await;
        a = now;
        if a["cloud"]["needs_reauth"] == true {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(a["status"], "logged_out", "{a}");
    assert_eq!(a["cloud"]["needs_reauth"], true, "{a}");
    assert!(a["status_reason"]
        .as_str()
        .unwrap()
        .contains("Meta error 190"));

    let patch = json!({"cloud": {"access_token": fake.credentials().access_token}});
    let (status, a) = app
        .patch(&t.token, &format!("/api/v1/accounts/{id}"), patch)
        .await;
    assert_eq!(status, 200, "{a}");
    let a = wait_status(&app, &t.token, &id, "connected").await;
    assert_eq!(a["cloud"]["needs_reauth"], false);
    assert_eq!(a["phone"], "+15550783881");
    app.finish().await;
}

#[tokio::test]
async fn free_form_messages_outside_the_24_hour_window_are_refused_before_meta_is_asked() {
    let (app, fake) = spawn().await;
    let t = app.tenant("Acme").await;
    let id = cloud_number(&app, &t.token, &fake).await;
    let refused = send_text(&app, &t.token, &id, "Hello there").await;
    assert_error(&refused, 409, "outside_customer_window");
    assert!(refused.1["error"]["message"]
        .as_str()
        .unwrap()
        .contains("template"));
    assert!(fake.sent().is_empty(), "Meta was asked anyway");
    let stored: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM messages")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(stored.0, 0, "a refused send is not stored");

    // Once the contact writes, the window is open.
    customer_writes(&app, &fake, "hi, is my order ready?").await;
    let (status, m) = send_text(&app, &t.token, &id, "Yes, it ships today").await;
    assert_eq!(status, 202, "{m}");
    let m = wait_message(&app, &t.token, m["id"].as_str().unwrap(), "sent").await;
    let sent = fake.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].body["text"]["body"], "Yes, it ships today");
    assert_eq!(m["provider_message_id"], sent[0].wamid);
    app.finish().await;
}

/// A send that Meta answers with `code`: the message as it ends, after the
/// customer opened the window.
async fn send_failing_with(
    code: i64,
    http: u16,
    message: &str,
) -> (TestApp, FakeGraph, String, String, Value) {
    let (app, fake) = spawn().await;
    let t = app.tenant("Acme").await;
    let id = cloud_number(&app, &t.token, &fake).await;
    customer_writes(&app, &fake, "hello").await;
    fake.fail_next_send(code, None, message, http);
    let (status, m) = send_text(&app, &t.token, &id, "An answer").await;
    assert_eq!(status, 202, "{m}");
    (app, fake, t.token, id, m)
}

#[tokio::test]
async fn rate_limits_and_transient_meta_errors_are_retried_until_sent() {
    for code in [130429, 131056, 131000, 4, 80007] {
        let (app, fake, token, _, m) =
            send_failing_with(code, 400, "(#130429) Rate limit hit").await;
        wait_message(&app, &token, m["id"].as_str().unwrap(), "sent").await;
        assert_eq!(
            fake.sent().len(),
            1,
            "code {code}: sent once, after the retry"
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn an_expired_token_fails_the_send_and_leaves_the_number_needing_new_credentials() {
    let (app, fake, token, id, m) = send_failing_with(
        190,
        401,
        "Error validating access token: Session has expired",
    )
    .await;
    let failed = wait_message(&app, &token, m["id"].as_str().unwrap(), "failed").await;
    assert!(
        failed["error"]
            .as_str()
            .unwrap()
            .contains("Session has expired"),
        "{failed}"
    );
    let a = wait_status(&app, &token, &id, "logged_out").await;
    assert_eq!(a["cloud"]["needs_reauth"], true, "{a}");
    assert!(fake.sent().is_empty());
    // Nothing more goes out until new credentials are given.
    let refused = send_text(&app, &token, &id, "again").await;
    assert_error(&refused, 409, "number_not_linked");
    app.finish().await;
}

#[tokio::test]
async fn outside_the_window_at_meta_fails_the_message_suggesting_a_template() {
    let (app, _fake, token, _, m) = send_failing_with(131047, 400, "Re-engagement message").await;
    let failed = wait_message(&app, &token, m["id"].as_str().unwrap(), "failed").await;
    let why = failed["error"].as_str().unwrap();
    assert!(
        why.contains("outside the 24-hour window; send a template"),
        "{why}"
    );
    assert!(
        why.contains("Meta error 131047: Re-engagement message"),
        "{why}"
    );
    app.finish().await;
}

#[tokio::test]
async fn a_contact_who_stopped_marketing_is_opted_out() {
    let (app, _fake, token, _, m) =
        send_failing_with(131050, 400, "Unable to deliver the message").await;
    wait_message(&app, &token, m["id"].as_str().unwrap(), "failed").await;
    let (_, contacts) = app.get(&token, "/api/v1/contacts").await;
    let ana = &contacts["data"][0];
    assert_eq!(ana["phone"], CUSTOMER);
    assert_eq!(ana["opted_out"], true, "{ana}");
    app.finish().await;
}

#[tokio::test]
async fn a_policy_block_pauses_the_number_and_raises_an_alert() {
    for code in [131048, 368, 131031] {
        let (app, fake, token, id, m) = send_failing_with(code, 400, "Spam rate limit hit").await;
        let failed = wait_message(&app, &token, m["id"].as_str().unwrap(), "failed").await;
        assert!(failed["error"]
            .as_str()
            .unwrap()
            .contains(&format!("Meta error {code}")));
        let (_, a) = app.get(&token, &format!("/api/v1/accounts/{id}")).await;
        assert_eq!(a["cloud"]["sending_paused"], true, "{a}");
        let alerts: Vec<(String,)> =
            sqlx::query_as("SELECT payload FROM outbox WHERE kind = 'account.sending_paused'")
                .fetch_all(&app.db.pool)
                .await
                .unwrap();
        assert_eq!(alerts.len(), 1);
        assert!(alerts[0].0.contains(&code.to_string()));
        let refused = send_text(&app, &token, &id, "more").await;
        assert_error(&refused, 409, "sending_paused");
        // An admin resumes it.
        let (status, a) = app
            .post(
                &token,
                &format!("/api/v1/accounts/{id}/resume-sending"),
                json!({}),
            )
            .await;
        assert_eq!(status, 200, "{a}");
        assert_eq!(a["cloud"]["sending_paused"], false);
        let (status, m) = send_text(&app, &token, &id, "back").await;
        assert_eq!(status, 202, "{m}");
        wait_message(&app, &token, m["id"].as_str().unwrap(), "sent").await;
        assert_eq!(fake.sent().len(), 1);
        app.finish().await;
    }
}

#[tokio::test]
async fn permanent_meta_errors_fail_the_message_with_metas_message_kept() {
    for code in [131026, 131051, 130497] {
        let (app, _fake, token, _, m) = send_failing_with(code, 400, "Message undeliverable").await;
        let failed = wait_message(&app, &token, m["id"].as_str().unwrap(), "failed").await;
        let why = failed["error"].as_str().unwrap();
        assert!(
            why.contains(&format!("[Meta error {code}: Message undeliverable")),
            "{why}"
        );
        app.finish().await;
    }
}
