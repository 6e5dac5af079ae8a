//! Linking by pair code: the client asks for a code, the phone types it.

use std::sync::Arc;
use std::time::Duration;

use blazz_wa_fake::FakeWhatsApp;
use whatsapp_rust::pair_code::PairCodeOptions;
use whatsapp_rust::types::events::Event;
use whatsapp_rust::wacore::store::InMemoryBackend;

const WAIT: Duration = Duration::from_secs(40);

#[tokio::test]
async fn pair_code_links_the_client() {
    let fake = FakeWhatsApp::new();
    let client = fake
        .start_client(Arc::new(InMemoryBackend::new()))
        .await
        .unwrap();
    client.next_qr(WAIT).await.unwrap();
    let code = client
        .client()
        .pair_with_code(PairCodeOptions {
            phone_number: "15551230031".to_string(),
            ..Default::default()
        })
        .await
        .unwrap();
    fake.enter_pair_code("15551230031", &code).await.unwrap();
    let paired = client
        .wait_for(WAIT, |e| match e {
            Event::PairSuccess(p) => Some(p.id.user.to_string()),
            _ => None,
        })
        .await
        .unwrap();
    assert_eq!(paired, "15551230031");
    client.connected(WAIT).await.unwrap();
    client.shutdown().await;
}

#[tokio::test]
async fn a_wrong_pair_code_does_not_link() {
    let fake = FakeWhatsApp::new();
    let client = fake
        .start_client(Arc::new(InMemoryBackend::new()))
        .await
        .unwrap();
    client.next_qr(WAIT).await.unwrap();
    client
        .client()
        .pair_with_code(PairCodeOptions {
            phone_number: "15551230032".to_string(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(fake
        .enter_pair_code("15551230032", "ZZZZZZZZ")
        .await
        .is_err());
    assert!(fake.linked_devices("15551230032").is_empty());
    client.shutdown().await;
}
