//! `blazz bench ...`: benchmarks that print figures (never assert on time).

use std::sync::Arc;
use std::time::{Duration, Instant};

use blazz_bus::InProcessBus;
use blazz_store::{db, jobs as store_jobs, Db};
use clap::Subcommand;
use tokio::sync::watch;

use crate::config::Config;
use crate::jobs::{self, builtin::Noop, Enqueue, Registry};
use crate::state::AppState;

#[derive(Subcommand, Debug)]
pub enum BenchCommand {
    /// Jobs enqueued and completed per second, on a fresh SQLite database
    /// and (with --postgres-url) a fresh PostgreSQL schema.
    Queue {
        /// How many jobs.
        #[arg(long, default_value_t = 20_000)]
        jobs: u64,
        /// Worker tasks.
        #[arg(long, default_value_t = 4)]
        workers: usize,
        /// Jobs leased per claim.
        #[arg(long, default_value_t = 64)]
        batch: i64,
        /// Also measure PostgreSQL (a schema is created and dropped).
        #[arg(long, env = "BLAZZ_BENCH_POSTGRES_URL")]
        postgres_url: Option<String>,
    },
    /// Links and connects N sandbox numbers; prints the time it took and
    /// the process memory per connected session.
    Sessions {
        #[arg(long, default_value_t = 1_000)]
        count: usize,
        /// Links started at once.
        #[arg(long, default_value_t = 256)]
        concurrency: usize,
    },
    /// WhatsApp Web numbers against the offline WhatsApp server: RSS per
    /// paired, connected, idle session and the time to restore them all.
    /// Only in builds with `--features offline-whatsapp`.
    WebSessions {
        #[arg(long, default_value_t = 1_000)]
        count: usize,
        /// Links started at once.
        #[arg(long, default_value_t = 64)]
        concurrency: usize,
        /// Run on PostgreSQL (a schema is created and dropped) instead of SQLite.
        #[arg(long, env = "BLAZZ_BENCH_POSTGRES_URL")]
        postgres_url: Option<String>,
    },
    /// The inbox through the whole app and linked sandbox numbers: inbound
    /// messages stored and published per second, outbound latency from
    /// accepted to handed to the provider, and chat list latency over HTTP.
    Inbox {
        /// Sandbox numbers linked.
        #[arg(long, default_value_t = 20)]
        numbers: usize,
        /// Inbound messages pushed through the network.
        #[arg(long, default_value_t = 20_000)]
        inbound: usize,
        /// Outbound sends accepted per second...
        #[arg(long, default_value_t = 200)]
        rate: u32,
        /// ...for this many seconds.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Chats in the listed workspace...
        #[arg(long, default_value_t = 1_000)]
        chats: usize,
        /// ...and messages in each.
        #[arg(long, default_value_t = 100)]
        per_chat: usize,
        /// Also measure PostgreSQL (a schema is created and dropped).
        #[arg(long, env = "BLAZZ_BENCH_POSTGRES_URL")]
        postgres_url: Option<String>,
    },
    /// Campaigns: the time to plan a large audience, and the sustained send
    /// rate with pacing off on sandbox numbers through the whole pipeline.
    Campaign {
        /// Recipients planned.
        #[arg(long, default_value_t = 100_000)]
        plan: usize,
        /// Recipients sent to...
        #[arg(long, default_value_t = 20_000)]
        send: usize,
        /// ...from this many sandbox numbers.
        #[arg(long, default_value_t = 10)]
        numbers: usize,
        /// Also measure PostgreSQL (a schema is created and dropped).
        #[arg(long, env = "BLAZZ_BENCH_POSTGRES_URL")]
        postgres_url: Option<String>,
    },
    /// The realtime socket: server memory per idle socket (held by a child
    /// process), and fan-out latency from outbox commit to client receipt.
    Realtime {
        /// Idle sockets held open.
        #[arg(long, default_value_t = 10_000)]
        sockets: usize,
        /// Sockets subscribed to the workspace channel for the latency run...
        #[arg(long, default_value_t = 100)]
        subscribed: usize,
        /// ...receiving this many events per second...
        #[arg(long, default_value_t = 1_000)]
        rate: u32,
        /// ...for this many seconds.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Internal: be the client process that holds the idle sockets.
        #[arg(long, hide = true)]
        connect_to: Option<String>,
    },
}

pub async fn run(cmd: BenchCommand, config: Config) -> anyhow::Result<()> {
    match cmd {
        BenchCommand::Queue {
            jobs,
            workers,
            batch,
            postgres_url,
        } => {
            println!(
                "queue benchmark: {jobs} jobs, {workers} workers, claim batch {batch}, {} CPUs",
                std::thread::available_parallelism()
                    .map(|n| n.get())
                    .unwrap_or(0)
            );
            let dir = tempfile_dir()?;
            let sqlite = Db::connect(&db::sqlite_url(&dir)).await?;
            queue(&config, "sqlite", sqlite, jobs, workers, batch).await?;
            let _ = std::fs::remove_dir_all(&dir);
            if let Some(base) = postgres_url {
                let schema = format!("bench_{}", std::process::id());
                let url = db::postgres_schema_url(&base, &schema).await?;
                let pg = Db::connect_with(&url, Some(16)).await?;
                queue(&config, "postgres", pg.clone(), jobs, workers, batch).await?;
                pg.close().await;
                db::drop_postgres_schema(&base, &schema).await?;
            }
            Ok(())
        }
        BenchCommand::Sessions { count, concurrency } => {
            crate::bench_sessions::run(config, count, concurrency).await
        }
        #[cfg(feature = "offline-whatsapp")]
        BenchCommand::WebSessions {
            count,
            concurrency,
            postgres_url,
        } => crate::bench_web::run(config, count, concurrency, postgres_url).await,
        #[cfg(not(feature = "offline-whatsapp"))]
        BenchCommand::WebSessions { .. } => anyhow::bail!(
            "this build has no offline WhatsApp server: build with `cargo build --release --features offline-whatsapp`"
        ),
        BenchCommand::Inbox {
            numbers,
            inbound,
            rate,
            seconds,
            chats,
            per_chat,
            postgres_url,
        } => {
            let opts = crate::bench_inbox::Options {
                numbers,
                inbound,
                rate,
                seconds,
                chats,
                per_chat,
            };
            crate::bench_inbox::run(config, opts, postgres_url).await
        }
        BenchCommand::Campaign {
            plan,
            send,
            numbers,
            postgres_url,
        } => {
            let opts = crate::bench_campaign::Options {
                plan,
                send,
                numbers,
            };
            crate::bench_campaign::run(config, opts, postgres_url).await
        }
        BenchCommand::Realtime {
            sockets,
            subscribed,
            rate,
            seconds,
            connect_to,
        } => match connect_to {
            Some(url) => crate::bench_realtime::hold(&url, sockets).await,
            None => {
                let opts = crate::bench_realtime::Options {
                    sockets,
                    subscribed,
                    rate,
                    seconds,
                };
                crate::bench_realtime::run(config, opts).await
            }
        },
    }
}

fn tempfile_dir() -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("blazz-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

async fn queue(
    base: &Config,
    label: &str,
    db: Db,
    n: u64,
    workers: usize,
    batch: i64,
) -> anyhow::Result<()> {
    db.migrate().await?;
    let mut config = base.clone();
    // The benchmark's key file (if one is made) goes with its database, not
    // into the operator's data directory.
    config.data_dir =
        std::env::temp_dir().join(format!("blazz-bench-{}-{label}", std::process::id()));
    config.jobs.workers = workers;
    config.jobs.batch = batch;
    config.jobs.poll_ms = 5;
    let state = AppState::new(db.clone(), Arc::new(InProcessBus::default()), config)?;

    // Phase 1: enqueue only (500 jobs a transaction, as a planner would).
    let started = Instant::now();
    let mut i = 0;
    while i < n {
        let mut tx = db.begin().await?;
        for _ in 0..500.min(n - i) {
            jobs::enqueue(&mut tx, &Noop { n: i }, Enqueue::default()).await?;
            i += 1;
        }
        tx.commit().await?;
    }
    let enqueue = started.elapsed();

    // Phase 2: workers drain the queue.
    let (stop, rx) = watch::channel(false);
    let drain_started = Instant::now();
    let handles = jobs::worker::spawn(state.clone(), Registry::builtin(), workers, rx);
    loop {
        let mut conn = db.pool.acquire().await?;
        let (left,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM jobs WHERE state <> 'done'")
            .fetch_one(&mut *conn)
            .await?;
        if left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let drain = drain_started.elapsed();
    let _ = stop.send(true);
    for h in handles {
        let _ = h.await;
    }
    let mut conn = db.pool.acquire().await?;
    let done =
        store_jobs::list(&mut conn, None, Some(blazz_domain::JobState::Done), None, 1).await?;
    anyhow::ensure!(!done.is_empty() || n == 0, "no job completed");
    let _ = std::fs::remove_dir_all(&state.config.data_dir);
    let total = enqueue + drain;
    let rate = |d: Duration| n as f64 / d.as_secs_f64().max(1e-9);
    println!(
        "{label:>8}: enqueue {:>8.0} jobs/s ({:.2} s) | complete {:>8.0} jobs/s ({:.2} s) | enqueued+completed {:>8.0} jobs/s",
        rate(enqueue),
        enqueue.as_secs_f64(),
        rate(drain),
        drain.as_secs_f64(),
        rate(total)
    );
    Ok(())
}
