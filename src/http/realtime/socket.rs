//! `GET /app/{key}?protocol=7&...`: the WebSocket upgrade. Refusals (an
//! unknown key, a protocol version not served) are told on the socket, as
//! pusher-js expects: a `pusher:error` and a close with the same code.

use std::collections::HashMap;

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Path, Query, State};
use axum::response::Response;

use crate::realtime::protocol::{code, PROTOCOLS};
use crate::realtime::{apps, connection};
use crate::state::AppState;

/// Client frames larger than this end the connection (Pusher's own limit
/// on a message is 10 KB; this leaves room for the envelope).
const MAX_MESSAGE_BYTES: usize = 64 * 1024;
/// Idle sockets are the common case: a small read buffer keeps each cheap.
const READ_BUFFER_BYTES: usize = 4 * 1024;

pub async fn upgrade(
    State(state): State<AppState>,
    Path(key): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    ws: WebSocketUpgrade,
) -> Response {
    let ws = ws
        .read_buffer_size(READ_BUFFER_BYTES)
        .max_message_size(MAX_MESSAGE_BYTES)
        .max_frame_size(MAX_MESSAGE_BYTES);
    let app = match apps::by_key(&state, &key).await {
        Ok(Some(app)) => Ok(app),
        Ok(None) => Err((code::APP_NOT_FOUND, "Application does not exist")),
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "realtime: looking up an app key");
            Err((code::RECONNECT, "Temporarily unavailable"))
        }
    };
    let verdict = app.and_then(
        |app| match query.get("protocol").map(|p| p.parse::<u32>()) {
            None => Err((code::NO_PROTOCOL, "No protocol version given")),
            Some(Err(_)) => Err((code::INVALID_VERSION, "Invalid version string format")),
            Some(Ok(v)) if !PROTOCOLS.contains(&v) => {
                Err((code::UNSUPPORTED_PROTOCOL, "Unsupported protocol version"))
            }
            Some(Ok(_)) => Ok(app),
        },
    );
    ws.on_upgrade(move |mut socket| async move {
        match verdict {
            Ok(app) => connection::serve(state, socket, app).await,
            Err((code, message)) => connection::refuse(&mut socket, code, message).await,
        }
    })
}
