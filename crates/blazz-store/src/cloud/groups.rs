//! Account groups: a primary number and a fallback that takes its sends
//! while the primary is not connected; and which number really sent a
//! message addressed to a group.

use blazz_domain::{AccountId, MessageId, WorkspaceId};
use uuid::Uuid;

use crate::{now_ms, parse_id, Conn};

#[derive(Debug, Clone)]
pub struct AccountGroup {
    pub id: Uuid,
    pub workspace_id: WorkspaceId,
    pub name: String,
    pub primary_account_id: AccountId,
    pub fallback_account_id: AccountId,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    workspace_id: String,
    name: String,
    primary_account_id: String,
    fallback_account_id: String,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<Row> for AccountGroup {
    type Error = anyhow::Error;

    fn try_from(r: Row) -> anyhow::Result<Self> {
        Ok(AccountGroup {
            id: parse_id(&r.id)?,
            workspace_id: parse_id(&r.workspace_id)?,
            name: r.name,
            primary_account_id: parse_id(&r.primary_account_id)?,
            fallback_account_id: parse_id(&r.fallback_account_id)?,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

const COLUMNS: &str =
    "id, workspace_id, name, primary_account_id, fallback_account_id, created_at, updated_at";

pub async fn create(
    conn: &mut Conn,
    ws: WorkspaceId,
    name: &str,
    primary: AccountId,
    fallback: AccountId,
) -> sqlx::Result<AccountGroup> {
    let now = now_ms();
    let g = AccountGroup {
        id: Uuid::now_v7(),
        workspace_id: ws,
        name: name.to_string(),
        primary_account_id: primary,
        fallback_account_id: fallback,
        created_at: now,
        updated_at: now,
    };
    sqlx::query(
        "INSERT INTO account_groups (id, workspace_id, name, primary_account_id, fallback_account_id, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6)",
    )
    .bind(g.id.to_string())
    .bind(ws.to_string())
    .bind(name)
    .bind(primary.to_string())
    .bind(fallback.to_string())
    .bind(now)
    .execute(conn)
    .await?;
    Ok(g)
}

pub async fn find(
    conn: &mut Conn,
    ws: WorkspaceId,
    id: Uuid,
) -> anyhow::Result<Option<AccountGroup>> {
    let row: Option<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM account_groups WHERE workspace_id = $1 AND id = $2"
    ))
    .bind(ws.to_string())
    .bind(id.to_string())
    .fetch_optional(conn)
    .await?;
    row.map(AccountGroup::try_from).transpose()
}

pub async fn list(conn: &mut Conn, ws: WorkspaceId) -> anyhow::Result<Vec<AccountGroup>> {
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM account_groups WHERE workspace_id = $1 ORDER BY id"
    ))
    .bind(ws.to_string())
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(AccountGroup::try_from).collect()
}

pub async fn delete(conn: &mut Conn, ws: WorkspaceId, id: Uuid) -> sqlx::Result<bool> {
    let done = sqlx::query("DELETE FROM account_groups WHERE workspace_id = $1 AND id = $2")
        .bind(ws.to_string())
        .bind(id.to_string())
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Which number of a group a message went out through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub account_group_id: Uuid,
    pub account_id: Option<AccountId>,
    pub provider: Option<String>,
}

/// Notes that a pending message is addressed to a group, and the number
/// (and network) it was given to first.
pub async fn route_message(
    conn: &mut Conn,
    ws: WorkspaceId,
    message: MessageId,
    group: Uuid,
    account: AccountId,
    provider: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO message_routes (message_id, workspace_id, account_group_id, account_id, provider, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT DO NOTHING",
    )
    .bind(message.to_string())
    .bind(ws.to_string())
    .bind(group.to_string())
    .bind(account.to_string())
    .bind(provider)
    .bind(now_ms())
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn route_of(
    conn: &mut Conn,
    ws: WorkspaceId,
    message: MessageId,
) -> anyhow::Result<Option<Route>> {
    let row: Option<(String, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT account_group_id, account_id, provider FROM message_routes \
         WHERE workspace_id = $1 AND message_id = $2",
    )
    .bind(ws.to_string())
    .bind(message.to_string())
    .fetch_optional(conn)
    .await?;
    row.map(|(g, a, p)| {
        Ok(Route {
            account_group_id: parse_id(&g)?,
            account_id: a.as_deref().map(parse_id).transpose()?,
            provider: p,
        })
    })
    .transpose()
}

/// Moves a pending message addressed to a group onto the number that will
/// send it (and that number's chat with the contact), recording the choice.
pub async fn assign(
    conn: &mut Conn,
    ws: WorkspaceId,
    message: MessageId,
    account: AccountId,
    chat: blazz_domain::ChatId,
    provider: &str,
) -> sqlx::Result<()> {
    let now = now_ms();
    sqlx::query(
        "UPDATE messages SET account_id = $1, chat_id = $2, updated_at = $3 \
         WHERE workspace_id = $4 AND id = $5 AND status = 'pending'",
    )
    .bind(account.to_string())
    .bind(chat.to_string())
    .bind(now)
    .bind(ws.to_string())
    .bind(message.to_string())
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE message_routes SET account_id = $1, provider = $2, updated_at = $3 \
         WHERE workspace_id = $4 AND message_id = $5",
    )
    .bind(account.to_string())
    .bind(provider)
    .bind(now)
    .bind(ws.to_string())
    .bind(message.to_string())
    .execute(conn)
    .await?;
    Ok(())
}
