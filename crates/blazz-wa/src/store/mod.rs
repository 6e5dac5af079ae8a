//! whatsapp-rust's storage `Backend` on Blazz's database: a linked number's
//! device keys, Signal state and protocol caches live in the `wa_*` tables
//! (migration 0013), keyed by the Blazz account, on SQLite or PostgreSQL.
//! Private values are sealed by the app's `Sealer` before they are written.
//!
//! One `WaStore` serves one account; at most one process may run an
//! account at a time (the engine caches Signal state in memory), which the
//! session engine's ownership lease guarantees, not this store.

mod app_sync;
mod device;
mod mappings;
mod messages;
mod msg_secret;
mod protocol;
mod seal;
mod signal;

use std::sync::Arc;

use blazz_store::Db;
use whatsapp_rust::wacore::store::error::StoreError;

pub use seal::Sealer;

pub(crate) type Result<T> = std::result::Result<T, StoreError>;

/// Every table of the store, children first (the order `forget` deletes in).
pub const TABLES: &[&str] = &[
    "wa_msg_secrets",
    "wa_pending_inbound",
    "wa_sent_messages",
    "wa_tc_tokens",
    "wa_group_metadata",
    "wa_device_lists",
    "wa_base_keys",
    "wa_lid_mappings",
    "wa_sender_key_devices",
    "wa_app_state_macs",
    "wa_app_state_versions",
    "wa_app_state_keys",
    "wa_sender_keys",
    "wa_signed_prekeys",
    "wa_prekeys",
    "wa_sessions",
    "wa_identities",
    "wa_devices",
];

/// At most this many values in one `IN (...)` list: far below both
/// dialects' limits on bound parameters.
const CHUNK: usize = 500;

/// The storage backend of one linked number.
#[derive(Clone)]
pub struct WaStore {
    db: Db,
    account_id: String,
    sealer: Arc<dyn Sealer>,
}

impl std::fmt::Debug for WaStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WaStore")
            .field("account_id", &self.account_id)
            .field("dialect", &self.db.dialect)
            .finish_non_exhaustive()
    }
}

/// A sealed value and the key it names.
struct Sealed {
    key_id: String,
    sealed: String,
}

impl WaStore {
    /// The store of account `account_id` (a row of `accounts`).
    pub fn new(db: Db, account_id: String, sealer: Arc<dyn Sealer>) -> Self {
        Self {
            db,
            account_id,
            sealer,
        }
    }

    pub fn account_id(&self) -> &str {
        &self.account_id
    }

    /// Seals `plain` for the row `key` of `table`.
    fn seal(&self, table: &str, key: &[&[u8]], plain: &[u8]) -> Result<Sealed> {
        let aad = seal::binding(&self.account_id, table, key);
        let sealed = self.sealer.seal(&aad, plain).map_err(|e| {
            StoreError::Serialization(e.context(format!("sealing a row of {table}")).into())
        })?;
        Ok(Sealed {
            key_id: self.sealer.key_id(&sealed).to_string(),
            sealed,
        })
    }

    /// Opens the sealed value of the row `key` of `table`. A value that
    /// does not open (another key, another row) is an error, never "absent":
    /// treating it as missing would make the engine replace live keys.
    fn open(&self, table: &str, key: &[&[u8]], sealed: &str) -> Result<Vec<u8>> {
        let aad = seal::binding(&self.account_id, table, key);
        self.sealer.open(&aad, sealed).map_err(|e| {
            StoreError::Serialization(e.context(format!("opening a row of {table}")).into())
        })
    }
}

/// Deletes everything stored for an account's WhatsApp Web device (at
/// logout, or before the account is deleted), in one transaction.
pub async fn forget(db: &Db, account_id: &str) -> anyhow::Result<()> {
    let mut tx = db.begin().await?;
    for table in TABLES {
        sqlx::query(&format!("DELETE FROM {table} WHERE account_id = $1"))
            .bind(account_id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

fn db_err(e: sqlx::Error) -> StoreError {
    StoreError::Database(Box::new(e))
}

fn decode_err(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Serialization(format!("decoding {what}: {e}").into())
}

/// `$from, $from+1, ...` for `n` bound values.
fn placeholders(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A u32 id of the protocol as the BIGINT it is stored as.
fn id64(id: u32) -> i64 {
    i64::from(id)
}

/// A BIGINT id read back; outside u32 it is corrupt.
fn id32(id: i64, what: &str) -> Result<u32> {
    u32::try_from(id).map_err(|_| decode_err(what, format!("id {id} out of range")))
}

#[cfg(test)]
mod tests {
    #[test]
    fn placeholders_number_from_the_given_index() {
        assert_eq!(super::placeholders(2, 3), "$2, $3, $4");
        assert_eq!(super::placeholders(1, 1), "$1");
    }
}
