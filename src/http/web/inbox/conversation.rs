//! `/inbox/{id}`: one conversation. On a desktop the chat list sits beside
//! it; at phone width one pane shows at a time. Opening it marks the chat
//! read (as `POST /chats/{id}/read` does). The thread, the side panel and
//! the list are regions the live script keeps current.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use blazz_domain::ChatId;
use blazz_store::chats::Chat;
use maud::{html, Markup};
use serde::Deserialize;

use super::bubble::{bubbles, Around};
use super::fragments::{older_link, page_of};
use super::list::{self, ListQuery, Names};
use super::{composer, not_found, panel, Ctx};
use crate::error::ApiError;
use crate::events;
use crate::http::extract::Path;
use crate::http::web::home::nav;
use crate::http::web::layout::live_page;
use crate::http::web::SignedIn;
use crate::inbox::chats as service;
use crate::state::AppState;

#[derive(Deserialize, Default)]
pub struct ConvQuery {
    /// Show messages older than this cursor (the "Load older" link).
    pub before: Option<String>,
    /// Quote this message in the composer.
    pub reply: Option<String>,
    /// Fill the composer with this canned reply.
    pub canned: Option<String>,
    /// Show the variables of this template.
    pub template: Option<String>,
}

/// Refusals to show on the page, where they happened, and what the member
/// had typed.
#[derive(Default)]
pub struct Problems {
    pub composer: Option<String>,
    pub panel: Option<String>,
    pub text: Option<String>,
}

pub async fn render(
    state: &AppState,
    s: &SignedIn,
    ctx: &Ctx,
    chat: &Chat,
    q: &ConvQuery,
    problems: Problems,
) -> Result<Markup, ApiError> {
    let tr = s.tr;
    let ws = ctx.workspace.id;
    let (shown, older) = page_of(state, ctx, chat.id, q.before.as_deref()).await?;
    let around = Around::load(state, ws, chat.id, &shown).await?;
    let names = Names::load(state, ctx).await?;
    let side = list::region(
        state,
        s,
        ctx,
        &ListQuery {
            current: Some(chat.id.to_string()),
            ..ListQuery::default()
        },
    )
    .await?;
    let chat_channel = events::chat_channel(&chat.id.to_string());
    let account_channel = events::account_channel(&chat.account_id.to_string());
    let live = ctx
        .live(
            state,
            s,
            vec![
                events::workspace_channel(&ws.to_string()),
                chat_channel.clone(),
                account_channel.clone(),
            ],
        )
        .await?;
    let who = chat.contact_name.as_deref().unwrap_or(&chat.contact_phone);
    let last_seq = shown.iter().map(|m| m.seq).max().unwrap_or(0);
    let history = q.before.is_some();
    let composer = composer::form(state, s, ctx, chat, q, &problems).await?;
    let side_panel = panel::render(state, s, ctx, chat, &names, problems.panel.as_deref()).await?;
    let body = html! {
        div class="inbox inbox-chat-page" {
            aside class="inbox-side card" { (side) }
            section class="inbox-main card" aria-labelledby="chat-title" {
                div class="chat-head" {
                    a class="chat-back" href="/inbox" { (tr.t("inbox.back")) }
                    h1 id="chat-title" { (who) }
                    p class="muted" {
                        @if chat.contact_name.is_some() { (chat.contact_phone) " · " }
                        (tr.f("inbox.via", &[("number", &names.account(chat.account_id))]))
                    }
                }
                div class="thread-wrap" data-thread-wrap {
                    @if let Some(cursor) = &older { (older_link(s, chat.id, cursor)) }
                    @if shown.is_empty() {
                        p class="muted" data-testid="thread-empty" { (tr.t("inbox.thread_empty")) }
                    }
                    ol id="thread" class="thread" data-thread data-after=(last_seq)
                        data-fragment=(format!("/inbox/{}/messages", chat.id)) data-channel=(chat_channel)
                        data-live=[(!history).then_some("1")] aria-label=(tr.t("inbox.messages")) {
                        (bubbles(tr, chat.id, &shown, &around))
                    }
                    @if history {
                        p { a href=(format!("/inbox/{}", chat.id)) { (tr.t("inbox.newest")) } }
                    }
                }
                p class="typing muted" hidden data-typing-for=(chat.contact_phone) data-channel=(account_channel) role="status" {
                    (tr.f("inbox.typing", &[("name", &who)]))
                }
                p class="viewers muted" hidden data-viewers data-channel=(chat_channel) data-me=(s.user.id)
                    data-name=(s.user.name) data-label=(tr.t("inbox.viewing")) role="status" {}
                (composer)
            }
            (side_panel)
        }
    };
    Ok(live_page(tr, who, Some(nav(s)), Some(&live), body))
}

pub async fn show(
    State(state): State<AppState>,
    s: SignedIn,
    Path(id): Path<ChatId>,
    Query(q): Query<ConvQuery>,
) -> Result<Response, ApiError> {
    let Ok(ctx) = Ctx::of(&s) else {
        return Ok(Redirect::to("/").into_response());
    };
    let chat = {
        let mut conn = state.db.pool.acquire().await?;
        match service::find(&mut conn, &ctx.caller, id).await {
            Ok(c) => c,
            Err(ApiError::NotFound(..)) => return Ok(not_found(&s)),
            Err(e) => return Err(e),
        }
    };
    // Opening the chat reads it; only when something is unread, so that
    // the `chat.updated` this publishes does not echo forever.
    let chat = if chat.unread_count > 0 {
        service::mark_read(&state, &ctx.caller, id).await?.chat
    } else {
        chat
    };
    Ok(render(&state, &s, &ctx, &chat, &q, Problems::default())
        .await?
        .into_response())
}
