//! Media rows: what a stored file is (kind, type, size, hash) and where its
//! bytes are in the object store. The bytes themselves are not here.

use blazz_domain::WorkspaceId;
use uuid::Uuid;

use crate::{parse_id, Conn};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Media {
    pub id: Uuid,
    pub workspace_id: WorkspaceId,
    /// `image`, `video`, `audio`, `document` or `sticker`.
    pub kind: String,
    pub mime_type: String,
    pub filename: Option<String>,
    pub size_bytes: i64,
    /// Hex SHA-256 of the bytes.
    pub sha256: String,
    /// The object store key of the bytes.
    pub storage_key: String,
    /// `upload` (through the API) or `inbound` (a customer's message).
    pub origin: String,
    pub created_at: i64,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    workspace_id: String,
    kind: String,
    mime_type: String,
    filename: Option<String>,
    size_bytes: i64,
    sha256: String,
    storage_key: String,
    origin: String,
    created_at: i64,
}

const COLUMNS: &str =
    "id, workspace_id, kind, mime_type, filename, size_bytes, sha256, storage_key, origin, created_at";

impl TryFrom<Row> for Media {
    type Error = anyhow::Error;

    fn try_from(r: Row) -> anyhow::Result<Self> {
        Ok(Media {
            id: parse_id(&r.id)?,
            workspace_id: parse_id(&r.workspace_id)?,
            kind: r.kind,
            mime_type: r.mime_type,
            filename: r.filename,
            size_bytes: r.size_bytes,
            sha256: r.sha256,
            storage_key: r.storage_key,
            origin: r.origin,
            created_at: r.created_at,
        })
    }
}

pub async fn insert(conn: &mut Conn, m: &Media) -> sqlx::Result<()> {
    sqlx::query(&format!(
        "INSERT INTO media ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
    ))
    .bind(m.id.to_string())
    .bind(m.workspace_id.to_string())
    .bind(&m.kind)
    .bind(&m.mime_type)
    .bind(m.filename.clone())
    .bind(m.size_bytes)
    .bind(&m.sha256)
    .bind(&m.storage_key)
    .bind(&m.origin)
    .bind(m.created_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn find(conn: &mut Conn, ws: WorkspaceId, id: Uuid) -> anyhow::Result<Option<Media>> {
    let row: Option<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM media WHERE workspace_id = $1 AND id = $2"
    ))
    .bind(ws.to_string())
    .bind(id.to_string())
    .fetch_optional(conn)
    .await?;
    row.map(Media::try_from).transpose()
}

/// Deletes the row; false when the workspace has no such media.
pub async fn delete(conn: &mut Conn, ws: WorkspaceId, id: Uuid) -> sqlx::Result<bool> {
    let done = sqlx::query("DELETE FROM media WHERE workspace_id = $1 AND id = $2")
        .bind(ws.to_string())
        .bind(id.to_string())
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}
