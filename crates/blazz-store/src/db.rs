//! Connecting, migrating and health-checking the database.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Executor};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../../migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../../migrations/postgres");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    pub fn from_url(url: &str) -> anyhow::Result<Self> {
        if url.starts_with("sqlite:") {
            Ok(Dialect::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Dialect::Postgres)
        } else {
            anyhow::bail!("unsupported database URL: expected sqlite: or postgres:")
        }
    }

    fn migrator(self) -> &'static Migrator {
        match self {
            Dialect::Sqlite => &SQLITE_MIGRATIONS,
            Dialect::Postgres => &POSTGRES_MIGRATIONS,
        }
    }
}

/// The connection pools plus the dialect behind them.
///
/// SQLite allows one writer at a time; connections that collide on its
/// write lock sleep in its busy handler (milliseconds each time), and a
/// deferred transaction that read before writing fails outright if another
/// connection wrote in between. So on SQLite every write goes through
/// `writer`, a pool of one connection, and transactions start with
/// `BEGIN IMMEDIATE`; `pool` serves reads beside it (WAL). On PostgreSQL
/// both are the same pool.
#[derive(Clone, Debug)]
pub struct Db {
    pub pool: AnyPool,
    pub writer: AnyPool,
    pub dialect: Dialect,
}

/// The default SQLite URL for a data directory.
pub fn sqlite_url(data_dir: &Path) -> String {
    format!("sqlite://{}?mode=rwc", data_dir.join("blazz.db").display())
}

impl Db {
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        Self::connect_with(url, None).await
    }

    /// Opens a pool. `max_connections` defaults to 8 on PostgreSQL; SQLite
    /// keeps several readers (WAL lets them run beside the one writer).
    pub async fn connect_with(url: &str, max_connections: Option<u32>) -> anyhow::Result<Self> {
        sqlx::any::install_default_drivers();
        let dialect = Dialect::from_url(url)?;
        let options = AnyConnectOptions::from_str(url).context("reading the database URL")?;
        let open = |max: u32| {
            AnyPoolOptions::new()
                .max_connections(max)
                .acquire_timeout(Duration::from_secs(30))
                .after_connect(move |conn, _| {
                    Box::pin(async move {
                        if dialect == Dialect::Sqlite {
                            // WAL: readers never block the writer; NORMAL sync is
                            // durable across process crashes (fsync at checkpoints).
                            conn.execute("PRAGMA journal_mode = WAL").await?;
                            conn.execute("PRAGMA synchronous = NORMAL").await?;
                            conn.execute("PRAGMA foreign_keys = ON").await?;
                            conn.execute("PRAGMA busy_timeout = 10000").await?;
                        }
                        Ok(())
                    })
                })
                .connect_with(options.clone())
        };
        let context = || format!("connecting to the {dialect:?} database");
        let pool = open(max_connections.unwrap_or(8))
            .await
            .with_context(context)?;
        let writer = match dialect {
            Dialect::Sqlite => open(1).await.with_context(context)?,
            Dialect::Postgres => pool.clone(),
        };
        Ok(Self {
            pool,
            writer,
            dialect,
        })
    }

    /// A connection for writes outside a transaction.
    pub async fn write(&self) -> sqlx::Result<sqlx::pool::PoolConnection<sqlx::Any>> {
        self.writer.acquire().await
    }

    /// Closes both pools.
    pub async fn close(&self) {
        self.writer.close().await;
        self.pool.close().await;
    }

    /// Brings the schema up to date. Safe to run again and from several
    /// instances (sqlx takes a lock on PostgreSQL).
    pub async fn migrate(&self) -> anyhow::Result<()> {
        self.dialect
            .migrator()
            .run(&self.writer)
            .await
            .context("running database migrations")
    }

    /// Whether every migration this build knows has been applied.
    pub async fn migrations_done(&self) -> anyhow::Result<bool> {
        let applied: Vec<(i64,)> =
            match sqlx::query_as("SELECT version FROM _sqlx_migrations WHERE success = TRUE")
                .fetch_all(&self.pool)
                .await
            {
                Ok(rows) => rows,
                Err(sqlx::Error::Database(_)) => return Ok(false),
                Err(e) => return Err(e.into()),
            };
        let applied: std::collections::HashSet<i64> = applied.into_iter().map(|(v,)| v).collect();
        Ok(self
            .dialect
            .migrator()
            .iter()
            .all(|m| applied.contains(&m.version)))
    }

    pub async fn ping(&self) -> anyhow::Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// A write transaction.
    pub async fn begin(&self) -> sqlx::Result<sqlx::Transaction<'static, sqlx::Any>> {
        match self.dialect {
            Dialect::Sqlite => self.writer.begin_with("BEGIN IMMEDIATE").await,
            Dialect::Postgres => self.writer.begin().await,
        }
    }

    /// Tables and their columns (lower-case), for the check that both
    /// dialects' migrations end at the same schema. SQLite's full-text
    /// tables (`*_fts*`) are left out: PostgreSQL indexes the same text with
    /// an expression index instead.
    pub async fn schema(&self) -> anyhow::Result<Vec<(String, Vec<String>)>> {
        let sql = match self.dialect {
            Dialect::Sqlite => {
                "SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p \
                 WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE '_sqlx%' \
                 AND m.name NOT LIKE '%\\_fts%' ESCAPE '\\' \
                 ORDER BY m.name, p.name"
            }
            Dialect::Postgres => {
                "SELECT table_name::text, column_name::text FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name NOT LIKE '_sqlx%' \
                 ORDER BY table_name, column_name"
            }
        };
        let rows: Vec<(String, String)> = sqlx::query_as(sql).fetch_all(&self.pool).await?;
        let mut out: Vec<(String, Vec<String>)> = Vec::new();
        for (table, column) in rows {
            match out.last_mut() {
                Some((t, cols)) if *t == table => cols.push(column.to_lowercase()),
                _ => out.push((table, vec![column.to_lowercase()])),
            }
        }
        Ok(out)
    }
}

/// Creates an empty schema named `name` on the PostgreSQL server at
/// `base_url` and returns a URL whose connections use it. Tests and
/// benchmarks get a database of their own this way.
pub async fn postgres_schema_url(base_url: &str, name: &str) -> anyhow::Result<String> {
    anyhow::ensure!(
        name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
        "schema names are letters, digits and underscores"
    );
    sqlx::any::install_default_drivers();
    let pool = AnyPoolOptions::new()
        .max_connections(1)
        .connect(base_url)
        .await
        .with_context(|| "connecting to PostgreSQL".to_string())?;
    pool.execute(format!("DROP SCHEMA IF EXISTS {name} CASCADE").as_str())
        .await?;
    pool.execute(format!("CREATE SCHEMA {name}").as_str())
        .await?;
    pool.close().await;
    let sep = if base_url.contains('?') { '&' } else { '?' };
    Ok(format!("{base_url}{sep}options=-c%20search_path%3D{name}"))
}

/// Drops a schema made by `postgres_schema_url`.
pub async fn drop_postgres_schema(base_url: &str, name: &str) -> anyhow::Result<()> {
    sqlx::any::install_default_drivers();
    let pool = AnyPoolOptions::new()
        .max_connections(1)
        .connect(base_url)
        .await?;
    pool.execute(format!("DROP SCHEMA IF EXISTS {name} CASCADE").as_str())
        .await?;
    pool.close().await;
    Ok(())
}
