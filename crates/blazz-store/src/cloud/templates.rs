//! A Cloud number's message templates, as Meta knows them: synced from the
//! business account, created through Blazz, and updated by Meta's
//! `message_template_status_update` webhook.

use blazz_domain::{AccountId, WorkspaceId};
use uuid::Uuid;

use crate::{now_ms, parse_id, Conn};

#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    pub id: Uuid,
    pub workspace_id: WorkspaceId,
    pub account_id: AccountId,
    /// Meta's id, once Meta knows the template.
    pub meta_id: Option<String>,
    pub name: String,
    pub language: String,
    pub category: Option<String>,
    /// APPROVED, PENDING, REJECTED, PAUSED, DISABLED, ...
    pub status: String,
    /// POSITIONAL (`{{1}}`) or NAMED (`{{name}}`).
    pub parameter_format: String,
    /// Meta's `components` array, as JSON.
    pub components: serde_json::Value,
    /// Why Meta rejected or paused it.
    pub reason: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    workspace_id: String,
    account_id: String,
    meta_id: Option<String>,
    name: String,
    language: String,
    category: Option<String>,
    status: String,
    parameter_format: String,
    components: String,
    reason: Option<String>,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<Row> for Template {
    type Error = anyhow::Error;

    fn try_from(r: Row) -> anyhow::Result<Self> {
        Ok(Template {
            id: parse_id(&r.id)?,
            workspace_id: parse_id(&r.workspace_id)?,
            account_id: parse_id(&r.account_id)?,
            meta_id: r.meta_id,
            name: r.name,
            language: r.language,
            category: r.category,
            status: r.status,
            parameter_format: r.parameter_format,
            components: serde_json::from_str(&r.components).unwrap_or(serde_json::Value::Null),
            reason: r.reason,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

const COLUMNS: &str = "id, workspace_id, account_id, meta_id, name, language, category, status, \
    parameter_format, components, reason, created_at, updated_at";

/// Stores a template, or updates the one of the same number, name and
/// language; answers the stored row.
pub async fn upsert(conn: &mut Conn, t: &Template) -> anyhow::Result<Template> {
    let now = now_ms();
    sqlx::query(
        "INSERT INTO cloud_templates (id, workspace_id, account_id, meta_id, name, language, category, \
         status, parameter_format, components, reason, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) \
         ON CONFLICT (account_id, name, language) DO UPDATE SET meta_id = COALESCE($4, cloud_templates.meta_id), \
         category = $7, status = $8, parameter_format = $9, components = $10, reason = $11, updated_at = $12",
    )
    .bind(t.id.to_string())
    .bind(t.workspace_id.to_string())
    .bind(t.account_id.to_string())
    .bind(t.meta_id.clone())
    .bind(&t.name)
    .bind(&t.language)
    .bind(t.category.clone())
    .bind(&t.status)
    .bind(&t.parameter_format)
    .bind(t.components.to_string())
    .bind(t.reason.clone())
    .bind(now)
    .execute(&mut *conn)
    .await?;
    by_name(conn, t.workspace_id, t.account_id, &t.name, &t.language)
        .await?
        .ok_or_else(|| anyhow::anyhow!("a template vanished as it was stored"))
}

pub async fn find(conn: &mut Conn, ws: WorkspaceId, id: Uuid) -> anyhow::Result<Option<Template>> {
    let row: Option<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM cloud_templates WHERE workspace_id = $1 AND id = $2"
    ))
    .bind(ws.to_string())
    .bind(id.to_string())
    .fetch_optional(conn)
    .await?;
    row.map(Template::try_from).transpose()
}

pub async fn by_name(
    conn: &mut Conn,
    ws: WorkspaceId,
    account: AccountId,
    name: &str,
    language: &str,
) -> anyhow::Result<Option<Template>> {
    let row: Option<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM cloud_templates WHERE workspace_id = $1 AND account_id = $2 \
         AND name = $3 AND language = $4"
    ))
    .bind(ws.to_string())
    .bind(account.to_string())
    .bind(name)
    .bind(language)
    .fetch_optional(conn)
    .await?;
    row.map(Template::try_from).transpose()
}

/// The workspace's templates, of one number or all, by name and language.
pub async fn list(
    conn: &mut Conn,
    ws: WorkspaceId,
    account: Option<AccountId>,
) -> anyhow::Result<Vec<Template>> {
    let by_number = if account.is_some() {
        "AND account_id = $2"
    } else {
        ""
    };
    let sql = format!(
        "SELECT {COLUMNS} FROM cloud_templates WHERE workspace_id = $1 {by_number} \
         ORDER BY name, language, id"
    );
    let mut q = sqlx::query_as::<_, Row>(&sql).bind(ws.to_string());
    if let Some(a) = account {
        q = q.bind(a.to_string());
    }
    let rows = q.fetch_all(conn).await?;
    rows.into_iter().map(Template::try_from).collect()
}

pub async fn delete(conn: &mut Conn, ws: WorkspaceId, id: Uuid) -> sqlx::Result<bool> {
    let done = sqlx::query("DELETE FROM cloud_templates WHERE workspace_id = $1 AND id = $2")
        .bind(ws.to_string())
        .bind(id.to_string())
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Applies a status Meta reports for its template `meta_id` (on the numbers
/// of `accounts`); answers the templates that changed.
pub async fn set_status_by_meta_id(
    conn: &mut Conn,
    accounts: &[AccountId],
    meta_id: &str,
    status: &str,
    reason: Option<&str>,
) -> anyhow::Result<Vec<Template>> {
    let mut changed = Vec::new();
    for account in accounts {
        let done = sqlx::query(
            "UPDATE cloud_templates SET status = $1, reason = $2, updated_at = $3 \
             WHERE account_id = $4 AND meta_id = $5",
        )
        .bind(status)
        .bind(reason)
        .bind(now_ms())
        .bind(account.to_string())
        .bind(meta_id)
        .execute(&mut *conn)
        .await?;
        if done.rows_affected() > 0 {
            let rows: Vec<Row> = sqlx::query_as(&format!(
                "SELECT {COLUMNS} FROM cloud_templates WHERE account_id = $1 AND meta_id = $2"
            ))
            .bind(account.to_string())
            .bind(meta_id)
            .fetch_all(&mut *conn)
            .await?;
            for r in rows {
                changed.push(Template::try_from(r)?);
            }
        }
    }
    Ok(changed)
}
