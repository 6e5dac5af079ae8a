//! The network and its phones. Everything a test or a demo does "from the
//! phone" or "from a customer" goes through here.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use blazz_provider::{InboundMessage, ProviderEvent};
use tokio::sync::mpsc;

#[derive(Debug, Clone)]
pub struct Timing {
    pub qr_first: Duration,
    pub qr_rotate: Duration,
    pub qr_codes: u32,
    pub delivered_after: Duration,
    pub read_after: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Self {
            qr_first: Duration::from_secs(60),
            qr_rotate: Duration::from_secs(20),
            qr_codes: 6,
            delivered_after: Duration::from_millis(500),
            read_after: Duration::from_secs(2),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SandboxError {
    #[error("this number is not waiting for a link")]
    NotLinking,
    #[error("that code is not the current QR code or pair code")]
    WrongCode,
    #[error("this number has no live connection")]
    NotConnected,
}

/// Messages from the network to one live connection.
#[derive(Debug)]
pub(crate) enum Control {
    /// Deliver this event (inbound message, typing, presence...).
    Event(ProviderEvent),
    /// The network dropped the connection.
    Drop,
}

/// What the network knows about one account's phone.
#[derive(Default)]
pub(crate) struct Phone {
    /// The codes that approve a link right now.
    pub qr: Option<String>,
    pub pair: Option<String>,
    /// Tells the linking connection the phone approved (with its number).
    pub approve: Option<mpsc::Sender<String>>,
    /// The credentials the network accepts for this account.
    pub device: Option<String>,
    pub number: Option<String>,
    pub banned: bool,
    /// The phone unlinked its device: old credentials stop working.
    pub unlinked: bool,
    /// A connection that answers nothing (silent disconnect).
    pub silent: bool,
    /// The live connection, if any.
    pub live: Option<mpsc::UnboundedSender<Control>>,
}

#[derive(Clone, Default)]
pub struct SandboxNetwork {
    phones: Arc<Mutex<HashMap<String, Phone>>>,
    pub timing: Timing,
}

impl SandboxNetwork {
    pub fn new(timing: Timing) -> Self {
        Self {
            phones: Arc::default(),
            timing,
        }
    }

    pub(crate) fn phones(&self) -> MutexGuard<'_, HashMap<String, Phone>> {
        // A poisoned lock only means a panic elsewhere mid-update; the map
        // itself is still usable.
        self.phones.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The phone approves a link by the code it saw (QR or pair code).
    /// `number` is the phone's number (E.164); one is made up if `None`.
    pub fn scan(
        &self,
        account: &str,
        code: &str,
        number: Option<String>,
    ) -> Result<(), SandboxError> {
        let mut phones = self.phones();
        let phone = phones.get_mut(account).ok_or(SandboxError::NotLinking)?;
        let approve = phone.approve.clone().ok_or(SandboxError::NotLinking)?;
        let code = code.trim();
        let matches = phone.qr.as_deref() == Some(code)
            || phone.pair.as_deref().is_some_and(|p| {
                p.replace('-', "")
                    .eq_ignore_ascii_case(&code.replace('-', ""))
            });
        if !matches {
            return Err(SandboxError::WrongCode);
        }
        // The number the pair code was asked for, else the one given, else
        // a made-up one.
        let number = phone
            .number
            .clone()
            .or(number)
            .unwrap_or_else(random_number);
        phone.qr = None;
        phone.pair = None;
        phone.approve = None;
        approve
            .try_send(number)
            .map_err(|_| SandboxError::NotLinking)
    }

    fn control(&self, account: &str, c: Control) -> Result<(), SandboxError> {
        let phones = self.phones();
        let live = phones
            .get(account)
            .and_then(|p| p.live.as_ref())
            .ok_or(SandboxError::NotConnected)?;
        live.send(c).map_err(|_| SandboxError::NotConnected)
    }

    /// A customer message arrives at this number.
    pub fn inbound(&self, account: &str, message: InboundMessage) -> Result<(), SandboxError> {
        self.control(account, Control::Event(ProviderEvent::Message(message)))
    }

    pub fn typing(&self, account: &str, from: &str, typing: bool) -> Result<(), SandboxError> {
        let e = ProviderEvent::Typing {
            from: from.to_string(),
            typing,
        };
        self.control(account, Control::Event(e))
    }

    pub fn presence(&self, account: &str, from: &str, available: bool) -> Result<(), SandboxError> {
        let e = ProviderEvent::Presence {
            from: from.to_string(),
            available,
        };
        self.control(account, Control::Event(e))
    }

    /// The connection drops (network trouble); the credentials stay good.
    pub fn disconnect(&self, account: &str) -> Result<(), SandboxError> {
        self.control(account, Control::Drop)
    }

    /// The connection stays open but stops answering (silent disconnect).
    pub fn go_silent(&self, account: &str) -> Result<(), SandboxError> {
        let mut phones = self.phones();
        let phone = phones.get_mut(account).ok_or(SandboxError::NotConnected)?;
        if phone.live.is_none() {
            return Err(SandboxError::NotConnected);
        }
        phone.silent = true;
        Ok(())
    }

    /// The owner unlinks the device from the phone.
    pub fn log_out(&self, account: &str) -> Result<(), SandboxError> {
        let live = {
            let mut phones = self.phones();
            let phone = phones.get_mut(account).ok_or(SandboxError::NotConnected)?;
            phone.device = None;
            phone.unlinked = true;
            phone.live.take()
        };
        if let Some(live) = live {
            let e = ProviderEvent::LoggedOut {
                reason: "unlinked from the phone".into(),
            };
            let _ = live.send(Control::Event(e));
        }
        Ok(())
    }

    /// WhatsApp bans the number.
    pub fn ban(&self, account: &str) -> Result<(), SandboxError> {
        let live = {
            let mut phones = self.phones();
            let phone = phones.entry(account.to_string()).or_default();
            phone.banned = true;
            phone.live.take()
        };
        if let Some(live) = live {
            let e = ProviderEvent::Banned {
                reason: "the number was banned".into(),
            };
            let _ = live.send(Control::Event(e));
        }
        Ok(())
    }

    /// Whether the account has a live connection (tests, benchmarks).
    pub fn is_live(&self, account: &str) -> bool {
        self.phones().get(account).is_some_and(|p| p.live.is_some())
    }
}

pub(crate) fn random_number() -> String {
    format!("+1555{:07}", rand::random::<u32>() % 10_000_000)
}
