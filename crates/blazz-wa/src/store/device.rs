//! The device: identity and noise key pairs, signed prekey, adv secret,
//! the account signature and the engine's counters, sealed whole as JSON.
//! One per Blazz account.

use std::sync::Arc;

use whatsapp_rust::wacore::store::device::DEVICE_PROPS;
use whatsapp_rust::wacore::store::traits::DeviceStore;
use whatsapp_rust::wacore::store::Device;
use whatsapp_rust::ClientProfile;

use super::{db_err, decode_err, Result, WaStore};

const DEVICES: &str = "wa_devices";

/// The numeric id the engine asks `create` for. A store holds exactly one
/// device (its account's), so the id is constant; the engine only logs it.
pub const DEVICE_ID: i32 = 1;

impl WaStore {
    /// Seals `device` and writes it; with `replace` false an existing
    /// device is kept (creating twice must not change its keys).
    async fn write_device(&self, device: &Device, replace: bool) -> Result<()> {
        // The clear JSON holds private keys: wiped once sealed.
        let json = zeroize::Zeroizing::new(
            serde_json::to_vec(device).map_err(|e| decode_err("the device", e))?,
        );
        let s = self.seal(DEVICES, &[], &json)?;
        let on_conflict = if replace {
            "DO UPDATE SET pn = excluded.pn, lid = excluded.lid, key_id = excluded.key_id, \
             sealed = excluded.sealed, updated_at = excluded.updated_at"
        } else {
            "DO NOTHING"
        };
        let now = blazz_store::now_ms();
        sqlx::query(&format!(
            "INSERT INTO wa_devices (account_id, pn, lid, key_id, sealed, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (account_id) {on_conflict}"
        ))
        .bind(&self.account_id)
        .bind(device.pn.as_ref().map(|j| j.to_string()))
        .bind(device.lid.as_ref().map(|j| j.to_string()))
        .bind(&s.key_id)
        .bind(&s.sealed)
        .bind(now)
        .execute(&self.db.writer)
        .await
        .map_err(db_err)?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl DeviceStore for WaStore {
    async fn save(&self, device: &Device) -> Result<()> {
        self.write_device(device, true).await
    }

    async fn load(&self) -> Result<Option<Device>> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT sealed FROM wa_devices WHERE account_id = $1")
                .bind(&self.account_id)
                .fetch_optional(&self.db.pool)
                .await
                .map_err(db_err)?;
        let Some((sealed,)) = row else {
            return Ok(None);
        };
        let json = zeroize::Zeroizing::new(self.open(DEVICES, &[], &sealed)?);
        let mut device: Device =
            serde_json::from_slice(&json).map_err(|e| decode_err("the device", e))?;
        // Runtime-only fields are not stored: start from the engine's
        // defaults, as a fresh device does (the bot builder applies any
        // overrides after loading).
        device.device_props = Arc::new(DEVICE_PROPS.clone());
        device.client_profile = ClientProfile::web();
        Ok(Some(device))
    }

    async fn exists(&self) -> Result<bool> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT account_id FROM wa_devices WHERE account_id = $1")
                .bind(&self.account_id)
                .fetch_optional(&self.db.pool)
                .await
                .map_err(db_err)?;
        Ok(row.is_some())
    }

    /// Writes a fresh device (new key pairs) unless the account has one.
    async fn create(&self) -> Result<i32> {
        self.write_device(&Device::new(), false).await?;
        Ok(DEVICE_ID)
    }
}
