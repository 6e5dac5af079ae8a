//! `/settings/webhooks/{id}`: one endpoint, its delivery log (newest
//! first, each delivery with "Send again") and the form that edits its
//! URL, description and events. What else can be done to it is in
//! `actions.rs`.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use blazz_store::webhooks::{self as store, state as delivery_state, Delivery, Endpoint};
use maud::{html, Markup};

use super::{changes, endpoint_fields, event_summary, field, state_badge, Fields};
use crate::error::ApiError;
use crate::http::extract::Path;
use crate::http::web::layout::{csrf_field, error_box};
use crate::http::web::settings::{
    admin, csrf_ok, fixable, forbidden, form_expired, refusal, say, shell, when, Ctx, Section,
};
use crate::http::web::SignedIn;
use crate::state::AppState;
use crate::webhooks::service;

/// How many deliveries the log shows.
const LOG: i64 = 50;

/// What the page shows once, above the endpoint.
pub enum Shown<'a> {
    Nothing,
    /// The signing secret, just created or rotated.
    Secret(&'a str),
    /// What an action did.
    Notice(&'a str),
}

fn delivery_state(s: &SignedIn, d: &Delivery) -> Markup {
    let tr = s.tr;
    let (label, look) = match d.state.as_str() {
        delivery_state::DELIVERED => (tr.t("settings.webhooks.delivered"), "connected"),
        delivery_state::FAILED => (tr.t("settings.webhooks.failed"), "failed"),
        _ => (tr.t("settings.webhooks.pending"), "qr_required"),
    };
    html! { span class="status" data-status=(look) data-delivery-state=(d.state) { (label) } }
}

fn post_button(s: &SignedIn, action: String, label: &str, class: &str) -> Markup {
    html! {
        form class="inline" method="post" action=(action) {
            (csrf_field(&s.csrf))
            button type="submit" class=(class) { (label) }
        }
    }
}

pub async fn render(
    state: &AppState,
    s: &SignedIn,
    e: &Endpoint,
    shown: Shown<'_>,
    error: Option<(&str, &Fields)>,
) -> Result<Markup, ApiError> {
    let log = {
        let mut conn = state.db.pool.acquire().await?;
        store::list_deliveries(&mut conn, e.workspace_id, e.id, None, None, LOG).await?
    };
    let tr = s.tr;
    let base = format!("/settings/webhooks/{}", e.id);
    let (url, description, chosen): (&str, &str, Vec<String>) = match error {
        Some((_, f)) => (
            field(f, "url"),
            field(f, "description"),
            f.iter()
                .filter(|(k, _)| k == "events")
                .map(|(_, v)| v.clone())
                .collect(),
        ),
        None => (
            &e.url,
            e.description.as_deref().unwrap_or(""),
            e.events.clone(),
        ),
    };
    Ok(shell(
        s,
        Section::Webhooks,
        html! {
            p { a href="/settings/webhooks" { "← " (tr.t("settings.webhooks.title")) } }
            @match shown {
                Shown::Secret(secret) => {
                    div class="card once" role="status" data-testid="webhook-secret" {
                        h2 { (tr.t("settings.webhooks.secret_title")) }
                        label for="webhook-secret" { (tr.t("settings.webhooks.secret")) }
                        input id="webhook-secret" class="copy" readonly value=(secret);
                        p class="warning" { strong { (tr.t("settings.tokens.once_title")) } " " (tr.t("settings.webhooks.secret_once")) }
                    }
                }
                Shown::Notice(text) => { p class="notice" role="status" data-testid="notice" { (text) } }
                Shown::Nothing => {}
            }
            div class="card" {
                h1 class="url" { (e.url) }
                p { (state_badge(s, e)) " " span class="muted" { (event_summary(s, &e.events)) } }
                @if let Some(reason) = &e.disabled_reason { p class="muted" { (tr.t("settings.webhooks.why_disabled")) " " (reason) } }
                @if let Some(since) = e.failing_since { p class="muted" { (tr.f("settings.webhooks.failing_since", &[("time", &when(since))])) } }
                div class="actions" {
                    @if e.enabled() {
                        (post_button(s, format!("{base}/test"), tr.t("settings.webhooks.test"), "secondary"))
                        form class="inline" method="post" action=(format!("{base}/enabled")) {
                            (csrf_field(&s.csrf))
                            input type="hidden" name="enabled" value="false";
                            button type="submit" class="secondary" { (tr.t("settings.webhooks.disable")) }
                        }
                    } @else {
                        form class="inline" method="post" action=(format!("{base}/enabled")) {
                            (csrf_field(&s.csrf))
                            input type="hidden" name="enabled" value="true";
                            button type="submit" { (tr.t("settings.webhooks.enable")) }
                        }
                    }
                    (post_button(s, format!("{base}/rotate"), tr.t("settings.webhooks.rotate"), "secondary"))
                    (post_button(s, format!("{base}/delete"), tr.t("settings.webhooks.delete"), "danger"))
                }
            }
            div class="card" {
                h2 { (tr.t("settings.webhooks.log")) }
                @if log.is_empty() {
                    p class="muted" data-testid="no-deliveries" { (tr.t("settings.webhooks.no_deliveries")) }
                } @else {
                    table class="settings-table deliveries" {
                        thead { tr {
                            th { (tr.t("settings.webhooks.event_col")) }
                            th { (tr.t("settings.webhooks.state")) }
                            th { (tr.t("settings.webhooks.attempts")) }
                            th { (tr.t("settings.webhooks.response")) }
                            th class="opt" { (tr.t("settings.webhooks.time")) }
                            th { span class="visually-hidden" { (tr.t("settings.actions")) } }
                        } }
                        tbody {
                            @for d in &log {
                                tr data-delivery=(d.id) {
                                    td { code { (d.event_type) } }
                                    td { (delivery_state(s, d)) }
                                    td data-attempts=(d.attempts) { (d.attempts) }
                                    td {
                                        @if let Some(code) = d.status_code { (code) }
                                        @else if let Some(err) = &d.error { span class="muted" { (err) } }
                                        @else { "—" }
                                    }
                                    td class="opt" { (when(d.last_attempt_at.unwrap_or(d.created_at))) }
                                    td {
                                        @if e.enabled() {
                                            (post_button(s, format!("{base}/deliveries/{}/replay", d.id), tr.t("settings.webhooks.replay"), "secondary"))
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            div class="card" {
                h2 { (tr.t("settings.webhooks.edit")) }
                (error_box(error.map(|(t, _)| t)))
                form method="post" action=(base) {
                    (csrf_field(&s.csrf))
                    (endpoint_fields(s, url, description, &chosen))
                    button type="submit" { (tr.t("common.save")) }
                }
            }
        },
    ))
}

/// The endpoint, if it is this workspace's.
pub(super) async fn find(state: &AppState, ctx: &Ctx, id: &str) -> Result<Endpoint, ApiError> {
    let mut conn = state.db.pool.acquire().await?;
    service::find(&mut conn, &ctx.caller, id).await
}

pub async fn show(
    State(state): State<AppState>,
    s: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let Some(ctx) = admin(&s) else {
        return Ok(forbidden(&s));
    };
    let e = match find(&state, &ctx, &id).await {
        Ok(e) => e,
        Err(e) => return Ok(refusal(&s, e)),
    };
    Ok(render(&state, &s, &e, Shown::Nothing, None)
        .await?
        .into_response())
}

pub async fn update(
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
    match service::update(&state, &ctx.caller, &id, changes(&f)).await {
        Ok(_) => Ok(Redirect::to(&format!("/settings/webhooks/{id}")).into_response()),
        Err(e) if fixable(&e) => {
            let text = say(&s, &e);
            let found = match find(&state, &ctx, &id).await {
                Ok(found) => found,
                Err(e) => return Ok(refusal(&s, e)),
            };
            let page = render(&state, &s, &found, Shown::Nothing, Some((&text, &f))).await?;
            Ok((e.status(), page).into_response())
        }
        Err(e) => Ok(refusal(&s, e)),
    }
}
