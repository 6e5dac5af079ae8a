//! Contacts: the people a workspace messages, unique by phone (E.164)
//! within the workspace, with tags, custom fields, notes and opt-out.

use blazz_domain::{ContactId, WorkspaceId};

use crate::{now_ms, parse_id, Conn};

#[derive(Debug, Clone)]
pub struct Contact {
    pub id: ContactId,
    pub workspace_id: WorkspaceId,
    pub phone: String,
    pub name: Option<String>,
    pub tags: Vec<String>,
    pub fields: serde_json::Map<String, serde_json::Value>,
    pub notes: Option<String>,
    pub opted_out_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    workspace_id: String,
    phone: String,
    name: Option<String>,
    fields: String,
    notes: Option<String>,
    opted_out_at: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

const COLUMNS: &str =
    "id, workspace_id, phone, name, fields, notes, opted_out_at, created_at, updated_at";

impl Row {
    fn into_contact(self, tags: Vec<String>) -> anyhow::Result<Contact> {
        Ok(Contact {
            id: parse_id(&self.id)?,
            workspace_id: parse_id(&self.workspace_id)?,
            phone: self.phone,
            name: self.name,
            tags,
            fields: serde_json::from_str(&self.fields).unwrap_or_default(),
            notes: self.notes,
            opted_out_at: self.opted_out_at,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

/// Inserts a contact with its tags. A phone already in the workspace is a
/// unique violation the caller maps.
pub async fn create(conn: &mut Conn, c: &Contact) -> sqlx::Result<()> {
    insert_row(conn, c, "").await?;
    set_tags(conn, c.workspace_id, c.id, &c.tags).await
}

/// Inserts a contact without tags unless its phone is taken in the
/// workspace (by a concurrent writer, say); true if it was inserted.
pub async fn insert_if_absent(conn: &mut Conn, c: &Contact) -> sqlx::Result<bool> {
    Ok(insert_row(conn, c, "ON CONFLICT DO NOTHING").await? == 1)
}

async fn insert_row(conn: &mut Conn, c: &Contact, on_conflict: &str) -> sqlx::Result<u64> {
    let done = sqlx::query(&format!(
        "INSERT INTO contacts (id, workspace_id, phone, name, fields, notes, opted_out_at, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) {on_conflict}"
    ))
    .bind(c.id.to_string())
    .bind(c.workspace_id.to_string())
    .bind(&c.phone)
    .bind(c.name.clone())
    .bind(serde_json::Value::Object(c.fields.clone()).to_string())
    .bind(c.notes.clone())
    .bind(c.opted_out_at)
    .bind(c.created_at)
    .bind(c.updated_at)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected())
}

/// Writes every field of an existing contact (and replaces its tags).
pub async fn update(conn: &mut Conn, c: &Contact) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE contacts SET phone = $1, name = $2, fields = $3, notes = $4, opted_out_at = $5, updated_at = $6 \
         WHERE workspace_id = $7 AND id = $8",
    )
    .bind(&c.phone)
    .bind(c.name.clone())
    .bind(serde_json::Value::Object(c.fields.clone()).to_string())
    .bind(c.notes.clone())
    .bind(c.opted_out_at)
    .bind(now_ms())
    .bind(c.workspace_id.to_string())
    .bind(c.id.to_string())
    .execute(&mut *conn)
    .await?;
    set_tags(conn, c.workspace_id, c.id, &c.tags).await?;
    Ok(done.rows_affected() == 1)
}

async fn set_tags(
    conn: &mut Conn,
    ws: WorkspaceId,
    id: ContactId,
    tags: &[String],
) -> sqlx::Result<()> {
    // By contact id alone (the caller holds a contact of `ws`): the primary
    // key serves it.
    sqlx::query("DELETE FROM contact_tags WHERE contact_id = $1")
        .bind(id.to_string())
        .execute(&mut *conn)
        .await?;
    for tag in tags {
        sqlx::query("INSERT INTO contact_tags (workspace_id, contact_id, tag) VALUES ($1, $2, $3)")
            .bind(ws.to_string())
            .bind(id.to_string())
            .bind(tag)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

async fn tags_of(
    conn: &mut Conn,
    ws: WorkspaceId,
    ids: &[String],
) -> anyhow::Result<Vec<(String, String)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    // The ids were read from this workspace's own contact rows (UUIDs), so
    // listing them is safe and scopes the query. Filtering by workspace too
    // would lead SQLite to the (workspace, tag) index and a scan of every
    // tag of the workspace per call; by contact id the primary key serves.
    let _ = ws;
    let list = ids
        .iter()
        .map(|i| format!("'{i}'"))
        .collect::<Vec<_>>()
        .join(",");
    Ok(sqlx::query_as(&format!(
        "SELECT contact_id, tag FROM contact_tags WHERE contact_id IN ({list}) ORDER BY tag"
    ))
    .fetch_all(conn)
    .await?)
}

async fn with_tags(
    conn: &mut Conn,
    ws: WorkspaceId,
    rows: Vec<Row>,
) -> anyhow::Result<Vec<Contact>> {
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let tags = tags_of(conn, ws, &ids).await?;
    rows.into_iter()
        .map(|r| {
            let mine = tags
                .iter()
                .filter(|(c, _)| *c == r.id)
                .map(|(_, t)| t.clone())
                .collect();
            r.into_contact(mine)
        })
        .collect()
}

pub async fn find(
    conn: &mut Conn,
    ws: WorkspaceId,
    id: ContactId,
) -> anyhow::Result<Option<Contact>> {
    let row: Option<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM contacts WHERE workspace_id = $1 AND id = $2"
    ))
    .bind(ws.to_string())
    .bind(id.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    match row {
        None => Ok(None),
        Some(r) => Ok(with_tags(conn, ws, vec![r]).await?.pop()),
    }
}

pub async fn delete(conn: &mut Conn, ws: WorkspaceId, id: ContactId) -> anyhow::Result<bool> {
    let done = sqlx::query("DELETE FROM contacts WHERE workspace_id = $1 AND id = $2")
        .bind(ws.to_string())
        .bind(id.to_string())
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// What to list.
#[derive(Debug, Default, Clone)]
pub struct Filter {
    /// Part of the name (any case) or of the phone number.
    pub search: Option<String>,
    pub tag: Option<String>,
    pub opted_out: Option<bool>,
    /// The previous page's last id.
    pub before: Option<ContactId>,
    pub limit: i64,
}

/// Newest first.
pub async fn list(conn: &mut Conn, ws: WorkspaceId, f: &Filter) -> anyhow::Result<Vec<Contact>> {
    let pattern = f
        .search
        .as_ref()
        .map(|s| format!("%{}%", crate::like_escape(&s.to_lowercase())));
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM contacts c WHERE workspace_id = $1 \
         AND ($2 IS NULL OR LOWER(COALESCE(name, '')) LIKE $2 ESCAPE '\\' OR phone LIKE $2 ESCAPE '\\') \
         AND ($3 IS NULL OR EXISTS (SELECT 1 FROM contact_tags t WHERE t.workspace_id = $1 AND t.contact_id = c.id AND t.tag = $3)) \
         AND ($4 IS NULL OR ($4 = 1 AND opted_out_at IS NOT NULL) OR ($4 = 0 AND opted_out_at IS NULL)) \
         AND ($5 IS NULL OR id < $5) ORDER BY id DESC LIMIT $6"
    ))
    .bind(ws.to_string())
    .bind(pattern)
    .bind(f.tag.clone())
    .bind(f.opted_out.map(i64::from))
    .bind(f.before.map(|b| b.to_string()))
    .bind(f.limit)
    .fetch_all(&mut *conn)
    .await?;
    with_tags(conn, ws, rows).await
}

/// The workspace's contacts with these phones (any number of them).
pub async fn by_phones(
    conn: &mut Conn,
    ws: WorkspaceId,
    phones: &[String],
) -> anyhow::Result<Vec<Contact>> {
    let mut out = Vec::with_capacity(phones.len());
    for chunk in phones.chunks(500) {
        // Bound parameters, $2..$n: phones come from the client.
        let marks = (0..chunk.len())
            .map(|i| format!("${}", i + 2))
            .collect::<Vec<_>>()
            .join(",");
        let sql = format!(
            "SELECT {COLUMNS} FROM contacts WHERE workspace_id = $1 AND phone IN ({marks})"
        );
        let mut q = sqlx::query_as::<_, Row>(&sql).bind(ws.to_string());
        for p in chunk {
            q = q.bind(p.clone());
        }
        let rows = q.fetch_all(&mut *conn).await?;
        out.extend(with_tags(conn, ws, rows).await?);
    }
    Ok(out)
}

/// The id and name of the workspace's contact with this phone (one indexed
/// read, without tags: the inbound hot path).
pub async fn id_by_phone(
    conn: &mut Conn,
    ws: WorkspaceId,
    phone: &str,
) -> anyhow::Result<Option<(ContactId, Option<String>)>> {
    let row: Option<(String, Option<String>)> =
        sqlx::query_as("SELECT id, name FROM contacts WHERE workspace_id = $1 AND phone = $2")
            .bind(ws.to_string())
            .bind(phone)
            .fetch_optional(conn)
            .await?;
    row.map(|(id, name)| Ok((parse_id(&id)?, name))).transpose()
}

/// Every contact of the workspace, oldest first, a page at a time (export).
pub async fn page_after(
    conn: &mut Conn,
    ws: WorkspaceId,
    after: Option<ContactId>,
    limit: i64,
) -> anyhow::Result<Vec<Contact>> {
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM contacts WHERE workspace_id = $1 AND ($2 IS NULL OR id > $2) ORDER BY id LIMIT $3"
    ))
    .bind(ws.to_string())
    .bind(after.map(|a| a.to_string()))
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    with_tags(conn, ws, rows).await
}

/// Marks a contact opted out (kept from the first time); true if it was
/// not opted out before.
pub async fn opt_out(
    conn: &mut Conn,
    ws: WorkspaceId,
    id: ContactId,
    at: i64,
) -> anyhow::Result<bool> {
    let done = sqlx::query(
        "UPDATE contacts SET opted_out_at = $1, updated_at = $1 \
         WHERE workspace_id = $2 AND id = $3 AND opted_out_at IS NULL",
    )
    .bind(at)
    .bind(ws.to_string())
    .bind(id.to_string())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
