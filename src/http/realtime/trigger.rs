//! Pusher's HTTP events API, so that the official server SDKs (and
//! Laravel's `pusher` broadcaster) can trigger events on a workspace's
//! channels: `POST /apps/{app_id}/events` and `/batch_events`, signed with
//! the app secret in the query (`auth_key`, `auth_timestamp`,
//! `auth_version=1.0`, `body_md5`, `auth_signature`).
//!
//! Events reach the sockets of this process; across instances they will
//! travel with the bus when realtime scales out.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::realtime::{apps, channel, protocol, sign, App};
use crate::state::AppState;

/// How far `auth_timestamp` may be from the server's clock, in seconds.
pub const TIMESTAMP_TOLERANCE_SECS: i64 = 600;
/// Pusher's limits: an event name's length, events in one batch.
const MAX_NAME_LEN: usize = 200;
const MAX_BATCH: usize = 10;

/// A refusal, in the API's error shape.
pub struct Refused {
    status: StatusCode,
    code: &'static str,
    message: String,
}

fn refused(status: StatusCode, code: &'static str, message: impl Into<String>) -> Refused {
    Refused {
        status,
        code,
        message: message.into(),
    }
}

fn unauthorized(message: impl Into<String>) -> Refused {
    refused(StatusCode::UNAUTHORIZED, "bad_signature", message)
}

fn invalid(message: impl Into<String>) -> Refused {
    refused(StatusCode::BAD_REQUEST, "invalid_event", message)
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        let body = json!({"error": {"code": self.code, "message": self.message}});
        (self.status, axum::Json(body)).into_response()
    }
}

impl From<anyhow::Error> for Refused {
    fn from(e: anyhow::Error) -> Self {
        tracing::error!(error = %format!("{e:#}"), "realtime: HTTP events API");
        refused(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error",
        )
    }
}

/// The app named in the path, if the query is signed with its secret.
async fn authenticate(
    state: &AppState,
    app_id: &str,
    uri: &Uri,
    params: &[(String, String)],
    body: &[u8],
) -> Result<Arc<App>, Refused> {
    let not_found = || refused(StatusCode::NOT_FOUND, "app_not_found", "no such app");
    let id: i64 = app_id.parse().map_err(|_| not_found())?;
    let app = apps::by_id(state, id).await?.ok_or_else(not_found)?;
    let get = |key: &str| {
        params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    };
    if get("auth_key") != Some(app.key.as_str()) {
        return Err(unauthorized("auth_key is not this app's key"));
    }
    if get("auth_version") != Some("1.0") {
        return Err(unauthorized("auth_version must be 1.0"));
    }
    let Some(ts) = get("auth_timestamp").and_then(|t| t.parse::<i64>().ok()) else {
        return Err(unauthorized("auth_timestamp (unix seconds) is missing"));
    };
    let now = blazz_store::now_ms() / 1000;
    if (now - ts).abs() > TIMESTAMP_TOLERANCE_SECS {
        return Err(unauthorized(format!(
            "auth_timestamp is more than {TIMESTAMP_TOLERANCE_SECS} s away from the server's time ({now})"
        )));
    }
    let given_md5 = get("body_md5");
    if (!body.is_empty() || given_md5.is_some())
        && given_md5.map(str::to_lowercase) != Some(sign::body_md5(body))
    {
        return Err(unauthorized("body_md5 does not match the body"));
    }
    let Some(signature) = get("auth_signature") else {
        return Err(unauthorized("auth_signature is missing"));
    };
    if !sign::verify_api_signature(app.secret(), "POST", uri.path(), params, signature) {
        return Err(unauthorized(
            "Invalid signature: the request is not signed with this app's secret",
        ));
    }
    Ok(app)
}

#[derive(Deserialize)]
struct Trigger {
    name: String,
    data: Value,
    channels: Option<Vec<String>>,
    channel: Option<String>,
    socket_id: Option<String>,
}

/// A checked event, ready to send.
struct Checked {
    name: String,
    data: String,
    channels: Vec<String>,
    socket_id: Option<String>,
}

fn check(state: &AppState, t: Trigger) -> Result<Checked, Refused> {
    let limits = &state.config.realtime;
    if t.name.is_empty() || t.name.len() > MAX_NAME_LEN {
        return Err(invalid(format!(
            "name must be 1 to {MAX_NAME_LEN} characters"
        )));
    }
    let channels: Vec<String> = t
        .channels
        .unwrap_or_default()
        .into_iter()
        .chain(t.channel)
        .collect();
    if channels.is_empty() || channels.len() > limits.max_event_channels {
        return Err(invalid(format!(
            "an event goes to 1 to {} channels",
            limits.max_event_channels
        )));
    }
    if let Some(bad) = channels.iter().find(|c| !channel::valid_name(c)) {
        return Err(invalid(format!("invalid channel name {bad:?}")));
    }
    // Pusher's `data` is text (SDKs JSON-encode it); anything else is sent
    // as its JSON text.
    let data = match t.data {
        Value::String(s) => s,
        other => other.to_string(),
    };
    if data.len() > limits.max_event_bytes {
        return Err(refused(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("data is over {} bytes", limits.max_event_bytes),
        ));
    }
    Ok(Checked {
        name: t.name,
        data,
        channels,
        socket_id: t.socket_id,
    })
}

fn send(state: &AppState, app: &App, e: &Checked) {
    let hub = &state.realtime.hub;
    let except = e
        .socket_id
        .as_deref()
        .and_then(|s| hub.find_socket(app.workspace_id, s));
    for channel in &e.channels {
        hub.broadcast(app.workspace_id, channel, except, || {
            protocol::frame(&e.name, Some(channel), &e.data)
        });
    }
}

fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Refused> {
    serde_json::from_slice(body).map_err(|e| invalid(format!("the body is not a valid event: {e}")))
}

type QueryPairs = Result<Query<Vec<(String, String)>>, axum::extract::rejection::QueryRejection>;

/// `POST /apps/{app_id}/events`: `{"name", "data", "channels"|"channel", "socket_id"?}`.
pub async fn events(
    State(state): State<AppState>,
    Path(app_id): Path<String>,
    query: QueryPairs,
    uri: Uri,
    body: Bytes,
) -> Result<axum::Json<Value>, Refused> {
    let Ok(Query(params)) = query else {
        return Err(unauthorized("the query string is malformed"));
    };
    let app = authenticate(&state, &app_id, &uri, &params, &body).await?;
    let event = check(&state, parse(&body)?)?;
    send(&state, &app, &event);
    Ok(axum::Json(json!({})))
}

#[derive(Deserialize)]
struct Batch {
    batch: Vec<Trigger>,
}

/// `POST /apps/{app_id}/batch_events`: `{"batch": [{"channel", "name", "data"}, ...]}`, up to 10.
pub async fn batch_events(
    State(state): State<AppState>,
    Path(app_id): Path<String>,
    query: QueryPairs,
    uri: Uri,
    body: Bytes,
) -> Result<axum::Json<Value>, Refused> {
    let Ok(Query(params)) = query else {
        return Err(unauthorized("the query string is malformed"));
    };
    let app = authenticate(&state, &app_id, &uri, &params, &body).await?;
    let batch: Batch = parse(&body)?;
    if batch.batch.len() > MAX_BATCH {
        return Err(invalid(format!("a batch holds {MAX_BATCH} events at most")));
    }
    let checked = batch
        .batch
        .into_iter()
        .map(|t| check(&state, t))
        .collect::<Result<Vec<_>, _>>()?;
    for event in &checked {
        send(&state, &app, event);
    }
    Ok(axum::Json(json!({})))
}
