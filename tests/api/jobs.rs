//! The durable job queue: priorities, idempotency, retries with backoff,
//! dead letters and their replay, leases that survive a killed process.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

use blazz::jobs::{self, Enqueue, Job, JobError, Registry};
use blazz::state::AppState;
use blazz_domain::{Priority, Role};
use blazz_store::jobs as store;
use serde::{Deserialize, Serialize};

use crate::helpers::{TestApp, TestDb};

async fn job_state(app: &TestApp, id: i64) -> (String, i64, Option<String>) {
    sqlx::query_as("SELECT state, attempts, last_error FROM jobs WHERE id = $1")
        .bind(id)
        .fetch_one(&app.db.pool)
        .await
        .unwrap()
}

async fn wait_for_state(app: &TestApp, id: i64, want: &str) -> (String, i64, Option<String>) {
    for _ in 0..500 {
        let s = job_state(app, id).await;
        if s.0 == want {
            return s;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!(
        "job {id} never reached {want}: {:?}",
        job_state(app, id).await
    );
}

async fn enqueue<J: Job>(app: &TestApp, job: &J, opts: Enqueue) -> Option<i64> {
    let mut conn = app.db.pool.acquire().await.unwrap();
    let id = jobs::enqueue(&mut conn, job, opts).await.unwrap();
    app.state().committed();
    id
}

#[derive(Serialize, Deserialize)]
struct Tagged {
    p: String,
}

impl Job for Tagged {
    const NAME: &'static str = "test.tagged";
    async fn run(self, _: AppState) -> Result<(), JobError> {
        Ok(())
    }
}

#[tokio::test]
async fn urgent_jobs_are_claimed_before_high_normal_and_campaign() {
    let app = TestApp::spawn_with(|c| c.jobs.workers = 0, Registry::builtin()).await;
    for p in [
        Priority::Campaign,
        Priority::Normal,
        Priority::High,
        Priority::Urgent,
    ] {
        let opts = Enqueue {
            priority: Some(p),
            ..Default::default()
        };
        enqueue(&app, &Tagged { p: p.to_string() }, opts)
            .await
            .unwrap();
    }
    let claimed = store::claim(&app.db, "w", 10, 60_000).await.unwrap();
    let order: Vec<String> = claimed
        .iter()
        .map(|j| serde_json::from_str::<Tagged>(&j.payload).unwrap().p)
        .collect();
    assert_eq!(order, ["urgent", "high", "normal", "campaign"]);
    for j in &claimed {
        let mut conn = app.db.pool.acquire().await.unwrap();
        assert!(store::complete(&mut conn, j).await.unwrap());
    }
    app.finish().await;
}

#[tokio::test]
async fn the_same_idempotency_key_enqueues_one_job() {
    let app = TestApp::spawn_with(|c| c.jobs.workers = 0, Registry::builtin()).await;
    let opts = || Enqueue {
        idempotency_key: Some("send:42".into()),
        ..Default::default()
    };
    let first = enqueue(&app, &Tagged { p: "a".into() }, opts()).await;
    let second = enqueue(&app, &Tagged { p: "b".into() }, opts()).await;
    assert!(first.is_some());
    assert_eq!(second, None);
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM jobs")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(n, 1);
    app.finish().await;
}

#[tokio::test]
async fn a_job_due_later_is_not_claimed_early() {
    let app = TestApp::spawn_with(|c| c.jobs.workers = 0, Registry::builtin()).await;
    let opts = Enqueue {
        delay_ms: 60_000,
        ..Default::default()
    };
    enqueue(&app, &Tagged { p: "later".into() }, opts)
        .await
        .unwrap();
    assert!(store::claim(&app.db, "w", 10, 60_000)
        .await
        .unwrap()
        .is_empty());
    app.finish().await;
}

static FLAKY_CALLS: AtomicU32 = AtomicU32::new(0);

#[derive(Serialize, Deserialize)]
struct Flaky;

impl Job for Flaky {
    const NAME: &'static str = "test.flaky";
    async fn run(self, _: AppState) -> Result<(), JobError> {
        if FLAKY_CALLS.fetch_add(1, Ordering::SeqCst) < 2 {
            Err(JobError::Transient("provider busy".into()))
        } else {
            Ok(())
        }
    }
}

#[tokio::test]
async fn a_transient_failure_is_retried_until_it_succeeds() {
    let mut registry = Registry::builtin();
    registry.register::<Flaky>();
    let app = TestApp::spawn_with(|_| {}, registry).await;
    let id = enqueue(&app, &Flaky, Enqueue::default()).await.unwrap();
    let (_, attempts, last_error) = wait_for_state(&app, id, "done").await;
    assert_eq!(attempts, 3);
    assert_eq!(last_error, None);
    app.finish().await;
}

static REFUSE: AtomicBool = AtomicBool::new(true);

#[derive(Serialize, Deserialize)]
struct Refused;

impl Job for Refused {
    const NAME: &'static str = "test.refused";
    async fn run(self, _: AppState) -> Result<(), JobError> {
        if REFUSE.load(Ordering::SeqCst) {
            Err(JobError::Permanent("recipient is not on WhatsApp".into()))
        } else {
            Ok(())
        }
    }
}

#[tokio::test]
async fn a_permanent_failure_is_dead_at_once_and_replayable_through_the_api() {
    let mut registry = Registry::builtin();
    registry.register::<Refused>();
    let app = TestApp::spawn_with(|_| {}, registry).await;
    let t = app.tenant("Jobs").await;
    let opts = Enqueue {
        workspace: Some(t.id),
        ..Default::default()
    };
    let id = enqueue(&app, &Refused, opts).await.unwrap();
    let (_, attempts, err) = wait_for_state(&app, id, "dead").await;
    assert_eq!(attempts, 1);
    assert_eq!(err.as_deref(), Some("recipient is not on WhatsApp"));

    let (status, list) = app.get(&t.token, "/api/v1/jobs?state=dead").await;
    assert_eq!(status, 200);
    assert_eq!(list["data"][0]["id"], id);
    assert_eq!(
        list["data"][0]["last_error"],
        "recipient is not on WhatsApp"
    );

    let agent = app.token(t.id, Role::Agent).await;
    crate::helpers::assert_error(
        &app.post(
            &agent,
            &format!("/api/v1/jobs/{id}/retry"),
            serde_json::json!({}),
        )
        .await,
        403,
        "forbidden",
    );

    REFUSE.store(false, Ordering::SeqCst);
    let (status, job) = app
        .post(
            &t.token,
            &format!("/api/v1/jobs/{id}/retry"),
            serde_json::json!({}),
        )
        .await;
    assert_eq!(status, 200, "{job}");
    wait_for_state(&app, id, "done").await;
    let (_, audit) = app.get(&t.token, "/api/v1/audit").await;
    assert_eq!(audit["data"][0]["action"], "job.retried");
    assert_eq!(audit["data"][0]["target_id"], id.to_string());
    let again = app
        .post(
            &t.token,
            &format!("/api/v1/jobs/{id}/retry"),
            serde_json::json!({}),
        )
        .await;
    crate::helpers::assert_error(&again, 409, "job_not_dead");
    app.finish().await;
}

#[derive(Serialize, Deserialize)]
struct AlwaysBusy;

impl Job for AlwaysBusy {
    const NAME: &'static str = "test.always_busy";
    const MAX_ATTEMPTS: i64 = 3;
    async fn run(self, _: AppState) -> Result<(), JobError> {
        Err(JobError::Transient("still busy".into()))
    }
}

#[tokio::test]
async fn a_job_out_of_attempts_goes_dead_and_the_cli_replays_it() {
    let mut registry = Registry::builtin();
    registry.register::<AlwaysBusy>();
    let app = TestApp::spawn_with(|_| {}, registry).await;
    let id = enqueue(&app, &AlwaysBusy, Enqueue::default())
        .await
        .unwrap();
    let (_, attempts, err) = wait_for_state(&app, id, "dead").await;
    assert_eq!(attempts, 3);
    assert_eq!(err.as_deref(), Some("still busy"));

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_blazz"))
        .args(["jobs", "retry", &id.to_string()])
        .env("BLAZZ_DATABASE_URL", &app.testdb.url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("queued again"));
    // It fails again (the job always does); it was run again from scratch.
    let (_, attempts, _) = wait_for_state(&app, id, "dead").await;
    assert_eq!(attempts, 3);
    sqlx::query("DELETE FROM jobs WHERE id = $1")
        .bind(id)
        .execute(&app.db.pool)
        .await
        .unwrap();
    app.finish().await;
}

#[derive(Serialize, Deserialize)]
struct Panics;

impl Job for Panics {
    const NAME: &'static str = "test.panics";
    const MAX_ATTEMPTS: i64 = 1;
    async fn run(self, _: AppState) -> Result<(), JobError> {
        panic!("bug in a job")
    }
}

#[tokio::test]
async fn a_panicking_job_is_recorded_not_fatal() {
    let mut registry = Registry::builtin();
    registry.register::<Panics>();
    let app = TestApp::spawn_with(|_| {}, registry).await;
    let id = enqueue(&app, &Panics, Enqueue::default()).await.unwrap();
    let (_, _, err) = wait_for_state(&app, id, "dead").await;
    assert_eq!(err.as_deref(), Some("the job panicked"));
    // The worker survived: a later job still runs.
    let next = enqueue(
        &app,
        &blazz::jobs::builtin::Noop { n: 1 },
        Enqueue::default(),
    )
    .await
    .unwrap();
    wait_for_state(&app, next, "done").await;
    sqlx::query("DELETE FROM jobs WHERE id = $1")
        .bind(id)
        .execute(&app.db.pool)
        .await
        .unwrap();
    app.finish().await;
}

#[tokio::test]
async fn a_worker_that_lost_its_lease_cannot_finish_the_job() {
    let app = TestApp::spawn_with(|c| c.jobs.workers = 0, Registry::builtin()).await;
    let id = enqueue(&app, &Tagged { p: "x".into() }, Enqueue::default())
        .await
        .unwrap();
    let stale = store::claim(&app.db, "old-worker", 1, 1)
        .await
        .unwrap()
        .remove(0);
    tokio::time::sleep(Duration::from_millis(10)).await;
    let mut conn = app.db.pool.acquire().await.unwrap();
    assert_eq!(store::requeue_expired(&mut conn).await.unwrap(), 1);
    let fresh = store::claim(&app.db, "new-worker", 1, 60_000)
        .await
        .unwrap()
        .remove(0);
    assert_eq!(fresh.id, id);
    assert!(
        !store::complete(&mut conn, &stale).await.unwrap(),
        "stale worker finished a job it lost"
    );
    assert!(store::complete(&mut conn, &fresh).await.unwrap());
    assert_eq!(job_state(&app, id).await.1, 2);
    drop(conn);
    app.finish().await;
}

// --- A job held by a killed process -------------------------------------

/// In the child process: takes the job and works on it "forever".
#[derive(Serialize, Deserialize)]
struct Long;

impl Job for Long {
    const NAME: &'static str = "test.long";
    async fn run(self, _: AppState) -> Result<(), JobError> {
        tokio::time::sleep(Duration::from_secs(600)).await;
        Ok(())
    }
}

/// In the parent: the same job kind, finishing at once.
#[derive(Serialize, Deserialize)]
struct LongDoneQuickly;

impl Job for LongDoneQuickly {
    const NAME: &'static str = "test.long";
    async fn run(self, _: AppState) -> Result<(), JobError> {
        Ok(())
    }
}

const CHILD_ENV: &str = "TEST_CHILD_WORKER_DB";
const CHILD_DIR_ENV: &str = "TEST_CHILD_WORKER_DIR";

#[tokio::test]
async fn a_job_held_by_a_killed_process_is_run_again_not_lost() {
    if let Ok(url) = std::env::var(CHILD_ENV) {
        // Child: a worker with a short lease that will be killed mid-job.
        let mut registry = Registry::builtin();
        registry.register::<Long>();
        let dir = std::env::var(CHILD_DIR_ENV).unwrap();
        let mut config = crate::helpers::test_config(std::path::Path::new(&dir));
        config.jobs.lease_secs = 2;
        let db = blazz_store::Db::connect(&url).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let _running = blazz::server::start(config, db, registry, listener)
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_secs(600)).await;
        return;
    }
    let testdb = TestDb::new().await;
    let url = testdb.url.clone();
    let db = testdb.connect().await;
    let mut conn = db.pool.acquire().await.unwrap();
    let id = jobs::enqueue(&mut conn, &Long, Enqueue::default())
        .await
        .unwrap()
        .unwrap();
    drop(conn);

    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "jobs::a_job_held_by_a_killed_process_is_run_again_not_lost",
            "--nocapture",
        ])
        .env(CHILD_ENV, &url)
        .env(CHILD_DIR_ENV, testdb.dir.path())
        .spawn()
        .unwrap();
    let mut held = false;
    for _ in 0..1000 {
        let (state,): (String,) = sqlx::query_as("SELECT state FROM jobs WHERE id = $1")
            .bind(id)
            .fetch_one(&db.pool)
            .await
            .unwrap();
        if state == "running" {
            held = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().unwrap(); // SIGKILL: no clean-up runs in the child
    child.wait().unwrap();
    assert!(held, "the child never took the job");
    db.close().await;

    let mut registry = Registry::builtin();
    registry.register::<LongDoneQuickly>();
    let app = TestApp::spawn_on(testdb, |_| {}, registry, None).await;
    let (_, attempts, _) = wait_for_state(&app, id, "done").await;
    assert_eq!(attempts, 2, "run once by the killed process, once after");
    app.finish().await;
}
