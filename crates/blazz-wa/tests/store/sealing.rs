//! Secrets at rest: sealed columns hold no plaintext, name their key, and
//! a sealed value opens only in its own row of its own account.

use whatsapp_rust::bytes::Bytes;
use whatsapp_rust::wacore::store::traits::{
    AppStateSyncKey, AppSyncStore, DeviceStore, MsgSecretStore, SignalStore,
};

use crate::env::{hex, Env, KEY_ID};

const MARK: &[u8] = b"PLAINTEXT-MARKER-7f3a";

fn marked(n: u8) -> Vec<u8> {
    let mut v = MARK.to_vec();
    v.push(b'0' + n);
    v
}

/// Every sealed column of `table` for `account`: the key id and the value.
async fn sealed_rows(env: &Env, table: &str, account: &str) -> Vec<(String, String)> {
    sqlx::query_as(&format!(
        "SELECT key_id, sealed FROM {table} WHERE account_id = $1"
    ))
    .bind(account)
    .fetch_all(&env.db.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn sealed_columns_hold_no_plaintext_and_name_their_key() {
    for env in Env::all().await {
        let s = env.store();
        s.put_session("a@s.whatsapp.net", &marked(1)).await.unwrap();
        s.store_prekey(1, &marked(2), false).await.unwrap();
        s.store_signed_prekey(1, &marked(3)).await.unwrap();
        s.put_sender_key("g:a:0", &marked(4)).await.unwrap();
        let key_data = marked(5);
        s.set_sync_key(
            b"k1",
            AppStateSyncKey {
                key_data,
                fingerprint: vec![],
                timestamp: 1,
            },
        )
        .await
        .unwrap();
        let mut secret = [0u8; 32];
        secret[..MARK.len()].copy_from_slice(MARK);
        s.put_msg_secret("c@lid", "c@lid", "M1", &secret)
            .await
            .unwrap();
        s.create().await.unwrap();
        let device = s.load().await.unwrap().unwrap();
        let private = hex(device.identity_key.private_key.serialize());
        let adv = hex(&device.adv_secret_key);

        for table in [
            "wa_sessions",
            "wa_prekeys",
            "wa_signed_prekeys",
            "wa_sender_keys",
            "wa_app_state_keys",
            "wa_msg_secrets",
            "wa_devices",
        ] {
            let rows = sealed_rows(&env, table, &env.account).await;
            assert_eq!(rows.len(), 1, "{table}");
            let (key_id, sealed) = &rows[0];
            assert_eq!(key_id, KEY_ID, "{table} names its key");
            let lower = sealed.to_lowercase();
            for needle in [
                String::from_utf8_lossy(MARK).to_lowercase(),
                hex(MARK),
                private.clone(),
                adv.clone(),
                "adv_secret_key".into(),
            ] {
                assert!(!lower.contains(&needle), "{table} holds {needle} in clear");
            }
        }
        env.finish().await;
    }
}

#[tokio::test]
async fn a_sealed_row_copied_to_another_account_or_row_does_not_open() {
    for env in Env::all().await {
        let (a, b) = (env.store(), env.store_of(&env.other));
        a.put_session("x@s.whatsapp.net", b"ratchet").await.unwrap();
        a.store_prekey(5, b"prekey", true).await.unwrap();
        a.create().await.unwrap();
        for (table, cols) in [
            ("wa_sessions", "address, key_id, sealed, updated_at"),
            ("wa_prekeys", "prekey_id, uploaded, key_id, sealed"),
            (
                "wa_devices",
                "pn, lid, key_id, sealed, created_at, updated_at",
            ),
        ] {
            sqlx::query(&format!(
                "INSERT INTO {table} (account_id, {cols}) SELECT $1, {cols} FROM {table} WHERE account_id = $2"
            ))
            .bind(&env.other)
            .bind(&env.account)
            .execute(&env.db.writer)
            .await
            .unwrap();
        }
        assert!(b.get_session("x@s.whatsapp.net").await.is_err());
        assert!(b.load_prekey(5).await.is_err());
        assert!(b.load().await.is_err());
        // Within one account, a value moved to another key does not open.
        sqlx::query("UPDATE wa_sessions SET address = 'y@s.whatsapp.net' WHERE account_id = $1")
            .bind(&env.account)
            .execute(&env.db.writer)
            .await
            .unwrap();
        assert!(a.get_session("y@s.whatsapp.net").await.is_err());
        // The original rows still open where they belong.
        assert_eq!(
            a.load_prekey(5).await.unwrap().unwrap(),
            Bytes::from_static(b"prekey")
        );
        assert!(a.load().await.unwrap().is_some());
        env.finish().await;
    }
}
