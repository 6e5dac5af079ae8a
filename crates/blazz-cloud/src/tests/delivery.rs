//! Webhook calls the fake signs and posts, taken by a local endpoint as
//! the app takes them, and routed into the session open for their number.

use axum::body::Bytes;
use axum::http::HeaderMap;
use axum::routing::post;
use axum::Router;
use blazz_provider::{MessageBody, ProviderEvent, ReceiptStatus};
use serde_json::json;
use tokio::sync::mpsc;

use super::provider::{open, outbound};
use crate::webhook::{self, SIGNATURE_HEADER};

/// A local endpoint that takes webhook calls as the app would: it checks
/// the signature over the raw body and hands what it read over.
async fn receiver(secret: String) -> (String, mpsc::Receiver<(bool, Vec<u8>)>) {
    let (tx, rx) = mpsc::channel(64);
    let app = Router::new().route(
        "/webhooks/meta",
        post(move |headers: HeaderMap, body: Bytes| {
            let tx = tx.clone();
            let secret = secret.clone();
            async move {
                let sig = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
                let ok = webhook::verify_signature(&secret, &body, sig);
                let _ = tx.send((ok, body.to_vec())).await;
                if ok {
                    axum::http::StatusCode::OK
                } else {
                    axum::http::StatusCode::UNAUTHORIZED
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/webhooks/meta", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, rx)
}

#[tokio::test]
async fn webhook_calls_reach_the_open_session_with_media_downloaded() {
    let mut o = open().await;
    let creds = o.fake.credentials();
    let (url, mut calls) = receiver(creds.app_secret.clone()).await;
    o.fake.set_webhook_url(url);
    let media_id = o
        .fake
        .add_media(&creds.phone_number_id, "image/jpeg", vec![9, 9, 9]);
    let (wamid, status) = o
        .fake
        .deliver_inbound(&creds.phone_number_id, "+16315551181", "Jane",
            json!({"type": "image", "image": {"id": media_id, "mime_type": "image/jpeg", "caption": "pic"}}))
        .await
        .unwrap();
    assert_eq!(status, 200);
    let (signed, raw) = calls.recv().await.unwrap();
    assert!(signed);
    for change in webhook::parse(&raw).unwrap() {
        assert!(o.provider.deliver_change(change).await);
    }
    let Some(ProviderEvent::Message(m)) = o.events.recv().await else {
        panic!()
    };
    assert_eq!(m.provider_message_id, wamid);
    assert_eq!(m.from, "+16315551181");
    assert_eq!(m.push_name.as_deref(), Some("Jane"));
    assert_eq!(
        m.body,
        MessageBody::Image {
            media_id,
            caption: Some("pic".into())
        }
    );
    let media = m.media.unwrap();
    assert_eq!(
        (media.mime_type.as_str(), media.data),
        ("image/jpeg", vec![9, 9, 9])
    );

    // Now typing answers that message, and a read mark uses the newest.
    o.conn.typing("+16315551181", true).await.unwrap();
    o.conn
        .mark_read("+16315551181", &["wamid.older".into(), wamid.clone()])
        .await
        .unwrap();
    let reads = o.fake.reads();
    assert_eq!(reads[0]["message_id"], json!(wamid));
    assert_eq!(reads[0]["typing_indicator"], json!({"type": "text"}));
    assert_eq!(reads.len(), 2);
    assert_eq!(reads[1]["message_id"], json!(wamid));
}

#[tokio::test]
async fn statuses_posted_after_a_send_become_receipts() {
    let mut o = open().await;
    let creds = o.fake.credentials();
    let (url, mut calls) = receiver(creds.app_secret.clone()).await;
    o.fake.set_webhook_url(url);
    o.fake.auto_statuses(&["sent", "delivered", "read"]);
    let sent = o
        .conn
        .send(outbound(MessageBody::Text { text: "hi".into() }, None))
        .await
        .unwrap();
    let mut got = Vec::new();
    for _ in 0..3 {
        let (signed, raw) = calls.recv().await.unwrap();
        assert!(signed);
        for change in webhook::parse(&raw).unwrap() {
            assert!(o.provider.deliver_change(change).await);
        }
        match o.events.recv().await {
            Some(ProviderEvent::Receipt {
                provider_message_id,
                status,
                error,
                ..
            }) => {
                assert_eq!(provider_message_id, sent.provider_message_id);
                assert_eq!(error, None);
                got.push(status);
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(
        got,
        vec![
            ReceiptStatus::Sent,
            ReceiptStatus::Delivered,
            ReceiptStatus::Read
        ]
    );

    // A failed status carries Meta's reason, attributed to Meta.
    o.fake
        .deliver_status(&creds.phone_number_id, &sent.provider_message_id, "+15551234567", "failed",
            vec![json!({"code": 131026, "title": "Message undeliverable",
                        "message": "Message undeliverable",
                        "error_data": {"details": "Receiver is incapable of receiving this message"}})])
        .await
        .unwrap();
    let (_, raw) = calls.recv().await.unwrap();
    for change in webhook::parse(&raw).unwrap() {
        assert!(o.provider.deliver_change(change).await);
    }
    let Some(ProviderEvent::Receipt { status, error, .. }) = o.events.recv().await else {
        panic!()
    };
    assert_eq!(status, ReceiptStatus::Failed);
    assert_eq!(
        error.as_deref(),
        Some("[Meta error 131026: Message undeliverable: Receiver is incapable of receiving this message]")
    );
}

#[tokio::test]
async fn bad_signatures_and_template_statuses_from_the_fake() {
    let o = open().await;
    let creds = o.fake.credentials();
    let (url, mut calls) = receiver(creds.app_secret.clone()).await;
    o.fake.set_webhook_url(url);
    let status = o
        .fake
        .send_raw_webhook(b"{}".to_vec(), Some("sha256=00".into()))
        .await
        .unwrap();
    assert_eq!(status, 401);
    assert!(!calls.recv().await.unwrap().0);
    let status = o.fake.send_raw_webhook(b"{}".to_vec(), None).await.unwrap();
    assert_eq!(status, 401);
    calls.recv().await.unwrap();
    let status = o
        .fake
        .deliver_template_status(
            &creds.business_account_id,
            "594425479261596",
            "order_update",
            "en_US",
            "APPROVED",
            None,
        )
        .await
        .unwrap();
    assert_eq!(status, 200);
    let (signed, raw) = calls.recv().await.unwrap();
    assert!(signed);
    let changes = webhook::parse(&raw).unwrap();
    let webhook::Change::TemplateStatus(t) = &changes[0] else {
        panic!("{changes:?}")
    };
    assert_eq!(
        (t.template_id.as_str(), t.event.as_str()),
        ("594425479261596", "APPROVED")
    );
    // Template statuses are the app's, not a session's.
    assert!(!o.provider.deliver_change(changes[0].clone()).await);
}
