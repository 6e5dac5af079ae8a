//! `/campaigns`: the workspace's campaigns, newest first, with their status
//! and progress (which follow `campaign.progress` live), 50 a page.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use blazz_store::accounts;
use blazz_store::campaigns::{self as store, Campaign};
use maud::html;
use serde::Deserialize;

use super::{no_workspace, status_label, when, Ctx};
use crate::campaigns::stats::{self, Stats};
use crate::error::ApiError;
use crate::events;
use crate::http::web::home::nav;
use crate::http::web::layout::live_page;
use crate::http::web::SignedIn;
use crate::state::AppState;

const PAGE: i64 = 50;

#[derive(Deserialize, Default)]
pub struct ListQuery {
    /// The previous page's last campaign: `{created_at}_{id}`.
    #[serde(default)]
    before: Option<String>,
}

fn cursor(raw: Option<&str>) -> Option<(i64, String)> {
    let (at, id) = raw?.split_once('_')?;
    Some((at.parse().ok()?, id.to_string()))
}

pub async fn show(
    State(state): State<AppState>,
    s: SignedIn,
    Query(q): Query<ListQuery>,
) -> Result<Response, ApiError> {
    let Ok(ctx) = Ctx::of(&s) else {
        return Ok(no_workspace());
    };
    let ws = ctx.workspace.id;
    let mut conn = state.db.pool.acquire().await?;
    let rows: Vec<Campaign> =
        store::list(&mut conn, ws, None, cursor(q.before.as_deref()), PAGE + 1).await?;
    let more = rows.len() as i64 > PAGE;
    let mut shown: Vec<(Campaign, Stats)> = Vec::new();
    for c in rows.into_iter().take(PAGE as usize) {
        let st = stats::of(&mut conn, c.id).await?;
        shown.push((c, st));
    }
    let no_numbers = accounts::list(&mut conn, ws).await?.is_empty();
    drop(conn);
    let channel = events::workspace_channel(&ws.to_string());
    let live = ctx.live(&state, &s, vec![channel.clone()]).await?;
    let here = match &q.before {
        Some(b) => format!("/campaigns?before={b}"),
        None => "/campaigns".into(),
    };
    let tr = s.tr;
    let body = html! {
        div class="card" {
            div class="cmp-head" {
                h1 { (tr.t("campaigns.title")) }
                @if ctx.admin() && !no_numbers {
                    a class="cmp-button" href="/campaigns/new" { (tr.t("campaigns.new")) }
                }
            }
            @if shown.is_empty() && q.before.is_none() {
                div data-testid="campaigns-empty" {
                    p { (tr.t("campaigns.empty")) }
                    @if !ctx.admin() {
                        p class="muted" { (tr.t("campaigns.empty_agent")) }
                    } @else if no_numbers {
                        p { (tr.t("campaigns.empty_numbers")) " " a href="/numbers" { (tr.t("campaigns.link_number")) } }
                    } @else {
                        p { a href="/campaigns/new" { (tr.t("campaigns.empty_create")) } }
                    }
                }
            } @else {
                div id="campaign-rows" data-fragment=(here) data-channel=(channel) data-refresh-on="campaign.progress" {
                    table class="cmp-table" {
                        thead { tr {
                            th { (tr.t("campaigns.name")) }
                            th { (tr.t("campaigns.status_title")) }
                            th { (tr.t("campaigns.progress")) }
                            th class="opt" { (tr.t("campaigns.created")) }
                        } }
                        tbody {
                            @for (c, st) in &shown {
                                @let done = st.sent + st.failed + st.skipped;
                                tr {
                                    td { a href=(format!("/campaigns/{}", c.id)) { (c.name) } }
                                    td { span class="status cmp-status" data-status=(c.status.as_str()) { (status_label(tr, c.status)) } }
                                    td {
                                        span data-testid="progress" { (tr.f("campaigns.sent_of", &[("sent", &st.sent), ("total", &st.total)])) }
                                        @if st.total > 0 {
                                            progress class="cmp-progress" max=(st.total) value=(done) aria-label=(tr.t("campaigns.progress")) { (done) }
                                        }
                                    }
                                    td class="opt" { (when(c.created_at)) }
                                }
                            }
                        }
                    }
                }
                @if more {
                    @if let Some((c, _)) = shown.last() {
                        p { a href=(format!("/campaigns?before={}_{}", c.created_at, c.id)) { (tr.t("campaigns.next_page")) } }
                    }
                }
            }
        }
    };
    Ok(live_page(
        tr,
        tr.t("campaigns.title"),
        Some(nav(&s)),
        Some(&live),
        body,
    )
    .into_response())
}
