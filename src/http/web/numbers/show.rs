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
use crate::http::web::layout::{csrf_field, error_box, live_page, page, qr_svg, status_label};
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
    html! {
        section class="card" id="link-state" data-refresh-account=(a.id) aria-live="polite" {
            h2 { "Link" }
            (error_box(error))
            @match n.status {
                SessionState::QrRequired => {
                    @if let Some(code) = &n.qr {
                        p { "On the phone, open WhatsApp → Settings → Linked devices → Link a device, and scan this code. It changes every few seconds; this page follows." }
                        div class="qr" role="img" aria-label="QR code to link the number" data-code=(code) { (qr_svg(code)) }
                    } @else {
                        p { "Waiting for a QR code…" }
                    }
                    @if let Some(pair) = &n.pair {
                        p { "Or, on the phone, choose “Link with phone number instead” and type:" }
                        p class="pair-code" data-testid="pair-code" { (pair) }
                    }
                    @if ctx.admin() && sandbox {
                        @if let Some(code) = n.pair.as_ref().or(n.qr.as_ref()) {
                            form method="post" action=(format!("{base}/phone/scan")) data-async data-done="The phone approved the link." {
                                (csrf_field(&s.csrf))
                                input type="hidden" name="code" value=(code);
                                p class="muted" { "Sandbox phone: it has no camera, but it can approve this code." }
                                button type="submit" class="secondary" { "Approve on the sandbox phone" }
                                p data-async-result role="status" {}
                            }
                        }
                    }
                }
                SessionState::Connected => {
                    p data-testid="connected" { "Connected" @if let Some(p) = &a.phone { " as " strong { (p) } } ". Messages to and from this number now reach Blazz." }
                    @if ctx.admin() {
                        div class="actions" { (post_button(s, format!("{base}/logout"), "Unlink", "danger")) }
                    }
                }
                SessionState::Initializing | SessionState::Authenticating => {
                    p { "Linking…" }
                }
                SessionState::Reconnecting => {
                    p { "The connection dropped; Blazz is reconnecting." }
                }
                SessionState::Banned => {
                    p { "WhatsApp banned this number. It cannot be linked again." }
                }
                SessionState::LoggedOut | SessionState::Failed => {
                    @if n.status == SessionState::Failed {
                        p { "Linking or the connection failed"
                            @if let Some(r) = &a.status_reason { " (" code { (r) } ")" } "." }
                    } @else {
                        p { "This number is not linked." }
                    }
                    @if ctx.admin() {
                        div class="actions" {
                            @if n.status == SessionState::Failed && a.linked_at.is_some() {
                                (post_button(s, format!("{base}/reconnect"), "Reconnect", ""))
                            }
                            (post_button(s, format!("{base}/link"), "Link with a QR code", ""))
                        }
                        form method="post" action=(format!("{base}/link")) {
                            (csrf_field(&s.csrf))
                            label for="pair-phone" { "Or link with a pair code: the phone's number" }
                            input id="pair-phone" name="phone" type="tel" required placeholder="+15551234567" autocomplete="tel";
                            button type="submit" class="secondary" { "Get a pair code" }
                        }
                    } @else {
                        p class="muted" { "An admin or owner can link it." }
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
    let id = a.id.to_string();
    let live = ctx
        .live(state, s, vec![events::account_channel(&id)])
        .await?;
    let base = format!("/numbers/{id}");
    let sandbox = a.provider == "sandbox" && state.sessions.sandbox.is_some();
    let status = now(state, a).status;
    let body = html! {
        p { a href="/numbers" { "← Numbers" } }
        div class="card" {
            h1 { (a.name) }
            p {
                span class="status" data-status-for=(a.id) data-status=(status.as_str()) { (status_label(s.tr, status)) }
                " · " (a.provider) @if let Some(p) = &a.phone { " · " (p) }
            }
        }
        (link_section(state, s, ctx, a, error))
        @if ctx.admin() && sandbox {
            div class="card" {
                h2 { "Sandbox phone" }
                p class="muted" { "Write to this number as a customer would (it must be connected)." }
                @if let Some(n) = notice { p role="status" { (n) } }
                form method="post" action=(format!("{base}/phone/inbound")) data-async data-done="Sent. It is in the inbox." {
                    (csrf_field(&s.csrf))
                    label for="inbound-from" { "Customer's number" }
                    input id="inbound-from" name="from" type="tel" required value="+15550001111";
                    label for="inbound-text" { "Message" }
                    input id="inbound-text" name="text" required value="Hello! Is this shop open today?";
                    button type="submit" { "Send as the customer" }
                    p data-async-result role="status" {}
                }
            }
        }
        @if ctx.admin() {
            div class="card" {
                h2 { "Delete" }
                p class="muted" { "Unlinks the number and removes it from Blazz." }
                (post_button(s, format!("{base}/delete"), "Delete this number", "danger"))
            }
        }
    };
    Ok(live_page(s.tr, &a.name, Some(nav(s)), Some(&live), body))
}

/// Another workspace's number, or none: the same page.
pub fn not_found(s: &SignedIn) -> Response {
    let body = html! {
        div class="card" {
            h1 { "Not found" }
            p { "There is no such number in this workspace. " a href="/numbers" { "See the numbers" } "." }
        }
    };
    (StatusCode::NOT_FOUND, page(s.tr, "Not found", Some(nav(s)), body)).into_response()
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
    let notice = q.sent.is_some().then_some("Sent. It is in the inbox.");
    Ok(render(&state, &s, &ctx, &a, None, notice)
        .await?
        .into_response())
}
