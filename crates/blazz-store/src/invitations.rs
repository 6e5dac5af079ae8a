//! Invitations: a pending offer of membership, redeemed once through a link
//! that carries a random secret (stored hashed).

use blazz_domain::{InvitationId, Role, UserId, WorkspaceId};

use crate::{now_ms, parse_id, secret_hash, Conn};

#[derive(Debug, Clone)]
pub struct Invitation {
    pub id: InvitationId,
    pub workspace_id: WorkspaceId,
    pub email: String,
    pub role: Role,
    pub invited_by: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
    pub accepted_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

impl Invitation {
    pub fn status(&self, now: i64) -> &'static str {
        if self.accepted_at.is_some() {
            "accepted"
        } else if self.revoked_at.is_some() {
            "revoked"
        } else if self.expires_at <= now {
            "expired"
        } else {
            "pending"
        }
    }
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    workspace_id: String,
    email: String,
    role: String,
    invited_by: Option<String>,
    created_at: i64,
    expires_at: i64,
    accepted_at: Option<i64>,
    revoked_at: Option<i64>,
}

impl TryFrom<Row> for Invitation {
    type Error = anyhow::Error;

    fn try_from(r: Row) -> anyhow::Result<Self> {
        Ok(Invitation {
            id: parse_id(&r.id)?,
            workspace_id: parse_id(&r.workspace_id)?,
            email: r.email,
            role: r.role.parse()?,
            invited_by: r.invited_by,
            created_at: r.created_at,
            expires_at: r.expires_at,
            accepted_at: r.accepted_at,
            revoked_at: r.revoked_at,
        })
    }
}

const COLUMNS: &str =
    "id, workspace_id, email, role, invited_by, created_at, expires_at, accepted_at, revoked_at";

pub struct NewInvitation<'a> {
    pub email: &'a str,
    pub role: Role,
    pub invited_by: Option<UserId>,
    pub secret: &'a str,
    pub ttl_ms: i64,
}

pub async fn create(
    conn: &mut Conn,
    ws: WorkspaceId,
    new: NewInvitation<'_>,
) -> anyhow::Result<Invitation> {
    let now = now_ms();
    let inv = Invitation {
        id: InvitationId::new(),
        workspace_id: ws,
        email: new.email.to_string(),
        role: new.role,
        invited_by: new.invited_by.map(|u| u.to_string()),
        created_at: now,
        expires_at: now + new.ttl_ms,
        accepted_at: None,
        revoked_at: None,
    };
    sqlx::query(
        "INSERT INTO invitations (id, workspace_id, email, role, token_hash, invited_by, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(inv.id.to_string())
    .bind(ws.to_string())
    .bind(&inv.email)
    .bind(inv.role.as_str())
    .bind(secret_hash(new.secret))
    .bind(inv.invited_by.clone())
    .bind(inv.created_at)
    .bind(inv.expires_at)
    .execute(conn)
    .await?;
    Ok(inv)
}

pub async fn list(conn: &mut Conn, ws: WorkspaceId) -> anyhow::Result<Vec<Invitation>> {
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM invitations WHERE workspace_id = $1 ORDER BY id DESC"
    ))
    .bind(ws.to_string())
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(Invitation::try_from).collect()
}

pub async fn find(
    conn: &mut Conn,
    ws: WorkspaceId,
    id: InvitationId,
) -> anyhow::Result<Option<Invitation>> {
    let row: Option<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM invitations WHERE workspace_id = $1 AND id = $2"
    ))
    .bind(ws.to_string())
    .bind(id.to_string())
    .fetch_optional(conn)
    .await?;
    row.map(Invitation::try_from).transpose()
}

/// Looks an invitation up by the secret from its link (any workspace: the
/// secret itself is the proof of being invited).
pub async fn find_by_secret(conn: &mut Conn, secret: &str) -> anyhow::Result<Option<Invitation>> {
    let row: Option<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM invitations WHERE token_hash = $1"
    ))
    .bind(secret_hash(secret))
    .fetch_optional(conn)
    .await?;
    row.map(Invitation::try_from).transpose()
}

pub async fn revoke(conn: &mut Conn, ws: WorkspaceId, id: InvitationId) -> anyhow::Result<bool> {
    let done = sqlx::query(
        "UPDATE invitations SET revoked_at = $1 \
         WHERE workspace_id = $2 AND id = $3 AND accepted_at IS NULL AND revoked_at IS NULL",
    )
    .bind(now_ms())
    .bind(ws.to_string())
    .bind(id.to_string())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Marks the invitation used; false if it was already used, revoked or
/// expired (so two tabs cannot redeem one link twice).
pub async fn mark_accepted(conn: &mut Conn, id: InvitationId) -> anyhow::Result<bool> {
    let now = now_ms();
    let done = sqlx::query(
        "UPDATE invitations SET accepted_at = $1 \
         WHERE id = $2 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $1",
    )
    .bind(now)
    .bind(id.to_string())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
