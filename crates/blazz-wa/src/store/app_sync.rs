//! App-state sync: the sync keys (key data sealed), each collection's
//! version and LT-hash, and the value MACs of its mutations.

use std::collections::HashMap;

use whatsapp_rust::wacore::appstate::hash::HashState;
use whatsapp_rust::wacore::appstate::processor::AppStateMutationMAC;
use whatsapp_rust::wacore::store::traits::{AppStateSyncKey, AppSyncStore};

use super::{db_err, decode_err, placeholders, Result, WaStore, CHUNK};

const KEYS: &str = "wa_app_state_keys";

#[async_trait::async_trait]
impl AppSyncStore for WaStore {
    async fn get_sync_key(&self, key_id: &[u8]) -> Result<Option<AppStateSyncKey>> {
        let row: Option<(Vec<u8>, i64, String)> = sqlx::query_as(
            "SELECT fingerprint, key_secs, sealed FROM wa_app_state_keys \
             WHERE account_id = $1 AND sync_key_id = $2",
        )
        .bind(&self.account_id)
        .bind(key_id.to_vec())
        .fetch_optional(&self.db.pool)
        .await
        .map_err(db_err)?;
        row.map(|(fingerprint, timestamp, sealed)| {
            Ok(AppStateSyncKey {
                key_data: self.open(KEYS, &[key_id], &sealed)?,
                fingerprint,
                timestamp,
            })
        })
        .transpose()
    }

    async fn set_sync_key(&self, key_id: &[u8], key: AppStateSyncKey) -> Result<()> {
        let s = self.seal(KEYS, &[key_id], &key.key_data)?;
        sqlx::query(
            "INSERT INTO wa_app_state_keys (account_id, sync_key_id, fingerprint, key_secs, key_id, sealed) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (account_id, sync_key_id) DO UPDATE \
             SET fingerprint = excluded.fingerprint, key_secs = excluded.key_secs, \
             key_id = excluded.key_id, sealed = excluded.sealed",
        )
        .bind(&self.account_id)
        .bind(key_id.to_vec())
        .bind(key.fingerprint)
        .bind(key.timestamp)
        .bind(&s.key_id)
        .bind(&s.sealed)
        .execute(&self.db.writer)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn get_version(&self, name: &str) -> Result<HashState> {
        let row: Option<(i64, Vec<u8>, Vec<u8>, i64)> = sqlx::query_as(
            "SELECT version, hash, index_values, mac_mismatch FROM wa_app_state_versions \
             WHERE account_id = $1 AND collection = $2",
        )
        .bind(&self.account_id)
        .bind(name)
        .fetch_optional(&self.db.pool)
        .await
        .map_err(db_err)?;
        let Some((version, hash, index_values, mac_mismatch)) = row else {
            return Ok(HashState::default());
        };
        // Every field named: a new one in the engine fails the build here
        // instead of being dropped silently.
        Ok(HashState {
            version: u64::try_from(version)
                .map_err(|_| decode_err("an app-state version", version))?,
            hash: <[u8; 128]>::try_from(hash.as_slice())
                .map_err(|_| decode_err("an app-state hash", format!("{} bytes", hash.len())))?,
            index_value_map: decode_index_values(&index_values)?,
            mac_mismatch_fatal: mac_mismatch != 0,
        })
    }

    async fn set_version(&self, name: &str, state: HashState) -> Result<()> {
        let version = i64::try_from(state.version)
            .map_err(|_| decode_err("an app-state version", state.version))?;
        sqlx::query(
            "INSERT INTO wa_app_state_versions (account_id, collection, version, hash, index_values, mac_mismatch) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (account_id, collection) DO UPDATE \
             SET version = excluded.version, hash = excluded.hash, \
             index_values = excluded.index_values, mac_mismatch = excluded.mac_mismatch",
        )
        .bind(&self.account_id)
        .bind(name)
        .bind(version)
        .bind(state.hash.to_vec())
        .bind(encode_index_values(&state.index_value_map))
        .bind(i64::from(state.mac_mismatch_fatal))
        .execute(&self.db.writer)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn put_mutation_macs(
        &self,
        name: &str,
        version: u64,
        mutations: &[AppStateMutationMAC],
    ) -> Result<()> {
        if mutations.is_empty() {
            return Ok(());
        }
        let version =
            i64::try_from(version).map_err(|_| decode_err("an app-state version", version))?;
        let mut tx = self.db.begin().await.map_err(db_err)?;
        for m in mutations {
            sqlx::query(
                "INSERT INTO wa_app_state_macs (account_id, collection, index_mac, version, value_mac) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (account_id, collection, index_mac) DO UPDATE \
                 SET version = excluded.version, value_mac = excluded.value_mac",
            )
            .bind(&self.account_id)
            .bind(name)
            .bind(m.index_mac.clone())
            .bind(version)
            .bind(m.value_mac.clone())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)
    }

    async fn get_mutation_mac(&self, name: &str, index_mac: &[u8]) -> Result<Option<Vec<u8>>> {
        let row: Option<(Vec<u8>,)> = sqlx::query_as(
            "SELECT value_mac FROM wa_app_state_macs \
             WHERE account_id = $1 AND collection = $2 AND index_mac = $3",
        )
        .bind(&self.account_id)
        .bind(name)
        .bind(index_mac.to_vec())
        .fetch_optional(&self.db.pool)
        .await
        .map_err(db_err)?;
        Ok(row.map(|(mac,)| mac))
    }

    async fn get_mutation_macs(
        &self,
        name: &str,
        index_macs: &[[u8; 32]],
    ) -> Result<HashMap<[u8; 32], Vec<u8>>> {
        let mut out = HashMap::with_capacity(index_macs.len());
        for chunk in index_macs.chunks(CHUNK) {
            let sql = format!(
                "SELECT index_mac, value_mac FROM wa_app_state_macs \
                 WHERE account_id = $1 AND collection = $2 AND index_mac IN ({})",
                placeholders(3, chunk.len())
            );
            let mut q = sqlx::query_as::<_, (Vec<u8>, Vec<u8>)>(&sql)
                .bind(&self.account_id)
                .bind(name);
            for mac in chunk {
                q = q.bind(mac.to_vec());
            }
            for (index, value) in q.fetch_all(&self.db.pool).await.map_err(db_err)? {
                if let Ok(index) = <[u8; 32]>::try_from(index.as_slice()) {
                    out.insert(index, value);
                }
            }
        }
        Ok(out)
    }

    async fn delete_mutation_macs(&self, name: &str, index_macs: &[Vec<u8>]) -> Result<()> {
        if index_macs.is_empty() {
            return Ok(());
        }
        let mut tx = self.db.begin().await.map_err(db_err)?;
        for chunk in index_macs.chunks(CHUNK) {
            let sql = format!(
                "DELETE FROM wa_app_state_macs \
                 WHERE account_id = $1 AND collection = $2 AND index_mac IN ({})",
                placeholders(3, chunk.len())
            );
            let mut q = sqlx::query(&sql).bind(&self.account_id).bind(name);
            for mac in chunk {
                q = q.bind(mac.clone());
            }
            q.execute(&mut *tx).await.map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)
    }

    async fn clear_mutation_macs(&self, name: &str) -> Result<()> {
        sqlx::query("DELETE FROM wa_app_state_macs WHERE account_id = $1 AND collection = $2")
            .bind(&self.account_id)
            .bind(name)
            .execute(&self.db.writer)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    /// The newest key is the one with the highest id: WhatsApp's key ids
    /// grow with each key the phone shares, and a late copy of an old key
    /// must not become "latest" again.
    async fn get_latest_sync_key_id(&self) -> Result<Option<Vec<u8>>> {
        let row: Option<(Vec<u8>,)> = sqlx::query_as(
            "SELECT sync_key_id FROM wa_app_state_keys WHERE account_id = $1 \
             ORDER BY sync_key_id DESC LIMIT 1",
        )
        .bind(&self.account_id)
        .fetch_optional(&self.db.pool)
        .await
        .map_err(db_err)?;
        Ok(row.map(|(id,)| id))
    }
}

/// `index_value_map` as (key length, key, value length, value) records,
/// lengths as 4-byte big-endian, in key order so equal maps encode equally.
fn encode_index_values(map: &HashMap<String, Vec<u8>>) -> Vec<u8> {
    let mut entries: Vec<(&String, &Vec<u8>)> = map.iter().collect();
    entries.sort();
    let mut out = Vec::with_capacity(entries.iter().map(|(k, v)| 8 + k.len() + v.len()).sum());
    for (key, value) in entries {
        for field in [key.as_bytes(), value.as_slice()] {
            out.extend_from_slice(&(field.len() as u32).to_be_bytes());
            out.extend_from_slice(field);
        }
    }
    out
}

fn decode_index_values(mut bytes: &[u8]) -> Result<HashMap<String, Vec<u8>>> {
    let bad = || decode_err("app-state index values", "truncated");
    let take = |bytes: &mut &[u8]| -> Result<Vec<u8>> {
        let (len, rest) = bytes.split_first_chunk::<4>().ok_or_else(bad)?;
        let len = u32::from_be_bytes(*len) as usize;
        let field = rest.get(..len).ok_or_else(bad)?.to_vec();
        *bytes = &rest[len..];
        Ok(field)
    };
    let mut map = HashMap::new();
    while !bytes.is_empty() {
        let key = String::from_utf8(take(&mut bytes)?)
            .map_err(|e| decode_err("an app-state index", e))?;
        let value = take(&mut bytes)?;
        map.insert(key, value);
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_values_round_trip_and_reject_truncation() {
        let map: HashMap<String, Vec<u8>> = [
            ("a".to_string(), vec![1, 2, 3]),
            (String::new(), vec![]),
            ("ключ".to_string(), vec![0; 32]),
        ]
        .into_iter()
        .collect();
        let bytes = encode_index_values(&map);
        assert_eq!(decode_index_values(&bytes).unwrap(), map);
        assert!(decode_index_values(&bytes[..bytes.len() - 1]).is_err());
        assert!(decode_index_values(&[0, 0]).is_err());
        assert!(decode_index_values(&[]).unwrap().is_empty());
    }
}
