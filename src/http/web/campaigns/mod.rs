//! The campaigns pages: the list, the draft form (new and edit, with a
//! preview for one contact), one campaign with its live statistics, its
//! recipients and the actions its state allows. Everything goes through
//! the campaign services the API uses (`campaigns::service`), so roles and
//! tenancy are the API's: every member sees campaigns, admins and owners
//! change them, and another workspace's campaign is "not found".

mod actions;
mod draft;
mod form;
mod list;
mod phones;
mod recipients;
mod save;
mod show;
mod stats;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use blazz_domain::campaign::CampaignStatus;
use blazz_domain::CampaignId;
use maud::html;

use super::ctx::{check_csrf, Ctx};
use super::layout::error_text_in;
use super::notice::Back;
use super::SignedIn;
use crate::error::ApiError;
use crate::i18n::Tr;
use crate::state::AppState;

/// The largest phone list file the form takes.
pub const MAX_FILE: usize = 2 * 1024 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/campaigns", get(list::show).post(save::create))
        .route("/campaigns/new", get(save::new))
        .route("/campaigns/{id}", get(show::show))
        .route("/campaigns/{id}/stats", get(stats::fragment))
        .route("/campaigns/{id}/edit", get(save::edit).post(save::update))
        .route("/campaigns/{id}/start", post(actions::start))
        .route("/campaigns/{id}/pause", post(actions::pause))
        .route("/campaigns/{id}/resume", post(actions::resume))
        .route("/campaigns/{id}/cancel", post(actions::cancel))
        .route("/campaigns/{id}/delete", post(actions::delete))
        .layer(DefaultBodyLimit::max(MAX_FILE + 256 * 1024))
}

/// A campaign id from the path; one that does not parse names nothing.
fn campaign_id(raw: &str) -> Option<CampaignId> {
    raw.parse().ok()
}

/// A signed-in member without a workspace: home says what to do.
fn no_workspace() -> Response {
    Redirect::to("/").into_response()
}

/// A page that says what went wrong and where to go next.
fn notice(s: &SignedIn, status: StatusCode, title: &str, text: &str) -> Response {
    let back = Back {
        href: "/campaigns",
        label: s.tr.t("campaigns.back"),
    };
    super::notice::notice(s, status, title, text, back, html! {})
}

/// Another workspace's campaign, or none: the same page.
fn not_found(s: &SignedIn) -> Response {
    notice(
        s,
        StatusCode::NOT_FOUND,
        s.tr.t("common.not_found"),
        s.tr.t("campaigns.not_found"),
    )
}

/// A form posted without the session's token (an old tab, another site).
fn expired(s: &SignedIn) -> Response {
    notice(
        s,
        StatusCode::FORBIDDEN,
        s.tr.t("campaigns.expired_title"),
        s.tr.t("common.form_expired"),
    )
}

/// A refusal as a page: "not found", "not allowed", the form expired, or
/// the API's answer for anything else.
fn refused(s: &SignedIn, e: ApiError) -> Response {
    match e {
        ApiError::NotFound(..) => not_found(s),
        ApiError::Forbidden(_) => notice(
            s,
            StatusCode::FORBIDDEN,
            s.tr.t("campaigns.forbidden_title"),
            s.tr.t("campaigns.admin_only"),
        ),
        e => e.into_response(),
    }
}

/// What a page says about a refusal: the campaigns' own wording for the
/// codes only these pages meet, else the shared one.
fn explain(tr: Tr, e: &ApiError) -> String {
    error_text_in(tr, "campaigns", e)
}

/// How a campaign's status reads.
fn status_label(tr: Tr, status: CampaignStatus) -> &'static str {
    tr.t(&format!("campaigns.status.{}", status.as_str()))
}

/// Milliseconds since the epoch as a short UTC time for tables.
fn when(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use blazz_domain::campaign::{CampaignStatus, NumberPause, RecipientStatus, SkipReason};

    use crate::i18n::{Lang, Tr};

    /// Keys built at run time have an entry for every value, in each
    /// language.
    #[test]
    fn every_status_and_reason_has_words() {
        for lang in Lang::ALL {
            let tr = Tr::new(lang);
            for s in CampaignStatus::ALL {
                assert!(tr
                    .get(&format!("campaigns.status.{}", s.as_str()))
                    .is_some());
            }
            for s in RecipientStatus::ALL {
                assert!(tr.get(&format!("campaigns.stat.{}", s.as_str())).is_some());
            }
            let skips = [
                SkipReason::OptedOut,
                SkipReason::RecentlyMessaged,
                SkipReason::InvalidPhone,
                SkipReason::Cancelled,
            ];
            let pauses = [
                NumberPause::Disconnected,
                NumberPause::Banned,
                NumberPause::TooManyFailures,
                NumberPause::TooManyBlocks,
                NumberPause::OwnerActive,
            ];
            let reasons = skips
                .iter()
                .map(|r| r.as_str())
                .chain(pauses.iter().map(|p| p.as_str()));
            for r in reasons {
                assert!(tr.get(&format!("campaigns.reason.{r}")).is_some(), "{r}");
            }
        }
    }
}
