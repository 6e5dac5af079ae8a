//! The test harness: the real app on port 0 with a database of its own
//! (a temp SQLite file, or a fresh PostgreSQL schema when
//! `TEST_DATABASE=postgres`), real HTTP clients.

use std::sync::atomic::{AtomicU64, Ordering};

use blazz::config::Config;
use blazz::jobs::Registry;
use blazz::server::{self, Running};
use blazz::services::{self, accounts::NewAccount};
use blazz_domain::{Role, WorkspaceId};
use blazz_store::{db, Db};
use serde_json::Value;

pub const PASSWORD: &str = "correct horse battery";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub fn backend() -> Backend {
    match std::env::var("TEST_DATABASE").as_deref() {
        Ok("postgres") => Backend::Postgres,
        Ok("sqlite") | Err(_) => Backend::Sqlite,
        Ok(other) => panic!("TEST_DATABASE={other}: expected sqlite or postgres"),
    }
}

pub fn postgres_base_url() -> String {
    std::env::var("TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A database of its own for one test.
pub struct TestDb {
    pub url: String,
    pub dir: tempfile::TempDir,
    pub schema: Option<String>,
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

impl TestDb {
    pub async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        match backend() {
            Backend::Sqlite => TestDb {
                url: db::sqlite_url(dir.path()),
                dir,
                schema: None,
            },
            Backend::Postgres => {
                let n = COUNTER.fetch_add(1, Ordering::SeqCst);
                let schema = format!("t_{}_{}_{}", std::process::id(), n, rand::random::<u32>());
                let url = db::postgres_schema_url(&postgres_base_url(), &schema)
                    .await
                    .expect("PostgreSQL must be reachable when TEST_DATABASE=postgres");
                TestDb {
                    url,
                    dir,
                    schema: Some(schema),
                }
            }
        }
    }

    pub async fn connect(&self) -> Db {
        let db = Db::connect(&self.url).await.unwrap();
        db.migrate().await.unwrap();
        db
    }

    pub async fn drop_schema(&self) {
        if let Some(schema) = &self.schema {
            let _ = db::drop_postgres_schema(&postgres_base_url(), schema).await;
        }
    }
}

pub fn test_config(dir: &std::path::Path) -> Config {
    let mut config = Config::default();
    config.data_dir = dir.to_path_buf();
    config.addr = "127.0.0.1:0".parse().unwrap();
    config.jobs.poll_ms = 20;
    config.jobs.retry_base_secs = 0;
    config.outbox.poll_ms = 20;
    config
}

pub struct TestApp {
    pub base: String,
    pub db: Db,
    pub client: reqwest::Client,
    pub running: Option<Running>,
    pub testdb: TestDb,
    finished: bool,
}

/// A workspace with its owner and an owner API token.
pub struct Tenant {
    pub id: WorkspaceId,
    pub slug: String,
    pub owner_email: String,
    pub token: String,
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}, Registry::builtin()).await
    }

    pub async fn spawn_with(tweak: impl FnOnce(&mut Config), registry: Registry) -> Self {
        Self::spawn_on(TestDb::new().await, tweak, registry, None).await
    }

    /// Starts the app on an existing test database, optionally with a bus
    /// the test subscribed to before anything could be published.
    pub async fn spawn_on(
        testdb: TestDb,
        tweak: impl FnOnce(&mut Config),
        registry: Registry,
        bus: Option<std::sync::Arc<dyn blazz_bus::EventBus>>,
    ) -> Self {
        Self::spawn_prepared(testdb, tweak, registry, bus, Box::new(|_| {})).await
    }

    /// Starts the app with `prepare` run on its state before anything
    /// starts (see `server::Prepare`).
    pub async fn spawn_prepared(
        testdb: TestDb,
        tweak: impl FnOnce(&mut Config),
        registry: Registry,
        bus: Option<std::sync::Arc<dyn blazz_bus::EventBus>>,
        prepare: server::Prepare,
    ) -> Self {
        let mut config = test_config(testdb.dir.path());
        config.database_url = Some(blazz::config::Secret::new(testdb.url.clone()));
        tweak(&mut config);
        let db = server::open_db(&config).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let bus = bus.unwrap_or_else(|| std::sync::Arc::new(blazz_bus::InProcessBus::default()));
        let running = server::start_prepared(config, db.clone(), registry, listener, bus, prepare)
            .await
            .unwrap();
        let base = format!("http://{}", running.addr);
        TestApp {
            base,
            db,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            running: Some(running),
            testdb,
            finished: false,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn state(&self) -> &blazz::state::AppState {
        &self.running.as_ref().unwrap().state
    }

    /// Creates a user owning a new workspace, and an owner token for it.
    pub async fn tenant(&self, name: &str) -> Tenant {
        let email = format!("{}@example.com", name.to_lowercase().replace(' ', "."));
        let (_, ws) = services::accounts::create(
            &self.db,
            NewAccount {
                email: &email,
                name,
                password: PASSWORD,
                workspace_name: name,
            },
            false,
        )
        .await
        .unwrap();
        let token = self.token(ws.id, Role::Owner).await;
        Tenant {
            id: ws.id,
            slug: ws.slug,
            owner_email: email,
            token,
        }
    }

    pub async fn token(&self, ws: WorkspaceId, role: Role) -> String {
        let (_, secret) = services::tokens::create(
            &self.db,
            ws,
            &services::cli_actor(),
            None,
            &format!("{role} token"),
            role,
            None,
        )
        .await
        .unwrap();
        secret
    }

    pub async fn get(&self, token: &str, path: &str) -> (u16, Value) {
        self.call(reqwest::Method::GET, token, path, None).await
    }

    pub async fn post(&self, token: &str, path: &str, body: Value) -> (u16, Value) {
        self.call(reqwest::Method::POST, token, path, Some(body))
            .await
    }

    pub async fn patch(&self, token: &str, path: &str, body: Value) -> (u16, Value) {
        self.call(reqwest::Method::PATCH, token, path, Some(body))
            .await
    }

    pub async fn delete(&self, token: &str, path: &str) -> (u16, Value) {
        self.call(reqwest::Method::DELETE, token, path, None).await
    }

    pub async fn call(
        &self,
        method: reqwest::Method,
        token: &str,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self
            .client
            .request(method, self.url(path))
            .bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        let json = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, json)
    }

    /// Stops the app and starts it again on the same database and data
    /// folder (a restart of `blazz serve`, in process).
    pub async fn restart(
        mut self,
        tweak: impl FnOnce(&mut Config),
        prepare: server::Prepare,
    ) -> TestApp {
        self.finished = true;
        if let Some(r) = self.running.take() {
            r.stop().await;
        }
        self.db.close().await;
        let placeholder = TestDb {
            url: String::new(),
            dir: tempfile::tempdir().unwrap(),
            schema: None,
        };
        let testdb = std::mem::replace(&mut self.testdb, placeholder);
        TestApp::spawn_prepared(testdb, tweak, Registry::builtin(), None, prepare).await
    }

    /// Stops the app, and fails the test if any job was left dead.
    pub async fn finish(mut self) {
        self.finished = true;
        if let Some(r) = self.running.take() {
            r.stop().await;
        }
        let dead: Vec<(i64, String, Option<String>)> =
            sqlx::query_as("SELECT id, name, last_error FROM jobs WHERE state = 'dead'")
                .fetch_all(&self.db.pool)
                .await
                .unwrap();
        self.db.close().await;
        self.testdb.drop_schema().await;
        assert!(
            dead.is_empty(),
            "jobs were left dead in the queue: {dead:?}"
        );
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if !self.finished && !std::thread::panicking() {
            panic!("end every test with app.finish().await (it checks the queue for dead jobs)");
        }
    }
}

/// Asserts an error answer: status and stable code.
#[track_caller]
pub fn assert_error(answer: &(u16, Value), status: u16, code: &str) {
    assert_eq!(answer.0, status, "unexpected answer {answer:?}");
    assert_eq!(
        answer.1["error"]["code"], code,
        "unexpected answer {answer:?}"
    );
    assert!(answer.1["error"]["message"].is_string(), "{answer:?}");
}
