//! Workers: lease a batch of due jobs, run them concurrently, record the
//! outcomes together. Leases are renewed while jobs run; if this process dies the lease expires
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
        let mut claims: u64 = 0;
        while !*shutdown.borrow() {
            // A lease holder name unique to this claim fences the batch: once
            // a lease is lost, nothing this claim records can land.
            claims += 1;
            let holder = format!("{}/{claims}", self.name);
            let claimed = jobs::claim(
                &self.state.db,
                &holder,
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
            self.execute(&holder, batch).await;
        }
    }

    /// Runs a claimed batch concurrently, renewing its leases meanwhile,
    /// then records every outcome with one write.
    async fn execute(&self, holder: &str, batch: Vec<ClaimedJob>) {
        let lease_ms = self.state.config.jobs.lease_secs * 1000;
        let runs = futures::future::join_all(batch.iter().map(|job| self.run_one(job)));
        tokio::pin!(runs);
        // The first renewal is a period away: an already-due tick would cost
        // a timer turn (about a millisecond) on every batch.
        let period = Duration::from_millis((lease_ms / 3).max(1000) as u64);
        let mut beat = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        let outcomes = loop {
            tokio::select! {
                outcomes = &mut runs => break outcomes,
                _ = beat.tick() => {
                    if let Ok(mut conn) = self.state.db.write().await {
                        let _ = jobs::heartbeat(&mut conn, holder, lease_ms).await;
                    }
                }
            }
        };
        if let Err(e) = self.record(&batch, outcomes).await {
            // The leases will run out and the jobs will be run again.
            tracing::warn!(error = %format!("{e:#}"), "recording job outcomes failed");
        }
    }

    async fn run_one(&self, job: &ClaimedJob) -> Result<(), JobError> {
        let Some(handler) = self.registry.get(&job.name) else {
            return Err(JobError::Permanent(format!(
                "no handler for job kind {:?}",
                job.name
            )));
        };
        std::panic::AssertUnwindSafe(handler(self.state.clone(), &job.payload))
            .catch_unwind()
            .await
            .unwrap_or_else(|_| Err(JobError::Transient("the job panicked".into())))
    }

    async fn record(
        &self,
        batch: &[ClaimedJob],
        outcomes: Vec<Result<(), JobError>>,
    ) -> anyhow::Result<()> {
        let cfg = &self.state.config.jobs;
        let mut tx = self.state.db.begin().await?;
        let done: Vec<&ClaimedJob> = batch
            .iter()
            .zip(&outcomes)
            .filter(|(_, o)| o.is_ok())
            .map(|(j, _)| j)
            .collect();
        jobs::complete_many(&mut tx, &done).await?;
        let mut labels = Vec::with_capacity(batch.len());
        for (job, outcome) in batch.iter().zip(&outcomes) {
            let Err(err) = outcome else {
                labels.push((job, "done"));
                continue;
            };
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
            jobs::fail(&mut tx, job, &err.to_string(), retry_at).await?;
            labels.push((
                job,
                if retry_at.is_some() {
                    "retried"
                } else {
                    "dead"
                },
            ));
        }
        tx.commit().await?;
        for (job, label) in labels {
            self.state
                .metrics
                .jobs_finished
                .with_label_values(&[&job.name, label])
                .inc();
        }
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
        let Ok(mut conn) = state.db.write().await else {
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
            let _ = blazz_store::messages::prune_early_receipts(&mut conn, 7 * 86_400_000).await;
        }
    }
}
