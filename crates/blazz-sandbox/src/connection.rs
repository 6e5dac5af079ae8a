//! Connections to the sandbox network: linking (rotating QR codes, pair
//! codes), restoring with credentials, sending (deduplicated by message id)
//! with receipts and pacing enforcement, faults.

use std::time::{Duration, SystemTime};

use blazz_provider::{
    AccountRef, Connection, EventSender, OutboundMessage, Provider, ProviderError, ProviderEvent,
    ProviderKind, ReceiptStatus, Sent,
};
use rand::distributions::Alphanumeric;
use rand::Rng;
use tokio::sync::mpsc;

use crate::network::{Control, SandboxNetwork};
use crate::sends::{receipt, Accepted};

/// The longest message id the network takes (WhatsApp's are 16 to 32
/// characters; Blazz's fit well within).
const MAX_ID_LEN: usize = 128;

pub struct SandboxProvider {
    pub network: SandboxNetwork,
}

fn random_code(n: usize) -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(n)
        .map(char::from)
        .collect()
}

#[async_trait::async_trait]
impl Provider for SandboxProvider {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Sandbox
    }

    async fn open(
        &self,
        account: AccountRef,
        events: EventSender,
    ) -> Result<Box<dyn Connection>, ProviderError> {
        let net = self.network.clone();
        let (ctl_tx, ctl_rx) = mpsc::unbounded_channel();
        let conn = SandboxConnection {
            net: net.clone(),
            account: account.id.clone(),
            events: events.clone(),
            control: ctl_tx.clone(),
        };
        let refusal = {
            let mut phones = net.phones();
            let phone = phones.entry(account.id.clone()).or_default();
            if phone.down {
                return Err(ProviderError::Transient("network unreachable".into()));
            }
            if let Some(why) = phone.banned_now(net.clock().now_ms()) {
                Some(ProviderEvent::Banned { reason: why.into() })
            } else if let Some(creds) = &account.credentials {
                // The network outlives Blazz: a device it has not seen in
                // this process (Blazz restarted) is one it linked before.
                let fresh = phone.device.is_none() && !phone.unlinked;
                if fresh && creds.starts_with(b"sbx-device-") {
                    phone.device = String::from_utf8(creds.clone()).ok();
                }
                if phone.device.as_deref().map(str::as_bytes) == Some(creds.as_slice()) {
                    phone.go_live(ctl_tx);
                    None
                } else {
                    Some(ProviderEvent::LoggedOut {
                        reason: "the device was unlinked".into(),
                    })
                }
            } else {
                let (approve_tx, approve_rx) = mpsc::channel(1);
                phone.approve = Some(approve_tx);
                phone.qr = None;
                phone.pair = None;
                tokio::spawn(link(
                    net.clone(),
                    account.id.clone(),
                    events.clone(),
                    approve_rx,
                    ctl_tx,
                    ctl_rx,
                ));
                return Ok(Box::new(conn));
            }
        };
        match refusal {
            Some(event) => {
                let _ = events.send(event).await;
            }
            None => {
                let _ = events.send(ProviderEvent::Connected).await;
                tokio::spawn(pump(net, account.id, events, ctl_rx));
            }
        }
        Ok(Box::new(conn))
    }
}

/// Shows rotating QR codes until the phone approves or time runs out.
async fn link(
    net: SandboxNetwork,
    account: String,
    events: EventSender,
    mut approve: mpsc::Receiver<String>,
    ctl_tx: mpsc::UnboundedSender<Control>,
    ctl_rx: mpsc::UnboundedReceiver<Control>,
) {
    let timing = net.timing.clone();
    let mut approved = None;
    for i in 0..timing.qr_codes.max(1) {
        let code = format!("2@{},{}", random_code(32), random_code(12));
        let life = if i == 0 {
            timing.qr_first
        } else {
            timing.qr_rotate
        };
        if let Some(phone) = net.phones().get_mut(&account) {
            phone.qr = Some(code.clone());
        }
        let shown = ProviderEvent::QrCode {
            code,
            expires_at: SystemTime::now() + life,
        };
        if events.send(shown).await.is_err() {
            break; // the session is gone
        }
        tokio::select! {
            number = approve.recv() => { approved = number; break; }
            _ = tokio::time::sleep(life) => {}
        }
    }
    let Some(number) = approved else {
        if let Some(phone) = net.phones().get_mut(&account) {
            phone.qr = None;
            phone.pair = None;
            phone.approve = None;
        }
        let _ = events.send(ProviderEvent::LinkTimedOut).await;
        return;
    };
    let device = format!("sbx-device-{}", random_code(32));
    if let Some(phone) = net.phones().get_mut(&account) {
        phone.device = Some(device.clone());
        phone.unlinked = false;
        phone.number = Some(number.clone());
        phone.go_live(ctl_tx);
    }
    let linked = ProviderEvent::Linked {
        phone: number,
        credentials: device.into_bytes(),
    };
    if events.send(linked).await.is_ok() && events.send(ProviderEvent::Connected).await.is_ok() {
        pump(net, account, events, ctl_rx).await;
    }
}

/// Forwards what the network sends this connection until it drops.
async fn pump(
    net: SandboxNetwork,
    account: String,
    events: EventSender,
    mut ctl: mpsc::UnboundedReceiver<Control>,
) {
    while let Some(c) = ctl.recv().await {
        match c {
            Control::Event(e) => {
                let last = matches!(
                    *e,
                    ProviderEvent::LoggedOut { .. } | ProviderEvent::Banned { .. }
                );
                if events.send(*e).await.is_err() || last {
                    return;
                }
            }
            Control::Drop => {
                if let Some(phone) = net.phones().get_mut(&account) {
                    phone.live = None;
                }
                let _ = events
                    .send(ProviderEvent::Disconnected {
                        reason: "connection dropped".into(),
                    })
                    .await;
                return;
            }
        }
    }
}

struct SandboxConnection {
    net: SandboxNetwork,
    account: String,
    events: EventSender,
    control: mpsc::UnboundedSender<Control>,
}

impl SandboxConnection {
    /// Whether this connection is the account's live one (and answering).
    fn live(&self) -> Result<bool, ProviderError> {
        let phones = self.net.phones();
        let phone = phones
            .get(&self.account)
            .ok_or(ProviderError::NotConnected)?;
        match &phone.live {
            Some(l) if l.same_channel(&self.control) => Ok(!phone.silent),
            _ => Err(ProviderError::NotConnected),
        }
    }

    /// Like `live`, but a silent connection never answers.
    async fn answering(&self) -> Result<(), ProviderError> {
        if !self.live()? {
            std::future::pending::<()>().await;
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl Connection for SandboxConnection {
    async fn request_pair_code(&mut self, phone: &str) -> Result<(), ProviderError> {
        if !phone.starts_with('+') || phone.len() < 8 {
            return Err(ProviderError::Permanent(
                "the phone number must be in E.164 form".into(),
            ));
        }
        let code = {
            let mut phones = self.net.phones();
            let entry = phones
                .get_mut(&self.account)
                .ok_or(ProviderError::NotConnected)?;
            if entry.approve.is_none() {
                return Err(ProviderError::Permanent(
                    "this number is not waiting for a link".into(),
                ));
            }
            let raw = random_code(8).to_uppercase();
            let code = format!("{}-{}", &raw[..4], &raw[4..]);
            entry.pair = Some(code.clone());
            entry.number = Some(phone.to_string());
            code
        };
        let event = ProviderEvent::PairCode {
            code,
            expires_at: SystemTime::now() + Duration::from_secs(180),
        };
        self.events
            .send(event)
            .await
            .map_err(|_| ProviderError::NotConnected)
    }

    async fn send(&mut self, message: OutboundMessage) -> Result<Sent, ProviderError> {
        self.answering().await?;
        if !message.to.starts_with('+') {
            return Err(ProviderError::Permanent(format!(
                "{} is not a WhatsApp number",
                message.to
            )));
        }
        let id = &message.id;
        if id.is_empty() || id.len() > MAX_ID_LEN || !id.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(ProviderError::Permanent(format!(
                "a message id is 1 to {MAX_ID_LEN} visible ASCII characters"
            )));
        }
        match self.net.accept(&self.account, &message)? {
            Accepted::New => {
                let (net, account, id) = (self.net.clone(), self.account.clone(), id.clone());
                tokio::spawn(async move {
                    tokio::time::sleep(net.timing.delivered_after).await;
                    net.tell(&account, receipt(&id, ReceiptStatus::Delivered));
                    tokio::time::sleep(net.timing.read_after).await;
                    net.tell(&account, receipt(&id, ReceiptStatus::Read));
                });
            }
            // The same message: WhatsApp answers with what it knows of it.
            Accepted::Again(latest) => {
                let _ = self.control.send(Control::Event(latest));
            }
        }
        Ok(Sent {
            provider_message_id: message.id,
        })
    }

    async fn mark_read(&mut self, chat: &str, ids: &[String]) -> Result<(), ProviderError> {
        self.answering().await?;
        self.net.record_read(&self.account, chat, ids);
        Ok(())
    }

    async fn typing(&mut self, chat: &str, typing: bool) -> Result<(), ProviderError> {
        self.answering().await?;
        self.net.record_typing(&self.account, chat, typing);
        Ok(())
    }

    async fn presence(&mut self, _available: bool) -> Result<(), ProviderError> {
        self.answering().await
    }

    async fn probe(&mut self) -> Result<(), ProviderError> {
        self.answering().await
    }

    async fn logout(&mut self) -> Result<(), ProviderError> {
        let mut phones = self.net.phones();
        if let Some(phone) = phones.get_mut(&self.account) {
            phone.device = None;
            phone.unlinked = true;
            phone.approve = None;
            phone.qr = None;
            phone.pair = None;
            if phone
                .live
                .as_ref()
                .is_some_and(|l| l.same_channel(&self.control))
            {
                phone.live = None;
            }
        }
        Ok(())
    }

    async fn close(&mut self) {
        let mut phones = self.net.phones();
        if let Some(phone) = phones.get_mut(&self.account) {
            if phone
                .live
                .as_ref()
                .is_some_and(|l| l.same_channel(&self.control))
            {
                phone.live = None;
            }
            phone.approve = None;
        }
    }
}
