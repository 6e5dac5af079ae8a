//! One linked number's live client: Blazz's commands on it.

use std::sync::Arc;
use std::time::Duration;

use blazz_provider::{Connection, OutboundMessage, ProviderError, Sent};
use tokio::task::JoinHandle;
use whatsapp_rust::prelude::*;
use whatsapp_rust::SendOptions;

use super::ids::{jid_for_phone, network_message_id};
use super::{convert, Backends};

/// How long a shutdown may take before the client's tasks are aborted.
const SHUTDOWN_LIMIT: Duration = Duration::from_secs(10);

pub(super) struct WebConnection {
    account_id: String,
    handle: Option<BotHandle>,
    client: Arc<Client>,
    relay: JoinHandle<()>,
    backends: Arc<dyn Backends>,
}

impl WebConnection {
    pub(super) fn new(
        account_id: String,
        handle: BotHandle,
        client: Arc<Client>,
        relay: JoinHandle<()>,
        backends: Arc<dyn Backends>,
    ) -> Self {
        WebConnection {
            account_id,
            handle: Some(handle),
            client,
            relay,
            backends,
        }
    }

    fn ready(&self) -> Result<(), ProviderError> {
        if self.client.is_connected() && self.client.is_logged_in() {
            Ok(())
        } else {
            Err(ProviderError::NotConnected)
        }
    }

    async fn shut_down(&mut self) {
        if let Some(handle) = self.handle.take() {
            let abort = handle.client();
            if tokio::time::timeout(SHUTDOWN_LIMIT, handle.shutdown())
                .await
                .is_err()
            {
                tracing::warn!(account.id = %self.account_id, "the client did not stop in time");
                abort.disconnect().await;
            }
        }
        self.relay.abort();
    }
}

fn to_jid(phone: &str) -> Result<Jid, ProviderError> {
    jid_for_phone(phone)
        .ok_or_else(|| ProviderError::Permanent(format!("{phone} is not a phone number")))
}

/// Send errors in the engine's terms: the crate's are mostly about the
/// connection (worth retrying); a refused recipient is permanent.
fn send_error(e: SendError) -> ProviderError {
    let text = e.to_string();
    match e {
        SendError::InvalidRequest(_) => ProviderError::Permanent(text),
        _ => ProviderError::Transient(text),
    }
}

#[async_trait::async_trait]
impl Connection for WebConnection {
    async fn request_pair_code(&mut self, phone: &str) -> Result<(), ProviderError> {
        let digits = phone.trim_start_matches('+').to_string();
        let options = whatsapp_rust::pair_code::PairCodeOptions {
            phone_number: digits,
            ..Default::default()
        };
        // The code arrives as an event (`PairCode`) as well as here.
        self.client
            .pair_with_code(options)
            .await
            .map(|_| ())
            .map_err(|e| ProviderError::Transient(format!("pair code refused: {e}")))
    }

    async fn send(&mut self, message: OutboundMessage) -> Result<Sent, ProviderError> {
        self.ready()?;
        let to = to_jid(&message.to)?;
        let proto = convert::outgoing(&self.client, &message, &to).await?;
        let id = network_message_id(&message.id);
        let options = SendOptions::default().with_message_id(id);
        let sent = self
            .client
            .send_message_with_options(to, proto, options)
            .await
            .map_err(send_error)?;
        Ok(Sent {
            provider_message_id: sent.message_id,
        })
    }

    async fn mark_read(&mut self, chat: &str, ids: &[String]) -> Result<(), ProviderError> {
        self.ready()?;
        let jid = to_jid(chat)?;
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        self.client
            .mark_as_read(&jid, None, &ids)
            .await
            .map_err(|e| ProviderError::Transient(format!("{e:#}")))
    }

    async fn typing(&mut self, chat: &str, typing: bool) -> Result<(), ProviderError> {
        self.ready()?;
        let jid = to_jid(chat)?;
        let states = self.client.chatstate();
        let done = if typing {
            states.send_composing(&jid).await
        } else {
            states.send_paused(&jid).await
        };
        done.map_err(|e| ProviderError::Transient(e.to_string()))
    }

    async fn presence(&mut self, available: bool) -> Result<(), ProviderError> {
        self.ready()?;
        let presence = self.client.presence();
        let done = if available {
            presence.set_available().await
        } else {
            presence.set_unavailable().await
        };
        done.map_err(|e| ProviderError::Transient(e.to_string()))
    }

    async fn probe(&mut self) -> Result<(), ProviderError> {
        // The crate keeps its own keepalive pings; a client that lost its
        // socket says so here.
        self.ready()
    }

    async fn logout(&mut self) -> Result<(), ProviderError> {
        if self.client.is_connected() {
            // Removes this companion device from the phone's linked devices.
            self.client.logout().await;
        }
        self.shut_down().await;
        self.backends
            .forget(&self.account_id)
            .await
            .map_err(|e| ProviderError::Transient(format!("wiping the keys: {e:#}")))
    }

    async fn close(&mut self) {
        self.shut_down().await;
    }
}

impl Drop for WebConnection {
    fn drop(&mut self) {
        self.relay.abort();
        if let Some(handle) = self.handle.take() {
            handle.abort();
        }
    }
}
