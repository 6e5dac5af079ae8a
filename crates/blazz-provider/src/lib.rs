//! The provider boundary: what the session engine and the domain need from
//! a WhatsApp network, whichever it is (the sandbox, WhatsApp Web through
//! `whatsapp-rust`, or Meta's Cloud API).
//!
//! A `Provider` opens one `Connection` per linked number. The connection
//! takes commands (send, mark read, typing, presence, pair code, probe,
//! logout) and reports what happens on a channel of `ProviderEvent`s.

pub mod clock;
pub mod message;

use std::time::SystemTime;

use tokio::sync::mpsc;

pub use message::{InboundMessage, Media, MessageBody, OutboundMessage};

/// Which network a number is linked through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    Sandbox,
    Web,
    Cloud,
}

impl ProviderKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::Sandbox => "sandbox",
            ProviderKind::Web => "web",
            ProviderKind::Cloud => "cloud",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "sandbox" => Some(ProviderKind::Sandbox),
            "web" => Some(ProviderKind::Web),
            "cloud" => Some(ProviderKind::Cloud),
            _ => None,
        }
    }
}

/// What a provider knows about the number it opens.
#[derive(Debug, Clone)]
pub struct AccountRef {
    /// Blazz's account id (a string, to keep this crate free of the domain).
    pub id: String,
    /// The number in E.164 once linked.
    pub phone: Option<String>,
    /// Opaque credentials the provider handed out at link time (device
    /// keys, tokens); `None` until linked. Stored encrypted by Blazz.
    pub credentials: Option<Vec<u8>>,
}

/// Something the provider reports. The engine turns these into session
/// state changes, stored messages and receipts.
#[derive(Debug, Clone, PartialEq)]
pub enum ProviderEvent {
    /// A (new) QR code to show; the previous one stops working.
    QrCode {
        code: String,
        expires_at: SystemTime,
    },
    /// A pair code to type on the phone.
    PairCode {
        code: String,
        expires_at: SystemTime,
    },
    /// The phone approved the link; `credentials` restore the session later.
    Linked {
        phone: String,
        credentials: Vec<u8>,
    },
    /// No code was approved in time.
    LinkTimedOut,
    Connected,
    Disconnected {
        reason: String,
    },
    /// The device was unlinked (from the phone, or by us).
    LoggedOut {
        reason: String,
    },
    Banned {
        reason: String,
    },
    Message(InboundMessage),
    /// The number's owner wrote from the phone itself (another device of
    /// the account); `from` is the contact written to.
    SentFromPhone(InboundMessage),
    /// A status for a message we sent.
    Receipt {
        provider_message_id: String,
        status: ReceiptStatus,
        at: SystemTime,
        /// Why, when `status` is `Failed`.
        error: Option<String>,
    },
    /// A customer is typing (or stopped) in a chat.
    Typing {
        from: String,
        typing: bool,
    },
    Presence {
        from: String,
        available: bool,
    },
    /// Messages and receipts the network keeps offering until Blazz has
    /// stored them (at-least-once): `stored` is told once all of `events`
    /// are durable, and only then does the provider acknowledge them.
    Durable {
        events: Vec<ProviderEvent>,
        stored: StoredSignal,
    },
    /// The link cannot go on without an operator (another client took over
    /// the number's keys, the client is outdated...). Credentials are kept.
    Failed {
        reason: String,
    },
}

/// Tells a provider that events it handed over are stored. Cloning shares
/// the one signal; the first `stored()` wins.
#[derive(Clone)]
pub struct StoredSignal(std::sync::Arc<std::sync::Mutex<Option<tokio::sync::oneshot::Sender<()>>>>);

impl StoredSignal {
    pub fn new() -> (Self, tokio::sync::oneshot::Receiver<()>) {
        let (tx, rx) = tokio::sync::oneshot::channel();
        (
            StoredSignal(std::sync::Arc::new(std::sync::Mutex::new(Some(tx)))),
            rx,
        )
    }

    pub fn stored(&self) {
        let sender = match self.0.lock() {
            Ok(mut slot) => slot.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        };
        if let Some(tx) = sender {
            let _ = tx.send(());
        }
    }
}

impl std::fmt::Debug for StoredSignal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoredSignal")
    }
}

impl PartialEq for StoredSignal {
    fn eq(&self, other: &Self) -> bool {
        std::sync::Arc::ptr_eq(&self.0, &other.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReceiptStatus {
    Sent,
    Delivered,
    Read,
    Failed,
}

/// Why a provider call failed, in the terms the engine acts on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    /// Worth retrying (network, timeout, provider busy).
    #[error("transient: {0}")]
    Transient(String),
    /// Retrying will not help (invalid recipient, refused content...).
    #[error("permanent: {0}")]
    Permanent(String),
    /// The connection is not up; the engine reconnects.
    #[error("not connected")]
    NotConnected,
    /// The provider does not do this (e.g. pair codes on the Cloud API).
    #[error("not supported: {0}")]
    Unsupported(&'static str),
    /// The stored credentials no longer work: the number must be linked again.
    #[error("logged out: {0}")]
    LoggedOut(String),
}

/// The answer to an accepted send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    pub provider_message_id: String,
}

pub type EventSender = mpsc::Sender<ProviderEvent>;

/// A network Blazz links numbers through.
#[async_trait::async_trait]
pub trait Provider: Send + Sync + 'static {
    fn kind(&self) -> ProviderKind;

    /// Opens a connection for `account`. With credentials it restores the
    /// session (then reports `Connected`, or `LoggedOut` if they no longer
    /// work); without, it starts linking (reports `QrCode`s).
    async fn open(
        &self,
        account: AccountRef,
        events: EventSender,
    ) -> Result<Box<dyn Connection>, ProviderError>;
}

/// One live link to one number.
#[async_trait::async_trait]
pub trait Connection: Send + 'static {
    /// Asks for a pair code for `phone` (E.164) instead of a QR scan.
    async fn request_pair_code(&mut self, phone: &str) -> Result<(), ProviderError>;

    async fn send(&mut self, message: OutboundMessage) -> Result<Sent, ProviderError>;

    async fn mark_read(
        &mut self,
        chat: &str,
        provider_message_ids: &[String],
    ) -> Result<(), ProviderError>;

    async fn typing(&mut self, chat: &str, typing: bool) -> Result<(), ProviderError>;

    async fn presence(&mut self, available: bool) -> Result<(), ProviderError>;

    /// A health check: answers if the connection is really alive.
    async fn probe(&mut self) -> Result<(), ProviderError>;

    /// Unlinks the device from the number (a new link needs a new scan).
    async fn logout(&mut self) -> Result<(), ProviderError>;

    /// Closes the connection, keeping the link.
    async fn close(&mut self);
}
