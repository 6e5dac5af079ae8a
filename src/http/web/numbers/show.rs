//! `/numbers/{id}`: one number. Its link section (status, QR code or pair
//! code, and what an admin can do next) is re-rendered by the live script
//! whenever the number's status or code changes.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use blazz_domain::{AccountId, SessionState};
use blazz_store::accounts::Account;
use maud::{html, Markup};
use serde::Deserialize;

use super::Ctx;
use crate::error::ApiError;
use crate::events;
use crate::http::extract::Path;
use crate::http::web::home::nav;
use crate::http::web::layout::{csrf_field, error_box, live_page, qr_svg, status_label};
use crate::http::web::SignedIn;
use crate::services::numbers;
use crate::state::AppState;

#[derive(Deserialize, Default)]
pub struct Notice {
    #[serde(default)]
    sent: Option<String>,
}

/// The number's state right now: the session's own when it runs (fresher
/// than the stored one), with its QR and pair codes.
struct Now {
    status: SessionState,
    qr: Option<String>,
    pair: Option<String>,
}

fn now(state: &AppState, a: &Account) -> Now {
    match state.sessions.shared(a.id) {
        Some(sh) => {
            let status = sh.state();
            let linking = status == SessionState::QrRequired;
            Now {
                status,
                qr: sh.qr().filter(|_| linking).map(|(c, _)| c),
                pair: sh.pair().filter(|_| linking).map(|(c, _)| c),
            }
        }
        None => Now {
            status: a.status,
            qr: None,
            pair: None,
        },
    }
}

fn post_button(s: &SignedIn, action: String, label: &str, class: &str) -> Markup {
    html! {
        form class="inline" method="post" action=(action) {
            (csrf_field(&s.csrf))
            button type="submit" class=(class) { (label) }
        }
    }
}

fn link_section(
    state: &AppState,
    s: &SignedIn,
    ctx: &Ctx,
    a: &Account,
    error: Option<&str>,
) -> Markup {
    let n = now(state, a);
    let base = format!("/numbers/{}", a.id);
    let sandbox = a.provider == "sandbox" && state.sessions.sandbox.is_some();
    let tr = s.tr;
    html! {
        section class="card" id="link-state" data-refresh-account=(a.id) aria-live="polite" {
            h2 { (tr.t("numbers.link")) }
            (error_box(error))
            @match n.status {
                SessionState::QrRequired => {
                    @if let Some(code) = &n.qr {
                        p { (tr.t("numbers.scan_help")) }
                        div class="qr" role="img" aria-label=(tr.t("numbers.qr_label")) data-code=(code) { (qr_svg(code)) }
                    } @else {
                        p { (tr.t("numbers.waiting_qr")) }
                    }
                    @if let Some(pair) = &n.pair {
                        p { (tr.t("numbers.pair_help")) }
                        p class="pair-code" data-testid="pair-code" { (pair) }
                    }
                    @if ctx.admin() && sandbox {
                        @if let Some(code) = n.pair.as_ref().or(n.qr.as_ref()) {
                            form method="post" action=(format!("{base}/phone/scan")) data-async data-done=(tr.t("numbers.phone_approved")) {
                                (csrf_field(&s.csrf))
                                input type="hidden" name="code" value=(code);
                                p class="muted" { (tr.t("numbers.phone_scan_help")) }
                                button type="submit" class="secondary" { (tr.t("numbers.phone_approve")) }
                                p data-async-result role="status" {}
                            }
                        }
                    }
                }
                SessionState::Connected => {
                    p data-testid="connected" {
                        @if let Some(p) = &a.phone { (tr.f("numbers.connected_as", &[("phone", p)])) } @else { (tr.t("status.connected")) }
                        " " (tr.t("numbers.connected_help"))
                    }
                    @if ctx.admin() {
                        div class="actions" { (post_button(s, format!("{base}/logout"), tr.t("numbers.unlink"), "danger")) }
                    }
                }
                SessionState::Initializing | SessionState::Authenticating => {
                    p { (tr.t("numbers.linking")) }
                }
                SessionState::Reconnecting => {
                    p { (tr.t("numbers.reconnecting")) }
                }
                SessionState::Banned => {
                    p { (tr.t("numbers.banned")) }
                }
                SessionState::LoggedOut | SessionState::Failed => {
                    @if n.status == SessionState::Failed {
                        p { (tr.t("numbers.failed"))
                            @if let Some(r) = &a.status_reason { " (" code { (r) } ")" } }
                    } @else {
                        p { (tr.t("errors.not_linked")) }
                    }
                    @if ctx.admin() && a.provider == "cloud" {
                        p class="muted" { (tr.t("numbers.cloud.relink_help")) }
                    } @else if ctx.admin() {
                        div class="actions" {
                            @if n.status == SessionState::Failed && a.linked_at.is_some() {
                                (post_button(s, format!("{base}/reconnect"), tr.t("numbers.reconnect"), ""))
                            }
                            (post_button(s, format!("{base}/link"), tr.t("numbers.link_qr"), ""))
                        }
                        form method="post" action=(format!("{base}/link")) {
                            (csrf_field(&s.csrf))
                            label for="pair-phone" { (tr.t("numbers.pair_phone")) }
                            input id="pair-phone" name="phone" type="tel" required placeholder="+15551234567" autocomplete="tel";
                            button type="submit" class="secondary" { (tr.t("numbers.get_pair_code")) }
                        }
                    } @else {
                        p class="muted" { (tr.t("numbers.admin_can_link")) }
                    }
                }
            }
        }
    }
}

pub async fn render(
    state: &AppState,
    s: &SignedIn,
    ctx: &Ctx,
    a: &Account,
    error: Option<&str>,
    notice: Option<&str>,
) -> Result<Markup, ApiError> {
    render_with(state, s, ctx, a, error, notice, None).await
}

/// The page with the answer of a Cloud number's "test connection".
pub async fn render_tested(
    state: &AppState,
    s: &SignedIn,
    ctx: &Ctx,
    a: &Account,
    tested: &crate::cloud::numbers::TestResult,
) -> Result<Markup, ApiError> {
    render_with(state, s, ctx, a, None, None, Some(tested)).await
}

async fn render_with(
    state: &AppState,
    s: &SignedIn,
    ctx: &Ctx,
    a: &Account,
    error: Option<&str>,
    notice: Option<&str>,
    tested: Option<&crate::cloud::numbers::TestResult>,
) -> Result<Markup, ApiError> {
    let cloud = crate::cloud::numbers::view_of(state, a).await?;
    let id = a.id.to_string();
    let live = ctx
        .live(state, s, vec![events::account_channel(&id)])
        .await?;
    let base = format!("/numbers/{id}");
    let sandbox = a.provider == "sandbox" && state.sessions.sandbox.is_some();
    let status = now(state, a).status;
    let tr = s.tr;
    let body = html! {
        p { a href="/numbers" { "← " (tr.t("nav.numbers")) } }
        div class="card" {
            h1 { (a.name) }
            p {
                span class="status" data-status-for=(a.id) data-status=(status.as_str()) { (status_label(s.tr, status)) }
                " · " (a.provider) @if let Some(p) = &a.phone { " · " (p) }
            }
        }
        (link_section(state, s, ctx, a, error))
        @if let Some(view) = &cloud { (super::cloud::card(s, ctx, a, view, tested)) }
        @if ctx.admin() && sandbox {
            div class="card" {
                h2 { (tr.t("numbers.phone_title")) }
                p class="muted" { (tr.t("numbers.phone_help")) }
                @if let Some(n) = notice { p role="status" { (n) } }
                form method="post" action=(format!("{base}/phone/inbound")) data-async data-done=(tr.t("numbers.phone_sent")) {
                    (csrf_field(&s.csrf))
                    label for="inbound-from" { (tr.t("numbers.phone_from")) }
                    input id="inbound-from" name="from" type="tel" required value="+15550001111";
                    label for="inbound-text" { (tr.t("numbers.phone_text")) }
                    input id="inbound-text" name="text" required value=(tr.t("numbers.phone_sample"));
                    button type="submit" { (tr.t("numbers.phone_send")) }
                    p data-async-result role="status" {}
                }
            }
        }
        @if ctx.admin() {
            div class="card" {
                h2 { (tr.t("common.delete")) }
                p class="muted" { (tr.t("numbers.delete_help")) }
                (post_button(s, format!("{base}/delete"), tr.t("numbers.delete"), "danger"))
            }
        }
    };
    Ok(live_page(s.tr, &a.name, Some(nav(s)), Some(&live), body))
}

/// Another workspace's number, or none: the same page.
pub fn not_found(s: &SignedIn) -> Response {
    let back = crate::http::web::notice::Back {
        href: "/numbers",
        label: s.tr.t("numbers.see_all"),
    };
    let (title, text) = (s.tr.t("common.not_found"), s.tr.t("numbers.not_found"));
    crate::http::web::notice::notice(s, StatusCode::NOT_FOUND, title, text, back, html! {})
}

pub async fn show(
    State(state): State<AppState>,
    s: SignedIn,
    Path(id): Path<AccountId>,
    Query(q): Query<Notice>,
) -> Result<Response, ApiError> {
    let Ok(ctx) = Ctx::of(&s) else {
        return Ok(Redirect::to("/").into_response());
    };
    let a = match numbers::find(&state, &ctx.caller, id).await {
        Ok(a) => a,
        Err(ApiError::NotFound(..)) => return Ok(not_found(&s)),
        Err(e) => return Err(e),
    };
    let notice = q.sent.is_some().then_some(s.tr.t("numbers.phone_sent"));
    Ok(render(&state, &s, &ctx, &a, None, notice)
        .await?
        .into_response())
}
