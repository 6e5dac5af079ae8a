//! The in-memory wire between a real client and the fake server: each
//! `create_transport` opens a new connection whose bytes go to a server task.

use std::sync::Arc;

use async_trait::async_trait;
use whatsapp_rust::bytes::Bytes;
use whatsapp_rust::wacore::net::{DisconnectReason, Transport, TransportEvent, TransportFactory};

use crate::server::Shared;

/// Connects clients to one [`crate::FakeWhatsApp`] in memory
/// (`Bot::builder().with_transport_factory(fake.transport_factory())`).
#[derive(Clone)]
pub struct FakeTransportFactory {
    pub(crate) shared: Arc<Shared>,
}

/// The client's end of one connection.
struct MemTransport {
    to_server: async_channel::Sender<Bytes>,
}

#[async_trait]
impl Transport for MemTransport {
    async fn send(&self, data: Bytes) -> anyhow::Result<()> {
        self.to_server
            .send(data)
            .await
            .map_err(|_| anyhow::anyhow!("connection closed by the server"))
    }

    async fn disconnect(&self) {
        self.to_server.close();
    }
}

#[async_trait]
impl TransportFactory for FakeTransportFactory {
    async fn create_transport(
        &self,
    ) -> anyhow::Result<(Arc<dyn Transport>, async_channel::Receiver<TransportEvent>)> {
        let (to_server, from_client) = async_channel::unbounded::<Bytes>();
        let (to_client, events) = async_channel::unbounded::<TransportEvent>();
        to_client
            .send(TransportEvent::Connected)
            .await
            .map_err(|_| anyhow::anyhow!("event channel closed"))?;
        crate::session::spawn(self.shared.clone(), from_client, to_client);
        Ok((Arc::new(MemTransport { to_server }), events))
    }
}

/// The server's end of one connection: frames to the client, and the close.
pub(crate) struct ServerEnd {
    pub(crate) to_client: async_channel::Sender<TransportEvent>,
}

impl ServerEnd {
    pub(crate) async fn send(&self, frame: Vec<u8>) -> bool {
        self.to_client
            .send(TransportEvent::DataReceived(Bytes::from(frame)))
            .await
            .is_ok()
    }

    /// The stream ends the way WhatsApp recycles a connection (EOF).
    pub(crate) async fn close(&self) {
        let _ = self
            .to_client
            .send(TransportEvent::Disconnected(DisconnectReason::StreamEnded))
            .await;
        self.to_client.close();
    }
}
