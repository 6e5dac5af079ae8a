//! `CloudProvider` end to end against the fake: opening with good and bad
//! credentials, sends (uploading media first), pacing, read marks and
//! typing, and the registry of open sessions.

use std::sync::Arc;
use std::time::Duration;

use blazz_provider::{
    AccountRef, Connection, Media, MessageBody, OutboundMessage, Provider, ProviderError,
    ProviderEvent,
};
use serde_json::json;
use tokio::sync::mpsc;

use crate::config::CloudOptions;
use crate::fake::FakeGraph;
use crate::outbound::{CloudBody, MediaKind, MediaRef, SendBody, SendRequest};
use crate::provider::CloudProvider;

pub(super) struct Opened {
    pub fake: FakeGraph,
    pub provider: CloudProvider,
    pub conn: Box<dyn Connection>,
    pub events: mpsc::Receiver<ProviderEvent>,
}

pub(super) async fn open() -> Opened {
    let fake = FakeGraph::start().await.unwrap();
    let provider = CloudProvider::new(fake.graph_config(), CloudOptions::default()).unwrap();
    let (tx, mut events) = mpsc::channel(64);
    let account = AccountRef {
        id: "acc-1".into(),
        phone: None,
        credentials: Some(fake.credentials().to_bytes()),
    };
    let conn = provider.open(account, tx).await.unwrap();
    assert_eq!(events.recv().await, Some(ProviderEvent::Connected));
    Opened {
        fake,
        provider,
        conn,
        events,
    }
}

pub(super) fn outbound(body: MessageBody, media: Option<Media>) -> OutboundMessage {
    OutboundMessage {
        id: "blazz-msg-1".into(),
        to: "+15551234567".into(),
        body,
        reply_to: None,
        media,
    }
}

#[tokio::test]
async fn open_checks_the_credentials_and_reports_connected() {
    let o = open().await;
    assert!(o.provider.is_open("acc-1"));
    let (account, creds) = o
        .provider
        .open_account_for_number(&o.fake.credentials().phone_number_id)
        .unwrap();
    assert_eq!(account, "acc-1");
    assert_eq!(creds, o.fake.credentials());
    assert!(o.fake.requests()[0].starts_with("GET /v23.0/106540352242922?fields="));
}

#[tokio::test]
async fn refused_or_missing_credentials_are_logged_out_and_an_unreachable_meta_transient() {
    let fake = FakeGraph::start().await.unwrap();
    let provider = CloudProvider::new(fake.graph_config(), CloudOptions::default()).unwrap();
    let (tx, _rx) = mpsc::channel(8);
    let mut creds = fake.credentials();
    creds.access_token = "revoked".into();
    let with = |c: Option<Vec<u8>>| AccountRef {
        id: "a".into(),
        phone: None,
        credentials: c,
    };
    let err = provider
        .open(with(Some(creds.to_bytes())), tx.clone())
        .await
        .err()
        .unwrap();
    assert!(
        matches!(err, ProviderError::LoggedOut(ref m) if m.contains("[Meta error 190")),
        "{err}"
    );
    let err = provider.open(with(None), tx.clone()).await.err().unwrap();
    assert!(matches!(err, ProviderError::LoggedOut(_)));
    let err = provider
        .open(with(Some(b"{}".to_vec())), tx.clone())
        .await
        .err()
        .unwrap();
    assert!(matches!(err, ProviderError::LoggedOut(_)));
    assert!(!provider.is_open("a"));
    let offline = CloudProvider::new(
        crate::config::GraphConfig::new("http://127.0.0.1:9", "v23.0"),
        CloudOptions::default(),
    )
    .unwrap();
    let err = offline
        .open(with(Some(fake.credentials().to_bytes())), tx)
        .await
        .err()
        .unwrap();
    assert!(matches!(err, ProviderError::Transient(_)), "{err}");
}

#[tokio::test]
async fn a_media_send_uploads_the_bytes_first_and_sends_by_metas_id() {
    let mut o = open().await;
    let media = Media {
        mime_type: "image/jpeg".into(),
        filename: None,
        data: vec![1, 2, 3],
    };
    let body = MessageBody::Image {
        media_id: "blazz-media-7".into(),
        caption: Some("hi".into()),
    };
    let sent = o.conn.send(outbound(body, Some(media))).await.unwrap();
    let uploads = o.fake.uploads();
    assert_eq!(uploads.len(), 1);
    let msg = &o.fake.sent()[0];
    assert_eq!(sent.provider_message_id, msg.wamid);
    assert_eq!(
        msg.body["image"],
        json!({"id": uploads[0].id, "caption": "hi"})
    );
    // Blazz's id rides along, to be echoed in this message's statuses.
    assert_eq!(msg.body["biz_opaque_callback_data"], "blazz-msg-1");
}

#[tokio::test]
async fn cloud_sends_upload_template_header_media_too() {
    let o = open().await;
    let req = SendRequest {
        to: "+15551234567".into(),
        body: SendBody::Cloud(CloudBody::Media {
            kind: MediaKind::Document,
            media: MediaRef::Upload(Media {
                mime_type: "application/pdf".into(),
                filename: Some("inv.pdf".into()),
                data: b"%PDF".to_vec(),
            }),
            caption: None,
            filename: Some("inv.pdf".into()),
        }),
        reply_to: None,
        callback_data: None,
    };
    o.provider.send("acc-1", req.clone()).await.unwrap();
    let id = o.fake.uploads()[0].id.clone();
    assert_eq!(
        o.fake.sent()[0].body["document"],
        json!({"id": id, "filename": "inv.pdf"})
    );
    let err = o.provider.send("acc-unknown", req).await.unwrap_err();
    assert_eq!(err, ProviderError::NotConnected);
}

#[tokio::test]
async fn metas_errors_reach_the_engine_with_the_right_kind() {
    let mut o = open().await;
    let text = || outbound(MessageBody::Text { text: "x".into() }, None);
    o.fake
        .fail_next_send(131047, None, "(#131047) Re-engagement message", 400);
    let err = o.conn.send(text()).await.unwrap_err();
    assert!(
        matches!(err, ProviderError::Permanent(ref m) if m.starts_with("outside the 24-hour window")),
        "{err}"
    );
    o.fake
        .fail_next_send(131000, None, "Something went wrong", 500);
    assert!(matches!(
        o.conn.send(text()).await,
        Err(ProviderError::Transient(_))
    ));
    o.fake
        .fail_next_send(190, None, "Error validating access token", 401);
    assert!(matches!(
        o.conn.send(text()).await,
        Err(ProviderError::LoggedOut(_))
    ));
}

#[tokio::test]
async fn a_rate_limit_error_holds_the_number_back_before_the_next_send() {
    let mut o = open().await;
    let number = o.fake.credentials().phone_number_id;
    let text = || outbound(MessageBody::Text { text: "x".into() }, None);
    o.conn.send(text()).await.unwrap();
    // One send books one slot of 1/80 s at most.
    assert!(o.provider.next_send_in(&number) <= Duration::from_micros(12_500));
    o.fake
        .fail_next_send(130429, None, "(#130429) Rate limit hit", 429);
    assert!(o.conn.send(text()).await.is_err());
    // The pacer holds the number back (its decisions are checked without
    // waiting in `pacer`): the next send would wait, at most the back-off.
    let wait = o.provider.next_send_in(&number);
    assert!(
        wait > Duration::from_micros(12_500) && wait <= crate::pacer::BACK_OFF,
        "{wait:?}"
    );
    // Another number is not held back.
    assert_eq!(o.provider.next_send_in("999"), Duration::ZERO);
}

#[tokio::test]
async fn unsupported_commands_say_so() {
    let mut o = open().await;
    assert!(matches!(
        o.conn.presence(true).await,
        Err(ProviderError::Unsupported(_))
    ));
    assert!(matches!(
        o.conn.request_pair_code("+1555").await,
        Err(ProviderError::Unsupported(_))
    ));
    // Typing needs a message of the contact to answer.
    assert!(matches!(
        o.conn.typing("+16315551181", true).await,
        Err(ProviderError::Unsupported(_))
    ));
    assert_eq!(o.conn.typing("+16315551181", false).await, Ok(()));
    o.conn.probe().await.unwrap();
}

#[tokio::test]
async fn closing_or_dropping_the_connection_takes_it_out_of_the_registry() {
    let mut o = open().await;
    let events = vec![ProviderEvent::Presence {
        from: "+1".into(),
        available: true,
    }];
    assert!(o.provider.deliver("acc-1", events.clone()).await);
    o.conn.close().await;
    assert!(!o.provider.is_open("acc-1"));
    assert!(!o.provider.deliver("acc-1", events.clone()).await);
    assert!(matches!(
        o.conn
            .send(outbound(MessageBody::Text { text: "x".into() }, None))
            .await,
        Err(ProviderError::NotConnected)
    ));

    let o2 = open().await;
    let provider = o2.provider.clone();
    assert!(provider.is_open("acc-1"));
    drop(o2.conn);
    assert!(!provider.is_open("acc-1"));
    let _ = Arc::new(o2.fake);
}

#[tokio::test]
async fn a_reopened_session_is_not_removed_by_the_old_connections_drop() {
    let fake = FakeGraph::start().await.unwrap();
    let provider = CloudProvider::new(fake.graph_config(), CloudOptions::default()).unwrap();
    let account = || AccountRef {
        id: "acc".into(),
        phone: None,
        credentials: Some(fake.credentials().to_bytes()),
    };
    let (tx1, _rx1) = mpsc::channel(8);
    let old = provider.open(account(), tx1).await.unwrap();
    let (tx2, mut rx2) = mpsc::channel(8);
    let _new = provider.open(account(), tx2).await.unwrap();
    assert_eq!(rx2.recv().await, Some(ProviderEvent::Connected));
    drop(old);
    assert!(provider.is_open("acc"));
    let ev = ProviderEvent::Typing {
        from: "+1".into(),
        typing: true,
    };
    assert!(provider.deliver("acc", vec![ev.clone()]).await);
    assert_eq!(rx2.recv().await, Some(ev));
}

#[tokio::test]
async fn typing_answers_a_message_delivered_in_a_durable_batch() {
    let mut o = open().await;
    let message = blazz_provider::InboundMessage {
        provider_message_id: "wamid.IN9".into(),
        from: "+16315551181".into(),
        push_name: None,
        body: MessageBody::Text { text: "hi".into() },
        reply_to: None,
        timestamp_ms: 1,
        media: None,
    };
    let (stored, _rx) = blazz_provider::StoredSignal::new();
    let batch = ProviderEvent::Durable {
        events: vec![ProviderEvent::Message(message)],
        stored,
    };
    assert!(o.provider.deliver("acc-1", vec![batch]).await);
    assert!(matches!(
        o.events.recv().await,
        Some(ProviderEvent::Durable { .. })
    ));
    o.conn.typing("+16315551181", true).await.unwrap();
    assert_eq!(o.fake.reads()[0]["message_id"], "wamid.IN9");
}
