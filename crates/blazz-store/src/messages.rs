//! Messages of both directions, their forward-only statuses, and receipts
//! that arrived before the message they are about.

use blazz_domain::{AccountId, ChatId, Direction, MessageId, MessageStatus, WorkspaceId};

use crate::{now_ms, parse_id, Conn, Dialect};

#[derive(Debug, Clone)]
pub struct Message {
    pub seq: i64,
    pub id: MessageId,
    pub workspace_id: WorkspaceId,
    pub account_id: AccountId,
    pub chat_id: ChatId,
    pub direction: Direction,
    pub provider_message_id: Option<String>,
    pub kind: String,
    /// The body as Blazz describes it (type and fields), JSON.
    pub body: serde_json::Value,
    pub text: Option<String>,
    pub media_id: Option<String>,
    pub reply_to_id: Option<String>,
    pub reply_to_provider_id: Option<String>,
    pub status: MessageStatus,
    pub error: Option<String>,
    /// `contact`, `agent`, `api`, `campaign`, `phone`.
    pub source: String,
    pub author: Option<String>,
    pub idempotency_key: Option<String>,
    pub request_hash: Option<String>,
    pub sent_at: i64,
    pub delivered_at: Option<i64>,
    pub read_at: Option<i64>,
    pub failed_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    /// The campaign that sent it, or that it replies to.
    pub campaign_id: Option<String>,
}

#[derive(sqlx::FromRow)]
struct Row {
    seq: i64,
    id: String,
    workspace_id: String,
    account_id: String,
    chat_id: String,
    direction: String,
    provider_message_id: Option<String>,
    kind: String,
    body: String,
    text: Option<String>,
    media_id: Option<String>,
    reply_to_id: Option<String>,
    reply_to_provider_id: Option<String>,
    status: String,
    error: Option<String>,
    source: String,
    author: Option<String>,
    idempotency_key: Option<String>,
    request_hash: Option<String>,
    sent_at: i64,
    delivered_at: Option<i64>,
    read_at: Option<i64>,
    failed_at: Option<i64>,
    created_at: i64,
    updated_at: i64,
    campaign_id: Option<String>,
}

const COLUMNS: &str = "m.seq, m.id, m.workspace_id, m.account_id, m.chat_id, m.direction, \
    m.provider_message_id, m.kind, m.body, m.text, m.media_id, m.reply_to_id, m.reply_to_provider_id, \
    m.status, m.error, m.source, m.author, m.idempotency_key, m.request_hash, m.sent_at, \
    m.delivered_at, m.read_at, m.failed_at, m.created_at, m.updated_at, m.campaign_id";

impl TryFrom<Row> for Message {
    type Error = anyhow::Error;

    fn try_from(r: Row) -> anyhow::Result<Self> {
        Ok(Message {
            seq: r.seq,
            id: parse_id(&r.id)?,
            workspace_id: parse_id(&r.workspace_id)?,
            account_id: parse_id(&r.account_id)?,
            chat_id: parse_id(&r.chat_id)?,
            direction: Direction::parse(&r.direction)
                .ok_or_else(|| anyhow::anyhow!("unknown direction {:?}", r.direction))?,
            provider_message_id: r.provider_message_id,
            kind: r.kind,
            body: serde_json::from_str(&r.body).unwrap_or(serde_json::Value::Null),
            text: r.text,
            media_id: r.media_id,
            reply_to_id: r.reply_to_id,
            reply_to_provider_id: r.reply_to_provider_id,
            status: MessageStatus::parse(&r.status)
                .ok_or_else(|| anyhow::anyhow!("unknown message status {:?}", r.status))?,
            error: r.error,
            source: r.source,
            author: r.author,
            idempotency_key: r.idempotency_key,
            request_hash: r.request_hash,
            sent_at: r.sent_at,
            delivered_at: r.delivered_at,
            read_at: r.read_at,
            failed_at: r.failed_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
            campaign_id: r.campaign_id,
        })
    }
}

fn convert(rows: Vec<Row>) -> anyhow::Result<Vec<Message>> {
    rows.into_iter().map(Message::try_from).collect()
}

/// Inserts a message unless one with the same (account, provider id) or
/// (workspace, idempotency key) exists: false then, and nothing changed.
pub async fn insert(conn: &mut Conn, m: &Message) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "INSERT INTO messages (id, workspace_id, account_id, chat_id, direction, provider_message_id, kind, body, \
         text, media_id, reply_to_id, reply_to_provider_id, status, error, source, author, idempotency_key, \
         request_hash, sent_at, delivered_at, read_at, failed_at, created_at, updated_at, campaign_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25) \
         ON CONFLICT DO NOTHING",
    )
    .bind(m.id.to_string())
    .bind(m.workspace_id.to_string())
    .bind(m.account_id.to_string())
    .bind(m.chat_id.to_string())
    .bind(m.direction.as_str())
    .bind(m.provider_message_id.clone())
    .bind(&m.kind)
    .bind(m.body.to_string())
    .bind(m.text.clone())
    .bind(m.media_id.clone())
    .bind(m.reply_to_id.clone())
    .bind(m.reply_to_provider_id.clone())
    .bind(m.status.as_str())
    .bind(m.error.clone())
    .bind(&m.source)
    .bind(m.author.clone())
    .bind(m.idempotency_key.clone())
    .bind(m.request_hash.clone())
    .bind(m.sent_at)
    .bind(m.delivered_at)
    .bind(m.read_at)
    .bind(m.failed_at)
    .bind(m.created_at)
    .bind(m.updated_at)
    .bind(m.campaign_id.clone())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn find(
    conn: &mut Conn,
    ws: WorkspaceId,
    id: MessageId,
) -> anyhow::Result<Option<Message>> {
    let row: Option<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM messages m WHERE m.workspace_id = $1 AND m.id = $2"
    ))
    .bind(ws.to_string())
    .bind(id.to_string())
    .fetch_optional(conn)
    .await?;
    row.map(Message::try_from).transpose()
}

pub async fn by_idempotency_key(
    conn: &mut Conn,
    ws: WorkspaceId,
    key: &str,
) -> anyhow::Result<Option<Message>> {
    let row: Option<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM messages m WHERE m.workspace_id = $1 AND m.idempotency_key = $2"
    ))
    .bind(ws.to_string())
    .bind(key)
    .fetch_optional(conn)
    .await?;
    row.map(Message::try_from).transpose()
}

pub async fn by_provider_id(
    conn: &mut Conn,
    account: AccountId,
    provider_message_id: &str,
) -> anyhow::Result<Option<Message>> {
    let row: Option<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM messages m WHERE m.account_id = $1 AND m.provider_message_id = $2"
    ))
    .bind(account.to_string())
    .bind(provider_message_id)
    .fetch_optional(conn)
    .await?;
    row.map(Message::try_from).transpose()
}

/// A page of a chat's messages, newest first, before `before` (a
/// previous page's last (sent_at, seq)).
pub async fn in_chat(
    conn: &mut Conn,
    ws: WorkspaceId,
    chat: ChatId,
    before: Option<(i64, i64)>,
    limit: i64,
) -> anyhow::Result<Vec<Message>> {
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM messages m WHERE m.workspace_id = $1 AND m.chat_id = $2 \
         AND ($3 IS NULL OR m.sent_at < $3 OR (m.sent_at = $3 AND m.seq < $4)) \
         ORDER BY m.sent_at DESC, m.seq DESC LIMIT $5"
    ))
    .bind(ws.to_string())
    .bind(chat.to_string())
    .bind(before.map(|b| b.0))
    .bind(before.map(|b| b.1))
    .bind(limit)
    .fetch_all(conn)
    .await?;
    convert(rows)
}

/// What a full-text search looks in.
#[derive(Debug, Default, Clone)]
pub struct Search {
    pub query: String,
    pub chat: Option<ChatId>,
    pub account: Option<AccountId>,
    /// The previous page's last seq (results come newest first).
    pub before: Option<i64>,
    pub limit: i64,
}

/// Messages of the workspace whose text matches every word of the query,
/// newest first.
pub async fn search(
    conn: &mut Conn,
    dialect: Dialect,
    ws: WorkspaceId,
    s: &Search,
) -> anyhow::Result<Vec<Message>> {
    let (from, matches, query) = match dialect {
        Dialect::Sqlite => (
            "messages_fts f JOIN messages m ON m.seq = f.rowid",
            "messages_fts MATCH $2",
            fts5_query(&s.query),
        ),
        Dialect::Postgres => (
            "messages m",
            "to_tsvector('simple', coalesce(m.text, '')) @@ plainto_tsquery('simple', $2)",
            s.query.clone(),
        ),
    };
    if query.trim().is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM {from} WHERE m.workspace_id = $1 AND {matches} \
         AND ($3 IS NULL OR m.chat_id = $3) AND ($4 IS NULL OR m.account_id = $4) \
         AND ($5 IS NULL OR m.seq < $5) ORDER BY m.seq DESC LIMIT $6"
    ))
    .bind(ws.to_string())
    .bind(query)
    .bind(s.chat.map(|c| c.to_string()))
    .bind(s.account.map(|a| a.to_string()))
    .bind(s.before)
    .bind(s.limit)
    .fetch_all(conn)
    .await?;
    convert(rows)
}

/// A user's words as an FTS5 query: each word a quoted string (so FTS5's
/// operators and punctuation mean nothing), all of them required.
fn fts5_query(q: &str) -> String {
    q.split_whitespace()
        .map(|w| format!("\"{}\"", w.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Moves a message to `to` if its current status allows (forward only);
/// true if it moved. `at` is when the status happened; `error` the
/// provider's reason for a failure.
pub async fn advance(
    conn: &mut Conn,
    id: MessageId,
    to: MessageStatus,
    at: i64,
    error: Option<&str>,
) -> sqlx::Result<bool> {
    let from = to
        .comes_after()
        .iter()
        .map(|s| format!("'{}'", s.as_str()))
        .collect::<Vec<_>>()
        .join(",");
    if from.is_empty() {
        return Ok(false);
    }
    let stamp = match to {
        MessageStatus::Delivered => Some("delivered_at"),
        MessageStatus::Read => Some("read_at"),
        MessageStatus::Failed => Some("failed_at"),
        _ => None,
    };
    let set_stamp = stamp.map(|c| format!(", {c} = $5")).unwrap_or_default();
    let sql = format!(
        "UPDATE messages SET status = $1, error = COALESCE($2, error), updated_at = $3 {set_stamp} \
         WHERE id = $4 AND status IN ({from})"
    );
    let mut q = sqlx::query(&sql)
        .bind(to.as_str())
        .bind(error)
        .bind(now_ms())
        .bind(id.to_string());
    if stamp.is_some() {
        q = q.bind(at);
    }
    let done = q.execute(conn).await?;
    Ok(done.rows_affected() == 1)
}

/// A pending message was handed to the network, which knows it by
/// `provider_message_id` from now on. False if it was not pending.
pub async fn mark_sent(
    conn: &mut Conn,
    id: MessageId,
    provider_message_id: &str,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE messages SET status = 'sent', provider_message_id = $1, updated_at = $2 \
         WHERE id = $3 AND status = 'pending'",
    )
    .bind(provider_message_id)
    .bind(now_ms())
    .bind(id.to_string())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The chat's outbound messages still pending up to `up_to_seq`, oldest
/// first: they go out in this order.
pub async fn pending_in_chat(
    conn: &mut Conn,
    ws: WorkspaceId,
    chat: ChatId,
    up_to_seq: i64,
) -> anyhow::Result<Vec<Message>> {
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM messages m WHERE m.workspace_id = $1 AND m.chat_id = $2 \
         AND m.direction = 'out' AND m.status = 'pending' AND m.seq <= $3 ORDER BY m.seq"
    ))
    .bind(ws.to_string())
    .bind(chat.to_string())
    .bind(up_to_seq)
    .fetch_all(conn)
    .await?;
    convert(rows)
}

/// A receipt kept until its message is known by this provider id.
#[derive(Debug, Clone)]
pub struct EarlyReceipt {
    pub status: MessageStatus,
    pub error: Option<String>,
    pub at: i64,
}

pub async fn keep_early_receipt(
    conn: &mut Conn,
    account: AccountId,
    provider_message_id: &str,
    r: &EarlyReceipt,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO early_receipts (account_id, provider_message_id, status, error, at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
    )
    .bind(account.to_string())
    .bind(provider_message_id)
    .bind(r.status.as_str())
    .bind(r.error.clone())
    .bind(r.at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Takes (removes and returns) the receipts kept for this provider id,
/// in the order they happened.
pub async fn take_early_receipts(
    conn: &mut Conn,
    account: AccountId,
    provider_message_id: &str,
) -> anyhow::Result<Vec<EarlyReceipt>> {
    let rows: Vec<(String, Option<String>, i64)> = sqlx::query_as(
        "SELECT status, error, at FROM early_receipts WHERE account_id = $1 AND provider_message_id = $2 ORDER BY at",
    )
    .bind(account.to_string())
    .bind(provider_message_id)
    .fetch_all(&mut *conn)
    .await?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    sqlx::query("DELETE FROM early_receipts WHERE account_id = $1 AND provider_message_id = $2")
        .bind(account.to_string())
        .bind(provider_message_id)
        .execute(&mut *conn)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(status, error, at)| {
            MessageStatus::parse(&status).map(|status| EarlyReceipt { status, error, at })
        })
        .collect())
}

/// Forgets kept receipts older than `keep_ms` (their message never showed
/// up: sent from the phone itself, or from before the number was linked).
pub async fn prune_early_receipts(conn: &mut Conn, keep_ms: i64) -> sqlx::Result<u64> {
    let done = sqlx::query("DELETE FROM early_receipts WHERE at < $1")
        .bind(now_ms() - keep_ms)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}

/// Marks a chat's received messages read; returns their provider ids (for
/// the read receipts).
pub async fn mark_chat_read(
    conn: &mut Conn,
    ws: WorkspaceId,
    chat: ChatId,
) -> anyhow::Result<Vec<String>> {
    let ids: Vec<Option<String>> = sqlx::query_scalar(
        "SELECT provider_message_id FROM messages WHERE workspace_id = $1 AND chat_id = $2 \
         AND status = 'received' ORDER BY sent_at, seq",
    )
    .bind(ws.to_string())
    .bind(chat.to_string())
    .fetch_all(&mut *conn)
    .await?;
    let now = now_ms();
    sqlx::query(
        "UPDATE messages SET status = 'read', read_at = $1, updated_at = $1 \
         WHERE workspace_id = $2 AND chat_id = $3 AND status = 'received'",
    )
    .bind(now)
    .bind(ws.to_string())
    .bind(chat.to_string())
    .execute(conn)
    .await?;
    Ok(ids.into_iter().flatten().collect())
}

/// How many of the workspace's messages are in each status.
pub async fn count_by_status(
    conn: &mut Conn,
    ws: WorkspaceId,
) -> anyhow::Result<Vec<(String, i64)>> {
    Ok(sqlx::query_as(
        "SELECT status, COUNT(*) FROM messages WHERE workspace_id = $1 GROUP BY status ORDER BY status",
    )
    .bind(ws.to_string())
    .fetch_all(conn)
    .await?)
}

/// Attributes a message to a campaign: one it sent, or a reply to one.
pub async fn set_campaign(
    conn: &mut Conn,
    id: MessageId,
    campaign: blazz_domain::CampaignId,
) -> anyhow::Result<()> {
    sqlx::query("UPDATE messages SET campaign_id = $1 WHERE id = $2")
        .bind(campaign.to_string())
        .bind(id.to_string())
        .execute(conn)
        .await?;
    Ok(())
}

/// Whether the message still waits to be handed to the network.
pub async fn is_pending(conn: &mut Conn, id: MessageId) -> anyhow::Result<bool> {
    let row: Option<(String,)> = sqlx::query_as("SELECT status FROM messages WHERE id = $1")
        .bind(id.to_string())
        .fetch_optional(conn)
        .await?;
    Ok(row.is_some_and(|(s,)| s == MessageStatus::Pending.as_str()))
}

/// Serialises the transactions that touch one network message id of a
/// number: marking it sent (and taking the receipts that came first) and
/// applying a receipt (or keeping it for later). Without this, on
/// PostgreSQL a receipt kept while the message was being marked sent
/// could be missed by both. SQLite's writes are serial already.
pub async fn lock_network_id(
    conn: &mut Conn,
    account: AccountId,
    provider_message_id: &str,
) -> anyhow::Result<()> {
    if conn.backend_name() == "PostgreSQL" {
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
            .bind(format!("{account}:{provider_message_id}"))
            .execute(conn)
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::fts5_query;

    #[test]
    fn search_words_cannot_inject_fts5_syntax() {
        assert_eq!(fts5_query("order 42"), "\"order\" \"42\"");
        assert_eq!(fts5_query("a\"b OR c*"), "\"a\"\"b\" \"OR\" \"c*\"");
        assert_eq!(fts5_query("   "), "");
    }
}
