//! `/campaigns/{id}`: one campaign. What it sends and to whom, its live
//! region (status, actions, statistics) and its recipients.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use blazz_domain::CampaignId;
use blazz_store::accounts::{self, Account};
use maud::{html, Markup};

use super::recipients::{self, Place};
use super::{campaign_id, no_workspace, not_found, refused, stats as region, Ctx};
use crate::campaigns::service::{self, Full};
use crate::campaigns::spec::{Audience, PacingMode, Settings};
use crate::campaigns::stats;
use crate::error::ApiError;
use crate::events;
use crate::http::extract::Path;
use crate::http::web::home::nav;
use crate::http::web::layout::{error_box, live_page};
use crate::http::web::SignedIn;
use crate::i18n::Tr;
use crate::inbox::body::Body;
use crate::state::AppState;

/// What the campaign sends, to whom, and how.
fn summary(tr: Tr, full: &Full) -> Markup {
    let c = &full.campaign;
    let body: Option<Body> = serde_json::from_value(c.message.clone()).ok();
    let audience: Audience = serde_json::from_value(c.audience.clone()).unwrap_or_default();
    let settings: Settings = serde_json::from_value(c.settings.clone()).unwrap_or_default();
    let who = if audience.all {
        tr.t("campaigns.form.aud_all").to_string()
    } else {
        let mut parts = Vec::new();
        if !audience.tags.is_empty() {
            parts.push(tr.f(
                "campaigns.audience_tags",
                &[("tags", &audience.tags.join(", "))],
            ));
        }
        if !audience.phones.is_empty() {
            parts.push(tr.n(
                "campaigns.audience_phones",
                audience.phones.len() as i64,
                &[],
            ));
        }
        if !audience.contact_ids.is_empty() {
            parts.push(tr.n(
                "campaigns.form.listed_contacts",
                audience.contact_ids.len() as i64,
                &[],
            ));
        }
        parts.join(" · ")
    };
    html! {
        dl class="cmp-summary" {
            dt { (tr.t("campaigns.form.message")) }
            dd {
                @match &body {
                    Some(Body::Template { template, .. }) => { code { "/" (template) } br; }
                    _ => {}
                }
                span class="cmp-bubble" { (body.as_ref().and_then(Body::text).unwrap_or_default()) }
            }
            dt { (tr.t("campaigns.form.audience")) }
            dd { (who) }
            dt { (tr.t("campaigns.form.sending")) }
            dd {
                (tr.f("campaigns.cooldown_is", &[("hours", &settings.cooldown_hours)]))
                " · "
                @if settings.pacing == PacingMode::Off { (tr.t("campaigns.pacing_is_off")) } @else { (tr.t("campaigns.pacing_is_default")) }
                " · "
                @if settings.typing { (tr.t("campaigns.typing_on")) } @else { (tr.t("campaigns.typing_off")) }
                @if let Some(w) = &settings.window {
                    " · " (tr.f("campaigns.window_is", &[("start", &w.start), ("end", &w.end), ("zone", &settings.time_zone.as_deref().unwrap_or("UTC"))]))
                }
            }
        }
    }
}

pub async fn render(
    state: &AppState,
    s: &SignedIn,
    ctx: &Ctx,
    id: CampaignId,
    place: &Place,
    error: Option<&str>,
) -> Result<Response, ApiError> {
    let full = match service::find(state, &ctx.caller, id).await {
        Ok(f) => f,
        Err(e) => return Ok(refused(s, e)),
    };
    let (st, all): (stats::Stats, Vec<Account>) = {
        let mut conn = state.db.pool.acquire().await?;
        (
            stats::of(&mut conn, id).await?,
            accounts::list(&mut conn, ctx.workspace.id).await?,
        )
    };
    let live = ctx
        .live(state, s, vec![events::campaign_channel(&id.to_string())])
        .await?;
    let tr = s.tr;
    let list = recipients::section(state, tr, ctx, id, place, &all).await?;
    let body = html! {
        p { a href="/campaigns" { "← " (tr.t("campaigns.title")) } }
        div class="card" {
            h1 { (full.campaign.name) }
            (error_box(error))
            (summary(tr, &full))
        }
        (region::region(s, ctx, &full, &st, &all))
        (list)
    };
    let title = full.campaign.name.clone();
    Ok(live_page(tr, &title, Some(nav(s)), Some(&live), body).into_response())
}

pub async fn show(
    State(state): State<AppState>,
    s: SignedIn,
    Path(raw): Path<String>,
    Query(place): Query<Place>,
) -> Result<Response, ApiError> {
    let Ok(ctx) = Ctx::of(&s) else {
        return Ok(no_workspace());
    };
    let Some(id) = campaign_id(&raw) else {
        return Ok(not_found(&s));
    };
    render(&state, &s, &ctx, id, &place, None).await
}
