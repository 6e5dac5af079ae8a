//! The caller's workspace.

use axum::extract::State;
use blazz_store::workspaces::{self, Workspace};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::rfc3339;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::Json;
use crate::services;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct WorkspaceView {
    pub id: String,
    pub slug: String,
    pub name: String,
    pub created_at: String,
}

impl From<Workspace> for WorkspaceView {
    fn from(w: Workspace) -> Self {
        Self {
            id: w.id.to_string(),
            slug: w.slug,
            name: w.name,
            created_at: rfc3339(w.created_at),
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateWorkspace {
    pub name: String,
}

/// The workspace the credentials belong to.
#[utoipa::path(get, path = "/workspace", tag = "workspace",
    responses((status = 200, body = WorkspaceView), (status = 401, body = super::ErrorBody)))]
pub async fn get(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<WorkspaceView>> {
    let mut conn = state.db.pool.acquire().await?;
    let ws = workspaces::find(&mut conn, caller.workspace_id)
        .await?
        .ok_or_else(|| ApiError::not_found("workspace_not_found", "workspace"))?;
    Ok(Json(ws.into()))
}

/// Renames the workspace (admins and owners).
#[utoipa::path(patch, path = "/workspace", tag = "workspace", request_body = UpdateWorkspace,
    responses((status = 200, body = WorkspaceView), (status = 403, body = super::ErrorBody),
              (status = 422, body = super::ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<UpdateWorkspace>,
) -> ApiResult<Json<WorkspaceView>> {
    let ws = services::workspace::rename(&state, &caller, &body.name).await?;
    Ok(Json(ws.into()))
}
