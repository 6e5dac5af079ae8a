//! App-state sync round trips: keys, versions, mutation MACs.

use std::collections::HashMap;

use whatsapp_rust::wacore::appstate::hash::HashState;
use whatsapp_rust::wacore::appstate::processor::AppStateMutationMAC;
use whatsapp_rust::wacore::store::traits::{AppStateSyncKey, Backend};

use crate::env::conformance;

conformance! {
    sync_keys_round_trip_and_the_latest_is_the_newest => sync_keys;
    versions_round_trip_with_their_index_values => versions;
    mutation_macs_round_trip_and_clear_one_collection => mutation_macs;
}

fn key(data: u8, ts: i64) -> AppStateSyncKey {
    AppStateSyncKey {
        key_data: vec![data; 32],
        fingerprint: vec![data, 1, 2],
        timestamp: ts,
    }
}

async fn sync_keys(b: &dyn Backend) {
    assert!(b.get_sync_key(&[0, 0, 1]).await.unwrap().is_none());
    assert!(b.get_latest_sync_key_id().await.unwrap().is_none());
    b.set_sync_key(&[0, 0, 1], key(1, 100)).await.unwrap();
    b.set_sync_key(&[0, 0, 2], key(2, 200)).await.unwrap();
    let got = b.get_sync_key(&[0, 0, 1]).await.unwrap().unwrap();
    assert_eq!(
        (got.key_data, got.fingerprint, got.timestamp),
        (vec![1; 32], vec![1, 1, 2], 100)
    );
    assert_eq!(
        b.get_latest_sync_key_id().await.unwrap().unwrap(),
        vec![0, 0, 2]
    );
    b.set_sync_key(&[0, 0, 2], key(3, 300)).await.unwrap();
    assert_eq!(
        b.get_sync_key(&[0, 0, 2]).await.unwrap().unwrap().key_data,
        vec![3; 32]
    );
}

async fn versions(b: &dyn Backend) {
    let fresh = b.get_version("regular").await.unwrap();
    assert_eq!(
        (fresh.version, fresh.hash, fresh.index_value_map.len()),
        (0, [0; 128], 0)
    );
    let mut state = HashState {
        version: 42,
        hash: [7; 128],
        index_value_map: HashMap::new(),
        mac_mismatch_fatal: true,
    };
    state.index_value_map.insert("aW5kZXg=".into(), vec![9; 32]);
    state.index_value_map.insert("b3RoZXI=".into(), vec![]);
    b.set_version("regular", state.clone()).await.unwrap();
    let got = b.get_version("regular").await.unwrap();
    assert_eq!(got.version, 42);
    assert_eq!(got.hash, [7; 128]);
    assert_eq!(got.index_value_map, state.index_value_map);
    assert!(got.mac_mismatch_fatal);
    state.version = 43;
    state.mac_mismatch_fatal = false;
    state.index_value_map.clear();
    b.set_version("regular", state).await.unwrap();
    let got = b.get_version("regular").await.unwrap();
    assert_eq!(
        (
            got.version,
            got.mac_mismatch_fatal,
            got.index_value_map.len()
        ),
        (43, false, 0)
    );
    assert_eq!(b.get_version("critical_block").await.unwrap().version, 0);
}

fn mac(i: u8) -> AppStateMutationMAC {
    AppStateMutationMAC {
        index_mac: vec![i; 32],
        value_mac: vec![i + 100; 32],
    }
}

async fn mutation_macs(b: &dyn Backend) {
    assert!(b
        .get_mutation_mac("regular", &[1; 32])
        .await
        .unwrap()
        .is_none());
    b.put_mutation_macs("regular", 1, &[mac(1), mac(2), mac(3)])
        .await
        .unwrap();
    b.put_mutation_macs("regular_low", 1, &[mac(1)])
        .await
        .unwrap();
    b.put_mutation_macs("regular", 2, &[]).await.unwrap();
    assert_eq!(
        b.get_mutation_mac("regular", &[2; 32])
            .await
            .unwrap()
            .unwrap(),
        vec![102; 32]
    );
    let many = b
        .get_mutation_macs("regular", &[[1; 32], [3; 32], [9; 32]])
        .await
        .unwrap();
    assert_eq!(many.len(), 2);
    assert_eq!(many[&[3u8; 32]], vec![103; 32]);
    b.delete_mutation_macs("regular", &[vec![1; 32], vec![9; 32]])
        .await
        .unwrap();
    assert!(b
        .get_mutation_mac("regular", &[1; 32])
        .await
        .unwrap()
        .is_none());
    assert!(b
        .get_mutation_mac("regular_low", &[1; 32])
        .await
        .unwrap()
        .is_some());
    b.clear_mutation_macs("regular").await.unwrap();
    assert!(b
        .get_mutation_macs("regular", &[[2; 32], [3; 32]])
        .await
        .unwrap()
        .is_empty());
    assert!(b
        .get_mutation_mac("regular_low", &[1; 32])
        .await
        .unwrap()
        .is_some());
}
