//! Changing a workspace's own settings.

use blazz_store::workspaces::{self, Workspace};
use serde_json::json;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::services::accounts::validate_name;
use crate::state::AppState;

pub async fn rename(state: &AppState, caller: &Caller, name: &str) -> Result<Workspace, ApiError> {
    caller.require(blazz_domain::Role::Admin)?;
    let name = validate_name("name", name)?;
    let mut tx = state.db.begin().await?;
    let Some(before) = workspaces::find(&mut tx, caller.workspace_id).await? else {
        return Err(ApiError::not_found("workspace_not_found", "workspace"));
    };
    workspaces::rename(&mut tx, caller.workspace_id, &name).await?;
    super::record(
        &mut tx,
        caller.workspace_id,
        &caller.actor,
        "workspace.updated",
        ("workspace", caller.workspace_id.to_string()),
        json!({"name": {"from": before.name, "to": name}}),
    )
    .await?;
    tx.commit().await?;
    state.committed();
    Ok(Workspace { name, ..before })
}
