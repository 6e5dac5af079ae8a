//! The durability cases of the engine that fall to a backend: what was
//! written before a crash is there after a restart, a Signal lease written
//! before a crash is honoured after it, and concurrent writers of one
//! account end consistent.

use std::sync::Arc;

use whatsapp_rust::bytes::Bytes;
use whatsapp_rust::wacore::libsignal::protocol::consts::SENDER_CHAIN_RESERVATION_BATCH;
use whatsapp_rust::wacore::libsignal::protocol::{
    ChainKey, IdentityKey, KeyPair, PrivateKey, ProtocolAddress, RootKey, SessionRecord,
    SessionState,
};
use whatsapp_rust::wacore::store::traits::{
    DeviceStore, MsgSecretStore, PendingInboundRow, ProtocolStore, SignalStore,
};
use whatsapp_rust::wacore::store::SignalStoreCache;

use crate::env::Env;

#[tokio::test]
async fn everything_written_before_a_restart_is_there_after_it() {
    for mut env in Env::all().await {
        let s = env.store();
        s.create().await.unwrap();
        let device = s.load().await.unwrap().unwrap();
        let sessions: Vec<(Arc<str>, Bytes)> = (0..20)
            .map(|i| {
                (
                    Arc::from(format!("{i}@lid")),
                    Bytes::from(vec![i as u8; 100]),
                )
            })
            .collect();
        s.put_sessions_batch(&sessions).await.unwrap();
        let prekeys: Vec<(u32, Bytes)> = (1..=50).map(|i| (i, Bytes::from(vec![1; 40]))).collect();
        s.store_prekeys_batch(&prekeys, true).await.unwrap();
        s.put_sender_keys_batch(&[(Arc::from("g:me:0"), Bytes::from_static(b"chain"))])
            .await
            .unwrap();
        s.put_msg_secret("c@lid", "c@lid", "M", &[5; 32])
            .await
            .unwrap();
        let rows = [PendingInboundRow {
            chat: "c@lid",
            sender: "c@lid",
            id: "IN1",
            message: b"hello",
        }];
        s.store_pending_inbound_batch(&rows).await.unwrap();
        drop(s);

        env.restart().await;
        let s = env.store();
        let again = s.load().await.unwrap().unwrap();
        assert_eq!(
            serde_json::to_value(&again).unwrap(),
            serde_json::to_value(&device).unwrap()
        );
        for (address, record) in &sessions {
            assert_eq!(&s.get_session(address).await.unwrap().unwrap(), record);
        }
        let ids: Vec<u32> = (1..=50).collect();
        assert_eq!(s.load_prekeys_batch(&ids).await.unwrap().len(), 50);
        assert_eq!(s.get_sender_key("g:me:0").await.unwrap().unwrap(), b"chain");
        assert_eq!(
            s.get_msg_secret("c@lid", "c@lid", "M")
                .await
                .unwrap()
                .unwrap(),
            vec![5; 32]
        );
        // The buffered inbound message is still there to replay, until the
        // app has stored it.
        assert_eq!(
            s.get_pending_inbound("c@lid", "c@lid", "IN1")
                .await
                .unwrap()
                .unwrap(),
            b"hello"
        );
        s.delete_pending_inbound("c@lid", "c@lid", "IN1")
            .await
            .unwrap();
        env.restart().await;
        assert!(env
            .store()
            .get_pending_inbound("c@lid", "c@lid", "IN1")
            .await
            .unwrap()
            .is_none());
        env.finish().await;
    }
}

fn key_pair(seed: u8) -> KeyPair {
    KeyPair::try_from(PrivateKey::try_from(&[seed; 32][..]).unwrap()).unwrap()
}

/// A session with a sending chain at index 0.
fn session() -> SessionRecord {
    let ours = IdentityKey::new(key_pair(1).public_key);
    let theirs = IdentityKey::new(key_pair(2).public_key);
    let mut state = SessionState::new(
        3,
        &ours,
        &theirs,
        &RootKey::new([3; 32]),
        &key_pair(4).public_key,
    );
    state.set_sender_chain(&key_pair(5), &ChainKey::new([6; 32], 0));
    SessionRecord::new(state)
}

/// Encrypts one message's worth: advances the chain and takes a new lease
/// when the counter reaches the reserved ceiling. The counter and its
/// message key.
fn send_one(record: &mut SessionRecord) -> (u32, [u8; 32]) {
    let state = record.session_state_mut().unwrap();
    let chain = state.get_sender_chain_key().unwrap();
    let key = *chain.message_keys().generate_keys().cipher_key();
    state
        .set_sender_chain_key(&chain.next_chain_key().unwrap())
        .unwrap();
    if chain.index() >= record.reserved_sender_chain_index() {
        record.reserve_sender_chain_counters(chain.index());
    }
    (chain.index(), key)
}

/// A crash between encrypting and persisting: the lease flushed before
/// the first send is in the store, so after a restart the session resumes
/// past every counter that may have reached the wire, and no message key
/// is used twice.
#[tokio::test]
async fn a_signal_lease_written_before_a_crash_is_honoured_after_it() {
    for mut env in Env::all().await {
        let address = ProtocolAddress::new("15550009001", 1.into());
        let store = env.store();
        let cache = SignalStoreCache::new();
        let mut record = session();
        let mut used = vec![send_one(&mut record)];
        cache.put_session(&address, record).await;
        assert!(
            cache.needs_pre_wire_flush().await,
            "the first send takes a lease"
        );
        cache.flush(&store).await.unwrap();
        let mut record = cache.get_session(&address, &store).await.unwrap().unwrap();
        for _ in 0..5 {
            used.push(send_one(&mut record));
        }
        cache.put_session(&address, record).await;
        assert!(!cache.needs_pre_wire_flush().await, "covered by the lease");
        // Crash: the cache and its unflushed counters are lost.
        drop(cache);
        drop(store);

        env.restart().await;
        let store = env.store();
        let cache = SignalStoreCache::new();
        let mut record = cache.get_session(&address, &store).await.unwrap().unwrap();
        let (counter, key) = send_one(&mut record);
        assert_eq!(counter, SENDER_CHAIN_RESERVATION_BATCH);
        assert!(used.iter().all(|(c, k)| *c != counter && *k != key));
        cache.put_session(&address, record).await;
        cache.flush(&store).await.unwrap();
        // A clean reload in the same cache continues exactly.
        cache.clear_after_flush().await;
        let mut record = cache.get_session(&address, &store).await.unwrap().unwrap();
        assert_eq!(send_one(&mut record).0, SENDER_CHAIN_RESERVATION_BATCH + 1);
        env.finish().await;
    }
}

/// Two writers of one account at once (a flush and a prekey refill beside
/// a second flush): no error, no deadlock, and every row ends holding a
/// whole value one of them wrote.
#[tokio::test]
async fn concurrent_writers_of_one_account_end_consistent() {
    for env in Env::all().await {
        let mut tasks = Vec::new();
        for writer in 0u8..2 {
            let s = env.store();
            tasks.push(tokio::spawn(async move {
                for round in 0u8..15 {
                    // Overlapping addresses, in a different order per writer.
                    let mut batch: Vec<(Arc<str>, Bytes)> = (0..10)
                        .map(|i| {
                            (
                                Arc::from(format!("{i}@lid")),
                                Bytes::from(vec![writer, round, i]),
                            )
                        })
                        .collect();
                    if writer == 1 {
                        batch.reverse();
                    }
                    s.put_sessions_batch(&batch).await.unwrap();
                    let first = u32::from(round) * 10 + u32::from(writer) * 5 + 1;
                    let keys: Vec<(u32, Bytes)> = (first..first + 10)
                        .map(|i| (i, Bytes::from(vec![writer])))
                        .collect();
                    s.store_prekeys_batch(&keys, false).await.unwrap();
                    s.touch_tc_token_sender_timestamp(
                        "t@lid",
                        i64::from(round) * 2 + i64::from(writer),
                    )
                    .await
                    .unwrap();
                    s.store_received_tc_token("t@lid", &[writer, round], 1000 + i64::from(round))
                        .await
                        .unwrap();
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let s = env.store();
        for i in 0u8..10 {
            let v = s.get_session(&format!("{i}@lid")).await.unwrap().unwrap();
            assert!(v.len() == 3 && v[0] < 2 && v[1] < 15 && v[2] == i, "{v:?}");
        }
        assert_eq!(s.get_max_prekey_id().await.unwrap(), 14 * 10 + 5 + 10);
        assert_eq!(env.count("wa_prekeys", &env.account).await, 155);
        let tc = s.get_tc_token("t@lid").await.unwrap().unwrap();
        assert_eq!(
            tc.sender_timestamp,
            Some(29),
            "the sender bucket ends at the max"
        );
        assert_eq!(tc.token_timestamp, 1014, "the newest token wins");
        assert_eq!(tc.token[1], 14);
        env.finish().await;
    }
}
