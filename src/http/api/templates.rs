//! Meta message templates of Cloud API numbers: list, sync from Meta,
//! create (submitted for Meta's review), delete.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use blazz_cloud::TemplateDraft;
use blazz_domain::AccountId;
use blazz_store::cloud::templates::Template;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{rfc3339, Page};
use crate::auth::Caller;
use crate::cloud::templates;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::{Json, Path};
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct TemplateView {
    pub id: String,
    pub account_id: String,
    /// Meta's id for the template.
    pub meta_id: Option<String>,
    pub name: String,
    /// Meta's language code, e.g. `en_US`.
    pub language: String,
    pub category: Option<String>,
    /// APPROVED, PENDING, REJECTED, PAUSED, DISABLED...
    pub status: String,
    /// Why Meta rejected, paused or flagged it.
    pub reason: Option<String>,
    /// POSITIONAL (`{{1}}`) or NAMED (`{{first_name}}`).
    pub parameter_format: String,
    /// Meta's components (HEADER, BODY, FOOTER, BUTTONS).
    #[schema(value_type = Object)]
    pub components: serde_json::Value,
    /// The body's variables, in order: what a template message fills.
    pub variables: Vec<String>,
    pub updated_at: String,
}

impl From<Template> for TemplateView {
    fn from(t: Template) -> Self {
        let variables = templates::to_cloud(&t).slots().body;
        Self {
            id: t.id.to_string(),
            account_id: t.account_id.to_string(),
            meta_id: t.meta_id,
            name: t.name,
            language: t.language,
            category: t.category,
            status: t.status,
            reason: t.reason,
            parameter_format: t.parameter_format,
            components: t.components,
            variables,
            updated_at: rfc3339(t.updated_at),
        }
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only this number's templates.
    pub account_id: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTemplate {
    /// The Cloud API number whose business account gets the template.
    pub account_id: String,
    /// Lower-case letters, digits and underscores.
    pub name: String,
    /// MARKETING, UTILITY or AUTHENTICATION.
    pub category: String,
    pub language: String,
    /// POSITIONAL (default) or NAMED.
    pub parameter_format: Option<String>,
    /// Meta's components, e.g. `[{"type":"BODY","text":"Hi {{1}}","example":{"body_text":[["Ana"]]}}]`.
    #[schema(value_type = Vec<Object>)]
    pub components: Vec<serde_json::Value>,
}

fn account_id(raw: &str) -> Result<AccountId, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::invalid("invalid_id", "account_id is not an id"))
}

/// The workspace's templates (of one number with `account_id`).
#[utoipa::path(get, path = "/templates", tag = "templates", params(ListQuery),
    responses((status = 200, body = Page<TemplateView>), (status = 404, body = super::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Page<TemplateView>>> {
    let account = q.account_id.as_deref().map(account_id).transpose()?;
    let all = templates::list(&state, &caller, account).await?;
    Ok(Json(Page::all(all.into_iter().map(Into::into).collect())))
}

/// Submits a template to Meta for review; it is stored with Meta's status
/// (usually PENDING) and follows Meta's webhook updates.
#[utoipa::path(post, path = "/templates", tag = "templates", request_body = CreateTemplate,
    responses((status = 201, body = TemplateView), (status = 404, body = super::ErrorBody),
              (status = 409, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Json(b): Json<CreateTemplate>,
) -> ApiResult<(StatusCode, Json<TemplateView>)> {
    let account = account_id(&b.account_id)?;
    let draft = TemplateDraft {
        name: b.name.trim().to_string(),
        category: b.category.trim().to_ascii_uppercase(),
        language: b.language.trim().to_string(),
        parameter_format: b.parameter_format.map(|f| f.to_ascii_uppercase()),
        components: b.components,
    };
    let t = templates::create(&state, &caller, account, draft).await?;
    Ok((StatusCode::CREATED, Json(t.into())))
}

#[utoipa::path(get, path = "/templates/{id}", tag = "templates", params(("id" = String, Path)),
    responses((status = 200, body = TemplateView), (status = 404, body = super::ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<TemplateView>> {
    Ok(Json(templates::find(&state, &caller, id).await?.into()))
}

/// Deletes the template at Meta (this language) and here.
#[utoipa::path(delete, path = "/templates/{id}", tag = "templates", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = super::ErrorBody), (status = 409, body = super::ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    templates::delete(&state, &caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Reads every template of the number's business account from Meta
/// (following its pages) and stores them; answers the number's templates.
#[utoipa::path(post, path = "/accounts/{id}/templates/sync", tag = "templates",
    params(("id" = String, Path)),
    responses((status = 200, body = Page<TemplateView>), (status = 404, body = super::ErrorBody),
              (status = 409, body = super::ErrorBody)))]
pub async fn sync(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<AccountId>,
) -> ApiResult<Json<Page<TemplateView>>> {
    let all = templates::sync(&state, &caller, id).await?;
    Ok(Json(Page::all(all.into_iter().map(Into::into).collect())))
}
