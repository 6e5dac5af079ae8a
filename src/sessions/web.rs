//! The WhatsApp Web provider as Blazz runs it: each number's device keys
//! and Signal state in Blazz's own store (`blazz_wa::store`), sealed under
//! the same master keys as every other secret.

use std::sync::Arc;

use blazz_store::Db;
use blazz_wa::store::{Sealer, WaStore};
use blazz_wa::{Backends, WebOptions, WebProvider};
use whatsapp_rust::store::traits::Backend;

use crate::config::WebConfig;
use crate::secrets::LiveKeyring;

/// Seals WhatsApp Web keys with the process's keyring.
struct KeyringSealer(Arc<LiveKeyring>);

impl Sealer for KeyringSealer {
    fn seal(&self, aad: &[u8], plain: &[u8]) -> anyhow::Result<String> {
        Ok(self.0.seal(aad, plain)?)
    }

    fn open(&self, aad: &[u8], sealed: &str) -> anyhow::Result<Vec<u8>> {
        Ok(self.0.open(aad, sealed)?.to_vec())
    }
}

/// Every account's WhatsApp Web store, in Blazz's database.
pub struct StoreBackends {
    db: Db,
    sealer: Arc<dyn Sealer>,
}

#[async_trait::async_trait]
impl Backends for StoreBackends {
    async fn open(&self, account_id: &str) -> anyhow::Result<Arc<dyn Backend>> {
        Ok(Arc::new(WaStore::new(
            self.db.clone(),
            account_id.to_string(),
            self.sealer.clone(),
        )))
    }

    async fn forget(&self, account_id: &str) -> anyhow::Result<()> {
        blazz_wa::store::forget(&self.db, account_id).await
    }
}

/// The provider for `web` numbers. `options` reach another WhatsApp server
/// than WhatsApp's own (tests and benchmarks); `config.server_url` fills
/// the address when they do not say.
pub fn provider(
    db: &Db,
    keyring: Arc<LiveKeyring>,
    config: &WebConfig,
    mut options: WebOptions,
) -> WebProvider {
    if options.server_url.is_none() {
        options.server_url = config.server_url.clone();
    }
    if options.device_name.is_none() {
        options.device_name = Some(config.device_name.clone());
    }
    let backends = StoreBackends {
        db: db.clone(),
        sealer: Arc::new(KeyringSealer(keyring)),
    };
    WebProvider::new(Arc::new(backends), options)
}
