//! What an admin does to a campaign from its page: start, pause, resume,
//! cancel, delete, through the API's service. Each redirects back to the
//! page; a refusal the admin can act on (the campaign moved on meanwhile)
//! is shown on it.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use blazz_domain::campaign::CampaignAction;
use serde::Deserialize;

use super::recipients::Place;
use super::{
    campaign_id, check_csrf, expired, explain, no_workspace, not_found, refused, show, Ctx,
};
use crate::campaigns::service;
use crate::error::ApiError;
use crate::http::extract::Path;
use crate::http::web::SignedIn;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// Which change a button asks for.
enum Change {
    Act(CampaignAction),
    Delete,
}

async fn change(
    state: AppState,
    s: SignedIn,
    raw: String,
    csrf: String,
    what: Change,
) -> Result<Response, ApiError> {
    if check_csrf(&s, &csrf).is_err() {
        return Ok(expired(&s));
    }
    let Ok(ctx) = Ctx::of(&s) else {
        return Ok(no_workspace());
    };
    let Some(id) = campaign_id(&raw) else {
        return Ok(not_found(&s));
    };
    let done = match what {
        Change::Act(a) => service::act(&state, &ctx.caller, id, a).await.map(|_| ()),
        Change::Delete => {
            return match service::delete(&state, &ctx.caller, id).await {
                Ok(()) => Ok(Redirect::to("/campaigns").into_response()),
                Err(e @ ApiError::Conflict(..)) => shown(&state, &s, &ctx, id, e).await,
                Err(e) => Ok(refused(&s, e)),
            };
        }
    };
    match done {
        Ok(()) => Ok(Redirect::to(&format!("/campaigns/{id}")).into_response()),
        Err(e @ (ApiError::Conflict(..) | ApiError::Invalid { .. })) => {
            shown(&state, &s, &ctx, id, e).await
        }
        Err(e) => Ok(refused(&s, e)),
    }
}

/// The campaign's page with the refusal on it.
async fn shown(
    state: &AppState,
    s: &SignedIn,
    ctx: &Ctx,
    id: blazz_domain::CampaignId,
    e: ApiError,
) -> Result<Response, ApiError> {
    let status = e.status();
    let why = explain(s.tr, &e);
    let page = show::render(state, s, ctx, id, &Place::default(), Some(&why)).await?;
    let code = if page.status() == StatusCode::OK {
        status
    } else {
        page.status()
    };
    Ok((code, page).into_response())
}

macro_rules! action {
    ($name:ident, $what:expr) => {
        pub async fn $name(
            State(state): State<AppState>,
            s: SignedIn,
            Path(raw): Path<String>,
            Form(f): Form<CsrfForm>,
        ) -> Result<Response, ApiError> {
            change(state, s, raw, f.csrf, $what).await
        }
    };
}

action!(start, Change::Act(CampaignAction::Start { later: false }));
action!(pause, Change::Act(CampaignAction::Pause));
action!(resume, Change::Act(CampaignAction::Resume));
action!(cancel, Change::Act(CampaignAction::Cancel));
action!(delete, Change::Delete);
