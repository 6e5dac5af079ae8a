//! The inbox pages: the chat list (unread first, filters, live), one
//! conversation (bubbles, media, quotes, reactions, ticks that follow
//! receipts, typing, who else is viewing, older history on scroll), the
//! composer (text, attachments, canned replies, templates, replies) and the
//! team's actions (assign, status, notes). Everything goes through the
//! inbox services the chat API uses, so roles and tenancy are the API's.

mod actions;
mod bubble;
mod composer;
mod conversation;
mod fragments;
mod list;
mod panel;

use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use maud::html;

use super::ctx::{check_csrf, Ctx};
use super::SignedIn;
use crate::error::ApiError;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/inbox", get(list::show))
        .route("/inbox/rows", get(list::rows))
        .route("/inbox/{id}", get(conversation::show))
        .route("/inbox/{id}/messages", get(fragments::messages))
        .route("/inbox/{id}/messages/{message}", get(fragments::message))
        .route("/inbox/{id}/panel", get(fragments::panel))
        .route("/inbox/{id}/send", post(composer::send))
        .route("/inbox/{id}/template", post(composer::template))
        .route("/inbox/{id}/assign", post(actions::assign))
        .route("/inbox/{id}/status", post(actions::status))
        .route("/inbox/{id}/notes", post(actions::note))
}

/// Another workspace's chat, or none: the same page.
fn not_found(s: &SignedIn) -> Response {
    let tr = s.tr;
    let back = super::notice::Back {
        href: "/inbox",
        label: tr.t("inbox.back"),
    };
    let (title, text) = (tr.t("common.not_found"), tr.t("inbox.not_found"));
    super::notice::notice(s, StatusCode::NOT_FOUND, title, text, back, html! {})
}

/// What went wrong, in the member's language when the catalogue knows the
/// error's code (`inbox.errors.{code}`, then `errors.{code}`), else the
/// API's own message.
fn explain(s: &SignedIn, e: &ApiError) -> String {
    super::layout::error_text_in(s.tr, "inbox", e)
}

/// Errors a member can act on: shown on the page rather than as JSON.
fn shown(e: &ApiError) -> bool {
    matches!(
        e,
        ApiError::Invalid { .. } | ApiError::Conflict(..) | ApiError::Unavailable(..)
    ) || matches!(e, ApiError::NotFound(code, _) if *code != "chat_not_found")
}

/// A query-string value, percent-encoded.
fn enc(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
