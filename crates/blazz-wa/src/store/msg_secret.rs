//! Message secrets (sealed): the 32-byte secrets that open reactions, poll
//! votes and edits of a message. A re-write of the same message merges in
//! SQL, as the engine's merge rules say: the later expiry wins with 0
//! ("never") beating any date, and a known parent time is never replaced
//! by 0 or an older one.

use whatsapp_rust::wacore::store::traits::{MsgSecretEntry, MsgSecretStore};

use super::{db_err, Result, WaStore};

const SECRETS: &str = "wa_msg_secrets";

impl WaStore {
    async fn msg_secret_row(
        &self,
        chat: &str,
        sender: &str,
        msg_id: &str,
    ) -> Result<Option<(Vec<u8>, i64)>> {
        let row: Option<(String, i64)> = sqlx::query_as(
            "SELECT sealed, message_secs FROM wa_msg_secrets \
             WHERE account_id = $1 AND chat_jid = $2 AND sender_jid = $3 AND message_id = $4",
        )
        .bind(&self.account_id)
        .bind(chat)
        .bind(sender)
        .bind(msg_id)
        .fetch_optional(&self.db.pool)
        .await
        .map_err(db_err)?;
        row.map(|(sealed, message_ts)| {
            let key: [&[u8]; 3] = [chat.as_bytes(), sender.as_bytes(), msg_id.as_bytes()];
            Ok((self.open(SECRETS, &key, &sealed)?, message_ts))
        })
        .transpose()
    }
}

#[async_trait::async_trait]
impl MsgSecretStore for WaStore {
    async fn put_msg_secrets(&self, mut entries: Vec<MsgSecretEntry>) -> Result<usize> {
        let stored = entries.len();
        if entries.is_empty() {
            return Ok(0);
        }
        // Key order: concurrent batches lock rows in the same order.
        entries
            .sort_by(|a, b| (&a.chat, &a.sender, &a.msg_id).cmp(&(&b.chat, &b.sender, &b.msg_id)));
        let mut tx = self.db.begin().await.map_err(db_err)?;
        for e in &entries {
            let key: [&[u8]; 3] = [e.chat.as_bytes(), e.sender.as_bytes(), e.msg_id.as_bytes()];
            let s = self.seal(SECRETS, &key, &e.secret)?;
            sqlx::query(
                "INSERT INTO wa_msg_secrets (account_id, chat_jid, sender_jid, message_id, \
                 expires_secs, message_secs, key_id, sealed) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 ON CONFLICT (account_id, chat_jid, sender_jid, message_id) DO UPDATE SET \
                 expires_secs = CASE WHEN wa_msg_secrets.expires_secs = 0 OR excluded.expires_secs = 0 THEN 0 \
                 WHEN excluded.expires_secs > wa_msg_secrets.expires_secs THEN excluded.expires_secs \
                 ELSE wa_msg_secrets.expires_secs END, \
                 message_secs = CASE WHEN excluded.message_secs > wa_msg_secrets.message_secs \
                 THEN excluded.message_secs ELSE wa_msg_secrets.message_secs END, \
                 key_id = excluded.key_id, sealed = excluded.sealed",
            )
            .bind(&self.account_id)
            .bind(&*e.chat)
            .bind(&*e.sender)
            .bind(&*e.msg_id)
            .bind(e.expires_at)
            .bind(e.message_ts)
            .bind(&s.key_id)
            .bind(&s.sealed)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)?;
        Ok(stored)
    }

    async fn get_msg_secret(
        &self,
        chat: &str,
        sender: &str,
        msg_id: &str,
    ) -> Result<Option<Vec<u8>>> {
        Ok(self
            .msg_secret_row(chat, sender, msg_id)
            .await?
            .map(|(secret, _)| secret))
    }

    async fn get_msg_secret_with_ts(
        &self,
        chat: &str,
        sender: &str,
        msg_id: &str,
    ) -> Result<Option<(Vec<u8>, i64)>> {
        self.msg_secret_row(chat, sender, msg_id).await
    }

    /// Rows with a deadline at or before `cutoff_timestamp`; 0 never expires.
    async fn delete_expired_msg_secrets(&self, cutoff_timestamp: i64) -> Result<u32> {
        let done = sqlx::query(
            "DELETE FROM wa_msg_secrets WHERE account_id = $1 AND expires_secs <> 0 AND expires_secs <= $2",
        )
        .bind(&self.account_id)
        .bind(cutoff_timestamp)
        .execute(&self.db.writer)
        .await
        .map_err(db_err)?;
        Ok(u32::try_from(done.rows_affected()).unwrap_or(u32::MAX))
    }
}
