//! Linking a real client by QR code, and logging in again from its store.

use std::sync::Arc;
use std::time::Duration;

use blazz_wa_fake::FakeWhatsApp;
use whatsapp_rust::store::traits::Backend;
use whatsapp_rust::types::events::Event;
use whatsapp_rust::wacore::store::InMemoryBackend;

const WAIT: Duration = Duration::from_secs(30);

#[tokio::test]
async fn a_new_client_shows_a_qr_code_offline() {
    let fake = FakeWhatsApp::new();
    let backend: Arc<dyn Backend> = Arc::new(InMemoryBackend::new());
    let client = fake.start_client(backend).await.unwrap();
    let qr = client.next_qr(WAIT).await.unwrap();
    assert_eq!(
        qr.split(',').count(),
        5,
        "ref,noise,identity,adv,type: {qr}"
    );
    client.shutdown().await;
}

#[tokio::test]
async fn qr_pairing_connects_and_the_store_logs_in_again_without_a_qr() {
    let fake = FakeWhatsApp::new();
    let backend: Arc<dyn Backend> = Arc::new(InMemoryBackend::new());
    let client = fake.start_client(backend.clone()).await.unwrap();
    let qr = client.next_qr(WAIT).await.unwrap();
    fake.scan_qr("15551230001", &qr).await.unwrap();
    let paired = client
        .wait_for(WAIT, |e| match e {
            Event::PairSuccess(p) => Some(p.id.clone()),
            _ => None,
        })
        .await
        .unwrap();
    assert_eq!(paired.user, "15551230001");
    assert_eq!(paired.device, 1);
    client.connected(WAIT).await.unwrap();
    assert_eq!(fake.linked_devices("15551230001"), vec![1]);
    client.shutdown().await;

    let again = fake.start_client(backend).await.unwrap();
    again
        .wait_for(WAIT, |e| match e {
            Event::PairingQrCode(_) => panic!("a linked store must not ask for a QR"),
            Event::Connected(_) => Some(()),
            _ => None,
        })
        .await
        .unwrap();
    again.shutdown().await;
}
