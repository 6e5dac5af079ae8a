//! What numbers send through the network. Messages are deduplicated by the
//! id the client chose, as WhatsApp Web does: a resend is the same message,
//! answered with its latest receipt. The network keeps what it received,
//! and the read receipts and typing indicators it was sent, for tests and
//! demos to look at; failures and receipts can be injected.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use blazz_provider::{MessageBody, OutboundMessage, ProviderError, ProviderEvent, ReceiptStatus};

use crate::network::{Control, SandboxError, SandboxNetwork, Timing};

/// Received messages kept per number (the count goes on past it).
pub const RECEIVED_KEPT: usize = 10_000;
/// Read receipts, and typing indicators, kept per number.
pub const MARKS_KEPT: usize = 1_000;
/// Receipts kept for a number with no connection, until it reconnects.
const PENDING_KEPT: usize = 10_000;

/// A message the network accepted from a number (the first send of its id).
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedMessage {
    /// The id the client chose.
    pub id: String,
    pub to: String,
    pub body: MessageBody,
    /// When the network accepted it, unix milliseconds.
    pub at: i64,
    /// What came with it, if it carried media.
    pub media: Option<MediaInfo>,
}

/// The media bytes a message carried, described.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MediaInfo {
    pub mime_type: String,
    pub filename: Option<String>,
    pub size: usize,
}

/// The messages a number sent: how many in all, and the newest (oldest
/// first).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Received {
    pub count: usize,
    pub messages: Vec<ReceivedMessage>,
}

/// A read receipt the number sent (Blazz marked a chat read).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadSent {
    pub chat: String,
    pub ids: Vec<String>,
    pub at: i64,
}

/// A typing indicator the number sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypingSent {
    pub chat: String,
    pub typing: bool,
    pub at: i64,
}

/// How an injected send failure fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    Transient,
    Permanent,
}

struct Failures {
    left: u32,
    kind: FailureKind,
    reason: String,
}

/// A receipt told out of schedule (injected), which may override the
/// scheduled ones.
struct Told {
    status: ReceiptStatus,
    error: Option<String>,
    at: i64,
}

struct SentState {
    at: i64,
    told: Option<Told>,
}

/// The answer of the network to a send.
pub(crate) enum Accepted {
    /// A message it had not seen: its receipts are to be scheduled.
    New,
    /// A resend of a message it has: its latest receipt, told again.
    Again(Box<ProviderEvent>),
}

#[derive(Default)]
pub(crate) struct Sends {
    /// Every message id the number sent, forever (the dedupe needs them).
    sent: HashMap<String, SentState>,
    received: VecDeque<ReceivedMessage>,
    count: usize,
    reads: VecDeque<ReadSent>,
    typing: VecDeque<TypingSent>,
    failures: Option<Failures>,
    /// Receipts that found no connection.
    pending: VecDeque<ProviderEvent>,
}

fn push_bounded<T>(list: &mut VecDeque<T>, item: T, keep: usize) {
    if list.len() >= keep {
        list.pop_front();
    }
    list.push_back(item);
}

pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn system_time(ms: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}

pub(crate) fn receipt(id: &str, status: ReceiptStatus) -> ProviderEvent {
    ProviderEvent::Receipt {
        provider_message_id: id.to_string(),
        status,
        at: SystemTime::now(),
        error: None,
    }
}

impl Sends {
    pub fn knows(&self, id: &str) -> bool {
        self.sent.contains_key(id)
    }

    /// A message accepted now (or read back from the journal).
    pub fn record(&mut self, message: ReceivedMessage) {
        let state = SentState {
            at: message.at,
            told: None,
        };
        self.sent.insert(message.id.clone(), state);
        push_bounded(&mut self.received, message, RECEIVED_KEPT);
        self.count += 1;
    }

    /// The latest receipt of a message the number sent: the scheduled
    /// ones (delivered, then read) that are due by `now`, or a later
    /// injected one. `None` for an id the number never sent.
    fn latest(&self, id: &str, timing: &Timing, now: i64) -> Option<ProviderEvent> {
        let sent = self.sent.get(id)?;
        let delivered = sent.at.saturating_add(millis(timing.delivered_after));
        let read = delivered.saturating_add(millis(timing.read_after));
        let (mut status, mut at, mut error) = (ReceiptStatus::Sent, sent.at, None);
        if now >= delivered {
            (status, at) = (ReceiptStatus::Delivered, delivered);
        }
        if now >= read {
            (status, at) = (ReceiptStatus::Read, read);
        }
        if let Some(told) = sent.told.as_ref().filter(|t| t.at >= at) {
            (status, at, error) = (told.status, told.at, told.error.clone());
        }
        Some(ProviderEvent::Receipt {
            provider_message_id: id.to_string(),
            status,
            at: system_time(at),
            error,
        })
    }

    fn take_failure(&mut self) -> Option<ProviderError> {
        let failures = self.failures.as_mut()?;
        failures.left = failures.left.saturating_sub(1);
        let reason = failures.reason.clone();
        let error = match failures.kind {
            FailureKind::Transient => ProviderError::Transient(reason),
            FailureKind::Permanent => ProviderError::Permanent(reason),
        };
        if failures.left == 0 {
            self.failures = None;
        }
        Some(error)
    }

    pub fn hold(&mut self, event: ProviderEvent) {
        push_bounded(&mut self.pending, event, PENDING_KEPT);
    }

    pub fn take_pending(&mut self) -> VecDeque<ProviderEvent> {
        std::mem::take(&mut self.pending)
    }
}

impl SandboxNetwork {
    /// Takes a send from `account`: an injected failure first, then a
    /// resend of a known id (accepted again, never counted again), then
    /// pacing (the message that crosses a limit is refused and the number
    /// banned), then the journal; only then is it received.
    pub(crate) fn accept(
        &self,
        account: &str,
        message: &OutboundMessage,
    ) -> Result<Accepted, ProviderError> {
        let pacing = self.pacing();
        let (now, at) = (self.clock().now_ms(), now_ms());
        let (reason, live) = {
            let mut phones = self.phones();
            let phone = phones.entry(account.to_string()).or_default();
            if let Some(error) = phone.sends.take_failure() {
                return Err(error);
            }
            if let Some(latest) = phone.sends.latest(&message.id, &self.timing, at) {
                return Ok(Accepted::Again(Box::new(latest)));
            }
            match phone.pace(&message.to, now, &pacing) {
                Some(reason) => (reason, phone.live.take()),
                None => {
                    let received = ReceivedMessage {
                        id: message.id.clone(),
                        to: message.to.clone(),
                        body: message.body.clone(),
                        at,
                        media: message.media.as_ref().map(|m| MediaInfo {
                            mime_type: m.mime_type.clone(),
                            filename: m.filename.clone(),
                            size: m.data.len(),
                        }),
                    };
                    self.journal()
                        .append(account, &received)
                        .map_err(ProviderError::Transient)?;
                    phone.sends.record(received);
                    return Ok(Accepted::New);
                }
            }
        };
        // The ban reaches the engine as an event too.
        if let Some(live) = live {
            let banned = ProviderEvent::Banned {
                reason: reason.clone(),
            };
            let _ = live.send(Control::event(banned));
        }
        Err(ProviderError::Permanent(reason))
    }

    /// Tells the number's connection a receipt; with no connection (or a
    /// silent one) it waits for the next.
    pub(crate) fn tell(&self, account: &str, event: ProviderEvent) {
        let mut phones = self.phones();
        let Some(phone) = phones.get_mut(account) else {
            return;
        };
        let event = match phone.live.as_ref().filter(|_| !phone.silent) {
            Some(live) => match live.send(Control::event(event)) {
                Ok(()) => return,
                Err(refused) => match refused.0 {
                    Control::Event(event) => *event,
                    Control::Drop => return,
                },
            },
            None => event,
        };
        phone.sends.hold(event);
    }

    pub(crate) fn record_read(&self, account: &str, chat: &str, ids: &[String]) {
        let mark = ReadSent {
            chat: chat.to_string(),
            ids: ids.to_vec(),
            at: now_ms(),
        };
        let mut phones = self.phones();
        let phone = phones.entry(account.to_string()).or_default();
        push_bounded(&mut phone.sends.reads, mark, MARKS_KEPT);
    }

    pub(crate) fn record_typing(&self, account: &str, chat: &str, typing: bool) {
        let mark = TypingSent {
            chat: chat.to_string(),
            typing,
            at: now_ms(),
        };
        let mut phones = self.phones();
        let phone = phones.entry(account.to_string()).or_default();
        push_bounded(&mut phone.sends.typing, mark, MARKS_KEPT);
    }

    /// The messages `account` sent: the count of all, and the newest
    /// `limit` of those kept (oldest first).
    pub fn received(&self, account: &str, limit: usize) -> Received {
        let phones = self.phones();
        let Some(sends) = phones.get(account).map(|p| &p.sends) else {
            return Received::default();
        };
        let skip = sends.received.len().saturating_sub(limit);
        Received {
            count: sends.count,
            messages: sends.received.iter().skip(skip).cloned().collect(),
        }
    }

    /// The read receipts `account` sent, oldest first (the last
    /// `MARKS_KEPT`).
    pub fn reads(&self, account: &str) -> Vec<ReadSent> {
        let phones = self.phones();
        phones
            .get(account)
            .map(|p| p.sends.reads.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// The typing indicators `account` sent, oldest first (the last
    /// `MARKS_KEPT`).
    pub fn typing_sent(&self, account: &str) -> Vec<TypingSent> {
        let phones = self.phones();
        phones
            .get(account)
            .map(|p| p.sends.typing.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// The next `count` sends of `account` fail this way (0: none do),
    /// before they are counted or journaled.
    pub fn fail_sends(&self, account: &str, count: u32, kind: FailureKind, reason: Option<String>) {
        let reason = reason.unwrap_or_else(|| match kind {
            FailureKind::Transient => "injected transient failure".into(),
            FailureKind::Permanent => "injected permanent failure".into(),
        });
        let mut phones = self.phones();
        let phone = phones.entry(account.to_string()).or_default();
        phone.sends.failures = (count > 0).then_some(Failures {
            left: count,
            kind,
            reason,
        });
    }

    /// Tells the live connection a receipt now, whether or not the network
    /// knows the message (out-of-order and failure-after-delivery tests).
    /// For a message it knows, this is its latest receipt from now on.
    pub fn receipt(
        &self,
        account: &str,
        provider_message_id: &str,
        status: ReceiptStatus,
        error: Option<String>,
    ) -> Result<(), SandboxError> {
        let at = now_ms();
        let event = ProviderEvent::Receipt {
            provider_message_id: provider_message_id.to_string(),
            status,
            at: system_time(at),
            error: error.clone(),
        };
        self.control(account, Control::event(event))?;
        let mut phones = self.phones();
        if let Some(sent) = phones
            .get_mut(account)
            .and_then(|p| p.sends.sent.get_mut(provider_message_id))
        {
            sent.told = Some(Told { status, error, at });
        }
        Ok(())
    }
}
