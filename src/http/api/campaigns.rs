//! Campaigns over HTTP: create, list, read with statistics, change a
//! draft, start, pause, resume, cancel, delete, and the recipients with
//! their status (as JSON pages or CSV). Admins and owners change; every
//! member reads. See `docs/campaigns.md`.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use blazz_domain::campaign::{CampaignAction, RecipientStatus};
use blazz_domain::CampaignId;
use blazz_store::campaigns::{self as store, recipients, Campaign};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::{page_limit, rfc3339, ErrorBody, Page, PageQuery};
use crate::auth::Caller;
use crate::campaigns::service::{self, Full};
use crate::campaigns::spec::CampaignInput;
use crate::campaigns::stats::{self, Stats};
use crate::error::{ApiError, ApiResult};
use crate::http::extract::{Json, Path, Query};
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct CampaignView {
    pub id: String,
    pub name: String,
    /// draft, scheduled, running, paused, completed or cancelled.
    pub status: String,
    #[schema(value_type = Object)]
    pub message: Value,
    #[schema(value_type = Object)]
    pub audience: Value,
    #[schema(value_type = Object)]
    pub settings: Value,
    pub numbers: Vec<NumberView>,
    pub start_at: Option<String>,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub stats: Stats,
}

#[derive(Serialize, ToSchema)]
pub struct NumberView {
    pub account_id: String,
    pub weight: u32,
    /// Why the number sends nothing for this campaign right now:
    /// disconnected, banned, owner_active, too_many_failures, too_many_blocks.
    pub paused_reason: Option<String>,
}

impl CampaignView {
    fn new(full: Full, stats: Stats) -> Self {
        let c = full.campaign;
        CampaignView {
            id: c.id.to_string(),
            name: c.name,
            status: c.status.as_str().into(),
            message: c.message,
            audience: c.audience,
            settings: c.settings,
            numbers: full
                .numbers
                .into_iter()
                .map(|n| NumberView {
                    account_id: n.account_id.to_string(),
                    weight: n.weight,
                    paused_reason: n.paused_reason,
                })
                .collect(),
            start_at: c.start_at.map(rfc3339),
            started_at: c.started_at.map(rfc3339),
            finished_at: c.finished_at.map(rfc3339),
            created_at: rfc3339(c.created_at),
            updated_at: rfc3339(c.updated_at),
            stats,
        }
    }
}

fn campaign_id(raw: &str) -> Result<CampaignId, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::not_found("campaign_not_found", "campaign"))
}

async fn view(state: &AppState, full: Full) -> ApiResult<CampaignView> {
    let mut conn = state.db.pool.acquire().await?;
    let stats = stats::of(&mut conn, full.campaign.id).await?;
    Ok(CampaignView::new(full, stats))
}

/// The workspace's campaigns, newest first.
#[utoipa::path(get, path = "/campaigns", tag = "campaigns", params(PageQuery),
    responses((status = 200, body = Page<CampaignView>), (status = 422, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<PageQuery>,
) -> ApiResult<Json<Page<CampaignView>>> {
    let limit = page_limit(q.limit);
    let before = match q.cursor.as_deref() {
        None => None,
        Some(c) => Some(
            c.split_once('_')
                .and_then(|(at, id)| Some((at.parse::<i64>().ok()?, id.to_string())))
                .ok_or_else(|| ApiError::invalid("invalid_cursor", "that cursor is not ours"))?,
        ),
    };
    let mut conn = state.db.pool.acquire().await?;
    let rows = store::list(&mut conn, caller.workspace_id, None, before, limit).await?;
    let mut out = Vec::with_capacity(rows.len());
    for c in rows {
        let numbers = store::numbers::list(&mut conn, c.id).await?;
        let stats = stats::of(&mut conn, c.id).await?;
        out.push((c, numbers, stats));
    }
    Ok(Json(Page::of(
        out,
        limit,
        |(c, _, _)| format!("{}_{}", c.created_at, c.id),
        |(campaign, numbers, stats)| CampaignView::new(Full { campaign, numbers }, stats),
    )))
}

/// Creates a draft campaign.
#[utoipa::path(post, path = "/campaigns", tag = "campaigns", request_body = CampaignInput,
    responses((status = 201, body = CampaignView), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Json(input): Json<CampaignInput>,
) -> ApiResult<(StatusCode, Json<CampaignView>)> {
    let full = service::create(&state, &caller, input).await?;
    Ok((StatusCode::CREATED, Json(view(&state, full).await?)))
}

/// One campaign with its statistics.
#[utoipa::path(get, path = "/campaigns/{id}", tag = "campaigns", params(("id" = String, Path)),
    responses((status = 200, body = CampaignView), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<CampaignView>> {
    let full = service::find(&state, &caller, campaign_id(&id)?).await?;
    Ok(Json(view(&state, full).await?))
}

/// Replaces a draft's content (the whole campaign, as when creating).
#[utoipa::path(put, path = "/campaigns/{id}", tag = "campaigns", params(("id" = String, Path)),
    request_body = CampaignInput,
    responses((status = 200, body = CampaignView), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(input): Json<CampaignInput>,
) -> ApiResult<Json<CampaignView>> {
    let full = service::update(&state, &caller, campaign_id(&id)?, input).await?;
    Ok(Json(view(&state, full).await?))
}

/// Deletes a draft or finished campaign.
#[utoipa::path(delete, path = "/campaigns/{id}", tag = "campaigns", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    service::delete(&state, &caller, campaign_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn act(
    state: AppState,
    caller: Caller,
    id: String,
    action: CampaignAction,
) -> ApiResult<Json<CampaignView>> {
    let full = service::act(&state, &caller, campaign_id(&id)?, action).await?;
    Ok(Json(view(&state, full).await?))
}

/// Starts a draft: plans its recipients and runs it now, or schedules it
/// for its `start_at`.
#[utoipa::path(post, path = "/campaigns/{id}/start", tag = "campaigns", params(("id" = String, Path)),
    responses((status = 200, body = CampaignView), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody)))]
pub async fn start(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<CampaignView>> {
    act(state, caller, id, CampaignAction::Start { later: false }).await
}

/// Pauses a running or scheduled campaign.
#[utoipa::path(post, path = "/campaigns/{id}/pause", tag = "campaigns", params(("id" = String, Path)),
    responses((status = 200, body = CampaignView), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody)))]
pub async fn pause(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<CampaignView>> {
    act(state, caller, id, CampaignAction::Pause).await
}

/// Resumes a paused campaign.
#[utoipa::path(post, path = "/campaigns/{id}/resume", tag = "campaigns", params(("id" = String, Path)),
    responses((status = 200, body = CampaignView), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody)))]
pub async fn resume(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<CampaignView>> {
    act(state, caller, id, CampaignAction::Resume).await
}

/// Cancels a campaign: recipients not sent yet are skipped (`cancelled`).
#[utoipa::path(post, path = "/campaigns/{id}/cancel", tag = "campaigns", params(("id" = String, Path)),
    responses((status = 200, body = CampaignView), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody)))]
pub async fn cancel(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<CampaignView>> {
    act(state, caller, id, CampaignAction::Cancel).await
}

#[derive(Serialize, ToSchema)]
pub struct RecipientView {
    pub contact_id: String,
    pub phone: String,
    /// queued, sending, sent, delivered, read, replied, failed, skipped.
    pub status: String,
    /// Why it failed or was skipped.
    pub reason: Option<String>,
    pub account_id: Option<String>,
    pub message_id: Option<String>,
    pub sent_at: Option<String>,
    pub updated_at: String,
}

impl From<recipients::Recipient> for RecipientView {
    fn from(r: recipients::Recipient) -> Self {
        RecipientView {
            contact_id: r.contact_id.to_string(),
            phone: r.phone,
            status: r.status.as_str().into(),
            reason: r.reason,
            account_id: r.account_id.map(|a| a.to_string()),
            message_id: r.message_id.map(|m| m.to_string()),
            sent_at: r.sent_at.map(rfc3339),
            updated_at: rfc3339(r.updated_at),
        }
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RecipientsQuery {
    pub status: Option<String>,
    pub cursor: Option<String>,
    /// 1 to 200, default 50.
    pub limit: Option<i64>,
}

async fn campaign_of(state: &AppState, caller: &Caller, id: &str) -> ApiResult<Campaign> {
    Ok(service::find(state, caller, campaign_id(id)?)
        .await?
        .campaign)
}

/// The campaign's recipients in plan order, optionally of one status.
#[utoipa::path(get, path = "/campaigns/{id}/recipients", tag = "campaigns",
    params(("id" = String, Path), RecipientsQuery),
    responses((status = 200, body = Page<RecipientView>), (status = 404, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn recipients(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<RecipientsQuery>,
) -> ApiResult<Json<Page<RecipientView>>> {
    let c = campaign_of(&state, &caller, &id).await?;
    let status = match q.status.as_deref() {
        None | Some("") => None,
        Some(s) => Some(s.parse::<RecipientStatus>().map_err(|_| {
            ApiError::invalid("invalid_status", format!("{s:?} is not a recipient status"))
        })?),
    };
    let after = match q.cursor.as_deref() {
        None => 0,
        Some(c) => c
            .parse::<i64>()
            .map_err(|_| ApiError::invalid("invalid_cursor", "that cursor is not ours"))?,
    };
    let limit = page_limit(q.limit);
    let mut conn = state.db.pool.acquire().await?;
    let rows = recipients::page(&mut conn, caller.workspace_id, c.id, status, after, limit).await?;
    Ok(Json(Page::of(
        rows,
        limit,
        |r| r.seq.to_string(),
        RecipientView::from,
    )))
}

/// Every recipient with their final status, as CSV.
#[utoipa::path(get, path = "/campaigns/{id}/recipients.csv", tag = "campaigns",
    params(("id" = String, Path)),
    responses((status = 200, content_type = "text/csv", body = String),
              (status = 404, body = ErrorBody)))]
pub async fn export(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let c = campaign_of(&state, &caller, &id).await?;
    let mut out = csv::Writer::from_writer(Vec::new());
    let write = |w: &mut csv::Writer<Vec<u8>>, row: &[&str]| {
        w.write_record(row)
            .map_err(|e| ApiError::Internal(e.into()))
    };
    write(
        &mut out,
        &[
            "phone",
            "contact_id",
            "status",
            "reason",
            "account_id",
            "message_id",
            "sent_at",
        ],
    )?;
    let mut conn = state.db.pool.acquire().await?;
    let mut after = 0;
    loop {
        let rows =
            recipients::page(&mut conn, caller.workspace_id, c.id, None, after, 1_000).await?;
        let Some(last) = rows.last() else { break };
        after = last.seq;
        for r in rows {
            let v = RecipientView::from(r);
            write(
                &mut out,
                &[
                    &v.phone,
                    &v.contact_id,
                    &v.status,
                    v.reason.as_deref().unwrap_or(""),
                    v.account_id.as_deref().unwrap_or(""),
                    v.message_id.as_deref().unwrap_or(""),
                    v.sent_at.as_deref().unwrap_or(""),
                ],
            )?;
        }
    }
    let body = out
        .into_inner()
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("{e}")))?;
    let headers = [
        (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
        (
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"campaign-{}.csv\"", c.id),
        ),
    ];
    Ok((headers, body).into_response())
}
