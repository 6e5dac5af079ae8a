//! Meta's WhatsApp Cloud API numbers: how webhooks find them, which
//! webhook items were handled already, their message templates, and the
//! account groups that fail over between numbers.

pub mod groups;
pub mod numbers;
pub mod templates;

use blazz_domain::AccountId;

use crate::{now_ms, Conn};

/// Records a webhook item (a message id, or `id:status`) of a number as
/// handled; false if it was handled before.
pub async fn first_sight(conn: &mut Conn, account: AccountId, item: &str) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "INSERT INTO cloud_webhook_seen (account_id, item, seen_at) VALUES ($1, $2, $3) \
         ON CONFLICT DO NOTHING",
    )
    .bind(account.to_string())
    .bind(item)
    .bind(now_ms())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Whether a webhook item of a number was handled already.
pub async fn seen(conn: &mut Conn, account: AccountId, item: &str) -> sqlx::Result<bool> {
    let row: Option<(i64,)> = sqlx::query_as(
        "SELECT seen_at FROM cloud_webhook_seen WHERE account_id = $1 AND item = $2",
    )
    .bind(account.to_string())
    .bind(item)
    .fetch_optional(conn)
    .await?;
    Ok(row.is_some())
}

/// Forgets handled items older than `keep_ms` (Meta stops retrying after
/// about a week).
pub async fn prune_seen(conn: &mut Conn, keep_ms: i64) -> sqlx::Result<u64> {
    let done = sqlx::query("DELETE FROM cloud_webhook_seen WHERE seen_at < $1")
        .bind(now_ms() - keep_ms)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}

/// When the contact with `phone` last wrote to the number `account`
/// (unix ms, the network's timestamp); `None` if never.
pub async fn last_inbound_at(
    conn: &mut Conn,
    ws: blazz_domain::WorkspaceId,
    account: AccountId,
    phone: &str,
) -> sqlx::Result<Option<i64>> {
    let row: Option<(Option<i64>,)> = sqlx::query_as(
        "SELECT MAX(m.sent_at) FROM messages m \
         JOIN chats c ON c.id = m.chat_id \
         JOIN contacts ct ON ct.id = c.contact_id \
         WHERE c.workspace_id = $1 AND c.account_id = $2 AND ct.phone = $3 \
         AND m.direction = 'in'",
    )
    .bind(ws.to_string())
    .bind(account.to_string())
    .bind(phone)
    .fetch_optional(conn)
    .await?;
    Ok(row.and_then(|(at,)| at))
}
