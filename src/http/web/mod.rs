//! Server-rendered pages: first-run setup, sign-in (with two-factor),
//! invitations, the workspace home, the inbox, numbers, contacts,
//! campaigns and settings, with the embedded stylesheet and live-update
//! script.

mod campaigns;
mod contacts;
pub mod ctx;
mod headers;
mod home;
mod inbox;
mod invite;
mod layout;
mod login;
mod notice;
mod numbers;
mod session;
mod settings;
mod setup;

use axum::routing::{get, post};
use axum::Router;

use crate::state::AppState;

pub use headers::security_headers;
pub use session::{BrowserTr, SignedIn};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home::show))
        .route("/workspaces/switch", post(home::switch))
        .route("/setup", get(setup::show).post(setup::submit))
        .route(
            "/signup",
            get(setup::show_signup).post(setup::submit_signup),
        )
        .route("/login", get(login::show).post(login::submit))
        .route(
            "/login/2fa",
            get(login::show_second).post(login::submit_second),
        )
        .route("/logout", post(login::logout))
        .route("/invite/{secret}", get(invite::show).post(invite::submit))
        .route("/assets/app.css", get(layout::stylesheet))
        .route("/assets/{version}/live.js", get(layout::live_js))
        .merge(numbers::router())
        .merge(inbox::router())
        .merge(contacts::router())
        .merge(settings::router())
        .merge(campaigns::router())
}
