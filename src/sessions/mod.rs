//! The session engine: one supervised task per linked number owned by this
//! process, each with a bounded command mailbox. A crash or hang in one
//! session never stalls another; every teardown is bounded by a timeout.

mod credentials;
mod task;
pub mod web;
pub(crate) mod writer;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use blazz_domain::{AccountId, SessionState};
use blazz_provider::{OutboundMessage, Provider, ProviderError, ProviderKind, Sent};
use blazz_sandbox::{SandboxNetwork, SandboxProvider, Timing};
use blazz_store::accounts::Account;
use tokio::sync::{mpsc, oneshot, watch};

use crate::config::Config;
use crate::state::AppState;

/// Commands a session task takes.
pub(crate) enum Command {
    PairCode {
        phone: String,
        reply: oneshot::Sender<Result<(), ProviderError>>,
    },
    Send {
        message: OutboundMessage,
        reply: oneshot::Sender<Result<Sent, ProviderError>>,
    },
    MarkRead {
        chat: String,
        ids: Vec<String>,
        reply: oneshot::Sender<Result<(), ProviderError>>,
    },
    Typing {
        chat: String,
        typing: bool,
        reply: oneshot::Sender<Result<(), ProviderError>>,
    },
    Logout {
        reason: String,
        reply: oneshot::Sender<()>,
    },
    Stop {
        reply: oneshot::Sender<()>,
    },
}

/// What the rest of Blazz can read (or wait for) of a live session without
/// asking it: watch channels that the session's task updates.
pub struct Shared {
    pub provider: ProviderKind,
    pub state: watch::Sender<SessionState>,
    pub qr: watch::Sender<Option<(String, SystemTime)>>,
    pub pair: watch::Sender<Option<(String, SystemTime)>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Shared {
    pub fn state(&self) -> SessionState {
        *self.state.borrow()
    }
    pub fn qr(&self) -> Option<(String, SystemTime)> {
        self.qr.borrow().clone()
    }
    pub fn pair(&self) -> Option<(String, SystemTime)> {
        self.pair.borrow().clone()
    }
}

struct Handle {
    tx: mpsc::Sender<Command>,
    shared: Arc<Shared>,
    /// Distinguishes this task from a later one for the same account.
    generation: u64,
    task: tokio::task::JoinHandle<()>,
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("this Blazz is at its limit of {0} live numbers; link it on another instance or raise sessions.max_per_process")]
    AtCapacity(usize),
    #[error("{0} numbers cannot be linked on this Blazz")]
    ProviderUnavailable(String),
    #[error("the session is not running")]
    NotRunning,
    #[error(transparent)]
    Provider(#[from] ProviderError),
}

/// Runs a session's task; if it panics, the number is marked failed and its
/// slot freed, and no other session notices.
async fn supervise(
    state: AppState,
    account: Account,
    generation: u64,
    ctx: task::Ctx,
    rx: mpsc::Receiver<Command>,
) {
    use futures::FutureExt;
    let outcome = std::panic::AssertUnwindSafe(task::run(ctx, rx))
        .catch_unwind()
        .await;
    if let Err(panic) = outcome {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        tracing::error!(account.id = %account.id, panic = %what, "a session crashed");
        let reason = format!("the session crashed: {what}");
        task::settle(&state, &account, SessionState::Failed, &reason).await;
        state.sessions.finished(account.id, generation);
    }
}

/// How a session starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// A new link: show QR codes (forgetting any old credentials).
    Link,
    /// Bring a linked number back with its stored credentials.
    Restore,
}

pub struct Sessions {
    writes: writer::Queue,
    writer_inbox: Mutex<Option<writer::Inbox>>,
    providers: Mutex<HashMap<ProviderKind, Arc<dyn Provider>>>,
    live: Mutex<HashMap<AccountId, Handle>>,
    next_generation: std::sync::atomic::AtomicU64,
    pub sandbox: Option<SandboxNetwork>,
    /// The Cloud API provider (webhook calls reach its open sessions).
    pub cloud: Option<blazz_cloud::CloudProvider>,
}

impl Sessions {
    pub fn new(config: &Config, clock: Arc<dyn blazz_provider::clock::Clock>) -> Self {
        let mut providers: HashMap<ProviderKind, Arc<dyn Provider>> = HashMap::new();
        let sandbox = config.sandbox.enabled.then(|| {
            SandboxNetwork::new(Timing {
                qr_first: Duration::from_millis(config.sandbox.qr_first_ms),
                qr_rotate: Duration::from_millis(config.sandbox.qr_rotate_ms),
                qr_codes: config.sandbox.qr_codes,
                delivered_after: Duration::from_millis(config.sandbox.delivered_after_ms),
                read_after: Duration::from_millis(config.sandbox.read_after_ms),
            })
            .with_pacing(blazz_sandbox::Pacing {
                enforce: config.sandbox.enforce_pacing,
                per_minute: config.sandbox.pacing_per_minute,
                per_hour: config.sandbox.pacing_per_hour,
                per_day: config.sandbox.pacing_per_day,
                ban: Duration::from_secs(config.sandbox.pacing_ban_secs),
            })
            .with_clock(clock)
        });
        if let (Some(network), Some(path)) = (&sandbox, &config.sandbox.journal) {
            match network.open_journal(path) {
                Ok(read) => tracing::info!(journal = %path.display(), messages = read.messages,
                    skipped = read.skipped, "sandbox journal read back"),
                // The network refuses sends until it can remember them.
                Err(e) => {
                    tracing::error!(error = %e, "sandbox sends will fail: the journal cannot be opened")
                }
            }
        }
        if let Some(network) = &sandbox {
            providers.insert(
                ProviderKind::Sandbox,
                Arc::new(SandboxProvider {
                    network: network.clone(),
                }),
            );
        }
        let cloud = crate::cloud::provider(config);
        if let Some(cloud) = &cloud {
            providers.insert(ProviderKind::Cloud, Arc::new(cloud.clone()));
        }
        let (writes, inbox) = mpsc::unbounded_channel();
        Self {
            writes,
            writer_inbox: Mutex::new(Some(inbox)),
            providers: Mutex::new(providers),
            live: Mutex::new(HashMap::new()),
            next_generation: std::sync::atomic::AtomicU64::new(1),
            sandbox,
            cloud,
        }
    }

    /// Starts the task that commits session writes in groups; call once,
    /// before any session starts.
    pub fn start_writer(&self, state: &AppState) {
        if let Some(inbox) = lock(&self.writer_inbox).take() {
            tokio::spawn(writer::run(state.clone(), inbox));
        }
    }

    /// Queues a write and waits until it is committed; false if it failed.
    pub(crate) async fn write(&self, write: writer::Write) -> bool {
        let (done, committed) = oneshot::channel();
        if self.writes.send((write, done)).is_err() {
            return false;
        }
        committed.await.unwrap_or(false)
    }

    /// Whether accounts of this provider can be created here.
    pub fn supports(&self, kind: ProviderKind) -> bool {
        lock(&self.providers).contains_key(&kind)
    }

    /// Puts `provider` behind accounts of its kind (the real providers
    /// register here; tests install fakes).
    pub fn install_provider(&self, provider: Arc<dyn Provider>) {
        lock(&self.providers).insert(provider.kind(), provider);
    }

    pub fn shared(&self, id: AccountId) -> Option<Arc<Shared>> {
        lock(&self.live).get(&id).map(|h| h.shared.clone())
    }

    pub fn live_count(&self) -> usize {
        lock(&self.live).len()
    }

    /// Live sessions by (provider, state), for the metrics gauges.
    pub fn census(&self) -> HashMap<(ProviderKind, SessionState), i64> {
        let mut out = HashMap::new();
        for h in lock(&self.live).values() {
            *out.entry((h.shared.provider, h.shared.state()))
                .or_insert(0) += 1;
        }
        out
    }

    /// Starts (or restarts) the session of `account` in this process.
    pub async fn start(
        &self,
        state: &AppState,
        account: &Account,
        how: Start,
    ) -> Result<(), EngineError> {
        let kind = ProviderKind::parse(&account.provider)
            .ok_or_else(|| EngineError::ProviderUnavailable(account.provider.clone()))?;
        let provider = lock(&self.providers)
            .get(&kind)
            .cloned()
            .ok_or_else(|| EngineError::ProviderUnavailable(account.provider.clone()))?;
        // A running session of this account is replaced, not doubled.
        self.stop(account.id, state.config.sessions.teardown_timeout_secs)
            .await;
        let cap = state.config.sessions.max_per_process;
        let mut live = lock(&self.live);
        if live.len() >= cap {
            return Err(EngineError::AtCapacity(cap));
        }
        let (tx, rx) = mpsc::channel(64);
        let shared = Arc::new(Shared {
            provider: kind,
            state: watch::Sender::new(account.status),
            qr: watch::Sender::new(None),
            pair: watch::Sender::new(None),
        });
        let generation = self
            .next_generation
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let ctx = task::Ctx {
            state: state.clone(),
            account: account.clone(),
            provider,
            shared: shared.clone(),
            generation,
            how,
        };
        let task = tokio::spawn(supervise(
            state.clone(),
            account.clone(),
            generation,
            ctx,
            rx,
        ));
        let replaced = live.insert(
            account.id,
            Handle {
                tx,
                shared,
                generation,
                task,
            },
        );
        if let Some(old) = replaced {
            // Two starts raced past the stop above: keep one task only.
            tracing::warn!(account.id = %account.id, "a concurrent start replaced a session");
            old.task.abort();
        }
        Ok(())
    }

    /// Stops a session (keeping its link), waiting at most `timeout_secs`;
    /// the task is gone afterwards whatever the provider does.
    pub async fn stop(&self, id: AccountId, timeout_secs: u64) {
        let Some(handle) = lock(&self.live).remove(&id) else {
            return;
        };
        let (reply, done) = oneshot::channel();
        let asked = handle.tx.send(Command::Stop { reply }).await.is_ok();
        let limit = Duration::from_secs(timeout_secs.max(1));
        if !asked || tokio::time::timeout(limit, done).await.is_err() {
            tracing::warn!(account.id = %id, "session did not stop in time; aborting its task");
        }
        handle.task.abort();
    }

    /// Logs the number out (unlinks it), bounded by the teardown timeout.
    pub async fn logout(&self, state: &AppState, account: &Account, reason: &str) {
        let handle = lock(&self.live).remove(&account.id);
        let limit = Duration::from_secs(state.config.sessions.teardown_timeout_secs.max(1));
        if let Some(handle) = handle {
            let (reply, done) = oneshot::channel();
            let cmd = Command::Logout {
                reason: reason.to_string(),
                reply,
            };
            let asked = handle.tx.send(cmd).await.is_ok();
            let finished = asked && matches!(tokio::time::timeout(limit, done).await, Ok(Ok(())));
            handle.task.abort();
            if finished {
                return;
            }
            tracing::warn!(account.id = %account.id, "logout did not finish in time; aborted the session");
        }
        // Whatever the provider did, the number ends logged out here.
        task::settle_logged_out(state, account, reason).await;
    }

    pub async fn request_pair_code(&self, id: AccountId, phone: &str) -> Result<(), EngineError> {
        let tx = self.sender(id)?;
        let (reply, answer) = oneshot::channel();
        tx.send(Command::PairCode {
            phone: phone.to_string(),
            reply,
        })
        .await
        .map_err(|_| EngineError::NotRunning)?;
        Ok(answer.await.map_err(|_| EngineError::NotRunning)??)
    }

    pub async fn send(&self, id: AccountId, message: OutboundMessage) -> Result<Sent, EngineError> {
        let tx = self.sender(id)?;
        let (reply, answer) = oneshot::channel();
        tx.send(Command::Send { message, reply })
            .await
            .map_err(|_| EngineError::NotRunning)?;
        Ok(answer.await.map_err(|_| EngineError::NotRunning)??)
    }

    /// Sends read receipts for `ids` (provider ids) in the chat with `chat`.
    pub async fn mark_read(
        &self,
        id: AccountId,
        chat: &str,
        ids: Vec<String>,
    ) -> Result<(), EngineError> {
        let tx = self.sender(id)?;
        let (reply, answer) = oneshot::channel();
        tx.send(Command::MarkRead {
            chat: chat.to_string(),
            ids,
            reply,
        })
        .await
        .map_err(|_| EngineError::NotRunning)?;
        Ok(answer.await.map_err(|_| EngineError::NotRunning)??)
    }

    /// Shows (or stops showing) "typing…" in the chat with `chat`.
    pub async fn typing(&self, id: AccountId, chat: &str, typing: bool) -> Result<(), EngineError> {
        let tx = self.sender(id)?;
        let (reply, answer) = oneshot::channel();
        tx.send(Command::Typing {
            chat: chat.to_string(),
            typing,
            reply,
        })
        .await
        .map_err(|_| EngineError::NotRunning)?;
        Ok(answer.await.map_err(|_| EngineError::NotRunning)??)
    }

    fn sender(&self, id: AccountId) -> Result<mpsc::Sender<Command>, EngineError> {
        lock(&self.live)
            .get(&id)
            .map(|h| h.tx.clone())
            .ok_or(EngineError::NotRunning)
    }

    /// Called by a task as it ends: removes its handle unless a newer task
    /// of the same account replaced it already.
    fn finished(&self, id: AccountId, generation: u64) {
        let mut live = lock(&self.live);
        if live.get(&id).is_some_and(|h| h.generation == generation) {
            live.remove(&id);
        }
    }

    /// Restores every session that was linked when Blazz last stopped;
    /// a link that was in progress cannot survive and is marked failed.
    pub async fn restore_all(&self, state: &AppState) -> anyhow::Result<usize> {
        let mut conn = state.db.pool.acquire().await?;
        let interrupted = blazz_store::accounts::in_states(
            &mut conn,
            &[SessionState::QrRequired, SessionState::Authenticating],
        )
        .await?;
        let restorable = blazz_store::accounts::in_states(
            &mut conn,
            &[
                SessionState::Initializing,
                SessionState::Connected,
                SessionState::Reconnecting,
            ],
        )
        .await?;
        drop(conn);
        for account in interrupted {
            task::settle(
                state,
                &account,
                SessionState::Failed,
                "linking was interrupted by a restart; link again",
            )
            .await;
        }
        let mut n = 0;
        for account in restorable {
            match self.start(state, &account, Start::Restore).await {
                Ok(()) => n += 1,
                Err(e) => {
                    tracing::warn!(account.id = %account.id, error = %e, "could not restore a session")
                }
            }
        }
        Ok(n)
    }

    /// Stops every session (keeping links) at shutdown.
    pub async fn stop_all(&self, timeout_secs: u64) {
        let ids: Vec<AccountId> = lock(&self.live).keys().copied().collect();
        futures::future::join_all(ids.into_iter().map(|id| self.stop(id, timeout_secs))).await;
    }
}
