//! A campaign's live region: its status, the actions its state allows, and
//! its statistics (the funnel, why recipients failed or were skipped, and
//! each number's share with the reason it is paused). The page renders it;
//! `/campaigns/{id}/stats` renders it alone for the live script, which
//! fetches it again on every `campaign.progress`.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use blazz_domain::campaign::{transition, CampaignAction, CampaignStatus};
use blazz_store::accounts::Account;
use maud::{html, Markup};

use super::{campaign_id, no_workspace, not_found, refused, status_label, when, Ctx};
use crate::campaigns::service::{self, Full};
use crate::campaigns::stats::{self, Stats};
use crate::error::ApiError;
use crate::events;
use crate::http::extract::Path;
use crate::http::web::layout::csrf_field;
use crate::http::web::SignedIn;
use crate::i18n::Tr;
use crate::state::AppState;

/// A reason code as the page says it (the catalogue's words when it has
/// them, else the code: failures carry the network's own).
fn reason(tr: Tr, code: &str) -> String {
    tr.get(&format!("campaigns.reason.{code}"))
        .map(str::to_string)
        .unwrap_or_else(|| code.to_string())
}

/// A button that changes the campaign. With the script it posts in the
/// background and the region follows `campaign.progress`; without, the
/// page reloads. Deleting leaves the page, so it always reloads.
fn button(s: &SignedIn, id: &str, action: &str, label: &str, class: &str) -> Markup {
    let background = action != "delete";
    html! {
        form class="inline" method="post" action=(format!("/campaigns/{id}/{action}"))
            data-async[background] data-done=[background.then(|| s.tr.t("campaigns.done"))] {
            (csrf_field(&s.csrf))
            button type="submit" class=(class) { (label) }
            @if background { " " span class="cmp-result" data-async-result role="status" {} }
        }
    }
}

/// The buttons the campaign's state allows (admins and owners only).
fn actions(s: &SignedIn, ctx: &Ctx, full: &Full) -> Markup {
    let tr = s.tr;
    let c = &full.campaign;
    let id = c.id.to_string();
    let can = |a: CampaignAction| transition(c.status, a).is_some();
    if !ctx.admin() {
        return html! {};
    }
    html! {
        div class="actions cmp-actions" {
            @if c.status == CampaignStatus::Draft {
                a class="cmp-button secondary" href=(format!("/campaigns/{id}/edit")) { (tr.t("campaigns.edit")) }
            }
            @if can(CampaignAction::Start { later: false }) {
                (button(s, &id, "start", tr.t("campaigns.start"), ""))
            }
            @if can(CampaignAction::Pause) {
                (button(s, &id, "pause", tr.t("campaigns.pause"), "secondary"))
            }
            @if can(CampaignAction::Resume) {
                (button(s, &id, "resume", tr.t("campaigns.resume"), ""))
            }
            @if can(CampaignAction::Cancel) {
                (button(s, &id, "cancel", tr.t("campaigns.cancel"), "danger"))
            }
            @if c.status.editable() || c.status.is_final() {
                (button(s, &id, "delete", tr.t("campaigns.delete"), "danger"))
            }
        }
    }
}

fn counts(tr: Tr, st: &Stats) -> Markup {
    let rows: [(&str, i64); 9] = [
        ("total", st.total),
        ("queued", st.queued),
        ("sending", st.sending),
        ("sent", st.sent),
        ("delivered", st.delivered),
        ("read", st.read),
        ("replied", st.replied),
        ("failed", st.failed),
        ("skipped", st.skipped),
    ];
    html! {
        dl class="cmp-counts" {
            @for (key, n) in rows {
                div data-stat=(key) {
                    dt { (tr.t(&format!("campaigns.stat.{key}"))) }
                    dd { (n) }
                }
            }
        }
        @for (title, map) in [(tr.t("campaigns.failed_why"), &st.failed_by_reason), (tr.t("campaigns.skipped_why"), &st.skipped_by_reason)] {
            @if !map.is_empty() {
                h3 { (title) }
                ul class="cmp-reasons" {
                    @for (code, n) in map {
                        li data-reason=(code) { (reason(tr, code)) ": " strong { (n) } }
                    }
                }
            }
        }
    }
}

fn by_number(tr: Tr, full: &Full, st: &Stats, accounts: &[Account]) -> Markup {
    html! {
        h3 { (tr.t("campaigns.by_number")) }
        table class="cmp-table" {
            thead { tr {
                th { (tr.t("campaigns.number")) }
                th class="opt" { (tr.t("campaigns.form.weight")) }
                th { (tr.t("campaigns.stat.sent")) }
                th class="opt" { (tr.t("campaigns.stat.delivered")) }
                th class="opt" { (tr.t("campaigns.stat.read")) }
                th { (tr.t("campaigns.stat.failed")) }
            } }
            tbody {
                @for n in &full.numbers {
                    @let key = n.account_id.to_string();
                    @let per = st.by_number.get(&key).cloned().unwrap_or_default();
                    @let name = accounts.iter().find(|a| a.id == n.account_id).map(|a| a.name.clone()).unwrap_or(key.clone());
                    tr data-number=(key) {
                        td {
                            (name)
                            @if let Some(r) = &n.paused_reason {
                                br;
                                span class="status cmp-paused" { (tr.f("campaigns.number_paused", &[("reason", &reason(tr, r))])) }
                            }
                        }
                        td class="opt" { (n.weight) }
                        td { (per.sent) }
                        td class="opt" { (per.delivered) }
                        td class="opt" { (per.read) }
                        td { (per.failed) }
                    }
                }
            }
        }
    }
}

/// The live region, `#campaign-live`.
pub fn region(s: &SignedIn, ctx: &Ctx, full: &Full, st: &Stats, accounts: &[Account]) -> Markup {
    let tr = s.tr;
    let c = &full.campaign;
    let id = c.id.to_string();
    html! {
        section class="card" id="campaign-live" aria-live="polite"
            data-fragment=(format!("/campaigns/{id}/stats"))
            data-channel=(events::campaign_channel(&id))
            data-refresh-on="campaign.progress" {
            p {
                span class="status cmp-status" data-testid="campaign-status" data-status=(c.status.as_str()) { (status_label(tr, c.status)) }
                @if let (CampaignStatus::Scheduled, Some(at)) = (c.status, c.start_at) {
                    " " (tr.f("campaigns.starts_at", &[("time", &when(at))]))
                }
                @if let Some(at) = c.started_at { " · " (tr.f("campaigns.started_at", &[("time", &when(at))])) }
                @if let Some(at) = c.finished_at { " · " (tr.f("campaigns.finished_at", &[("time", &when(at))])) }
            }
            (actions(s, ctx, full))
            h2 { (tr.t("campaigns.statistics")) }
            @if st.total == 0 {
                p class="muted" { (tr.t("campaigns.not_planned")) }
            } @else {
                @let done = st.sent + st.failed + st.skipped;
                progress class="cmp-progress" max=(st.total) value=(done) aria-label=(tr.t("campaigns.progress")) { (done) }
            }
            (counts(tr, st))
            (by_number(tr, full, st, accounts))
        }
    }
}

/// The region alone, for the live script.
pub async fn fragment(
    State(state): State<AppState>,
    s: SignedIn,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let Ok(ctx) = Ctx::of(&s) else {
        return Ok(no_workspace());
    };
    let Some(id) = campaign_id(&raw) else {
        return Ok(not_found(&s));
    };
    let full = match service::find(&state, &ctx.caller, id).await {
        Ok(f) => f,
        Err(e) => return Ok(refused(&s, e)),
    };
    let mut conn = state.db.pool.acquire().await?;
    let st = stats::of(&mut conn, id).await?;
    let accounts = blazz_store::accounts::list(&mut conn, ctx.workspace.id).await?;
    Ok(region(&s, &ctx, &full, &st, &accounts).into_response())
}
