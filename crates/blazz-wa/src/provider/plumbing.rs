//! Adapters that let shared (`Arc`) transports and HTTP clients go where
//! the crate's builder wants owned ones.

use std::sync::Arc;

use whatsapp_rust::http::{HttpClient, HttpRequest, HttpResponse};
use whatsapp_rust::transport::{Transport, TransportEvent, TransportFactory};

pub(super) struct SharedTransport(pub Arc<dyn TransportFactory>);

#[async_trait::async_trait]
impl TransportFactory for SharedTransport {
    async fn create_transport(
        &self,
    ) -> Result<
        (
            Arc<dyn Transport>,
            whatsapp_rust::async_channel::Receiver<TransportEvent>,
        ),
        anyhow::Error,
    > {
        self.0.create_transport().await
    }
}

pub(super) struct SharedHttp(pub Arc<dyn HttpClient>);

#[async_trait::async_trait]
impl HttpClient for SharedHttp {
    async fn execute(&self, request: HttpRequest) -> anyhow::Result<HttpResponse> {
        self.0.execute(request).await
    }
}
