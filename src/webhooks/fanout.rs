//! The fan-out: committed outbox events become deliveries. It reads the
//! store, not the bus (the bus only wakes it): events whose `webhooks_at`
//! is unset, in sequence order, and in one transaction creates one delivery
//! (and its job) per matching enabled endpoint and marks the events done.
//! Events committed while Blazz was down, or dropped by a lagging bus
//! subscription, are still unmarked rows and are fanned out on the next
//! pass; a fan-out that runs twice (two instances) creates nothing twice,
//! deliveries being unique per (endpoint, event).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use blazz_bus::Event;
use blazz_domain::WorkspaceId;
use blazz_store::now_ms;
use blazz_store::webhooks::{self as store, DeliveryId, Endpoint, NewDelivery};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::watch;

use super::deliver::{self, DeliverWebhooks};
use crate::state::AppState;

const BATCH: i64 = 256;
/// Without a wake-up from the bus, look this often anyway.
const POLL: Duration = Duration::from_secs(1);
const SWEEP_EVERY: Duration = Duration::from_secs(60);
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// Runs until `shutdown` turns true.
pub async fn run(state: AppState, mut shutdown: watch::Receiver<bool>) {
    let mut bus = Some(state.bus.subscribe());
    let mut last_sweep = Instant::now();
    let mut last_prune: Option<Instant> = None;
    while !*shutdown.borrow() {
        match fan_out_once(&state).await {
            Ok(n) if n as i64 == BATCH => continue,
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %format!("{e:#}"), "webhook fan-out failed"),
        }
        if last_sweep.elapsed() >= SWEEP_EVERY {
            last_sweep = Instant::now();
            if let Err(e) = sweep(&state).await {
                tracing::warn!(error = %format!("{e:#}"), "webhook sweep failed");
            }
        }
        if last_prune.is_none_or(|t| t.elapsed() >= PRUNE_EVERY) {
            last_prune = Some(Instant::now());
            let keep = (state.config.webhooks.keep_days as i64).saturating_mul(86_400_000);
            if let Ok(mut conn) = state.db.write().await {
                let _ = store::prune(&mut conn, keep).await;
            }
        }
        let woken = async {
            match bus.as_mut() {
                Some(sub) => match sub.recv().await {
                    // Lagged is fine: the store has every event.
                    Ok(_) | Err(RecvError::Lagged(_)) => {
                        while sub.try_recv().is_ok() {}
                        true
                    }
                    Err(RecvError::Closed) => false,
                },
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            open = woken => if !open { bus = None },
            _ = tokio::time::sleep(POLL) => {}
            _ = shutdown.changed() => {}
        }
    }
}

/// Fans out one batch of events; returns how many events it handled.
pub async fn fan_out_once(state: &AppState) -> anyhow::Result<usize> {
    let (events, endpoints) = {
        let mut conn = state.db.pool.acquire().await?;
        let events = store::unfanned_events(&mut conn, BATCH).await?;
        let mut endpoints: HashMap<String, Vec<Endpoint>> = HashMap::new();
        for e in &events {
            let Some(ws) = &e.workspace_id else { continue };
            if endpoints.contains_key(ws) {
                continue;
            }
            let found = match ws.parse::<WorkspaceId>() {
                Ok(id) => store::enabled_endpoints(&mut conn, id).await?,
                Err(_) => Vec::new(),
            };
            endpoints.insert(ws.clone(), found);
        }
        (events, endpoints)
    };
    if events.is_empty() {
        return Ok(0);
    }
    let mut tx = state.db.begin().await?;
    let mut queued = 0;
    for e in &events {
        let Some(targets) = e.workspace_id.as_ref().and_then(|ws| endpoints.get(ws)) else {
            continue;
        };
        if targets.is_empty() {
            continue;
        }
        let event = Event {
            seq: e.id,
            workspace_id: e.workspace_id.clone(),
            kind: e.kind.clone(),
            payload: serde_json::from_str(&e.payload).unwrap_or_default(),
            created_at: e.created_at,
        };
        let Some(public) = crate::events::public(&event) else {
            continue;
        };
        let body = super::body(public.name, public.created_at, public.data);
        // An endpoint hears of events from its creation on.
        for ep in targets
            .iter()
            .filter(|ep| ep.wants(public.name) && ep.created_at <= e.created_at)
        {
            let d = NewDelivery {
                id: DeliveryId::new(),
                workspace_id: ep.workspace_id,
                endpoint_id: ep.id,
                event_seq: Some(e.id),
                event_type: public.name.to_string(),
                message_id: super::message_id(),
                body: body.clone(),
                next_attempt_at: now_ms(),
            };
            if store::insert_delivery(&mut tx, &d).await? {
                let job = DeliverWebhooks {
                    workspace_id: ep.workspace_id,
                    endpoint_id: ep.id,
                };
                deliver::enqueue(&mut tx, &job, Some(format!("webhooks:{}", d.id)), 0).await?;
                queued += 1;
            }
        }
    }
    let ids: Vec<i64> = events.iter().map(|e| e.id).collect();
    store::mark_fanned(&mut tx, &ids).await?;
    tx.commit().await?;
    if queued > 0 {
        state.jobs_wake.notify_waiters();
    }
    Ok(events.len())
}

/// Queues a job for every endpoint whose next delivery is overdue by a
/// minute (its job was lost with a dead queue entry, say).
async fn sweep(state: &AppState) -> anyhow::Result<()> {
    let now = now_ms();
    let overdue = {
        let mut conn = state.db.pool.acquire().await?;
        store::overdue(&mut conn, now - SWEEP_EVERY.as_millis() as i64, 1000).await?
    };
    if overdue.is_empty() {
        return Ok(());
    }
    let mut tx = state.db.begin().await?;
    for (ws, endpoint, delivery, attempts) in overdue {
        let job = DeliverWebhooks {
            workspace_id: ws,
            endpoint_id: endpoint,
        };
        // At most one such job per delivery and attempt per minute.
        let key = format!("webhooks:{delivery}:{attempts}:sweep:{}", now / 60_000);
        deliver::enqueue(&mut tx, &job, Some(key), 0).await?;
    }
    tx.commit().await?;
    state.jobs_wake.notify_waiters();
    Ok(())
}
