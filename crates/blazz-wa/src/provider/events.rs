//! What the client reports, in Blazz's terms.
//!
//! Two paths: the inbound durability hook (`StoreFirst`) hands messages to
//! the session engine and returns only once they are stored, so WhatsApp
//! redelivers anything Blazz lost; everything else goes through `Forward`,
//! an event handler that queues events in order for a relay task (the
//! handler runs on the client's dispatch path and must not wait).

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use blazz_provider::{
    EventSender, InboundMessage as BlazzMessage, ProviderEvent, ReceiptStatus, StoredSignal,
};
use tokio::sync::mpsc;
use whatsapp_rust::prelude::*;
use whatsapp_rust::wacore::types::events as ev;
use whatsapp_rust::wacore::types::presence::{ChatPresence, ReceiptType};

use super::convert;
use super::ids::phone_for_jid;
use super::Backends;

/// How long the hook waits for Blazz to store a batch before letting
/// WhatsApp redeliver it instead.
const STORE_TIMEOUT: Duration = Duration::from_secs(60);

pub(super) struct Forward {
    queue: mpsc::UnboundedSender<Arc<Event>>,
}

impl Forward {
    pub(super) fn new() -> (Self, mpsc::UnboundedReceiver<Arc<Event>>) {
        let (queue, rx) = mpsc::unbounded_channel();
        (Forward { queue }, rx)
    }
}

impl EventHandler for Forward {
    fn handle_event(&self, event: Arc<Event>) {
        let _ = self.queue.send(event);
    }
}

pub(super) struct StoreFirst {
    events: EventSender,
}

impl StoreFirst {
    pub(super) fn new(events: EventSender) -> Self {
        StoreFirst { events }
    }
}

#[async_trait::async_trait]
impl whatsapp_rust::InboundDurabilityHook for StoreFirst {
    async fn on_messages(
        &self,
        client: Arc<Client>,
        batch: &[ev::InboundMessage],
    ) -> anyhow::Result<()> {
        let events = messages(&client, batch).await;
        let (stored, done) = StoredSignal::new();
        self.events
            .send(ProviderEvent::Durable { events, stored })
            .await
            .map_err(|_| anyhow::anyhow!("the session is closing"))?;
        match tokio::time::timeout(STORE_TIMEOUT, done).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => anyhow::bail!("the session ended before storing the messages"),
            Err(_) => anyhow::bail!("storing the messages took too long"),
        }
    }
}

/// The relay: turns queued client events into provider events, in order.
pub(super) async fn relay(
    mut queue: mpsc::UnboundedReceiver<Arc<Event>>,
    client: Arc<Client>,
    events: EventSender,
    backends: Arc<dyn Backends>,
    account_id: String,
) {
    while let Some(event) = queue.recv().await {
        if let Event::PairSuccess(_) = &*event {
            // The link is only as good as the keys on disk: write them now
            // rather than at the client's next background save, so a crash
            // right after pairing still restores.
            if let Err(e) = client.persistence_manager().flush().await {
                tracing::warn!(account.id = %account_id, error = %e, "could not store the new device's keys yet");
            }
        }
        if let Event::LoggedOut(_) = &*event {
            // The phone unlinked this device: its keys are worthless now.
            if let Err(e) = backends.forget(&account_id).await {
                tracing::warn!(account.id = %account_id, error = %format!("{e:#}"), "could not wipe the unlinked device's keys");
            }
        }
        for out in translate(&client, &event).await {
            if events.send(out).await.is_err() {
                return;
            }
        }
    }
}

fn at(d: Duration) -> SystemTime {
    SystemTime::now() + d
}

async fn translate(client: &Arc<Client>, event: &Event) -> Vec<ProviderEvent> {
    let one = |e| vec![e];
    match event {
        Event::PairingQrCode(q) => one(ProviderEvent::QrCode {
            code: q.code.clone(),
            expires_at: at(q.timeout),
        }),
        Event::PairingCode(p) => one(ProviderEvent::PairCode {
            code: p.code.clone(),
            expires_at: at(p.timeout),
        }),
        Event::PairingQrCodesExhausted(_) => one(ProviderEvent::LinkTimedOut),
        Event::PairSuccess(p) => match phone_for_jid(&p.id) {
            Some(phone) => one(ProviderEvent::Linked {
                phone,
                credentials: serde_json::to_vec(&serde_json::json!({
                    "jid": p.id.to_string(),
                    "lid": p.lid.to_string(),
                    "platform": p.platform,
                }))
                .unwrap_or_default(),
            }),
            None => one(ProviderEvent::Failed {
                reason: format!("linked to an address that is not a phone number: {}", p.id),
            }),
        },
        Event::PairError(p) => one(ProviderEvent::Failed {
            reason: format!("pairing failed: {}", p.error),
        }),
        Event::Connected(_) => one(ProviderEvent::Connected),
        Event::Disconnected(d) => one(ProviderEvent::Disconnected {
            reason: format!("connection lost ({:?})", d.reason),
        }),
        Event::LoggedOut(l) => one(ProviderEvent::LoggedOut {
            reason: format!("unlinked by WhatsApp ({:?})", l.reason),
        }),
        Event::StreamReplaced(_) => one(ProviderEvent::Failed {
            reason: "stream replaced: another client connected with this number's keys".into(),
        }),
        Event::TemporaryBan(b) => one(ProviderEvent::Banned {
            reason: ban_reason(b),
        }),
        Event::ClientOutdated(_) => one(ProviderEvent::Failed {
            reason: "WhatsApp refused this client version (client outdated)".into(),
        }),
        Event::ConnectFailure(f) => one(ProviderEvent::Disconnected {
            reason: format!(
                "WhatsApp refused the connection ({:?}{})",
                f.reason,
                f.message
                    .as_deref()
                    .map(|m| format!(": {m}"))
                    .unwrap_or_default()
            ),
        }),
        // Messages the durability hook has not already handed over
        // (newsletters, recovered placeholders).
        Event::Messages(batch) if !batch.hook_committed => messages(client, &batch.messages).await,
        Event::Receipt(r) => receipts(r),
        Event::ChatPresence(c) => match phone_for_jid(&c.source.sender) {
            Some(from) if !c.source.is_group => one(ProviderEvent::Typing {
                from,
                typing: matches!(c.state, ChatPresence::Composing),
            }),
            _ => vec![],
        },
        Event::Presence(p) => match phone_for_jid(&p.from) {
            Some(from) => one(ProviderEvent::Presence {
                from,
                available: !p.unavailable,
            }),
            None => vec![],
        },
        _ => vec![],
    }
}

fn ban_reason(b: &ev::TemporaryBan) -> String {
    let secs = b.expire.num_seconds().max(0);
    let until = chrono_like(SystemTime::now() + Duration::from_secs(secs as u64));
    let mut reason = format!(
        "temporarily banned by WhatsApp ({:?}) for {secs} s, until {until}",
        b.code
    );
    if let Some(m) = &b.message {
        reason.push_str(&format!(": {m}"));
    }
    reason
}

/// Unix seconds, as text (the reason is shown as is).
fn chrono_like(t: SystemTime) -> String {
    let secs = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    whatsapp_rust::chrono::DateTime::from_timestamp(secs as i64, 0)
        .map(|d| d.to_rfc3339())
        .unwrap_or_else(|| secs.to_string())
}

fn receipts(r: &ev::Receipt) -> Vec<ProviderEvent> {
    if r.source.is_from_me {
        // Our other devices reading what contacts wrote.
        return vec![];
    }
    let status = match r.r#type {
        // `inactive`: delivered to a device that is in the background.
        ReceiptType::Delivered | ReceiptType::Inactive => ReceiptStatus::Delivered,
        ReceiptType::Read | ReceiptType::Played => ReceiptStatus::Read,
        ReceiptType::Sent => ReceiptStatus::Sent,
        _ => return vec![],
    };
    let at: SystemTime = r.timestamp.into();
    r.message_ids
        .iter()
        .map(|id| ProviderEvent::Receipt {
            provider_message_id: id.to_string(),
            status,
            at,
            error: None,
        })
        .collect()
}

/// The sender's number: the address itself, or its phone-number twin when
/// WhatsApp addressed the message by LID.
fn sender_phone(source: &whatsapp_rust::types::message::MessageSource) -> Option<String> {
    phone_for_jid(&source.sender).or_else(|| source.sender_alt.as_ref().and_then(phone_for_jid))
}

/// Chat messages in Blazz's terms, their media downloaded.
pub(super) async fn messages(
    client: &Arc<Client>,
    batch: &[ev::InboundMessage],
) -> Vec<ProviderEvent> {
    let mut out = Vec::with_capacity(batch.len());
    for m in batch {
        let info = &m.info;
        if info.source.is_group {
            // Group chats are not in Blazz's inbox yet (docs/whatsapp-web.md).
            tracing::debug!(id = %info.id, "skipped a group message");
            continue;
        }
        let Some(content) = convert::incoming(&m.message) else {
            continue;
        };
        let counterpart = if info.source.is_from_me {
            phone_for_jid(&info.source.chat)
                .or_else(|| info.source.recipient_alt.as_ref().and_then(phone_for_jid))
        } else {
            sender_phone(&info.source)
        };
        let Some(from) = counterpart else {
            tracing::debug!(id = %info.id, "skipped a message from an address that is not a phone number");
            continue;
        };
        let media = match &content.attachment {
            Some(a) => match client.download(a.downloadable()).await {
                Ok(bytes) => Some(a.media(bytes)),
                Err(e) => {
                    // Kept without its bytes rather than lost.
                    tracing::warn!(id = %info.id, error = %format!("{e:#}"), "could not download inbound media");
                    None
                }
            },
            None => None,
        };
        let message = BlazzMessage {
            provider_message_id: info.id.to_string(),
            from,
            push_name: (!info.push_name.is_empty()).then(|| info.push_name.clone()),
            body: content.body,
            reply_to: content.reply_to,
            timestamp_ms: info.timestamp.timestamp_millis(),
            media,
        };
        out.push(if info.source.is_from_me {
            ProviderEvent::SentFromPhone(message)
        } else {
            ProviderEvent::Message(message)
        });
    }
    out
}
