//! The engine's `ProtocolStore`, all public values: sender-key distribution
//! per group device, retry base keys and group metadata here; LID mappings
//! and device lists in `mappings.rs`; tc tokens, sent messages and pending
//! inbound in `messages.rs`.

use whatsapp_rust::wacore::store::traits::{
    DeviceListRecord, LidPnMappingEntry, PendingInboundKey, PendingInboundRow, ProtocolStore,
    TcTokenEntry,
};

use super::{db_err, placeholders, Result, WaStore, CHUNK};

impl WaStore {
    async fn delete_text_key(&self, table: &str, column: &str, value: &str) -> Result<()> {
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
}

#[async_trait::async_trait]
impl ProtocolStore for WaStore {
    async fn get_sender_key_devices(&self, group_jid: &str) -> Result<Vec<(String, bool)>> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT device_jid, has_key FROM wa_sender_key_devices \
             WHERE account_id = $1 AND group_jid = $2 ORDER BY device_jid",
        )
        .bind(&self.account_id)
        .bind(group_jid)
        .fetch_all(&self.db.pool)
        .await
        .map_err(db_err)?;
        Ok(rows.into_iter().map(|(jid, has)| (jid, has != 0)).collect())
    }

    async fn set_sender_key_status(&self, group_jid: &str, entries: &[(&str, bool)]) -> Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut tx = self.db.begin().await.map_err(db_err)?;
        for (device_jid, has_key) in entries {
            sqlx::query(
                "INSERT INTO wa_sender_key_devices (account_id, group_jid, device_jid, has_key) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (account_id, group_jid, device_jid) \
                 DO UPDATE SET has_key = excluded.has_key",
            )
            .bind(&self.account_id)
            .bind(group_jid)
            .bind(*device_jid)
            .bind(i64::from(*has_key))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)
    }

    async fn clear_sender_key_devices(&self, group_jid: &str) -> Result<()> {
        self.delete_text_key("wa_sender_key_devices", "group_jid", group_jid)
            .await
    }

    async fn delete_sender_key_device_rows(&self, device_jids: &[&str]) -> Result<()> {
        if device_jids.is_empty() {
            return Ok(());
        }
        let mut tx = self.db.begin().await.map_err(db_err)?;
        for chunk in device_jids.chunks(CHUNK) {
            let sql = format!(
                "DELETE FROM wa_sender_key_devices WHERE account_id = $1 AND device_jid IN ({})",
                placeholders(2, chunk.len())
            );
            let mut q = sqlx::query(&sql).bind(&self.account_id);
            for jid in chunk {
                q = q.bind(*jid);
            }
            q.execute(&mut *tx).await.map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)
    }

    async fn clear_all_sender_key_devices(&self) -> Result<()> {
        sqlx::query("DELETE FROM wa_sender_key_devices WHERE account_id = $1")
            .bind(&self.account_id)
            .execute(&self.db.writer)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn get_lid_mapping(&self, lid: &str) -> Result<Option<LidPnMappingEntry>> {
        self.lid_get(lid).await
    }

    async fn get_pn_mapping(&self, phone: &str) -> Result<Option<LidPnMappingEntry>> {
        self.lid_of_phone(phone).await
    }

    async fn put_lid_mapping(&self, entry: &LidPnMappingEntry) -> Result<()> {
        self.lid_put_one(entry).await
    }

    async fn put_lid_mappings(&self, entries: &[LidPnMappingEntry]) -> Result<()> {
        self.lid_put_many(entries).await
    }

    async fn get_all_lid_mappings(&self) -> Result<Vec<LidPnMappingEntry>> {
        self.lid_all().await
    }

    async fn save_base_key(&self, address: &str, message_id: &str, base_key: &[u8]) -> Result<()> {
        sqlx::query(
            "INSERT INTO wa_base_keys (account_id, address, message_id, base_key, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (account_id, address, message_id) DO UPDATE \
             SET base_key = excluded.base_key, created_at = excluded.created_at",
        )
        .bind(&self.account_id)
        .bind(address)
        .bind(message_id)
        .bind(base_key.to_vec())
        .bind(blazz_store::now_ms())
        .execute(&self.db.writer)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn has_same_base_key(
        &self,
        address: &str,
        message_id: &str,
        current: &[u8],
    ) -> Result<bool> {
        let row: Option<(Vec<u8>,)> = sqlx::query_as(
            "SELECT base_key FROM wa_base_keys WHERE account_id = $1 AND address = $2 AND message_id = $3",
        )
        .bind(&self.account_id)
        .bind(address)
        .bind(message_id)
        .fetch_optional(&self.db.pool)
        .await
        .map_err(db_err)?;
        Ok(row.is_some_and(|(stored,)| stored == current))
    }

    async fn delete_base_key(&self, address: &str, message_id: &str) -> Result<()> {
        sqlx::query(
            "DELETE FROM wa_base_keys WHERE account_id = $1 AND address = $2 AND message_id = $3",
        )
        .bind(&self.account_id)
        .bind(address)
        .bind(message_id)
        .execute(&self.db.writer)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn update_device_list(&self, record: DeviceListRecord) -> Result<()> {
        self.devices_put_one(&record).await
    }

    async fn update_device_lists(&self, records: Vec<DeviceListRecord>) -> Result<()> {
        self.devices_put_many(&records).await
    }

    async fn get_devices(&self, user: &str) -> Result<Option<DeviceListRecord>> {
        self.devices_get(user).await
    }

    async fn delete_devices(&self, user: &str) -> Result<()> {
        self.delete_text_key("wa_device_lists", "user_id", user)
            .await
    }

    async fn get_group_metadata(&self, group_jid: &str) -> Result<Option<Vec<u8>>> {
        let row: Option<(Vec<u8>,)> = sqlx::query_as(
            "SELECT info FROM wa_group_metadata WHERE account_id = $1 AND group_jid = $2",
        )
        .bind(&self.account_id)
        .bind(group_jid)
        .fetch_optional(&self.db.pool)
        .await
        .map_err(db_err)?;
        Ok(row.map(|(info,)| info))
    }

    async fn put_group_metadata(&self, group_jid: &str, blob: &[u8]) -> Result<()> {
        sqlx::query(
            "INSERT INTO wa_group_metadata (account_id, group_jid, info, updated_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (account_id, group_jid) DO UPDATE \
             SET info = excluded.info, updated_at = excluded.updated_at",
        )
        .bind(&self.account_id)
        .bind(group_jid)
        .bind(blob.to_vec())
        .bind(blazz_store::now_ms())
        .execute(&self.db.writer)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn delete_group_metadata(&self, group_jid: &str) -> Result<()> {
        self.delete_text_key("wa_group_metadata", "group_jid", group_jid)
            .await
    }

    async fn get_tc_token(&self, jid: &str) -> Result<Option<TcTokenEntry>> {
        self.tc_get(jid).await
    }

    async fn put_tc_token(&self, jid: &str, entry: &TcTokenEntry) -> Result<()> {
        self.tc_put(jid, entry).await
    }

    async fn delete_tc_token(&self, jid: &str) -> Result<()> {
        self.delete_text_key("wa_tc_tokens", "jid", jid).await
    }

    async fn get_all_tc_token_jids(&self) -> Result<Vec<String>> {
        self.tc_all_jids().await
    }

    async fn delete_expired_tc_tokens(&self, token_cutoff: i64, sender_cutoff: i64) -> Result<u32> {
        self.tc_delete_expired(token_cutoff, sender_cutoff).await
    }

    async fn touch_tc_token_sender_timestamp(
        &self,
        jid: &str,
        sender_timestamp: i64,
    ) -> Result<()> {
        self.tc_touch_sender(jid, sender_timestamp).await
    }

    async fn store_received_tc_token(
        &self,
        jid: &str,
        token: &[u8],
        token_timestamp: i64,
    ) -> Result<()> {
        self.tc_store_received(jid, token, token_timestamp).await
    }

    async fn store_sent_message(
        &self,
        chat_jid: &str,
        message_id: &str,
        payload: &[u8],
    ) -> Result<()> {
        self.sent_store(chat_jid, message_id, payload).await
    }

    async fn take_sent_message(&self, chat_jid: &str, message_id: &str) -> Result<Option<Vec<u8>>> {
        self.sent_take(chat_jid, message_id).await
    }

    async fn delete_expired_sent_messages(&self, cutoff_timestamp: i64) -> Result<u32> {
        self.delete_older("wa_sent_messages", cutoff_timestamp)
            .await
    }

    async fn store_pending_inbound(
        &self,
        chat: &str,
        sender: &str,
        id: &str,
        message: &[u8],
    ) -> Result<()> {
        self.pending_store(&[PendingInboundRow {
            chat,
            sender,
            id,
            message,
        }])
        .await
    }

    async fn get_pending_inbound(
        &self,
        chat: &str,
        sender: &str,
        id: &str,
    ) -> Result<Option<Vec<u8>>> {
        self.pending_get(&PendingInboundKey { chat, sender, id })
            .await
    }

    async fn delete_pending_inbound(&self, chat: &str, sender: &str, id: &str) -> Result<()> {
        self.pending_remove(&[PendingInboundKey { chat, sender, id }])
            .await
    }

    async fn delete_expired_pending_inbound(&self, cutoff_timestamp: i64) -> Result<u32> {
        self.delete_older("wa_pending_inbound", cutoff_timestamp)
            .await
    }

    async fn store_pending_inbound_batch(&self, rows: &[PendingInboundRow<'_>]) -> Result<()> {
        self.pending_store(rows).await
    }

    async fn delete_pending_inbound_batch(&self, keys: &[PendingInboundKey<'_>]) -> Result<()> {
        self.pending_remove(keys).await
    }
}
