//! The numbers pages: the list with live status, linking by QR code or
//! pair code, unlink, reconnect, delete, and the sandbox "phone" that
//! approves links and writes as a customer. Permissions and tenancy are
//! the API's (`services::numbers`): admins change, everyone sees.

mod actions;
mod list;
mod phone;
mod show;

use axum::routing::{get, post};
use axum::Router;
use blazz_domain::Role;
use blazz_store::audit::Actor;
use blazz_store::workspaces::Workspace;

use super::layout::Live;
use super::SignedIn;
use crate::auth::{csrf, Caller};
use crate::error::ApiError;
use crate::realtime::apps;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/numbers", get(list::show).post(list::create))
        .route("/numbers/{id}", get(show::show))
        .route("/numbers/{id}/link", post(actions::link))
        .route("/numbers/{id}/logout", post(actions::logout))
        .route("/numbers/{id}/reconnect", post(actions::reconnect))
        .route("/numbers/{id}/delete", post(actions::delete))
        .route("/numbers/{id}/phone/scan", post(phone::scan))
        .route("/numbers/{id}/phone/inbound", post(phone::inbound))
}

/// The signed-in browser as the API sees it, in its current workspace.
struct Ctx {
    caller: Caller,
    workspace: Workspace,
}

impl Ctx {
    fn of(s: &SignedIn) -> Result<Self, ApiError> {
        let Some((workspace, role)) = s.current.clone() else {
            return Err(ApiError::forbidden("choose a workspace first"));
        };
        Ok(Ctx {
            caller: Caller {
                workspace_id: workspace.id,
                role,
                actor: Actor {
                    kind: "user",
                    id: Some(s.user.id.to_string()),
                    name: s.user.name.clone(),
                },
                user_id: Some(s.user.id),
                token_id: None,
            },
            workspace,
        })
    }

    fn admin(&self) -> bool {
        self.caller.role.at_least(Role::Admin)
    }

    /// Live updates on `channels` for this page.
    async fn live(
        &self,
        state: &AppState,
        s: &SignedIn,
        channels: Vec<String>,
    ) -> Result<Live, ApiError> {
        let app = apps::of_workspace(state, self.workspace.id).await?;
        Ok(Live {
            key: app.key.clone(),
            csrf: s.csrf.clone(),
            channels,
        })
    }
}

/// Refuses a form without the session's token.
fn check_csrf(s: &SignedIn, token: &str) -> Result<(), ApiError> {
    if csrf::matches(&s.csrf, token) {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "the form expired; reload the page and try again",
        ))
    }
}
