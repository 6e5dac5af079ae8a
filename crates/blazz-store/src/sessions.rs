//! Browser sessions behind the HttpOnly cookie. The cookie carries a random
//! secret; the row is keyed by its hash.

use blazz_domain::{UserId, WorkspaceId};

use crate::{now_ms, parse_id, secret_hash, Conn};

#[derive(Debug, Clone)]
pub struct WebSession {
    pub user_id: UserId,
    /// The workspace the browser is working in (the switcher changes it).
    pub workspace_id: Option<WorkspaceId>,
    pub csrf_token: String,
    /// None while a user with two-factor sign-in still owes the code.
    pub second_factor_done_at: Option<i64>,
    pub expires_at: i64,
}

#[allow(clippy::too_many_arguments)]
pub async fn create(
    conn: &mut Conn,
    secret: &str,
    user: UserId,
    workspace: Option<WorkspaceId>,
    csrf_token: &str,
    fully_signed_in: bool,
    ttl_ms: i64,
) -> anyhow::Result<()> {
    let now = now_ms();
    sqlx::query(
        "INSERT INTO web_sessions (id_hash, user_id, workspace_id, csrf_token, second_factor_done_at, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(secret_hash(secret))
    .bind(user.to_string())
    .bind(workspace.map(|w| w.to_string()))
    .bind(csrf_token)
    .bind(fully_signed_in.then_some(now))
    .bind(now)
    .bind(now + ttl_ms)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn find(conn: &mut Conn, secret: &str) -> anyhow::Result<Option<WebSession>> {
    let row: Option<Row> = sqlx::query_as(
        "SELECT user_id, workspace_id, csrf_token, second_factor_done_at, expires_at \
         FROM web_sessions WHERE id_hash = $1 AND expires_at > $2",
    )
    .bind(secret_hash(secret))
    .bind(now_ms())
    .fetch_optional(conn)
    .await?;
    row.map(|r| {
        Ok(WebSession {
            user_id: parse_id(&r.user_id)?,
            workspace_id: r.workspace_id.as_deref().map(parse_id).transpose()?,
            csrf_token: r.csrf_token,
            second_factor_done_at: r.second_factor_done_at,
            expires_at: r.expires_at,
        })
    })
    .transpose()
}

#[derive(sqlx::FromRow)]
struct Row {
    user_id: String,
    workspace_id: Option<String>,
    csrf_token: String,
    second_factor_done_at: Option<i64>,
    expires_at: i64,
}

pub async fn complete_second_factor(conn: &mut Conn, secret: &str) -> anyhow::Result<()> {
    sqlx::query("UPDATE web_sessions SET second_factor_done_at = $1 WHERE id_hash = $2")
        .bind(now_ms())
        .bind(secret_hash(secret))
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn set_workspace(conn: &mut Conn, secret: &str, ws: WorkspaceId) -> anyhow::Result<()> {
    sqlx::query("UPDATE web_sessions SET workspace_id = $1 WHERE id_hash = $2")
        .bind(ws.to_string())
        .bind(secret_hash(secret))
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn delete(conn: &mut Conn, secret: &str) -> anyhow::Result<()> {
    sqlx::query("DELETE FROM web_sessions WHERE id_hash = $1")
        .bind(secret_hash(secret))
        .execute(conn)
        .await?;
    Ok(())
}

/// Ends every session of a user but the one given (after a password or
/// two-factor change).
pub async fn delete_others(conn: &mut Conn, user: UserId, keep_secret: &str) -> anyhow::Result<()> {
    sqlx::query("DELETE FROM web_sessions WHERE user_id = $1 AND id_hash <> $2")
        .bind(user.to_string())
        .bind(secret_hash(keep_secret))
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn delete_expired(conn: &mut Conn) -> anyhow::Result<u64> {
    let done = sqlx::query("DELETE FROM web_sessions WHERE expires_at <= $1")
        .bind(now_ms())
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}
