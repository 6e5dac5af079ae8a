//! `blazz bench campaign`: planning time for a large audience, and the
//! sustained send rate of a campaign with pacing off through the whole
//! pipeline (runner, dispatch transactions, send jobs, sessions, sandbox
//! network) on a fresh SQLite database and optionally a fresh PostgreSQL
//! schema. Prints; never asserts.

use std::sync::Arc;
use std::time::{Duration, Instant};

use blazz_bus::InProcessBus;
use blazz_domain::campaign::CampaignAction;
use blazz_domain::{ContactId, Role, WorkspaceId};
use blazz_store::audit::Actor;
use blazz_store::campaigns::recipients;
use blazz_store::contacts::{self, Contact};
use blazz_store::{db, now_ms};
use serde_json::json;
use tokio::net::TcpListener;

use crate::auth::Caller;
use crate::campaigns::{planner, service, spec::CampaignInput};
use crate::config::Config;
use crate::jobs::Registry;
use crate::server;
use crate::services::accounts::{create as create_owner, NewAccount};
use crate::state::AppState;

#[derive(Debug, Clone)]
pub struct Options {
    /// Recipients planned for the planning figure.
    pub plan: usize,
    /// Recipients sent to for the send-rate figure...
    pub send: usize,
    /// ...from this many sandbox numbers.
    pub numbers: usize,
}

pub async fn run(base: Config, opts: Options, postgres_url: Option<String>) -> anyhow::Result<()> {
    println!(
        "campaign benchmark: plan {} recipients; send {} with pacing off from {} sandbox numbers; {} CPUs",
        opts.plan,
        opts.send,
        opts.numbers,
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0)
    );
    backend(&base, &opts, "sqlite", None).await?;
    if let Some(base_url) = postgres_url {
        let schema = format!("bench_campaign_{}", std::process::id());
        let url = db::postgres_schema_url(&base_url, &schema).await?;
        let result = backend(&base, &opts, "postgres", Some(url)).await;
        db::drop_postgres_schema(&base_url, &schema).await?;
        result?;
    }
    Ok(())
}

async fn backend(
    base: &Config,
    opts: &Options,
    label: &str,
    database_url: Option<String>,
) -> anyhow::Result<()> {
    let (dir, config) =
        crate::bench_inbox::sandbox_config(base, "campaign", label, database_url, opts.numbers)?;
    let result = phases(config, opts, label).await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn phases(config: Config, opts: &Options, label: &str) -> anyhow::Result<()> {
    let db = server::open_db(&config).await?;
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let bus = Arc::new(InProcessBus::new(1 << 16));
    let running =
        server::start_with_bus(config, db.clone(), Registry::builtin(), listener, bus).await?;
    let result = async {
        let state = running.state.clone();
        let net = state
            .sessions
            .sandbox
            .clone()
            .ok_or_else(|| anyhow::anyhow!("the sandbox is off"))?;
        let new = NewAccount {
            email: "bench@example.com",
            name: "Bench",
            password: "bench password 1",
            workspace_name: "Bench",
        };
        let (_, ws) = create_owner(&db, new, false)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let caller = Caller {
            workspace_id: ws.id,
            role: Role::Owner,
            actor: Actor {
                kind: "cli",
                id: None,
                name: "bench".into(),
            },
            user_id: None,
            token_id: None,
        };
        let numbers = crate::bench_inbox::link(&state, &net, ws.id, opts.numbers.max(1)).await?;
        let ids: Vec<String> = numbers.iter().map(|a| a.id.to_string()).collect();
        plan(&state, &caller, ws.id, &ids, opts.plan, label).await?;
        send(&state, &caller, ws.id, &ids, opts.send, label).await
    }
    .await;
    running.stop().await;
    db.close().await;
    result
}

/// Inserts `n` contacts tagged `tag` (phones after `from`).
async fn seed(
    state: &AppState,
    ws: WorkspaceId,
    from: usize,
    n: usize,
    tag: &str,
) -> anyhow::Result<()> {
    let now = now_ms();
    for chunk in (from..from + n).collect::<Vec<_>>().chunks(5_000) {
        let mut tx = state.db.begin().await?;
        for i in chunk {
            let c = Contact {
                id: ContactId::new(),
                workspace_id: ws,
                phone: format!("+6281{i:09}"),
                name: Some(format!("Customer {i}")),
                tags: vec![tag.to_string()],
                fields: Default::default(),
                notes: None,
                opted_out_at: None,
                created_at: now,
                updated_at: now,
            };
            contacts::create(&mut tx, &c).await?;
        }
        tx.commit().await?;
    }
    Ok(())
}

fn input(name: &str, tag: &str, numbers: &[String]) -> anyhow::Result<CampaignInput> {
    Ok(serde_json::from_value(json!({
        "name": name,
        "text": "Halo {{contact.name}}, ada promo untuk Anda.",
        "account_ids": numbers,
        "audience": {"tags": [tag]},
        "settings": {"pacing": "off", "typing": false, "cooldown_hours": 0}
    }))?)
}

/// Phase 1: the time to plan `n` recipients (the planning transaction of
/// a start, on its own).
async fn plan(
    state: &AppState,
    caller: &Caller,
    ws: WorkspaceId,
    numbers: &[String],
    n: usize,
    label: &str,
) -> anyhow::Result<()> {
    seed(state, ws, 0, n, "plan").await?;
    let full = service::create(state, caller, input("Plan", "plan", numbers)?)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let started = Instant::now();
    let mut tx = state.db.begin().await?;
    let planned = planner::plan(state, &mut tx, &full.campaign, now_ms())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    tx.commit().await?;
    let took = started.elapsed();
    println!(
        "{label}: planned {planned} recipients in {:.2} s ({:.0} recipients/s)",
        took.as_secs_f64(),
        planned as f64 / took.as_secs_f64()
    );
    Ok(())
}

/// Phase 2: a campaign to `n` contacts with pacing off, from start until
/// every recipient was taken by the network.
async fn send(
    state: &AppState,
    caller: &Caller,
    ws: WorkspaceId,
    numbers: &[String],
    n: usize,
    label: &str,
) -> anyhow::Result<()> {
    seed(state, ws, 10_000_000, n, "send").await?;
    let full = service::create(state, caller, input("Send", "send", numbers)?)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let id = full.campaign.id;
    let started = Instant::now();
    service::act(state, caller, id, CampaignAction::Start { later: false })
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let planned_in = started.elapsed();
    let mut last_report = Instant::now();
    loop {
        let mut conn = state.db.pool.acquire().await?;
        let stats = crate::campaigns::stats::of(&mut conn, id).await?;
        drop(conn);
        if stats.sent + stats.failed >= n as i64 {
            let took = started.elapsed();
            let sending = took - planned_in;
            println!(
                "{label}: {} sent, {} failed in {:.2} s after a {:.2} s start: {:.0} msg/s sustained",
                stats.sent,
                stats.failed,
                sending.as_secs_f64(),
                planned_in.as_secs_f64(),
                stats.sent as f64 / sending.as_secs_f64()
            );
            return Ok(());
        }
        if last_report.elapsed() > Duration::from_secs(5) {
            last_report = Instant::now();
            println!("{label}: ... {} of {n} sent", stats.sent);
        }
        if started.elapsed() > Duration::from_secs(600) {
            let mut conn = state.db.pool.acquire().await?;
            let left = recipients::unsettled(&mut conn, id).await?;
            anyhow::bail!("{label}: gave up after 10 minutes with {left} recipients unsettled");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
