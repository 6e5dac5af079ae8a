//! Account groups: a primary number and a fallback that takes its sends
//! while the primary is not connected (see docs/cloud.md, "Failover").

use axum::extract::State;
use axum::http::StatusCode;
use blazz_store::cloud::groups::AccountGroup;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{rfc3339, Page};
use crate::auth::Caller;
use crate::cloud::groups;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::{Json, Path};
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct AccountGroupView {
    pub id: String,
    pub name: String,
    pub primary_account_id: String,
    pub fallback_account_id: String,
    pub created_at: String,
}

impl From<AccountGroup> for AccountGroupView {
    fn from(g: AccountGroup) -> Self {
        Self {
            id: g.id.to_string(),
            name: g.name,
            primary_account_id: g.primary_account_id.to_string(),
            fallback_account_id: g.fallback_account_id.to_string(),
            created_at: rfc3339(g.created_at),
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAccountGroup {
    pub name: String,
    /// Sends go from this number while it is connected...
    pub primary_account_id: String,
    /// ...and from this one while it is not.
    pub fallback_account_id: String,
}

fn id(raw: &str, what: &str) -> Result<blazz_domain::AccountId, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::invalid("invalid_id", format!("{what} is not an id")))
}

#[utoipa::path(get, path = "/account-groups", tag = "accounts",
    responses((status = 200, body = Page<AccountGroupView>)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Page<AccountGroupView>>> {
    let all = groups::list(&state, &caller).await?;
    Ok(Json(Page::all(all.into_iter().map(Into::into).collect())))
}

/// Groups two numbers of the workspace; send to the group with
/// `account_group_id` in `POST /messages`.
#[utoipa::path(post, path = "/account-groups", tag = "accounts", request_body = CreateAccountGroup,
    responses((status = 201, body = AccountGroupView), (status = 404, body = super::ErrorBody),
              (status = 422, body = super::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Json(b): Json<CreateAccountGroup>,
) -> ApiResult<(StatusCode, Json<AccountGroupView>)> {
    let primary = id(&b.primary_account_id, "primary_account_id")?;
    let fallback = id(&b.fallback_account_id, "fallback_account_id")?;
    let g = groups::create(&state, &caller, &b.name, primary, fallback).await?;
    Ok((StatusCode::CREATED, Json(g.into())))
}

#[utoipa::path(get, path = "/account-groups/{id}", tag = "accounts", params(("id" = String, Path)),
    responses((status = 200, body = AccountGroupView), (status = 404, body = super::ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<AccountGroupView>> {
    Ok(Json(groups::find(&state, &caller, id).await?.into()))
}

#[utoipa::path(delete, path = "/account-groups/{id}", tag = "accounts", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = super::ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    groups::delete(&state, &caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
