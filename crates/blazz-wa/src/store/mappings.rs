//! Who is who: LID <-> phone number mappings and users' device lists,
//! both public. Called from the `ProtocolStore` impl.

use whatsapp_rust::wacore::store::traits::{DeviceInfo, DeviceListRecord, LidPnMappingEntry};

use super::{db_err, decode_err, id32, id64, Result, WaStore};

type LidRow = (String, String, String, i64, i64);

fn lid_entry(
    (lid, phone_number, learning_source, created_at, updated_at): LidRow,
) -> LidPnMappingEntry {
    LidPnMappingEntry {
        lid,
        phone_number,
        created_at,
        updated_at,
        learning_source,
    }
}

const LID_COLUMNS: &str = "lid, phone_number, learning_source, created_secs, updated_secs";

impl WaStore {
    async fn put_lid(&self, conn: &mut sqlx::AnyConnection, e: &LidPnMappingEntry) -> Result<()> {
        sqlx::query(&format!(
            "INSERT INTO wa_lid_mappings (account_id, {LID_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (account_id, lid) DO UPDATE SET phone_number = excluded.phone_number, \
             learning_source = excluded.learning_source, created_secs = excluded.created_secs, \
             updated_secs = excluded.updated_secs"
        ))
        .bind(&self.account_id)
        .bind(&e.lid)
        .bind(&e.phone_number)
        .bind(&e.learning_source)
        .bind(e.created_at)
        .bind(e.updated_at)
        .execute(conn)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn put_device_list(
        &self,
        conn: &mut sqlx::AnyConnection,
        r: &DeviceListRecord,
    ) -> Result<()> {
        let devices =
            serde_json::to_string(&r.devices).map_err(|e| decode_err("a device list", e))?;
        sqlx::query(
            "INSERT INTO wa_device_lists (account_id, user_id, devices, list_secs, phash, raw_id) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (account_id, user_id) DO UPDATE \
             SET devices = excluded.devices, list_secs = excluded.list_secs, \
             phash = excluded.phash, raw_id = excluded.raw_id",
        )
        .bind(&self.account_id)
        .bind(&r.user)
        .bind(devices)
        .bind(r.timestamp)
        .bind(r.phash.clone())
        .bind(r.raw_id.map(id64))
        .execute(conn)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    pub(super) async fn lid_get(&self, lid: &str) -> Result<Option<LidPnMappingEntry>> {
        let row: Option<LidRow> = sqlx::query_as(&format!(
            "SELECT {LID_COLUMNS} FROM wa_lid_mappings WHERE account_id = $1 AND lid = $2"
        ))
        .bind(&self.account_id)
        .bind(lid)
        .fetch_optional(&self.db.pool)
        .await
        .map_err(db_err)?;
        Ok(row.map(lid_entry))
    }

    /// The most recently updated LID of a phone number.
    pub(super) async fn lid_of_phone(&self, phone: &str) -> Result<Option<LidPnMappingEntry>> {
        let row: Option<LidRow> = sqlx::query_as(&format!(
            "SELECT {LID_COLUMNS} FROM wa_lid_mappings WHERE account_id = $1 AND phone_number = $2 \
             ORDER BY updated_secs DESC, created_secs DESC, lid DESC LIMIT 1"
        ))
        .bind(&self.account_id)
        .bind(phone)
        .fetch_optional(&self.db.pool)
        .await
        .map_err(db_err)?;
        Ok(row.map(lid_entry))
    }

    pub(super) async fn lid_put_one(&self, entry: &LidPnMappingEntry) -> Result<()> {
        let mut conn = self.db.write().await.map_err(db_err)?;
        self.put_lid(&mut conn, entry).await
    }

    pub(super) async fn lid_put_many(&self, entries: &[LidPnMappingEntry]) -> Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut tx = self.db.begin().await.map_err(db_err)?;
        for entry in entries {
            self.put_lid(&mut tx, entry).await?;
        }
        tx.commit().await.map_err(db_err)
    }

    pub(super) async fn lid_all(&self) -> Result<Vec<LidPnMappingEntry>> {
        let rows: Vec<LidRow> = sqlx::query_as(&format!(
            "SELECT {LID_COLUMNS} FROM wa_lid_mappings WHERE account_id = $1 ORDER BY lid"
        ))
        .bind(&self.account_id)
        .fetch_all(&self.db.pool)
        .await
        .map_err(db_err)?;
        Ok(rows.into_iter().map(lid_entry).collect())
    }

    pub(super) async fn devices_put_one(&self, record: &DeviceListRecord) -> Result<()> {
        let mut conn = self.db.write().await.map_err(db_err)?;
        self.put_device_list(&mut conn, record).await
    }

    pub(super) async fn devices_put_many(&self, records: &[DeviceListRecord]) -> Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        let mut tx = self.db.begin().await.map_err(db_err)?;
        for record in records {
            self.put_device_list(&mut tx, record).await?;
        }
        tx.commit().await.map_err(db_err)
    }

    pub(super) async fn devices_get(&self, user: &str) -> Result<Option<DeviceListRecord>> {
        let row: Option<(String, i64, Option<String>, Option<i64>)> = sqlx::query_as(
            "SELECT devices, list_secs, phash, raw_id FROM wa_device_lists \
             WHERE account_id = $1 AND user_id = $2",
        )
        .bind(&self.account_id)
        .bind(user)
        .fetch_optional(&self.db.pool)
        .await
        .map_err(db_err)?;
        let Some((devices, timestamp, phash, raw_id)) = row else {
            return Ok(None);
        };
        let devices: Vec<DeviceInfo> =
            serde_json::from_str(&devices).map_err(|e| decode_err("a device list", e))?;
        Ok(Some(DeviceListRecord {
            user: user.to_string(),
            devices,
            timestamp,
            phash,
            raw_id: raw_id
                .map(|id| id32(id, "a device list raw id"))
                .transpose()?,
        }))
    }
}
