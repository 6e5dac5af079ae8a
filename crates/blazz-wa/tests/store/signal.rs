//! Signal state round trips: identities, sessions, prekeys, signed
//! prekeys, sender keys.

use std::sync::Arc;

use whatsapp_rust::bytes::Bytes;
use whatsapp_rust::wacore::store::traits::Backend;

use crate::env::conformance;

conformance! {
    identities_round_trip => identities;
    sessions_round_trip_and_batches_insert_and_update => sessions;
    signal_state_for_user_matches_by_user_not_by_prefix => state_for_user;
    prekeys_round_trip_and_upload_marks_never_resurrect => prekeys;
    signed_prekeys_round_trip => signed_prekeys;
    sender_keys_round_trip => sender_keys;
}

async fn identities(b: &dyn Backend) {
    assert_eq!(b.load_identity("1@s.whatsapp.net").await.unwrap(), None);
    b.put_identity("1@s.whatsapp.net", [1; 32]).await.unwrap();
    b.put_identity("1@s.whatsapp.net", [2; 32]).await.unwrap();
    assert_eq!(
        b.load_identity("1@s.whatsapp.net").await.unwrap(),
        Some([2; 32])
    );
    let batch: Vec<(Arc<str>, [u8; 32])> = vec![
        (Arc::from("3@s.whatsapp.net"), [3; 32]),
        (Arc::from("1@s.whatsapp.net"), [4; 32]),
    ];
    b.put_identities_batch(&batch).await.unwrap();
    assert_eq!(
        b.load_identity("1@s.whatsapp.net").await.unwrap(),
        Some([4; 32])
    );
    assert_eq!(
        b.load_identity("3@s.whatsapp.net").await.unwrap(),
        Some([3; 32])
    );
    b.delete_identity("1@s.whatsapp.net").await.unwrap();
    assert_eq!(b.load_identity("1@s.whatsapp.net").await.unwrap(), None);
    assert_eq!(
        b.load_identity("3@s.whatsapp.net").await.unwrap(),
        Some([3; 32])
    );
}

async fn sessions(b: &dyn Backend) {
    let a = "15550001:3@s.whatsapp.net";
    assert!(b.get_session(a).await.unwrap().is_none());
    assert!(!b.has_session(a).await.unwrap());
    b.put_session(a, b"one").await.unwrap();
    assert_eq!(
        b.get_session(a).await.unwrap().unwrap(),
        Bytes::from_static(b"one")
    );
    assert!(b.has_session(a).await.unwrap());
    let batch: Vec<(Arc<str>, Bytes)> = vec![
        (Arc::from(a), Bytes::from_static(b"two")),
        (
            Arc::from("15550002@s.whatsapp.net"),
            Bytes::from_static(b"new"),
        ),
        (Arc::from("15550003@lid"), Bytes::new()),
    ];
    b.put_sessions_batch(&batch).await.unwrap();
    b.put_sessions_batch(&[]).await.unwrap();
    assert_eq!(
        b.get_session(a).await.unwrap().unwrap(),
        Bytes::from_static(b"two")
    );
    assert_eq!(
        b.get_session("15550002@s.whatsapp.net")
            .await
            .unwrap()
            .unwrap(),
        Bytes::from_static(b"new")
    );
    // An empty record is a record, not an absence.
    assert_eq!(
        b.get_session("15550003@lid").await.unwrap(),
        Some(Bytes::new())
    );
    b.delete_session(a).await.unwrap();
    assert!(b.get_session(a).await.unwrap().is_none());
    assert!(b.has_session("15550002@s.whatsapp.net").await.unwrap());
}

async fn state_for_user(b: &dyn Backend) {
    assert!(!b.has_signal_state_for_user("1555").await.unwrap());
    b.put_session("15551:2@s.whatsapp.net", b"s").await.unwrap();
    b.put_identity("4440@lid", [9; 32]).await.unwrap();
    assert!(b.has_signal_state_for_user("15551").await.unwrap());
    assert!(b.has_signal_state_for_user("4440").await.unwrap());
    // A prefix of another user's number is another user.
    assert!(!b.has_signal_state_for_user("1555").await.unwrap());
    assert!(!b.has_signal_state_for_user("444").await.unwrap());
}

async fn prekeys(b: &dyn Backend) {
    assert_eq!(b.get_max_prekey_id().await.unwrap(), 0);
    assert!(b.load_prekey(7).await.unwrap().is_none());
    b.store_prekey(7, b"seven", false).await.unwrap();
    let batch: Vec<(u32, Bytes)> = (100..110u32)
        .map(|i| (i, Bytes::from(i.to_be_bytes().to_vec())))
        .collect();
    b.store_prekeys_batch(&batch, true).await.unwrap();
    assert_eq!(
        b.load_prekey(7).await.unwrap().unwrap(),
        Bytes::from_static(b"seven")
    );
    assert_eq!(b.get_max_prekey_id().await.unwrap(), 109);
    let got = b.load_prekeys_batch(&[109, 5, 7, 100]).await.unwrap();
    let ids: Vec<u32> = got.iter().map(|(id, _)| *id).collect();
    assert_eq!(
        ids,
        vec![109, 7, 100],
        "in the order asked, missing ones left out"
    );
    assert_eq!(got[0].1, Bytes::from(109u32.to_be_bytes().to_vec()));
    b.remove_prekey(109).await.unwrap();
    assert_eq!(b.get_max_prekey_id().await.unwrap(), 108);
    // Marking a consumed key uploaded must not bring it back.
    b.mark_prekeys_uploaded(&[7, 109]).await.unwrap();
    b.mark_prekeys_uploaded(&[]).await.unwrap();
    assert!(b.load_prekey(109).await.unwrap().is_none());
    assert!(b.load_prekey(7).await.unwrap().is_some());
    b.store_prekey(u32::MAX, b"max", false).await.unwrap();
    assert_eq!(b.get_max_prekey_id().await.unwrap(), u32::MAX);
}

async fn signed_prekeys(b: &dyn Backend) {
    assert!(b.load_signed_prekey(1).await.unwrap().is_none());
    assert!(b.load_all_signed_prekeys().await.unwrap().is_empty());
    b.store_signed_prekey(2, b"two").await.unwrap();
    b.store_signed_prekey(1, b"one").await.unwrap();
    b.store_signed_prekey(2, b"two again").await.unwrap();
    assert_eq!(
        b.load_signed_prekey(2).await.unwrap().unwrap(),
        b"two again"
    );
    let mut all = b.load_all_signed_prekeys().await.unwrap();
    all.sort();
    assert_eq!(all, vec![(1, b"one".to_vec()), (2, b"two again".to_vec())]);
    b.remove_signed_prekey(1).await.unwrap();
    assert_eq!(b.load_all_signed_prekeys().await.unwrap().len(), 1);
}

async fn sender_keys(b: &dyn Backend) {
    let k = "120363000000000001@g.us:15550001@s.whatsapp.net:0";
    assert!(b.get_sender_key(k).await.unwrap().is_none());
    b.put_sender_key(k, b"v1").await.unwrap();
    assert_eq!(b.get_sender_key(k).await.unwrap().unwrap(), b"v1");
    let batch: Vec<(Arc<str>, Bytes)> = vec![
        (Arc::from(k), Bytes::from_static(b"v2")),
        (Arc::from("g2:x:0"), Bytes::from_static(b"other")),
    ];
    b.put_sender_keys_batch(&batch).await.unwrap();
    assert_eq!(b.get_sender_key(k).await.unwrap().unwrap(), b"v2");
    assert_eq!(b.get_sender_key("g2:x:0").await.unwrap().unwrap(), b"other");
    b.delete_sender_key(k).await.unwrap();
    assert!(b.get_sender_key(k).await.unwrap().is_none());
    assert!(b.get_sender_key("g2:x:0").await.unwrap().is_some());
}
