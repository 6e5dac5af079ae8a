//! The team's work on a chat from its page: assign (to a member, to me or
//! to nobody), set the status, add an internal note. Each goes through
//! the inbox service the chat API uses and redirects back; a refusal the
//! member can act on is shown on the page.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use blazz_domain::{ChatId, ChatStatus, UserId};
use blazz_store::chats::Change;
use serde::Deserialize;

use super::conversation::{self, ConvQuery, Problems};
use super::{check_csrf, explain, not_found, shown, Ctx};
use crate::error::ApiError;
use crate::http::extract::Path;
use crate::http::web::SignedIn;
use crate::inbox::chats as service;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct AssignForm {
    #[serde(default)]
    csrf: String,
    /// `me`, `none` or a member's user id.
    #[serde(default)]
    assignee: String,
}

#[derive(Deserialize)]
pub struct StatusForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    status: String,
}

#[derive(Deserialize)]
pub struct NoteForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    body: String,
}

/// Back to the chat, or the refusal shown in its side panel.
pub(super) async fn answer<T>(
    state: &AppState,
    s: &SignedIn,
    ctx: &Ctx,
    id: ChatId,
    done: Result<T, ApiError>,
    in_composer: Option<String>,
) -> Result<Response, ApiError> {
    let e = match done {
        Ok(_) => return Ok(Redirect::to(&format!("/inbox/{id}")).into_response()),
        Err(ApiError::NotFound("chat_not_found", _)) => return Ok(not_found(s)),
        Err(e) if !shown(&e) => return Err(e),
        Err(e) => e,
    };
    let chat = {
        let mut conn = state.db.pool.acquire().await?;
        match service::find(&mut conn, &ctx.caller, id).await {
            Ok(c) => c,
            Err(ApiError::NotFound(..)) => return Ok(not_found(s)),
            Err(e) => return Err(e),
        }
    };
    let message = explain(s, &e);
    let problems = match in_composer {
        Some(text) => Problems {
            composer: Some(message),
            text: Some(text),
            ..Problems::default()
        },
        None => Problems {
            panel: Some(message),
            ..Problems::default()
        },
    };
    let page = conversation::render(state, s, ctx, &chat, &ConvQuery::default(), problems).await?;
    Ok((e.status(), page).into_response())
}

pub async fn assign(
    State(state): State<AppState>,
    s: SignedIn,
    Path(id): Path<ChatId>,
    Form(f): Form<AssignForm>,
) -> Result<Response, ApiError> {
    check_csrf(&s, &f.csrf)?;
    let ctx = Ctx::of(&s)?;
    let assignee = match f.assignee.trim() {
        "" | "none" => Ok(None),
        "me" => Ok(Some(s.user.id)),
        other => other
            .parse::<UserId>()
            .map(Some)
            .map_err(|_| ApiError::invalid("not_a_member", "not a member of the workspace")),
    };
    let done = match assignee {
        Ok(a) => {
            let change = Change {
                assignee: Some(a),
                ..Change::default()
            };
            service::update(&state, &ctx.caller, id, change).await
        }
        Err(e) => Err(e),
    };
    answer(&state, &s, &ctx, id, done, None).await
}

pub async fn status(
    State(state): State<AppState>,
    s: SignedIn,
    Path(id): Path<ChatId>,
    Form(f): Form<StatusForm>,
) -> Result<Response, ApiError> {
    check_csrf(&s, &f.csrf)?;
    let ctx = Ctx::of(&s)?;
    let done = match ChatStatus::parse(f.status.trim()) {
        Some(st) => {
            let change = Change {
                status: Some(st),
                ..Change::default()
            };
            service::update(&state, &ctx.caller, id, change).await
        }
        None => Err(ApiError::invalid(
            "invalid_status",
            "status is open, pending or resolved",
        )),
    };
    answer(&state, &s, &ctx, id, done, None).await
}

pub async fn note(
    State(state): State<AppState>,
    s: SignedIn,
    Path(id): Path<ChatId>,
    Form(f): Form<NoteForm>,
) -> Result<Response, ApiError> {
    check_csrf(&s, &f.csrf)?;
    let ctx = Ctx::of(&s)?;
    let done = service::add_note(&state, &ctx.caller, id, &f.body).await;
    answer(&state, &s, &ctx, id, done, None).await
}
