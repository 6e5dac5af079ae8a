//! `POST /broadcasting/auth`: what pusher-js and Laravel Echo ask before
//! subscribing to a private or presence channel. The caller (a signed-in
//! browser or an API token) gets a signature for its own workspace's
//! channels; anything else is 403.

use axum::extract::{FromRequest, Request, State};
use axum::http::header;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::Json;
use crate::realtime::channel::{self, Kind};
use crate::realtime::{access, apps, sign};
use crate::state::AppState;

#[derive(Deserialize)]
pub struct AuthRequest {
    pub socket_id: String,
    pub channel_name: String,
}

fn valid_socket_id(s: &str) -> bool {
    match s.split_once('.') {
        Some((a, b)) => [a, b]
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 20 && p.bytes().all(|c| c.is_ascii_digit())),
        None => false,
    }
}

/// Form fields (what pusher-js sends) or a JSON body.
async fn read(req: Request, state: &AppState) -> ApiResult<AuthRequest> {
    let json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if json {
        let Json(body) = Json::<AuthRequest>::from_request(req, state).await?;
        return Ok(body);
    }
    match axum::Form::<AuthRequest>::from_request(req, state).await {
        Ok(axum::Form(body)) => Ok(body),
        Err(e) => Err(ApiError::invalid("invalid_body", e.body_text())),
    }
}

pub async fn authorize(
    State(state): State<AppState>,
    caller: Caller,
    req: Request,
) -> ApiResult<Json<Value>> {
    let body = read(req, &state).await?;
    if !valid_socket_id(&body.socket_id) {
        return Err(ApiError::invalid(
            "invalid_socket_id",
            "socket_id must look like 123.456 (from pusher:connection_established)",
        ));
    }
    let name = body.channel_name;
    if !channel::valid_name(&name) {
        return Err(ApiError::invalid(
            "invalid_channel",
            "channel_name must be 1 to 164 characters of A-Z a-z 0-9 _ - = @ , . ;",
        ));
    }
    if !access::may_subscribe(&state, &caller, &name).await? {
        return Err(ApiError::forbidden(format!(
            "this caller may not subscribe to {name}"
        )));
    }
    let app = apps::of_workspace(&state, caller.workspace_id).await?;
    let answer = match channel::kind(&name) {
        Kind::Presence => {
            let data = access::channel_data(&caller);
            let auth =
                sign::channel_auth(&app.key, app.secret(), &body.socket_id, &name, Some(&data));
            json!({"auth": auth, "channel_data": data})
        }
        _ => {
            json!({"auth": sign::channel_auth(&app.key, app.secret(), &body.socket_id, &name, None)})
        }
    };
    Ok(Json(answer))
}

#[cfg(test)]
mod tests {
    use super::valid_socket_id;

    #[test]
    fn socket_ids_are_two_numbers() {
        assert!(valid_socket_id("1234.1234"));
        assert!(!valid_socket_id("1234"));
        assert!(!valid_socket_id("1234."));
        assert!(!valid_socket_id("a.1"));
        assert!(!valid_socket_id("1.2:private-x"));
    }
}
