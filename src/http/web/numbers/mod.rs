//! The numbers pages: the list with live status, linking by QR code or
//! pair code, unlink, reconnect, delete, and the sandbox "phone" that
//! approves links and writes as a customer. Permissions and tenancy are
//! the API's (`services::numbers`): admins change, everyone sees.

mod actions;
mod cloud;
mod list;
mod phone;
mod show;

use axum::routing::{get, post};
use axum::Router;

pub(super) use super::ctx::{check_csrf, Ctx};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/numbers", get(list::show).post(list::create))
        .route("/numbers/cloud", post(cloud::create))
        .route("/numbers/{id}", get(show::show))
        .route("/numbers/{id}/test", post(cloud::test))
        .route("/numbers/{id}/token", post(cloud::token))
        .route("/numbers/{id}/resume-sending", post(cloud::resume))
        .route("/numbers/{id}/templates", get(cloud::templates))
        .route("/numbers/{id}/templates/sync", post(cloud::sync))
        .route("/numbers/{id}/link", post(actions::link))
        .route("/numbers/{id}/logout", post(actions::logout))
        .route("/numbers/{id}/reconnect", post(actions::reconnect))
        .route("/numbers/{id}/delete", post(actions::delete))
        .route("/numbers/{id}/phone/scan", post(phone::scan))
        .route("/numbers/{id}/phone/inbound", post(phone::inbound))
}
