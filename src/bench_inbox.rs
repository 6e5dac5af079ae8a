//! `blazz bench inbox`: the inbox's figures through the whole app (HTTP,
//! job workers, outbox dispatcher, session writer) and linked sandbox
//! numbers, on a fresh SQLite database and optionally a fresh PostgreSQL
//! schema. Prints; never asserts.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use blazz_bus::{EventBus, InProcessBus};
use blazz_domain::{
    ContactId, Direction, MessageId, MessageStatus, Role, SessionState, WorkspaceId,
};
use blazz_provider::{
    AccountRef, Connection, EventSender, InboundMessage, MessageBody, OutboundMessage, Provider,
    ProviderError, ProviderKind, Sent,
};
use blazz_sandbox::{SandboxNetwork, SandboxProvider};
use blazz_store::accounts::{self, Account};
use blazz_store::audit::Actor;
use blazz_store::contacts::{self, Contact};
use blazz_store::messages::{self, Message};
use blazz_store::{chats, db, now_ms};
use tokio::net::TcpListener;
use tokio::sync::broadcast::error::RecvError;

use crate::auth::Caller;
use crate::config::{Config, MediaBackend};
use crate::inbox::body::Body;
use crate::inbox::send::{self, SendRequest};
use crate::jobs::Registry;
use crate::server::{self, Running};
use crate::services::accounts::{create as create_owner, NewAccount};
use crate::services::{cli_actor, tokens};
use crate::sessions::Start;
use crate::state::AppState;

/// What the command line asked for.
#[derive(Debug, Clone)]
pub struct Options {
    pub numbers: usize,
    pub inbound: usize,
    pub rate: u32,
    pub seconds: u64,
    pub chats: usize,
    pub per_chat: usize,
}

fn cpus() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0)
}

pub async fn run(base: Config, opts: Options, postgres_url: Option<String>) -> anyhow::Result<()> {
    println!(
        "inbox benchmark: {} sandbox numbers, {} inbound messages, outbound {} msg/s for {} s, \
         chat list of {} chats x {} messages, {} CPUs",
        opts.numbers,
        opts.inbound,
        opts.rate,
        opts.seconds,
        opts.chats,
        opts.per_chat,
        cpus()
    );
    backend(&base, &opts, "sqlite", None).await?;
    if let Some(base_url) = postgres_url {
        let schema = format!("bench_inbox_{}", std::process::id());
        let url = db::postgres_schema_url(&base_url, &schema).await?;
        let result = backend(&base, &opts, "postgres", Some(url)).await;
        db::drop_postgres_schema(&base_url, &schema).await?;
        result?;
    }
    Ok(())
}

/// One backend, in a data directory of its own that is removed afterwards.
async fn backend(
    base: &Config,
    opts: &Options,
    label: &str,
    database_url: Option<String>,
) -> anyhow::Result<()> {
    let (dir, mut config) = sandbox_config(base, "inbox", label, database_url, opts.numbers)?;
    config.limits.api_per_minute = 1_000_000;
    let result = phases(config, opts, label).await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// A benchmark's configuration: a data directory of its own (returned, to
/// be removed afterwards), the given database or a fresh SQLite one, local
/// media, and the sandbox with pacing enforcement off and receipts an hour
/// later (they would compete with what is measured). Nothing of the
/// operator's setup (database, journal, S3) is touched.
pub(crate) fn sandbox_config(
    base: &Config,
    bench: &str,
    label: &str,
    database_url: Option<String>,
    numbers: usize,
) -> anyhow::Result<(std::path::PathBuf, Config)> {
    let dir = std::env::temp_dir().join(format!(
        "blazz-bench-{bench}-{}-{label}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let mut config = base.clone();
    config.data_dir = dir.clone();
    config.database_url = database_url.map(crate::config::Secret::new);
    config.public_url = None;
    config.media.store = MediaBackend::Local;
    config.media.local_dir = None;
    config.sandbox.enabled = true;
    config.sandbox.journal = None;
    config.sandbox.enforce_pacing = false;
    config.sandbox.delivered_after_ms = 3_600_000;
    config.sandbox.read_after_ms = 3_600_000;
    config.sessions.idle_probe_secs = 3_600;
    config.sessions.max_per_process = config.sessions.max_per_process.max(numbers);
    Ok((dir, config))
}

async fn phases(config: Config, opts: &Options, label: &str) -> anyhow::Result<()> {
    let db = server::open_db(&config).await?;
    // Bigger than the default so that the counting subscriber never lags.
    let bus = Arc::new(InProcessBus::new(1 << 17));
    let received = count_received(&bus);
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let running =
        server::start_with_bus(config, db.clone(), Registry::builtin(), listener, bus).await?;
    let result = async {
        let state = running.state.clone();
        let net = state
            .sessions
            .sandbox
            .clone()
            .ok_or_else(|| anyhow::anyhow!("the sandbox is off"))?;
        let handed: Handed = Arc::default();
        state.sessions.install_provider(Arc::new(Timed {
            inner: SandboxProvider {
                network: net.clone(),
            },
            handed: handed.clone(),
        }));
        let new = NewAccount {
            email: "bench@example.com",
            name: "Bench",
            password: "bench password 1",
            workspace_name: "Bench",
        };
        let (_, ws) = create_owner(&db, new, false)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let numbers = link(&state, &net, ws.id, opts.numbers.max(1)).await?;
        inbound(&state, &net, &numbers, &received, opts, label).await?;
        outbound(&state, ws.id, &numbers, &handed, opts, label).await?;
        chat_list(&running, opts, label).await
    }
    .await;
    running.stop().await;
    db.close().await;
    result
}

/// Counts `message.received` events as the bus hands them out.
fn count_received(bus: &InProcessBus) -> Arc<AtomicU64> {
    let count = Arc::new(AtomicU64::new(0));
    let mut sub = bus.subscribe();
    let counter = count.clone();
    tokio::spawn(async move {
        loop {
            match sub.recv().await {
                Ok(e) if e.kind == "message.received" => {
                    counter.fetch_add(1, Ordering::Relaxed);
                }
                Ok(_) => {}
                Err(RecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "the benchmark's bus subscriber lagged");
                }
                Err(RecvError::Closed) => break,
            }
        }
    });
    count
}

/// Creates and links `n` sandbox numbers (the phone scans the first QR).
pub(crate) async fn link(
    state: &AppState,
    net: &SandboxNetwork,
    ws: WorkspaceId,
    n: usize,
) -> anyhow::Result<Vec<Account>> {
    let mut created = Vec::with_capacity(n);
    let mut tx = state.db.begin().await?;
    for i in 0..n {
        created.push(accounts::create(&mut tx, ws, "sandbox", &format!("Bench {i}")).await?);
    }
    tx.commit().await?;
    let mut tasks = tokio::task::JoinSet::new();
    for account in created {
        let (state, net) = (state.clone(), net.clone());
        tasks.spawn(async move {
            state.sessions.start(&state, &account, Start::Link).await?;
            let shared = state
                .sessions
                .shared(account.id)
                .ok_or_else(|| anyhow::anyhow!("the session did not start"))?;
            let code = shared
                .qr
                .subscribe()
                .wait_for(Option::is_some)
                .await?
                .clone()
                .map(|(code, _)| code)
                .unwrap_or_default();
            net.scan(&account.id.to_string(), &code, None)?;
            shared
                .state
                .subscribe()
                .wait_for(|s| *s == SessionState::Connected)
                .await?;
            anyhow::Ok(account)
        });
    }
    let mut linked = Vec::with_capacity(n);
    while let Some(done) = tasks.join_next().await {
        linked.push(done??);
    }
    Ok(linked)
}

/// Phase 1: messages pushed into the network as fast as it takes them,
/// timed until all are stored and all their events published.
async fn inbound(
    state: &AppState,
    net: &SandboxNetwork,
    numbers: &[Account],
    received: &AtomicU64,
    opts: &Options,
    label: &str,
) -> anyhow::Result<()> {
    let n = opts.inbound;
    let senders: Vec<String> = (0..1_000)
        .map(|s| match s % 2 {
            0 => format!("+1415555{:04}", s / 2),
            _ => format!("+4477009{:05}", s / 2),
        })
        .collect();
    let count_in = || async {
        let (c,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM messages WHERE direction = 'in'")
            .fetch_one(&state.db.pool)
            .await?;
        anyhow::Ok(c as u64)
    };
    let started = Instant::now();
    for i in 0..n {
        // A sender always writes to the same number: 1,000 chats.
        let s = i % senders.len();
        let number = &numbers[s % numbers.len()];
        let message = InboundMessage {
            provider_message_id: format!("BENCHIN{i:09}"),
            from: senders[s].clone(),
            push_name: Some(format!("Sender {s}")),
            body: MessageBody::Text {
                text: format!("Hello, this is inbound message {i}"),
            },
            reply_to: None,
            timestamp_ms: now_ms(),
            media: None,
        };
        net.inbound(&number.id.to_string(), message)?;
    }
    let pushed = started.elapsed();
    // Counting stored rows reads the whole table (on SQLite, again after
    // every commit), so it runs every 100 ms until the near end. Events
    // commit with their messages: the published count is a lower bound.
    let n64 = n as u64;
    let (mut persisted_at, mut published_at) = (None, None);
    let (mut persisted, mut counted_at) = (0, Instant::now());
    let (mut last_progress, mut last_seen) = (Instant::now(), 0);
    while persisted_at.is_none() || published_at.is_none() {
        tokio::time::sleep(Duration::from_millis(5)).await;
        let published = received.load(Ordering::Relaxed);
        if published_at.is_none() && published >= n64 {
            published_at = Some(started.elapsed());
        }
        let near = published * 20 >= n64 * 19;
        if persisted_at.is_none() && (near || counted_at.elapsed() >= Duration::from_millis(100)) {
            persisted = count_in().await?;
            counted_at = Instant::now();
            if persisted >= n64 {
                persisted_at = Some(started.elapsed());
            }
        }
        if persisted.max(published) != last_seen {
            (last_seen, last_progress) = (persisted.max(published), Instant::now());
        } else if last_progress.elapsed() > Duration::from_secs(60) {
            println!(
                "{label:>8} inbound: stalled at {persisted} stored, {published} published of {n}"
            );
            break;
        }
    }
    let rate = |d: Option<Duration>| match d {
        Some(d) => format!(
            "{:>6.0} msg/s ({:.2} s)",
            n as f64 / d.as_secs_f64().max(1e-9),
            d.as_secs_f64()
        ),
        None => "did not finish".into(),
    };
    println!(
        "{label:>8} inbound: {n} messages from {} senders to {} numbers (pushed in {:.2} s): \
         persisted {} | published {} | {} CPUs",
        n.min(senders.len()),
        numbers.len(),
        pushed.as_secs_f64(),
        rate(persisted_at),
        rate(published_at),
        cpus()
    );
    Ok(())
}

/// Phase 2: sends accepted at a fixed rate; the time from `accept`
/// returning to the provider getting the message.
async fn outbound(
    state: &AppState,
    ws: WorkspaceId,
    numbers: &[Account],
    handed: &Handed,
    opts: &Options,
    label: &str,
) -> anyhow::Result<()> {
    let (token, _) = tokens::create(
        &state.db,
        ws,
        &cli_actor(),
        None,
        "bench",
        Role::Owner,
        None,
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let caller = Caller {
        workspace_id: ws,
        role: token.role,
        actor: Actor {
            kind: "token",
            id: Some(token.id.to_string()),
            name: token.name.clone(),
        },
        user_id: None,
        token_id: Some(token.id),
    };
    let total = opts.rate as u64 * opts.seconds;
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / opts.rate.max(1) as f64));
    let mut tasks = tokio::task::JoinSet::new();
    let started = Instant::now();
    for j in 0..total {
        tick.tick().await;
        let (state, caller) = (state.clone(), caller.clone());
        // 500 recipients, each always written to from the same number.
        let contact = j % 500;
        let account = numbers[contact as usize % numbers.len()].id;
        tasks.spawn(async move {
            let req = SendRequest {
                chat_id: None,
                account_id: Some(account),
                account_group: None,
                to: Some(format!("+1415556{contact:04}")),
                body: Body::Text {
                    text: format!("Hello from the benchmark, message {j}"),
                },
                reply_to: None,
            };
            let asked = Instant::now();
            let (m, _) = send::accept(&state, &caller, req, None)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let accepted = Instant::now();
            anyhow::Ok((send::network_id(m.id), asked, accepted))
        });
    }
    let scheduled = started.elapsed();
    let mut sent = Vec::with_capacity(total as usize);
    let mut refused = 0;
    while let Some(done) = tasks.join_next().await {
        match done {
            Ok(Ok(s)) => sent.push(s),
            _ => refused += 1,
        }
    }
    // Everything accepted reaches the provider, or the wait times out.
    let deadline = Instant::now() + Duration::from_secs(60);
    let handed = loop {
        let snapshot = lock(handed).clone();
        let all = sent.iter().all(|(id, ..)| snapshot.contains_key(id));
        if all || Instant::now() > deadline {
            break snapshot;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let mut accept_ms = Vec::with_capacity(sent.len());
    let mut handoff_ms = Vec::with_capacity(sent.len());
    let mut early = 0;
    for (id, asked, accepted) in &sent {
        accept_ms.push(ms(*accepted - *asked));
        if let Some(at) = handed.get(id) {
            if *at < *accepted {
                early += 1;
            }
            handoff_ms.push(ms(at.saturating_duration_since(*accepted)));
        }
    }
    println!(
        "{label:>8} outbound: {} accepted at {} msg/s over {:.1} s ({refused} refused), \
         {} handed to the provider ({early} before accept returned) | {} CPUs",
        sent.len(),
        opts.rate,
        scheduled.as_secs_f64(),
        handoff_ms.len(),
        cpus()
    );
    println!(
        "{label:>8} outbound: accepted -> provider {} | accept call {}",
        Percentiles::of(handoff_ms),
        Percentiles::of(accept_ms)
    );
    Ok(())
}

/// Phase 3: a workspace of its own with `chats` x `per_chat` messages,
/// listed over HTTP with an API token.
async fn chat_list(running: &Running, opts: &Options, label: &str) -> anyhow::Result<()> {
    let state = &running.state;
    let new = NewAccount {
        email: "list@example.com",
        name: "List",
        password: "bench password 1",
        workspace_name: "Chat list",
    };
    let (_, ws) = create_owner(&state.db, new, false)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let (_, token) = tokens::create(
        &state.db,
        ws.id,
        &cli_actor(),
        None,
        "bench",
        Role::Owner,
        None,
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let seeding = Instant::now();
    let (chat, messages) = seed(state, ws.id, opts.chats.max(1), opts.per_chat.max(1)).await?;
    let seeded = seeding.elapsed();
    let client = reqwest::Client::new();
    let base = format!("http://{}/api/v1", running.addr);
    let first: serde_json::Value = client
        .get(format!("{base}/chats?limit=50"))
        .bearer_auth(&token)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let cursor = first["next_cursor"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let mut second = reqwest::Url::parse(&format!("{base}/chats?limit=50"))?;
    second.query_pairs_mut().append_pair("cursor", &cursor);
    let mut cases = vec![
        ("GET /chats?limit=50", format!("{base}/chats?limit=50")),
        (
            "GET /chats?unread=true&limit=50",
            format!("{base}/chats?unread=true&limit=50"),
        ),
        (
            "GET /chats/{id}/messages?limit=50",
            format!("{base}/chats/{chat}/messages?limit=50"),
        ),
    ];
    // Fewer than 50 chats have no second page.
    if !cursor.is_empty() {
        cases.insert(
            2,
            ("GET /chats?limit=50&cursor= (page 2)", second.to_string()),
        );
    }
    println!(
        "{label:>8} chat list: {} chats x {} messages seeded in {:.1} s ({messages} messages), \
         500 sequential requests after 20 warm-up | {} CPUs",
        opts.chats,
        opts.per_chat,
        seeded.as_secs_f64(),
        cpus()
    );
    for (name, url) in cases {
        let mut took = Vec::with_capacity(500);
        let mut failed = 0;
        for i in 0..520 {
            let asked = Instant::now();
            let ok = match client.get(&url).bearer_auth(&token).send().await {
                Ok(r) if r.status().is_success() => r.bytes().await.is_ok(),
                _ => false,
            };
            if i >= 20 {
                took.push(ms(asked.elapsed()));
                failed += usize::from(!ok);
            }
        }
        println!(
            "{label:>8} chat list: {name:<38} {}{}",
            Percentiles::of(took),
            if failed > 0 {
                format!(" ({failed} failed)")
            } else {
                String::new()
            }
        );
    }
    Ok(())
}

/// Stores `chats` chats of `per_chat` messages each straight through the
/// store, 20 chats a transaction; every other chat ends with an unread
/// message. Returns a chat's id and the messages stored.
async fn seed(
    state: &AppState,
    ws: WorkspaceId,
    chats_n: usize,
    per_chat: usize,
) -> anyhow::Result<(String, usize)> {
    let account = {
        let mut tx = state.db.begin().await?;
        let a = accounts::create(&mut tx, ws, "sandbox", "Chat list").await?;
        tx.commit().await?;
        a
    };
    let start = now_ms() - (chats_n * per_chat) as i64 * 1_000;
    let mut some_chat = String::new();
    let mut stored = 0;
    for first in (0..chats_n).step_by(20) {
        let mut tx = state.db.begin().await?;
        for c in first..(first + 20).min(chats_n) {
            let contact = Contact {
                id: ContactId::new(),
                workspace_id: ws,
                phone: format!("+1415{:07}", 5_570_000 + c),
                name: Some(format!("Contact {c}")),
                tags: Vec::new(),
                fields: Default::default(),
                notes: None,
                opted_out_at: None,
                created_at: start,
                updated_at: start,
            };
            anyhow::ensure!(
                contacts::insert_if_absent(&mut tx, &contact).await?,
                "contact {} exists already",
                contact.phone
            );
            let (chat, _) = chats::find_or_create(&mut tx, ws, account.id, contact.id).await?;
            some_chat = chat.to_string();
            for k in 0..per_chat {
                // Turns alternate; even chats end with an unread message.
                let incoming = if k + 1 == per_chat {
                    c % 2 == 0
                } else {
                    k % 2 == 0
                };
                let body = Body::Text {
                    text: format!("Seeded message {k} of chat {c}, with some words to search"),
                };
                let at = start + ((c * per_chat + k) as i64) * 1_000;
                let m = Message {
                    seq: 0,
                    id: MessageId::new(),
                    workspace_id: ws,
                    account_id: account.id,
                    chat_id: chat,
                    direction: if incoming {
                        Direction::In
                    } else {
                        Direction::Out
                    },
                    provider_message_id: Some(format!("SEED{c:06}{k:05}")),
                    kind: body.kind().into(),
                    body: serde_json::to_value(&body)?,
                    text: body.text(),
                    media_id: None,
                    reply_to_id: None,
                    reply_to_provider_id: None,
                    status: if incoming {
                        MessageStatus::Received
                    } else {
                        MessageStatus::Read
                    },
                    error: None,
                    source: if incoming { "contact" } else { "agent" }.into(),
                    author: None,
                    idempotency_key: None,
                    request_hash: None,
                    sent_at: at,
                    delivered_at: None,
                    read_at: None,
                    failed_at: None,
                    created_at: at,
                    updated_at: at,
                    campaign_id: None,
                };
                messages::insert(&mut tx, &m).await?;
                stored += 1;
                if k + 1 == per_chat {
                    let direction = m.direction;
                    chats::record_message(
                        &mut tx,
                        chat,
                        &m.id.to_string(),
                        &body.preview(),
                        direction,
                        at,
                    )
                    .await?;
                }
            }
        }
        tx.commit().await?;
    }
    Ok((some_chat, stored))
}

/// When each message (by network id) reached the provider, first attempt.
type Handed = Arc<Mutex<HashMap<String, Instant>>>;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The sandbox provider, noting when each send is handed to it.
struct Timed {
    inner: SandboxProvider,
    handed: Handed,
}

#[async_trait::async_trait]
impl Provider for Timed {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Sandbox
    }

    async fn open(
        &self,
        account: AccountRef,
        events: EventSender,
    ) -> Result<Box<dyn Connection>, ProviderError> {
        let inner = self.inner.open(account, events).await?;
        Ok(Box::new(TimedConnection {
            inner,
            handed: self.handed.clone(),
        }))
    }
}

struct TimedConnection {
    inner: Box<dyn Connection>,
    handed: Handed,
}

#[async_trait::async_trait]
impl Connection for TimedConnection {
    async fn request_pair_code(&mut self, phone: &str) -> Result<(), ProviderError> {
        self.inner.request_pair_code(phone).await
    }

    async fn send(&mut self, message: OutboundMessage) -> Result<Sent, ProviderError> {
        lock(&self.handed)
            .entry(message.id.clone())
            .or_insert_with(Instant::now);
        self.inner.send(message).await
    }

    async fn mark_read(&mut self, chat: &str, ids: &[String]) -> Result<(), ProviderError> {
        self.inner.mark_read(chat, ids).await
    }

    async fn typing(&mut self, chat: &str, typing: bool) -> Result<(), ProviderError> {
        self.inner.typing(chat, typing).await
    }

    async fn presence(&mut self, available: bool) -> Result<(), ProviderError> {
        self.inner.presence(available).await
    }

    async fn probe(&mut self) -> Result<(), ProviderError> {
        self.inner.probe().await
    }

    async fn logout(&mut self) -> Result<(), ProviderError> {
        self.inner.logout().await
    }

    async fn close(&mut self) {
        self.inner.close().await
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1_000.0
}

/// p50, p90, p99 and max of a sample, in milliseconds.
struct Percentiles(Vec<f64>);

impl Percentiles {
    fn of(mut sample: Vec<f64>) -> Self {
        sample.sort_by(f64::total_cmp);
        Self(sample)
    }

    fn at(&self, q: f64) -> f64 {
        let i = ((self.0.len().saturating_sub(1)) as f64 * q).round() as usize;
        self.0.get(i).copied().unwrap_or(f64::NAN)
    }
}

impl std::fmt::Display for Percentiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            self.at(0.5),
            self.at(0.9),
            self.at(0.99),
            self.at(1.0)
        )
    }
}
