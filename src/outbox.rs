//! The outbox dispatcher: publishes committed events to the bus in
//! sequence order, then marks them published. If the process dies between
//! the two, the events are published again on restart (at-least-once);
//! consumers dedupe by `seq`.

use std::sync::Arc;
use std::time::Duration;

use blazz_bus::{Event, EventBus};
use blazz_store::{outbox, Db};
use tokio::sync::{watch, Notify};

pub struct Dispatcher {
    pub db: Db,
    pub bus: Arc<dyn EventBus>,
    pub wake: Arc<Notify>,
    pub poll: Duration,
    pub batch: i64,
}

impl Dispatcher {
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        while !*shutdown.borrow() {
            match self.dispatch_once().await {
                Ok(n) if n > 0 => continue,
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %format!("{e:#}"), "publishing outbox events failed")
                }
            }
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(self.poll) => {}
                _ = shutdown.changed() => {}
            }
        }
    }

    /// Publishes one batch; returns how many events went out.
    pub async fn dispatch_once(&self) -> anyhow::Result<usize> {
        let events = {
            let mut conn = self.db.pool.acquire().await?;
            outbox::unpublished(&mut conn, self.batch).await?
        };
        let mut done = Vec::with_capacity(events.len());
        for e in events {
            let payload = serde_json::from_str(&e.payload).unwrap_or(serde_json::Value::Null);
            self.bus
                .publish(Event {
                    seq: e.id,
                    workspace_id: e.workspace_id,
                    kind: e.kind,
                    payload,
                    created_at: e.created_at,
                })
                .await?;
            done.push(e.id);
        }
        if !done.is_empty() {
            let mut conn = self.db.write().await?;
            outbox::mark_published(&mut conn, &done).await?;
        }
        Ok(done.len())
    }
}
