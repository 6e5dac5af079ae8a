//! Typed background jobs on the durable queue in the store.
//!
//! Why not `apalis`: its SQL backends are one crate per driver with
//! compile-time queries, it has no priorities and no idempotency keys, and
//! it does not run over one runtime-chosen pool for both SQLite and
//! PostgreSQL. The queue here is ~300 lines over our own schema (see
//! `blazz_store::jobs`) and gives priorities, leases, idempotency keys,
//! backoff with jitter and replayable dead letters on both backends.

pub mod builtin;
pub mod registry;
pub mod worker;

use std::future::Future;

use blazz_domain::{Priority, WorkspaceId};
use blazz_store::jobs::NewJob;
use blazz_store::{now_ms, Conn};
use serde::de::DeserializeOwned;
use serde::Serialize;

pub use registry::Registry;

use crate::state::AppState;

/// How a job run went wrong.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// Worth another try later (network, provider busy...).
    #[error("{0}")]
    Transient(String),
    /// Retrying cannot help (bad payload, refused by the provider...).
    #[error("{0}")]
    Permanent(String),
}

impl From<anyhow::Error> for JobError {
    fn from(e: anyhow::Error) -> Self {
        JobError::Transient(format!("{e:#}"))
    }
}

/// A kind of background work: a serializable, idempotent struct.
pub trait Job: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// Stable name stored with the job; never rename once jobs exist.
    const NAME: &'static str;
    const PRIORITY: Priority = Priority::Normal;
    const MAX_ATTEMPTS: i64 = 10;

    fn run(self, state: AppState) -> impl Future<Output = Result<(), JobError>> + Send;
}

/// Options for one enqueue.
#[derive(Debug, Default, Clone)]
pub struct Enqueue {
    pub workspace: Option<WorkspaceId>,
    pub idempotency_key: Option<String>,
    /// Delay before the job may run, in milliseconds.
    pub delay_ms: i64,
    /// Overrides the job kind's priority.
    pub priority: Option<Priority>,
}

/// Adds a job inside the caller's transaction. `None` when a job with the
/// same idempotency key exists. Call `AppState::committed` after commit.
pub async fn enqueue<J: Job>(
    conn: &mut Conn,
    job: &J,
    opts: Enqueue,
) -> anyhow::Result<Option<i64>> {
    blazz_store::jobs::enqueue(
        conn,
        &NewJob {
            name: J::NAME.to_string(),
            workspace_id: opts.workspace,
            payload: serde_json::to_value(job)?,
            priority: opts.priority.unwrap_or(J::PRIORITY),
            run_at: now_ms() + opts.delay_ms.max(0),
            max_attempts: J::MAX_ATTEMPTS,
            idempotency_key: opts.idempotency_key,
        },
    )
    .await
}
