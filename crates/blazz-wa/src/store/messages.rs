//! Per-message protocol state: trusted-contact tokens, sent payloads kept
//! for retry receipts, and the pending-inbound buffer behind the engine's
//! at-least-once inbound hook. Called from the `ProtocolStore` impl.
//!
//! The tc-token writers are single upserts, so the sender-side and the
//! receiving-side writers of one row can race without losing either's
//! field (the engine's defaults are read-modify-writes).

use whatsapp_rust::wacore::store::traits::{PendingInboundKey, PendingInboundRow, TcTokenEntry};

use super::{db_err, Result, WaStore};

/// Unix seconds (the protocol's cutoffs) as our millisecond timestamps.
fn secs_to_ms(secs: i64) -> i64 {
    secs.saturating_mul(1000)
}

fn count(rows: u64) -> u32 {
    u32::try_from(rows).unwrap_or(u32::MAX)
}

impl WaStore {
    pub(super) async fn tc_get(&self, jid: &str) -> Result<Option<TcTokenEntry>> {
        let row: Option<(Vec<u8>, i64, Option<i64>)> = sqlx::query_as(
            "SELECT token, token_secs, sender_secs FROM wa_tc_tokens WHERE account_id = $1 AND jid = $2",
        )
        .bind(&self.account_id)
        .bind(jid)
        .fetch_optional(&self.db.pool)
        .await
        .map_err(db_err)?;
        Ok(
            row.map(|(token, token_timestamp, sender_timestamp)| TcTokenEntry {
                token,
                token_timestamp,
                sender_timestamp,
            }),
        )
    }

    pub(super) async fn tc_put(&self, jid: &str, entry: &TcTokenEntry) -> Result<()> {
        sqlx::query(
            "INSERT INTO wa_tc_tokens (account_id, jid, token, token_secs, sender_secs) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (account_id, jid) DO UPDATE \
             SET token = excluded.token, token_secs = excluded.token_secs, sender_secs = excluded.sender_secs",
        )
        .bind(&self.account_id)
        .bind(jid)
        .bind(entry.token.clone())
        .bind(entry.token_timestamp)
        .bind(entry.sender_timestamp)
        .execute(&self.db.writer)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    pub(super) async fn tc_all_jids(&self) -> Result<Vec<String>> {
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT jid FROM wa_tc_tokens WHERE account_id = $1 ORDER BY jid")
                .bind(&self.account_id)
                .fetch_all(&self.db.pool)
                .await
                .map_err(db_err)?;
        Ok(rows.into_iter().map(|(jid,)| jid).collect())
    }

    /// A row goes only when both its received token and its sender bucket
    /// are stale (or absent).
    pub(super) async fn tc_delete_expired(
        &self,
        token_cutoff: i64,
        sender_cutoff: i64,
    ) -> Result<u32> {
        let done = sqlx::query(
            "DELETE FROM wa_tc_tokens WHERE account_id = $1 \
             AND (length(token) = 0 OR token_secs < $2) \
             AND (sender_secs IS NULL OR sender_secs < $3)",
        )
        .bind(&self.account_id)
        .bind(token_cutoff)
        .bind(sender_cutoff)
        .execute(&self.db.writer)
        .await
        .map_err(db_err)?;
        Ok(count(done.rows_affected()))
    }

    /// Moves the sender bucket forward only (max), inserting a token-less
    /// placeholder when the contact has no row; the token is untouched.
    pub(super) async fn tc_touch_sender(&self, jid: &str, sender_timestamp: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO wa_tc_tokens (account_id, jid, token, token_secs, sender_secs) \
             VALUES ($1, $2, $3, $4, $4) ON CONFLICT (account_id, jid) DO UPDATE \
             SET sender_secs = CASE WHEN wa_tc_tokens.sender_secs IS NULL \
             OR excluded.sender_secs > wa_tc_tokens.sender_secs \
             THEN excluded.sender_secs ELSE wa_tc_tokens.sender_secs END",
        )
        .bind(&self.account_id)
        .bind(jid)
        .bind(Vec::<u8>::new())
        .bind(sender_timestamp)
        .execute(&self.db.writer)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    /// Newer wins: replaces the token unless the stored one is real and
    /// fresher; the sender bucket is untouched.
    pub(super) async fn tc_store_received(
        &self,
        jid: &str,
        token: &[u8],
        token_timestamp: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO wa_tc_tokens (account_id, jid, token, token_secs, sender_secs) \
             VALUES ($1, $2, $3, $4, NULL) ON CONFLICT (account_id, jid) DO UPDATE \
             SET token = excluded.token, token_secs = excluded.token_secs \
             WHERE length(wa_tc_tokens.token) = 0 OR excluded.token_secs >= wa_tc_tokens.token_secs",
        )
        .bind(&self.account_id)
        .bind(jid)
        .bind(token.to_vec())
        .bind(token_timestamp)
        .execute(&self.db.writer)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    pub(super) async fn sent_store(&self, chat: &str, id: &str, payload: &[u8]) -> Result<()> {
        sqlx::query(
            "INSERT INTO wa_sent_messages (account_id, chat_jid, message_id, payload, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (account_id, chat_jid, message_id) DO UPDATE \
             SET payload = excluded.payload, created_at = excluded.created_at",
        )
        .bind(&self.account_id)
        .bind(chat)
        .bind(id)
        .bind(payload.to_vec())
        .bind(blazz_store::now_ms())
        .execute(&self.db.writer)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    /// Deletes and returns in one statement: two retry receipts for the
    /// same message cannot both take it.
    pub(super) async fn sent_take(&self, chat: &str, id: &str) -> Result<Option<Vec<u8>>> {
        let row: Option<(Vec<u8>,)> = sqlx::query_as(
            "DELETE FROM wa_sent_messages WHERE account_id = $1 AND chat_jid = $2 AND message_id = $3 \
             RETURNING payload",
        )
        .bind(&self.account_id)
        .bind(chat)
        .bind(id)
        .fetch_optional(&self.db.writer)
        .await
        .map_err(db_err)?;
        Ok(row.map(|(payload,)| payload))
    }

    pub(super) async fn delete_older(&self, table: &str, cutoff_secs: i64) -> Result<u32> {
        let done = sqlx::query(&format!(
            "DELETE FROM {table} WHERE account_id = $1 AND created_at < $2"
        ))
        .bind(&self.account_id)
        .bind(secs_to_ms(cutoff_secs))
        .execute(&self.db.writer)
        .await
        .map_err(db_err)?;
        Ok(count(done.rows_affected()))
    }

    async fn pending_put(
        &self,
        conn: &mut sqlx::AnyConnection,
        row: &PendingInboundRow<'_>,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO wa_pending_inbound (account_id, chat_jid, sender_jid, message_id, message, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (account_id, chat_jid, sender_jid, message_id) \
             DO UPDATE SET message = excluded.message, created_at = excluded.created_at",
        )
        .bind(&self.account_id)
        .bind(row.chat)
        .bind(row.sender)
        .bind(row.id)
        .bind(row.message.to_vec())
        .bind(blazz_store::now_ms())
        .execute(conn)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn pending_delete(
        &self,
        conn: &mut sqlx::AnyConnection,
        key: &PendingInboundKey<'_>,
    ) -> Result<()> {
        sqlx::query(
            "DELETE FROM wa_pending_inbound \
             WHERE account_id = $1 AND chat_jid = $2 AND sender_jid = $3 AND message_id = $4",
        )
        .bind(&self.account_id)
        .bind(key.chat)
        .bind(key.sender)
        .bind(key.id)
        .execute(conn)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    /// Buffers decrypted inbound messages, all or none.
    pub(super) async fn pending_store(&self, rows: &[PendingInboundRow<'_>]) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let mut tx = self.db.begin().await.map_err(db_err)?;
        for row in rows {
            self.pending_put(&mut tx, row).await?;
        }
        tx.commit().await.map_err(db_err)
    }

    pub(super) async fn pending_get(&self, key: &PendingInboundKey<'_>) -> Result<Option<Vec<u8>>> {
        let row: Option<(Vec<u8>,)> = sqlx::query_as(
            "SELECT message FROM wa_pending_inbound \
             WHERE account_id = $1 AND chat_jid = $2 AND sender_jid = $3 AND message_id = $4",
        )
        .bind(&self.account_id)
        .bind(key.chat)
        .bind(key.sender)
        .bind(key.id)
        .fetch_optional(&self.db.pool)
        .await
        .map_err(db_err)?;
        Ok(row.map(|(message,)| message))
    }

    pub(super) async fn pending_remove(&self, keys: &[PendingInboundKey<'_>]) -> Result<()> {
        if keys.is_empty() {
            return Ok(());
        }
        let mut tx = self.db.begin().await.map_err(db_err)?;
        for key in keys {
            self.pending_delete(&mut tx, key).await?;
        }
        tx.commit().await.map_err(db_err)
    }
}
