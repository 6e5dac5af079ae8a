//! Campaigns: the campaign rows (this module), the numbers each sends from
//! ([`numbers`]) and its recipients ([`recipients`]).

pub mod numbers;
pub mod recipients;

use blazz_domain::campaign::CampaignStatus;
use blazz_domain::{CampaignId, WorkspaceId};

use crate::{parse_id, Conn};

#[derive(Debug, Clone)]
pub struct Campaign {
    pub id: CampaignId,
    pub workspace_id: WorkspaceId,
    pub name: String,
    pub status: CampaignStatus,
    /// The message body (JSON, validated by the application).
    pub message: serde_json::Value,
    /// Who receives it: tags, contact ids (JSON).
    pub audience: serde_json::Value,
    /// Cooldown, sending window, pacing (JSON).
    pub settings: serde_json::Value,
    pub start_at: Option<i64>,
    pub planned_at: Option<i64>,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub created_by: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    workspace_id: String,
    name: String,
    status: String,
    message: String,
    audience: String,
    settings: String,
    start_at: Option<i64>,
    planned_at: Option<i64>,
    started_at: Option<i64>,
    finished_at: Option<i64>,
    created_by: Option<String>,
    created_at: i64,
    updated_at: i64,
}

const COLUMNS: &str = "id, workspace_id, name, status, message, audience, settings, start_at, \
     planned_at, started_at, finished_at, created_by, created_at, updated_at";

impl TryFrom<Row> for Campaign {
    type Error = anyhow::Error;

    fn try_from(r: Row) -> anyhow::Result<Self> {
        Ok(Campaign {
            id: parse_id(&r.id)?,
            workspace_id: parse_id(&r.workspace_id)?,
            name: r.name,
            status: r.status.parse().map_err(anyhow::Error::msg)?,
            message: serde_json::from_str(&r.message)?,
            audience: serde_json::from_str(&r.audience)?,
            settings: serde_json::from_str(&r.settings)?,
            start_at: r.start_at,
            planned_at: r.planned_at,
            started_at: r.started_at,
            finished_at: r.finished_at,
            created_by: r.created_by,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

pub async fn create(conn: &mut Conn, c: &Campaign) -> anyhow::Result<()> {
    sqlx::query(&format!(
        "INSERT INTO campaigns ({COLUMNS}) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
    ))
    .bind(c.id.to_string())
    .bind(c.workspace_id.to_string())
    .bind(&c.name)
    .bind(c.status.as_str())
    .bind(c.message.to_string())
    .bind(c.audience.to_string())
    .bind(c.settings.to_string())
    .bind(c.start_at)
    .bind(c.planned_at)
    .bind(c.started_at)
    .bind(c.finished_at)
    .bind(c.created_by.clone())
    .bind(c.created_at)
    .bind(c.updated_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn find(
    conn: &mut Conn,
    ws: WorkspaceId,
    id: CampaignId,
) -> anyhow::Result<Option<Campaign>> {
    let row: Option<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM campaigns WHERE workspace_id = $1 AND id = $2"
    ))
    .bind(ws.to_string())
    .bind(id.to_string())
    .fetch_optional(conn)
    .await?;
    row.map(Campaign::try_from).transpose()
}

/// A page of the workspace's campaigns, newest first, after the cursor
/// `(created_at, id)` of the previous page's last one.
pub async fn list(
    conn: &mut Conn,
    ws: WorkspaceId,
    status: Option<CampaignStatus>,
    before: Option<(i64, String)>,
    limit: i64,
) -> anyhow::Result<Vec<Campaign>> {
    let (at, id) = before.unwrap_or((i64::MAX, String::new()));
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM campaigns WHERE workspace_id = $1 \
         AND ($2 = '' OR status = $2) \
         AND (created_at < $3 OR (created_at = $3 AND id < $4)) \
         ORDER BY created_at DESC, id DESC LIMIT $5"
    ))
    .bind(ws.to_string())
    .bind(status.map(|s| s.as_str()).unwrap_or(""))
    .bind(at)
    .bind(if id.is_empty() { "~".to_string() } else { id })
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(Campaign::try_from).collect()
}

/// Replaces a draft's content; false when it is no longer a draft.
pub async fn update_draft(conn: &mut Conn, c: &Campaign, now: i64) -> anyhow::Result<bool> {
    let done = sqlx::query(
        "UPDATE campaigns SET name = $1, message = $2, audience = $3, settings = $4, \
         start_at = $5, updated_at = $6 \
         WHERE workspace_id = $7 AND id = $8 AND status = 'draft'",
    )
    .bind(&c.name)
    .bind(c.message.to_string())
    .bind(c.audience.to_string())
    .bind(c.settings.to_string())
    .bind(c.start_at)
    .bind(now)
    .bind(c.workspace_id.to_string())
    .bind(c.id.to_string())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Moves a campaign from `from` to `to` if it is still `from` (another
/// request or instance may have moved it first); true if it moved. The
/// first start and the end are stamped.
pub async fn set_status(
    conn: &mut Conn,
    ws: WorkspaceId,
    id: CampaignId,
    from: CampaignStatus,
    to: CampaignStatus,
    now: i64,
) -> anyhow::Result<bool> {
    let started = (to == CampaignStatus::Running).then_some(now);
    let finished = to.is_final().then_some(now);
    let done = sqlx::query(
        "UPDATE campaigns SET status = $1, updated_at = $2, \
         started_at = COALESCE(started_at, $3), finished_at = COALESCE(finished_at, $4) \
         WHERE workspace_id = $5 AND id = $6 AND status = $7",
    )
    .bind(to.as_str())
    .bind(now)
    .bind(started)
    .bind(finished)
    .bind(ws.to_string())
    .bind(id.to_string())
    .bind(from.as_str())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records that the recipients are planned (once).
pub async fn mark_planned(
    conn: &mut Conn,
    ws: WorkspaceId,
    id: CampaignId,
    now: i64,
) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE campaigns SET planned_at = COALESCE(planned_at, $1) \
         WHERE workspace_id = $2 AND id = $3",
    )
    .bind(now)
    .bind(ws.to_string())
    .bind(id.to_string())
    .execute(conn)
    .await?;
    Ok(())
}

/// Every campaign in `status` (all workspaces), with its start time: what
/// the scheduler and a restarting instance look at.
pub async fn in_status(
    conn: &mut Conn,
    status: CampaignStatus,
) -> anyhow::Result<Vec<(WorkspaceId, CampaignId, Option<i64>)>> {
    let rows: Vec<(String, String, Option<i64>)> = sqlx::query_as(
        "SELECT workspace_id, id, start_at FROM campaigns WHERE status = $1 ORDER BY created_at",
    )
    .bind(status.as_str())
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|(w, c, at)| Ok((parse_id(&w)?, parse_id(&c)?, at)))
        .collect()
}

/// Deletes a campaign with its numbers and recipients.
pub async fn delete(conn: &mut Conn, ws: WorkspaceId, id: CampaignId) -> anyhow::Result<bool> {
    for table in ["campaign_recipients", "campaign_numbers"] {
        sqlx::query(&format!("DELETE FROM {table} WHERE campaign_id = $1"))
            .bind(id.to_string())
            .execute(&mut *conn)
            .await?;
    }
    let done = sqlx::query("DELETE FROM campaigns WHERE workspace_id = $1 AND id = $2")
        .bind(ws.to_string())
        .bind(id.to_string())
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Campaigns that completed or were cancelled after `since` (ms), with
/// their final status: their statistics still move as receipts arrive.
pub async fn finished_since(
    conn: &mut Conn,
    since: i64,
) -> anyhow::Result<Vec<(WorkspaceId, CampaignId, CampaignStatus)>> {
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT workspace_id, id, status FROM campaigns \
         WHERE finished_at > $1 ORDER BY finished_at",
    )
    .bind(since)
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|(w, c, s)| {
            Ok((
                parse_id(&w)?,
                parse_id(&c)?,
                s.parse().map_err(anyhow::Error::msg)?,
            ))
        })
        .collect()
}
