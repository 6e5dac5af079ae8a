//! The workspace's background jobs: inspect them and replay dead ones.

use axum::extract::State;
use blazz_domain::{JobState, Priority, Role};
use blazz_store::jobs::{self, JobRow};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{rfc3339, Page};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::{Json, Path, Query};
use crate::services;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct JobView {
    pub id: i64,
    pub name: String,
    /// urgent, high, normal or campaign.
    pub priority: String,
    /// queued, running, done or dead.
    pub state: String,
    pub attempts: i64,
    pub max_attempts: i64,
    pub run_at: String,
    pub last_error: Option<String>,
    pub created_at: String,
    pub finished_at: Option<String>,
}

impl From<JobRow> for JobView {
    fn from(j: JobRow) -> Self {
        Self {
            id: j.id,
            name: j.name,
            priority: Priority::from_rank(j.priority)
                .map(|p| p.as_str().to_string())
                .unwrap_or_else(|| j.priority.to_string()),
            state: j.state,
            attempts: j.attempts,
            max_attempts: j.max_attempts,
            run_at: rfc3339(j.run_at),
            last_error: j.last_error,
            created_at: rfc3339(j.created_at),
            finished_at: j.finished_at.map(rfc3339),
        }
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct JobsQuery {
    /// Only jobs in this state: queued, running, done or dead.
    pub state: Option<String>,
    pub cursor: Option<String>,
    /// 1 to 200, default 50.
    pub limit: Option<i64>,
}

/// The workspace's jobs, newest first (admins and owners).
#[utoipa::path(get, path = "/jobs", tag = "jobs", params(JobsQuery),
    responses((status = 200, body = Page<JobView>), (status = 403, body = super::ErrorBody),
              (status = 422, body = super::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<JobsQuery>,
) -> ApiResult<Json<Page<JobView>>> {
    caller.require(Role::Admin)?;
    let st = match q.state.as_deref() {
        Some(s) => Some(
            s.parse::<JobState>()
                .map_err(|e| ApiError::invalid("invalid_state", e))?,
        ),
        None => None,
    };
    let before = match q.cursor.as_deref() {
        Some(c) => Some(
            c.parse::<i64>()
                .map_err(|_| ApiError::invalid("invalid_cursor", "not a cursor of this list"))?,
        ),
        None => None,
    };
    let limit = super::page_limit(q.limit);
    let mut conn = state.db.pool.acquire().await?;
    let rows = jobs::list(&mut conn, Some(caller.workspace_id), st, before, limit).await?;
    Ok(Json(Page::of(
        rows,
        limit,
        |j| j.id.to_string(),
        Into::into,
    )))
}

/// One job.
#[utoipa::path(get, path = "/jobs/{id}", tag = "jobs", params(("id" = i64, Path)),
    responses((status = 200, body = JobView), (status = 404, body = super::ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<JobView>> {
    caller.require(Role::Admin)?;
    let mut conn = state.db.pool.acquire().await?;
    let job = jobs::find(&mut conn, id, Some(caller.workspace_id))
        .await?
        .ok_or_else(|| ApiError::not_found("job_not_found", "job"))?;
    Ok(Json(job.into()))
}

/// Replays a dead job with a fresh set of attempts.
#[utoipa::path(post, path = "/jobs/{id}/retry", tag = "jobs", params(("id" = i64, Path)),
    responses((status = 200, body = JobView), (status = 404, body = super::ErrorBody),
              (status = 409, body = super::ErrorBody)))]
pub async fn retry(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<JobView>> {
    caller.require(Role::Admin)?;
    let ws = Some(caller.workspace_id);
    let mut tx = state.db.begin().await?;
    let Some(job) = jobs::find(&mut tx, id, ws).await? else {
        return Err(ApiError::not_found("job_not_found", "job"));
    };
    if !jobs::retry_dead(&mut tx, id, ws).await? {
        return Err(ApiError::Conflict(
            "job_not_dead",
            format!("the job is {}, not dead", job.state),
        ));
    }
    services::record(
        &mut tx,
        caller.workspace_id,
        &caller.actor,
        "job.retried",
        ("job", id.to_string()),
        serde_json::json!({"name": job.name, "last_error": job.last_error}),
    )
    .await?;
    tx.commit().await?;
    state.committed();
    let mut conn = state.db.pool.acquire().await?;
    let job = jobs::find(&mut conn, id, ws)
        .await?
        .ok_or_else(|| ApiError::not_found("job_not_found", "job"))?;
    Ok(Json(job.into()))
}
