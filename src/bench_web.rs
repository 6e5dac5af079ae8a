//! `blazz bench web-sessions`: N WhatsApp Web numbers through the real
//! session engine and the real `whatsapp-rust` client, against the offline
//! WhatsApp server in this process (so it exists only in builds with the
//! `offline-whatsapp` feature: the server needs the client's danger
//! features, which the shipped binary never has).
//!
//! Links every number by QR (the fake phone scans), lets them sit paired,
//! connected and idle, then reports RSS per session; stops them all and
//! measures how long restoring all of them from the store takes. The RSS
//! includes the offline server's own share (its devices, queues and
//! prekeys), so the client's figure is lower than printed. Prints; never
//! asserts.

use std::sync::Arc;
use std::time::{Duration, Instant};

use blazz_bus::InProcessBus;
use blazz_domain::SessionState;
use blazz_store::{accounts, db, Db};
use blazz_wa_fake::FakeWhatsApp;

use crate::bench_sessions::rss_kib;
use crate::config::Config;
use crate::services::accounts::{create as create_account_owner, NewAccount};
use crate::sessions::Start;
use crate::state::AppState;

fn state_for(db: &Db, config: &Config, fake: &FakeWhatsApp) -> anyhow::Result<AppState> {
    let state = AppState::new(
        db.clone(),
        Arc::new(InProcessBus::default()),
        config.clone(),
    )?;
    let options = blazz_wa::WebOptions {
        transport: Some(Arc::new(fake.transport_factory())),
        http: Some(Arc::new(fake.http_client())),
        version: Some(FakeWhatsApp::VERSION),
        ..Default::default()
    };
    state
        .sessions
        .install_provider(Arc::new(crate::sessions::web::provider(
            db,
            state.keyring.clone(),
            &config.web,
            options,
        )));
    state.sessions.start_writer(&state);
    Ok(state)
}

fn connected(state: &AppState) -> i64 {
    state
        .sessions
        .census()
        .into_iter()
        .filter(|((_, s), _)| *s == SessionState::Connected)
        .map(|(_, n)| n)
        .sum()
}

async fn wait_connected(state: &AppState, want: i64, limit: Duration) -> i64 {
    let until = Instant::now() + limit;
    loop {
        let n = connected(state);
        if n >= want || Instant::now() > until {
            return n;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub async fn run(
    base: Config,
    count: usize,
    concurrency: usize,
    postgres_url: Option<String>,
) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("blazz-bench-web-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let mut config = base;
    config.data_dir = dir.clone();
    config.sessions.max_per_process = count.max(config.sessions.max_per_process);
    config.sessions.idle_probe_secs = 3600;
    config.jobs.workers = 0;
    let (db, schema) = match &postgres_url {
        Some(base) => {
            let schema = format!("bench_web_{}", std::process::id());
            let url = db::postgres_schema_url(base, &schema).await?;
            (Db::connect_with(&url, Some(16)).await?, Some(schema))
        }
        None => (Db::connect(&db::sqlite_url(&dir)).await?, None),
    };
    db.migrate().await?;
    let fake = FakeWhatsApp::new();
    let state = state_for(&db, &config, &fake)?;
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
            all.push(accounts::create(&mut tx, ws.id, "web", &format!("Web {i}")).await?);
        }
        tx.commit().await?;
    }
    println!(
        "web-sessions benchmark: {count} WhatsApp Web numbers on {}, {concurrency} links at once, {} CPUs",
        if schema.is_some() { "PostgreSQL" } else { "SQLite" },
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0)
    );
    let rss_before = rss_kib();
    let started = Instant::now();
    let sem = Arc::new(tokio::sync::Semaphore::new(concurrency.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for (i, account) in all.into_iter().enumerate() {
        let (state, fake, sem) = (state.clone(), fake.clone(), sem.clone());
        tasks.spawn(async move {
            let _permit = sem.acquire_owned().await?;
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
            fake.scan_qr(&format!("1555{i:07}"), &code).await?;
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
    let up = connected(&state);
    // Idle for a while: the clients' post-login work (prekey uploads,
    // keepalives) settles, and the allocator with it.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let rss_after = rss_kib();
    let per = rss_after.saturating_sub(rss_before) as f64 / up.max(1) as f64;
    println!(
        "linked and connected {up}/{count} in {:.2} s, {failed} failed",
        took.as_secs_f64()
    );
    println!(
        "RSS {rss_before} KiB before, {rss_after} KiB paired+connected+idle: {per:.1} KiB per session (client and offline server together)"
    );

    // A restart: every session stopped, then all restored from the store.
    state.sessions.stop_all(10).await;
    drop(state);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let state = state_for(&db, &config, &fake)?;
    let started = Instant::now();
    state.sessions.restore_all(&state).await?;
    let back = wait_connected(&state, up, Duration::from_secs(600)).await;
    println!(
        "restored {back}/{up} linked numbers from the store in {:.2} s",
        started.elapsed().as_secs_f64()
    );
    state.sessions.stop_all(10).await;
    db.close().await;
    if let (Some(base), Some(schema)) = (postgres_url, schema) {
        db::drop_postgres_schema(&base, &schema).await?;
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
