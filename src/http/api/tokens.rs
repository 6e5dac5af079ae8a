//! API tokens of the workspace.

use axum::extract::State;
use axum::http::StatusCode;
use blazz_domain::{Role, TokenId};
use blazz_store::tokens::{self, ApiToken};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{rfc3339, Page};
use crate::auth::Caller;
use crate::error::ApiResult;
use crate::http::extract::{Json, Path};
use crate::services;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct TokenView {
    pub id: String,
    pub name: String,
    #[schema(value_type = String, example = "admin")]
    pub role: Role,
    /// The first characters of the token, to recognise it.
    pub prefix: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
    /// The whole token: only in the answer to the creating request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

impl TokenView {
    fn new(t: ApiToken, secret: Option<String>) -> Self {
        Self {
            id: t.id.to_string(),
            name: t.name,
            role: t.role,
            prefix: t.prefix,
            created_at: rfc3339(t.created_at),
            last_used_at: t.last_used_at.map(rfc3339),
            revoked_at: t.revoked_at.map(rfc3339),
            token: secret,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    pub name: String,
    #[schema(value_type = String, example = "agent")]
    pub role: Role,
}

/// The workspace's API tokens, revoked ones included (admins and owners).
#[utoipa::path(get, path = "/tokens", tag = "tokens",
    responses((status = 200, body = Page<TokenView>), (status = 403, body = super::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Page<TokenView>>> {
    caller.require(Role::Admin)?;
    let mut conn = state.db.pool.acquire().await?;
    let all = tokens::list(&mut conn, caller.workspace_id).await?;
    Ok(Json(Page::all(
        all.into_iter().map(|t| TokenView::new(t, None)).collect(),
    )))
}

/// Creates a token; the answer's `token` is shown this once and stored
/// only as a hash. Nobody creates a token above their own role.
#[utoipa::path(post, path = "/tokens", tag = "tokens", request_body = CreateToken,
    responses((status = 201, body = TokenView), (status = 403, body = super::ErrorBody),
              (status = 422, body = super::ErrorBody), (status = 429, body = super::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<CreateToken>,
) -> ApiResult<(StatusCode, Json<TokenView>)> {
    caller.require(Role::Admin)?;
    let (token, secret) = services::tokens::create(
        &state.db,
        caller.workspace_id,
        &caller.actor,
        Some(caller.role),
        &body.name,
        body.role,
        caller.user_id,
    )
    .await?;
    state.committed();
    Ok((
        StatusCode::CREATED,
        Json(TokenView::new(token, Some(secret))),
    ))
}

/// Revokes a token at once.
#[utoipa::path(delete, path = "/tokens/{id}", tag = "tokens", params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = super::ErrorBody), (status = 404, body = super::ErrorBody)))]
pub async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<TokenId>,
) -> ApiResult<StatusCode> {
    caller.require(Role::Admin)?;
    services::tokens::revoke(
        &state.db,
        caller.workspace_id,
        &caller.actor,
        caller.role,
        id,
    )
    .await?;
    state.committed();
    Ok(StatusCode::NO_CONTENT)
}
