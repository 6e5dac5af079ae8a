//! Memberships: who belongs to a workspace, and with which role.

use blazz_domain::{Role, UserId, WorkspaceId};

use crate::{now_ms, parse_id, Conn};

#[derive(Debug, Clone)]
pub struct Member {
    pub user_id: UserId,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub joined_at: i64,
}

type Row = (String, String, String, String, i64);

fn member(r: Row) -> anyhow::Result<Member> {
    Ok(Member {
        user_id: parse_id(&r.0)?,
        email: r.1,
        name: r.2,
        role: r.3.parse()?,
        joined_at: r.4,
    })
}

const SELECT: &str = "SELECT u.id, u.email, u.name, m.role, m.created_at FROM memberships m \
                      JOIN users u ON u.id = m.user_id";

pub async fn add(conn: &mut Conn, ws: WorkspaceId, user: UserId, role: Role) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO memberships (workspace_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(ws.to_string())
    .bind(user.to_string())
    .bind(role.as_str())
    .bind(now_ms())
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn list(conn: &mut Conn, ws: WorkspaceId) -> anyhow::Result<Vec<Member>> {
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "{SELECT} WHERE m.workspace_id = $1 ORDER BY m.created_at, u.id"
    ))
    .bind(ws.to_string())
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(member).collect()
}

pub async fn find(
    conn: &mut Conn,
    ws: WorkspaceId,
    user: UserId,
) -> anyhow::Result<Option<Member>> {
    let row: Option<Row> = sqlx::query_as(&format!(
        "{SELECT} WHERE m.workspace_id = $1 AND m.user_id = $2"
    ))
    .bind(ws.to_string())
    .bind(user.to_string())
    .fetch_optional(conn)
    .await?;
    row.map(member).transpose()
}

pub async fn set_role(
    conn: &mut Conn,
    ws: WorkspaceId,
    user: UserId,
    role: Role,
) -> anyhow::Result<bool> {
    let done =
        sqlx::query("UPDATE memberships SET role = $1 WHERE workspace_id = $2 AND user_id = $3")
            .bind(role.as_str())
            .bind(ws.to_string())
            .bind(user.to_string())
            .execute(conn)
            .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn remove(conn: &mut Conn, ws: WorkspaceId, user: UserId) -> anyhow::Result<bool> {
    let done = sqlx::query("DELETE FROM memberships WHERE workspace_id = $1 AND user_id = $2")
        .bind(ws.to_string())
        .bind(user.to_string())
        .execute(&mut *conn)
        .await?;
    // A removed member's browser sessions lose this workspace at once.
    sqlx::query(
        "UPDATE web_sessions SET workspace_id = NULL WHERE workspace_id = $1 AND user_id = $2",
    )
    .bind(ws.to_string())
    .bind(user.to_string())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn count_owners(conn: &mut Conn, ws: WorkspaceId) -> anyhow::Result<i64> {
    let (n,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM memberships WHERE workspace_id = $1 AND role = 'owner'",
    )
    .bind(ws.to_string())
    .fetch_one(conn)
    .await?;
    Ok(n)
}
