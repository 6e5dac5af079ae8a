//! Chats: one per (linked number, contact), with the team's working state
//! (status, assignee, unread count, labels) and internal notes.

use blazz_domain::{AccountId, ChatId, ChatStatus, ContactId, NoteId, UserId, WorkspaceId};

use crate::{now_ms, parse_id, Conn};

#[derive(Debug, Clone)]
pub struct Chat {
    pub id: ChatId,
    pub workspace_id: WorkspaceId,
    pub account_id: AccountId,
    pub contact_id: ContactId,
    pub contact_phone: String,
    pub contact_name: Option<String>,
    pub status: ChatStatus,
    pub assignee_id: Option<UserId>,
    pub unread_count: i64,
    pub last_message_id: Option<String>,
    pub last_message_preview: Option<String>,
    pub last_direction: Option<String>,
    pub labels: Vec<String>,
    pub active_at: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    workspace_id: String,
    account_id: String,
    contact_id: String,
    contact_phone: String,
    contact_name: Option<String>,
    status: String,
    assignee_id: Option<String>,
    unread_count: i64,
    last_message_id: Option<String>,
    last_message_preview: Option<String>,
    last_direction: Option<String>,
    active_at: i64,
    created_at: i64,
    updated_at: i64,
}

const SELECT: &str =
    "SELECT c.id, c.workspace_id, c.account_id, c.contact_id, k.phone AS contact_phone, \
     k.name AS contact_name, c.status, c.assignee_id, c.unread_count, c.last_message_id, \
     c.last_message_preview, c.last_direction, c.active_at, c.created_at, c.updated_at \
     FROM chats c JOIN contacts k ON k.id = c.contact_id";

impl Row {
    fn into_chat(self, labels: Vec<String>) -> anyhow::Result<Chat> {
        Ok(Chat {
            id: parse_id(&self.id)?,
            workspace_id: parse_id(&self.workspace_id)?,
            account_id: parse_id(&self.account_id)?,
            contact_id: parse_id(&self.contact_id)?,
            contact_phone: self.contact_phone,
            contact_name: self.contact_name,
            status: ChatStatus::parse(&self.status)
                .ok_or_else(|| anyhow::anyhow!("unknown chat status {:?}", self.status))?,
            assignee_id: self.assignee_id.as_deref().map(parse_id).transpose()?,
            unread_count: self.unread_count,
            last_message_id: self.last_message_id,
            last_message_preview: self.last_message_preview,
            last_direction: self.last_direction,
            labels,
            active_at: self.active_at,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

/// The chat of (account, contact), created (open, nothing unread) if it
/// does not exist yet. The second value says whether it was created. A new
/// chat's activity time comes from its first message (`record_message`):
/// a provider's timestamp can be older than the chat row.
pub async fn find_or_create(
    conn: &mut Conn,
    ws: WorkspaceId,
    account: AccountId,
    contact: ContactId,
) -> anyhow::Result<(ChatId, bool)> {
    if let Some(id) = id_of(conn, account, contact).await? {
        return Ok((id, false));
    }
    let id = ChatId::new();
    let now = now_ms();
    let done = sqlx::query(
        "INSERT INTO chats (id, workspace_id, account_id, contact_id, status, unread_count, active_at, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, 'open', 0, 0, $5, $5) ON CONFLICT DO NOTHING",
    )
    .bind(id.to_string())
    .bind(ws.to_string())
    .bind(account.to_string())
    .bind(contact.to_string())
    .bind(now)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 1 {
        return Ok((id, true));
    }
    // Another writer created it meanwhile.
    let id = id_of(conn, account, contact)
        .await?
        .ok_or_else(|| anyhow::anyhow!("a chat vanished while it was being created"))?;
    Ok((id, false))
}

async fn id_of(
    conn: &mut Conn,
    account: AccountId,
    contact: ContactId,
) -> anyhow::Result<Option<ChatId>> {
    let id: Option<String> =
        sqlx::query_scalar("SELECT id FROM chats WHERE account_id = $1 AND contact_id = $2")
            .bind(account.to_string())
            .bind(contact.to_string())
            .fetch_optional(&mut *conn)
            .await?;
    id.as_deref().map(parse_id).transpose()
}

/// Records a new message in its chat: it becomes the last message unless an
/// older one arrived late (history), an inbound one counts as unread and
/// reopens a resolved chat.
pub async fn record_message(
    conn: &mut Conn,
    chat: ChatId,
    message_id: &str,
    preview: &str,
    direction: blazz_domain::Direction,
    at: i64,
) -> sqlx::Result<()> {
    let inbound = i64::from(direction == blazz_domain::Direction::In);
    sqlx::query(
        "UPDATE chats SET \
         last_message_id = CASE WHEN $1 >= active_at OR last_message_id IS NULL THEN $2 ELSE last_message_id END, \
         last_message_preview = CASE WHEN $1 >= active_at OR last_message_id IS NULL THEN $3 ELSE last_message_preview END, \
         last_direction = CASE WHEN $1 >= active_at OR last_message_id IS NULL THEN $4 ELSE last_direction END, \
         active_at = CASE WHEN $1 > active_at THEN $1 ELSE active_at END, \
         unread_count = unread_count + $5, \
         status = CASE WHEN $5 = 1 AND status = 'resolved' THEN 'open' ELSE status END, \
         updated_at = $6 WHERE id = $7",
    )
    .bind(at)
    .bind(message_id)
    .bind(preview)
    .bind(direction.as_str())
    .bind(inbound)
    .bind(now_ms())
    .bind(chat.to_string())
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn find(conn: &mut Conn, ws: WorkspaceId, id: ChatId) -> anyhow::Result<Option<Chat>> {
    let row: Option<Row> =
        sqlx::query_as(&format!("{SELECT} WHERE c.workspace_id = $1 AND c.id = $2"))
            .bind(ws.to_string())
            .bind(id.to_string())
            .fetch_optional(&mut *conn)
            .await?;
    match row {
        None => Ok(None),
        Some(r) => Ok(with_labels(conn, vec![r]).await?.pop()),
    }
}

/// Whom a list is limited to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Assigned {
    To(UserId),
    Nobody,
}

/// What to list.
#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub status: Option<ChatStatus>,
    pub unread: Option<bool>,
    pub assigned: Option<Assigned>,
    pub account: Option<AccountId>,
    pub label: Option<String>,
    /// Part of the contact's name (any case) or phone.
    pub search: Option<String>,
    /// The previous page's last (active_at, id).
    pub before: Option<(i64, ChatId)>,
    pub limit: i64,
}

/// Most recently active first.
pub async fn list(conn: &mut Conn, ws: WorkspaceId, f: &Filter) -> anyhow::Result<Vec<Chat>> {
    filtered(conn, ws, f, "c.active_at DESC, c.id DESC").await
}

/// Chats with unread messages first, then most recently active: the web
/// inbox's order. One page (`f.limit`); `f.before` is ignored, since a
/// cursor of (active_at, id) cannot page through this order.
pub async fn list_unread_first(
    conn: &mut Conn,
    ws: WorkspaceId,
    f: &Filter,
) -> anyhow::Result<Vec<Chat>> {
    let f = Filter {
        before: None,
        ..f.clone()
    };
    filtered(
        conn,
        ws,
        &f,
        "CASE WHEN c.unread_count > 0 THEN 0 ELSE 1 END, c.active_at DESC, c.id DESC",
    )
    .await
}

/// The chats `f` selects, in `order` (a fixed SQL ordering, never input).
async fn filtered(
    conn: &mut Conn,
    ws: WorkspaceId,
    f: &Filter,
    order: &str,
) -> anyhow::Result<Vec<Chat>> {
    let pattern = f
        .search
        .as_ref()
        .map(|s| format!("%{}%", crate::like_escape(&s.to_lowercase())));
    let (assigned_any, assignee) = match f.assigned {
        None => (None, None),
        Some(Assigned::Nobody) => (Some(0i64), None),
        Some(Assigned::To(u)) => (Some(1i64), Some(u.to_string())),
    };
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "{SELECT} WHERE c.workspace_id = $1 \
         AND ($2 IS NULL OR c.status = $2) \
         AND ($3 IS NULL OR ($3 = 1 AND c.unread_count > 0) OR ($3 = 0 AND c.unread_count = 0)) \
         AND ($4 IS NULL OR ($4 = 0 AND c.assignee_id IS NULL) OR ($4 = 1 AND c.assignee_id = $5)) \
         AND ($6 IS NULL OR c.account_id = $6) \
         AND ($7 IS NULL OR EXISTS (SELECT 1 FROM chat_labels l WHERE l.chat_id = c.id AND l.label = $7)) \
         AND ($8 IS NULL OR LOWER(COALESCE(k.name, '')) LIKE $8 ESCAPE '\\' OR k.phone LIKE $8 ESCAPE '\\') \
         AND ($9 IS NULL OR c.active_at < $9 OR (c.active_at = $9 AND c.id < $10)) \
         ORDER BY {order} LIMIT $11"
    ))
    .bind(ws.to_string())
    .bind(f.status.map(|s| s.as_str()))
    .bind(f.unread.map(i64::from))
    .bind(assigned_any)
    .bind(assignee)
    .bind(f.account.map(|a| a.to_string()))
    .bind(f.label.clone())
    .bind(pattern)
    .bind(f.before.map(|b| b.0))
    .bind(f.before.map(|b| b.1.to_string()))
    .bind(f.limit)
    .fetch_all(&mut *conn)
    .await?;
    with_labels(conn, rows).await
}

async fn with_labels(conn: &mut Conn, rows: Vec<Row>) -> anyhow::Result<Vec<Chat>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    // The ids come from this workspace's own rows (UUIDs): safe to inline.
    let list = rows
        .iter()
        .map(|r| format!("'{}'", r.id))
        .collect::<Vec<_>>()
        .join(",");
    let labels: Vec<(String, String)> = sqlx::query_as(&format!(
        "SELECT chat_id, label FROM chat_labels WHERE chat_id IN ({list}) ORDER BY label"
    ))
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter()
        .map(|r| {
            let mine = labels
                .iter()
                .filter(|(c, _)| *c == r.id)
                .map(|(_, l)| l.clone())
                .collect();
            r.into_chat(mine)
        })
        .collect()
}

/// The team's changes to a chat; `None` leaves a field as it is.
#[derive(Debug, Default, Clone)]
pub struct Change {
    pub status: Option<ChatStatus>,
    /// `Some(None)` unassigns.
    pub assignee: Option<Option<UserId>>,
    /// Replaces every label.
    pub labels: Option<Vec<String>>,
}

pub async fn update(
    conn: &mut Conn,
    ws: WorkspaceId,
    id: ChatId,
    change: &Change,
) -> anyhow::Result<bool> {
    let assign = change.assignee.map(|a| a.map(|u| u.to_string()));
    let done = sqlx::query(
        "UPDATE chats SET status = COALESCE($1, status), \
         assignee_id = CASE WHEN $2 = 1 THEN $3 ELSE assignee_id END, updated_at = $4 \
         WHERE workspace_id = $5 AND id = $6",
    )
    .bind(change.status.map(|s| s.as_str()))
    .bind(i64::from(assign.is_some()))
    .bind(assign.flatten())
    .bind(now_ms())
    .bind(ws.to_string())
    .bind(id.to_string())
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() != 1 {
        return Ok(false);
    }
    if let Some(labels) = &change.labels {
        sqlx::query("DELETE FROM chat_labels WHERE chat_id = $1")
            .bind(id.to_string())
            .execute(&mut *conn)
            .await?;
        for label in labels {
            sqlx::query(
                "INSERT INTO chat_labels (workspace_id, chat_id, label) VALUES ($1, $2, $3)",
            )
            .bind(ws.to_string())
            .bind(id.to_string())
            .bind(label)
            .execute(&mut *conn)
            .await?;
        }
    }
    Ok(true)
}

/// Clears the unread count.
pub async fn clear_unread(conn: &mut Conn, ws: WorkspaceId, id: ChatId) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE chats SET unread_count = 0, updated_at = $1 WHERE workspace_id = $2 AND id = $3",
    )
    .bind(now_ms())
    .bind(ws.to_string())
    .bind(id.to_string())
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Debug, Clone)]
pub struct Note {
    pub id: NoteId,
    pub chat_id: ChatId,
    pub author_id: Option<UserId>,
    /// Who wrote it, as shown (a user's email or a token's name).
    pub author: String,
    pub body: String,
    pub created_at: i64,
}

pub async fn add_note(conn: &mut Conn, ws: WorkspaceId, note: &Note) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO chat_notes (id, workspace_id, chat_id, author_id, author, body, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(note.id.to_string())
    .bind(ws.to_string())
    .bind(note.chat_id.to_string())
    .bind(note.author_id.map(|u| u.to_string()))
    .bind(&note.author)
    .bind(&note.body)
    .bind(note.created_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// A chat's notes, oldest first.
pub async fn notes(conn: &mut Conn, ws: WorkspaceId, chat: ChatId) -> anyhow::Result<Vec<Note>> {
    type NoteRow = (String, String, Option<String>, String, String, i64);
    let rows: Vec<NoteRow> = sqlx::query_as(
        "SELECT id, chat_id, author_id, author, body, created_at FROM chat_notes \
         WHERE workspace_id = $1 AND chat_id = $2 ORDER BY created_at, id",
    )
    .bind(ws.to_string())
    .bind(chat.to_string())
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|(id, chat_id, author_id, author, body, created_at)| {
            Ok(Note {
                id: parse_id(&id)?,
                chat_id: parse_id(&chat_id)?,
                author_id: author_id.as_deref().map(parse_id).transpose()?,
                author,
                body,
                created_at,
            })
        })
        .collect()
}
