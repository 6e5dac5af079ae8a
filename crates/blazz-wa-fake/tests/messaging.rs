//! Two real clients talk through the server: Signal end to end, the server
//! only routes.

use std::sync::Arc;
use std::time::Duration;

use blazz_wa_fake::FakeWhatsApp;
use whatsapp_rust::types::events::Event;
use whatsapp_rust::types::presence::ChatPresence;
use whatsapp_rust::wacore::store::InMemoryBackend;

const WAIT: Duration = Duration::from_secs(40);

#[tokio::test]
async fn text_both_ways_with_receipts_and_typing() {
    let fake = FakeWhatsApp::new();
    let (business, customer) =
        tokio::join!(fake.customer("15550000001"), fake.customer("15550000002"));
    let (business, customer) = (business.unwrap(), customer.unwrap());

    let id = customer
        .send_text("15550000001", "hello shop")
        .await
        .unwrap();
    let got = business.next_message(WAIT).await.unwrap();
    assert_eq!(got.text.as_deref(), Some("hello shop"));
    assert_eq!(got.from, "15550000002");
    assert_eq!(got.id, id);
    let (rid, kind) = customer.next_receipt(WAIT).await.unwrap();
    assert_eq!((rid.as_str(), kind.as_str()), (id.as_str(), "delivery"));
    business
        .mark_read("15550000002", std::slice::from_ref(&id))
        .await
        .unwrap();
    let (rid, kind) = customer.next_receipt(WAIT).await.unwrap();
    assert_eq!((rid.as_str(), kind.as_str()), (id.as_str(), "read"));

    let back = business.send_text("15550000002", "hi there").await.unwrap();
    let got = customer.next_message(WAIT).await.unwrap();
    assert_eq!(got.text.as_deref(), Some("hi there"));
    assert_eq!(got.id, back);

    customer.typing("15550000001", true).await.unwrap();
    let state = business
        .device()
        .wait_for(WAIT, |e| match e {
            Event::ChatPresence(p) => Some((p.source.chat.user.to_string(), p.state)),
            _ => None,
        })
        .await
        .unwrap();
    assert_eq!(state.0, "15550000002");
    assert!(matches!(state.1, ChatPresence::Composing));
    customer.shutdown().await;
    business.shutdown().await;
}

#[tokio::test]
async fn an_image_goes_both_ways_byte_for_byte() {
    let fake = FakeWhatsApp::new();
    let (business, customer) =
        tokio::join!(fake.customer("15550000011"), fake.customer("15550000012"));
    let (business, customer) = (business.unwrap(), customer.unwrap());
    let picture: Vec<u8> = (0..50_000u32).map(|i| (i * 7 % 251) as u8).collect();
    customer
        .send_image(
            "15550000011",
            picture.clone(),
            "image/jpeg",
            Some("the receipt"),
        )
        .await
        .unwrap();
    let got = business.next_message(WAIT).await.unwrap();
    assert_eq!(got.image.as_deref(), Some(picture.as_slice()));
    assert_eq!(got.caption.as_deref(), Some("the receipt"));
    assert_eq!(got.image_mime.as_deref(), Some("image/jpeg"));

    let reply: Vec<u8> = picture.iter().rev().copied().collect();
    business
        .send_image("15550000012", reply.clone(), "image/png", None)
        .await
        .unwrap();
    let got = customer.next_message(WAIT).await.unwrap();
    assert_eq!(got.image.as_deref(), Some(reply.as_slice()));
    customer.shutdown().await;
    business.shutdown().await;
}

#[tokio::test]
async fn a_message_to_an_offline_device_arrives_when_it_logs_in() {
    let fake = FakeWhatsApp::new();
    let backend = Arc::new(InMemoryBackend::new());
    let (shop, customer) = tokio::join!(
        fake.link_new_client("15550000021", backend.clone()),
        fake.customer("15550000022")
    );
    let (shop, customer) = (shop.unwrap(), customer.unwrap());
    shop.shutdown().await;
    let id = customer
        .send_text("15550000021", "are you open?")
        .await
        .unwrap();
    let shop = fake.start_client(backend).await.unwrap();
    let text = shop
        .wait_for(WAIT, |e| match e {
            Event::Messages(batch) => batch
                .messages
                .first()
                .map(|m| (m.info.id.to_string(), m.message.conversation.clone())),
            _ => None,
        })
        .await
        .unwrap();
    assert_eq!(text, (id, Some("are you open?".to_string())));
    shop.shutdown().await;
    customer.shutdown().await;
}
