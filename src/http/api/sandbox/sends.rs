//! What a sandbox number sent through the network (messages, read receipts,
//! typing indicators), as tests and demos check it, and faults on its sends:
//! receipts told on demand and failed sends. See docs/sandbox.md.

use axum::extract::State;
use axum::http::StatusCode;
use blazz_domain::AccountId;
use blazz_provider::{MessageBody, ReceiptStatus};
use blazz_sandbox::FailureKind;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::network;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::http::api::ErrorBody;
use crate::http::extract::{Json, Path, Query};
use crate::state::AppState;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReceivedQuery {
    /// How many of the newest messages, 0 to 1000 (default 100).
    pub limit: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct SandboxReceived {
    /// Every message the network received from this number (a resend of
    /// an id it has counts once).
    pub count: usize,
    /// The newest ones, oldest first.
    pub messages: Vec<SandboxReceivedMessage>,
}

#[derive(Serialize, ToSchema)]
pub struct SandboxReceivedMessage {
    /// The message id Blazz chose for the send.
    pub id: String,
    pub to: String,
    /// The message body as sent, e.g. `{"type":"text","text":".."}`.
    #[schema(value_type = Object)]
    pub body: MessageBody,
    /// When the network accepted it, unix milliseconds.
    pub at: i64,
    /// The media bytes it carried, described (absent without media).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub media: Option<SandboxMedia>,
}

#[derive(Serialize, ToSchema)]
pub struct SandboxMedia {
    pub mime_type: String,
    pub filename: Option<String>,
    /// In bytes.
    pub size: usize,
}

#[derive(Serialize, ToSchema)]
pub struct SandboxRead {
    /// The chat marked read (the customer's number).
    pub chat: String,
    /// The provider ids of the messages marked read.
    pub ids: Vec<String>,
    /// Unix milliseconds.
    pub at: i64,
}

#[derive(Serialize, ToSchema)]
pub struct SandboxTyping {
    pub chat: String,
    /// Typing (true) or stopped (false).
    pub typing: bool,
    /// Unix milliseconds.
    pub at: i64,
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SandboxReceiptStatus {
    Sent,
    Delivered,
    Read,
    Failed,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InjectReceipt {
    /// Any id: the network need not know it.
    pub provider_message_id: String,
    pub status: SandboxReceiptStatus,
    /// Why, for `failed`.
    pub error: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SendFailureKind {
    /// Worth retrying (a network error, a timeout).
    Transient,
    /// Retrying will not help.
    Permanent,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendFailures {
    /// How many of the next sends fail (0 takes injected failures back).
    pub count: u32,
    pub kind: SendFailureKind,
    /// The provider's error message (a made-up one when absent).
    pub reason: Option<String>,
}

/// The messages this number sent through the network, newest last.
#[utoipa::path(get, path = "/sandbox/accounts/{id}/received", tag = "sandbox",
    params(("id" = String, Path), ReceivedQuery),
    responses((status = 200, body = SandboxReceived), (status = 404, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn received(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<AccountId>,
    Query(q): Query<ReceivedQuery>,
) -> ApiResult<Json<SandboxReceived>> {
    let net = network(&state, &caller, id).await?;
    let limit = q.limit.unwrap_or(100).min(1_000) as usize;
    let received = net.received(&id.to_string(), limit);
    let messages = received
        .messages
        .into_iter()
        .map(|m| SandboxReceivedMessage {
            id: m.id,
            to: m.to,
            body: m.body,
            at: m.at,
            media: m.media.map(|m| SandboxMedia {
                mime_type: m.mime_type,
                filename: m.filename,
                size: m.size,
            }),
        })
        .collect();
    Ok(Json(SandboxReceived {
        count: received.count,
        messages,
    }))
}

/// The read receipts this number sent (Blazz marked chats read), oldest
/// first; the last 1,000.
#[utoipa::path(get, path = "/sandbox/accounts/{id}/reads", tag = "sandbox", params(("id" = String, Path)),
    responses((status = 200, body = Vec<SandboxRead>), (status = 404, body = ErrorBody)))]
pub async fn reads(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<AccountId>,
) -> ApiResult<Json<Vec<SandboxRead>>> {
    let net = network(&state, &caller, id).await?;
    let reads = net.reads(&id.to_string()).into_iter();
    Ok(Json(
        reads
            .map(|r| SandboxRead {
                chat: r.chat,
                ids: r.ids,
                at: r.at,
            })
            .collect(),
    ))
}

/// The typing indicators this number sent, oldest first; the last 1,000.
#[utoipa::path(get, path = "/sandbox/accounts/{id}/typing", tag = "sandbox", params(("id" = String, Path)),
    responses((status = 200, body = Vec<SandboxTyping>), (status = 404, body = ErrorBody)))]
pub async fn typing_sent(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<AccountId>,
) -> ApiResult<Json<Vec<SandboxTyping>>> {
    let net = network(&state, &caller, id).await?;
    let typing = net.typing_sent(&id.to_string()).into_iter();
    Ok(Json(
        typing
            .map(|t| SandboxTyping {
                chat: t.chat,
                typing: t.typing,
                at: t.at,
            })
            .collect(),
    ))
}

/// The network tells the live connection a receipt now, for any message id
/// (out-of-order receipts, a failure after delivery). For a message the
/// number sent, it is its latest receipt from then on.
#[utoipa::path(post, path = "/sandbox/accounts/{id}/receipts", tag = "sandbox", params(("id" = String, Path)),
    request_body = InjectReceipt,
    responses((status = 202), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn receipt(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<AccountId>,
    Json(b): Json<InjectReceipt>,
) -> ApiResult<StatusCode> {
    let net = network(&state, &caller, id).await?;
    if b.provider_message_id.is_empty() || b.provider_message_id.len() > 128 {
        return Err(ApiError::invalid(
            "invalid_message_id",
            "provider_message_id must be 1 to 128 characters",
        ));
    }
    let status = match b.status {
        SandboxReceiptStatus::Sent => ReceiptStatus::Sent,
        SandboxReceiptStatus::Delivered => ReceiptStatus::Delivered,
        SandboxReceiptStatus::Read => ReceiptStatus::Read,
        SandboxReceiptStatus::Failed => ReceiptStatus::Failed,
    };
    net.receipt(&id.to_string(), &b.provider_message_id, status, b.error)?;
    Ok(StatusCode::ACCEPTED)
}

/// The next `count` sends of this number fail, transiently or for good,
/// before the network counts or records them.
#[utoipa::path(post, path = "/sandbox/accounts/{id}/send-failures", tag = "sandbox", params(("id" = String, Path)),
    request_body = SendFailures,
    responses((status = 204), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn send_failures(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<AccountId>,
    Json(b): Json<SendFailures>,
) -> ApiResult<StatusCode> {
    let net = network(&state, &caller, id).await?;
    let kind = match b.kind {
        SendFailureKind::Transient => FailureKind::Transient,
        SendFailureKind::Permanent => FailureKind::Permanent,
    };
    net.fail_sends(&id.to_string(), b.count, kind, b.reason);
    Ok(StatusCode::NO_CONTENT)
}
