//! The network through the provider boundary, as the session engine sees
//! it: a connection and a channel of events.

mod journal;
mod sends;

use std::time::Duration;

use blazz_provider::{
    AccountRef, Connection, InboundMessage, MessageBody, OutboundMessage, Provider, ProviderError,
    ProviderEvent, ReceiptStatus,
};
use tokio::sync::mpsc;

use crate::{Pacing, SandboxError, SandboxNetwork, SandboxProvider, Timing};

type Events = mpsc::Receiver<ProviderEvent>;

fn quick() -> Timing {
    Timing {
        qr_first: Duration::from_secs(5),
        qr_rotate: Duration::from_secs(5),
        qr_codes: 6,
        delivered_after: Duration::from_millis(10),
        read_after: Duration::from_millis(10),
    }
}

async fn next(events: &mut Events) -> ProviderEvent {
    tokio::time::timeout(Duration::from_secs(5), events.recv())
        .await
        .expect("no event in time")
        .expect("the event channel closed")
}

async fn open(
    net: &SandboxNetwork,
    account: &str,
    credentials: Option<Vec<u8>>,
) -> (Result<Box<dyn Connection>, ProviderError>, Events) {
    let (tx, rx) = mpsc::channel(64);
    let provider = SandboxProvider {
        network: net.clone(),
    };
    let account = AccountRef {
        id: account.into(),
        phone: None,
        credentials,
    };
    (provider.open(account, tx).await, rx)
}

fn qr(event: ProviderEvent) -> String {
    match event {
        ProviderEvent::QrCode { code, .. } => code,
        other => panic!("expected a QR code, got {other:?}"),
    }
}

/// A number linked by QR: its connection, events and credentials.
async fn linked(net: &SandboxNetwork, account: &str) -> (Box<dyn Connection>, Events, Vec<u8>) {
    let (conn, mut events) = open(net, account, None).await;
    let code = qr(next(&mut events).await);
    net.scan(account, &code, Some("+15550001000".into()))
        .unwrap();
    let credentials = match next(&mut events).await {
        ProviderEvent::Linked { phone, credentials } => {
            assert_eq!(phone, "+15550001000");
            credentials
        }
        other => panic!("expected the link, got {other:?}"),
    };
    assert_eq!(next(&mut events).await, ProviderEvent::Connected);
    (conn.unwrap(), events, credentials)
}

fn text(to: &str) -> OutboundMessage {
    OutboundMessage {
        id: format!("T{}", rand::random::<u64>()),
        to: to.into(),
        body: MessageBody::Text { text: "hi".into() },
        reply_to: None,
        media: None,
    }
}

fn from(customer: &str) -> InboundMessage {
    InboundMessage {
        provider_message_id: format!("IN{customer}"),
        from: customer.into(),
        push_name: None,
        body: MessageBody::Text {
            text: "hello".into(),
        },
        reply_to: None,
        timestamp_ms: 0,
        media: None,
    }
}

fn cold(i: usize) -> String {
    format!("+1555900{i:04}")
}

fn pacing(per_minute: u32, ban: Duration) -> Pacing {
    Pacing {
        per_minute,
        ban,
        ..Pacing::default()
    }
}

#[tokio::test]
async fn a_wrong_code_is_refused_and_the_right_one_links() {
    let net = SandboxNetwork::new(quick());
    assert_eq!(
        net.scan("a", "2@anything", None),
        Err(SandboxError::NotLinking)
    );
    let (conn, mut events) = open(&net, "a", None).await;
    let code = qr(next(&mut events).await);
    assert_eq!(
        net.scan("a", "2@forged", None),
        Err(SandboxError::WrongCode)
    );
    assert!(!net.is_live("a"));
    net.scan("a", &code, None).unwrap();
    match next(&mut events).await {
        ProviderEvent::Linked { phone, credentials } => {
            assert!(phone.starts_with("+1555"), "{phone}");
            assert!(credentials.starts_with(b"sbx-device-"));
        }
        other => panic!("expected the link, got {other:?}"),
    }
    assert_eq!(next(&mut events).await, ProviderEvent::Connected);
    assert!(net.is_live("a"));
    // The code was used up.
    assert_eq!(net.scan("a", &code, None), Err(SandboxError::NotLinking));
    drop(conn);
}

#[tokio::test]
async fn a_pair_code_links_the_number_it_was_asked_for() {
    let net = SandboxNetwork::new(quick());
    let (conn, mut events) = open(&net, "a", None).await;
    let mut conn = conn.unwrap();
    qr(next(&mut events).await);
    assert!(matches!(
        conn.request_pair_code("5551234").await,
        Err(ProviderError::Permanent(_))
    ));
    conn.request_pair_code("+15551234567").await.unwrap();
    let code = match next(&mut events).await {
        ProviderEvent::PairCode { code, .. } => code,
        other => panic!("expected a pair code, got {other:?}"),
    };
    assert_eq!(code.len(), 9, "{code}");
    // Typed on the phone, without the dash and in lower case.
    let typed = code.replace('-', "").to_lowercase();
    net.scan("a", &typed, Some("+19990000000".into())).unwrap();
    match next(&mut events).await {
        ProviderEvent::Linked { phone, .. } => assert_eq!(phone, "+15551234567"),
        other => panic!("expected the link, got {other:?}"),
    }
    assert_eq!(next(&mut events).await, ProviderEvent::Connected);
}

#[tokio::test]
async fn qr_codes_rotate_a_set_number_of_times_then_linking_times_out() {
    let net = SandboxNetwork::new(Timing {
        qr_first: Duration::from_millis(60),
        qr_rotate: Duration::from_millis(30),
        qr_codes: 3,
        ..quick()
    });
    let (_conn, mut events) = open(&net, "a", None).await;
    let mut codes = Vec::new();
    for _ in 0..3 {
        codes.push(qr(next(&mut events).await));
    }
    codes.dedup();
    assert_eq!(codes.len(), 3, "each rotation shows a new code");
    assert_eq!(next(&mut events).await, ProviderEvent::LinkTimedOut);
    assert_eq!(
        net.scan("a", &codes[2], None),
        Err(SandboxError::NotLinking)
    );
}

#[tokio::test]
async fn a_rotated_code_no_longer_links() {
    let net = SandboxNetwork::new(Timing {
        qr_first: Duration::from_millis(30),
        ..quick()
    });
    let (_conn, mut events) = open(&net, "a", None).await;
    let first = qr(next(&mut events).await);
    let second = qr(next(&mut events).await);
    assert_eq!(net.scan("a", &first, None), Err(SandboxError::WrongCode));
    net.scan("a", &second, None).unwrap();
    assert!(matches!(
        next(&mut events).await,
        ProviderEvent::Linked { .. }
    ));
}

#[tokio::test]
async fn credentials_restore_the_link_until_the_phone_unlinks_it() {
    let net = SandboxNetwork::new(quick());
    let (mut conn, _events, creds) = linked(&net, "a").await;
    conn.close().await;
    let (again, mut events) = open(&net, "a", Some(creds.clone())).await;
    assert!(again.is_ok());
    assert_eq!(next(&mut events).await, ProviderEvent::Connected);
    net.log_out("a").unwrap();
    assert!(matches!(
        next(&mut events).await,
        ProviderEvent::LoggedOut { .. }
    ));
    let (_, mut events) = open(&net, "a", Some(creds)).await;
    assert!(matches!(
        next(&mut events).await,
        ProviderEvent::LoggedOut { .. }
    ));
}

#[tokio::test]
async fn an_outage_drops_the_connection_and_fails_every_open_until_it_ends() {
    let net = SandboxNetwork::new(quick());
    let (_conn, mut events, creds) = linked(&net, "a").await;
    net.outage("a", true);
    assert!(matches!(
        next(&mut events).await,
        ProviderEvent::Disconnected { .. }
    ));
    assert!(!net.is_live("a"));
    for credentials in [Some(creds.clone()), None] {
        let (opened, _) = open(&net, "a", credentials).await;
        assert_eq!(
            opened.err(),
            Some(ProviderError::Transient("network unreachable".into()))
        );
    }
    // Other numbers are not affected.
    linked(&net, "b").await;

    net.outage("a", false);
    let (opened, mut events) = open(&net, "a", Some(creds)).await;
    assert!(opened.is_ok());
    assert_eq!(next(&mut events).await, ProviderEvent::Connected);
    assert!(net.is_live("a"));
}

#[tokio::test]
async fn sends_get_delivered_then_read_receipts() {
    let net = SandboxNetwork::new(quick());
    let (mut conn, mut events, _) = linked(&net, "a").await;
    let message = text("+15550002000");
    let sent = conn.send(message.clone()).await.unwrap();
    assert_eq!(
        sent.provider_message_id, message.id,
        "the client's id is the message's"
    );
    for want in [ReceiptStatus::Delivered, ReceiptStatus::Read] {
        match next(&mut events).await {
            ProviderEvent::Receipt {
                provider_message_id,
                status,
                ..
            } => {
                assert_eq!(provider_message_id, sent.provider_message_id);
                assert_eq!(status, want);
            }
            other => panic!("expected a receipt, got {other:?}"),
        }
    }
    assert!(matches!(
        conn.send(text("15550002000")).await,
        Err(ProviderError::Permanent(_))
    ));
}

#[tokio::test]
async fn customers_presence_and_typing_reach_the_connection() {
    let net = SandboxNetwork::new(quick());
    assert_eq!(
        net.presence("a", "+15550003000", true),
        Err(SandboxError::NotConnected)
    );
    let (_conn, mut events, _) = linked(&net, "a").await;
    net.presence("a", "+15550003000", true).unwrap();
    net.typing("a", "+15550003000", true).unwrap();
    assert_eq!(
        next(&mut events).await,
        ProviderEvent::Presence {
            from: "+15550003000".into(),
            available: true
        }
    );
    assert_eq!(
        next(&mut events).await,
        ProviderEvent::Typing {
            from: "+15550003000".into(),
            typing: true
        }
    );
}

/// Sends until one fails; the receipts are left in the channel.
async fn send_all(conn: &mut Box<dyn Connection>, to: &[String]) -> Result<(), ProviderError> {
    for t in to {
        conn.send(text(t)).await?;
    }
    Ok(())
}

async fn banned_event(events: &mut Events) -> String {
    loop {
        match next(events).await {
            ProviderEvent::Receipt { .. } => continue,
            ProviderEvent::Banned { reason } => return reason,
            other => panic!("expected a ban, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn messaging_contacts_who_never_wrote_too_fast_bans_the_number_for_a_while() {
    let net = SandboxNetwork::new(quick()).with_pacing(pacing(3, Duration::from_millis(300)));
    let (mut conn, mut events, creds) = linked(&net, "a").await;
    let four: Vec<String> = (0..4).map(cold).collect();
    send_all(&mut conn, &four[..3]).await.unwrap();
    let refused = conn.send(text(&four[3])).await;
    let Err(ProviderError::Permanent(why)) = refused else {
        panic!("the fourth cold message went out: {refused:?}");
    };
    assert!(
        why.starts_with("temporarily banned: sent 4 messages"),
        "{why}"
    );
    assert!(why.ends_with("in the last minute"), "{why}");
    assert_eq!(banned_event(&mut events).await, why);
    assert!(net.is_banned("a") && !net.is_live("a"));

    // Banned until the ban runs out: opening says so.
    let (_, mut events) = open(&net, "a", Some(creds.clone())).await;
    assert_eq!(
        next(&mut events).await,
        ProviderEvent::Banned {
            reason: "the number is temporarily banned".into()
        }
    );
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert!(!net.is_banned("a"));
    let (conn, mut events) = open(&net, "a", Some(creds)).await;
    assert_eq!(next(&mut events).await, ProviderEvent::Connected);
    // The slate is clean: three more cold messages go out.
    send_all(&mut conn.unwrap(), &four[..3]).await.unwrap();
}

#[tokio::test]
async fn messages_to_contacts_who_wrote_first_do_not_count() {
    let net = SandboxNetwork::new(quick()).with_pacing(pacing(3, Duration::from_secs(60)));
    let (mut conn, _events, _) = linked(&net, "a").await;
    let warm: Vec<String> = (0..10).map(cold).collect();
    for customer in &warm {
        net.inbound("a", from(customer)).unwrap();
    }
    send_all(&mut conn, &warm).await.unwrap();
    send_all(&mut conn, &warm).await.unwrap();
    // Cold ones still count, from zero.
    let others: Vec<String> = (100..103).map(cold).collect();
    send_all(&mut conn, &others).await.unwrap();
    assert!(!net.is_banned("a"));
    // A message that never arrived (no live connection) makes no contact.
    assert_eq!(
        net.inbound("b", from(&cold(200))),
        Err(SandboxError::NotConnected)
    );
}

#[tokio::test]
async fn enforcement_switches_off_and_on_per_number() {
    let net = SandboxNetwork::new(quick()).with_pacing(pacing(3, Duration::from_secs(60)));
    let (mut fast, _fast_events, _) = linked(&net, "fast").await;
    net.enforce_pacing("fast", false);
    let ten: Vec<String> = (0..10).map(cold).collect();
    send_all(&mut fast, &ten).await.unwrap();
    assert!(!net.is_banned("fast"));

    // Other numbers keep the network's default.
    let (mut slow, _slow_events, _) = linked(&net, "slow").await;
    assert!(send_all(&mut slow, &ten).await.is_err());
    assert!(net.is_banned("slow"));

    // Switched back on, the limits count from there.
    net.enforce_pacing("fast", true);
    send_all(&mut fast, &ten[..3]).await.unwrap();
    assert!(fast.send(text(&ten[3])).await.is_err());
    assert!(net.is_banned("fast"));
}

#[tokio::test]
async fn a_network_without_enforcement_only_bans_numbers_switched_on() {
    let net = SandboxNetwork::new(quick()).with_pacing(Pacing {
        enforce: false,
        ..pacing(3, Duration::from_secs(60))
    });
    let (mut conn, _events, _) = linked(&net, "a").await;
    let ten: Vec<String> = (0..10).map(cold).collect();
    send_all(&mut conn, &ten).await.unwrap();
    net.enforce_pacing("a", true);
    assert!(send_all(&mut conn, &ten).await.is_err());
}
