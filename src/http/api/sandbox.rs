//! The sandbox "phone" and its customers: approve a link, inject inbound
//! messages (with media), typing and presence, cause faults (drops,
//! silence, outages, logout, bans) and switch pacing enforcement; what the
//! number sends is in `sends`. Only for sandbox numbers, and only when
//! `sandbox.enabled`. See docs/sandbox.md.

pub mod sends;

use axum::extract::State;
use axum::http::StatusCode;
use blazz_domain::{AccountId, Role};
use blazz_provider::{InboundMessage, Media, MessageBody};
use blazz_sandbox::{SandboxError, SandboxNetwork};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::{Json, Path};
use crate::services::numbers;
use crate::state::AppState;

impl From<SandboxError> for ApiError {
    fn from(e: SandboxError) -> Self {
        match e {
            SandboxError::WrongCode => ApiError::invalid("wrong_code", e.to_string()),
            SandboxError::NotLinking => ApiError::Conflict("not_linking", e.to_string()),
            SandboxError::NotConnected => ApiError::Conflict("not_connected", e.to_string()),
        }
    }
}

/// The network, once the caller may use it on this account.
async fn network(
    state: &AppState,
    caller: &Caller,
    id: AccountId,
) -> Result<SandboxNetwork, ApiError> {
    caller.require(Role::Admin)?;
    let Some(net) = state.sessions.sandbox.clone() else {
        return Err(ApiError::NotFound(
            "sandbox_disabled",
            "the sandbox is off (sandbox.enabled)".into(),
        ));
    };
    let account = numbers::find(state, caller, id).await?;
    if account.provider != "sandbox" {
        return Err(ApiError::not_found("account_not_found", "sandbox account"));
    }
    Ok(net)
}

fn check_phone(field: &str, phone: &str) -> Result<(), ApiError> {
    let digits = phone.strip_prefix('+').unwrap_or_default();
    if digits.len() < 7 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(ApiError::invalid(
            "invalid_phone",
            format!("{field} must be in E.164 form, e.g. +15551234567"),
        ));
    }
    Ok(())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Scan {
    /// The QR code's text, or the pair code, that the phone saw.
    pub code: String,
    /// The phone's number (E.164); made up when absent.
    pub phone: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Inbound {
    /// The customer's number (E.164).
    pub from: String,
    pub push_name: Option<String>,
    /// A text message...
    pub text: Option<String>,
    /// ...or any message body, e.g. `{"type":"location","latitude":..}`.
    #[schema(value_type = Option<Object>)]
    pub body: Option<MessageBody>,
    pub reply_to: Option<String>,
    /// The provider message id (made up when absent; resend one to test dedup).
    pub id: Option<String>,
    /// The bytes of a media message, handed on as the provider downloaded them.
    pub media: Option<InboundMedia>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InboundMedia {
    /// E.g. `image/jpeg`.
    pub mime_type: String,
    pub filename: Option<String>,
    /// The bytes in base64 (standard alphabet; padding optional).
    pub data_base64: String,
}

impl InboundMedia {
    fn decode(self) -> Result<Media, ApiError> {
        let mime_type = self.mime_type.trim();
        if !mime_type.contains('/') || mime_type.len() > 255 {
            return Err(ApiError::invalid(
                "invalid_media",
                "media.mime_type must be a MIME type, e.g. image/jpeg",
            ));
        }
        let text = self.data_base64.trim().as_bytes();
        let data = data_encoding::BASE64
            .decode(text)
            .or_else(|_| data_encoding::BASE64_NOPAD.decode(text))
            .map_err(|_| ApiError::invalid("invalid_media", "media.data_base64 is not base64"))?;
        Ok(Media {
            mime_type: mime_type.to_string(),
            filename: self.filename,
            data,
        })
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Typing {
    pub from: String,
    pub typing: bool,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Presence {
    /// The customer's number (E.164).
    pub from: String,
    /// Online (true) or offline (false).
    pub available: bool,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Outage {
    /// The network is unreachable for this number (true), or back (false).
    pub down: bool,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PacingSwitch {
    /// Whether this number is banned for messaging contacts who never
    /// wrote to it faster than the pacing limits.
    pub enforce: bool,
}

/// The phone approves the link with the code it saw.
#[utoipa::path(post, path = "/sandbox/accounts/{id}/scan", tag = "sandbox", params(("id" = String, Path)),
    request_body = Scan,
    responses((status = 204), (status = 404, body = crate::http::api::ErrorBody),
              (status = 409, body = crate::http::api::ErrorBody), (status = 422, body = crate::http::api::ErrorBody)))]
pub async fn scan(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<AccountId>,
    Json(b): Json<Scan>,
) -> ApiResult<StatusCode> {
    let net = network(&state, &caller, id).await?;
    net.scan(&id.to_string(), &b.code, b.phone)?;
    Ok(StatusCode::NO_CONTENT)
}

/// A customer sends this number a message (with media bytes, if given).
#[utoipa::path(post, path = "/sandbox/accounts/{id}/inbound", tag = "sandbox", params(("id" = String, Path)),
    request_body = Inbound,
    responses((status = 202), (status = 404, body = crate::http::api::ErrorBody),
              (status = 409, body = crate::http::api::ErrorBody), (status = 422, body = crate::http::api::ErrorBody)))]
pub async fn inbound(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<AccountId>,
    Json(b): Json<Inbound>,
) -> ApiResult<StatusCode> {
    let net = network(&state, &caller, id).await?;
    let body = match (b.body, b.text) {
        (Some(body), None) => body,
        (None, Some(text)) => MessageBody::Text { text },
        _ => {
            return Err(ApiError::invalid(
                "invalid_body",
                "give exactly one of text and body",
            ))
        }
    };
    check_phone("from", &b.from)?;
    let media = b.media.map(InboundMedia::decode).transpose()?;
    let message = InboundMessage {
        provider_message_id: b
            .id
            .unwrap_or_else(|| format!("SBXIN{}", uuid::Uuid::now_v7().simple())),
        from: b.from,
        push_name: b.push_name,
        body,
        reply_to: b.reply_to,
        timestamp_ms: blazz_store::now_ms(),
        media,
    };
    net.inbound(&id.to_string(), message)?;
    Ok(StatusCode::ACCEPTED)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PhoneSend {
    /// The contact the owner writes to (E.164).
    pub to: String,
    pub text: String,
}

/// The number's owner writes to a contact from the phone itself: Blazz
/// stores it as an outbound message (`source: phone`), and campaign sends
/// from the number pause for a few minutes.
#[utoipa::path(post, path = "/sandbox/accounts/{id}/phone-send", tag = "sandbox", params(("id" = String, Path)),
    request_body = PhoneSend,
    responses((status = 202), (status = 404, body = crate::http::api::ErrorBody),
              (status = 409, body = crate::http::api::ErrorBody), (status = 422, body = crate::http::api::ErrorBody)))]
pub async fn phone_send(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<AccountId>,
    Json(b): Json<PhoneSend>,
) -> ApiResult<StatusCode> {
    let net = network(&state, &caller, id).await?;
    check_phone("to", &b.to)?;
    if b.text.trim().is_empty() {
        return Err(ApiError::invalid("invalid_body", "write a message"));
    }
    let message = InboundMessage {
        provider_message_id: format!("SBXME{}", uuid::Uuid::now_v7().simple()),
        from: b.to,
        push_name: None,
        body: MessageBody::Text { text: b.text },
        reply_to: None,
        timestamp_ms: blazz_store::now_ms(),
        media: None,
    };
    net.sent_from_phone(&id.to_string(), message)?;
    Ok(StatusCode::ACCEPTED)
}

/// A customer starts or stops typing.
#[utoipa::path(post, path = "/sandbox/accounts/{id}/typing", tag = "sandbox", params(("id" = String, Path)),
    request_body = Typing, responses((status = 202), (status = 409, body = crate::http::api::ErrorBody)))]
pub async fn typing(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<AccountId>,
    Json(b): Json<Typing>,
) -> ApiResult<StatusCode> {
    let net = network(&state, &caller, id).await?;
    net.typing(&id.to_string(), &b.from, b.typing)?;
    Ok(StatusCode::ACCEPTED)
}

/// A customer comes online or goes offline.
#[utoipa::path(post, path = "/sandbox/accounts/{id}/presence", tag = "sandbox", params(("id" = String, Path)),
    request_body = Presence,
    responses((status = 202), (status = 409, body = crate::http::api::ErrorBody), (status = 422, body = crate::http::api::ErrorBody)))]
pub async fn presence(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<AccountId>,
    Json(b): Json<Presence>,
) -> ApiResult<StatusCode> {
    let net = network(&state, &caller, id).await?;
    check_phone("from", &b.from)?;
    net.presence(&id.to_string(), &b.from, b.available)?;
    Ok(StatusCode::ACCEPTED)
}

/// The network becomes unreachable for this number (`down: true`): the
/// live connection drops and every reconnect fails until `down: false`.
#[utoipa::path(post, path = "/sandbox/accounts/{id}/outage", tag = "sandbox", params(("id" = String, Path)),
    request_body = Outage,
    responses((status = 204), (status = 404, body = crate::http::api::ErrorBody)))]
pub async fn outage(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<AccountId>,
    Json(b): Json<Outage>,
) -> ApiResult<StatusCode> {
    network(&state, &caller, id)
        .await?
        .outage(&id.to_string(), b.down);
    Ok(StatusCode::NO_CONTENT)
}

/// Switches pacing enforcement for this number: off, it may message
/// contacts who never wrote as fast as it likes (tests that need speed).
#[utoipa::path(post, path = "/sandbox/accounts/{id}/pacing", tag = "sandbox", params(("id" = String, Path)),
    request_body = PacingSwitch,
    responses((status = 204), (status = 404, body = crate::http::api::ErrorBody)))]
pub async fn pacing_switch(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<AccountId>,
    Json(b): Json<PacingSwitch>,
) -> ApiResult<StatusCode> {
    network(&state, &caller, id)
        .await?
        .enforce_pacing(&id.to_string(), b.enforce);
    Ok(StatusCode::NO_CONTENT)
}

/// The network drops the connection (the link stays; Blazz reconnects).
#[utoipa::path(post, path = "/sandbox/accounts/{id}/disconnect", tag = "sandbox", params(("id" = String, Path)),
    responses((status = 204), (status = 409, body = crate::http::api::ErrorBody)))]
pub async fn disconnect(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<AccountId>,
) -> ApiResult<StatusCode> {
    network(&state, &caller, id)
        .await?
        .disconnect(&id.to_string())?;
    Ok(StatusCode::NO_CONTENT)
}

/// The connection stays open but stops answering (a silent disconnect,
/// which Blazz's health probe detects).
#[utoipa::path(post, path = "/sandbox/accounts/{id}/silence", tag = "sandbox", params(("id" = String, Path)),
    responses((status = 204), (status = 409, body = crate::http::api::ErrorBody)))]
pub async fn silence(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<AccountId>,
) -> ApiResult<StatusCode> {
    network(&state, &caller, id)
        .await?
        .go_silent(&id.to_string())?;
    Ok(StatusCode::NO_CONTENT)
}

/// The owner unlinks the device from the phone.
#[utoipa::path(post, path = "/sandbox/accounts/{id}/logout", tag = "sandbox", params(("id" = String, Path)),
    responses((status = 204), (status = 409, body = crate::http::api::ErrorBody)))]
pub async fn logout(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<AccountId>,
) -> ApiResult<StatusCode> {
    network(&state, &caller, id)
        .await?
        .log_out(&id.to_string())?;
    Ok(StatusCode::NO_CONTENT)
}

/// WhatsApp bans the number.
#[utoipa::path(post, path = "/sandbox/accounts/{id}/ban", tag = "sandbox", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = crate::http::api::ErrorBody)))]
pub async fn ban(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<AccountId>,
) -> ApiResult<StatusCode> {
    network(&state, &caller, id).await?.ban(&id.to_string())?;
    Ok(StatusCode::NO_CONTENT)
}
