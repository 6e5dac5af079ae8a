//! The event bus: where committed events from the outbox go, and where
//! realtime, webhooks and automations listen. In-process today; the
//! scale-out build adds a NATS implementation of the same trait.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

/// One event as the outbox committed it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// The outbox sequence number: increases with every committed event.
    pub seq: i64,
    /// The workspace the event belongs to; `None` for instance-wide events.
    pub workspace_id: Option<String>,
    /// Dotted name, e.g. `member.added`, `message.created`.
    pub kind: String,
    pub payload: serde_json::Value,
    /// Unix milliseconds at which the event was written.
    pub created_at: i64,
}

/// A live feed of published events. A subscriber that falls more than the
/// bus capacity behind is told how many it missed (`Lagged`) rather than
/// slowing publishers down; durable consumers (webhooks) re-read the store.
pub type Subscription = broadcast::Receiver<Arc<Event>>;

#[async_trait::async_trait]
pub trait EventBus: Send + Sync + 'static {
    /// Hands an event to every current subscriber (on every instance, for
    /// distributed buses). Returns once the bus has accepted it.
    async fn publish(&self, event: Event) -> anyhow::Result<()>;

    /// Starts receiving events published from now on.
    fn subscribe(&self) -> Subscription;
}

/// The single-machine bus: a tokio broadcast channel.
pub struct InProcessBus {
    tx: broadcast::Sender<Arc<Event>>,
}

impl InProcessBus {
    pub fn new(capacity: usize) -> Self {
        let (tx, _) = broadcast::channel(capacity.max(1));
        Self { tx }
    }
}

impl Default for InProcessBus {
    fn default() -> Self {
        Self::new(4096)
    }
}

#[async_trait::async_trait]
impl EventBus for InProcessBus {
    async fn publish(&self, event: Event) -> anyhow::Result<()> {
        // No subscriber is not an error: the event is committed in the
        // outbox, and nobody is listening right now.
        let _ = self.tx.send(Arc::new(event));
        Ok(())
    }

    fn subscribe(&self) -> Subscription {
        self.tx.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(seq: i64) -> Event {
        Event {
            seq,
            workspace_id: Some("w".into()),
            kind: "test.happened".into(),
            payload: serde_json::json!({"n": seq}),
            created_at: 0,
        }
    }

    #[tokio::test]
    async fn every_subscriber_gets_every_event_in_order() {
        let bus = InProcessBus::new(16);
        let mut a = bus.subscribe();
        let mut b = bus.subscribe();
        for i in 1..=3 {
            bus.publish(event(i)).await.unwrap();
        }
        for sub in [&mut a, &mut b] {
            for i in 1..=3 {
                assert_eq!(sub.recv().await.unwrap().seq, i);
            }
        }
    }

    #[tokio::test]
    async fn publishing_without_subscribers_is_fine() {
        let bus = InProcessBus::new(4);
        bus.publish(event(1)).await.unwrap();
        let mut late = bus.subscribe();
        bus.publish(event(2)).await.unwrap();
        assert_eq!(late.recv().await.unwrap().seq, 2);
    }
}
