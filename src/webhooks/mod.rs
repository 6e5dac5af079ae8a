//! Outgoing webhooks, signed the Standard Webhooks way. A workspace's
//! endpoints subscribe to public events (`crate::events::NAMES`); the
//! fan-out turns every committed outbox event into one delivery per
//! matching endpoint, durably; a job delivers each endpoint's deliveries
//! oldest first, retrying on the configured schedule. See `docs/webhooks.md`.

pub mod deliver;
pub mod fanout;
pub mod service;
pub mod signing;
pub mod target;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use blazz_store::webhooks::WebhookId;
use serde_json::{json, Value};

use crate::config::WebhooksConfig;

/// The type of test pings (`POST /api/v1/webhooks/{id}/test`).
pub const TEST_EVENT: &str = "webhook.test";

/// What deliveries share in a process: one HTTP client (connection reuse,
/// the guarded resolver) and one lock per endpoint, so that an endpoint's
/// deliveries go out one at a time and in order.
pub struct Webhooks {
    pub client: reqwest::Client,
    locks: Mutex<HashMap<WebhookId, Arc<tokio::sync::Mutex<()>>>>,
}

impl Webhooks {
    pub fn new(config: &WebhooksConfig) -> anyhow::Result<Self> {
        let timeout = Duration::from_secs(config.timeout_secs.max(1));
        let client = reqwest::Client::builder()
            // A redirect is a failed delivery (and could lead anywhere).
            .redirect(reqwest::redirect::Policy::none())
            // A proxy would resolve names out of the guard's sight.
            .no_proxy()
            .dns_resolver(Arc::new(target::GuardedResolver {
                allow_private: config.allow_private_targets,
            }))
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .user_agent(user_agent())
            .build()?;
        Ok(Self {
            client,
            locks: Mutex::new(HashMap::new()),
        })
    }

    pub fn lock(&self, endpoint: WebhookId) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
        if locks.len() > 1024 {
            locks.retain(|_, l| Arc::strong_count(l) > 1);
        }
        locks.entry(endpoint).or_default().clone()
    }
}

pub fn user_agent() -> String {
    format!("Blazz-Webhooks/{}", env!("CARGO_PKG_VERSION"))
}

/// The body of a delivery: `{"type", "timestamp", "data"}`.
pub fn body(event_type: &str, at_ms: i64, data: Value) -> String {
    json!({
        "type": event_type,
        "timestamp": crate::http::api::rfc3339(at_ms),
        "data": data,
    })
    .to_string()
}

/// A `webhook-id`: `msg_` and 32 hex digits (no `.`, as the signature's
/// content requires).
pub fn message_id() -> String {
    format!("msg_{}", uuid::Uuid::now_v7().simple())
}
