//! What an admin does to a number from its page: link (QR or pair code),
//! unlink, reconnect, delete. Each redirects back to the page; a refusal
//! the admin can act on is shown on it.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use blazz_domain::AccountId;
use serde::Deserialize;

use super::{check_csrf, show, Ctx};
use crate::error::ApiError;
use crate::http::extract::Path;
use crate::http::web::layout::error_text;
use crate::http::web::SignedIn;
use crate::services::numbers;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct LinkForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    phone: String,
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// The number's page again, or what went wrong shown on it.
async fn answer<T>(
    state: &AppState,
    s: &SignedIn,
    ctx: &Ctx,
    id: AccountId,
    done: Result<T, ApiError>,
) -> Result<Response, ApiError> {
    let e = match done {
        Ok(_) => return Ok(Redirect::to(&format!("/numbers/{id}")).into_response()),
        Err(ApiError::NotFound(..)) => return Ok(show::not_found(s)),
        Err(e) => e,
    };
    let shown = matches!(
        e,
        ApiError::Invalid { .. }
            | ApiError::Conflict(..)
            | ApiError::RateLimitedWith { .. }
            | ApiError::Unavailable(..)
    );
    if !shown {
        return Err(e);
    }
    let status = e.status();
    let a = numbers::find(state, &ctx.caller, id).await?;
    let page = show::render(state, s, ctx, &a, Some(&error_text(s.tr, &e)), None).await?;
    Ok((status, page).into_response())
}

pub async fn link(
    State(state): State<AppState>,
    s: SignedIn,
    Path(id): Path<AccountId>,
    Form(f): Form<LinkForm>,
) -> Result<Response, ApiError> {
    check_csrf(&s, &f.csrf)?;
    let ctx = Ctx::of(&s)?;
    let phone = Some(f.phone.trim()).filter(|p| !p.is_empty());
    let done = numbers::link(&state, &ctx.caller, id, phone).await;
    answer(&state, &s, &ctx, id, done).await
}

pub async fn logout(
    State(state): State<AppState>,
    s: SignedIn,
    Path(id): Path<AccountId>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, ApiError> {
    check_csrf(&s, &f.csrf)?;
    let ctx = Ctx::of(&s)?;
    let done = numbers::logout(&state, &ctx.caller, id).await;
    answer(&state, &s, &ctx, id, done).await
}

pub async fn reconnect(
    State(state): State<AppState>,
    s: SignedIn,
    Path(id): Path<AccountId>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, ApiError> {
    check_csrf(&s, &f.csrf)?;
    let ctx = Ctx::of(&s)?;
    let done = numbers::reconnect(&state, &ctx.caller, id).await;
    answer(&state, &s, &ctx, id, done).await
}

pub async fn delete(
    State(state): State<AppState>,
    s: SignedIn,
    Path(id): Path<AccountId>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, ApiError> {
    check_csrf(&s, &f.csrf)?;
    let ctx = Ctx::of(&s)?;
    match numbers::delete(&state, &ctx.caller, id).await {
        Ok(()) => Ok(Redirect::to("/numbers").into_response()),
        Err(ApiError::NotFound(..)) => Ok(show::not_found(&s)),
        Err(e) => Err(e),
    }
}
