//! Test databases (a temp SQLite file and a fresh PostgreSQL schema, each
//! migrated, each with two accounts) and a test sealer.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use blazz_store::{db, Db};
use blazz_wa::store::{Sealer, WaStore};

pub const KEY_ID: &str = "testkey1";

/// AES-256-GCM under a fixed key, in Blazz's sealed layout
/// (`t1.<key id>.<nonce hex>.<ciphertext hex>`). Refuses to seal the
/// plaintext `poison`, so that a test can fail a batch half-way.
pub struct TestSealer {
    cipher: Aes256Gcm,
    nonces: AtomicU64,
}

impl TestSealer {
    pub fn new() -> Self {
        Self {
            cipher: Aes256Gcm::new_from_slice(&[42u8; 32]).unwrap(),
            nonces: AtomicU64::new(1),
        }
    }
}

pub const POISON: &[u8] = b"poison";

impl Sealer for TestSealer {
    fn seal(&self, aad: &[u8], plain: &[u8]) -> anyhow::Result<String> {
        anyhow::ensure!(plain != POISON, "the test sealer refuses this value");
        let mut nonce = [0u8; 12];
        nonce[4..].copy_from_slice(&self.nonces.fetch_add(1, Ordering::SeqCst).to_be_bytes());
        let ct = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: plain, aad })
            .map_err(|_| anyhow::anyhow!("encrypt"))?;
        Ok(format!("t1.{KEY_ID}.{}.{}", hex(&nonce), hex(&ct)))
    }

    fn open(&self, aad: &[u8], sealed: &str) -> anyhow::Result<Vec<u8>> {
        let parts: Vec<&str> = sealed.split('.').collect();
        anyhow::ensure!(parts.len() == 4 && parts[1] == KEY_ID, "malformed");
        let nonce = unhex(parts[2])?;
        self.cipher
            .decrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: &unhex(parts[3])?,
                    aad,
                },
            )
            .map_err(|_| anyhow::anyhow!("the value does not open here"))
    }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> anyhow::Result<Vec<u8>> {
    anyhow::ensure!(s.len().is_multiple_of(2), "odd hex");
    (0..s.len())
        .step_by(2)
        .map(|i| Ok(u8::from_str_radix(&s[i..i + 2], 16)?))
        .collect()
}

pub fn sealer() -> Arc<dyn Sealer> {
    Arc::new(TestSealer::new())
}

fn postgres_base_url() -> String {
    std::env::var("TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// One migrated database with two accounts, `account` and `other`.
pub struct Env {
    pub name: &'static str,
    pub db: Db,
    pub url: String,
    pub account: String,
    pub other: String,
    schema: Option<String>,
    _dir: tempfile::TempDir,
}

impl Env {
    /// A SQLite and a PostgreSQL database (PostgreSQL must be reachable:
    /// `TEST_POSTGRES_URL`, by default the local test server).
    pub async fn all() -> Vec<Env> {
        vec![Env::new(false).await, Env::new(true).await]
    }

    async fn new(postgres: bool) -> Env {
        let dir = tempfile::tempdir().unwrap();
        let (name, url, schema) = if postgres {
            let n = COUNTER.fetch_add(1, Ordering::SeqCst);
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .subsec_nanos();
            let schema = format!("wa_{}_{n}_{nanos}", std::process::id());
            let url = db::postgres_schema_url(&postgres_base_url(), &schema)
                .await
                .expect("these tests need PostgreSQL (TEST_POSTGRES_URL)");
            ("postgres", url, Some(schema))
        } else {
            ("sqlite", db::sqlite_url(dir.path()), None)
        };
        let db = Db::connect(&url).await.unwrap();
        db.migrate().await.unwrap();
        let mut conn = db.write().await.unwrap();
        let ws = blazz_store::workspaces::create(&mut conn, "wa", "WA")
            .await
            .unwrap();
        let a = blazz_store::accounts::create(&mut conn, ws.id, "web", "A")
            .await
            .unwrap();
        let b = blazz_store::accounts::create(&mut conn, ws.id, "web", "B")
            .await
            .unwrap();
        drop(conn);
        Env {
            name,
            db,
            url,
            account: a.id.to_string(),
            other: b.id.to_string(),
            schema,
            _dir: dir,
        }
    }

    pub fn store(&self) -> WaStore {
        self.store_of(&self.account)
    }

    pub fn store_of(&self, account: &str) -> WaStore {
        WaStore::new(self.db.clone(), account.to_string(), sealer())
    }

    /// A "restart": closes the pools and opens new ones on the same data.
    pub async fn restart(&mut self) {
        self.db.close().await;
        self.db = Db::connect(&self.url).await.unwrap();
    }

    /// How many rows `table` holds for `account`.
    pub async fn count(&self, table: &str, account: &str) -> i64 {
        let (n,): (i64,) = sqlx::query_as(&format!(
            "SELECT COUNT(*) FROM {table} WHERE account_id = $1"
        ))
        .bind(account)
        .fetch_one(&self.db.pool)
        .await
        .unwrap();
        n
    }

    pub async fn finish(self) {
        self.db.close().await;
        if let Some(schema) = &self.schema {
            db::drop_postgres_schema(&postgres_base_url(), schema)
                .await
                .unwrap();
        }
    }
}

/// Runs a conformance check on our store over SQLite and PostgreSQL, then
/// on the engine's own in-memory backend, so that our semantics are held
/// to the engine's.
macro_rules! conformance {
    ($($name:ident => $check:path;)+) => {$(
        #[tokio::test]
        async fn $name() {
            for env in crate::env::Env::all().await {
                eprintln!("-- on {}", env.name);
                $check(&env.store()).await;
                env.finish().await;
            }
            eprintln!("-- on the engine's InMemoryBackend");
            $check(&whatsapp_rust::wacore::store::InMemoryBackend::new()).await;
        }
    )+};
}
pub(crate) use conformance;
