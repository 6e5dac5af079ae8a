//! Signal state: remote identities (plain), sessions, prekeys, signed
//! prekeys and sender keys (sealed). Batches are one transaction each.

use std::collections::HashMap;
use std::sync::Arc;

use whatsapp_rust::bytes::Bytes;
use whatsapp_rust::wacore::store::traits::SignalStore;

use super::{db_err, decode_err, id32, id64, placeholders, Result, WaStore, CHUNK};

const SESSIONS: &str = "wa_sessions";
const SENDER_KEYS: &str = "wa_sender_keys";
const PREKEYS: &str = "wa_prekeys";
const SIGNED_PREKEYS: &str = "wa_signed_prekeys";

impl WaStore {
    /// Upserts a sealed record of a table keyed by address (sessions,
    /// sender keys).
    async fn put_by_address(
        &self,
        conn: &mut sqlx::AnyConnection,
        table: &str,
        address: &str,
        record: &[u8],
    ) -> Result<()> {
        let s = self.seal(table, &[address.as_bytes()], record)?;
        sqlx::query(&format!(
            "INSERT INTO {table} (account_id, address, key_id, sealed, updated_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (account_id, address) DO UPDATE \
             SET key_id = excluded.key_id, sealed = excluded.sealed, updated_at = excluded.updated_at"
        ))
        .bind(&self.account_id)
        .bind(address)
        .bind(&s.key_id)
        .bind(&s.sealed)
        .bind(blazz_store::now_ms())
        .execute(conn)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    /// Writes many records of an address-keyed table in one transaction,
    /// in address order so that two concurrent batches lock rows in the
    /// same order (no deadlock on PostgreSQL).
    async fn put_by_address_batch(&self, table: &str, records: &[(Arc<str>, Bytes)]) -> Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        let mut sorted: Vec<&(Arc<str>, Bytes)> = records.iter().collect();
        sorted.sort_by(|a, b| a.0.cmp(&b.0));
        let mut tx = self.db.begin().await.map_err(db_err)?;
        for (address, record) in sorted {
            self.put_by_address(&mut tx, table, address, record).await?;
        }
        tx.commit().await.map_err(db_err)
    }

    async fn get_by_address(&self, table: &str, address: &str) -> Result<Option<Vec<u8>>> {
        let row: Option<(String,)> = sqlx::query_as(&format!(
            "SELECT sealed FROM {table} WHERE account_id = $1 AND address = $2"
        ))
        .bind(&self.account_id)
        .bind(address)
        .fetch_optional(&self.db.pool)
        .await
        .map_err(db_err)?;
        row.map(|(sealed,)| self.open(table, &[address.as_bytes()], &sealed))
            .transpose()
    }

    /// Deletes the account's row of `table` whose `column` is `value`.
    async fn delete_where<T>(&self, table: &str, column: &str, value: T) -> Result<()>
    where
        T: for<'q> sqlx::Encode<'q, sqlx::Any> + sqlx::Type<sqlx::Any> + Send,
    {
        sqlx::query(&format!(
            "DELETE FROM {table} WHERE account_id = $1 AND {column} = $2"
        ))
        .bind(&self.account_id)
        .bind(value)
        .execute(&self.db.writer)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn put_prekey(
        &self,
        conn: &mut sqlx::AnyConnection,
        id: u32,
        record: &[u8],
        uploaded: bool,
    ) -> Result<()> {
        let s = self.seal(PREKEYS, &[&id.to_be_bytes()], record)?;
        sqlx::query(
            "INSERT INTO wa_prekeys (account_id, prekey_id, uploaded, key_id, sealed) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (account_id, prekey_id) DO UPDATE \
             SET uploaded = excluded.uploaded, key_id = excluded.key_id, sealed = excluded.sealed",
        )
        .bind(&self.account_id)
        .bind(id64(id))
        .bind(i64::from(uploaded))
        .bind(&s.key_id)
        .bind(&s.sealed)
        .execute(conn)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    /// Whether `table` has an address of `user` on any device
    /// (`user@server` or `user:device@server`). Compared by prefix with
    /// `substr`, not `LIKE`, which SQLite matches without case.
    async fn has_address_of(&self, table: &str, user: &str) -> Result<bool> {
        let n = user.chars().count() + 1;
        let row: Option<(String,)> = sqlx::query_as(&format!(
            "SELECT address FROM {table} WHERE account_id = $1 \
             AND (substr(address, 1, {n}) = $2 OR substr(address, 1, {n}) = $3) LIMIT 1"
        ))
        .bind(&self.account_id)
        .bind(format!("{user}@"))
        .bind(format!("{user}:"))
        .fetch_optional(&self.db.pool)
        .await
        .map_err(db_err)?;
        Ok(row.is_some())
    }
}

#[async_trait::async_trait]
impl SignalStore for WaStore {
    async fn put_identity(&self, address: &str, key: [u8; 32]) -> Result<()> {
        let mut conn = self.db.write().await.map_err(db_err)?;
        put_identity(&mut conn, &self.account_id, address, &key).await
    }

    async fn put_identities_batch(&self, identities: &[(Arc<str>, [u8; 32])]) -> Result<()> {
        if identities.is_empty() {
            return Ok(());
        }
        let mut sorted: Vec<&(Arc<str>, [u8; 32])> = identities.iter().collect();
        sorted.sort_by(|a, b| a.0.cmp(&b.0));
        let mut tx = self.db.begin().await.map_err(db_err)?;
        for (address, key) in sorted {
            put_identity(&mut tx, &self.account_id, address, key).await?;
        }
        tx.commit().await.map_err(db_err)
    }

    async fn load_identity(&self, address: &str) -> Result<Option<[u8; 32]>> {
        let row: Option<(Vec<u8>,)> = sqlx::query_as(
            "SELECT identity_key FROM wa_identities WHERE account_id = $1 AND address = $2",
        )
        .bind(&self.account_id)
        .bind(address)
        .fetch_optional(&self.db.pool)
        .await
        .map_err(db_err)?;
        row.map(|(key,)| {
            <[u8; 32]>::try_from(key.as_slice())
                .map_err(|_| decode_err("an identity key", format!("{} bytes", key.len())))
        })
        .transpose()
    }

    async fn delete_identity(&self, address: &str) -> Result<()> {
        self.delete_where("wa_identities", "address", address.to_string())
            .await
    }

    async fn get_session(&self, address: &str) -> Result<Option<Bytes>> {
        Ok(self
            .get_by_address(SESSIONS, address)
            .await?
            .map(Bytes::from))
    }

    async fn put_session(&self, address: &str, session: &[u8]) -> Result<()> {
        let mut conn = self.db.write().await.map_err(db_err)?;
        self.put_by_address(&mut conn, SESSIONS, address, session)
            .await
    }

    async fn put_sessions_batch(&self, sessions: &[(Arc<str>, Bytes)]) -> Result<()> {
        self.put_by_address_batch(SESSIONS, sessions).await
    }

    async fn delete_session(&self, address: &str) -> Result<()> {
        self.delete_where(SESSIONS, "address", address.to_string())
            .await
    }

    async fn has_session(&self, address: &str) -> Result<bool> {
        let row: Option<(String,)> = sqlx::query_as(
            "SELECT address FROM wa_sessions WHERE account_id = $1 AND address = $2",
        )
        .bind(&self.account_id)
        .bind(address)
        .fetch_optional(&self.db.pool)
        .await
        .map_err(db_err)?;
        Ok(row.is_some())
    }

    async fn has_signal_state_for_user(&self, user: &str) -> Result<bool> {
        Ok(self.has_address_of(SESSIONS, user).await?
            || self.has_address_of("wa_identities", user).await?)
    }

    async fn store_prekey(&self, id: u32, record: &[u8], uploaded: bool) -> Result<()> {
        let mut conn = self.db.write().await.map_err(db_err)?;
        self.put_prekey(&mut conn, id, record, uploaded).await
    }

    async fn store_prekeys_batch(&self, keys: &[(u32, Bytes)], uploaded: bool) -> Result<()> {
        if keys.is_empty() {
            return Ok(());
        }
        let mut sorted: Vec<&(u32, Bytes)> = keys.iter().collect();
        sorted.sort_by_key(|k| k.0);
        let mut tx = self.db.begin().await.map_err(db_err)?;
        for (id, record) in sorted {
            self.put_prekey(&mut tx, *id, record, uploaded).await?;
        }
        tx.commit().await.map_err(db_err)
    }

    async fn load_prekey(&self, id: u32) -> Result<Option<Bytes>> {
        Ok(self.load_prekeys_batch(&[id]).await?.pop().map(|(_, r)| r))
    }

    async fn load_prekeys_batch(&self, ids: &[u32]) -> Result<Vec<(u32, Bytes)>> {
        let mut found: HashMap<u32, Bytes> = HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(CHUNK) {
            let sql = format!(
                "SELECT prekey_id, sealed FROM wa_prekeys WHERE account_id = $1 AND prekey_id IN ({})",
                placeholders(2, chunk.len())
            );
            let mut q = sqlx::query_as::<_, (i64, String)>(&sql).bind(&self.account_id);
            for id in chunk {
                q = q.bind(id64(*id));
            }
            for (id, sealed) in q.fetch_all(&self.db.pool).await.map_err(db_err)? {
                let id = id32(id, "a prekey id")?;
                let record = self.open(PREKEYS, &[&id.to_be_bytes()], &sealed)?;
                found.insert(id, Bytes::from(record));
            }
        }
        // In the order asked, like the engine's default.
        Ok(ids
            .iter()
            .filter_map(|id| found.get(id).map(|r| (*id, r.clone())))
            .collect())
    }

    async fn mark_prekeys_uploaded(&self, ids: &[u32]) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        // UPDATE only: a key consumed meanwhile stays deleted.
        let mut tx = self.db.begin().await.map_err(db_err)?;
        for chunk in ids.chunks(CHUNK) {
            let sql = format!(
                "UPDATE wa_prekeys SET uploaded = 1 WHERE account_id = $1 AND prekey_id IN ({})",
                placeholders(2, chunk.len())
            );
            let mut q = sqlx::query(&sql).bind(&self.account_id);
            for id in chunk {
                q = q.bind(id64(*id));
            }
            q.execute(&mut *tx).await.map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)
    }

    async fn remove_prekey(&self, id: u32) -> Result<()> {
        self.delete_where(PREKEYS, "prekey_id", id64(id)).await
    }

    async fn get_max_prekey_id(&self) -> Result<u32> {
        let (max,): (Option<i64>,) =
            sqlx::query_as("SELECT MAX(prekey_id) FROM wa_prekeys WHERE account_id = $1")
                .bind(&self.account_id)
                .fetch_one(&self.db.pool)
                .await
                .map_err(db_err)?;
        id32(max.unwrap_or(0), "a prekey id")
    }

    async fn store_signed_prekey(&self, id: u32, record: &[u8]) -> Result<()> {
        let s = self.seal(SIGNED_PREKEYS, &[&id.to_be_bytes()], record)?;
        sqlx::query(
            "INSERT INTO wa_signed_prekeys (account_id, prekey_id, key_id, sealed) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (account_id, prekey_id) DO UPDATE \
             SET key_id = excluded.key_id, sealed = excluded.sealed",
        )
        .bind(&self.account_id)
        .bind(id64(id))
        .bind(&s.key_id)
        .bind(&s.sealed)
        .execute(&self.db.writer)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn load_signed_prekey(&self, id: u32) -> Result<Option<Vec<u8>>> {
        let row: Option<(String,)> = sqlx::query_as(
            "SELECT sealed FROM wa_signed_prekeys WHERE account_id = $1 AND prekey_id = $2",
        )
        .bind(&self.account_id)
        .bind(id64(id))
        .fetch_optional(&self.db.pool)
        .await
        .map_err(db_err)?;
        row.map(|(sealed,)| self.open(SIGNED_PREKEYS, &[&id.to_be_bytes()], &sealed))
            .transpose()
    }

    async fn load_all_signed_prekeys(&self) -> Result<Vec<(u32, Vec<u8>)>> {
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "SELECT prekey_id, sealed FROM wa_signed_prekeys WHERE account_id = $1 ORDER BY prekey_id",
        )
        .bind(&self.account_id)
        .fetch_all(&self.db.pool)
        .await
        .map_err(db_err)?;
        rows.into_iter()
            .map(|(id, sealed)| {
                let id = id32(id, "a signed prekey id")?;
                Ok((
                    id,
                    self.open(SIGNED_PREKEYS, &[&id.to_be_bytes()], &sealed)?,
                ))
            })
            .collect()
    }

    async fn remove_signed_prekey(&self, id: u32) -> Result<()> {
        self.delete_where(SIGNED_PREKEYS, "prekey_id", id64(id))
            .await
    }

    async fn put_sender_key(&self, address: &str, record: &[u8]) -> Result<()> {
        let mut conn = self.db.write().await.map_err(db_err)?;
        self.put_by_address(&mut conn, SENDER_KEYS, address, record)
            .await
    }

    async fn put_sender_keys_batch(&self, sender_keys: &[(Arc<str>, Bytes)]) -> Result<()> {
        self.put_by_address_batch(SENDER_KEYS, sender_keys).await
    }

    async fn get_sender_key(&self, address: &str) -> Result<Option<Vec<u8>>> {
        self.get_by_address(SENDER_KEYS, address).await
    }

    async fn delete_sender_key(&self, address: &str) -> Result<()> {
        self.delete_where(SENDER_KEYS, "address", address.to_string())
            .await
    }
}

async fn put_identity(
    conn: &mut sqlx::AnyConnection,
    account_id: &str,
    address: &str,
    key: &[u8; 32],
) -> Result<()> {
    sqlx::query(
        "INSERT INTO wa_identities (account_id, address, identity_key) VALUES ($1, $2, $3) \
         ON CONFLICT (account_id, address) DO UPDATE SET identity_key = excluded.identity_key",
    )
    .bind(account_id)
    .bind(address)
    .bind(key.to_vec())
    .execute(conn)
    .await
    .map_err(db_err)?;
    Ok(())
}
