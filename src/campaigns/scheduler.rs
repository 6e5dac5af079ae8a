//! Brings running campaigns back after a restart, starts scheduled ones
//! when their time comes (on the campaigns' clock), and publishes progress
//! while receipts and replies keep arriving.

use std::collections::HashMap;
use std::time::Duration;

use blazz_domain::campaign::{transition, CampaignAction, CampaignStatus};
use blazz_domain::{CampaignId, WorkspaceId};
use blazz_store::audit::Actor;
use blazz_store::campaigns as store;
use serde_json::json;
use tokio::sync::watch;

use super::stats::{self, Stats};
use crate::state::AppState;

const TICK: Duration = Duration::from_secs(1);
/// How long a finished campaign's statistics are still followed (late
/// receipts and replies), and every how many ticks.
const FOLLOW_AFTER_MS: i64 = 3_600_000;
const FOLLOW_EVERY: u64 = 10;
const FOLLOW_CLOSELY_MS: i64 = 120_000;

pub async fn run(state: AppState, mut shutdown: watch::Receiver<bool>) {
    let mut last: HashMap<CampaignId, Stats> = HashMap::new();
    let mut ticks: u64 = 0;
    loop {
        if let Err(e) = tick(&state, ticks, &mut last).await {
            tracing::warn!(error = %format!("{e:#}"), "campaign scheduler");
        }
        ticks += 1;
        tokio::select! {
            _ = tokio::time::sleep(TICK) => {}
            _ = shutdown.wait_for(|s| *s) => return,
        }
    }
}

async fn tick(
    state: &AppState,
    ticks: u64,
    last: &mut HashMap<CampaignId, Stats>,
) -> anyhow::Result<()> {
    let restore = ticks == 0;
    let now = state.campaigns.clock.now_ms();
    let mut conn = state.db.pool.acquire().await?;
    let running = store::in_status(&mut conn, CampaignStatus::Running).await?;
    let scheduled = store::in_status(&mut conn, CampaignStatus::Scheduled).await?;
    // The last couple of minutes' campaigns every tick (the last receipts
    // come soon after the last sends), the last hour's every few.
    let follow = if ticks.is_multiple_of(FOLLOW_EVERY) {
        FOLLOW_AFTER_MS
    } else {
        FOLLOW_CLOSELY_MS
    };
    let finished = store::finished_since(&mut conn, blazz_store::now_ms() - follow).await?;
    drop(conn);
    if restore {
        for (ws, id, _) in &running {
            state.campaigns.run(state, *ws, *id);
        }
    }
    for (ws, id, at) in scheduled {
        if at.is_none_or(|at| at <= now) {
            start_due(state, ws, id).await?;
        }
    }
    // Progress for campaigns whose counts moved since the last tick.
    let followed = running
        .iter()
        .map(|(ws, id, _)| (*ws, *id, CampaignStatus::Running))
        .chain(finished);
    for (ws, id, status) in followed {
        let mut conn = state.db.pool.acquire().await?;
        let now_stats = stats::of(&mut conn, id).await?;
        drop(conn);
        if last.get(&id) != Some(&now_stats) {
            let mut tx = state.db.begin().await?;
            let published = stats::publish(&mut tx, ws, id, status).await?;
            tx.commit().await?;
            state.committed();
            last.insert(id, published);
        }
    }
    Ok(())
}

async fn start_due(state: &AppState, ws: WorkspaceId, id: CampaignId) -> anyhow::Result<()> {
    let Some(to) = transition(CampaignStatus::Scheduled, CampaignAction::Due) else {
        return Ok(());
    };
    let mut tx = state.db.begin().await?;
    let now = blazz_store::now_ms();
    if !store::set_status(&mut tx, ws, id, CampaignStatus::Scheduled, to, now).await? {
        return Ok(());
    }
    let actor = Actor {
        kind: "system",
        id: None,
        name: "Blazz".into(),
    };
    crate::services::record(
        &mut tx,
        ws,
        &actor,
        "campaign.started",
        ("campaign", id.to_string()),
        json!({"from": "scheduled", "to": to}),
    )
    .await?;
    stats::publish(&mut tx, ws, id, to).await?;
    tx.commit().await?;
    state.committed();
    state.campaigns.run(state, ws, id);
    Ok(())
}
