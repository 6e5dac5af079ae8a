//! What the server does to a linked client's connection, and the client's answer.

use std::sync::Arc;
use std::time::Duration;

use blazz_wa_fake::{FakeWhatsApp, TestClient};
use whatsapp_rust::types::events::Event;
use whatsapp_rust::wacore::store::InMemoryBackend;

const WAIT: Duration = Duration::from_secs(40);

async fn linked(fake: &FakeWhatsApp, phone: &str) -> anyhow::Result<TestClient> {
    fake.link_new_client(phone, Arc::new(InMemoryBackend::new()))
        .await
}

#[tokio::test]
async fn dropped_connection_reconnects_and_connects_again() {
    let fake = FakeWhatsApp::new();
    let client = linked(&fake, "15551230011").await.unwrap();
    fake.drop_connections("15551230011").await;
    client
        .wait_for(WAIT, |e| matches!(e, Event::Disconnected(_)).then_some(()))
        .await
        .unwrap();
    client.connected(WAIT).await.unwrap();
    client.shutdown().await;
}

#[tokio::test]
async fn stream_error_515_restarts_the_stream() {
    let fake = FakeWhatsApp::new();
    let client = linked(&fake, "15551230012").await.unwrap();
    fake.stream_error("15551230012", 515).await;
    client.connected(WAIT).await.unwrap();
    client.shutdown().await;
}

#[tokio::test]
async fn stream_error_409_means_replaced() {
    let fake = FakeWhatsApp::new();
    let client = linked(&fake, "15551230013").await.unwrap();
    fake.stream_error("15551230013", 409).await;
    client
        .wait_for(WAIT, |e| {
            matches!(e, Event::StreamReplaced(_)).then_some(())
        })
        .await
        .unwrap();
    client.shutdown().await;
}

#[tokio::test]
async fn temporary_ban_reaches_the_client_with_its_expiry() {
    let fake = FakeWhatsApp::new();
    let client = linked(&fake, "15551230014").await.unwrap();
    fake.temporary_ban("15551230014", Duration::from_secs(3600))
        .await;
    let expire = client
        .wait_for(WAIT, |e| match e {
            Event::TemporaryBan(ban) => Some(ban.expire),
            _ => None,
        })
        .await
        .unwrap();
    let secs = expire.num_seconds();
    assert!((3590..=3600).contains(&secs), "expiry {secs}s");
    client.shutdown().await;
}

#[tokio::test]
async fn unlinking_from_the_phone_logs_the_client_out() {
    let fake = FakeWhatsApp::new();
    let client = linked(&fake, "15551230015").await.unwrap();
    fake.unlink_devices("15551230015").await;
    client
        .wait_for(WAIT, |e| matches!(e, Event::LoggedOut(_)).then_some(()))
        .await
        .unwrap();
    assert!(fake.linked_devices("15551230015").is_empty());
    client.shutdown().await;
}
