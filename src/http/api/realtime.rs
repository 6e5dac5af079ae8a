//! The workspace's realtime credentials: what the web app and integrators
//! need to connect pusher-js or Laravel Echo, and to call the HTTP events
//! API. Every member reads the app id and key; only admins see the secret
//! and rotate it.

use axum::extract::State;
use blazz_domain::Role;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::error::ApiResult;
use crate::events;
use crate::http::extract::Json;
use crate::realtime::{apps, App};
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct RealtimeView {
    /// The Pusher app id (digits: the official server SDKs want a number).
    pub app_id: String,
    /// The public key pusher-js connects with.
    pub key: String,
    /// Signs channel authorisations and HTTP API calls (admins only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// `ws[s]://host:port/app/{key}`.
    pub ws_url: String,
    /// For pusher-js: `wsHost`, `wsPort`, `forceTLS`.
    pub ws_host: String,
    pub ws_port: u16,
    pub force_tls: bool,
    /// Where pusher-js and Laravel Echo ask for channel signatures.
    pub auth_endpoint: String,
    /// The workspace's channels; `{chat_id}`, `{account_id}` and
    /// `{campaign_id}` stand for ids from the API.
    pub channels: ChannelsView,
    /// Every event name Blazz sends, with what it means.
    pub events: Vec<EventView>,
}

#[derive(Serialize, ToSchema)]
pub struct ChannelsView {
    pub workspace: String,
    pub presence: String,
    pub chat: String,
    pub account: String,
    pub campaign: String,
}

#[derive(Serialize, ToSchema)]
pub struct EventView {
    pub name: String,
    pub description: String,
}

fn view(state: &AppState, app: &App, with_secret: bool) -> RealtimeView {
    let base = state.config.public_url();
    let url = reqwest::Url::parse(&base).ok();
    let force_tls = url.as_ref().is_some_and(|u| u.scheme() == "https");
    let ws_host = url
        .as_ref()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_default();
    let ws_port = url
        .as_ref()
        .and_then(|u| u.port_or_known_default())
        .unwrap_or(80);
    let ws_base = match base.split_once("://") {
        Some((scheme, rest)) => {
            format!("{}://{rest}", if scheme == "https" { "wss" } else { "ws" })
        }
        None => base.clone(),
    };
    let ws = app.workspace_id.to_string();
    RealtimeView {
        app_id: app.id.to_string(),
        key: app.key.clone(),
        secret: with_secret.then(|| app.secret().to_string()),
        ws_url: format!("{ws_base}/app/{}", app.key),
        ws_host,
        ws_port,
        force_tls,
        auth_endpoint: format!("{base}/broadcasting/auth"),
        channels: ChannelsView {
            workspace: events::workspace_channel(&ws),
            presence: events::presence_channel(&ws),
            chat: events::chat_channel("{chat_id}"),
            account: events::account_channel("{account_id}"),
            campaign: events::campaign_channel("{campaign_id}"),
        },
        events: events::NAMES
            .iter()
            .map(|(name, description)| EventView {
                name: name.to_string(),
                description: description.to_string(),
            })
            .collect(),
    }
}

/// The workspace's Pusher app (created on first use). The secret is shown
/// to admins and owners only.
#[utoipa::path(get, path = "/realtime", tag = "realtime",
    responses((status = 200, body = RealtimeView), (status = 401, body = super::ErrorBody)))]
pub async fn get(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<RealtimeView>> {
    let app = apps::of_workspace(&state, caller.workspace_id).await?;
    let admin = caller.role.at_least(Role::Admin);
    Ok(Json(view(&state, &app, admin)))
}

/// New key and secret (admins and owners). The old ones stop working at
/// once on this instance (within 30 s on others); its open sockets are
/// closed with 4200 and must reconnect with the new key.
#[utoipa::path(post, path = "/realtime/rotate", tag = "realtime",
    responses((status = 200, body = RealtimeView), (status = 403, body = super::ErrorBody)))]
pub async fn rotate(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<RealtimeView>> {
    caller.require(Role::Admin)?;
    let app = apps::rotate(&state, &caller).await?;
    Ok(Json(view(&state, &app, true)))
}
