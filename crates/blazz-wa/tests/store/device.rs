//! The device row: created once, saved and loaded whole, and driven by
//! the engine's own persistence manager.

use std::sync::Arc;

use whatsapp_rust::wacore::store::traits::{Backend, DeviceStore};
use whatsapp_rust::wacore::store::PersistenceManager;
use whatsapp_rust::Jid;

use crate::env::{conformance, Env};

conformance! {
    a_device_is_created_once_then_saved_and_loaded_whole => device_round_trip;
}

/// The persisted form of a device, to compare two of them.
fn persisted(d: &whatsapp_rust::wacore::store::Device) -> serde_json::Value {
    serde_json::to_value(d).unwrap()
}

async fn device_round_trip(b: &dyn Backend) {
    assert!(!b.exists().await.unwrap());
    assert!(b.load().await.unwrap().is_none());
    b.create().await.unwrap();
    assert!(b.exists().await.unwrap());
    let first = b.load().await.unwrap().unwrap();
    // Creating again keeps the keys.
    b.create().await.unwrap();
    assert_eq!(
        persisted(&b.load().await.unwrap().unwrap()),
        persisted(&first)
    );

    let mut device = first.clone();
    device.push_name = "Blazz Support".into();
    device.pn = Some("15550001234@s.whatsapp.net".parse::<Jid>().unwrap());
    device.next_pre_key_id = 812;
    device.login_counter = 3;
    b.save(&device).await.unwrap();
    let got = b.load().await.unwrap().unwrap();
    assert_eq!(persisted(&got), persisted(&device));
    assert_eq!(got.push_name, "Blazz Support");
    assert_eq!(
        got.device_props.os.as_deref(),
        Some("rust"),
        "runtime defaults restored"
    );
}

#[tokio::test]
async fn the_engine_creates_then_reloads_the_same_device_through_the_store() {
    for mut env in Env::all().await {
        let store: Arc<dyn Backend> = Arc::new(env.store());
        let pm = PersistenceManager::new(store).await.unwrap();
        let created = pm.get_device_snapshot().await;
        pm.modify_device(|d| d.push_name = "after pairing".into())
            .await;
        let store: Arc<dyn Backend> = Arc::new(env.store());
        store.save(&pm.get_device_snapshot().await).await.unwrap();
        drop(pm);

        env.restart().await;
        let again: Arc<dyn Backend> = Arc::new(env.store());
        let pm = PersistenceManager::new(again).await.unwrap();
        let loaded = pm.get_device_snapshot().await;
        assert_eq!(
            loaded.identity_key.public_key.serialize(),
            created.identity_key.public_key.serialize()
        );
        assert_eq!(loaded.adv_secret_key, created.adv_secret_key);
        assert_eq!(loaded.push_name, "after pairing");
        // The other account has no device yet.
        assert!(!DeviceStore::exists(&env.store_of(&env.other))
            .await
            .unwrap());
        env.finish().await;
    }
}
