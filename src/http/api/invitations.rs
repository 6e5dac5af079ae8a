//! Invitations to join the workspace.

use axum::extract::State;
use axum::http::StatusCode;
use blazz_domain::{InvitationId, Role};
use blazz_store::invitations::{self, Invitation};
use blazz_store::now_ms;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{rfc3339, Page};
use crate::auth::Caller;
use crate::error::ApiResult;
use crate::http::extract::{Json, Path};
use crate::services;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct InvitationView {
    pub id: String,
    pub email: String,
    #[schema(value_type = String, example = "agent")]
    pub role: Role,
    /// pending, accepted, revoked or expired.
    pub status: String,
    pub created_at: String,
    pub expires_at: String,
    /// The one-time link; only in the answer to the creating request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

impl InvitationView {
    fn new(i: Invitation, link: Option<String>) -> Self {
        Self {
            id: i.id.to_string(),
            status: i.status(now_ms()).to_string(),
            email: i.email,
            role: i.role,
            created_at: rfc3339(i.created_at),
            expires_at: rfc3339(i.expires_at),
            link,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateInvitation {
    pub email: String,
    #[schema(value_type = String, example = "agent")]
    pub role: Role,
}

/// Invitations of the workspace, newest first (admins and owners).
#[utoipa::path(get, path = "/invitations", tag = "members",
    responses((status = 200, body = Page<InvitationView>), (status = 403, body = super::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Page<InvitationView>>> {
    caller.require(Role::Admin)?;
    let mut conn = state.db.pool.acquire().await?;
    let all = invitations::list(&mut conn, caller.workspace_id).await?;
    Ok(Json(Page::all(
        all.into_iter()
            .map(|i| InvitationView::new(i, None))
            .collect(),
    )))
}

/// Invites someone by e-mail. No mail is sent: the answer carries the
/// one-time `link` to pass on (it is also logged).
#[utoipa::path(post, path = "/invitations", tag = "members", request_body = CreateInvitation,
    responses((status = 201, body = InvitationView), (status = 403, body = super::ErrorBody),
              (status = 409, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<CreateInvitation>,
) -> ApiResult<(StatusCode, Json<InvitationView>)> {
    let (inv, link) =
        services::invitations::create(&state, &caller, &body.email, body.role).await?;
    Ok((
        StatusCode::CREATED,
        Json(InvitationView::new(inv, Some(link))),
    ))
}

/// Revokes a pending invitation; its link stops working.
#[utoipa::path(delete, path = "/invitations/{id}", tag = "members", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = super::ErrorBody)))]
pub async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<InvitationId>,
) -> ApiResult<StatusCode> {
    services::invitations::revoke(&state, &caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
