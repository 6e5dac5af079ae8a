//! `GET /me`: who the credentials belong to.

use axum::extract::State;
use blazz_domain::Role;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::error::ApiResult;
use crate::http::extract::Json;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct MeView {
    /// `token` or `user`.
    pub kind: String,
    pub id: Option<String>,
    pub name: String,
    pub workspace_id: String,
    #[schema(value_type = String, example = "admin")]
    pub role: Role,
}

/// The caller: an API token or a signed-in member, its workspace and role.
#[utoipa::path(get, path = "/me", tag = "workspace",
    responses((status = 200, body = MeView), (status = 401, body = super::ErrorBody)))]
pub async fn get(State(_state): State<AppState>, caller: Caller) -> ApiResult<Json<MeView>> {
    Ok(Json(MeView {
        kind: caller.actor.kind.to_string(),
        id: caller.actor.id,
        name: caller.actor.name,
        workspace_id: caller.workspace_id.to_string(),
        role: caller.role,
    }))
}
