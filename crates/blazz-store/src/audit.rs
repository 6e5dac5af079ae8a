//! The audit log: who did what, when, in a workspace. Written in the same
//! transaction as the change it records.

use blazz_domain::{AuditId, WorkspaceId};

use crate::{now_ms, parse_id, Conn};

/// Who acted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// `user`, `token` or `cli`.
    pub kind: &'static str,
    pub id: Option<String>,
    pub name: String,
}

#[derive(Debug, Clone)]
pub struct Entry {
    pub id: AuditId,
    pub actor_kind: String,
    pub actor_id: Option<String>,
    pub actor_name: String,
    pub action: String,
    pub target_kind: Option<String>,
    pub target_id: Option<String>,
    pub details: serde_json::Value,
    pub created_at: i64,
}

pub struct Record<'a> {
    pub action: &'a str,
    pub target_kind: Option<&'a str>,
    pub target_id: Option<String>,
    pub details: serde_json::Value,
}

pub async fn record(
    conn: &mut Conn,
    ws: WorkspaceId,
    actor: &Actor,
    rec: Record<'_>,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO audit_log (id, workspace_id, actor_kind, actor_id, actor_name, action, target_kind, target_id, details, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(AuditId::new().to_string())
    .bind(ws.to_string())
    .bind(actor.kind)
    .bind(actor.id.clone())
    .bind(&actor.name)
    .bind(rec.action)
    .bind(rec.target_kind)
    .bind(rec.target_id)
    .bind(rec.details.to_string())
    .bind(now_ms())
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    actor_kind: String,
    actor_id: Option<String>,
    actor_name: String,
    action: String,
    target_kind: Option<String>,
    target_id: Option<String>,
    details: String,
    created_at: i64,
}

/// Newest first; `before` is the cursor (an entry id) from the previous page.
pub async fn list(
    conn: &mut Conn,
    ws: WorkspaceId,
    before: Option<AuditId>,
    limit: i64,
) -> anyhow::Result<Vec<Entry>> {
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, actor_kind, actor_id, actor_name, action, target_kind, target_id, details, created_at \
         FROM audit_log WHERE workspace_id = $1 AND ($2 IS NULL OR id < $2) ORDER BY id DESC LIMIT $3",
    )
    .bind(ws.to_string())
    .bind(before.map(|b| b.to_string()))
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(Entry {
                id: parse_id(&r.id)?,
                actor_kind: r.actor_kind,
                actor_id: r.actor_id,
                actor_name: r.actor_name,
                action: r.action,
                target_kind: r.target_kind,
                target_id: r.target_id,
                details: serde_json::from_str(&r.details).unwrap_or(serde_json::Value::Null),
                created_at: r.created_at,
            })
        })
        .collect()
}
