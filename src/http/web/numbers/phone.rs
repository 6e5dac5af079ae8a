//! The sandbox "phone" on a number's page: it approves the link with the
//! code the page shows, and writes to the number as a customer, so that a
//! first-time user can try Blazz without a phone. Admins only, like the
//! sandbox API. The forms post in the background (the page follows live);
//! without the script they redirect back to the page.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use blazz_domain::{AccountId, Role};
use blazz_provider::{InboundMessage, MessageBody};
use blazz_sandbox::SandboxNetwork;
use serde::Deserialize;

use super::{check_csrf, Ctx};
use crate::error::ApiError;
use crate::http::extract::Path;
use crate::http::web::SignedIn;
use crate::services::numbers;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct ScanForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: String,
}

#[derive(Deserialize)]
pub struct InboundForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    text: String,
}

async fn network(state: &AppState, ctx: &Ctx, id: AccountId) -> Result<SandboxNetwork, ApiError> {
    ctx.caller.require(Role::Admin)?;
    let account = numbers::find(state, &ctx.caller, id).await?;
    match state.sessions.sandbox.clone() {
        Some(net) if account.provider == "sandbox" => Ok(net),
        _ => Err(ApiError::not_found("account_not_found", "sandbox account")),
    }
}

pub async fn scan(
    State(state): State<AppState>,
    s: SignedIn,
    Path(id): Path<AccountId>,
    Form(f): Form<ScanForm>,
) -> Result<Response, ApiError> {
    check_csrf(&s, &f.csrf)?;
    let ctx = Ctx::of(&s)?;
    let net = network(&state, &ctx, id).await?;
    net.scan(&id.to_string(), f.code.trim(), None)?;
    Ok(Redirect::to(&format!("/numbers/{id}")).into_response())
}

pub async fn inbound(
    State(state): State<AppState>,
    s: SignedIn,
    Path(id): Path<AccountId>,
    Form(f): Form<InboundForm>,
) -> Result<Response, ApiError> {
    check_csrf(&s, &f.csrf)?;
    let ctx = Ctx::of(&s)?;
    let net = network(&state, &ctx, id).await?;
    let from = f.from.trim().to_string();
    let digits = from.strip_prefix('+').unwrap_or_default();
    if digits.len() < 7 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(ApiError::invalid(
            "invalid_phone",
            "the customer's number must be in E.164 form, e.g. +15551234567",
        ));
    }
    if f.text.trim().is_empty() {
        return Err(ApiError::invalid("invalid_body", "write a message"));
    }
    let message = InboundMessage {
        provider_message_id: format!("SBXIN{}", uuid::Uuid::now_v7().simple()),
        from,
        push_name: None,
        body: MessageBody::Text { text: f.text },
        reply_to: None,
        timestamp_ms: blazz_store::now_ms(),
        media: None,
    };
    net.inbound(&id.to_string(), message)?;
    Ok(Redirect::to(&format!("/numbers/{id}?sent=1")).into_response())
}
