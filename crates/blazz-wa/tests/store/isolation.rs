//! Accounts never see each other's rows; `forget` empties one account;
//! batches are all or nothing.

use std::sync::Arc;

use blazz_wa::store::{forget, TABLES};
use whatsapp_rust::bytes::Bytes;
use whatsapp_rust::wacore::store::traits::{
    AppSyncStore, DeviceStore, LidPnMappingEntry, MsgSecretStore, ProtocolStore, SignalStore,
    TcTokenEntry,
};

use crate::env::{Env, POISON};

/// Writes one row of every kind.
async fn fill(s: &blazz_wa::store::WaStore) {
    s.create().await.unwrap();
    s.put_identity("a@lid", [1; 32]).await.unwrap();
    s.put_session("a@lid", b"s").await.unwrap();
    s.store_prekey(1, b"p", false).await.unwrap();
    s.store_signed_prekey(1, b"sp").await.unwrap();
    s.put_sender_key("g:a:0", b"sk").await.unwrap();
    let key = whatsapp_rust::wacore::store::traits::AppStateSyncKey::default();
    s.set_sync_key(b"k", key).await.unwrap();
    s.set_version("regular", Default::default()).await.unwrap();
    let mac = whatsapp_rust::wacore::appstate::processor::AppStateMutationMAC {
        index_mac: vec![1],
        value_mac: vec![2],
    };
    s.put_mutation_macs("regular", 1, &[mac]).await.unwrap();
    s.set_sender_key_status("g@g.us", &[("a:1@lid", true)])
        .await
        .unwrap();
    let lid = LidPnMappingEntry {
        lid: "1".into(),
        phone_number: "2".into(),
        created_at: 1,
        updated_at: 1,
        learning_source: "usync".into(),
    };
    s.put_lid_mapping(&lid).await.unwrap();
    s.save_base_key("a@lid", "m", b"bk").await.unwrap();
    let list = whatsapp_rust::wacore::store::traits::DeviceListRecord {
        user: "1".into(),
        devices: vec![],
        timestamp: 1,
        phash: None,
        raw_id: None,
    };
    s.update_device_list(list).await.unwrap();
    s.put_group_metadata("g@g.us", b"gm").await.unwrap();
    let tc = TcTokenEntry {
        token: vec![1],
        token_timestamp: 1,
        sender_timestamp: None,
    };
    s.put_tc_token("a@lid", &tc).await.unwrap();
    s.store_sent_message("a@lid", "m", b"sent").await.unwrap();
    s.store_pending_inbound("a@lid", "a@lid", "m", b"in")
        .await
        .unwrap();
    s.put_msg_secret("a@lid", "a@lid", "m", &[3; 32])
        .await
        .unwrap();
}

#[tokio::test]
async fn two_accounts_never_see_each_others_rows_and_forget_empties_one() {
    for env in Env::all().await {
        let (a, b) = (env.store(), env.store_of(&env.other));
        fill(&a).await;
        for table in TABLES {
            assert_eq!(env.count(table, &env.account).await, 1, "{table} filled");
        }
        assert!(!b.exists().await.unwrap());
        assert!(b.load_identity("a@lid").await.unwrap().is_none());
        assert!(b.get_session("a@lid").await.unwrap().is_none());
        assert!(!b.has_signal_state_for_user("a").await.unwrap());
        assert_eq!(b.get_max_prekey_id().await.unwrap(), 0);
        assert!(b.load_all_signed_prekeys().await.unwrap().is_empty());
        assert!(b.get_sender_key("g:a:0").await.unwrap().is_none());
        assert!(b.get_latest_sync_key_id().await.unwrap().is_none());
        assert!(b.get_mutation_mac("regular", &[1]).await.unwrap().is_none());
        assert!(b.get_sender_key_devices("g@g.us").await.unwrap().is_empty());
        assert!(b.get_all_lid_mappings().await.unwrap().is_empty());
        assert!(!b.has_same_base_key("a@lid", "m", b"bk").await.unwrap());
        assert!(b.get_devices("1").await.unwrap().is_none());
        assert!(b.get_group_metadata("g@g.us").await.unwrap().is_none());
        assert!(b.get_all_tc_token_jids().await.unwrap().is_empty());
        assert!(b.take_sent_message("a@lid", "m").await.unwrap().is_none());
        assert!(b
            .get_pending_inbound("a@lid", "a@lid", "m")
            .await
            .unwrap()
            .is_none());
        assert!(b
            .get_msg_secret("a@lid", "a@lid", "m")
            .await
            .unwrap()
            .is_none());
        // Sweeps and clears of one account leave the other alone.
        b.clear_all_sender_key_devices().await.unwrap();
        assert_eq!(
            b.delete_expired_tc_tokens(i64::MAX, i64::MAX)
                .await
                .unwrap(),
            0
        );
        assert_eq!(
            b.delete_expired_pending_inbound(i64::MAX / 1000)
                .await
                .unwrap(),
            0
        );

        fill(&b).await;
        forget(&env.db, &env.account).await.unwrap();
        for table in TABLES {
            assert_eq!(env.count(table, &env.account).await, 0, "{table} forgotten");
            assert_eq!(
                env.count(table, &env.other).await,
                1,
                "{table} of the other kept"
            );
        }
        // Deleting the account itself cascades.
        sqlx::query("DELETE FROM accounts WHERE id = $1")
            .bind(&env.other)
            .execute(&env.db.writer)
            .await
            .unwrap();
        for table in TABLES {
            assert_eq!(env.count(table, &env.other).await, 0, "{table} cascaded");
        }
        env.finish().await;
    }
}

#[tokio::test]
async fn a_batch_that_fails_half_way_writes_nothing() {
    for env in Env::all().await {
        let s = env.store();
        s.put_session("b@lid", b"before").await.unwrap();
        let batch: Vec<(Arc<str>, Bytes)> = vec![
            (Arc::from("a@lid"), Bytes::from_static(b"new")),
            (Arc::from("b@lid"), Bytes::from_static(b"changed")),
            (Arc::from("c@lid"), Bytes::from_static(POISON)),
            (Arc::from("d@lid"), Bytes::from_static(b"new")),
        ];
        assert!(s.put_sessions_batch(&batch).await.is_err());
        assert!(s.get_session("a@lid").await.unwrap().is_none());
        assert_eq!(
            s.get_session("b@lid").await.unwrap().unwrap(),
            Bytes::from_static(b"before")
        );
        assert_eq!(env.count("wa_sessions", &env.account).await, 1);

        let keys = vec![
            (1, Bytes::from_static(b"k1")),
            (2, Bytes::from_static(POISON)),
        ];
        assert!(s.store_prekeys_batch(&keys, false).await.is_err());
        assert_eq!(env.count("wa_prekeys", &env.account).await, 0);
        assert!(s
            .put_sender_keys_batch(&[
                (Arc::from("x"), Bytes::from_static(b"ok")),
                (Arc::from("y"), Bytes::from_static(POISON))
            ])
            .await
            .is_err());
        assert_eq!(env.count("wa_sender_keys", &env.account).await, 0);

        env.finish().await;
    }
}
