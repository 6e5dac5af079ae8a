//! Outgoing webhooks end to end: a receiver on a local port records every
//! request, and the `standardwebhooks` npm package (an implementation
//! independent of ours) verifies the signatures. Covers delivery of a
//! sandbox message, retries in order, secret rotation, SSRF refusal, the
//! delivery log with replays, disabling after the failure window, and
//! events committed around a SIGKILL of `blazz serve`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use blazz::config::Config;
use blazz::jobs::Registry;
use serde_json::{json, Value};

use crate::helpers::{assert_error, TestApp, TestDb};
use crate::numbers::connected_account;
use crate::restart::{cli_token, link_number, Serve};

const CUSTOMER: &str = "+14155552671";

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Hit {
    pub path: String,
    pub headers: HashMap<String, String>,
    pub body: String,
    /// What the receiver answered.
    pub status: u16,
}

impl Hit {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }

    fn text(&self) -> String {
        self.json()["data"]["body"]["text"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    fn header(&self, name: &str) -> &str {
        self.headers.get(name).map(String::as_str).unwrap_or("")
    }
}

#[derive(Clone, Default)]
struct Shared {
    hits: Arc<Mutex<Vec<Hit>>>,
    /// Requests to fail (503) before answering 200 again.
    fail_next: Arc<AtomicUsize>,
    /// While set, every request fails (500, with a 5,000-byte body).
    down: Arc<AtomicBool>,
}

/// A webhook receiver on 127.0.0.1. Paths choose answers: `/gone...` is
/// 410, `/abort...` 500 with `webhook-delivery: abort-message`; anything
/// else is 200 unless the receiver is down or told to fail.
pub struct Receiver {
    addr: SocketAddr,
    shared: Shared,
    task: tokio::task::JoinHandle<()>,
}

async fn receive(State(s): State<Shared>, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let path = uri.path().to_string();
    let (status, extra, text): (StatusCode, Option<(&str, &str)>, String) =
        if path.starts_with("/gone") {
            (StatusCode::GONE, None, "gone".into())
        } else if path.starts_with("/abort") {
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Some(("webhook-delivery", "abort-message")),
                "stop".into(),
            )
        } else if s.down.load(Ordering::SeqCst) {
            (StatusCode::INTERNAL_SERVER_ERROR, None, "x".repeat(5000))
        } else if s
            .fail_next
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            (StatusCode::SERVICE_UNAVAILABLE, None, "busy".into())
        } else {
            (StatusCode::OK, None, "thanks".into())
        };
    s.hits.lock().unwrap().push(Hit {
        path,
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
            .collect(),
        body: String::from_utf8(body.to_vec()).unwrap(),
        status: status.as_u16(),
    });
    let mut resp = (status, text).into_response();
    if let Some((k, v)) = extra {
        resp.headers_mut().insert(k, v.parse().unwrap());
    }
    resp
}

impl Receiver {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shared = Shared::default();
        let app = axum::Router::new()
            .fallback(receive)
            .with_state(shared.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Receiver { addr, shared, task }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn hits(&self) -> Vec<Hit> {
        self.shared.hits.lock().unwrap().clone()
    }

    fn fail_next(&self, n: usize) {
        self.shared.fail_next.store(n, Ordering::SeqCst);
    }

    fn set_down(&self, down: bool) {
        self.shared.down.store(down, Ordering::SeqCst);
    }

    /// Waits (up to 20 s) until the hits satisfy `done`.
    pub async fn wait(&self, what: &str, done: impl Fn(&[Hit]) -> bool) -> Vec<Hit> {
        for _ in 0..1000 {
            let hits = self.hits();
            if done(&hits) {
                return hits;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("the receiver never got {what}: {:#?}", self.hits());
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// For each hit, the indexes of the secrets under which the
/// `standardwebhooks` npm package accepts it.
pub fn verify(secrets: &[&str], hits: &[Hit]) -> Vec<Vec<usize>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/js");
    assert!(
        dir.join("node_modules/standardwebhooks").exists(),
        "the standardwebhooks package is missing: run `npm ci --prefix tests/js` (scripts/test does)"
    );
    let input = json!({
        "secrets": secrets,
        "requests": hits.iter().map(|h| json!({"headers": h.headers, "body": h.body})).collect::<Vec<_>>(),
    });
    let mut child = Command::new("node")
        .arg(dir.join("verify-webhook.js"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node (18+) must be installed for the webhook tests");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(input.to_string().as_bytes()).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "verify-webhook.js failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let results: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    results
        .iter()
        .map(|r| {
            r["verified_with"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i.as_u64().unwrap() as usize)
                .collect()
        })
        .collect()
}

/// An app that may send to 127.0.0.1 and retries quickly.
async fn app(tweak: impl FnOnce(&mut Config)) -> TestApp {
    TestApp::spawn_with(
        |c| {
            c.webhooks.allow_private_targets = true;
            // The tests poll the API often.
            c.limits.api_per_minute = 100_000;
            c.webhooks.retry_schedule_secs = vec![0.0, 0.05, 0.05, 0.05, 0.05, 0.05];
            c.sandbox.enforce_pacing = false;
            tweak(c);
        },
        Registry::builtin(),
    )
    .await
}

/// Creates an endpoint; its id and secret.
async fn create(app: &TestApp, token: &str, body: Value) -> (String, String) {
    let (status, w) = app.post(token, "/api/v1/webhooks", body).await;
    assert_eq!(status, 201, "{w}");
    (
        w["id"].as_str().unwrap().to_string(),
        w["secret"].as_str().unwrap().to_string(),
    )
}

async fn deliveries(app: &TestApp, token: &str, id: &str, query: &str) -> Vec<Value> {
    let (status, page) = app
        .get(token, &format!("/api/v1/webhooks/{id}/deliveries{query}"))
        .await;
    assert_eq!(status, 200, "{page}");
    page["data"].as_array().unwrap().clone()
}

/// Waits until the endpoint's deliveries satisfy `done`.
async fn wait_deliveries(
    app: &TestApp,
    token: &str,
    id: &str,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let mut last = Vec::new();
    for _ in 0..1000 {
        last = deliveries(app, token, id, "?limit=200").await;
        if done(&last) {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the deliveries never got there: {last:#?}");
}

/// A sandbox customer writes `text`; returns once the message is stored.
async fn inbound(app: &TestApp, token: &str, account: &str, text: &str, nth: usize) {
    let (status, b) = app
        .post(
            token,
            &format!("/api/v1/sandbox/accounts/{account}/inbound"),
            json!({"from": CUSTOMER, "text": text, "id": format!("WH-{text}"), "push_name": "Ana"}),
        )
        .await;
    assert_eq!(status, 202, "{b}");
    for _ in 0..500 {
        let (_, chats) = app.get(token, "/api/v1/chats").await;
        if let Some(chat) = chats["data"][0]["id"].as_str() {
            let (_, msgs) = app
                .get(token, &format!("/api/v1/chats/{chat}/messages"))
                .await;
            if msgs["data"].as_array().is_some_and(|d| d.len() >= nth) {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the inbound message {text} was never stored");
}

fn audit_actions(audit: &Value) -> Vec<String> {
    audit["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_sandbox_message_is_delivered_signed_and_verifies() {
    let app = app(|_| {}).await;
    let t = app.tenant("Hooks").await;
    let rx = Receiver::start().await;
    let (status, w) = app
        .post(
            &t.token,
            "/api/v1/webhooks",
            json!({"url": rx.url("/ok/inbox"), "events": ["message.created"], "description": "CRM"}),
        )
        .await;
    assert_eq!(status, 201, "{w}");
    let id = w["id"].as_str().unwrap().to_string();
    let secret = w["secret"].as_str().unwrap().to_string();
    let raw = data_encoding::BASE64
        .decode(secret.strip_prefix("whsec_").unwrap().as_bytes())
        .unwrap();
    assert!((24..=64).contains(&raw.len()), "{secret}");
    assert_eq!(w["events"], json!(["message.created"]));
    assert_eq!(w["enabled"], true);
    // The secret is shown once.
    let (_, got) = app.get(&t.token, &format!("/api/v1/webhooks/{id}")).await;
    assert!(got.get("secret").is_none(), "{got}");
    assert_eq!(got["description"], "CRM");
    let (_, list) = app.get(&t.token, "/api/v1/webhooks").await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    assert!(!list.to_string().contains(&secret));

    let account = connected_account(&app, &t.token).await;
    inbound(&app, &t.token, &account, "Where is my order?", 1).await;
    let hits = rx.wait("the message", |h| !h.is_empty()).await;
    let hit = &hits[0];
    assert_eq!(hit.path, "/ok/inbox");
    let body = hit.json();
    assert_eq!(body["type"], "message.created");
    assert_eq!(body["data"]["body"]["text"], "Where is my order?");
    assert_eq!(body["data"]["direction"], "in");
    assert_eq!(body["data"]["contact"]["phone"], CUSTOMER);
    assert!(chrono::DateTime::parse_from_rfc3339(body["timestamp"].as_str().unwrap()).is_ok());
    assert!(hit.header("webhook-id").starts_with("msg_"), "{hit:?}");
    let ts: i64 = hit.header("webhook-timestamp").parse().unwrap();
    assert!((ts - chrono::Utc::now().timestamp()).abs() < 60);
    assert_eq!(hit.header("content-type"), "application/json");
    assert!(hit.header("user-agent").contains("Blazz"), "{hit:?}");
    assert!(hit.header("webhook-signature").starts_with("v1,"));

    // The independent verifier accepts it, and would catch a wrong one.
    assert_eq!(verify(&[&secret], &hits[..1]), [vec![0]]);
    let mut tampered = hit.clone();
    tampered.body = tampered
        .body
        .replace("Where is my order?", "Where is my refund?");
    let other = blazz::webhooks::signing::generate();
    assert_eq!(
        verify(&[&secret, &other], &[tampered]),
        [Vec::<usize>::new()]
    );
    assert_eq!(verify(&[&other], &hits[..1]), [Vec::<usize>::new()]);

    let log = wait_deliveries(&app, &t.token, &id, |d| {
        d.first().is_some_and(|d| d["state"] == "delivered")
    })
    .await;
    assert_eq!(
        log.len(),
        1,
        "only message.created was subscribed: {log:#?}"
    );
    let d = &log[0];
    assert_eq!(d["event_type"], "message.created");
    assert_eq!(d["attempts"], 1);
    assert_eq!(d["status_code"], 200);
    assert_eq!(d["response"], "thanks");
    assert!(d["latency_ms"].as_i64().unwrap() >= 0);
    assert!(d["event_seq"].as_i64().is_some());
    assert_eq!(d["message_id"], hit.header("webhook-id"));
    assert_eq!(d["payload"], body);
    assert!(d["next_attempt_at"].is_null());
    assert!(rx
        .hits()
        .iter()
        .all(|h| h.json()["type"] == "message.created"));

    let (_, audit) = app.get(&t.token, "/api/v1/audit").await;
    assert!(audit_actions(&audit).contains(&"webhook.created".to_string()));
    // The secret is sealed at rest.
    let sealed: Vec<(String,)> = sqlx::query_as("SELECT sealed FROM secrets WHERE owner_id = $1")
        .bind(&id)
        .fetch_all(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(sealed.len(), 1);
    assert!(!sealed[0].0.contains(secret.trim_start_matches("whsec_")));
    app.finish().await;
}

#[tokio::test]
async fn a_failing_receiver_gets_retries_and_events_stay_in_order() {
    let app = app(|_| {}).await;
    let t = app.tenant("Order").await;
    let rx = Receiver::start().await;
    let (id, secret) = create(
        &app,
        &t.token,
        json!({"url": rx.url("/ok/order"), "events": ["message.created"]}),
    )
    .await;
    let account = connected_account(&app, &t.token).await;
    rx.fail_next(3);
    for (n, text) in ["one", "two", "three"].iter().enumerate() {
        inbound(&app, &t.token, &account, text, n + 1).await;
    }
    let hits = rx
        .wait("three deliveries", |h| {
            h.iter().filter(|h| h.status == 200).count() >= 3
        })
        .await;
    let texts: Vec<String> = hits.iter().map(Hit::text).collect();
    assert_eq!(
        texts,
        ["one", "one", "one", "one", "two", "three"],
        "{hits:#?}"
    );
    let statuses: Vec<u16> = hits.iter().map(|h| h.status).collect();
    assert_eq!(statuses, [503, 503, 503, 200, 200, 200]);
    // One webhook-id across the retries of one event, another per event.
    let ids: Vec<&str> = hits.iter().map(|h| h.header("webhook-id")).collect();
    assert!(ids[..4].iter().all(|i| *i == ids[0]));
    assert!(ids[4] != ids[0] && ids[5] != ids[4] && ids[5] != ids[0]);
    assert!(verify(&[&secret], &hits).iter().all(|v| v == &[0]));

    let log = wait_deliveries(&app, &t.token, &id, |d| {
        d.len() == 3 && d.iter().all(|d| d["state"] == "delivered")
    })
    .await;
    let attempts: Vec<i64> = log
        .iter()
        .map(|d| d["attempts"].as_i64().unwrap())
        .collect();
    assert_eq!(attempts, [1, 1, 4], "newest first");
    app.finish().await;
}

#[tokio::test]
async fn a_rotated_secret_signs_beside_the_old_one_during_the_overlap() {
    let app = app(|c| c.webhooks.rotation_overlap_secs = 2).await;
    let t = app.tenant("Rotate").await;
    let rx = Receiver::start().await;
    let (id, old) = create(&app, &t.token, json!({"url": rx.url("/ok/rot")})).await;
    let ping = |n: usize| {
        let (app, token, id, rx) = (&app, &t.token, &id, &rx);
        async move {
            let (status, d) = app
                .post(token, &format!("/api/v1/webhooks/{id}/test"), json!({}))
                .await;
            assert_eq!(status, 202, "{d}");
            assert_eq!(d["event_type"], "webhook.test");
            rx.wait("the ping", |h| h.len() >= n).await[n - 1].clone()
        }
    };
    let first = ping(1).await;
    assert_eq!(first.json()["type"], "webhook.test");
    assert_eq!(first.header("webhook-signature").split(' ').count(), 1);

    let (status, w) = app
        .post(
            &t.token,
            &format!("/api/v1/webhooks/{id}/rotate-secret"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{w}");
    let new = w["secret"].as_str().unwrap().to_string();
    assert!(new.starts_with("whsec_") && new != old);
    assert!(w["previous_secret_expires_at"].is_string(), "{w}");
    let during = ping(2).await;
    assert_eq!(during.header("webhook-signature").split(' ').count(), 2);
    // Receivers holding either secret accept it.
    assert_eq!(
        verify(&[&old, &new], &[first.clone(), during.clone()]),
        [vec![0], vec![0, 1]]
    );

    tokio::time::sleep(Duration::from_millis(2200)).await;
    let after = ping(3).await;
    assert_eq!(after.header("webhook-signature").split(' ').count(), 1);
    assert_eq!(verify(&[&old, &new], &[after]), [vec![1]]);
    let (_, w) = app.get(&t.token, &format!("/api/v1/webhooks/{id}")).await;
    assert!(w["previous_secret_expires_at"].is_null(), "{w}");
    assert!(w["secret_rotated_at"].is_string());
    let (_, audit) = app.get(&t.token, "/api/v1/audit").await;
    assert!(audit_actions(&audit).contains(&"webhook.secret_rotated".to_string()));
    app.finish().await;
}

#[tokio::test]
async fn private_targets_are_refused_by_default() {
    // The default configuration, but for the API rate limit.
    let app = TestApp::spawn_with(|c| c.limits.api_per_minute = 100_000, Registry::builtin()).await;
    let t = app.tenant("Guard").await;
    let rx = Receiver::start().await;
    let port = rx.addr.port();
    for url in [
        format!("http://127.0.0.1:{port}/"),
        format!("http://localhost:{port}/"),
        "http://10.0.0.1/".into(),
        "http://169.254.169.254/latest/meta-data".into(),
        "http://100.64.0.1/".into(),
        "http://192.168.1.1/".into(),
        "http://0.0.0.0/".into(),
        "http://224.0.0.1/".into(),
        "http://[::1]/".into(),
        "http://[::ffff:127.0.0.1]/".into(),
        "http://[fd00::1]/".into(),
        "http://2130706433/".into(),
    ] {
        let answer = app
            .post(&t.token, "/api/v1/webhooks", json!({"url": url}))
            .await;
        assert_error(&answer, 422, "url_not_allowed");
    }
    for url in [
        "ftp://example.com/",
        "https://user:pw@example.com/",
        "not a url",
        "",
    ] {
        let answer = app
            .post(&t.token, "/api/v1/webhooks", json!({"url": url}))
            .await;
        assert_error(&answer, 422, "invalid_url");
    }
    let answer = app
        .post(&t.token, "/api/v1/webhooks", json!({"events": ["*"]}))
        .await;
    assert_error(&answer, 422, "invalid_url");
    for events in [json!(["message.exploded"]), json!([])] {
        let answer = app
            .post(
                &t.token,
                "/api/v1/webhooks",
                json!({"url": "https://93.184.216.34/hook", "events": events}),
            )
            .await;
        assert_error(&answer, 422, "invalid_events");
    }
    // A public address is fine (nothing is sent to it here).
    let (id, _) = create(&app, &t.token, json!({"url": "https://93.184.216.34/hook"})).await;
    let answer = app
        .patch(
            &t.token,
            &format!("/api/v1/webhooks/{id}"),
            json!({"url": format!("http://127.0.0.1:{port}/")}),
        )
        .await;
    assert_error(&answer, 422, "url_not_allowed");

    // Checked again at delivery: a stored URL that points inside (by
    // address, or by a name that resolves inside) is never connected to.
    let (by_name, _) = create(&app, &t.token, json!({"url": "https://93.184.216.34/a"})).await;
    for (endpoint, url) in [
        (&id, format!("http://127.0.0.1:{port}/inside")),
        (&by_name, format!("http://localhost:{port}/inside")),
    ] {
        sqlx::query("UPDATE webhook_endpoints SET url = $1 WHERE id = $2")
            .bind(&url)
            .bind(endpoint)
            .execute(&app.db.pool)
            .await
            .unwrap();
        let (status, _) = app
            .post(
                &t.token,
                &format!("/api/v1/webhooks/{endpoint}/test"),
                json!({}),
            )
            .await;
        assert_eq!(status, 202);
        let log = wait_deliveries(&app, &t.token, endpoint, |d| {
            d.first().is_some_and(|d| d["attempts"] == 1)
        })
        .await;
        let error = log[0]["error"].as_str().unwrap();
        assert!(error.contains("url_not_allowed"), "{url}: {error}");
        assert!(log[0]["status_code"].is_null());
    }
    assert!(rx.hits().is_empty(), "{:?}", rx.hits());
    app.finish().await;
}

#[tokio::test]
async fn deliveries_are_logged_and_replayed() {
    let app = app(|c| c.webhooks.retry_schedule_secs = vec![0.0, 0.05]).await;
    let t = app.tenant("Replay").await;
    let rx = Receiver::start().await;
    rx.set_down(true);
    let (id, secret) = create(&app, &t.token, json!({"url": rx.url("/flaky")})).await;
    for _ in 0..3 {
        let (status, _) = app
            .post(&t.token, &format!("/api/v1/webhooks/{id}/test"), json!({}))
            .await;
        assert_eq!(status, 202);
    }
    let log = wait_deliveries(&app, &t.token, &id, |d| {
        d.len() == 3 && d.iter().all(|d| d["state"] == "failed")
    })
    .await;
    for d in &log {
        assert_eq!(d["attempts"], 2, "{d}");
        assert_eq!(d["status_code"], 500);
        assert_eq!(d["error"], "the endpoint answered 500");
        assert_eq!(
            d["response"].as_str().unwrap(),
            "x".repeat(1024),
            "1 KiB kept"
        );
        assert!(d["next_attempt_at"].is_null());
    }
    assert_eq!(rx.hits().len(), 6);

    // Pages and filters.
    let (_, page) = app
        .get(
            &t.token,
            &format!("/api/v1/webhooks/{id}/deliveries?limit=2"),
        )
        .await;
    assert_eq!(page["data"].as_array().unwrap().len(), 2);
    let cursor = page["next_cursor"].as_str().unwrap();
    let (_, rest) = app
        .get(
            &t.token,
            &format!("/api/v1/webhooks/{id}/deliveries?limit=2&cursor={cursor}"),
        )
        .await;
    assert_eq!(rest["data"][0]["id"], log[2]["id"]);
    assert!(rest["next_cursor"].is_null());
    assert!(deliveries(&app, &t.token, &id, "?state=delivered")
        .await
        .is_empty());
    let answer = app
        .get(
            &t.token,
            &format!("/api/v1/webhooks/{id}/deliveries?state=lost"),
        )
        .await;
    assert_error(&answer, 422, "invalid_query");

    // One replay: the oldest, with its webhook-id.
    rx.set_down(false);
    let oldest = &log[2];
    let (status, d) = app
        .post(
            &t.token,
            &format!(
                "/api/v1/webhooks/{id}/deliveries/{}/replay",
                oldest["id"].as_str().unwrap()
            ),
            json!({}),
        )
        .await;
    assert_eq!(status, 202, "{d}");
    assert_eq!(
        (d["state"].as_str(), d["attempts"].as_i64()),
        (Some("pending"), Some(0))
    );
    let hits = rx
        .wait("the replay", |h| h.iter().any(|h| h.status == 200))
        .await;
    let ok = hits.iter().find(|h| h.status == 200).unwrap();
    assert_eq!(
        ok.header("webhook-id"),
        oldest["message_id"].as_str().unwrap()
    );

    // Then every failure since an hour ago.
    let since = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    let (status, r) = app
        .post(
            &t.token,
            &format!("/api/v1/webhooks/{id}/replay"),
            json!({"since": since}),
        )
        .await;
    assert_eq!(status, 202, "{r}");
    assert_eq!(r["replayed"], 2);
    let log = wait_deliveries(&app, &t.token, &id, |d| {
        d.iter().all(|d| d["state"] == "delivered")
    })
    .await;
    assert!(log
        .iter()
        .all(|d| d["attempts"] == 1 && d["status_code"] == 200));
    let hits = rx.hits();
    assert_eq!(hits.iter().filter(|h| h.status == 200).count(), 3);
    assert!(verify(&[&secret], &hits).iter().all(|v| v == &[0]));

    let answer = app
        .post(
            &t.token,
            &format!("/api/v1/webhooks/{id}/replay"),
            json!({"since": "yesterday"}),
        )
        .await;
    assert_error(&answer, 422, "invalid_since");
    let unknown = blazz_domain::UserId::new();
    let answer = app
        .post(
            &t.token,
            &format!("/api/v1/webhooks/{id}/deliveries/{unknown}/replay"),
            json!({}),
        )
        .await;
    assert_error(&answer, 404, "delivery_not_found");
    let answer = app
        .get(&t.token, &format!("/api/v1/webhooks/{unknown}"))
        .await;
    assert_error(&answer, 404, "webhook_not_found");
    let agent = app.token(t.id, blazz_domain::Role::Agent).await;
    assert_error(&app.get(&agent, "/api/v1/webhooks").await, 403, "forbidden");
    let (status, _) = app
        .delete(&t.token, &format!("/api/v1/webhooks/{id}"))
        .await;
    assert_eq!(status, 204);
    let answer = app
        .get(&t.token, &format!("/api/v1/webhooks/{id}/deliveries"))
        .await;
    assert_error(&answer, 404, "webhook_not_found");
    app.finish().await;
}

#[tokio::test]
async fn an_endpoint_failing_past_the_window_is_disabled() {
    let app = app(|c| {
        c.webhooks.retry_schedule_secs = vec![0.0, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3];
        c.webhooks.disable_after_secs = 1;
    })
    .await;
    let t = app.tenant("Disable").await;
    let rx = Receiver::start().await;
    rx.set_down(true);
    let (id, _) = create(&app, &t.token, json!({"url": rx.url("/flaky")})).await;
    let (status, _) = app
        .post(&t.token, &format!("/api/v1/webhooks/{id}/test"), json!({}))
        .await;
    assert_eq!(status, 202);
    let mut w = Value::Null;
    for _ in 0..500 {
        w = app.get(&t.token, &format!("/api/v1/webhooks/{id}")).await.1;
        if w["enabled"] == false {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(w["enabled"], false, "{w}");
    assert!(
        w["disabled_reason"].as_str().unwrap().contains("failed"),
        "{w}"
    );
    let attempts = rx.hits().len();
    assert!(
        (4..9).contains(&attempts),
        "disabled after about a second: {attempts}"
    );
    let log = deliveries(&app, &t.token, &id, "").await;
    assert_eq!(log[0]["state"], "failed");
    let (_, audit) = app.get(&t.token, "/api/v1/audit").await;
    let entry = audit["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "webhook.disabled")
        .expect("the disabling is audited")
        .clone();
    assert_eq!(entry["actor_kind"], "system", "{entry}");
    let (events,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM outbox WHERE kind = 'webhook.disabled'")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(events, 1);
    let answer = app
        .post(&t.token, &format!("/api/v1/webhooks/{id}/test"), json!({}))
        .await;
    assert_error(&answer, 409, "webhook_disabled");

    // Enabled again, it delivers.
    rx.set_down(false);
    let (status, w) = app
        .patch(
            &t.token,
            &format!("/api/v1/webhooks/{id}"),
            json!({"enabled": true}),
        )
        .await;
    assert_eq!(status, 200, "{w}");
    assert!(w["failing_since"].is_null() && w["disabled_reason"].is_null());
    app.post(&t.token, &format!("/api/v1/webhooks/{id}/test"), json!({}))
        .await;
    rx.wait("a delivery", |h| h.iter().any(|h| h.status == 200))
        .await;

    // 410 Gone disables at once; an abort header ends one delivery only.
    let (gone, _) = create(&app, &t.token, json!({"url": rx.url("/gone")})).await;
    let (abort, _) = create(&app, &t.token, json!({"url": rx.url("/abort")})).await;
    for endpoint in [&gone, &abort] {
        app.post(
            &t.token,
            &format!("/api/v1/webhooks/{endpoint}/test"),
            json!({}),
        )
        .await;
        wait_deliveries(&app, &t.token, endpoint, |d| {
            d.first().is_some_and(|d| d["state"] == "failed")
        })
        .await;
    }
    let (_, g) = app.get(&t.token, &format!("/api/v1/webhooks/{gone}")).await;
    assert_eq!(g["enabled"], false);
    assert!(g["disabled_reason"].as_str().unwrap().contains("410"));
    let (_, a) = app
        .get(&t.token, &format!("/api/v1/webhooks/{abort}"))
        .await;
    assert_eq!(a["enabled"], true);
    assert_eq!(
        deliveries(&app, &t.token, &abort, "").await[0]["attempts"],
        1
    );
    app.finish().await;
}

#[tokio::test]
async fn no_event_is_lost_when_serve_is_killed() {
    let testdb = TestDb::new().await;
    let url = testdb.url.clone();
    let dir = testdb.dir.path().to_path_buf();
    let db = testdb.connect().await;
    let token = cli_token(&url);
    let rx = Receiver::start().await;
    let env = [
        ("BLAZZ_WEBHOOKS__ALLOW_PRIVATE_TARGETS", "true".to_string()),
        (
            "BLAZZ_WEBHOOKS__RETRY_SCHEDULE_SECS",
            "[0.0, 0.2, 0.5, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]".to_string(),
        ),
        ("BLAZZ_JOBS__POLL_MS", "20".to_string()),
        ("BLAZZ_OUTBOX__POLL_MS", "20".to_string()),
    ];
    let serve = Serve::start_with(&url, &dir, &env).await;
    let post = reqwest::Method::POST;
    let (status, w) = serve
        .call(
            &token,
            post.clone(),
            "/api/v1/webhooks",
            json!({"url": rx.url("/ok/restart"), "events": ["message.created"]}),
        )
        .await;
    assert_eq!(status, 201, "{w}");
    let (id, secret) = (
        w["id"].as_str().unwrap().to_string(),
        w["secret"].as_str().unwrap().to_string(),
    );
    let (_, ws) = serve
        .call(
            &token,
            reqwest::Method::GET,
            "/api/v1/workspace",
            json!(null),
        )
        .await;
    let ws: blazz_domain::WorkspaceId = ws["id"].as_str().unwrap().parse().unwrap();
    let account = link_number(&serve, &token).await;
    serve.wait_status(&token, &account, "connected").await;

    // The receiver is down: the first messages are stored, their
    // deliveries pending (some perhaps not even created), when serve dies.
    rx.set_down(true);
    for i in 1..=5 {
        let (status, b) = serve
            .call(
                &token,
                post.clone(),
                &format!("/api/v1/sandbox/accounts/{account}/inbound"),
                json!({"from": CUSTOMER, "text": format!("before-{i}"), "id": format!("K{i}")}),
            )
            .await;
        assert_eq!(status, 202, "{b}");
    }
    for _ in 0..500 {
        let (n,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM outbox WHERE kind = 'message.received'")
                .fetch_one(&db.pool)
                .await
                .unwrap();
        if n == 5 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    serve.kill();

    // Committed while no serve runs (by another instance, say). The first
    // is not published yet; the others were published to the bus (which
    // forgot them with the process) but never turned into deliveries: only
    // a fan-out that reads the store finds those.
    {
        let mut conn = db.pool.acquire().await.unwrap();
        for i in 1..=3 {
            let seq = blazz_store::outbox::append(
                &mut conn,
                Some(ws),
                "message.received",
                &json!({"id": format!("down-{i}"), "direction": "in", "body": {"text": format!("while-down-{i}")}}),
            )
            .await
            .unwrap();
            if i > 1 {
                blazz_store::outbox::mark_published(&mut conn, &[seq])
                    .await
                    .unwrap();
            }
        }
    }
    rx.set_down(false);
    let serve = Serve::start_with(&url, &dir, &env).await;
    let want: Vec<String> = (1..=5)
        .map(|i| format!("before-{i}"))
        .chain((1..=3).map(|i| format!("while-down-{i}")))
        .collect();
    let hits = rx
        .wait("every event", |h| {
            want.iter()
                .all(|w| h.iter().any(|h| h.status == 200 && h.text() == *w))
        })
        .await;
    assert!(verify(&[&secret], &hits).iter().all(|v| v == &[0]));
    // In order: each event's first success comes after the previous one's.
    let delivered: Vec<String> = hits
        .iter()
        .filter(|h| h.status == 200)
        .map(Hit::text)
        .collect();
    let mut firsts: Vec<&String> = Vec::new();
    for t in &delivered {
        if !firsts.contains(&t) {
            firsts.push(t);
        }
    }
    assert_eq!(firsts, want.iter().collect::<Vec<_>>(), "{delivered:?}");
    let mut log = Value::Null;
    for _ in 0..500 {
        log = serve
            .call(
                &token,
                reqwest::Method::GET,
                &format!("/api/v1/webhooks/{id}/deliveries?limit=200"),
                json!(null),
            )
            .await
            .1;
        if log["data"]
            .as_array()
            .is_some_and(|d| d.iter().all(|d| d["state"] == "delivered"))
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let log = log["data"].as_array().unwrap();
    assert_eq!(log.len(), 8, "one delivery per event, none twice: {log:#?}");
    assert!(log.iter().all(|d| d["state"] == "delivered"), "{log:#?}");
    serve.kill();
    db.close().await;
    testdb.drop_schema().await;
}
