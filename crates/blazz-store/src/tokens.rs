//! API tokens: bound to one workspace and one role, stored as a hash.

use blazz_domain::{Role, TokenId, UserId, WorkspaceId};

use crate::{now_ms, parse_id, secret_hash, Conn};

#[derive(Debug, Clone)]
pub struct ApiToken {
    pub id: TokenId,
    pub workspace_id: WorkspaceId,
    pub name: String,
    pub role: Role,
    /// The first characters of the secret, to recognise a token in a list.
    pub prefix: String,
    pub created_by: Option<String>,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    workspace_id: String,
    name: String,
    role: String,
    token_prefix: String,
    created_by: Option<String>,
    created_at: i64,
    last_used_at: Option<i64>,
    revoked_at: Option<i64>,
}

impl TryFrom<Row> for ApiToken {
    type Error = anyhow::Error;

    fn try_from(r: Row) -> anyhow::Result<Self> {
        Ok(ApiToken {
            id: parse_id(&r.id)?,
            workspace_id: parse_id(&r.workspace_id)?,
            name: r.name,
            role: r.role.parse()?,
            prefix: r.token_prefix,
            created_by: r.created_by,
            created_at: r.created_at,
            last_used_at: r.last_used_at,
            revoked_at: r.revoked_at,
        })
    }
}

const COLUMNS: &str =
    "id, workspace_id, name, role, token_prefix, created_by, created_at, last_used_at, revoked_at";

pub async fn create(
    conn: &mut Conn,
    ws: WorkspaceId,
    name: &str,
    role: Role,
    secret: &str,
    created_by: Option<UserId>,
) -> anyhow::Result<ApiToken> {
    let token = ApiToken {
        id: TokenId::new(),
        workspace_id: ws,
        name: name.to_string(),
        role,
        prefix: secret.chars().take(12).collect(),
        created_by: created_by.map(|u| u.to_string()),
        created_at: now_ms(),
        last_used_at: None,
        revoked_at: None,
    };
    sqlx::query(
        "INSERT INTO api_tokens (id, workspace_id, name, role, token_hash, token_prefix, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(token.id.to_string())
    .bind(ws.to_string())
    .bind(&token.name)
    .bind(role.as_str())
    .bind(secret_hash(secret))
    .bind(&token.prefix)
    .bind(token.created_by.clone())
    .bind(token.created_at)
    .execute(conn)
    .await?;
    Ok(token)
}

/// The live (not revoked) token with this secret, in whatever workspace.
pub async fn authenticate(conn: &mut Conn, secret: &str) -> anyhow::Result<Option<ApiToken>> {
    let row: Option<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL"
    ))
    .bind(secret_hash(secret))
    .fetch_optional(conn)
    .await?;
    row.map(ApiToken::try_from).transpose()
}

/// Records use, at most once a minute per token, to keep writes off the
/// request path.
pub async fn touch(conn: &mut Conn, id: TokenId) -> anyhow::Result<()> {
    let now = now_ms();
    sqlx::query(
        "UPDATE api_tokens SET last_used_at = $1 WHERE id = $2 \
         AND (last_used_at IS NULL OR last_used_at < $3)",
    )
    .bind(now)
    .bind(id.to_string())
    .bind(now - 60_000)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn list(conn: &mut Conn, ws: WorkspaceId) -> anyhow::Result<Vec<ApiToken>> {
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM api_tokens WHERE workspace_id = $1 ORDER BY id"
    ))
    .bind(ws.to_string())
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(ApiToken::try_from).collect()
}

pub async fn find(
    conn: &mut Conn,
    ws: WorkspaceId,
    id: TokenId,
) -> anyhow::Result<Option<ApiToken>> {
    let row: Option<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM api_tokens WHERE workspace_id = $1 AND id = $2"
    ))
    .bind(ws.to_string())
    .bind(id.to_string())
    .fetch_optional(conn)
    .await?;
    row.map(ApiToken::try_from).transpose()
}

pub async fn revoke(conn: &mut Conn, ws: WorkspaceId, id: TokenId) -> anyhow::Result<bool> {
    let done = sqlx::query(
        "UPDATE api_tokens SET revoked_at = $1 WHERE workspace_id = $2 AND id = $3 AND revoked_at IS NULL",
    )
    .bind(now_ms())
    .bind(ws.to_string())
    .bind(id.to_string())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
