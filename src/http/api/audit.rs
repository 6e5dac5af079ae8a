//! The workspace's audit log.

use axum::extract::State;
use blazz_domain::{AuditId, Role};
use blazz_store::audit;
use serde::Serialize;
use utoipa::ToSchema;

use super::{rfc3339, Page, PageQuery};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::{Json, Query};
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct AuditEntryView {
    pub id: String,
    /// Who acted: `user`, `token` or `cli`, with id and name.
    pub actor_kind: String,
    pub actor_id: Option<String>,
    pub actor_name: String,
    /// What happened, e.g. `member.role_changed`.
    pub action: String,
    pub target_kind: Option<String>,
    pub target_id: Option<String>,
    pub details: serde_json::Value,
    pub created_at: String,
}

/// Who did what and when, newest first (admins and owners).
#[utoipa::path(get, path = "/audit", tag = "workspace", params(PageQuery),
    responses((status = 200, body = Page<AuditEntryView>), (status = 403, body = super::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<PageQuery>,
) -> ApiResult<Json<Page<AuditEntryView>>> {
    caller.require(Role::Admin)?;
    let before = match &q.cursor {
        Some(c) => Some(
            c.parse::<AuditId>()
                .map_err(|_| ApiError::invalid("invalid_cursor", "not a cursor of this list"))?,
        ),
        None => None,
    };
    let limit = q.limit();
    let mut conn = state.db.pool.acquire().await?;
    let entries = audit::list(&mut conn, caller.workspace_id, before, limit).await?;
    let page = Page::of(
        entries,
        limit,
        |e| e.id.to_string(),
        |e| AuditEntryView {
            id: e.id.to_string(),
            actor_kind: e.actor_kind,
            actor_id: e.actor_id,
            actor_name: e.actor_name,
            action: e.action,
            target_kind: e.target_kind,
            target_id: e.target_id,
            details: e.details,
            created_at: rfc3339(e.created_at),
        },
    );
    Ok(Json(page))
}
