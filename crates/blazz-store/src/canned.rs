//! Canned replies: snippets shared by a workspace, unique by shortcut.

use blazz_domain::{CannedReplyId, WorkspaceId};

use crate::{now_ms, parse_id, Conn};

#[derive(Debug, Clone)]
pub struct CannedReply {
    pub id: CannedReplyId,
    pub shortcut: String,
    pub body: String,
    pub created_by: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    shortcut: String,
    body: String,
    created_by: Option<String>,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<Row> for CannedReply {
    type Error = anyhow::Error;

    fn try_from(r: Row) -> anyhow::Result<Self> {
        Ok(CannedReply {
            id: parse_id(&r.id)?,
            shortcut: r.shortcut,
            body: r.body,
            created_by: r.created_by,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

const COLUMNS: &str = "id, shortcut, body, created_by, created_at, updated_at";

pub async fn create(
    conn: &mut Conn,
    ws: WorkspaceId,
    shortcut: &str,
    body: &str,
    created_by: Option<String>,
) -> sqlx::Result<CannedReply> {
    let now = now_ms();
    let reply = CannedReply {
        id: CannedReplyId::new(),
        shortcut: shortcut.to_string(),
        body: body.to_string(),
        created_by,
        created_at: now,
        updated_at: now,
    };
    sqlx::query(
        "INSERT INTO canned_replies (id, workspace_id, shortcut, body, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $6)",
    )
    .bind(reply.id.to_string())
    .bind(ws.to_string())
    .bind(shortcut)
    .bind(body)
    .bind(reply.created_by.clone())
    .bind(now)
    .execute(conn)
    .await?;
    Ok(reply)
}

pub async fn find(
    conn: &mut Conn,
    ws: WorkspaceId,
    id: CannedReplyId,
) -> anyhow::Result<Option<CannedReply>> {
    let row: Option<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM canned_replies WHERE workspace_id = $1 AND id = $2"
    ))
    .bind(ws.to_string())
    .bind(id.to_string())
    .fetch_optional(conn)
    .await?;
    row.map(CannedReply::try_from).transpose()
}

/// By shortcut order; `prefix` narrows to shortcuts starting with it (the
/// composer's `/` search).
pub async fn list(
    conn: &mut Conn,
    ws: WorkspaceId,
    prefix: Option<&str>,
) -> anyhow::Result<Vec<CannedReply>> {
    let pattern = prefix.map(|p| format!("{}%", crate::like_escape(p)));
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM canned_replies WHERE workspace_id = $1 \
         AND ($2 IS NULL OR shortcut LIKE $2 ESCAPE '\\') ORDER BY shortcut LIMIT 500"
    ))
    .bind(ws.to_string())
    .bind(pattern)
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(CannedReply::try_from).collect()
}

pub async fn update(conn: &mut Conn, ws: WorkspaceId, r: &CannedReply) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE canned_replies SET shortcut = $1, body = $2, updated_at = $3 WHERE workspace_id = $4 AND id = $5",
    )
    .bind(&r.shortcut)
    .bind(&r.body)
    .bind(now_ms())
    .bind(ws.to_string())
    .bind(r.id.to_string())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn delete(conn: &mut Conn, ws: WorkspaceId, id: CannedReplyId) -> anyhow::Result<bool> {
    let done = sqlx::query("DELETE FROM canned_replies WHERE workspace_id = $1 AND id = $2")
        .bind(ws.to_string())
        .bind(id.to_string())
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}
