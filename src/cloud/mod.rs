//! Meta's WhatsApp Cloud API on the app's side: Cloud numbers and their
//! sealed credentials (`numbers`), the webhook job (`webhook`), the 24-hour
//! customer window (`window`), what a send to a Cloud number is checked
//! against and what Meta's error codes do afterwards (`sending`), message
//! templates (`templates`) and account groups that fail over (`groups`).
//! The Graph API client and the provider are in `blazz-cloud`.

pub mod groups;
pub mod numbers;
pub mod sending;
pub mod templates;
pub mod webhook;
pub mod window;

use blazz_cloud::{CloudOptions, CloudProvider, Graph, GraphConfig};

use crate::config::Config;

pub fn graph_config(config: &Config) -> GraphConfig {
    GraphConfig::new(&config.cloud.graph_url, &config.cloud.graph_version)
}

/// The Cloud API provider for the session engine; `None` (with a log
/// line) if its HTTP client cannot be built.
pub fn provider(config: &Config) -> Option<CloudProvider> {
    let options = CloudOptions {
        messages_per_second: config.cloud.messages_per_second.max(1),
    };
    match CloudProvider::new(graph_config(config), options) {
        Ok(p) => Some(p),
        Err(e) => {
            tracing::error!(error = %e, "Cloud API numbers are unavailable");
            None
        }
    }
}

/// A Graph API client for calls outside a session (test connection,
/// templates, webhook media): the provider's, or a new one.
pub fn graph(state: &crate::state::AppState) -> Result<Graph, crate::error::ApiError> {
    match &state.sessions.cloud {
        Some(p) => Ok(p.graph().clone()),
        None => Graph::new(graph_config(&state.config))
            .map_err(|e| crate::error::ApiError::Unavailable("cloud_unavailable", e.to_string())),
    }
}
