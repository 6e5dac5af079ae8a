//! Realtime apps: one Pusher Channels app per workspace (numeric id, public
//! key; the secret is sealed in `secrets`), and the ownership checks behind
//! channel authorisation.
//!
//! Lookups by key and by app id are not scoped to a workspace: the
//! credentials are what name the workspace (a socket connects with a key, a
//! server SDK signs with an app id and key).

use blazz_domain::{AccountId, ChatId, WorkspaceId};

use crate::{now_ms, parse_id, Conn};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct App {
    pub id: i64,
    pub workspace_id: WorkspaceId,
    pub key: String,
    pub created_at: i64,
    pub rotated_at: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    workspace_id: String,
    app_key: String,
    created_at: i64,
    rotated_at: Option<i64>,
}

impl TryFrom<Row> for App {
    type Error = anyhow::Error;

    fn try_from(r: Row) -> anyhow::Result<Self> {
        Ok(App {
            id: r.id,
            workspace_id: parse_id(&r.workspace_id)?,
            key: r.app_key,
            created_at: r.created_at,
            rotated_at: r.rotated_at,
        })
    }
}

const COLUMNS: &str = "id, workspace_id, app_key, created_at, rotated_at";

async fn one(conn: &mut Conn, filter: &str, bind: Bind<'_>) -> anyhow::Result<Option<App>> {
    let sql = format!("SELECT {COLUMNS} FROM realtime_apps WHERE {filter} = $1");
    let q = sqlx::query_as::<_, Row>(&sql);
    let row = match bind {
        Bind::Text(s) => q.bind(s.to_string()).fetch_optional(conn).await?,
        Bind::Int(i) => q.bind(i).fetch_optional(conn).await?,
    };
    row.map(App::try_from).transpose()
}

enum Bind<'a> {
    Text(&'a str),
    Int(i64),
}

/// The workspace's app, if it has one yet.
pub async fn find(conn: &mut Conn, ws: WorkspaceId) -> anyhow::Result<Option<App>> {
    one(conn, "workspace_id", Bind::Text(&ws.to_string())).await
}

/// The app a socket connects to with `key`.
pub async fn find_by_key(conn: &mut Conn, key: &str) -> anyhow::Result<Option<App>> {
    one(conn, "app_key", Bind::Text(key)).await
}

/// The app a server SDK names by its numeric id.
pub async fn find_by_id(conn: &mut Conn, id: i64) -> anyhow::Result<Option<App>> {
    one(conn, "id", Bind::Int(id)).await
}

/// Creates the workspace's app with `key`. Fails with a unique violation
/// when the workspace already has one (a concurrent creation won).
pub async fn create(conn: &mut Conn, ws: WorkspaceId, key: &str) -> sqlx::Result<App> {
    let now = now_ms();
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO realtime_apps (workspace_id, app_key, created_at) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(ws.to_string())
    .bind(key)
    .bind(now)
    .fetch_one(conn)
    .await?;
    Ok(App {
        id,
        workspace_id: ws,
        key: key.to_string(),
        created_at: now,
        rotated_at: None,
    })
}

/// Gives the workspace's app a new key; whether it had an app.
pub async fn set_key(conn: &mut Conn, ws: WorkspaceId, key: &str) -> anyhow::Result<bool> {
    let done = sqlx::query(
        "UPDATE realtime_apps SET app_key = $1, rotated_at = $2 WHERE workspace_id = $3",
    )
    .bind(key)
    .bind(now_ms())
    .bind(ws.to_string())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Something a workspace channel is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owned {
    Chat(ChatId),
    Account(AccountId),
    Campaign(blazz_domain::CampaignId),
}

/// Whether `thing` exists and belongs to `ws`.
pub async fn owns(conn: &mut Conn, ws: WorkspaceId, thing: Owned) -> anyhow::Result<bool> {
    let (table, id) = match thing {
        Owned::Chat(id) => ("chats", id.to_string()),
        Owned::Account(id) => ("accounts", id.to_string()),
        Owned::Campaign(id) => ("campaigns", id.to_string()),
    };
    let (n,): (i64,) = sqlx::query_as(&format!(
        "SELECT COUNT(*) FROM {table} WHERE workspace_id = $1 AND id = $2"
    ))
    .bind(ws.to_string())
    .bind(id)
    .fetch_one(conn)
    .await?;
    Ok(n > 0)
}
