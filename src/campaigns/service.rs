//! What members do to campaigns: create and change drafts, start, pause,
//! resume, cancel, delete. Each change is one transaction with its audit
//! entry and event; admins and owners only (an agent sees campaigns but
//! cannot message the whole customer base).

use blazz_domain::campaign::{transition, CampaignAction, CampaignStatus, SkipReason};
use blazz_domain::{AccountId, CampaignId, Role};
use blazz_store::campaigns::{self as store, numbers, recipients, Campaign};
use blazz_store::{accounts, canned, now_ms, Conn};
use serde_json::json;

use super::spec::CampaignInput;
use super::{planner, stats};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::inbox::body::Body;
use crate::services::accounts::validate_name;
use crate::services::record;
use crate::state::AppState;

/// A campaign and the numbers it sends from.
pub struct Full {
    pub campaign: Campaign,
    pub numbers: Vec<numbers::CampaignNumber>,
}

pub async fn create(
    state: &AppState,
    caller: &Caller,
    input: CampaignInput,
) -> Result<Full, ApiError> {
    caller.require(Role::Admin)?;
    let ws = caller.workspace_id;
    let now = now_ms();
    let mut c = Campaign {
        id: CampaignId::new(),
        workspace_id: ws,
        name: String::new(),
        status: CampaignStatus::Draft,
        message: json!(null),
        audience: json!(null),
        settings: json!(null),
        start_at: None,
        planned_at: None,
        started_at: None,
        finished_at: None,
        created_by: caller.user_id.map(|u| u.to_string()),
        created_at: now,
        updated_at: now,
    };
    let shares = fill(state, caller, &mut c, &input).await?;
    let mut tx = state.db.begin().await?;
    store::create(&mut tx, &c).await?;
    numbers::set(&mut tx, c.id, &shares).await?;
    record(
        &mut tx,
        ws,
        &caller.actor,
        "campaign.created",
        ("campaign", c.id.to_string()),
        json!({"name": c.name}),
    )
    .await?;
    tx.commit().await?;
    state.committed();
    find(state, caller, c.id).await
}

/// Replaces a draft's content.
pub async fn update(
    state: &AppState,
    caller: &Caller,
    id: CampaignId,
    input: CampaignInput,
) -> Result<Full, ApiError> {
    caller.require(Role::Admin)?;
    let mut c = find(state, caller, id).await?.campaign;
    if !c.status.editable() {
        return Err(not_draft(c.status));
    }
    let shares = fill(state, caller, &mut c, &input).await?;
    let mut tx = state.db.begin().await?;
    if !store::update_draft(&mut tx, &c, now_ms()).await? {
        return Err(ApiError::Conflict(
            "campaign_state",
            "the campaign was started meanwhile; only drafts change".into(),
        ));
    }
    numbers::set(&mut tx, c.id, &shares).await?;
    record(
        &mut tx,
        c.workspace_id,
        &caller.actor,
        "campaign.updated",
        ("campaign", c.id.to_string()),
        json!({"name": c.name}),
    )
    .await?;
    tx.commit().await?;
    state.committed();
    find(state, caller, id).await
}

fn not_draft(status: CampaignStatus) -> ApiError {
    ApiError::Conflict(
        "campaign_state",
        format!("the campaign is {status}; only drafts change"),
    )
}

/// Validates `input` into `c`; returns the numbers with their weights.
async fn fill(
    state: &AppState,
    caller: &Caller,
    c: &mut Campaign,
    input: &CampaignInput,
) -> Result<Vec<(AccountId, u32)>, ApiError> {
    let ws = caller.workspace_id;
    c.name = validate_name("name", &input.name)?;
    let mut body = input.body()?;
    let shares = input.shares()?;
    input.check_audience()?;
    input.settings.check()?;
    c.start_at = input.start_at_ms()?;
    let mut conn = state.db.pool.acquire().await?;
    for (account, _) in &shares {
        accounts::find(&mut conn, ws, *account)
            .await?
            .ok_or_else(|| ApiError::not_found("account_not_found", "account"))?;
    }
    if let Body::Template {
        template,
        variables,
        text,
        ..
    } = &mut body
    {
        // The canned reply's text is kept with the campaign: a later edit
        // of the reply does not change a campaign under way.
        *text = Some(canned_text(&mut conn, caller, template).await?);
        variables.extend(input.variables.clone());
    }
    if let Some(media) = body.media_id() {
        crate::inbox::media::check(state, ws, media, body.kind()).await?;
    }
    c.message = serde_json::to_value(&body).map_err(anyhow::Error::from)?;
    c.audience = serde_json::to_value(&input.audience).map_err(anyhow::Error::from)?;
    c.settings = serde_json::to_value(&input.settings).map_err(anyhow::Error::from)?;
    Ok(shares)
}

async fn canned_text(conn: &mut Conn, caller: &Caller, shortcut: &str) -> Result<String, ApiError> {
    let wanted = shortcut.trim().trim_start_matches('/').to_lowercase();
    canned::list(conn, caller.workspace_id, Some(&wanted))
        .await?
        .into_iter()
        .find(|r| r.shortcut == wanted)
        .map(|r| r.body)
        .ok_or_else(|| ApiError::not_found("template_not_found", "canned reply"))
}

pub async fn find(state: &AppState, caller: &Caller, id: CampaignId) -> Result<Full, ApiError> {
    let mut conn = state.db.pool.acquire().await?;
    let campaign = store::find(&mut conn, caller.workspace_id, id)
        .await?
        .ok_or_else(|| ApiError::not_found("campaign_not_found", "campaign"))?;
    let numbers = numbers::list(&mut conn, id).await?;
    Ok(Full { campaign, numbers })
}

/// Starts, pauses, resumes or cancels a campaign. Starting plans its
/// recipients (once) in the same transaction that moves it on.
pub async fn act(
    state: &AppState,
    caller: &Caller,
    id: CampaignId,
    action: CampaignAction,
) -> Result<Full, ApiError> {
    caller.require(Role::Admin)?;
    let ws = caller.workspace_id;
    let now = state.campaigns.clock.now_ms();
    let c = find(state, caller, id).await?.campaign;
    let action = match action {
        CampaignAction::Start { .. } => CampaignAction::Start {
            later: c.start_at.is_some_and(|at| at > now),
        },
        other => other,
    };
    let Some(to) = transition(c.status, action) else {
        return Err(ApiError::Conflict(
            "campaign_state",
            format!("a {} campaign cannot {}", c.status, action.as_str()),
        ));
    };
    let mut tx = state.db.begin().await?;
    let planned = if matches!(action, CampaignAction::Start { .. }) && c.planned_at.is_none() {
        let n = planner::plan(state, &mut tx, &c, now).await?;
        store::mark_planned(&mut tx, ws, id, now).await?;
        Some(n)
    } else {
        None
    };
    if !store::set_status(&mut tx, ws, id, c.status, to, now_ms()).await? {
        return Err(ApiError::Conflict(
            "campaign_state",
            "the campaign changed meanwhile; reload it".into(),
        ));
    }
    if to == CampaignStatus::Cancelled {
        recipients::skip_all_queued(&mut tx, id, SkipReason::Cancelled, now_ms()).await?;
    }
    let verb = match action {
        CampaignAction::Start { later: true } => "scheduled",
        CampaignAction::Start { later: false } | CampaignAction::Due => "started",
        CampaignAction::Pause => "paused",
        CampaignAction::Resume => "resumed",
        CampaignAction::Cancel => "cancelled",
        CampaignAction::Finish => "completed",
    };
    record(
        &mut tx,
        ws,
        &caller.actor,
        &format!("campaign.{verb}"),
        ("campaign", id.to_string()),
        json!({"from": c.status, "to": to, "planned": planned}),
    )
    .await?;
    stats::publish(&mut tx, ws, id, to).await?;
    tx.commit().await?;
    state.committed();
    if to == CampaignStatus::Running {
        state.campaigns.run(state, ws, id);
    } else {
        state.campaigns.stop(id);
    }
    find(state, caller, id).await
}

/// Deletes a draft or a finished campaign (its recipients go with it).
pub async fn delete(state: &AppState, caller: &Caller, id: CampaignId) -> Result<(), ApiError> {
    caller.require(Role::Admin)?;
    let c = find(state, caller, id).await?.campaign;
    if !(c.status.editable() || c.status.is_final()) {
        return Err(ApiError::Conflict(
            "campaign_state",
            format!("a {} campaign cannot be deleted; cancel it first", c.status),
        ));
    }
    let mut tx = state.db.begin().await?;
    store::delete(&mut tx, caller.workspace_id, id).await?;
    record(
        &mut tx,
        caller.workspace_id,
        &caller.actor,
        "campaign.deleted",
        ("campaign", id.to_string()),
        json!({"name": c.name}),
    )
    .await?;
    tx.commit().await?;
    state.committed();
    Ok(())
}
