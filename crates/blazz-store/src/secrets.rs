//! Sealed secrets (provider credentials): stored as the app sealed them.
//! The store never encrypts nor sees a value in clear; `key_id` repeats
//! the key named inside `sealed` so rotation can find what is left to do.
//!
//! A secret belongs to an owner (`owner_kind` + `owner_id`, e.g. an account)
//! and, usually, to a workspace; reads and writes name both, so another
//! tenant's secret is never found. Only rotation walks every row.

use blazz_domain::WorkspaceId;

use crate::{now_ms, parse_id, Conn};

/// Where a secret lives: its owner and its name. Unique per
/// (`owner_kind`, `owner_id`, `name`); the app binds a sealed value to
/// exactly these fields so that it cannot be moved to another row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretRef {
    /// `None` for instance-wide secrets that belong to no tenant.
    pub workspace: Option<WorkspaceId>,
    pub owner_kind: String,
    pub owner_id: String,
    pub name: String,
}

impl SecretRef {
    pub fn new(
        workspace: Option<WorkspaceId>,
        owner_kind: impl Into<String>,
        owner_id: impl Into<String>,
        name: impl Into<String>,
    ) -> Self {
        Self {
            workspace,
            owner_kind: owner_kind.into(),
            owner_id: owner_id.into(),
            name: name.into(),
        }
    }
}

/// A stored row. `sealed` is opaque here.
#[derive(Debug, Clone)]
pub struct StoredSecret {
    pub id: String,
    pub secret: SecretRef,
    pub key_id: String,
    pub sealed: String,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    workspace_id: Option<String>,
    owner_kind: String,
    owner_id: String,
    name: String,
    key_id: String,
    sealed: String,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<Row> for StoredSecret {
    type Error = anyhow::Error;

    fn try_from(r: Row) -> anyhow::Result<Self> {
        Ok(StoredSecret {
            id: r.id,
            secret: SecretRef {
                workspace: r.workspace_id.as_deref().map(parse_id).transpose()?,
                owner_kind: r.owner_kind,
                owner_id: r.owner_id,
                name: r.name,
            },
            key_id: r.key_id,
            sealed: r.sealed,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

const COLUMNS: &str =
    "id, workspace_id, owner_kind, owner_id, name, key_id, sealed, created_at, updated_at";

/// Matches a row by its owner, name and workspace (`IS NOT DISTINCT FROM`:
/// a NULL workspace matches only NULL). Binds $1..$4.
const WHERE_REF: &str =
    "owner_kind = $1 AND owner_id = $2 AND name = $3 AND workspace_id IS NOT DISTINCT FROM $4";

fn ws_text(r: &SecretRef) -> Option<String> {
    r.workspace.map(|w| w.to_string())
}

/// Stores a sealed value, replacing the one the owner had under this name.
/// Fails if the owner's secret of that name belongs to another workspace.
pub async fn put(conn: &mut Conn, r: &SecretRef, key_id: &str, sealed: &str) -> anyhow::Result<()> {
    let now = now_ms();
    let done = sqlx::query(
        "INSERT INTO secrets (id, workspace_id, owner_kind, owner_id, name, key_id, sealed, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) \
         ON CONFLICT (owner_kind, owner_id, name) DO UPDATE \
         SET key_id = excluded.key_id, sealed = excluded.sealed, updated_at = excluded.updated_at \
         WHERE secrets.workspace_id IS NOT DISTINCT FROM excluded.workspace_id",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(ws_text(r))
    .bind(&r.owner_kind)
    .bind(&r.owner_id)
    .bind(&r.name)
    .bind(key_id)
    .bind(sealed)
    .bind(now)
    .execute(conn)
    .await?;
    anyhow::ensure!(
        done.rows_affected() == 1,
        "the secret {}/{}/{} belongs to another workspace",
        r.owner_kind,
        r.owner_id,
        r.name
    );
    Ok(())
}

pub async fn get(conn: &mut Conn, r: &SecretRef) -> anyhow::Result<Option<StoredSecret>> {
    let row: Option<Row> =
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM secrets WHERE {WHERE_REF}"))
            .bind(&r.owner_kind)
            .bind(&r.owner_id)
            .bind(&r.name)
            .bind(ws_text(r))
            .fetch_optional(conn)
            .await?;
    row.map(StoredSecret::try_from).transpose()
}

/// Deletes one secret; whether it existed.
pub async fn delete(conn: &mut Conn, r: &SecretRef) -> anyhow::Result<bool> {
    let done = sqlx::query(&format!("DELETE FROM secrets WHERE {WHERE_REF}"))
        .bind(&r.owner_kind)
        .bind(&r.owner_id)
        .bind(&r.name)
        .bind(ws_text(r))
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Deletes every secret of one owner (say, an account being removed);
/// how many there were.
pub async fn delete_owner(
    conn: &mut Conn,
    ws: Option<WorkspaceId>,
    owner_kind: &str,
    owner_id: &str,
) -> anyhow::Result<u64> {
    let done = sqlx::query(
        "DELETE FROM secrets WHERE owner_kind = $1 AND owner_id = $2 \
         AND workspace_id IS NOT DISTINCT FROM $3",
    )
    .bind(owner_kind)
    .bind(owner_id)
    .bind(ws.map(|w| w.to_string()))
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// For rotation, across all workspaces: up to `limit` secrets not sealed
/// under `key_id`, in id order after `after` (keyset paging, so a row that
/// cannot be re-sealed does not stop the walk).
pub async fn list_batch(
    conn: &mut Conn,
    not_key_id: &str,
    after: Option<&str>,
    limit: i64,
) -> anyhow::Result<Vec<StoredSecret>> {
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM secrets WHERE key_id <> $1 AND id > $2 ORDER BY id LIMIT $3"
    ))
    .bind(not_key_id)
    .bind(after.unwrap_or(""))
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(StoredSecret::try_from).collect()
}

/// Replaces a row's sealed value, only if it still holds `old_sealed` (a
/// concurrent write wins over a re-seal of the value it replaced). Whether
/// the row was updated.
pub async fn update_sealed(
    conn: &mut Conn,
    id: &str,
    old_sealed: &str,
    key_id: &str,
    sealed: &str,
) -> anyhow::Result<bool> {
    let done = sqlx::query(
        "UPDATE secrets SET key_id = $1, sealed = $2, updated_at = $3 WHERE id = $4 AND sealed = $5",
    )
    .bind(key_id)
    .bind(sealed)
    .bind(now_ms())
    .bind(id)
    .bind(old_sealed)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// How many secrets each key seals, across all workspaces.
pub async fn count_by_key(conn: &mut Conn) -> anyhow::Result<Vec<(String, i64)>> {
    let rows: Vec<(String, i64)> =
        sqlx::query_as("SELECT key_id, COUNT(*) FROM secrets GROUP BY key_id ORDER BY key_id")
            .fetch_all(conn)
            .await?;
    Ok(rows)
}
