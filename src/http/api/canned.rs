//! Canned replies: workspace-shared snippets with a shortcut and variables
//! such as `{{contact.name|there}}`, filled for a contact on request.

use std::collections::HashMap;

use axum::extract::State;
use axum::http::StatusCode;
use blazz_domain::{template, CannedReplyId, ContactId, Role};
use blazz_store::canned::{self, CannedReply};
use blazz_store::contacts::Contact;
use blazz_store::is_unique_violation;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{rfc3339, Page};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::{Json, Path, Query};
use crate::services::contacts as contact_service;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct CannedReplyView {
    pub id: String,
    pub shortcut: String,
    pub body: String,
    /// The variables the body uses, e.g. `contact.name`.
    pub variables: Vec<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<CannedReply> for CannedReplyView {
    fn from(r: CannedReply) -> Self {
        Self {
            id: r.id.to_string(),
            variables: template::variables(&r.body),
            shortcut: r.shortcut,
            body: r.body,
            created_at: rfc3339(r.created_at),
            updated_at: rfc3339(r.updated_at),
        }
    }
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct CannedReplyBody {
    /// 1 to 32 of a-z, 0-9, `-` and `_` (lower-cased).
    pub shortcut: Option<String>,
    /// 1 to 4,096 characters; `{{contact.name}}`, `{{contact.phone}}`,
    /// `{{contact.fields.<name>}}`, each with an optional `|fallback`.
    pub body: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenderBody {
    pub contact_id: String,
}

#[derive(Serialize, ToSchema)]
pub struct Rendered {
    pub text: String,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CannedQuery {
    /// Only shortcuts starting with this.
    pub prefix: Option<String>,
}

fn shortcut(raw: &str) -> Result<String, ApiError> {
    let s = raw.trim().trim_start_matches('/').to_lowercase();
    let ok = !s.is_empty()
        && s.len() <= 32
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(s)
    } else {
        Err(ApiError::invalid(
            "invalid_shortcut",
            "a shortcut has 1 to 32 of a-z, 0-9, - and _",
        ))
    }
}

fn body(raw: &str) -> Result<String, ApiError> {
    let n = raw.trim().chars().count();
    if n == 0 || n > 4096 {
        return Err(ApiError::invalid(
            "invalid_body",
            "a canned reply has 1 to 4,096 characters",
        ));
    }
    Ok(raw.trim().to_string())
}

fn taken(e: sqlx::Error) -> ApiError {
    if is_unique_violation(&e) {
        ApiError::Conflict(
            "shortcut_taken",
            "another canned reply has this shortcut".into(),
        )
    } else {
        e.into()
    }
}

/// The values a contact gives to template variables.
pub fn contact_values(c: &Contact) -> HashMap<String, String> {
    let mut v = HashMap::from([
        (
            "contact.name".to_string(),
            c.name.clone().unwrap_or_default(),
        ),
        ("contact.phone".to_string(), c.phone.clone()),
    ]);
    for (k, val) in &c.fields {
        let text = match val {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Null => String::new(),
            other => other.to_string(),
        };
        v.insert(format!("contact.fields.{k}"), text);
    }
    v
}

async fn find(
    state: &AppState,
    caller: &Caller,
    id: CannedReplyId,
) -> Result<CannedReply, ApiError> {
    let mut conn = state.db.pool.acquire().await?;
    canned::find(&mut conn, caller.workspace_id, id)
        .await?
        .ok_or_else(|| ApiError::not_found("canned_reply_not_found", "canned reply"))
}

/// The workspace's canned replies by shortcut.
#[utoipa::path(get, path = "/canned-replies", tag = "canned replies", params(CannedQuery),
    responses((status = 200, body = Page<CannedReplyView>)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<CannedQuery>,
) -> ApiResult<Json<Page<CannedReplyView>>> {
    let prefix = q
        .prefix
        .map(|p| p.trim().trim_start_matches('/').to_lowercase());
    let mut conn = state.db.pool.acquire().await?;
    let all = canned::list(&mut conn, caller.workspace_id, prefix.as_deref()).await?;
    Ok(Json(Page::all(all.into_iter().map(Into::into).collect())))
}

/// Adds a canned reply (admins and owners).
#[utoipa::path(post, path = "/canned-replies", tag = "canned replies", request_body = CannedReplyBody,
    responses((status = 201, body = CannedReplyView), (status = 409, body = super::ErrorBody),
              (status = 422, body = super::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Json(b): Json<CannedReplyBody>,
) -> ApiResult<(StatusCode, Json<CannedReplyView>)> {
    caller.require(Role::Admin)?;
    let sc = shortcut(b.shortcut.as_deref().unwrap_or_default())?;
    let text = body(b.body.as_deref().unwrap_or_default())?;
    let mut conn = state.db.write().await?;
    let reply = canned::create(
        &mut conn,
        caller.workspace_id,
        &sc,
        &text,
        caller.actor.id.clone(),
    )
    .await
    .map_err(taken)?;
    Ok((StatusCode::CREATED, Json(reply.into())))
}

/// One canned reply.
#[utoipa::path(get, path = "/canned-replies/{id}", tag = "canned replies", params(("id" = String, Path)),
    responses((status = 200, body = CannedReplyView), (status = 404, body = super::ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<CannedReplyId>,
) -> ApiResult<Json<CannedReplyView>> {
    Ok(Json(find(&state, &caller, id).await?.into()))
}

/// Changes the shortcut or the body (admins and owners).
#[utoipa::path(patch, path = "/canned-replies/{id}", tag = "canned replies", params(("id" = String, Path)),
    request_body = CannedReplyBody,
    responses((status = 200, body = CannedReplyView), (status = 404, body = super::ErrorBody),
              (status = 409, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<CannedReplyId>,
    Json(b): Json<CannedReplyBody>,
) -> ApiResult<Json<CannedReplyView>> {
    let mut reply = find(&state, &caller, id).await?;
    caller.require(Role::Admin)?;
    if let Some(s) = b.shortcut {
        reply.shortcut = shortcut(&s)?;
    }
    if let Some(t) = b.body {
        reply.body = body(&t)?;
    }
    let mut conn = state.db.write().await?;
    canned::update(&mut conn, caller.workspace_id, &reply)
        .await
        .map_err(taken)?;
    drop(conn);
    Ok(Json(find(&state, &caller, id).await?.into()))
}

/// Deletes a canned reply (admins and owners).
#[utoipa::path(delete, path = "/canned-replies/{id}", tag = "canned replies", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = super::ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<CannedReplyId>,
) -> ApiResult<StatusCode> {
    find(&state, &caller, id).await?;
    caller.require(Role::Admin)?;
    let mut conn = state.db.write().await?;
    canned::delete(&mut conn, caller.workspace_id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The reply filled in for a contact of the workspace.
#[utoipa::path(post, path = "/canned-replies/{id}/render", tag = "canned replies", params(("id" = String, Path)),
    request_body = RenderBody,
    responses((status = 200, body = Rendered), (status = 404, body = super::ErrorBody)))]
pub async fn render(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<CannedReplyId>,
    Json(b): Json<RenderBody>,
) -> ApiResult<Json<Rendered>> {
    let reply = find(&state, &caller, id).await?;
    let contact_id: ContactId = b
        .contact_id
        .parse()
        .map_err(|_| ApiError::not_found("contact_not_found", "contact"))?;
    let mut conn = state.db.pool.acquire().await?;
    let contact = contact_service::find(&mut conn, &caller, contact_id).await?;
    let text = template::render(&reply.body, &contact_values(&contact));
    Ok(Json(Rendered { text }))
}
