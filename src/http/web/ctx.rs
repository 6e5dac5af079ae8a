//! What every signed-in page handler starts from: the browser as the API
//! sees it (`Ctx`), and the form token check.

use blazz_domain::Role;
use blazz_store::audit::Actor;
use blazz_store::workspaces::Workspace;

use super::layout::Live;
use super::SignedIn;
use crate::auth::{csrf, Caller};
use crate::error::ApiError;
use crate::realtime::apps;
use crate::state::AppState;

/// The signed-in browser as the API sees it, in its current workspace.
pub struct Ctx {
    pub caller: Caller,
    pub workspace: Workspace,
}

impl Ctx {
    pub fn of(s: &SignedIn) -> Result<Self, ApiError> {
        let Some((workspace, role)) = s.current.clone() else {
            return Err(ApiError::forbidden(s.tr.t("nav.choose_workspace")));
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

    pub fn admin(&self) -> bool {
        self.caller.role.at_least(Role::Admin)
    }

    /// Live updates on `channels` for this page.
    pub async fn live(
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

/// Whether a posted form carries the session's token.
pub fn csrf_ok(s: &SignedIn, token: &str) -> bool {
    csrf::matches(&s.csrf, token)
}

/// Refuses a form without the session's token.
pub fn check_csrf(s: &SignedIn, token: &str) -> Result<(), ApiError> {
    if csrf_ok(s, token) {
        Ok(())
    } else {
        Err(ApiError::forbidden(s.tr.t("common.form_expired")))
    }
}
