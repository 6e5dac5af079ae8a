//! Workspaces: the tenants.

use blazz_domain::{UserId, WorkspaceId};

use crate::{now_ms, parse_id, Conn};

#[derive(Debug, Clone)]
pub struct Workspace {
    pub id: WorkspaceId,
    pub slug: String,
    pub name: String,
    pub created_at: i64,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    slug: String,
    name: String,
    created_at: i64,
}

impl TryFrom<Row> for Workspace {
    type Error = anyhow::Error;

    fn try_from(r: Row) -> anyhow::Result<Self> {
        Ok(Workspace {
            id: parse_id(&r.id)?,
            slug: r.slug,
            name: r.name,
            created_at: r.created_at,
        })
    }
}

/// Inserts a workspace with the first free slug among `slug`, `slug-2`, ...
pub async fn create(conn: &mut Conn, slug: &str, name: &str) -> anyhow::Result<Workspace> {
    let mut candidate = slug.to_string();
    for n in 2..1000 {
        let taken: Option<(String,)> = sqlx::query_as("SELECT id FROM workspaces WHERE slug = $1")
            .bind(&candidate)
            .fetch_optional(&mut *conn)
            .await?;
        if taken.is_none() {
            break;
        }
        candidate = format!("{slug}-{n}");
    }
    let ws = Workspace {
        id: WorkspaceId::new(),
        slug: candidate,
        name: name.to_string(),
        created_at: now_ms(),
    };
    sqlx::query("INSERT INTO workspaces (id, slug, name, created_at) VALUES ($1, $2, $3, $4)")
        .bind(ws.id.to_string())
        .bind(&ws.slug)
        .bind(&ws.name)
        .bind(ws.created_at)
        .execute(conn)
        .await?;
    Ok(ws)
}

pub async fn find(conn: &mut Conn, id: WorkspaceId) -> anyhow::Result<Option<Workspace>> {
    let row: Option<Row> =
        sqlx::query_as("SELECT id, slug, name, created_at FROM workspaces WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(conn)
            .await?;
    row.map(Workspace::try_from).transpose()
}

pub async fn find_by_slug(conn: &mut Conn, slug: &str) -> anyhow::Result<Option<Workspace>> {
    let row: Option<Row> =
        sqlx::query_as("SELECT id, slug, name, created_at FROM workspaces WHERE slug = $1")
            .bind(slug)
            .fetch_optional(conn)
            .await?;
    row.map(Workspace::try_from).transpose()
}

pub async fn rename(conn: &mut Conn, id: WorkspaceId, name: &str) -> anyhow::Result<()> {
    sqlx::query("UPDATE workspaces SET name = $1 WHERE id = $2")
        .bind(name)
        .bind(id.to_string())
        .execute(conn)
        .await?;
    Ok(())
}

/// The workspaces a user belongs to, oldest first, with the user's role.
pub async fn for_user(conn: &mut Conn, user: UserId) -> anyhow::Result<Vec<(Workspace, String)>> {
    let rows: Vec<(String, String, String, i64, String)> = sqlx::query_as(
        "SELECT w.id, w.slug, w.name, w.created_at, m.role FROM workspaces w \
         JOIN memberships m ON m.workspace_id = w.id WHERE m.user_id = $1 ORDER BY w.created_at, w.id",
    )
    .bind(user.to_string())
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|(id, slug, name, created_at, role)| {
            Ok((
                Workspace::try_from(Row {
                    id,
                    slug,
                    name,
                    created_at,
                })?,
                role,
            ))
        })
        .collect()
}

/// Serialises changes to a workspace's memberships within the caller's
/// transaction (so two demotions cannot both see "another owner is left").
/// PostgreSQL takes a row lock; SQLite write transactions are serial already.
pub async fn lock(conn: &mut Conn, id: WorkspaceId) -> anyhow::Result<()> {
    if conn.backend_name() == "PostgreSQL" {
        sqlx::query("SELECT id FROM workspaces WHERE id = $1 FOR UPDATE")
            .bind(id.to_string())
            .execute(conn)
            .await?;
    }
    Ok(())
}
