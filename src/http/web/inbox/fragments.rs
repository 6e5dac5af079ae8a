//! Server-rendered pieces the live script inserts: older messages (the
//! infinite scroll back through history), messages newer than the last
//! one shown (with the bubbles they change, such as a reaction's target),
//! one bubble again (its tick moved) and the side panel.

use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Response};
use blazz_domain::{ChatId, Direction, MessageId};
use blazz_store::messages::{self, Message};
use maud::{html, Markup};
use serde::Deserialize;

use super::bubble::{bubble, bubbles, Around};
use super::list::Names;
use super::{panel, Ctx};
use crate::error::ApiError;
use crate::http::extract::Path;
use crate::http::web::SignedIn;
use crate::inbox::body::Body;
use crate::inbox::chats as service;
use crate::inbox::view::body_of;
use crate::state::AppState;

/// Messages per page of history.
const PAGE: i64 = 30;

fn invalid_cursor() -> ApiError {
    ApiError::invalid("invalid_cursor", "not a cursor of this list")
}

/// A page of the chat's messages, oldest first, before `cursor`
/// (`sent_at:seq`), and the cursor of the page before it when there is one.
pub async fn page_of(
    state: &AppState,
    ctx: &Ctx,
    chat: ChatId,
    cursor: Option<&str>,
) -> Result<(Vec<Message>, Option<String>), ApiError> {
    let before = match cursor {
        None => None,
        Some(c) => {
            let (a, b) = c.split_once(':').ok_or_else(invalid_cursor)?;
            Some((
                a.parse().map_err(|_| invalid_cursor())?,
                b.parse().map_err(|_| invalid_cursor())?,
            ))
        }
    };
    let mut conn = state.db.pool.acquire().await?;
    let mut rows = messages::in_chat(&mut conn, ctx.workspace.id, chat, before, PAGE).await?;
    let older = (rows.len() as i64 == PAGE)
        .then(|| rows.last().map(|m| format!("{}:{}", m.sent_at, m.seq)))
        .flatten();
    rows.reverse();
    Ok((rows, older))
}

/// "Load older": a link without the script, fetched on scroll with it.
pub fn older_link(s: &SignedIn, chat: ChatId, cursor: &str) -> Markup {
    let c = super::enc(cursor);
    html! {
        p class="older" {
            a href=(format!("/inbox/{chat}?before={c}")) data-older=(format!("/inbox/{chat}/messages?before={c}")) {
                (s.tr.t("inbox.load_older"))
            }
        }
    }
}

#[derive(Deserialize)]
pub struct Window {
    pub before: Option<String>,
    /// The `seq` of the newest message the page has.
    pub after: Option<i64>,
}

async fn chat_of(
    state: &AppState,
    ctx: &Ctx,
    id: ChatId,
) -> Result<blazz_store::chats::Chat, ApiError> {
    let mut conn = state.db.pool.acquire().await?;
    service::find(&mut conn, &ctx.caller, id).await
}

/// `?before=`: an older page (`data-older` link first when there is more);
/// `?after=`: what came since, as bubbles to append or to replace (by id),
/// in an `ol` that carries the newest `seq` (`data-after`).
pub async fn messages(
    State(state): State<AppState>,
    s: SignedIn,
    Path(id): Path<ChatId>,
    Query(w): Query<Window>,
) -> Result<Response, ApiError> {
    let ctx = Ctx::of(&s)?;
    let chat = chat_of(&state, &ctx, id).await?;
    let ws = ctx.workspace.id;
    if let Some(after) = w.after {
        let mut conn = state.db.pool.acquire().await?;
        let mut recent = messages::in_chat(&mut conn, ws, id, None, 100).await?;
        drop(conn);
        recent.retain(|m| m.seq > after);
        recent.sort_by_key(|m| m.seq);
        let newest = recent.iter().map(|m| m.seq).max().unwrap_or(after);
        // A reaction shows on its target: send that bubble again.
        let mut targets: Vec<Message> = Vec::new();
        for m in &recent {
            if let Some(Body::Reaction {
                message_id: Some(t),
                ..
            }) = body_of(m)
            {
                if let Ok(t) = t.parse::<MessageId>() {
                    let mut conn = state.db.pool.acquire().await?;
                    if let Some(target) = messages::find(&mut conn, ws, t).await? {
                        if target.chat_id == id && !targets.iter().any(|x| x.id == target.id) {
                            targets.push(target);
                        }
                    }
                }
            }
        }
        // The member has the chat open: what the contact wrote is read.
        if chat.unread_count > 0 && recent.iter().any(|m| m.direction == Direction::In) {
            service::mark_read(&state, &ctx.caller, id).await?;
        }
        let around = Around::load(&state, ws, id, &recent).await?;
        let markup = html! {
            ol data-after=(newest) {
                @for t in &targets { (bubble(s.tr, id, t, &around)) }
                (bubbles(s.tr, id, &recent, &around))
            }
        };
        return Ok(Html(markup.into_string()).into_response());
    }
    let (shown, older) = page_of(&state, &ctx, id, w.before.as_deref()).await?;
    let around = Around::load(&state, ws, id, &shown).await?;
    let markup = html! {
        div {
            @if let Some(c) = &older { (older_link(&s, id, c)) }
            ol { (bubbles(s.tr, id, &shown, &around)) }
        }
    };
    Ok(Html(markup.into_string()).into_response())
}

/// One bubble again (its status moved).
pub async fn message(
    State(state): State<AppState>,
    s: SignedIn,
    Path((id, message)): Path<(ChatId, MessageId)>,
) -> Result<Response, ApiError> {
    let ctx = Ctx::of(&s)?;
    chat_of(&state, &ctx, id).await?;
    let ws = ctx.workspace.id;
    let m = {
        let mut conn = state.db.pool.acquire().await?;
        messages::find(&mut conn, ws, message)
            .await?
            .filter(|m| m.chat_id == id)
            .ok_or_else(|| ApiError::not_found("message_not_found", "message"))?
    };
    let around = Around::load(&state, ws, id, std::slice::from_ref(&m)).await?;
    Ok(Html(bubble(s.tr, id, &m, &around).into_string()).into_response())
}

/// The side panel (assignment, status, notes) again.
pub async fn panel(
    State(state): State<AppState>,
    s: SignedIn,
    Path(id): Path<ChatId>,
) -> Result<Response, ApiError> {
    let ctx = Ctx::of(&s)?;
    let chat = chat_of(&state, &ctx, id).await?;
    let names = Names::load(&state, &ctx).await?;
    let markup = panel::render(&state, &s, &ctx, &chat, &names, None).await?;
    Ok(Html(markup.into_string()).into_response())
}
