//! `blazz bench sessions`: link and connect N sandbox numbers through the
//! real session engine (QR shown, phone scans, credentials sealed, every
//! state change persisted with its outbox event), then report the time and
//! the resident memory per connected session. Prints; never asserts.

use std::sync::Arc;
use std::time::{Duration, Instant};

use blazz_bus::InProcessBus;
use blazz_domain::SessionState;
use blazz_store::{accounts, db, Db};

use crate::config::Config;
use crate::services::accounts::{create as create_account_owner, NewAccount};
use crate::sessions::Start;
use crate::state::AppState;

/// Resident set size of this process, in KiB (Linux).
pub fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        })
        .unwrap_or(0)
}

pub async fn run(base: Config, count: usize, concurrency: usize) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("blazz-bench-sessions-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let mut config = base;
    config.data_dir = dir.clone();
    config.sessions.max_per_process = count.max(config.sessions.max_per_process);
    config.sessions.idle_probe_secs = 3600;
    config.sandbox.enabled = true;
    config.jobs.workers = 0;
    let db = Db::connect(&db::sqlite_url(&dir)).await?;
    db.migrate().await?;
    let state = AppState::new(db.clone(), Arc::new(InProcessBus::default()), config)?;
    state.sessions.start_writer(&state);
    let new = NewAccount {
        email: "bench@example.com",
        name: "Bench",
        password: "bench password 1",
        workspace_name: "Bench",
    };
    let (_, ws) = create_account_owner(&db, new, false)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut all = Vec::with_capacity(count);
    {
        let mut tx = db.begin().await?;
        for i in 0..count {
            all.push(accounts::create(&mut tx, ws.id, "sandbox", &format!("Bench {i}")).await?);
        }
        tx.commit().await?;
    }
    let net = state
        .sessions
        .sandbox
        .clone()
        .ok_or_else(|| anyhow::anyhow!("the sandbox is off"))?;
    println!(
        "sessions benchmark: {count} sandbox numbers, {concurrency} links at once, {} CPUs",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0)
    );
    let rss_before = rss_kib();
    let started = Instant::now();
    let sem = Arc::new(tokio::sync::Semaphore::new(concurrency.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for account in all {
        let (state, net, sem) = (state.clone(), net.clone(), sem.clone());
        tasks.spawn(async move {
            let _permit = sem.acquire_owned().await?;
            state.sessions.start(&state, &account, Start::Link).await?;
            let id = account.id;
            let shared = state
                .sessions
                .shared(id)
                .ok_or_else(|| anyhow::anyhow!("the session did not start"))?;
            // The "phone" scans the first QR code it sees.
            let code = shared
                .qr
                .subscribe()
                .wait_for(Option::is_some)
                .await?
                .clone()
                .map(|(code, _)| code)
                .unwrap_or_default();
            net.scan(&id.to_string(), &code, None)?;
            shared
                .state
                .subscribe()
                .wait_for(|s| *s == SessionState::Connected)
                .await?;
            anyhow::Ok(())
        });
    }
    let mut failed = 0;
    while let Some(done) = tasks.join_next().await {
        if !matches!(done, Ok(Ok(()))) {
            failed += 1;
        }
    }
    let took = started.elapsed();
    let connected = state
        .sessions
        .census()
        .into_iter()
        .filter(|((_, s), _)| *s == SessionState::Connected)
        .map(|(_, n)| n)
        .sum::<i64>();
    // Let allocator and channels settle before measuring.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_after = rss_kib();
    let per = (rss_after.saturating_sub(rss_before)) as f64 / connected.max(1) as f64;
    println!(
        "linked and connected {connected}/{count} in {:.2} s ({:.0} sessions/s), {failed} failed",
        took.as_secs_f64(),
        connected as f64 / took.as_secs_f64().max(1e-9)
    );
    println!(
        "RSS {rss_before} KiB before, {rss_after} KiB after: {per:.1} KiB per connected session"
    );
    state.sessions.stop_all(5).await;
    db.close().await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
