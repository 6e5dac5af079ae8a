//! A campaign's recipients: planned once (unique per contact), claimed one
//! at a time in the transaction that stores the message sent to them, and
//! then following that message's status.

use blazz_domain::campaign::{RecipientStatus, SkipReason};
use blazz_domain::{AccountId, CampaignId, ContactId, MessageId, WorkspaceId};

use crate::{parse_id, Conn};

#[derive(Debug, Clone)]
pub struct Recipient {
    pub campaign_id: CampaignId,
    pub contact_id: ContactId,
    pub seq: i64,
    pub phone: String,
    pub status: RecipientStatus,
    pub reason: Option<String>,
    pub account_id: Option<AccountId>,
    pub message_id: Option<MessageId>,
    pub sent_at: Option<i64>,
    pub updated_at: i64,
}

#[derive(sqlx::FromRow)]
struct Row {
    campaign_id: String,
    contact_id: String,
    seq: i64,
    phone: String,
    status: String,
    reason: Option<String>,
    account_id: Option<String>,
    message_id: Option<String>,
    sent_at: Option<i64>,
    updated_at: i64,
}

const COLUMNS: &str =
    "campaign_id, contact_id, seq, phone, status, reason, account_id, message_id, sent_at, updated_at";

impl TryFrom<Row> for Recipient {
    type Error = anyhow::Error;

    fn try_from(r: Row) -> anyhow::Result<Self> {
        Ok(Recipient {
            campaign_id: parse_id(&r.campaign_id)?,
            contact_id: parse_id(&r.contact_id)?,
            seq: r.seq,
            phone: r.phone,
            status: r.status.parse().map_err(anyhow::Error::msg)?,
            reason: r.reason,
            account_id: r.account_id.as_deref().map(parse_id).transpose()?,
            message_id: r.message_id.as_deref().map(parse_id).transpose()?,
            sent_at: r.sent_at,
            updated_at: r.updated_at,
        })
    }
}

/// Which of the workspace's contacts a plan takes.
#[derive(Debug, Clone, Copy)]
pub enum Selection<'a> {
    All,
    /// Contacts with any of these tags.
    Tags(&'a [String]),
    /// These contacts (a chunk of a list; the caller keeps chunks small).
    Contacts(&'a [ContactId]),
}

/// Plans the selected contacts as recipients, numbered after `first_seq`
/// in the contacts' creation order. A contact planned already is left as
/// it is (planning twice plans once). Opted-out contacts, and contacts
/// another campaign messaged after `cooldown_since`, are planned `skipped`
/// with the reason, so the statistics show them. Returns how many rows
/// were added.
pub async fn plan(
    conn: &mut Conn,
    ws: WorkspaceId,
    campaign: CampaignId,
    selection: Selection<'_>,
    first_seq: i64,
    cooldown_since: i64,
    now: i64,
) -> anyhow::Result<u64> {
    // $1 campaign, $2 first seq, $3 cooldown, $4 now, $5 workspace, then
    // the selection's values.
    let (filter, values): (String, Vec<String>) = match selection {
        Selection::All => (String::new(), Vec::new()),
        Selection::Tags(tags) => (
            format!(
                "AND EXISTS (SELECT 1 FROM contact_tags t WHERE t.contact_id = c.id AND t.tag IN ({}))",
                placeholders(6, tags.len())
            ),
            tags.to_vec(),
        ),
        Selection::Contacts(ids) => (
            format!("AND c.id IN ({})", placeholders(6, ids.len())),
            ids.iter().map(ToString::to_string).collect(),
        ),
    };
    if values.is_empty() && !matches!(selection, Selection::All) {
        return Ok(0);
    }
    let recent = "EXISTS (SELECT 1 FROM campaign_recipients o \
         WHERE o.contact_id = c.id AND o.campaign_id <> $1 AND o.sent_at > $3)";
    let sql = format!(
        "INSERT INTO campaign_recipients \
         (campaign_id, contact_id, workspace_id, seq, phone, status, reason, updated_at) \
         SELECT $1, c.id, c.workspace_id, $2 + ROW_NUMBER() OVER (ORDER BY c.created_at, c.id), c.phone, \
           CASE WHEN c.opted_out_at IS NOT NULL OR {recent} THEN 'skipped' ELSE 'queued' END, \
           CASE WHEN c.opted_out_at IS NOT NULL THEN '{opted}' WHEN {recent} THEN '{recently}' END, \
           $4 \
         FROM contacts c WHERE c.workspace_id = $5 {filter} \
         ON CONFLICT DO NOTHING",
        opted = SkipReason::OptedOut.as_str(),
        recently = SkipReason::RecentlyMessaged.as_str(),
    );
    let mut q = sqlx::query(&sql)
        .bind(campaign.to_string())
        .bind(first_seq)
        .bind(cooldown_since)
        .bind(now)
        .bind(ws.to_string());
    for v in values {
        q = q.bind(v);
    }
    Ok(q.execute(conn).await?.rows_affected())
}

fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The highest `seq` planned so far (0 when none).
pub async fn last_seq(conn: &mut Conn, campaign: CampaignId) -> anyhow::Result<i64> {
    let (max,): (Option<i64>,) =
        sqlx::query_as("SELECT MAX(seq) FROM campaign_recipients WHERE campaign_id = $1")
            .bind(campaign.to_string())
            .fetch_one(conn)
            .await?;
    Ok(max.unwrap_or(0))
}

/// The next queued recipients after `after_seq`, in order.
pub async fn next_queued(
    conn: &mut Conn,
    campaign: CampaignId,
    after_seq: i64,
    limit: i64,
) -> anyhow::Result<Vec<Recipient>> {
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM campaign_recipients \
         WHERE campaign_id = $1 AND status = 'queued' AND seq > $2 ORDER BY seq LIMIT $3"
    ))
    .bind(campaign.to_string())
    .bind(after_seq)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(Recipient::try_from).collect()
}

/// Skips the queued recipients with `seq` in `from..=to` whom another
/// campaign messaged after `since` (it may have run since this one was
/// planned). Returns how many.
pub async fn skip_recently_messaged(
    conn: &mut Conn,
    campaign: CampaignId,
    (from, to): (i64, i64),
    since: i64,
    now: i64,
) -> anyhow::Result<u64> {
    let done = sqlx::query(
        "UPDATE campaign_recipients SET status = 'skipped', reason = $1, updated_at = $2 \
         WHERE campaign_id = $3 AND status = 'queued' AND seq >= $4 AND seq <= $5 \
         AND EXISTS (SELECT 1 FROM campaign_recipients o WHERE o.contact_id = campaign_recipients.contact_id \
           AND o.campaign_id <> $3 AND o.sent_at > $6)",
    )
    .bind(SkipReason::RecentlyMessaged.as_str())
    .bind(now)
    .bind(campaign.to_string())
    .bind(from)
    .bind(to)
    .bind(since)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// Claims a queued recipient for `message` from `account`; false if it is
/// no longer queued (then nothing must be sent to it). Call it in the
/// transaction that stores the message: both happen, or neither.
pub async fn claim(
    conn: &mut Conn,
    campaign: CampaignId,
    contact: ContactId,
    account: AccountId,
    message: MessageId,
    now: i64,
) -> anyhow::Result<bool> {
    let done = sqlx::query(
        "UPDATE campaign_recipients SET status = 'sending', account_id = $1, message_id = $2, \
         sent_at = $3, updated_at = $3 \
         WHERE campaign_id = $4 AND contact_id = $5 AND status = 'queued'",
    )
    .bind(account.to_string())
    .bind(message.to_string())
    .bind(now)
    .bind(campaign.to_string())
    .bind(contact.to_string())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Marks one queued recipient skipped.
pub async fn skip(
    conn: &mut Conn,
    campaign: CampaignId,
    contact: ContactId,
    reason: &str,
    now: i64,
) -> anyhow::Result<bool> {
    let done = sqlx::query(
        "UPDATE campaign_recipients SET status = 'skipped', reason = $1, updated_at = $2 \
         WHERE campaign_id = $3 AND contact_id = $4 AND status = 'queued'",
    )
    .bind(reason)
    .bind(now)
    .bind(campaign.to_string())
    .bind(contact.to_string())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Skips every recipient still queued (a cancelled campaign).
pub async fn skip_all_queued(
    conn: &mut Conn,
    campaign: CampaignId,
    reason: SkipReason,
    now: i64,
) -> anyhow::Result<u64> {
    let done = sqlx::query(
        "UPDATE campaign_recipients SET status = 'skipped', reason = $1, updated_at = $2 \
         WHERE campaign_id = $3 AND status = 'queued'",
    )
    .bind(reason.as_str())
    .bind(now)
    .bind(campaign.to_string())
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// Moves the recipient sent `message` (if any) to `next`, forward only
/// (one statement: only from the statuses that may become `next`); true
/// if it moved.
pub async fn follow_message(
    conn: &mut Conn,
    message: MessageId,
    next: RecipientStatus,
    reason: Option<&str>,
    now: i64,
) -> anyhow::Result<bool> {
    let from: Vec<String> = RecipientStatus::ALL
        .into_iter()
        .filter(|s| s.can_become(next))
        .map(|s| format!("'{}'", s.as_str()))
        .collect();
    if from.is_empty() {
        return Ok(false);
    }
    let done = sqlx::query(&format!(
        "UPDATE campaign_recipients SET status = $1, reason = COALESCE($2, reason), updated_at = $3 \
         WHERE message_id = $4 AND status IN ({})",
        from.join(", ")
    ))
    .bind(next.as_str())
    .bind(reason)
    .bind(now)
    .bind(message.to_string())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// The contact wrote back: their latest campaign message sent after
/// `since` counts as replied. Returns that campaign (the reply is
/// attributed to it) when there is one.
pub async fn mark_replied(
    conn: &mut Conn,
    ws: WorkspaceId,
    contact: ContactId,
    since: i64,
    now: i64,
) -> anyhow::Result<Option<CampaignId>> {
    let row: Option<(String, String)> = sqlx::query_as(
        "SELECT campaign_id, status FROM campaign_recipients \
         WHERE workspace_id = $1 AND contact_id = $2 AND sent_at > $3 \
         ORDER BY sent_at DESC LIMIT 1",
    )
    .bind(ws.to_string())
    .bind(contact.to_string())
    .bind(since)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((campaign, status)) = row else {
        return Ok(None);
    };
    let current: RecipientStatus = status.parse().map_err(anyhow::Error::msg)?;
    if current.can_become(RecipientStatus::Replied) {
        sqlx::query(
            "UPDATE campaign_recipients SET status = 'replied', updated_at = $1 \
             WHERE campaign_id = $2 AND contact_id = $3 AND status = $4",
        )
        .bind(now)
        .bind(&campaign)
        .bind(contact.to_string())
        .bind(current.as_str())
        .execute(conn)
        .await?;
    }
    Ok(Some(parse_id(&campaign)?))
}

/// How many recipients are not settled yet (queued or sending).
pub async fn unsettled(conn: &mut Conn, campaign: CampaignId) -> anyhow::Result<i64> {
    let (n,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM campaign_recipients \
         WHERE campaign_id = $1 AND status IN ('queued', 'sending')",
    )
    .bind(campaign.to_string())
    .fetch_one(conn)
    .await?;
    Ok(n)
}

/// One line of a campaign's statistics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Count {
    pub status: String,
    pub reason: Option<String>,
    pub account_id: Option<String>,
    pub count: i64,
}

/// Recipients by status, reason and number.
pub async fn counts(conn: &mut Conn, campaign: CampaignId) -> anyhow::Result<Vec<Count>> {
    let rows: Vec<(String, Option<String>, Option<String>, i64)> = sqlx::query_as(
        "SELECT status, reason, account_id, COUNT(*) FROM campaign_recipients \
         WHERE campaign_id = $1 GROUP BY status, reason, account_id",
    )
    .bind(campaign.to_string())
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(status, reason, account_id, count)| Count {
            status,
            reason,
            account_id,
            count,
        })
        .collect())
}

/// A page of recipients in plan order after `after_seq`, optionally of
/// one status.
pub async fn page(
    conn: &mut Conn,
    ws: WorkspaceId,
    campaign: CampaignId,
    status: Option<RecipientStatus>,
    after_seq: i64,
    limit: i64,
) -> anyhow::Result<Vec<Recipient>> {
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM campaign_recipients \
         WHERE workspace_id = $1 AND campaign_id = $2 AND ($3 = '' OR status = $3) AND seq > $4 \
         ORDER BY seq LIMIT $5"
    ))
    .bind(ws.to_string())
    .bind(campaign.to_string())
    .bind(status.map(|s| s.as_str()).unwrap_or(""))
    .bind(after_seq)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(Recipient::try_from).collect()
}

/// When `account` handed campaign messages over since `since`, oldest
/// first: a restarted pacer starts from these.
pub async fn sent_times(
    conn: &mut Conn,
    account: AccountId,
    since: i64,
) -> anyhow::Result<Vec<i64>> {
    let rows: Vec<(i64,)> = sqlx::query_as(
        "SELECT sent_at FROM campaign_recipients WHERE account_id = $1 AND sent_at > $2 \
         ORDER BY sent_at",
    )
    .bind(account.to_string())
    .bind(since)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|(t,)| t).collect())
}
