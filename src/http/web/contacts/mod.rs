//! The contacts pages: the list with search, tag filter and pages; adding,
//! viewing, editing and deleting a contact; CSV import with a preview
//! before anything is written; CSV export. Permissions and tenancy are the
//! API's (`services::contacts`, `services::contacts_io`): every member of
//! the workspace may do all of it, and another workspace's contact is
//! "not found".

mod chats;
mod edit;
mod export;
mod list;
mod pending;
mod preview;
mod show;
mod tags;
mod upload;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use blazz_domain::ContactId;
use maud::html;

use super::ctx::{csrf_ok, Ctx};
use super::notice::Back;
use super::SignedIn;
use crate::auth::Caller;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/contacts", get(list::show).post(edit::create))
        .route("/contacts/new", get(edit::new))
        .route("/contacts/export", get(export::download))
        .route(
            "/contacts/import",
            get(upload::form)
                .post(upload::upload)
                .layer(DefaultBodyLimit::max(upload::BODY_LIMIT)),
        )
        .route(
            "/contacts/import/{key}",
            get(preview::preview).post(preview::confirm),
        )
        .route("/contacts/{id}", get(show::show).post(edit::update))
        .route("/contacts/{id}/delete", post(edit::delete))
        .route("/contacts/{id}/tags", post(tags::add))
        .route("/contacts/{id}/tags/remove", post(tags::remove))
}

/// The signed-in browser as the API sees it, in its current workspace;
/// `None` before the member belongs to a workspace.
fn caller(s: &SignedIn) -> Option<Caller> {
    Ctx::of(s).ok().map(|c| c.caller)
}

/// A contact id from the path; one that does not parse names nothing.
fn contact_id(raw: &str) -> Option<ContactId> {
    raw.parse().ok()
}

/// A page that says what went wrong and where to go next.
fn notice(s: &SignedIn, status: StatusCode, title: &str, text: &str) -> Response {
    let back = Back {
        href: "/contacts",
        label: s.tr.t("contacts.back_to_list"),
    };
    super::notice::notice(s, status, title, text, back, html! {})
}

/// Another workspace's contact, or none: the same page.
fn not_found(s: &SignedIn) -> Response {
    notice(
        s,
        StatusCode::NOT_FOUND,
        s.tr.t("contacts.not_found.title"),
        s.tr.t("contacts.not_found.text"),
    )
}

/// A form posted without the session's token (an old tab, another site).
fn expired(s: &SignedIn) -> Response {
    notice(
        s,
        StatusCode::FORBIDDEN,
        s.tr.t("contacts.expired.title"),
        s.tr.t("contacts.expired.text"),
    )
}

/// A signed-in member without a workspace: home says what to do.
fn no_workspace() -> Response {
    axum::response::Redirect::to("/").into_response()
}
