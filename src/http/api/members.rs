//! Members of the workspace and their roles.

use axum::extract::State;
use axum::http::StatusCode;
use blazz_domain::{Role, UserId};
use blazz_store::members::{self, Member};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{rfc3339, Page};
use crate::auth::Caller;
use crate::error::ApiResult;
use crate::http::extract::{Json, Path};
use crate::services;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct MemberView {
    pub user_id: String,
    pub email: String,
    pub name: String,
    #[schema(value_type = String, example = "agent")]
    pub role: Role,
    pub joined_at: String,
}

impl From<Member> for MemberView {
    fn from(m: Member) -> Self {
        Self {
            user_id: m.user_id.to_string(),
            email: m.email,
            name: m.name,
            role: m.role,
            joined_at: rfc3339(m.joined_at),
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMember {
    #[schema(value_type = String, example = "admin")]
    pub role: Role,
}

/// Everyone in the workspace.
#[utoipa::path(get, path = "/members", tag = "members",
    responses((status = 200, body = Page<MemberView>), (status = 401, body = super::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Page<MemberView>>> {
    let mut conn = state.db.pool.acquire().await?;
    let all = members::list(&mut conn, caller.workspace_id).await?;
    Ok(Json(Page::all(all.into_iter().map(Into::into).collect())))
}

/// Changes a member's role. Only owners make or unmake owners; the last
/// owner stays owner.
#[utoipa::path(patch, path = "/members/{user_id}", tag = "members", request_body = UpdateMember,
    params(("user_id" = String, Path)),
    responses((status = 200, body = MemberView), (status = 403, body = super::ErrorBody),
              (status = 404, body = super::ErrorBody), (status = 409, body = super::ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(user_id): Path<UserId>,
    Json(body): Json<UpdateMember>,
) -> ApiResult<Json<MemberView>> {
    let m = services::members::change_role(&state, &caller, user_id, body.role).await?;
    Ok(Json(m.into()))
}

/// Removes a member from the workspace (their account stays).
#[utoipa::path(delete, path = "/members/{user_id}", tag = "members",
    params(("user_id" = String, Path)),
    responses((status = 204), (status = 403, body = super::ErrorBody), (status = 404, body = super::ErrorBody)))]
pub async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path(user_id): Path<UserId>,
) -> ApiResult<StatusCode> {
    services::members::remove(&state, &caller, user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
