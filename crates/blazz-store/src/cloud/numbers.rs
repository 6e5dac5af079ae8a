//! The routing half of a Cloud number's credentials: its phone number id
//! and business account id, and a hash of its webhook verify token. The
//! secrets themselves are sealed with the account's credentials.

use blazz_domain::{AccountId, WorkspaceId};

use crate::{now_ms, parse_id, Conn};

#[derive(Debug, Clone)]
pub struct CloudNumber {
    pub account_id: AccountId,
    pub workspace_id: WorkspaceId,
    pub phone_number_id: String,
    pub business_account_id: String,
    pub verify_token_hash: String,
    /// Set while Meta's policy refusals keep the number from sending.
    pub paused_at: Option<i64>,
    pub paused_reason: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(sqlx::FromRow)]
struct Row {
    account_id: String,
    workspace_id: String,
    phone_number_id: String,
    business_account_id: String,
    verify_token_hash: String,
    paused_at: Option<i64>,
    paused_reason: Option<String>,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<Row> for CloudNumber {
    type Error = anyhow::Error;

    fn try_from(r: Row) -> anyhow::Result<Self> {
        Ok(CloudNumber {
            account_id: parse_id(&r.account_id)?,
            workspace_id: parse_id(&r.workspace_id)?,
            phone_number_id: r.phone_number_id,
            business_account_id: r.business_account_id,
            verify_token_hash: r.verify_token_hash,
            paused_at: r.paused_at,
            paused_reason: r.paused_reason,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

const COLUMNS: &str = "account_id, workspace_id, phone_number_id, business_account_id, \
    verify_token_hash, paused_at, paused_reason, created_at, updated_at";

/// Records (or replaces) the routing details of a Cloud number.
pub async fn upsert(
    conn: &mut Conn,
    ws: WorkspaceId,
    account: AccountId,
    phone_number_id: &str,
    business_account_id: &str,
    verify_token_hash: &str,
) -> sqlx::Result<()> {
    let now = now_ms();
    sqlx::query(
        "INSERT INTO cloud_numbers (account_id, workspace_id, phone_number_id, business_account_id, \
         verify_token_hash, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6) \
         ON CONFLICT (account_id) DO UPDATE SET phone_number_id = $3, business_account_id = $4, \
         verify_token_hash = $5, updated_at = $6",
    )
    .bind(account.to_string())
    .bind(ws.to_string())
    .bind(phone_number_id)
    .bind(business_account_id)
    .bind(verify_token_hash)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn find(
    conn: &mut Conn,
    ws: WorkspaceId,
    account: AccountId,
) -> anyhow::Result<Option<CloudNumber>> {
    let row: Option<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM cloud_numbers WHERE workspace_id = $1 AND account_id = $2"
    ))
    .bind(ws.to_string())
    .bind(account.to_string())
    .fetch_optional(conn)
    .await?;
    row.map(CloudNumber::try_from).transpose()
}

/// Every Cloud number (any workspace) behind a Meta phone number id: a
/// webhook names only that.
pub async fn by_phone_number_id(
    conn: &mut Conn,
    phone_number_id: &str,
) -> anyhow::Result<Vec<CloudNumber>> {
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM cloud_numbers WHERE phone_number_id = $1 ORDER BY account_id"
    ))
    .bind(phone_number_id)
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(CloudNumber::try_from).collect()
}

/// Every Cloud number of a business account (template status webhooks
/// name the business account, not a number).
pub async fn by_business_account_id(
    conn: &mut Conn,
    business_account_id: &str,
) -> anyhow::Result<Vec<CloudNumber>> {
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM cloud_numbers WHERE business_account_id = $1 ORDER BY account_id"
    ))
    .bind(business_account_id)
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(CloudNumber::try_from).collect()
}

/// Whether some Cloud number was set up with this verify token (by hash).
pub async fn verify_token_known(conn: &mut Conn, hash: &str) -> sqlx::Result<bool> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT account_id FROM cloud_numbers WHERE verify_token_hash = $1 LIMIT 1")
            .bind(hash)
            .fetch_optional(conn)
            .await?;
    Ok(row.is_some())
}

/// Pauses (with a reason) or resumes (`None`) sending from a number; true
/// if that changed anything.
pub async fn set_paused(
    conn: &mut Conn,
    ws: WorkspaceId,
    account: AccountId,
    reason: Option<&str>,
) -> sqlx::Result<bool> {
    let now = now_ms();
    let sql = if reason.is_some() {
        "UPDATE cloud_numbers SET paused_at = $1, paused_reason = $2, updated_at = $1 \
         WHERE workspace_id = $3 AND account_id = $4 AND paused_at IS NULL"
    } else {
        "UPDATE cloud_numbers SET paused_at = NULL, paused_reason = $2, updated_at = $1 \
         WHERE workspace_id = $3 AND account_id = $4 AND paused_at IS NOT NULL"
    };
    let done = sqlx::query(sql)
        .bind(now)
        .bind(reason)
        .bind(ws.to_string())
        .bind(account.to_string())
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}
