//! People who can sign in. Users are instance-wide; what they may see is
//! decided by their memberships.

use blazz_domain::{Email, UserId};

use crate::{now_ms, parse_id, Conn};

#[derive(Debug, Clone)]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub totp_secret: Option<String>,
    pub totp_enabled_at: Option<i64>,
    /// The language the member reads the web app in (`en`, `id`); `None`
    /// follows the browser.
    pub language: Option<String>,
    pub created_at: i64,
}

impl User {
    pub fn totp_enabled(&self) -> bool {
        self.totp_enabled_at.is_some()
    }
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    email: String,
    name: String,
    password_hash: String,
    totp_secret: Option<String>,
    totp_enabled_at: Option<i64>,
    language: Option<String>,
    created_at: i64,
}

impl TryFrom<Row> for User {
    type Error = anyhow::Error;

    fn try_from(r: Row) -> anyhow::Result<Self> {
        Ok(User {
            id: parse_id(&r.id)?,
            email: r.email,
            name: r.name,
            password_hash: r.password_hash,
            totp_secret: r.totp_secret,
            totp_enabled_at: r.totp_enabled_at,
            language: r.language,
            created_at: r.created_at,
        })
    }
}

const COLUMNS: &str =
    "id, email, name, password_hash, totp_secret, totp_enabled_at, language, created_at";

/// Inserts a user; a duplicate e-mail is a unique violation the caller maps.
pub async fn create(
    conn: &mut Conn,
    email: &Email,
    name: &str,
    password_hash: &str,
) -> sqlx::Result<User> {
    let user = User {
        id: UserId::new(),
        email: email.as_str().to_string(),
        name: name.to_string(),
        password_hash: password_hash.to_string(),
        totp_secret: None,
        totp_enabled_at: None,
        language: None,
        created_at: now_ms(),
    };
    sqlx::query(
        "INSERT INTO users (id, email, name, password_hash, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(user.id.to_string())
    .bind(&user.email)
    .bind(&user.name)
    .bind(&user.password_hash)
    .bind(user.created_at)
    .execute(conn)
    .await?;
    Ok(user)
}

pub async fn count(conn: &mut Conn) -> anyhow::Result<i64> {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM users")
        .fetch_one(conn)
        .await?;
    Ok(n)
}

pub async fn find(conn: &mut Conn, id: UserId) -> anyhow::Result<Option<User>> {
    let row: Option<Row> = sqlx::query_as(&format!("SELECT {COLUMNS} FROM users WHERE id = $1"))
        .bind(id.to_string())
        .fetch_optional(conn)
        .await?;
    row.map(User::try_from).transpose()
}

pub async fn find_by_email(conn: &mut Conn, email: &Email) -> anyhow::Result<Option<User>> {
    let row: Option<Row> = sqlx::query_as(&format!("SELECT {COLUMNS} FROM users WHERE email = $1"))
        .bind(email.as_str())
        .fetch_optional(conn)
        .await?;
    row.map(User::try_from).transpose()
}

pub async fn set_password(conn: &mut Conn, id: UserId, password_hash: &str) -> anyhow::Result<()> {
    sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
        .bind(password_hash)
        .bind(id.to_string())
        .execute(conn)
        .await?;
    Ok(())
}

/// Changes the member's name and page language (`None`: the browser's).
pub async fn set_profile(
    conn: &mut Conn,
    id: UserId,
    name: &str,
    language: Option<&str>,
) -> anyhow::Result<()> {
    sqlx::query("UPDATE users SET name = $1, language = $2 WHERE id = $3")
        .bind(name)
        .bind(language)
        .bind(id.to_string())
        .execute(conn)
        .await?;
    Ok(())
}

/// Stores a TOTP secret that is not yet confirmed (setup in progress).
pub async fn set_pending_totp(conn: &mut Conn, id: UserId, secret: &str) -> anyhow::Result<()> {
    sqlx::query("UPDATE users SET totp_secret = $1, totp_enabled_at = NULL WHERE id = $2")
        .bind(secret)
        .bind(id.to_string())
        .execute(conn)
        .await?;
    Ok(())
}

/// Confirms TOTP and replaces the user's recovery codes with `code_hashes`.
pub async fn enable_totp(
    conn: &mut Conn,
    id: UserId,
    code_hashes: &[String],
) -> anyhow::Result<()> {
    sqlx::query("UPDATE users SET totp_enabled_at = $1 WHERE id = $2 AND totp_secret IS NOT NULL")
        .bind(now_ms())
        .bind(id.to_string())
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
        .bind(id.to_string())
        .execute(&mut *conn)
        .await?;
    for hash in code_hashes {
        sqlx::query("INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)")
            .bind(id.to_string())
            .bind(hash)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

pub async fn disable_totp(conn: &mut Conn, id: UserId) -> anyhow::Result<()> {
    sqlx::query("UPDATE users SET totp_secret = NULL, totp_enabled_at = NULL WHERE id = $1")
        .bind(id.to_string())
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
        .bind(id.to_string())
        .execute(conn)
        .await?;
    Ok(())
}

/// Spends a recovery code: true exactly once per code.
pub async fn use_recovery_code(
    conn: &mut Conn,
    id: UserId,
    code_hash: &str,
) -> anyhow::Result<bool> {
    let done = sqlx::query(
        "UPDATE recovery_codes SET used_at = $1 WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL",
    )
    .bind(now_ms())
    .bind(id.to_string())
    .bind(code_hash)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn unused_recovery_codes(conn: &mut Conn, id: UserId) -> anyhow::Result<i64> {
    let (n,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL",
    )
    .bind(id.to_string())
    .fetch_one(conn)
    .await?;
    Ok(n)
}

/// Records that the TOTP code of `step` was used: true only for a step
/// later than any used before, so a code (seen over a shoulder, say)
/// cannot sign in twice.
pub async fn use_totp_step(conn: &mut Conn, id: UserId, step: i64) -> anyhow::Result<bool> {
    let done = sqlx::query(
        "UPDATE users SET totp_last_step = $1 WHERE id = $2 \
         AND (totp_last_step IS NULL OR totp_last_step < $1)",
    )
    .bind(step)
    .bind(id.to_string())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
