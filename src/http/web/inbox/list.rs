//! `/inbox`: the workspace's chats, unread first then by last activity,
//! with filters (mine, unassigned, status, number, search). The list is a
//! region the live script fetches again (`/inbox/rows`) when a message
//! arrives or a chat changes, so every row is rendered here.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use blazz_domain::{AccountId, ChatId, ChatStatus, UserId};
use blazz_store::accounts::{self, Account};
use blazz_store::chats::{self, Chat, Filter};
use blazz_store::members;
use maud::{html, Markup};
use serde::Deserialize;

use super::bubble::when;
use super::{enc, Ctx};
use crate::error::ApiError;
use crate::events;
use crate::http::web::home::nav;
use crate::http::web::layout::live_page;
use crate::http::web::SignedIn;
use crate::inbox::chats as service;
use crate::state::AppState;

const STATUSES: [ChatStatus; 3] = [ChatStatus::Open, ChatStatus::Pending, ChatStatus::Resolved];

/// The list's filters, as the filter form sends them. Values that do not
/// parse are ignored rather than refused: it is a page, not the API.
#[derive(Deserialize, Default, Clone)]
pub struct ListQuery {
    /// `mine` or `unassigned`; anything else is everyone's.
    #[serde(default)]
    pub view: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub account: String,
    #[serde(default)]
    pub q: String,
    /// The chat shown beside the list (highlighted).
    #[serde(default)]
    pub current: Option<String>,
}

impl ListQuery {
    fn filtered(&self) -> bool {
        !(self.view.is_empty()
            && self.status.is_empty()
            && self.account.is_empty()
            && self.q.trim().is_empty())
    }

    fn query_string(&self) -> String {
        let mut parts = Vec::new();
        for (k, v) in [
            ("view", &self.view),
            ("status", &self.status),
            ("account", &self.account),
            ("q", &self.q),
        ] {
            if !v.trim().is_empty() {
                parts.push(format!("{k}={}", enc(v.trim())));
            }
        }
        if let Some(c) = &self.current {
            parts.push(format!("current={}", enc(c)));
        }
        parts.join("&")
    }

    fn filter(&self, ctx: &Ctx) -> Result<Filter, ApiError> {
        let assigned = match self.view.as_str() {
            "mine" => Some(service::assigned_filter("me", &ctx.caller)?),
            "unassigned" => Some(service::assigned_filter("none", &ctx.caller)?),
            _ => None,
        };
        Ok(Filter {
            status: ChatStatus::parse(&self.status),
            assigned,
            account: self.account.parse::<AccountId>().ok(),
            search: Some(self.q.trim().to_string()).filter(|q| !q.is_empty()),
            limit: 100,
            ..Filter::default()
        })
    }
}

/// What rows need besides the chats: names of members and numbers.
pub struct Names {
    pub members: HashMap<UserId, String>,
    pub accounts: Vec<Account>,
}

impl Names {
    pub async fn load(state: &AppState, ctx: &Ctx) -> Result<Self, ApiError> {
        let mut conn = state.db.pool.acquire().await?;
        let ws = ctx.workspace.id;
        let members = members::list(&mut conn, ws)
            .await?
            .into_iter()
            .map(|m| (m.user_id, m.name))
            .collect();
        let accounts = accounts::list(&mut conn, ws).await?;
        Ok(Names { members, accounts })
    }

    pub fn account(&self, id: AccountId) -> &str {
        self.accounts
            .iter()
            .find(|a| a.id == id)
            .map(|a| a.name.as_str())
            .unwrap_or_default()
    }
}

pub async fn load(state: &AppState, ctx: &Ctx, q: &ListQuery) -> Result<Vec<Chat>, ApiError> {
    let filter = q.filter(ctx)?;
    let mut conn = state.db.pool.acquire().await?;
    Ok(chats::list_unread_first(&mut conn, ctx.workspace.id, &filter).await?)
}

fn row(s: &SignedIn, c: &Chat, names: &Names, current: Option<ChatId>) -> Markup {
    let tr = s.tr;
    let who = c.contact_name.as_deref().unwrap_or(&c.contact_phone);
    let assignee = c.assignee_id.and_then(|u| names.members.get(&u));
    html! {
        li class="chat-row" data-unread[c.unread_count > 0] data-chat=(c.id) {
            a href=(format!("/inbox/{}", c.id)) aria-current=[(current == Some(c.id)).then_some("page")] {
                span class="chat-top" {
                    strong class="chat-name" { (who) }
                    time class="chat-time muted" datetime=(crate::http::api::rfc3339(c.active_at)) { (when(c.active_at)) }
                }
                @if c.contact_name.is_some() { span class="chat-phone muted" { (c.contact_phone) } }
                span class="chat-preview" {
                    @if c.last_direction.as_deref() == Some("out") { span class="muted" { (tr.t("inbox.you")) " " } }
                    (c.last_message_preview.as_deref().unwrap_or(""))
                }
                span class="chat-meta" {
                    span class="status" data-chat-status=(c.status.as_str()) { (tr.t(&format!("inbox.status.{}", c.status.as_str()))) }
                    span class="muted" {
                        @match assignee {
                            Some(name) => { (tr.f("inbox.assigned_to", &[("name", name)])) }
                            None => { (tr.t("inbox.unassigned")) }
                        }
                    }
                    @if names.accounts.len() > 1 { span class="muted" { (names.account(c.account_id)) } }
                    @if c.unread_count > 0 {
                        span class="unread-badge" aria-label=(tr.n("common.unread", c.unread_count, &[])) { (c.unread_count) }
                    }
                }
            }
        }
    }
}

/// The rows, or what to do when there are none.
fn rows_markup(
    s: &SignedIn,
    ctx: &Ctx,
    q: &ListQuery,
    all: &[Chat],
    names: &Names,
    current: Option<ChatId>,
) -> Markup {
    let tr = s.tr;
    html! {
        @if all.is_empty() {
            div class="inbox-empty" data-testid="inbox-empty" {
                @if q.filtered() {
                    p { (tr.t("inbox.empty_filtered")) " " a href="/inbox" { (tr.t("inbox.clear_filters")) } }
                } @else if names.accounts.is_empty() {
                    p { (tr.t("inbox.empty_no_number")) }
                    @if ctx.admin() {
                        p { a href="/numbers" { (tr.t("inbox.link_number")) } }
                        p class="muted" { (tr.t("inbox.try_sandbox")) }
                    } @else {
                        p class="muted" { (tr.t("inbox.ask_admin")) }
                    }
                } @else {
                    p { (tr.t("inbox.empty")) }
                    @if ctx.admin() { p class="muted" { (tr.t("inbox.try_sandbox")) " " a href="/numbers" { (tr.t("nav.numbers")) } } }
                }
            }
        } @else {
            ul class="chat-list" {
                @for c in all { (row(s, c, names, current)) }
            }
        }
    }
}

/// The live list region: the script fetches `/inbox/rows` with the same
/// filters on the workspace's message and chat events.
pub async fn region(
    state: &AppState,
    s: &SignedIn,
    ctx: &Ctx,
    q: &ListQuery,
) -> Result<Markup, ApiError> {
    let all = load(state, ctx, q).await?;
    let names = Names::load(state, ctx).await?;
    let current = q.current.as_deref().and_then(|c| c.parse().ok());
    let channel = events::workspace_channel(&ctx.workspace.id.to_string());
    Ok(html! {
        section id="chat-list" class="chat-list-region" aria-label=(s.tr.t("inbox.chats"))
            data-fragment=(format!("/inbox/rows?{}", q.query_string()))
            data-channel=(channel) data-refresh-on="message.created chat.updated" aria-live="polite" {
            (rows_markup(s, ctx, q, &all, &names, current))
        }
    })
}

fn filters(s: &SignedIn, q: &ListQuery, names: &Names) -> Markup {
    let tr = s.tr;
    html! {
        form class="inbox-filters" method="get" action="/inbox" role="search" {
            div class="field" {
                label for="f-q" { (tr.t("inbox.filter.search")) }
                input id="f-q" name="q" type="search" value=(q.q) placeholder=(tr.t("inbox.filter.search_hint"));
            }
            div class="field" {
                label for="f-view" { (tr.t("inbox.filter.view")) }
                select id="f-view" name="view" {
                    option value="" { (tr.t("inbox.filter.all")) }
                    option value="mine" selected[q.view == "mine"] { (tr.t("inbox.filter.mine")) }
                    option value="unassigned" selected[q.view == "unassigned"] { (tr.t("inbox.filter.unassigned")) }
                }
            }
            div class="field" {
                label for="f-status" { (tr.t("inbox.filter.status")) }
                select id="f-status" name="status" {
                    option value="" { (tr.t("inbox.filter.any_status")) }
                    @for st in STATUSES {
                        option value=(st.as_str()) selected[q.status == st.as_str()] { (tr.t(&format!("inbox.status.{}", st.as_str()))) }
                    }
                }
            }
            @if names.accounts.len() > 1 {
                div class="field" {
                    label for="f-account" { (tr.t("inbox.filter.number")) }
                    select id="f-account" name="account" {
                        option value="" { (tr.t("inbox.filter.any_number")) }
                        @for a in &names.accounts {
                            option value=(a.id) selected[q.account == a.id.to_string()] { (a.name) }
                        }
                    }
                }
            }
            button type="submit" class="secondary" { (tr.t("inbox.filter.apply")) }
        }
    }
}

pub async fn show(
    State(state): State<AppState>,
    s: SignedIn,
    Query(q): Query<ListQuery>,
) -> Result<Response, ApiError> {
    let Ok(ctx) = Ctx::of(&s) else {
        return Ok(Redirect::to("/").into_response());
    };
    let q = ListQuery { current: None, ..q };
    let names = Names::load(&state, &ctx).await?;
    let region = region(&state, &s, &ctx, &q).await?;
    let live = ctx
        .live(
            &state,
            &s,
            vec![events::workspace_channel(&ctx.workspace.id.to_string())],
        )
        .await?;
    let tr = s.tr;
    let body = html! {
        div class="inbox inbox-list-page" {
            div class="card" {
                h1 { (tr.t("inbox.title")) }
                (filters(&s, &q, &names))
                (region)
            }
        }
    };
    Ok(live_page(tr, tr.t("inbox.title"), Some(nav(&s)), Some(&live), body).into_response())
}

/// The list's rows alone, for the live script.
pub async fn rows(
    State(state): State<AppState>,
    s: SignedIn,
    Query(q): Query<ListQuery>,
) -> Result<Response, ApiError> {
    let ctx = Ctx::of(&s)?;
    let all = load(&state, &ctx, &q).await?;
    let names = Names::load(&state, &ctx).await?;
    let current = q.current.as_deref().and_then(|c| c.parse().ok());
    Ok(Html(rows_markup(&s, &ctx, &q, &all, &names, current).into_string()).into_response())
}
