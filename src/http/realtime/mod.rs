//! The Pusher-compatible surface outside `/api/v1`: the socket at
//! `/app/{key}`, channel authorisation at `/broadcasting/auth`, and the HTTP
//! events API at `/apps/{app_id}/events` that Pusher's server SDKs call.

pub mod auth;
pub mod socket;
pub mod trigger;

use axum::routing::{get, post};
use axum::Router;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/app/{key}", get(socket::upgrade))
        .route("/broadcasting/auth", post(auth::authorize))
        .route("/apps/{app_id}/events", post(trigger::events))
        .route("/apps/{app_id}/batch_events", post(trigger::batch_events))
}
