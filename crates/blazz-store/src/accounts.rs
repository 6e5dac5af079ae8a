//! Linked numbers ("accounts") and their session status.

use blazz_domain::{AccountId, SessionState, WorkspaceId};

use crate::{now_ms, parse_id, Conn};

#[derive(Debug, Clone)]
pub struct Account {
    pub id: AccountId,
    pub workspace_id: WorkspaceId,
    pub provider: String,
    pub name: String,
    pub phone: Option<String>,
    pub status: SessionState,
    pub status_reason: Option<String>,
    pub linked_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    workspace_id: String,
    provider: String,
    name: String,
    phone: Option<String>,
    status: String,
    status_reason: Option<String>,
    linked_at: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<Row> for Account {
    type Error = anyhow::Error;

    fn try_from(r: Row) -> anyhow::Result<Self> {
        Ok(Account {
            id: parse_id(&r.id)?,
            workspace_id: parse_id(&r.workspace_id)?,
            provider: r.provider,
            name: r.name,
            phone: r.phone,
            status: r.status.parse().map_err(anyhow::Error::msg)?,
            status_reason: r.status_reason,
            linked_at: r.linked_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

const COLUMNS: &str = "id, workspace_id, provider, name, phone, status, status_reason, linked_at, created_at, updated_at";

pub async fn create(
    conn: &mut Conn,
    ws: WorkspaceId,
    provider: &str,
    name: &str,
) -> anyhow::Result<Account> {
    let now = now_ms();
    let account = Account {
        id: AccountId::new(),
        workspace_id: ws,
        provider: provider.to_string(),
        name: name.to_string(),
        phone: None,
        // Not linked yet: "logged out" until a link is started.
        status: SessionState::LoggedOut,
        status_reason: Some("not linked yet".into()),
        linked_at: None,
        created_at: now,
        updated_at: now,
    };
    sqlx::query(
        "INSERT INTO accounts (id, workspace_id, provider, name, status, status_reason, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
    )
    .bind(account.id.to_string())
    .bind(ws.to_string())
    .bind(provider)
    .bind(name)
    .bind(account.status.as_str())
    .bind(account.status_reason.clone())
    .bind(now)
    .execute(conn)
    .await?;
    Ok(account)
}

pub async fn find(
    conn: &mut Conn,
    ws: WorkspaceId,
    id: AccountId,
) -> anyhow::Result<Option<Account>> {
    let row: Option<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM accounts WHERE workspace_id = $1 AND id = $2"
    ))
    .bind(ws.to_string())
    .bind(id.to_string())
    .fetch_optional(conn)
    .await?;
    row.map(Account::try_from).transpose()
}

pub async fn list(conn: &mut Conn, ws: WorkspaceId) -> anyhow::Result<Vec<Account>> {
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM accounts WHERE workspace_id = $1 ORDER BY id"
    ))
    .bind(ws.to_string())
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(Account::try_from).collect()
}

/// Every account in one of `states`, any workspace (restoring sessions at
/// start-up).
pub async fn in_states(conn: &mut Conn, states: &[SessionState]) -> anyhow::Result<Vec<Account>> {
    let list = states
        .iter()
        .map(|s| format!("'{}'", s.as_str()))
        .collect::<Vec<_>>()
        .join(",");
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM accounts WHERE status IN ({list}) ORDER BY id"
    ))
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(Account::try_from).collect()
}

/// Records a status change; `phone` is set when the link tells it.
pub async fn set_status(
    conn: &mut Conn,
    ws: WorkspaceId,
    id: AccountId,
    status: SessionState,
    reason: Option<&str>,
) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE accounts SET status = $1, status_reason = $2, updated_at = $3 WHERE workspace_id = $4 AND id = $5",
    )
    .bind(status.as_str())
    .bind(reason)
    .bind(now_ms())
    .bind(ws.to_string())
    .bind(id.to_string())
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn set_linked(
    conn: &mut Conn,
    ws: WorkspaceId,
    id: AccountId,
    phone: &str,
) -> anyhow::Result<()> {
    let now = now_ms();
    sqlx::query(
        "UPDATE accounts SET phone = $1, linked_at = $2, updated_at = $2 WHERE workspace_id = $3 AND id = $4",
    )
    .bind(phone)
    .bind(now)
    .bind(ws.to_string())
    .bind(id.to_string())
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn delete(conn: &mut Conn, ws: WorkspaceId, id: AccountId) -> anyhow::Result<bool> {
    let done = sqlx::query("DELETE FROM accounts WHERE workspace_id = $1 AND id = $2")
        .bind(ws.to_string())
        .bind(id.to_string())
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Records a link attempt and returns how many the workspace made in the
/// last `window_ms` (this one included).
pub async fn record_link_attempt(
    conn: &mut Conn,
    ws: WorkspaceId,
    id: AccountId,
    window_ms: i64,
) -> anyhow::Result<i64> {
    let now = now_ms();
    sqlx::query("INSERT INTO link_attempts (id, workspace_id, account_id, created_at) VALUES ($1, $2, $3, $4)")
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(ws.to_string())
        .bind(id.to_string())
        .bind(now)
        .execute(&mut *conn)
        .await?;
    link_attempts_since(conn, ws, now - window_ms).await
}

pub async fn link_attempts_since(
    conn: &mut Conn,
    ws: WorkspaceId,
    since: i64,
) -> anyhow::Result<i64> {
    let (n,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM link_attempts WHERE workspace_id = $1 AND created_at > $2",
    )
    .bind(ws.to_string())
    .bind(since)
    .fetch_one(conn)
    .await?;
    Ok(n)
}

/// The workspace a number belongs to.
pub async fn workspace_of(conn: &mut Conn, id: AccountId) -> anyhow::Result<Option<WorkspaceId>> {
    let row: Option<(String,)> = sqlx::query_as("SELECT workspace_id FROM accounts WHERE id = $1")
        .bind(id.to_string())
        .fetch_optional(conn)
        .await?;
    row.map(|(w,)| crate::parse_id(&w)).transpose()
}
