//! Trusted-contact tokens, the pending-inbound buffer and message secrets:
//! the merge rules the engine documents.

use whatsapp_rust::wacore::store::traits::{
    Backend, MsgSecretEntry, PendingInboundKey, PendingInboundRow, TcTokenEntry,
};

use crate::env::conformance;

conformance! {
    tc_tokens_round_trip => tc_round_trip;
    touching_the_sender_bucket_inserts_a_placeholder_and_only_moves_forward => tc_touch;
    a_received_token_is_newer_wins_and_keeps_the_sender_bucket => tc_received;
    tc_token_pruning_keeps_a_row_while_either_window_is_live => tc_prune;
    pending_inbound_round_trips_in_batches_and_expires => pending;
    msg_secrets_merge_expiry_and_parent_time_on_rewrite => msg_secrets;
}

async fn tc_round_trip(b: &dyn Backend) {
    assert!(b.get_tc_token("a@lid").await.unwrap().is_none());
    let e = TcTokenEntry {
        token: vec![1, 2],
        token_timestamp: 100,
        sender_timestamp: Some(90),
    };
    b.put_tc_token("a@lid", &e).await.unwrap();
    b.put_tc_token(
        "b@lid",
        &TcTokenEntry {
            sender_timestamp: None,
            ..e.clone()
        },
    )
    .await
    .unwrap();
    let got = b.get_tc_token("a@lid").await.unwrap().unwrap();
    assert_eq!(
        (got.token, got.token_timestamp, got.sender_timestamp),
        (vec![1, 2], 100, Some(90))
    );
    assert_eq!(
        b.get_tc_token("b@lid")
            .await
            .unwrap()
            .unwrap()
            .sender_timestamp,
        None
    );
    let mut jids = b.get_all_tc_token_jids().await.unwrap();
    jids.sort();
    assert_eq!(jids, vec!["a@lid", "b@lid"]);
    b.delete_tc_token("a@lid").await.unwrap();
    assert_eq!(b.get_all_tc_token_jids().await.unwrap(), vec!["b@lid"]);
}

async fn tc_touch(b: &dyn Backend) {
    b.touch_tc_token_sender_timestamp("a@lid", 50)
        .await
        .unwrap();
    let got = b.get_tc_token("a@lid").await.unwrap().unwrap();
    assert_eq!(
        (got.token.len(), got.token_timestamp, got.sender_timestamp),
        (0, 50, Some(50))
    );
    b.store_received_tc_token("a@lid", b"real", 60)
        .await
        .unwrap();
    b.touch_tc_token_sender_timestamp("a@lid", 70)
        .await
        .unwrap();
    b.touch_tc_token_sender_timestamp("a@lid", 65)
        .await
        .unwrap();
    let got = b.get_tc_token("a@lid").await.unwrap().unwrap();
    assert_eq!(
        (got.token, got.token_timestamp, got.sender_timestamp),
        (b"real".to_vec(), 60, Some(70))
    );
    // A row put without a sender bucket gets one.
    b.put_tc_token(
        "b@lid",
        &TcTokenEntry {
            token: vec![1],
            token_timestamp: 5,
            sender_timestamp: None,
        },
    )
    .await
    .unwrap();
    b.touch_tc_token_sender_timestamp("b@lid", 3).await.unwrap();
    assert_eq!(
        b.get_tc_token("b@lid")
            .await
            .unwrap()
            .unwrap()
            .sender_timestamp,
        Some(3)
    );
}

async fn tc_received(b: &dyn Backend) {
    b.store_received_tc_token("a@lid", b"t1", 100)
        .await
        .unwrap();
    assert_eq!(
        b.get_tc_token("a@lid")
            .await
            .unwrap()
            .unwrap()
            .sender_timestamp,
        None
    );
    b.touch_tc_token_sender_timestamp("a@lid", 150)
        .await
        .unwrap();
    // Stale: ignored.
    b.store_received_tc_token("a@lid", b"old", 90)
        .await
        .unwrap();
    let got = b.get_tc_token("a@lid").await.unwrap().unwrap();
    assert_eq!(
        (got.token, got.token_timestamp, got.sender_timestamp),
        (b"t1".to_vec(), 100, Some(150))
    );
    // As new or newer: replaces the token, keeps the sender bucket.
    b.store_received_tc_token("a@lid", b"t2", 100)
        .await
        .unwrap();
    b.store_received_tc_token("a@lid", b"t3", 120)
        .await
        .unwrap();
    let got = b.get_tc_token("a@lid").await.unwrap().unwrap();
    assert_eq!(
        (got.token, got.token_timestamp, got.sender_timestamp),
        (b"t3".to_vec(), 120, Some(150))
    );
    // A placeholder never blocks the first real token, even an older one.
    b.touch_tc_token_sender_timestamp("p@lid", 500)
        .await
        .unwrap();
    b.store_received_tc_token("p@lid", b"first", 10)
        .await
        .unwrap();
    let got = b.get_tc_token("p@lid").await.unwrap().unwrap();
    assert_eq!(
        (got.token, got.token_timestamp, got.sender_timestamp),
        (b"first".to_vec(), 10, Some(500))
    );
}

async fn tc_prune(b: &dyn Backend) {
    let put = |token: &'static [u8], ts: i64, sender: Option<i64>| TcTokenEntry {
        token: token.to_vec(),
        token_timestamp: ts,
        sender_timestamp: sender,
    };
    b.put_tc_token("live-token@lid", &put(b"t", 100, None))
        .await
        .unwrap();
    b.put_tc_token("live-sender@lid", &put(b"t", 10, Some(100)))
        .await
        .unwrap();
    b.put_tc_token("placeholder-live@lid", &put(b"", 100, Some(100)))
        .await
        .unwrap();
    b.put_tc_token("placeholder-dead@lid", &put(b"", 100, Some(10)))
        .await
        .unwrap();
    b.put_tc_token("both-dead@lid", &put(b"t", 10, Some(10)))
        .await
        .unwrap();
    b.put_tc_token("dead-no-sender@lid", &put(b"t", 10, None))
        .await
        .unwrap();
    assert_eq!(b.delete_expired_tc_tokens(50, 50).await.unwrap(), 3);
    let mut left = b.get_all_tc_token_jids().await.unwrap();
    left.sort();
    assert_eq!(
        left,
        vec!["live-sender@lid", "live-token@lid", "placeholder-live@lid"]
    );
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

async fn pending(b: &dyn Backend) {
    let (c, s) = ("g@g.us", "5511:2@s.whatsapp.net");
    assert!(b.get_pending_inbound(c, s, "M1").await.unwrap().is_none());
    b.store_pending_inbound(c, s, "M1", b"one").await.unwrap();
    b.store_pending_inbound(c, s, "M1", b"one again")
        .await
        .unwrap();
    assert_eq!(
        b.get_pending_inbound(c, s, "M1").await.unwrap().unwrap(),
        b"one again"
    );
    // Ids are unique only within (chat, sender).
    assert!(b
        .get_pending_inbound(c, "other@lid", "M1")
        .await
        .unwrap()
        .is_none());
    let rows = [
        PendingInboundRow {
            chat: c,
            sender: s,
            id: "M2",
            message: b"two",
        },
        PendingInboundRow {
            chat: c,
            sender: "other@lid",
            id: "M1",
            message: b"other",
        },
    ];
    b.store_pending_inbound_batch(&rows).await.unwrap();
    assert_eq!(
        b.get_pending_inbound(c, "other@lid", "M1")
            .await
            .unwrap()
            .unwrap(),
        b"other"
    );
    b.delete_pending_inbound(c, s, "M1").await.unwrap();
    assert!(b.get_pending_inbound(c, s, "M1").await.unwrap().is_none());
    let keys = [PendingInboundKey {
        chat: c,
        sender: s,
        id: "M2",
    }];
    b.delete_pending_inbound_batch(&keys).await.unwrap();
    assert!(b.get_pending_inbound(c, s, "M2").await.unwrap().is_none());
    assert_eq!(
        b.delete_expired_pending_inbound(now_secs() - 60)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        b.delete_expired_pending_inbound(now_secs() + 60)
            .await
            .unwrap(),
        1
    );
    assert!(b
        .get_pending_inbound(c, "other@lid", "M1")
        .await
        .unwrap()
        .is_none());
}

fn secret(msg: &str, byte: u8, expires_at: i64, message_ts: i64) -> MsgSecretEntry {
    MsgSecretEntry {
        chat: "c@s.whatsapp.net".into(),
        sender: "c@s.whatsapp.net".into(),
        msg_id: msg.into(),
        secret: [byte; 32],
        expires_at,
        message_ts,
    }
}

async fn msg_secrets(b: &dyn Backend) {
    let c = "c@s.whatsapp.net";
    assert!(b.get_msg_secret(c, c, "M1").await.unwrap().is_none());
    b.put_msg_secret(c, c, "M0", &[9; 32]).await.unwrap();
    assert_eq!(
        b.get_msg_secret_with_ts(c, c, "M0").await.unwrap().unwrap(),
        (vec![9; 32], 0)
    );
    let n = b
        .put_msg_secrets(vec![secret("M1", 1, 1000, 500), secret("M2", 2, 2000, 0)])
        .await
        .unwrap();
    assert_eq!(n, 2);
    // Rewrites: a shorter expiry and an unknown parent time change nothing
    // but the secret; a later expiry and parent time win.
    b.put_msg_secrets(vec![secret("M1", 11, 900, 0), secret("M2", 22, 3000, 700)])
        .await
        .unwrap();
    assert_eq!(
        b.get_msg_secret_with_ts(c, c, "M1").await.unwrap().unwrap(),
        (vec![11; 32], 500)
    );
    assert_eq!(
        b.get_msg_secret_with_ts(c, c, "M2").await.unwrap().unwrap(),
        (vec![22; 32], 700)
    );
    assert_eq!(
        b.delete_expired_msg_secrets(1000).await.unwrap(),
        1,
        "M1 expired at 1000"
    );
    assert!(b.get_msg_secret(c, c, "M1").await.unwrap().is_none());
    // 0 ("never") beats any deadline, from either side.
    b.put_msg_secrets(vec![secret("M2", 22, 0, 0)])
        .await
        .unwrap();
    b.put_msg_secrets(vec![secret("M3", 3, 0, 1)])
        .await
        .unwrap();
    b.put_msg_secrets(vec![secret("M3", 3, 5000, 1)])
        .await
        .unwrap();
    assert_eq!(b.delete_expired_msg_secrets(i64::MAX).await.unwrap(), 0);
    assert!(b.get_msg_secret(c, c, "M2").await.unwrap().is_some());
    // The key is all three of chat, sender and id.
    assert!(b.get_msg_secret(c, "x@lid", "M2").await.unwrap().is_none());
    assert!(b.get_msg_secret("x@lid", c, "M2").await.unwrap().is_none());
}
