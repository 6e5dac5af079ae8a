//! Managing endpoints: validation, secrets (sealed, shown once), replays
//! and test pings. Every change is audited and written to the outbox in
//! its transaction (`services::record`).

use blazz_store::webhooks::{
    self as store, Delivery, DeliveryId, Endpoint, NewDelivery, Replay, WebhookId,
};
use blazz_store::{now_ms, Conn};
use serde_json::json;
use zeroize::Zeroizing;

use super::deliver::{self, secret_ref, DeliverWebhooks, PREVIOUS_SECRET, SECRET};
use super::{signing, target};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::secrets;
use crate::services::record;
use crate::state::AppState;

/// What a create or an update may set; `None` leaves a field as it is.
#[derive(Debug, Default, Clone)]
pub struct Changes {
    pub url: Option<String>,
    pub description: Option<Option<String>>,
    pub events: Option<Vec<String>>,
    pub enabled: Option<bool>,
}

/// An endpoint URL, checked: 422 `invalid_url` or `url_not_allowed`.
pub async fn url(state: &AppState, raw: &str) -> Result<String, ApiError> {
    let allow = state.config.webhooks.allow_private_targets;
    let url = target::parse(raw).map_err(refused)?;
    target::check(&url, allow).await.map_err(refused)?;
    Ok(url.to_string())
}

fn refused(e: target::TargetError) -> ApiError {
    match e {
        target::TargetError::Invalid(m) => ApiError::invalid("invalid_url", m),
        target::TargetError::NotAllowed(m) => ApiError::invalid("url_not_allowed", m),
    }
}

/// Public event names (`events::NAMES`) or `*`; `*` takes them all.
pub fn events(raw: &[String]) -> Result<Vec<String>, ApiError> {
    let mut out: Vec<String> = Vec::new();
    for e in raw {
        let e = e.trim();
        if e != "*" && !crate::events::NAMES.iter().any(|(n, _)| *n == e) {
            let names: Vec<&str> = crate::events::NAMES.iter().map(|(n, _)| *n).collect();
            return Err(ApiError::invalid(
                "invalid_events",
                format!(
                    "unknown event {e:?}: events are \"*\" or any of {}",
                    names.join(", ")
                ),
            ));
        }
        if !out.iter().any(|o| o == e) {
            out.push(e.to_string());
        }
    }
    if out.is_empty() {
        return Err(ApiError::invalid(
            "invalid_events",
            "subscribe to at least one event (or \"*\")",
        ));
    }
    if out.iter().any(|e| e == "*") {
        out = vec!["*".into()];
    }
    Ok(out)
}

fn description(v: Option<String>) -> Result<Option<String>, ApiError> {
    let v = v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    if v.as_ref().is_some_and(|s| s.chars().count() > 500) {
        return Err(ApiError::invalid(
            "invalid_body",
            "description has at most 500 characters",
        ));
    }
    Ok(v)
}

fn summary(e: &Endpoint) -> serde_json::Value {
    json!({"url": e.url, "events": e.events, "description": e.description, "enabled": e.enabled()})
}

pub async fn find(conn: &mut Conn, caller: &Caller, id: &str) -> Result<Endpoint, ApiError> {
    let missing = || ApiError::not_found("webhook_not_found", "webhook");
    let id: WebhookId = id.parse().map_err(|_| missing())?;
    store::find_endpoint(conn, caller.workspace_id, id)
        .await?
        .ok_or_else(missing)
}

/// Creates an endpoint; the secret is in the answer only.
pub async fn create(
    state: &AppState,
    caller: &Caller,
    changes: Changes,
) -> Result<(Endpoint, Zeroizing<String>), ApiError> {
    let Some(raw) = changes.url else {
        return Err(ApiError::invalid("invalid_url", "url is required"));
    };
    let now = now_ms();
    let e = Endpoint {
        id: WebhookId::new(),
        workspace_id: caller.workspace_id,
        url: url(state, &raw).await?,
        description: description(changes.description.flatten())?,
        events: events(&changes.events.unwrap_or_else(|| vec!["*".into()]))?,
        disabled_at: (changes.enabled == Some(false)).then_some(now),
        disabled_reason: (changes.enabled == Some(false)).then(|| "created disabled".to_string()),
        failing_since: None,
        secret_rotated_at: None,
        previous_secret_until: None,
        created_at: now,
        updated_at: now,
    };
    let secret = signing::generate();
    let mut tx = state.db.begin().await?;
    store::create_endpoint(&mut tx, &e).await?;
    let r = secret_ref(e.workspace_id, e.id, SECRET);
    secrets::put(&state.keyring, &mut tx, &r, secret.as_bytes()).await?;
    record(
        &mut tx,
        e.workspace_id,
        &caller.actor,
        "webhook.created",
        ("webhook", e.id.to_string()),
        summary(&e),
    )
    .await?;
    tx.commit().await?;
    state.committed();
    Ok((e, secret))
}

pub async fn update(
    state: &AppState,
    caller: &Caller,
    id: &str,
    changes: Changes,
) -> Result<Endpoint, ApiError> {
    // The URL is resolved before the transaction (DNS can be slow).
    let new_url = match &changes.url {
        Some(raw) => Some(url(state, raw).await?),
        None => None,
    };
    let mut tx = state.db.begin().await?;
    let mut e = find(&mut tx, caller, id).await?;
    if let Some(u) = new_url {
        e.url = u;
    }
    if let Some(d) = changes.description {
        e.description = description(d)?;
    }
    if let Some(ev) = changes.events {
        e.events = events(&ev)?;
    }
    let now = now_ms();
    let mut resume = false;
    match (changes.enabled, e.enabled()) {
        (Some(false), true) => {
            e.disabled_at = Some(now);
            e.disabled_reason = Some(format!("disabled by {}", caller.actor.name));
            store::fail_pending(&mut tx, e.workspace_id, e.id, "the endpoint was disabled").await?;
        }
        (Some(true), false) => {
            e.disabled_at = None;
            e.disabled_reason = None;
            e.failing_since = None;
            resume = true;
        }
        _ => {}
    }
    e.updated_at = now;
    store::update_endpoint(&mut tx, &e).await?;
    if resume {
        queue(&mut tx, &e, None).await?;
    }
    record(
        &mut tx,
        e.workspace_id,
        &caller.actor,
        "webhook.updated",
        ("webhook", e.id.to_string()),
        summary(&e),
    )
    .await?;
    tx.commit().await?;
    state.committed();
    Ok(e)
}

pub async fn delete(state: &AppState, caller: &Caller, id: &str) -> Result<(), ApiError> {
    let mut tx = state.db.begin().await?;
    let e = find(&mut tx, caller, id).await?;
    for name in [SECRET, PREVIOUS_SECRET] {
        secrets::delete(&mut tx, &secret_ref(e.workspace_id, e.id, name)).await?;
    }
    store::delete_endpoint(&mut tx, e.workspace_id, e.id).await?;
    record(
        &mut tx,
        e.workspace_id,
        &caller.actor,
        "webhook.deleted",
        ("webhook", e.id.to_string()),
        summary(&e),
    )
    .await?;
    tx.commit().await?;
    state.committed();
    Ok(())
}

/// A new secret; the one it replaces keeps signing (a second signature)
/// for `webhooks.rotation_overlap_secs`.
pub async fn rotate(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> Result<(Endpoint, Zeroizing<String>), ApiError> {
    let overlap_ms = (state.config.webhooks.rotation_overlap_secs as i64).saturating_mul(1000);
    let secret = signing::generate();
    let mut tx = state.db.begin().await?;
    let mut e = find(&mut tx, caller, id).await?;
    let (ws, now) = (e.workspace_id, now_ms());
    let current =
        secrets::get_string(&state.keyring, &mut tx, &secret_ref(ws, e.id, SECRET)).await?;
    let previous = secret_ref(ws, e.id, PREVIOUS_SECRET);
    match current {
        Some(old) if overlap_ms > 0 => {
            secrets::put(&state.keyring, &mut tx, &previous, old.as_bytes()).await?;
            e.previous_secret_until = Some(now + overlap_ms);
        }
        _ => {
            secrets::delete(&mut tx, &previous).await?;
            e.previous_secret_until = None;
        }
    }
    secrets::put(
        &state.keyring,
        &mut tx,
        &secret_ref(ws, e.id, SECRET),
        secret.as_bytes(),
    )
    .await?;
    e.secret_rotated_at = Some(now);
    e.updated_at = now;
    store::update_endpoint(&mut tx, &e).await?;
    let until = e.previous_secret_until.map(crate::http::api::rfc3339);
    record(
        &mut tx,
        ws,
        &caller.actor,
        "webhook.secret_rotated",
        ("webhook", e.id.to_string()),
        json!({"previous_secret_until": until}),
    )
    .await?;
    tx.commit().await?;
    state.committed();
    Ok((e, secret))
}

/// Refuses work for an endpoint that is switched off.
fn enabled(e: &Endpoint) -> Result<(), ApiError> {
    if e.enabled() {
        Ok(())
    } else {
        Err(ApiError::Conflict(
            "webhook_disabled",
            "the webhook is disabled; enable it first (PATCH {\"enabled\": true})".into(),
        ))
    }
}

/// Sends a delivery again, from the start of the schedule.
pub async fn replay_one(
    state: &AppState,
    caller: &Caller,
    id: &str,
    delivery: &str,
) -> Result<Delivery, ApiError> {
    let missing = || ApiError::not_found("delivery_not_found", "delivery");
    let mut tx = state.db.begin().await?;
    let e = find(&mut tx, caller, id).await?;
    let d: DeliveryId = delivery.parse().map_err(|_| missing())?;
    store::find_delivery(&mut tx, e.workspace_id, e.id, d)
        .await?
        .ok_or_else(missing)?;
    enabled(&e)?;
    store::replay(&mut tx, e.workspace_id, e.id, Replay::One(d)).await?;
    queue(&mut tx, &e, None).await?;
    record(
        &mut tx,
        e.workspace_id,
        &caller.actor,
        "webhook.replayed",
        ("webhook", e.id.to_string()),
        json!({"delivery_id": d.to_string()}),
    )
    .await?;
    let found = store::find_delivery(&mut tx, e.workspace_id, e.id, d)
        .await?
        .ok_or_else(missing)?;
    tx.commit().await?;
    state.committed();
    Ok(found)
}

/// Sends every failed delivery created since `since_ms` again.
pub async fn replay_since(
    state: &AppState,
    caller: &Caller,
    id: &str,
    since_ms: i64,
) -> Result<u64, ApiError> {
    let mut tx = state.db.begin().await?;
    let e = find(&mut tx, caller, id).await?;
    enabled(&e)?;
    let n = store::replay(&mut tx, e.workspace_id, e.id, Replay::FailedSince(since_ms)).await?;
    if n > 0 {
        queue(&mut tx, &e, None).await?;
    }
    record(
        &mut tx,
        e.workspace_id,
        &caller.actor,
        "webhook.replayed",
        ("webhook", e.id.to_string()),
        json!({"since": crate::http::api::rfc3339(since_ms), "deliveries": n}),
    )
    .await?;
    tx.commit().await?;
    state.committed();
    Ok(n)
}

/// Queues a `webhook.test` ping to the endpoint (after its pending ones).
pub async fn test(state: &AppState, caller: &Caller, id: &str) -> Result<Delivery, ApiError> {
    let mut tx = state.db.begin().await?;
    let e = find(&mut tx, caller, id).await?;
    enabled(&e)?;
    let now = now_ms();
    let d = NewDelivery {
        id: DeliveryId::new(),
        workspace_id: e.workspace_id,
        endpoint_id: e.id,
        event_seq: None,
        event_type: super::TEST_EVENT.into(),
        message_id: super::message_id(),
        body: super::body(
            super::TEST_EVENT,
            now,
            json!({"webhook_id": e.id.to_string(), "message": "a test ping from Blazz"}),
        ),
        next_attempt_at: now,
    };
    store::insert_delivery(&mut tx, &d).await?;
    queue(&mut tx, &e, Some(format!("webhooks:{}", d.id))).await?;
    record(
        &mut tx,
        e.workspace_id,
        &caller.actor,
        "webhook.tested",
        ("webhook", e.id.to_string()),
        json!({"delivery_id": d.id.to_string()}),
    )
    .await?;
    let found = store::find_delivery(&mut tx, e.workspace_id, e.id, d.id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("a test delivery vanished"))?;
    tx.commit().await?;
    state.committed();
    Ok(found)
}

/// Queues the delivery job of an endpoint (its oldest pending deliveries
/// go first), inside the caller's transaction.
async fn queue(tx: &mut Conn, e: &Endpoint, idempotency_key: Option<String>) -> anyhow::Result<()> {
    let job = DeliverWebhooks {
        workspace_id: e.workspace_id,
        endpoint_id: e.id,
    };
    deliver::enqueue(tx, &job, idempotency_key, 0).await?;
    Ok(())
}
