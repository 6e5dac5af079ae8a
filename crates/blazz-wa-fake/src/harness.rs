//! A real `whatsapp-rust` client wired to the fake server, with its events on
//! a channel a test can wait on.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, Context};
use whatsapp_rust::bot::{Bot, BotHandle};
use whatsapp_rust::store::traits::Backend;
use whatsapp_rust::types::events::Event;
use whatsapp_rust::{Client, TokioRuntime};

use crate::FakeWhatsApp;

const LINK_WAIT: Duration = Duration::from_secs(40);

/// A running client and the events it emitted.
pub struct TestClient {
    handle: BotHandle,
    events: async_channel::Receiver<Arc<Event>>,
}

impl FakeWhatsApp {
    /// Starts a real client on `backend` (its store), connected to this server.
    pub async fn start_client(&self, backend: Arc<dyn Backend>) -> anyhow::Result<TestClient> {
        let (tx, events) = async_channel::unbounded::<Arc<Event>>();
        let bot = Bot::builder()
            .with_backend_arc(backend)
            .with_transport_factory(self.transport_factory())
            .with_http_client(self.http_client())
            .with_runtime(TokioRuntime)
            .with_version(Self::VERSION)
            .on_event(move |event, _client| {
                let tx = tx.clone();
                async move {
                    let _ = tx.send(event).await;
                }
            })
            .build()
            .await
            .map_err(|e| anyhow!("client build: {e}"))?;
        Ok(TestClient {
            handle: bot.spawn(),
            events,
        })
    }
}

impl FakeWhatsApp {
    /// Starts a client on `backend` and links it to `phone` by QR; returns
    /// once it is connected. The first login after linking takes about 10 s:
    /// the client waits for an app-state key the fake phone never shares.
    pub async fn link_new_client(
        &self,
        phone: &str,
        backend: Arc<dyn Backend>,
    ) -> anyhow::Result<TestClient> {
        let client = self.start_client(backend).await?;
        let qr = client.next_qr(LINK_WAIT).await?;
        self.scan_qr(phone, &qr).await?;
        client.connected(LINK_WAIT).await?;
        Ok(client)
    }
}

impl TestClient {
    pub fn client(&self) -> Arc<Client> {
        self.handle.client()
    }

    /// The next event, within `timeout`.
    pub async fn next_event(&self, timeout: Duration) -> anyhow::Result<Arc<Event>> {
        tokio::time::timeout(timeout, self.events.recv())
            .await
            .context("no event in time")?
            .context("the client stopped")
    }

    /// Skips events until `pick` accepts one, within `timeout` overall.
    pub async fn wait_for<T>(
        &self,
        timeout: Duration,
        mut pick: impl FnMut(&Event) -> Option<T>,
    ) -> anyhow::Result<T> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let event = tokio::time::timeout(left, self.events.recv())
                .await
                .context("the awaited event did not come in time")?
                .context("the client stopped")?;
            if let Some(found) = pick(&event) {
                return Ok(found);
            }
        }
    }

    /// The code of the next QR the client shows.
    pub async fn next_qr(&self, timeout: Duration) -> anyhow::Result<String> {
        self.wait_for(timeout, |e| match e {
            Event::PairingQrCode(qr) => Some(qr.code.clone()),
            _ => None,
        })
        .await
    }

    /// Waits for `Event::Connected`.
    pub async fn connected(&self, timeout: Duration) -> anyhow::Result<()> {
        self.wait_for(timeout, |e| matches!(e, Event::Connected(_)).then_some(()))
            .await
    }

    /// Stops the client (flushing its store).
    pub async fn shutdown(self) {
        self.handle.shutdown().await;
    }
}
