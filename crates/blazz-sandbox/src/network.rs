//! The network and its phones. Everything a test or a demo does "from the
//! phone" or "from a customer" goes through here.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use blazz_provider::clock::{Clock, SystemClock};
use blazz_provider::{InboundMessage, ProviderEvent};

use crate::journal::JournalState;
use crate::pacing::Pacing;
use crate::phone::Phone;

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
    Event(Box<ProviderEvent>),
    /// The network dropped the connection.
    Drop,
}

impl Control {
    pub fn event(e: ProviderEvent) -> Self {
        Control::Event(Box::new(e))
    }
}

#[derive(Clone)]
pub struct SandboxNetwork {
    phones: Arc<Mutex<HashMap<String, Phone>>>,
    pacing: Arc<Mutex<Pacing>>,
    /// Where accepted sends are written, when they outlive the process.
    /// Locked only while holding `phones` (one order, no deadlock).
    journal: Arc<Mutex<JournalState>>,
    pub timing: Timing,
    /// What pacing and bans are measured by (Blazz's pacer reads the same).
    clock: Arc<dyn Clock>,
}

/// A poisoned lock only means a panic elsewhere mid-update; what it guards
/// is still usable.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Default for SandboxNetwork {
    fn default() -> Self {
        SandboxNetwork::new(Timing::default())
    }
}

impl SandboxNetwork {
    pub fn new(timing: Timing) -> Self {
        Self {
            phones: Arc::default(),
            pacing: Arc::default(),
            journal: Arc::default(),
            timing,
            clock: Arc::new(SystemClock),
        }
    }

    /// The same network measuring pacing and bans by `clock`.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// The same network with these pacing limits (the defaults otherwise).
    pub fn with_pacing(self, pacing: Pacing) -> Self {
        self.set_pacing(pacing);
        self
    }

    pub(crate) fn phones(&self) -> MutexGuard<'_, HashMap<String, Phone>> {
        lock(&self.phones)
    }

    /// Take only while holding `phones()`.
    pub(crate) fn journal(&self) -> MutexGuard<'_, JournalState> {
        lock(&self.journal)
    }

    pub fn pacing(&self) -> Pacing {
        *lock(&self.pacing)
    }

    /// Changes the pacing limits of every number (per-number switches of
    /// enforcement stay as they are).
    pub fn set_pacing(&self, pacing: Pacing) {
        *lock(&self.pacing) = pacing;
    }

    /// Switches pacing enforcement on or off for one number (tests that
    /// need raw speed switch it off).
    pub fn enforce_pacing(&self, account: &str, enforce: bool) {
        self.phones()
            .entry(account.to_string())
            .or_default()
            .enforce = Some(enforce);
    }

    /// The network becomes unreachable for this number (`down`), or
    /// reachable again. While down, its live connection drops and every
    /// connection attempt fails.
    pub fn outage(&self, account: &str, down: bool) {
        let live = {
            let mut phones = self.phones();
            let phone = phones.entry(account.to_string()).or_default();
            phone.down = down;
            if down {
                phone.live.take()
            } else {
                None
            }
        };
        if let Some(live) = live {
            let _ = live.send(Control::Drop);
        }
    }

    /// Whether the number is banned now, for good or for a while.
    pub fn is_banned(&self, account: &str) -> bool {
        self.phones()
            .get_mut(account)
            .is_some_and(|p| p.banned_now(self.clock.now_ms()).is_some())
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

    pub(crate) fn control(&self, account: &str, c: Control) -> Result<(), SandboxError> {
        let phones = self.phones();
        let live = phones
            .get(account)
            .and_then(|p| p.live.as_ref())
            .ok_or(SandboxError::NotConnected)?;
        live.send(c).map_err(|_| SandboxError::NotConnected)
    }

    /// A customer message arrives at this number. From then on the
    /// customer is a contact who wrote first: messages to them are free of
    /// the pacing limits.
    pub fn inbound(&self, account: &str, message: InboundMessage) -> Result<(), SandboxError> {
        let from = message.from.clone();
        let mut phones = self.phones();
        let phone = phones.get_mut(account).ok_or(SandboxError::NotConnected)?;
        let live = phone.live.as_ref().ok_or(SandboxError::NotConnected)?;
        live.send(Control::event(ProviderEvent::Message(message)))
            .map_err(|_| SandboxError::NotConnected)?;
        phone.wrote.insert(from);
        Ok(())
    }

    /// The number's owner writes to `message.from` from the phone itself.
    pub fn sent_from_phone(
        &self,
        account: &str,
        message: InboundMessage,
    ) -> Result<(), SandboxError> {
        self.control(
            account,
            Control::event(ProviderEvent::SentFromPhone(message)),
        )
    }

    pub fn typing(&self, account: &str, from: &str, typing: bool) -> Result<(), SandboxError> {
        let e = ProviderEvent::Typing {
            from: from.to_string(),
            typing,
        };
        self.control(account, Control::event(e))
    }

    pub fn presence(&self, account: &str, from: &str, available: bool) -> Result<(), SandboxError> {
        let e = ProviderEvent::Presence {
            from: from.to_string(),
            available,
        };
        self.control(account, Control::event(e))
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
            let _ = live.send(Control::event(e));
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
            let _ = live.send(Control::event(e));
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
