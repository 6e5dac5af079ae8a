//! `blazz bench realtime`: the Pusher-compatible socket under load, on a
//! real Blazz (fresh SQLite database, real HTTP server, real outbox and
//! dispatcher). Two figures:
//!
//! - memory: N idle sockets held by a child process (so the client side
//!   does not count), the server's resident memory per socket;
//! - fan-out latency: events committed to the outbox at a fixed rate,
//!   each to S subscribed sockets; p50/p99 from commit to receipt.
//!
//! Prints figures; never asserts on them.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use blazz_domain::WorkspaceId;
use blazz_store::{db, outbox, Db};
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio_tungstenite::tungstenite::Message;

use crate::bench_sessions::rss_kib;
use crate::config::Config;
use crate::jobs::Registry;
use crate::realtime::sign;
use crate::services::accounts::{create as create_owner, NewAccount};
use crate::state::AppState;

pub struct Options {
    /// Idle sockets.
    pub sockets: usize,
    /// Sockets subscribed for the latency run.
    pub subscribed: usize,
    /// Events committed per second...
    pub rate: u32,
    /// ...for this many seconds.
    pub seconds: u64,
}

/// Sockets opened at once.
const CONNECT_CONCURRENCY: usize = 256;

fn raise_fd_limit() {
    if let Err(e) = rlimit::increase_nofile_limit(u64::MAX) {
        eprintln!("could not raise the open-file limit: {e}");
    }
}

pub async fn run(base: Config, opts: Options) -> anyhow::Result<()> {
    raise_fd_limit();
    let dir = std::env::temp_dir().join(format!("blazz-bench-realtime-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let mut config = base;
    config.data_dir = dir.clone();
    config.jobs.workers = 0;
    config.public_url = None;
    config.realtime.max_connections = opts.sockets + opts.subscribed + 16;
    let db = Db::connect(&db::sqlite_url(&dir)).await?;
    db.migrate().await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let running = crate::server::start(config, db.clone(), Registry::builtin(), listener).await?;
    let result = measure(&running.state, running.addr, &db, &opts).await;
    running.stop().await;
    db.close().await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn measure(
    state: &AppState,
    addr: std::net::SocketAddr,
    db: &Db,
    opts: &Options,
) -> anyhow::Result<()> {
    let new = NewAccount {
        email: "bench@example.com",
        name: "Bench",
        password: "bench password 1",
        workspace_name: "Bench",
    };
    let (_, ws) = create_owner(db, new, false)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let app = crate::realtime::apps::of_workspace(state, ws.id).await?;
    let url = format!(
        "ws://{addr}/app/{}?protocol=7&client=bench&version=1",
        app.key
    );
    println!(
        "realtime benchmark: {} idle sockets, then {} events/s for {} s to {} subscribed sockets, {} CPUs",
        opts.sockets,
        opts.rate,
        opts.seconds,
        opts.subscribed,
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0)
    );

    // Idle sockets, held by a child process.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let rss_before = rss_kib();
    let started = Instant::now();
    let exe = std::env::current_exe().context("finding the blazz binary")?;
    let mut child = tokio::process::Command::new(exe)
        .args([
            "bench",
            "realtime",
            "--sockets",
            &opts.sockets.to_string(),
            "--connect-to",
            &url,
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .context("starting the client process")?;
    let stdout = child.stdout.take().context("the client's output")?;
    let mut lines = BufReader::new(stdout).lines();
    let ready = tokio::time::timeout(Duration::from_secs(300), lines.next_line())
        .await
        .context("the client process did not connect its sockets in 5 minutes")??
        .unwrap_or_default();
    let took = started.elapsed();
    let hub = state.realtime.hub.clone();
    let connected = hub.connections();
    // Let allocator and buffers settle before measuring.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_after = rss_kib();
    let per = rss_after.saturating_sub(rss_before) as f64 / connected.max(1) as f64;
    println!(
        "idle: {connected} sockets open ({ready}) in {:.2} s ({:.0}/s)",
        took.as_secs_f64(),
        connected as f64 / took.as_secs_f64().max(1e-9)
    );
    println!(
        "idle: server RSS {rss_before} KiB before, {rss_after} KiB after: {per:.1} KiB per idle socket"
    );

    // Fan-out latency, with the idle sockets still open.
    latency(state, ws.id, &url, (&app.key, app.secret()), opts).await?;
    drop(child.stdin.take());
    let _ = tokio::time::timeout(Duration::from_secs(10), child.wait()).await;
    Ok(())
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The next text frame, `data` decoded.
async fn next_frame(socket: &mut Socket) -> anyhow::Result<Value> {
    loop {
        match socket.next().await {
            Some(Ok(Message::Text(t))) => {
                let mut v: Value = serde_json::from_str(t.as_str())?;
                if let Some(data) = v["data"].as_str() {
                    v["data"] = serde_json::from_str(data).unwrap_or(Value::Null);
                }
                return Ok(v);
            }
            Some(Ok(Message::Close(c))) => anyhow::bail!("closed: {c:?}"),
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(e.into()),
            None => anyhow::bail!("the socket ended"),
        }
    }
}

async fn connect(url: &str) -> anyhow::Result<(Socket, String)> {
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await?;
    let hello = next_frame(&mut socket).await?;
    let socket_id = hello["data"]["socket_id"]
        .as_str()
        .context("no socket_id")?
        .to_string();
    Ok((socket, socket_id))
}

/// The `bench_n` of a `message.created` frame.
fn bench_n(frame: &str) -> Option<usize> {
    if !frame.starts_with(r#"{"event":"message.created""#) {
        return None;
    }
    let at = frame.find("bench_n")? + "bench_n".len();
    let digits: String = frame[at..]
        .chars()
        .skip_while(|c| !c.is_ascii_digit())
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

async fn latency(
    state: &AppState,
    ws: WorkspaceId,
    url: &str,
    (key, secret): (&str, &str),
    opts: &Options,
) -> anyhow::Result<()> {
    let channel = crate::events::workspace_channel(&ws.to_string());
    let total = opts.rate as usize * opts.seconds as usize;
    let mut readers = tokio::task::JoinSet::new();
    for _ in 0..opts.subscribed {
        let (mut socket, socket_id) = connect(url).await?;
        let auth = sign::channel_auth(key, secret, &socket_id, &channel, None);
        let subscribe =
            json!({"event": "pusher:subscribe", "data": {"channel": channel, "auth": auth}});
        socket
            .send(Message::Text(subscribe.to_string().into()))
            .await?;
        let ok = next_frame(&mut socket).await?;
        anyhow::ensure!(
            ok["event"] == "pusher_internal:subscription_succeeded",
            "subscription refused: {ok}"
        );
        // Each reader notes when every event arrived, until it has all.
        readers.spawn(async move {
            let mut got: Vec<(usize, Instant)> = Vec::with_capacity(total);
            while got.len() < total {
                let msg = match tokio::time::timeout(Duration::from_secs(10), socket.next()).await {
                    Ok(Some(Ok(msg))) => msg,
                    _ => break,
                };
                let at = Instant::now();
                let Message::Text(t) = msg else {
                    continue;
                };
                // A scan rather than two JSON parses a frame: the readers share
                // the machine with the server they measure.
                let n = bench_n(t.as_str());
                if let Some(n) = n {
                    got.push((n, at));
                }
            }
            got
        });
    }

    // Commit events to the outbox at the rate asked, each in its own
    // transaction as a real change would be.
    let text = "Hello! Is my order #4711 ready for pick-up today? Thanks, Ana";
    let period = Duration::from_secs_f64(1.0 / f64::from(opts.rate.max(1)));
    let mut committed: Vec<Instant> = Vec::with_capacity(total);
    let started = Instant::now();
    for n in 0..total {
        tokio::time::sleep_until((started + period * n as u32).into()).await;
        let payload = json!({
            "bench_n": n,
            "id": blazz_domain::MessageId::new().to_string(),
            "chat_id": blazz_domain::ChatId::new().to_string(),
            "account_id": blazz_domain::AccountId::new().to_string(),
            "direction": "in", "type": "text", "body": {"text": text},
            "status": "received", "source": "contact",
            "contact": {"phone": "+14155552671", "name": "Ana"},
        });
        let mut tx = state.db.begin().await?;
        outbox::append(&mut tx, Some(ws), "message.received", &payload).await?;
        tx.commit().await?;
        committed.push(Instant::now());
        state.committed();
    }
    let publishing = started.elapsed();
    let mut samples: Vec<Duration> = Vec::with_capacity(total * opts.subscribed);
    let mut complete = 0;
    while let Some(done) = readers.join_next().await {
        let got = done?;
        if got.len() == total {
            complete += 1;
        }
        for (n, at) in got {
            if let Some(t0) = committed.get(n) {
                samples.push(at.saturating_duration_since(*t0));
            }
        }
    }
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "fan-out: {total} events committed in {:.2} s ({:.0}/s) to {} sockets: {} of {} deliveries ({complete} sockets got every event)",
        publishing.as_secs_f64(),
        total as f64 / publishing.as_secs_f64().max(1e-9),
        opts.subscribed,
        samples.len(),
        total * opts.subscribed,
    );
    println!(
        "fan-out latency from outbox commit to client receipt: p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        ms(percentile(&samples, 0.50)),
        ms(percentile(&samples, 0.90)),
        ms(percentile(&samples, 0.99)),
        ms(samples.last().copied().unwrap_or_default()),
    );
    Ok(())
}

/// The child process: opens `n` sockets to `url`, answers the server's
/// pings on them, says `ready` and holds them until its stdin closes.
pub async fn hold(url: &str, n: usize) -> anyhow::Result<()> {
    raise_fd_limit();
    let url = Arc::new(url.to_string());
    let opened: Vec<anyhow::Result<()>> = futures::stream::iter(0..n)
        .map(|_| {
            let url = url.clone();
            async move {
                let (mut socket, _) = connect(&url).await?;
                tokio::spawn(async move {
                    while let Some(Ok(msg)) = socket.next().await {
                        if let Message::Text(t) = msg {
                            if t.as_str().contains("pusher:ping") {
                                let pong = r#"{"event":"pusher:pong","data":"{}"}"#;
                                if socket.send(Message::Text(pong.into())).await.is_err() {
                                    break;
                                }
                            }
                        }
                    }
                });
                anyhow::Ok(())
            }
        })
        .buffer_unordered(CONNECT_CONCURRENCY)
        .collect()
        .await;
    let failed = opened.iter().filter(|r| r.is_err()).count();
    if let Some(Err(e)) = opened.iter().find(|r| r.is_err()) {
        eprintln!("first failed connect: {e:#}");
    }
    println!("{} connected, {failed} failed", n - failed);
    let mut stdin = BufReader::new(tokio::io::stdin()).lines();
    while let Ok(Some(_)) = stdin.next_line().await {}
    Ok(())
}
