//! Outgoing webhook endpoints of the workspace (admins): create, read,
//! change, delete, rotate the secret, the delivery log, replays and test
//! pings. See `docs/webhooks.md`.

use axum::extract::State;
use axum::http::StatusCode;
use blazz_domain::Role;
use blazz_store::webhooks::{self as store, state as delivery_state, Delivery, Endpoint};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::contacts::present;
use super::{rfc3339, ErrorBody, Page};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::{Json, Path, Query};
use crate::state::AppState;
use crate::webhooks::service::{self, Changes};

#[derive(Serialize, ToSchema)]
pub struct WebhookView {
    pub id: String,
    pub url: String,
    pub description: Option<String>,
    /// Public event names, or `["*"]`.
    pub events: Vec<String>,
    pub enabled: bool,
    pub disabled_at: Option<String>,
    /// Why it was disabled: by whom, or after which failures.
    pub disabled_reason: Option<String>,
    /// Since when every attempt has failed (null after a success).
    pub failing_since: Option<String>,
    pub secret_rotated_at: Option<String>,
    /// Until when the secret replaced by the last rotation still signs.
    pub previous_secret_expires_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// `whsec_...`: only in the answers to creation and rotation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

impl WebhookView {
    fn new(e: Endpoint, secret: Option<String>) -> Self {
        let now = blazz_store::now_ms();
        Self {
            id: e.id.to_string(),
            enabled: e.enabled(),
            url: e.url,
            description: e.description,
            events: e.events,
            disabled_at: e.disabled_at.map(rfc3339),
            disabled_reason: e.disabled_reason,
            failing_since: e.failing_since.map(rfc3339),
            secret_rotated_at: e.secret_rotated_at.map(rfc3339),
            previous_secret_expires_at: e.previous_secret_until.filter(|t| *t > now).map(rfc3339),
            created_at: rfc3339(e.created_at),
            updated_at: rfc3339(e.updated_at),
            secret,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct DeliveryView {
    pub id: String,
    /// A public event name, or `webhook.test`.
    pub event_type: String,
    /// The outbox sequence number of the event (null for test pings).
    pub event_seq: Option<i64>,
    /// The `webhook-id` header: the same on every attempt and replay.
    pub message_id: String,
    /// `pending`, `delivered` or `failed`.
    pub state: String,
    pub attempts: i64,
    /// Of the last attempt.
    pub status_code: Option<i64>,
    pub latency_ms: Option<i64>,
    /// The start of the last response's body (at most 1 KiB).
    pub response: Option<String>,
    pub error: Option<String>,
    pub next_attempt_at: Option<String>,
    pub last_attempt_at: Option<String>,
    pub created_at: String,
    pub delivered_at: Option<String>,
    /// The body sent: `{"type", "timestamp", "data"}`.
    #[schema(value_type = Object)]
    pub payload: Value,
}

impl From<Delivery> for DeliveryView {
    fn from(d: Delivery) -> Self {
        Self {
            id: d.id.to_string(),
            event_type: d.event_type,
            event_seq: d.event_seq,
            message_id: d.message_id,
            next_attempt_at: (d.state == delivery_state::PENDING)
                .then_some(d.next_attempt_at)
                .flatten()
                .map(rfc3339),
            state: d.state,
            attempts: d.attempts,
            status_code: d.status_code,
            latency_ms: d.latency_ms,
            response: d.response,
            error: d.error,
            last_attempt_at: d.last_attempt_at.map(rfc3339),
            created_at: rfc3339(d.created_at),
            delivered_at: d.delivered_at.map(rfc3339),
            payload: serde_json::from_str(&d.body).unwrap_or(Value::Null),
        }
    }
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct WebhookBody {
    /// http or https, a public address (required to create).
    pub url: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    /// Public event names, or `["*"]` (the default) for every event.
    pub events: Option<Vec<String>>,
    /// `false` stops deliveries (pending ones fail); `true` resumes them.
    pub enabled: Option<bool>,
}

impl From<WebhookBody> for Changes {
    fn from(b: WebhookBody) -> Self {
        Changes {
            url: b.url,
            description: b.description,
            events: b.events,
            enabled: b.enabled,
        }
    }
}

/// The workspace's webhook endpoints.
#[utoipa::path(get, path = "/webhooks", tag = "webhooks",
    responses((status = 200, body = Page<WebhookView>), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Page<WebhookView>>> {
    caller.require(Role::Admin)?;
    let mut conn = state.db.pool.acquire().await?;
    let all = store::list_endpoints(&mut conn, caller.workspace_id).await?;
    Ok(Json(Page::all(
        all.into_iter().map(|e| WebhookView::new(e, None)).collect(),
    )))
}

/// Adds an endpoint. The answer's `secret` is shown this once.
#[utoipa::path(post, path = "/webhooks", tag = "webhooks", request_body = WebhookBody,
    responses((status = 201, body = WebhookView), (status = 403, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<WebhookBody>,
) -> ApiResult<(StatusCode, Json<WebhookView>)> {
    caller.require(Role::Admin)?;
    let (e, secret) = service::create(&state, &caller, body.into()).await?;
    Ok((
        StatusCode::CREATED,
        Json(WebhookView::new(e, Some(secret.to_string()))),
    ))
}

/// One endpoint.
#[utoipa::path(get, path = "/webhooks/{id}", tag = "webhooks", params(("id" = String, Path)),
    responses((status = 200, body = WebhookView), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<WebhookView>> {
    caller.require(Role::Admin)?;
    let mut conn = state.db.pool.acquire().await?;
    Ok(Json(WebhookView::new(
        service::find(&mut conn, &caller, &id).await?,
        None,
    )))
}

/// Changes the fields given (`null` clears the description).
#[utoipa::path(patch, path = "/webhooks/{id}", tag = "webhooks", params(("id" = String, Path)),
    request_body = WebhookBody,
    responses((status = 200, body = WebhookView), (status = 404, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<WebhookBody>,
) -> ApiResult<Json<WebhookView>> {
    caller.require(Role::Admin)?;
    let e = service::update(&state, &caller, &id, body.into()).await?;
    Ok(Json(WebhookView::new(e, None)))
}

/// Deletes an endpoint with its secrets and delivery log.
#[utoipa::path(delete, path = "/webhooks/{id}", tag = "webhooks", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    caller.require(Role::Admin)?;
    service::delete(&state, &caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A new secret, shown this once; the previous one also signs (a second
/// signature in `webhook-signature`) for `webhooks.rotation_overlap_secs`.
#[utoipa::path(post, path = "/webhooks/{id}/rotate-secret", tag = "webhooks", params(("id" = String, Path)),
    responses((status = 200, body = WebhookView), (status = 404, body = ErrorBody)))]
pub async fn rotate_secret(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<WebhookView>> {
    caller.require(Role::Admin)?;
    let (e, secret) = service::rotate(&state, &caller, &id).await?;
    Ok(Json(WebhookView::new(e, Some(secret.to_string()))))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveriesQuery {
    /// `pending`, `delivered` or `failed`.
    pub state: Option<String>,
    pub cursor: Option<String>,
    /// 1 to 200, default 50.
    pub limit: Option<i64>,
}

/// The endpoint's deliveries, newest first.
#[utoipa::path(get, path = "/webhooks/{id}/deliveries", tag = "webhooks",
    params(("id" = String, Path), DeliveriesQuery),
    responses((status = 200, body = Page<DeliveryView>), (status = 404, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn deliveries(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<DeliveriesQuery>,
) -> ApiResult<Json<Page<DeliveryView>>> {
    caller.require(Role::Admin)?;
    let mut conn = state.db.pool.acquire().await?;
    let e = service::find(&mut conn, &caller, &id).await?;
    let filter = match q.state.as_deref() {
        None => None,
        Some(
            s @ (delivery_state::PENDING | delivery_state::DELIVERED | delivery_state::FAILED),
        ) => Some(s),
        Some(_) => {
            return Err(ApiError::invalid(
                "invalid_query",
                "state is pending, delivered or failed",
            ))
        }
    };
    let before = match q.cursor.as_deref() {
        Some(c) => Some(
            c.parse()
                .map_err(|_| ApiError::invalid("invalid_cursor", "not a cursor of this list"))?,
        ),
        None => None,
    };
    let limit = super::page_limit(q.limit);
    let found =
        store::list_deliveries(&mut conn, e.workspace_id, e.id, filter, before, limit).await?;
    Ok(Json(Page::of(
        found,
        limit,
        |d| d.seq.to_string(),
        Into::into,
    )))
}

/// Sends one delivery again (whatever its state), from the start of the
/// retry schedule, with the same `webhook-id`.
#[utoipa::path(post, path = "/webhooks/{id}/deliveries/{delivery_id}/replay", tag = "webhooks",
    params(("id" = String, Path), ("delivery_id" = String, Path)),
    responses((status = 202, body = DeliveryView), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody)))]
pub async fn replay_delivery(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, delivery)): Path<(String, String)>,
) -> ApiResult<(StatusCode, Json<DeliveryView>)> {
    caller.require(Role::Admin)?;
    let d = service::replay_one(&state, &caller, &id, &delivery).await?;
    Ok((StatusCode::ACCEPTED, Json(d.into())))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplayBody {
    /// RFC 3339: every failed delivery created since then is sent again.
    pub since: String,
}

#[derive(Serialize, ToSchema)]
pub struct Replayed {
    /// How many deliveries were queued again.
    pub replayed: u64,
}

/// Sends every failed delivery created since `since` again.
#[utoipa::path(post, path = "/webhooks/{id}/replay", tag = "webhooks", params(("id" = String, Path)),
    request_body = ReplayBody,
    responses((status = 202, body = Replayed), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn replay(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<ReplayBody>,
) -> ApiResult<(StatusCode, Json<Replayed>)> {
    caller.require(Role::Admin)?;
    let since = chrono::DateTime::parse_from_rfc3339(body.since.trim())
        .map_err(|_| ApiError::invalid("invalid_since", "since is an RFC 3339 time"))?
        .timestamp_millis();
    let replayed = service::replay_since(&state, &caller, &id, since).await?;
    Ok((StatusCode::ACCEPTED, Json(Replayed { replayed })))
}

/// Queues a `webhook.test` ping to the endpoint; follow it in the
/// delivery log.
#[utoipa::path(post, path = "/webhooks/{id}/test", tag = "webhooks", params(("id" = String, Path)),
    responses((status = 202, body = DeliveryView), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody)))]
pub async fn test(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<DeliveryView>)> {
    caller.require(Role::Admin)?;
    let d = service::test(&state, &caller, &id).await?;
    Ok((StatusCode::ACCEPTED, Json(d.into())))
}
