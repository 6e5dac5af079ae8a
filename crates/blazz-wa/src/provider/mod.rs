//! `provider = "web"`: a linked device of the number, over the WhatsApp Web
//! multi-device protocol, through `whatsapp-rust`.
//!
//! One `Bot` per linked number. Its keys live in Blazz's store (a
//! [`Backends`] hands each account its `Backend`); its events become
//! [`ProviderEvent`]s; inbound messages are acknowledged to WhatsApp only
//! once Blazz has stored them (the crate's inbound durability hook).
//!
//! The crate reconnects by itself after routine drops (including the
//! restart WhatsApp asks for right after pairing); Blazz's session engine
//! only hears of drops the crate reports, and then opens a new client on
//! the same stored keys.

mod connection;
mod convert;
mod events;
mod ids;
mod plumbing;

use std::sync::Arc;

use blazz_provider::{AccountRef, Connection, EventSender, Provider, ProviderError, ProviderKind};
use whatsapp_rust::http::HttpClient;
use whatsapp_rust::prelude::*;
use whatsapp_rust::store::traits::Backend;
use whatsapp_rust::transport::TransportFactory;

pub use ids::{jid_for_phone, network_message_id, phone_for_jid};

/// Where each account's device keys and Signal state live.
#[async_trait::async_trait]
pub trait Backends: Send + Sync + 'static {
    /// The store of `account_id` (empty for a device not yet linked).
    async fn open(&self, account_id: &str) -> anyhow::Result<Arc<dyn Backend>>;
    /// Wipes everything stored for `account_id` (before a new link, after
    /// a logout).
    async fn forget(&self, account_id: &str) -> anyhow::Result<()>;
}

/// How the provider reaches WhatsApp. The defaults are WhatsApp's own
/// servers; tests and benchmarks put an offline server behind these.
#[derive(Clone, Default)]
pub struct WebOptions {
    /// The WebSocket address (default: WhatsApp's).
    pub server_url: Option<String>,
    /// Replaces the WebSocket transport.
    pub transport: Option<Arc<dyn TransportFactory>>,
    /// Replaces the HTTP client used for media.
    pub http: Option<Arc<dyn HttpClient>>,
    /// A fixed WhatsApp Web version (otherwise the crate fetches the current one).
    pub version: Option<(u32, u32, u32)>,
    /// The name the phone lists this linked device under.
    pub device_name: Option<String>,
}

pub struct WebProvider {
    backends: Arc<dyn Backends>,
    options: WebOptions,
}

impl WebProvider {
    pub fn new(backends: Arc<dyn Backends>, options: WebOptions) -> Self {
        WebProvider { backends, options }
    }
}

#[async_trait::async_trait]
impl Provider for WebProvider {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Web
    }

    async fn open(
        &self,
        account: AccountRef,
        events: EventSender,
    ) -> Result<Box<dyn Connection>, ProviderError> {
        let linking = account.credentials.is_none();
        if linking {
            // A new link is a new device: nothing of an earlier one may linger.
            self.backends
                .forget(&account.id)
                .await
                .map_err(|e| ProviderError::Transient(format!("clearing old keys: {e:#}")))?;
        }
        let backend = self
            .backends
            .open(&account.id)
            .await
            .map_err(|e| ProviderError::Transient(format!("opening the key store: {e:#}")))?;
        let (handler, queue) = events::Forward::new();
        let hook = events::StoreFirst::new(events.clone());
        let mut builder = Bot::builder()
            .with_backend_arc(backend)
            .with_event_handler(handler)
            .with_inbound_durability_hook(hook)
            // History sync would flood the inbox with the phone's past chats;
            // Blazz does not import them yet (docs/whatsapp-web.md).
            .skip_history_sync();
        if let Some(version) = self.options.version {
            builder = builder.with_version(version);
        }
        if let Some(name) = &self.options.device_name {
            builder = builder.with_push_name(name.clone());
        }
        let builder = match (&self.options.transport, &self.options.server_url) {
            (Some(t), _) => builder.with_transport_factory(plumbing::SharedTransport(t.clone())),
            (None, Some(url)) => builder.with_transport_factory(
                whatsapp_rust::transport::TokioWebSocketTransportFactory::new().with_url(url),
            ),
            (None, None) => builder.with_transport_factory(
                whatsapp_rust::transport::TokioWebSocketTransportFactory::new(),
            ),
        };
        let builder = match &self.options.http {
            Some(h) => builder.with_http_client(plumbing::SharedHttp(h.clone())),
            None => builder.with_http_client(whatsapp_rust::http::UreqHttpClient::new()),
        };
        let bot = builder
            .with_runtime(TokioRuntime)
            .build()
            .await
            .map_err(|e| ProviderError::Transient(format!("starting the client: {e}")))?;
        let client = bot.client();
        let relay = tokio::spawn(events::relay(
            queue,
            client.clone(),
            events,
            self.backends.clone(),
            account.id.clone(),
        ));
        let handle = bot.spawn();
        Ok(Box::new(connection::WebConnection::new(
            account.id,
            handle,
            client,
            relay,
            self.backends.clone(),
        )))
    }
}
