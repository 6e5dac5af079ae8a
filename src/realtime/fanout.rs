//! From the bus to the sockets: every committed event that has a public
//! form (`crate::events::public`) goes to this process's sockets subscribed
//! to any of its channels, as `{"event": <public name>, "channel": ...,
//! "data": "<the payload as JSON text>"}`.

use std::collections::{HashSet, VecDeque};

use blazz_bus::{Event, Subscription};
use blazz_domain::WorkspaceId;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::watch;

use super::hub::Hub;
use super::protocol::{self, code};
use crate::events;
use crate::state::AppState;

/// How many recent sequence numbers are remembered to drop a republished
/// event (the outbox delivers at least once).
const SEEN: usize = 4096;

#[derive(Default)]
struct Seen {
    set: HashSet<i64>,
    order: VecDeque<i64>,
}

impl Seen {
    /// Whether `seq` is new (and remembers it).
    fn first(&mut self, seq: i64) -> bool {
        if !self.set.insert(seq) {
            return false;
        }
        self.order.push_back(seq);
        if self.order.len() > SEEN {
            if let Some(old) = self.order.pop_front() {
                self.set.remove(&old);
            }
        }
        true
    }
}

/// Sends one event to its subscribers here; returns the frames queued.
pub fn deliver(hub: &Hub, event: &Event) -> usize {
    let Some(public) = events::public(event) else {
        return 0;
    };
    let Ok(ws) = public.workspace_id.parse::<WorkspaceId>() else {
        return 0;
    };
    let data = public.data.to_string();
    public
        .channels
        .iter()
        .map(|channel| {
            hub.broadcast(ws, channel, None, || {
                protocol::frame(public.name, Some(channel), &data)
            })
        })
        .sum()
}

/// Runs until shutdown, then closes every socket with 4200 so that clients
/// reconnect (to another instance, or to this one when it is back).
pub async fn run(state: AppState, mut events: Subscription, mut shutdown: watch::Receiver<bool>) {
    let hub = state.realtime.hub.clone();
    let mut seen = Seen::default();
    loop {
        tokio::select! {
            _ = shutdown.wait_for(|stop| *stop) => break,
            got = events.recv() => match got {
                Ok(event) => {
                    if seen.first(event.seq) {
                        deliver(&hub, &event);
                    }
                }
                Err(RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "realtime fell behind the event bus; events were not delivered to sockets");
                }
                Err(RecvError::Closed) => break,
            },
        }
    }
    hub.close_all(code::RECONNECT, "The server is shutting down");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn republished_events_are_dropped_and_memory_stays_bounded() {
        let mut seen = Seen::default();
        assert!(seen.first(1));
        assert!(!seen.first(1));
        for seq in 2..(SEEN as i64 + 10) {
            assert!(seen.first(seq));
        }
        assert!(seen.set.len() <= SEEN);
        // Long forgotten: treated as new again.
        assert!(seen.first(1));
    }
}
