//! Realtime: a Pusher Channels protocol 7 server, so that pusher-js and
//! Laravel Echo connect to Blazz unchanged. Each workspace is one Pusher
//! app; committed outbox events reach the sockets subscribed to their
//! channels (see `crate::events` for names and channels), and integrators
//! trigger their own events through Pusher's HTTP API.

pub mod access;
pub mod apps;
pub mod channel;
pub mod connection;
pub mod fanout;
pub mod hub;
pub mod protocol;
pub mod sign;

use std::sync::Arc;

use crate::config::RealtimeConfig;
use crate::metrics::Metrics;

pub use apps::App;
pub use hub::Hub;

/// The realtime part of the app state.
pub struct Realtime {
    pub hub: Arc<Hub>,
    pub apps: apps::AppCache,
}

impl Realtime {
    pub fn new(config: &RealtimeConfig, metrics: &Metrics) -> Self {
        let limits = hub::Limits {
            max_connections: config.max_connections,
            send_queue: config.send_queue,
            max_presence_members: config.max_presence_members,
        };
        Self {
            hub: Arc::new(Hub::new(
                limits,
                metrics.realtime_connections.clone(),
                metrics.realtime_messages.clone(),
            )),
            apps: apps::AppCache::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_realtime_docs_list_every_public_event() {
        let doc = include_str!("../../docs/realtime.md");
        for (name, _) in crate::events::NAMES {
            assert!(
                doc.contains(&format!("| `{name}` |")),
                "docs/realtime.md has no row for {name}"
            );
        }
    }
}
