//! What an admin does to one endpoint from its page: disable or enable
//! it, make a new signing secret (shown once, like at creation), send a
//! test ping, delete it, replay a delivery. Each answers with the
//! endpoint's page; a refusal the admin can act on is shown on it.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;

use super::endpoint::{find, render, Shown};
use super::{field, Fields};
use crate::error::ApiError;
use crate::http::extract::Path;
use crate::http::web::settings::{
    admin, csrf_ok, fixable, forbidden, form_expired, refusal, say, Ctx,
};
use crate::http::web::SignedIn;
use crate::state::AppState;
use crate::webhooks::service::{self, Changes};

/// After an action: the endpoint's page with `shown`, the refusal shown
/// on it, or the page that refuses.
async fn after<T>(
    state: &AppState,
    s: &SignedIn,
    ctx: &Ctx,
    id: &str,
    done: Result<T, ApiError>,
    shown: impl FnOnce(&T) -> Shown<'_>,
) -> Result<Response, ApiError> {
    let e = match find(state, ctx, id).await {
        Ok(e) => e,
        Err(e) => return Ok(refusal(s, e)),
    };
    match done {
        Ok(v) => Ok(render(state, s, &e, shown(&v), None).await?.into_response()),
        Err(err) if fixable(&err) => {
            let text = say(s, &err);
            let page = render(state, s, &e, Shown::Notice(&text), None).await?;
            Ok((err.status(), page).into_response())
        }
        Err(err) => Ok(refusal(s, err)),
    }
}

pub async fn enabled(
    State(state): State<AppState>,
    s: SignedIn,
    Path(id): Path<String>,
    Form(f): Form<Fields>,
) -> Result<Response, ApiError> {
    if !csrf_ok(&s, field(&f, "csrf")) {
        return Ok(form_expired(&s));
    }
    let Some(ctx) = admin(&s) else {
        return Ok(forbidden(&s));
    };
    let on = field(&f, "enabled") == "true";
    let change = Changes {
        enabled: Some(on),
        ..Changes::default()
    };
    match service::update(&state, &ctx.caller, &id, change).await {
        Ok(_) => Ok(Redirect::to(&format!("/settings/webhooks/{id}")).into_response()),
        Err(e) => Ok(refusal(&s, e)),
    }
}

pub async fn rotate(
    State(state): State<AppState>,
    s: SignedIn,
    Path(id): Path<String>,
    Form(f): Form<Fields>,
) -> Result<Response, ApiError> {
    if !csrf_ok(&s, field(&f, "csrf")) {
        return Ok(form_expired(&s));
    }
    let Some(ctx) = admin(&s) else {
        return Ok(forbidden(&s));
    };
    let done = service::rotate(&state, &ctx.caller, &id).await;
    after(&state, &s, &ctx, &id, done, |(_, secret)| {
        Shown::Secret(secret)
    })
    .await
}

pub async fn test(
    State(state): State<AppState>,
    s: SignedIn,
    Path(id): Path<String>,
    Form(f): Form<Fields>,
) -> Result<Response, ApiError> {
    if !csrf_ok(&s, field(&f, "csrf")) {
        return Ok(form_expired(&s));
    }
    let Some(ctx) = admin(&s) else {
        return Ok(forbidden(&s));
    };
    let done = service::test(&state, &ctx.caller, &id).await;
    let text = s.tr.t("settings.webhooks.test_queued");
    after(&state, &s, &ctx, &id, done, |_| Shown::Notice(text)).await
}

pub async fn delete(
    State(state): State<AppState>,
    s: SignedIn,
    Path(id): Path<String>,
    Form(f): Form<Fields>,
) -> Result<Response, ApiError> {
    if !csrf_ok(&s, field(&f, "csrf")) {
        return Ok(form_expired(&s));
    }
    let Some(ctx) = admin(&s) else {
        return Ok(forbidden(&s));
    };
    match service::delete(&state, &ctx.caller, &id).await {
        Ok(()) => Ok(Redirect::to("/settings/webhooks").into_response()),
        Err(e) => Ok(refusal(&s, e)),
    }
}

pub async fn replay(
    State(state): State<AppState>,
    s: SignedIn,
    Path((id, delivery)): Path<(String, String)>,
    Form(f): Form<Fields>,
) -> Result<Response, ApiError> {
    if !csrf_ok(&s, field(&f, "csrf")) {
        return Ok(form_expired(&s));
    }
    let Some(ctx) = admin(&s) else {
        return Ok(forbidden(&s));
    };
    let done = service::replay_one(&state, &ctx.caller, &id, &delivery).await;
    let text = s.tr.t("settings.webhooks.replay_queued");
    after(&state, &s, &ctx, &id, done, |_| Shown::Notice(text)).await
}
