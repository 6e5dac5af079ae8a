//! Protocol caches: sender-key devices, LID mappings, base keys, device
//! lists, group metadata, sent messages.

use whatsapp_rust::wacore::store::traits::{
    Backend, DeviceInfo, DeviceListRecord, LidPnMappingEntry,
};

use crate::env::conformance;

conformance! {
    sender_key_devices_are_tracked_per_group => sender_key_devices;
    lid_mappings_resolve_both_ways_and_follow_a_remap => lid_mappings;
    base_keys_compare_and_delete => base_keys;
    device_lists_round_trip => device_lists;
    group_metadata_round_trip => group_metadata;
    a_sent_message_is_taken_once_and_expires => sent_messages;
}

async fn sender_key_devices(b: &dyn Backend) {
    let g = "120363000000000001@g.us";
    assert!(b.get_sender_key_devices(g).await.unwrap().is_empty());
    b.set_sender_key_status(g, &[("1:1@s.whatsapp.net", true), ("2:0@lid", false)])
        .await
        .unwrap();
    b.set_sender_key_status("g2@g.us", &[("1:1@s.whatsapp.net", true)])
        .await
        .unwrap();
    b.set_sender_key_status(g, &[("2:0@lid", true)])
        .await
        .unwrap();
    let mut got = b.get_sender_key_devices(g).await.unwrap();
    got.sort();
    assert_eq!(
        got,
        vec![
            ("1:1@s.whatsapp.net".into(), true),
            ("2:0@lid".into(), true)
        ]
    );
    b.delete_sender_key_device_rows(&["1:1@s.whatsapp.net"])
        .await
        .unwrap();
    assert_eq!(b.get_sender_key_devices(g).await.unwrap().len(), 1);
    assert!(b
        .get_sender_key_devices("g2@g.us")
        .await
        .unwrap()
        .is_empty());
    b.set_sender_key_status("g2@g.us", &[("3:0@lid", false)])
        .await
        .unwrap();
    b.clear_sender_key_devices(g).await.unwrap();
    assert!(b.get_sender_key_devices(g).await.unwrap().is_empty());
    assert_eq!(b.get_sender_key_devices("g2@g.us").await.unwrap().len(), 1);
    b.clear_all_sender_key_devices().await.unwrap();
    assert!(b
        .get_sender_key_devices("g2@g.us")
        .await
        .unwrap()
        .is_empty());
}

fn lid(lid: &str, pn: &str, at: i64) -> LidPnMappingEntry {
    LidPnMappingEntry {
        lid: lid.into(),
        phone_number: pn.into(),
        created_at: at,
        updated_at: at,
        learning_source: "usync".into(),
    }
}

async fn lid_mappings(b: &dyn Backend) {
    assert!(b.get_lid_mapping("100").await.unwrap().is_none());
    b.put_lid_mapping(&lid("100", "5511", 10)).await.unwrap();
    b.put_lid_mappings(&[lid("200", "5522", 11), lid("300", "5533", 12)])
        .await
        .unwrap();
    let got = b.get_lid_mapping("100").await.unwrap().unwrap();
    assert_eq!(
        (
            got.phone_number.as_str(),
            got.created_at,
            got.learning_source.as_str()
        ),
        ("5511", 10, "usync")
    );
    assert_eq!(b.get_pn_mapping("5522").await.unwrap().unwrap().lid, "200");
    // The phone's number changes: the old number no longer resolves.
    b.put_lid_mapping(&lid("100", "5599", 20)).await.unwrap();
    assert!(b.get_pn_mapping("5511").await.unwrap().is_none());
    assert_eq!(b.get_pn_mapping("5599").await.unwrap().unwrap().lid, "100");
    // A newer LID for a number wins.
    b.put_lid_mapping(&lid("400", "5599", 30)).await.unwrap();
    assert_eq!(b.get_pn_mapping("5599").await.unwrap().unwrap().lid, "400");
    let mut all: Vec<String> = b
        .get_all_lid_mappings()
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.lid)
        .collect();
    all.sort();
    assert_eq!(all, vec!["100", "200", "300", "400"]);
}

async fn base_keys(b: &dyn Backend) {
    assert!(!b.has_same_base_key("a@lid", "m1", b"k").await.unwrap());
    b.save_base_key("a@lid", "m1", b"k").await.unwrap();
    assert!(b.has_same_base_key("a@lid", "m1", b"k").await.unwrap());
    assert!(!b.has_same_base_key("a@lid", "m1", b"other").await.unwrap());
    assert!(!b.has_same_base_key("a@lid", "m2", b"k").await.unwrap());
    b.save_base_key("a@lid", "m1", b"k2").await.unwrap();
    assert!(b.has_same_base_key("a@lid", "m1", b"k2").await.unwrap());
    b.delete_base_key("a@lid", "m1").await.unwrap();
    assert!(!b.has_same_base_key("a@lid", "m1", b"k2").await.unwrap());
}

async fn device_lists(b: &dyn Backend) {
    assert!(b.get_devices("5511").await.unwrap().is_none());
    let record = |user: &str, n: u32| DeviceListRecord {
        user: user.into(),
        devices: (0..n)
            .map(|d| DeviceInfo::new(d, Some(d + 1)).with_hosting(d == 2))
            .collect(),
        timestamp: 1_700_000_000,
        phash: Some("2:abc".into()),
        raw_id: Some(77),
    };
    b.update_device_list(record("5511", 3)).await.unwrap();
    b.update_device_lists(vec![record("5522", 1), record("5511", 2)])
        .await
        .unwrap();
    let got = b.get_devices("5511").await.unwrap().unwrap();
    assert_eq!(got.devices.len(), 2);
    assert_eq!(
        (got.devices[1].device_id, got.devices[1].key_index),
        (1, Some(2))
    );
    assert_eq!(
        (got.timestamp, got.phash.as_deref(), got.raw_id),
        (1_700_000_000, Some("2:abc"), Some(77))
    );
    let mut bare = record("5533", 3);
    bare.phash = None;
    bare.raw_id = None;
    b.update_device_list(bare).await.unwrap();
    let got = b.get_devices("5533").await.unwrap().unwrap();
    assert!(got.devices[2].is_hosted);
    assert_eq!((got.phash, got.raw_id), (None, None));
    b.delete_devices("5511").await.unwrap();
    assert!(b.get_devices("5511").await.unwrap().is_none());
    assert!(b.get_devices("5522").await.unwrap().is_some());
}

async fn group_metadata(b: &dyn Backend) {
    assert!(b.get_group_metadata("g@g.us").await.unwrap().is_none());
    b.put_group_metadata("g@g.us", b"v1").await.unwrap();
    b.put_group_metadata("g@g.us", b"v2").await.unwrap();
    assert_eq!(
        b.get_group_metadata("g@g.us").await.unwrap().unwrap(),
        b"v2"
    );
    b.delete_group_metadata("g@g.us").await.unwrap();
    assert!(b.get_group_metadata("g@g.us").await.unwrap().is_none());
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

async fn sent_messages(b: &dyn Backend) {
    b.store_sent_message("c@s.whatsapp.net", "M1", b"payload")
        .await
        .unwrap();
    b.store_sent_message("c@s.whatsapp.net", "M2", b"two")
        .await
        .unwrap();
    assert_eq!(
        b.take_sent_message("c@s.whatsapp.net", "M1")
            .await
            .unwrap()
            .unwrap(),
        b"payload"
    );
    assert!(b
        .take_sent_message("c@s.whatsapp.net", "M1")
        .await
        .unwrap()
        .is_none());
    assert!(b
        .take_sent_message("other@s.whatsapp.net", "M2")
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        b.delete_expired_sent_messages(now_secs() - 60)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        b.delete_expired_sent_messages(now_secs() + 60)
            .await
            .unwrap(),
        1
    );
    assert!(b
        .take_sent_message("c@s.whatsapp.net", "M2")
        .await
        .unwrap()
        .is_none());
}
