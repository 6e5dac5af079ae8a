//! Workers: lease due jobs, run them, record the outcome. A running job's
//! lease is renewed while it runs; if this process dies the lease expires
//! and the janitor (on any instance) queues the job again.

use std::time::Duration;

use blazz_domain::backoff;
use blazz_store::jobs::{self, ClaimedJob};
use blazz_store::now_ms;
use futures::FutureExt;
use tokio::sync::watch;

use super::{JobError, Registry};
use crate::state::AppState;

/// Runs `count` workers and the janitor until `shutdown` turns true.
pub fn spawn(
    state: AppState,
    registry: Registry,
    count: usize,
    shutdown: watch::Receiver<bool>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let instance = blazz_domain::UserId::new().to_string();
    let mut handles: Vec<_> = (0..count)
        .map(|i| {
            let worker = Worker {
                state: state.clone(),
                registry: registry.clone(),
                name: format!("{instance}/{i}"),
            };
            tokio::spawn(worker.run(shutdown.clone()))
        })
        .collect();
    handles.push(tokio::spawn(janitor(state, shutdown)));
    handles
}

struct Worker {
    state: AppState,
    registry: Registry,
    name: String,
}

impl Worker {
    async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let cfg = self.state.config.jobs.clone();
        let idle = Duration::from_millis(cfg.poll_ms.max(1));
        while !*shutdown.borrow() {
            let claimed = jobs::claim(
                &self.state.db,
                &self.name,
                cfg.batch.max(1),
                cfg.lease_secs * 1000,
            )
            .await;
            let batch = match claimed {
                Ok(b) => b,
                Err(e) => {
                    tracing::warn!(error = %format!("{e:#}"), "claiming jobs failed");
                    Vec::new()
                }
            };
            if batch.is_empty() {
                tokio::select! {
                    _ = self.state.jobs_wake.notified() => {}
                    _ = tokio::time::sleep(idle) => {}
                    _ = shutdown.changed() => {}
                }
                continue;
            }
            for job in batch {
                self.execute(job).await;
            }
        }
    }

    async fn execute(&self, job: ClaimedJob) {
        let cfg = &self.state.config.jobs;
        let outcome = match self.registry.get(&job.name) {
            None => Err(JobError::Permanent(format!(
                "no handler for job kind {:?}",
                job.name
            ))),
            Some(handler) => {
                let run = std::panic::AssertUnwindSafe(handler(self.state.clone(), &job.payload))
                    .catch_unwind();
                tokio::pin!(run);
                let mut beat =
                    tokio::time::interval(Duration::from_secs((cfg.lease_secs / 3).max(1) as u64));
                beat.tick().await;
                loop {
                    tokio::select! {
                        result = &mut run => break result.unwrap_or_else(|_| Err(JobError::Transient("the job panicked".into()))),
                        _ = beat.tick() => {
                            if let Ok(mut conn) = self.state.db.pool.acquire().await {
                                let _ = jobs::heartbeat(&mut conn, &job, cfg.lease_secs * 1000).await;
                            }
                        }
                    }
                }
            }
        };
        let recorded = self.record(&job, outcome).await;
        if let Err(e) = recorded {
            // The lease will run out and the job will be retried.
            tracing::warn!(job.id = job.id, error = %format!("{e:#}"), "recording a job outcome failed");
        }
    }

    async fn record(&self, job: &ClaimedJob, outcome: Result<(), JobError>) -> anyhow::Result<()> {
        let cfg = &self.state.config.jobs;
        let mut conn = self.state.db.pool.acquire().await?;
        let label = match &outcome {
            Ok(()) => {
                jobs::complete(&mut conn, job).await?;
                "done"
            }
            Err(err) => {
                let retry_at = match err {
                    JobError::Transient(_) if job.attempts < job.max_attempts => {
                        let delay = backoff::delay(
                            job.attempts.max(1) as u32,
                            Duration::from_secs(cfg.retry_base_secs),
                            Duration::from_secs(cfg.retry_cap_secs),
                            rand::random::<f64>(),
                        );
                        Some(now_ms() + delay.as_millis() as i64)
                    }
                    _ => None,
                };
                tracing::warn!(job.id = job.id, job.name = %job.name, attempt = job.attempts, error = %err,
                    dead = retry_at.is_none(), "job failed");
                jobs::fail(&mut conn, job, &err.to_string(), retry_at).await?;
                if retry_at.is_some() {
                    "retried"
                } else {
                    "dead"
                }
            }
        };
        self.state
            .metrics
            .jobs_finished
            .with_label_values(&[&job.name, label])
            .inc();
        Ok(())
    }
}

/// Queues jobs whose lease expired and prunes old finished jobs and
/// published events.
async fn janitor(state: AppState, mut shutdown: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(Duration::from_secs(2));
    let mut n: u64 = 0;
    while !*shutdown.borrow() {
        tokio::select! {
            _ = tick.tick() => {}
            _ = shutdown.changed() => continue,
        }
        n += 1;
        let Ok(mut conn) = state.db.pool.acquire().await else {
            continue;
        };
        match jobs::requeue_expired(&mut conn).await {
            Ok(0) => {}
            Ok(k) => {
                tracing::info!(jobs = k, "requeued jobs whose lease expired");
                state.jobs_wake.notify_waiters();
            }
            Err(e) => tracing::warn!(error = %format!("{e:#}"), "requeueing expired jobs failed"),
        }
        if n % 1800 == 1 {
            let keep_jobs = state.config.jobs.keep_done_hours * 3_600_000;
            let keep_events = state.config.outbox.keep_published_hours * 3_600_000;
            let _ = jobs::prune_done(&mut conn, keep_jobs).await;
            let _ = blazz_store::outbox::prune_published(&mut conn, keep_events).await;
            let _ = blazz_store::sessions::delete_expired(&mut conn).await;
        }
    }
}
