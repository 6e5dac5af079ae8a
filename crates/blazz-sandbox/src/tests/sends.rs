//! Sends as WhatsApp takes them: by the client's id (a resend is the same
//! message), with receipts that wait for a reconnect; what the network
//! keeps of them; injected failures and receipts.

use std::time::Duration;

use blazz_provider::{Media, ProviderError, ProviderEvent, ReceiptStatus};

use super::{cold, linked, next, open, pacing, quick, text, Events};
use crate::{FailureKind, MediaInfo, SandboxError, SandboxNetwork, Timing};

/// Receipts that never come on their own during a test.
fn slow() -> Timing {
    Timing {
        delivered_after: Duration::from_secs(600),
        read_after: Duration::from_secs(600),
        ..quick()
    }
}

fn receipt(event: ProviderEvent) -> (String, ReceiptStatus, Option<String>) {
    match event {
        ProviderEvent::Receipt {
            provider_message_id,
            status,
            error,
            ..
        } => (provider_message_id, status, error),
        other => panic!("expected a receipt, got {other:?}"),
    }
}

async fn nothing_more(events: &mut Events) {
    let more = tokio::time::timeout(Duration::from_millis(100), events.recv()).await;
    assert!(more.is_err(), "unexpected event: {more:?}");
}

#[tokio::test]
async fn a_resend_is_the_same_message_and_never_counts_again() {
    // One cold message a minute: a second count would ban the number.
    let net = SandboxNetwork::new(slow()).with_pacing(pacing(1, Duration::from_secs(60)));
    let (mut conn, mut events, _) = linked(&net, "a").await;
    let message = text(&cold(1));
    let first = conn.send(message.clone()).await.unwrap();
    nothing_more(&mut events).await;
    for _ in 0..3 {
        let again = conn.send(message.clone()).await.unwrap();
        assert_eq!(again, first);
        // The network answers with what it knows: sent, nothing more yet.
        let told = receipt(next(&mut events).await);
        assert_eq!(told, (message.id.clone(), ReceiptStatus::Sent, None));
    }
    assert!(!net.is_banned("a"));
    let received = net.received("a", 100);
    assert_eq!(received.count, 1);
    assert_eq!(received.messages[0].id, message.id);
    assert_eq!(received.messages[0].to, cold(1));
    assert_eq!(received.messages[0].body, message.body);
    // The same id from another number is another message.
    let (mut other, _other_events, _) = linked(&net, "b").await;
    other.send(message.clone()).await.unwrap();
    assert_eq!(net.received("b", 100).count, 1);
}

#[tokio::test]
async fn a_resend_tells_the_latest_receipt_again() {
    let net = SandboxNetwork::new(quick());
    let (mut conn, mut events, _) = linked(&net, "a").await;
    let message = text("+15550002000");
    conn.send(message.clone()).await.unwrap();
    for want in [ReceiptStatus::Delivered, ReceiptStatus::Read] {
        assert_eq!(receipt(next(&mut events).await).1, want);
    }
    conn.send(message.clone()).await.unwrap();
    assert_eq!(
        receipt(next(&mut events).await),
        (message.id.clone(), ReceiptStatus::Read, None)
    );
    // A receipt told later (a failure after the read) is the latest now.
    net.receipt("a", &message.id, ReceiptStatus::Failed, Some("gone".into()))
        .unwrap();
    assert_eq!(receipt(next(&mut events).await).1, ReceiptStatus::Failed);
    conn.send(message.clone()).await.unwrap();
    assert_eq!(
        receipt(next(&mut events).await),
        (message.id, ReceiptStatus::Failed, Some("gone".into()))
    );
    assert_eq!(net.received("a", 100).count, 1);
}

#[tokio::test]
async fn message_ids_must_be_sane() {
    let net = SandboxNetwork::new(slow());
    let (mut conn, _events, _) = linked(&net, "a").await;
    for id in [
        String::new(),
        "x".repeat(129),
        "two words".into(),
        "tab\t".into(),
    ] {
        let mut message = text("+15550002000");
        message.id = id.clone();
        assert!(
            matches!(conn.send(message).await, Err(ProviderError::Permanent(_))),
            "{id:?} was taken"
        );
    }
    let mut message = text("+15550002000");
    message.id = "x".repeat(128);
    conn.send(message).await.unwrap();
    assert_eq!(net.received("a", 100).count, 1);
}

#[tokio::test]
async fn injected_failures_fail_the_next_sends_before_they_count() {
    let net = SandboxNetwork::new(slow()).with_pacing(pacing(1, Duration::from_secs(60)));
    let (mut conn, _events, _) = linked(&net, "a").await;
    net.fail_sends("a", 2, FailureKind::Transient, None);
    let message = text(&cold(1));
    for _ in 0..2 {
        assert_eq!(
            conn.send(message.clone()).await,
            Err(ProviderError::Transient(
                "injected transient failure".into()
            ))
        );
    }
    // Neither counted against pacing, nor received: this one is the first.
    conn.send(message.clone()).await.unwrap();
    assert_eq!(net.received("a", 100).count, 1);
    assert!(!net.is_banned("a"));

    net.fail_sends("a", 1, FailureKind::Permanent, Some("blocked".into()));
    assert_eq!(
        conn.send(text(&cold(2))).await,
        Err(ProviderError::Permanent("blocked".into()))
    );
    // A count of 0 takes injected failures back.
    net.fail_sends("a", 5, FailureKind::Transient, None);
    net.fail_sends("a", 0, FailureKind::Transient, None);
    conn.send(message).await.unwrap();
}

#[tokio::test]
async fn receipts_that_find_no_connection_wait_for_the_next() {
    let net = SandboxNetwork::new(Timing {
        delivered_after: Duration::from_millis(50),
        read_after: Duration::from_millis(10),
        ..quick()
    });
    let (mut conn, mut events, creds) = linked(&net, "a").await;
    let message = text("+15550002000");
    conn.send(message.clone()).await.unwrap();
    net.disconnect("a").unwrap();
    assert!(matches!(
        next(&mut events).await,
        ProviderEvent::Disconnected { .. }
    ));
    tokio::time::sleep(Duration::from_millis(150)).await;
    let (_again, mut events) = open(&net, "a", Some(creds)).await;
    assert_eq!(next(&mut events).await, ProviderEvent::Connected);
    for want in [ReceiptStatus::Delivered, ReceiptStatus::Read] {
        assert_eq!(
            receipt(next(&mut events).await),
            (message.id.clone(), want, None)
        );
    }
}

#[tokio::test]
async fn an_injected_receipt_reaches_the_live_connection_now() {
    let net = SandboxNetwork::new(slow());
    assert_eq!(
        net.receipt("a", "ANY", ReceiptStatus::Read, None),
        Err(SandboxError::NotConnected)
    );
    let (_conn, mut events, _) = linked(&net, "a").await;
    net.receipt("a", "NEVER-SENT", ReceiptStatus::Delivered, None)
        .unwrap();
    net.receipt("a", "NEVER-SENT", ReceiptStatus::Failed, Some("no".into()))
        .unwrap();
    assert_eq!(
        receipt(next(&mut events).await),
        ("NEVER-SENT".into(), ReceiptStatus::Delivered, None)
    );
    assert_eq!(
        receipt(next(&mut events).await),
        (
            "NEVER-SENT".into(),
            ReceiptStatus::Failed,
            Some("no".into())
        )
    );
}

#[tokio::test]
async fn the_network_keeps_the_newest_messages_and_what_came_with_them() {
    let net = SandboxNetwork::new(slow());
    let (mut conn, _events, _) = linked(&net, "a").await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let mut message = text(&cold(i));
        if i == 4 {
            message.media = Some(Media {
                mime_type: "image/jpeg".into(),
                filename: Some("x.jpg".into()),
                data: vec![1, 2, 3],
            });
        }
        ids.push(conn.send(message).await.unwrap().provider_message_id);
    }
    let received = net.received("a", 2);
    assert_eq!(received.count, 5);
    let newest: Vec<&str> = received.messages.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(newest, [ids[3].as_str(), ids[4].as_str()], "newest last");
    assert_eq!(
        received.messages[1].media,
        Some(MediaInfo {
            mime_type: "image/jpeg".into(),
            filename: Some("x.jpg".into()),
            size: 3
        })
    );
    assert_eq!(net.received("a", 0).messages, []);
    assert_eq!(net.received("nobody", 10).count, 0);
}

#[tokio::test]
async fn read_receipts_and_typing_sent_are_recorded() {
    let net = SandboxNetwork::new(slow());
    let (mut conn, _events, _) = linked(&net, "a").await;
    let ids = vec!["IN1".to_string(), "IN2".to_string()];
    conn.mark_read("+15550003000", &ids).await.unwrap();
    conn.typing("+15550003000", true).await.unwrap();
    conn.typing("+15550003000", false).await.unwrap();
    let reads = net.reads("a");
    assert_eq!(reads.len(), 1);
    assert_eq!(
        (reads[0].chat.as_str(), &reads[0].ids),
        ("+15550003000", &ids)
    );
    assert!(reads[0].at > 0);
    let typing: Vec<bool> = net.typing_sent("a").iter().map(|t| t.typing).collect();
    assert_eq!(typing, [true, false]);
    // A silent connection sends nothing.
    net.go_silent("a").unwrap();
    let marked = tokio::time::timeout(
        Duration::from_millis(50),
        conn.mark_read("+15550003000", &ids),
    )
    .await;
    assert!(marked.is_err());
    assert_eq!(net.reads("a").len(), 1);
}
