//! Blazz's store: one schema and one set of runtime queries over SQLite
//! (default) and PostgreSQL, through sqlx's `Any` driver. Integers are
//! 64-bit and times are unix milliseconds so that every query reads the
//! same on both; where the dialects must differ, `Dialect` picks.
//!
//! Every workspace-scoped function takes the `WorkspaceId` it is scoped to:
//! a read of another tenant's row finds nothing.

pub mod accounts;
pub mod audit;
pub mod campaigns;
pub mod canned;
pub mod chats;
pub mod cloud;
pub mod contacts;
pub mod db;
pub mod invitations;
pub mod jobs;
pub mod media;
pub mod members;
pub mod messages;
pub mod outbox;
pub mod realtime;
pub mod secrets;
pub mod sessions;
pub mod tokens;
pub mod users;
pub mod webhooks;
pub mod workspaces;

mod time;

pub use db::{Db, Dialect};
pub use sqlx::AnyConnection as Conn;
pub use time::now_ms;

/// Hex SHA-256 of a secret; tokens, invitation links and session ids are
/// stored only in this form. Their 256 bits of entropy make a plain hash
/// enough (no password-style stretching needed).
pub fn secret_hash(secret: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(secret.as_bytes()))
}

/// `s` as a literal inside a `LIKE ... ESCAPE '\'` pattern: `%`, `_` and
/// `\` lose their special meaning.
pub fn like_escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// Whether an error is a unique-constraint violation (on either dialect).
pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Database(db) => {
            db.is_unique_violation()
                || db.code().as_deref() == Some("23505")
                || db.message().contains("UNIQUE constraint failed")
        }
        _ => false,
    }
}

/// Reads an id column into its typed id; a malformed id in the database is
/// a store error, not a client one.
pub(crate) fn parse_id<T: std::str::FromStr>(raw: &str) -> anyhow::Result<T> {
    raw.parse()
        .map_err(|_| anyhow::anyhow!("malformed id {raw:?} in the database"))
}
