//! The transactional outbox: an event commits with its change or not at
//! all, and a committed event reaches the bus even if the process dies
//! before publishing it.

use std::sync::Arc;
use std::time::Duration;

use blazz::jobs::Registry;
use blazz_bus::{EventBus, InProcessBus};
use blazz_store::outbox;
use serde_json::json;

use crate::helpers::{TestApp, TestDb};

async fn next_event(sub: &mut blazz_bus::Subscription, kind: &str) -> Arc<blazz_bus::Event> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let e = tokio::time::timeout_at(deadline, sub.recv())
            .await
            .unwrap_or_else(|_| panic!("no {kind} event arrived"))
            .unwrap();
        if e.kind == kind {
            return e;
        }
    }
}

#[tokio::test]
async fn a_change_and_its_event_are_published_together() {
    let bus = Arc::new(InProcessBus::default());
    let mut sub = bus.subscribe();
    let app = TestApp::spawn_on(TestDb::new().await, |_| {}, Registry::builtin(), Some(bus)).await;
    let t = app.tenant("Outbox").await;
    let (status, inv) = app
        .post(
            &t.token,
            "/api/v1/invitations",
            json!({"email": "bo@example.com", "role": "agent"}),
        )
        .await;
    assert_eq!(status, 201);
    let e = next_event(&mut sub, "invitation.created").await;
    assert_eq!(e.workspace_id.as_deref(), Some(t.id.to_string().as_str()));
    assert_eq!(e.payload["target"]["id"], inv["id"]);
    assert_eq!(e.payload["details"]["email"], "bo@example.com");
    let mut conn = app.db.pool.acquire().await.unwrap();
    for _ in 0..100 {
        if outbox::is_published(&mut conn, e.seq).await.unwrap() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(outbox::is_published(&mut conn, e.seq).await.unwrap());
    drop(conn);
    app.finish().await;
}

#[tokio::test]
async fn events_are_published_in_commit_order() {
    let bus = Arc::new(InProcessBus::default());
    let mut sub = bus.subscribe();
    let app = TestApp::spawn_on(TestDb::new().await, |_| {}, Registry::builtin(), Some(bus)).await;
    let t = app.tenant("Order").await;
    for i in 0..5 {
        let (status, _) = app
            .patch(
                &t.token,
                "/api/v1/workspace",
                json!({"name": format!("Name {i}")}),
            )
            .await;
        assert_eq!(status, 200);
    }
    let mut names = Vec::new();
    let mut last_seq = 0;
    while names.len() < 5 {
        let e = next_event(&mut sub, "workspace.updated").await;
        assert!(e.seq > last_seq, "sequence went backwards");
        last_seq = e.seq;
        names.push(
            e.payload["details"]["name"]["to"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    assert_eq!(
        names,
        (0..5).map(|i| format!("Name {i}")).collect::<Vec<_>>()
    );
    app.finish().await;
}

#[tokio::test]
async fn a_rolled_back_change_leaves_no_event() {
    let app = TestApp::spawn().await;
    let t = app.tenant("Rollback").await;
    let (before,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM outbox")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    // The last owner cannot be demoted: the service fails inside its
    // transaction, and nothing of it, event included, is kept.
    let (_, members) = app.get(&t.token, "/api/v1/members").await;
    let owner = members["data"][0]["user_id"].as_str().unwrap().to_string();
    let answer = app
        .patch(
            &t.token,
            &format!("/api/v1/members/{owner}"),
            json!({"role": "agent"}),
        )
        .await;
    crate::helpers::assert_error(&answer, 409, "last_owner");
    let mut tx = app.db.begin().await.unwrap();
    outbox::append(&mut tx, Some(t.id), "test.never", &json!({}))
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    let (after,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM outbox")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(before, after);
    app.finish().await;
}

/// `blazz serve` runs with its dispatcher off (so the process is killed
/// after the commit and before any publish), the change is made through
/// the API, the process is killed with SIGKILL; the next start publishes
/// the event to a subscriber.
#[tokio::test]
async fn an_event_committed_before_a_kill_is_published_after_restart() {
    let testdb = TestDb::new().await;
    let url = testdb.url.clone();
    let db = testdb.connect().await;
    let blazz = env!("CARGO_BIN_EXE_blazz");
    let out = std::process::Command::new(blazz)
        .args([
            "user",
            "create",
            "--email",
            "kill@example.com",
            "--name",
            "Kill",
            "--workspace",
            "Kill Test",
        ])
        .env("BLAZZ_DATABASE_URL", &url)
        .env("BLAZZ_NEW_USER_PASSWORD", crate::helpers::PASSWORD)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = std::process::Command::new(blazz)
        .args([
            "token",
            "create",
            "--workspace",
            "kill-test",
            "--role",
            "owner",
            "--name",
            "t",
        ])
        .env("BLAZZ_DATABASE_URL", &url)
        .output()
        .unwrap();
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(token.starts_with("blz_"), "{token}");

    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut child = std::process::Command::new(blazz)
        .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
        .arg("--data-dir")
        .arg(testdb.dir.path())
        .env("BLAZZ_DATABASE_URL", &url)
        .env("BLAZZ_OUTBOX__DISPATCH", "false")
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let mut up = false;
    for _ in 0..250 {
        if client
            .get(format!("{base}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(up, "blazz serve did not start");
    let resp = client
        .post(format!("{base}/api/v1/invitations"))
        .bearer_auth(&token)
        .json(&json!({"email": "survivor@example.com", "role": "agent"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    child.kill().unwrap();
    child.wait().unwrap();

    let (seq,): (i64,) = sqlx::query_as(
        "SELECT id FROM outbox WHERE kind = 'invitation.created' AND published_at IS NULL",
    )
    .fetch_one(&db.pool)
    .await
    .expect("the committed event is in the outbox, unpublished");
    db.close().await;

    let bus = Arc::new(InProcessBus::default());
    let mut sub = bus.subscribe();
    let app = TestApp::spawn_on(testdb, |_| {}, Registry::builtin(), Some(bus)).await;
    let e = next_event(&mut sub, "invitation.created").await;
    assert_eq!(e.seq, seq);
    assert_eq!(e.payload["details"]["email"], "survivor@example.com");
    app.finish().await;
}
