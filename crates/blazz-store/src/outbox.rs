//! The transactional outbox: events are rows written in the same transaction
//! as the change that causes them; the dispatcher publishes them afterwards.
//! A crash between commit and publish delays an event, never loses it.

use blazz_domain::WorkspaceId;

use crate::{now_ms, Conn};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OutboxEvent {
    pub id: i64,
    pub workspace_id: Option<String>,
    pub kind: String,
    pub payload: String,
    pub created_at: i64,
}

/// Writes an event; call it inside the transaction of the change.
pub async fn append(
    conn: &mut Conn,
    ws: Option<WorkspaceId>,
    kind: &str,
    payload: &serde_json::Value,
) -> anyhow::Result<i64> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO outbox (workspace_id, kind, payload, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(ws.map(|w| w.to_string()))
    .bind(kind)
    .bind(payload.to_string())
    .bind(now_ms())
    .fetch_one(conn)
    .await?;
    Ok(id)
}

/// The oldest events not yet published, in commit-sequence order.
pub async fn unpublished(conn: &mut Conn, limit: i64) -> anyhow::Result<Vec<OutboxEvent>> {
    Ok(sqlx::query_as(
        "SELECT id, workspace_id, kind, payload, created_at FROM outbox \
         WHERE published_at IS NULL ORDER BY id LIMIT $1",
    )
    .bind(limit)
    .fetch_all(conn)
    .await?)
}

pub async fn mark_published(conn: &mut Conn, ids: &[i64]) -> anyhow::Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let now = now_ms();
    // One statement per batch; ids are integers we read, so inlining is safe.
    let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    sqlx::query(&format!(
        "UPDATE outbox SET published_at = $1 WHERE id IN ({list})"
    ))
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Whether event `id` has been published (tests and diagnostics).
pub async fn is_published(conn: &mut Conn, id: i64) -> anyhow::Result<bool> {
    let row: Option<(Option<i64>,)> =
        sqlx::query_as("SELECT published_at FROM outbox WHERE id = $1")
            .bind(id)
            .fetch_optional(conn)
            .await?;
    Ok(matches!(row, Some((Some(_),))))
}

/// Deletes published events older than `older_than_ms`.
pub async fn prune_published(conn: &mut Conn, older_than_ms: i64) -> anyhow::Result<u64> {
    let done =
        // An event leaves only once published and turned into webhook
        // deliveries (`webhooks_at`).
        sqlx::query("DELETE FROM outbox WHERE published_at IS NOT NULL AND webhooks_at IS NOT NULL AND published_at < $1")
            .bind(now_ms() - older_than_ms)
            .execute(conn)
            .await?;
    Ok(done.rows_affected())
}
