//! One session's task: opens the provider connection, follows its events
//! through the state machine (persisting every change with its outbox
//! event), takes commands, probes an idle connection, and reconnects with
//! backoff until it gives up.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use blazz_domain::session::{transition, SessionEvent};
use blazz_domain::MessageStatus;
use blazz_domain::{backoff, SessionState};
use blazz_provider::{
    AccountRef, Connection, InboundMessage, Provider, ProviderError, ProviderEvent, ReceiptStatus,
};
use blazz_store::accounts::Account;
use serde_json::json;
use tokio::sync::mpsc;
use tokio::time::{sleep, timeout, Instant};

use super::writer::Write;
use super::{credentials, Command, Shared, Start};
use crate::inbox::inbound::{Inbound, Receipt};
use crate::state::AppState;

pub(super) struct Ctx {
    pub state: AppState,
    pub account: Account,
    pub provider: Arc<dyn Provider>,
    pub shared: Arc<Shared>,
    pub generation: u64,
    pub how: Start,
}

/// How handling something ends the current connection.
enum Next {
    Continue,
    Reconnect(String),
    End,
}

fn ms(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

pub(super) async fn run(mut ctx: Ctx, mut cmds: mpsc::Receiver<Command>) {
    let id = ctx.account.id;
    let cfg = ctx.state.config.sessions.clone();
    if ctx.how == Start::Link {
        if let Err(e) = credentials::forget(&ctx.state, &ctx.account).await {
            tracing::warn!(account.id = %id, error = %format!("{e:#}"), "could not forget old credentials");
        }
    }
    ctx.apply(SessionEvent::Restart, None).await;
    let mut failures: u32 = 0;
    'session: loop {
        let credentials = match credentials::load(&ctx.state, &ctx.account).await {
            Ok(c) => c,
            Err(e) => {
                let reason = format!("stored credentials cannot be read: {e:#}");
                ctx.apply(SessionEvent::GaveUp, Some(&reason)).await;
                break;
            }
        };
        if ctx.how == Start::Restore && credentials.is_none() {
            ctx.apply(
                SessionEvent::GaveUp,
                Some("no stored credentials; link the number again"),
            )
            .await;
            break;
        }
        let (events_tx, mut events) = mpsc::channel(256);
        let account = AccountRef {
            id: id.to_string(),
            phone: ctx.account.phone.clone(),
            credentials,
        };
        let opened = ctx.provider.open(account, events_tx).await;
        let next = match opened {
            Err(ProviderError::LoggedOut(reason)) => {
                settle_logged_out(&ctx.state, &ctx.account, &reason).await;
                Next::End
            }
            Err(e) => Next::Reconnect(format!("could not connect: {e}")),
            Ok(mut conn) => {
                let next = ctx
                    .drive(conn.as_mut(), &mut events, &mut cmds, &mut failures)
                    .await;
                if !matches!(next, Next::End) || ctx.shared.state() != SessionState::LoggedOut {
                    let limit = Duration::from_secs(cfg.teardown_timeout_secs.max(1));
                    let _ = timeout(limit, conn.close()).await;
                }
                next
            }
        };
        let reason = match next {
            Next::End => break,
            Next::Continue => continue,
            Next::Reconnect(reason) => reason,
        };
        ctx.state
            .metrics
            .session_reconnects
            .with_label_values(&[ctx.shared.provider.as_str()])
            .inc();
        failures += 1;
        if failures > cfg.max_reconnects {
            let why = format!(
                "gave up after {} reconnect attempts: {reason}",
                cfg.max_reconnects
            );
            ctx.apply(SessionEvent::GaveUp, Some(&why)).await;
            break;
        }
        ctx.apply(SessionEvent::Disconnected, Some(&reason)).await;
        let delay = backoff::delay(
            failures,
            Duration::from_millis(cfg.reconnect_base_ms),
            Duration::from_millis(cfg.reconnect_cap_ms),
            rand::random::<f64>(),
        );
        // Wait out the backoff, still answering commands.
        let wake = Instant::now() + delay;
        loop {
            tokio::select! {
                _ = tokio::time::sleep_until(wake) => break,
                cmd = cmds.recv() => match cmd {
                    None => break 'session,
                    Some(Command::Stop { reply }) => { let _ = reply.send(()); break 'session; }
                    Some(Command::Logout { reason, reply }) => {
                        settle_logged_out(&ctx.state, &ctx.account, &reason).await;
                        let _ = reply.send(());
                        break 'session;
                    }
                    Some(other) => refuse(other),
                }
            }
        }
        ctx.how = Start::Restore;
    }
    ctx.state.sessions.finished(id, ctx.generation);
}

/// Messages and receipts handled together at most.
const DATA_BATCH: usize = 256;

/// Whether an event is inbox data (stored in batches) rather than a
/// session change.
fn is_data(e: &ProviderEvent) -> bool {
    matches!(
        e,
        ProviderEvent::Message(_)
            | ProviderEvent::SentFromPhone(_)
            | ProviderEvent::Receipt { .. }
            | ProviderEvent::Durable { .. }
    )
}

/// Inbox data on its way to the store.
enum Data {
    Inbound(Box<Inbound>),
    Receipt(Receipt),
}

impl Data {
    fn write(&self) -> Write {
        match self {
            Data::Inbound(i) => Write::Inbound((**i).clone()),
            Data::Receipt(r) => Write::Receipt(r.clone()),
        }
    }
}

/// Answers a command that cannot run now.
fn refuse(cmd: Command) {
    match cmd {
        Command::PairCode { reply, .. } => {
            let _ = reply.send(Err(ProviderError::NotConnected));
        }
        Command::Send { reply, .. } => {
            let _ = reply.send(Err(ProviderError::NotConnected));
        }
        Command::MarkRead { reply, .. } | Command::Typing { reply, .. } => {
            let _ = reply.send(Err(ProviderError::NotConnected));
        }
        Command::Logout { reply, .. } | Command::Stop { reply } => {
            let _ = reply.send(());
        }
    }
}

impl Ctx {
    /// Runs one connection until it ends or must be replaced.
    async fn drive(
        &mut self,
        conn: &mut dyn Connection,
        events: &mut mpsc::Receiver<ProviderEvent>,
        cmds: &mut mpsc::Receiver<Command>,
        failures: &mut u32,
    ) -> Next {
        let cfg = self.state.config.sessions.clone();
        let idle = Duration::from_secs(cfg.idle_probe_secs.max(1));
        let mut last_traffic = Instant::now();
        loop {
            let connected = self.shared.state() == SessionState::Connected;
            let next = tokio::select! {
                event = events.recv() => {
                    last_traffic = Instant::now();
                    match event {
                        None => Next::Reconnect("the provider closed the connection".into()),
                        Some(event) if is_data(&event) => {
                            // Everything that has queued up behind this
                            // message or receipt is stored in the same
                            // group commit.
                            let mut batch = vec![event];
                            let mut next = None;
                            while batch.len() < DATA_BATCH {
                                match events.try_recv() {
                                    Ok(e) if is_data(&e) => batch.push(e),
                                    Ok(e) => { next = Some(e); break; }
                                    Err(_) => break,
                                }
                            }
                            self.on_data(batch).await;
                            match next {
                                Some(e) => self.on_event(e, failures).await,
                                None => Next::Continue,
                            }
                        }
                        Some(event) => self.on_event(event, failures).await,
                    }
                }
                cmd = cmds.recv() => match cmd {
                    None => Next::End,
                    Some(cmd) => {
                        last_traffic = Instant::now();
                        self.on_command(conn, cmd).await
                    }
                },
                _ = sleep(idle.saturating_sub(last_traffic.elapsed())), if connected => {
                    // Silent-disconnect detection: no traffic for a while.
                    let limit = Duration::from_secs(cfg.probe_timeout_secs.max(1));
                    match timeout(limit, conn.probe()).await {
                        Ok(Ok(())) => { last_traffic = Instant::now(); Next::Continue }
                        Ok(Err(e)) => Next::Reconnect(format!("health probe failed: {e}")),
                        Err(_) => Next::Reconnect("health probe unanswered".into()),
                    }
                }
            };
            if !matches!(next, Next::Continue) {
                return next;
            }
        }
    }

    async fn on_event(&mut self, event: ProviderEvent, failures: &mut u32) -> Next {
        match event {
            ProviderEvent::QrCode { code, expires_at } => {
                self.shared
                    .qr
                    .send_replace(Some((code.clone(), expires_at)));
                self.apply(SessionEvent::LinkRequired, None).await;
                self.publish(
                    "account.qr_updated",
                    json!({"code": code, "expires_at": ms(expires_at)}),
                )
                .await;
            }
            ProviderEvent::PairCode { code, expires_at } => {
                self.shared
                    .pair
                    .send_replace(Some((code.clone(), expires_at)));
                self.apply(SessionEvent::LinkRequired, None).await;
                self.publish(
                    "account.pair_code",
                    json!({"code": code, "expires_at": ms(expires_at)}),
                )
                .await;
            }
            ProviderEvent::Linked {
                phone,
                credentials: creds,
            } => {
                self.shared.qr.send_replace(None);
                self.shared.pair.send_replace(None);
                // The sealed credentials and the number commit together.
                let stored = match credentials::seal(&self.state, &self.account, &creds) {
                    Ok((secret, key_id, sealed)) => {
                        let write = Write::Linked {
                            workspace: self.account.workspace_id,
                            account: self.account.id,
                            phone: phone.clone(),
                            secret,
                            key_id,
                            sealed,
                        };
                        self.state.sessions.write(write).await
                    }
                    Err(e) => {
                        tracing::error!(account.id = %self.account.id, error = %format!("{e:#}"), "sealing credentials");
                        false
                    }
                };
                if !stored {
                    let reason = "could not store the link's credentials";
                    self.apply(SessionEvent::GaveUp, Some(reason)).await;
                    return Next::End;
                }
                self.account.phone = Some(phone);
                self.apply(SessionEvent::LinkApproved, None).await;
            }
            ProviderEvent::LinkTimedOut => {
                self.shared.qr.send_replace(None);
                self.apply(SessionEvent::GaveUp, Some("qr_timeout")).await;
                return Next::End;
            }
            ProviderEvent::Connected => {
                *failures = 0;
                self.apply(SessionEvent::Connected, None).await;
            }
            ProviderEvent::Disconnected { reason } => return Next::Reconnect(reason),
            ProviderEvent::LoggedOut { reason } => {
                settle_logged_out(&self.state, &self.account, &reason).await;
                self.shared.state.send_replace(SessionState::LoggedOut);
                return Next::End;
            }
            ProviderEvent::Banned { reason } => {
                self.apply(SessionEvent::Banned, Some(&reason)).await;
                return Next::End;
            }
            ProviderEvent::Failed { reason } => {
                self.apply(SessionEvent::GaveUp, Some(&reason)).await;
                return Next::End;
            }
            ProviderEvent::Message(_)
            | ProviderEvent::SentFromPhone(_)
            | ProviderEvent::Receipt { .. }
            | ProviderEvent::Durable { .. } => self.on_data(vec![event]).await,
            ProviderEvent::Typing { from, typing } => {
                self.publish("account.typing", json!({"from": from, "typing": typing}))
                    .await;
            }
            ProviderEvent::Presence { from, available } => {
                self.publish(
                    "account.presence",
                    json!({"from": from, "available": available}),
                )
                .await;
            }
        }
        Next::Continue
    }

    async fn on_command(&mut self, conn: &mut dyn Connection, cmd: Command) -> Next {
        let limit = Duration::from_secs(self.state.config.sessions.teardown_timeout_secs.max(1));
        match cmd {
            Command::PairCode { phone, reply } => {
                let _ = reply.send(conn.request_pair_code(&phone).await);
            }
            Command::Send { message, reply } => {
                let _ = reply.send(conn.send(message).await);
            }
            Command::MarkRead { chat, ids, reply } => {
                let _ = reply.send(conn.mark_read(&chat, &ids).await);
            }
            Command::Typing {
                chat,
                typing,
                reply,
            } => {
                let _ = reply.send(conn.typing(&chat, typing).await);
            }
            Command::Logout { reason, reply } => {
                if timeout(limit, conn.logout()).await.is_err() {
                    tracing::warn!(account.id = %self.account.id, "the provider did not log out in time");
                }
                settle_logged_out(&self.state, &self.account, &reason).await;
                self.shared.state.send_replace(SessionState::LoggedOut);
                let _ = reply.send(());
                return Next::End;
            }
            Command::Stop { reply } => {
                let _ = timeout(limit, conn.close()).await;
                let _ = reply.send(());
                return Next::End;
            }
        }
        Next::Continue
    }

    /// Moves the state machine; a legal change is persisted and published.
    async fn apply(&mut self, event: SessionEvent, reason: Option<&str>) {
        let from = self.shared.state();
        let to = match transition(from, event) {
            Ok(to) => to,
            Err(e) => {
                tracing::debug!(account.id = %self.account.id, error = %e, "ignored session event");
                return;
            }
        };
        if to == from && reason.is_none() {
            return;
        }
        self.shared.state.send_replace(to);
        self.account.status = to;
        settle(&self.state, &self.account, to, reason.unwrap_or_default()).await;
    }

    /// Stores messages from contacts (their media first) and receipts, in
    /// the order they came, committed together. Nothing is dropped for a
    /// failed write: the writes are retried until they land or the session
    /// is stopped.
    async fn on_data(&self, events: Vec<ProviderEvent>) {
        let mut items = Vec::with_capacity(events.len());
        // Durable batches are acknowledged to the network once stored.
        let mut signals = Vec::new();
        let mut flat = Vec::with_capacity(events.len());
        for event in events {
            match event {
                ProviderEvent::Durable { events, stored } => {
                    flat.extend(events);
                    signals.push(stored);
                }
                other => flat.push(other),
            }
        }
        for event in flat {
            match event {
                ProviderEvent::Message(m) => {
                    if let Some(inbound) = self.inbound(m).await {
                        items.push(Data::Inbound(Box::new(inbound)));
                    }
                }
                ProviderEvent::SentFromPhone(m) => {
                    // Campaign sends from this number hold off while the
                    // owner is chatting from the phone.
                    let now = self.state.campaigns.clock.now_ms();
                    self.state.campaigns.owner_active(self.account.id, now);
                    if let Some(mut inbound) = self.inbound(m).await {
                        inbound.from_phone = true;
                        items.push(Data::Inbound(Box::new(inbound)));
                    }
                }
                ProviderEvent::Receipt {
                    provider_message_id,
                    status,
                    at,
                    error,
                } => items.push(Data::Receipt(Receipt {
                    workspace: self.account.workspace_id,
                    account: self.account.id,
                    provider_message_id,
                    status: match status {
                        ReceiptStatus::Sent => MessageStatus::Sent,
                        ReceiptStatus::Delivered => MessageStatus::Delivered,
                        ReceiptStatus::Read => MessageStatus::Read,
                        ReceiptStatus::Failed => MessageStatus::Failed,
                    },
                    at: ms(at),
                    error,
                })),
                _ => {}
            }
        }
        let mut delay = Duration::from_millis(50);
        loop {
            // Queued in order, one group commit for all of them.
            let writes = items.iter().map(|d| self.state.sessions.write(d.write()));
            let stored = futures::future::join_all(writes).await;
            if stored.iter().all(|ok| *ok) {
                for signal in &signals {
                    signal.stored();
                }
                return;
            }
            // Storing twice is harmless (messages are deduplicated by their
            // provider id, receipts only move forward): retry them all.
            tracing::warn!(account.id = %self.account.id, writes = items.len(), "could not store; retrying");
            sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(5));
        }
    }

    /// A message from a contact ready to store (its media kept first);
    /// `None` if the sender is not a phone number.
    async fn inbound(&self, m: InboundMessage) -> Option<Inbound> {
        let from = match blazz_domain::Phone::from_network(&m.from) {
            Ok(p) => p.as_str().to_string(),
            Err(e) => {
                tracing::warn!(account.id = %self.account.id, from = %m.from, error = %e, "ignored a message from an address that is not a phone number");
                return None;
            }
        };
        let ws = self.account.workspace_id;
        let media_id = crate::inbox::media::keep_inbound(&self.state, ws, &m).await;
        Some(Inbound {
            workspace: ws,
            account: self.account.id,
            message: InboundMessage { from, ..m },
            media_id,
            from_phone: false,
        })
    }

    async fn publish(&self, kind: &'static str, mut payload: serde_json::Value) {
        payload["account_id"] = json!(self.account.id.to_string());
        let write = Write::Event {
            workspace: self.account.workspace_id,
            kind,
            payload,
        };
        if !self.state.sessions.write(write).await {
            tracing::warn!(account.id = %self.account.id, kind, "could not write a session event");
        }
    }
}

/// Persists a status and its `account.status_changed` event together.
pub(super) async fn settle(state: &AppState, account: &Account, to: SessionState, reason: &str) {
    let reason = (!reason.is_empty()).then(|| reason.to_string());
    let event = json!({
        "account_id": account.id.to_string(),
        "provider": account.provider,
        "status": to,
        "reason": reason,
    });
    let write = Write::Status {
        workspace: account.workspace_id,
        account: account.id,
        to,
        reason,
        event,
    };
    if !state.sessions.write(write).await {
        tracing::error!(account.id = %account.id, status = %to, "could not persist a session state");
    }
}

/// The number is unlinked: forget its credentials, record `logged_out`.
pub(super) async fn settle_logged_out(state: &AppState, account: &Account, reason: &str) {
    if let Err(e) = credentials::forget(state, account).await {
        tracing::warn!(account.id = %account.id, error = %format!("{e:#}"), "could not forget credentials");
    }
    settle(state, account, SessionState::LoggedOut, reason).await;
}
