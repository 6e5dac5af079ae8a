//! Delivering: a job per endpoint sends its oldest pending delivery, then
//! the next, one at a time under the endpoint's lock, so that events reach
//! an endpoint in the order they happened. A failed attempt stops the run:
//! the delivery is due again after the next delay of the schedule (a job
//! is queued for then, in the transaction that records the failure) and
//! newer deliveries wait behind it. An endpoint that failed every attempt
//! for `disable_after_secs` (or answered 410 Gone) is disabled.

use std::time::{Duration, Instant};

use blazz_domain::{Priority, WorkspaceId};
use blazz_store::audit::Actor;
use blazz_store::webhooks::{self as store, state, Delivery, Endpoint, WebhookId};
use blazz_store::{now_ms, Conn};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{signing, target};
use crate::jobs::{self, Enqueue, Job, JobError};
use crate::secrets::{self, owner, SecretRef};
use crate::state::AppState;

/// Names of an endpoint's sealed secrets.
pub const SECRET: &str = "signing_secret";
pub const PREVIOUS_SECRET: &str = "previous_signing_secret";

pub fn secret_ref(ws: WorkspaceId, endpoint: WebhookId, name: &str) -> SecretRef {
    SecretRef::new(Some(ws), owner::WEBHOOK, endpoint.to_string(), name)
}

/// At most this much of a response body is kept.
const EXCERPT_BYTES: usize = 1024;
/// A run hands over to a fresh job after this many deliveries or this long.
const RUN_DELIVERIES: usize = 100;
const RUN_BUDGET: Duration = Duration::from_secs(30);

/// Delivers an endpoint's due deliveries, oldest first.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeliverWebhooks {
    pub workspace_id: WorkspaceId,
    pub endpoint_id: WebhookId,
}

impl Job for DeliverWebhooks {
    const NAME: &'static str = "webhooks.deliver";
    const PRIORITY: Priority = Priority::Normal;

    async fn run(self, state: AppState) -> Result<(), JobError> {
        let lock = state.webhooks.lock(self.endpoint_id);
        let _held = lock.lock().await;
        let started = Instant::now();
        for _ in 0..RUN_DELIVERIES {
            let (endpoint, head) = {
                let mut conn = state.db.pool.acquire().await.map_err(anyhow::Error::from)?;
                let e =
                    store::find_endpoint(&mut conn, self.workspace_id, self.endpoint_id).await?;
                let h = store::head(&mut conn, self.workspace_id, self.endpoint_id).await?;
                (e, h)
            };
            let (Some(endpoint), Some(delivery)) = (endpoint, head) else {
                return Ok(());
            };
            // Not due yet: the job queued for its next attempt comes then.
            if !endpoint.enabled() || delivery.next_attempt_at.unwrap_or(0) > now_ms() {
                return Ok(());
            }
            let outcome = attempt(&state, &endpoint, &delivery).await;
            // Waiting for its next attempt, the delivery holds the newer
            // ones back; delivered or failed for good, the next one goes.
            if record(&state, delivery, outcome).await? == Next::Wait {
                return Ok(());
            }
            if started.elapsed() > RUN_BUDGET {
                break;
            }
        }
        // Hand over to a fresh job, so that one busy endpoint does not hold
        // a worker's batch for long.
        let mut conn = state.db.write().await.map_err(anyhow::Error::from)?;
        enqueue(&mut conn, &self, None, 0).await?;
        state.jobs_wake.notify_waiters();
        Ok(())
    }
}

/// Queues the delivery job of an endpoint (inside the caller's transaction).
pub async fn enqueue(
    conn: &mut Conn,
    job: &DeliverWebhooks,
    key: Option<String>,
    delay_ms: i64,
) -> anyhow::Result<()> {
    jobs::enqueue(
        conn,
        job,
        Enqueue {
            workspace: Some(job.workspace_id),
            idempotency_key: key,
            delay_ms,
            priority: None,
        },
    )
    .await?;
    Ok(())
}

/// What one attempt came to.
#[derive(Debug, Default)]
pub struct Outcome {
    pub status: Option<u16>,
    pub latency_ms: Option<i64>,
    pub response: Option<String>,
    pub error: Option<String>,
    /// The receiver asked for no more attempts (`webhook-delivery: abort-message`).
    pub abort: bool,
    /// `Retry-After` of a 429 or 503, in seconds.
    pub retry_after: Option<u64>,
}

impl Outcome {
    pub fn delivered(&self) -> bool {
        self.error.is_none() && self.status.is_some_and(|s| (200..300).contains(&s))
    }

    fn failed(error: impl Into<String>) -> Self {
        Outcome {
            error: Some(error.into()),
            ..Outcome::default()
        }
    }
}

/// One POST of `d` to the endpoint, signed with its secret(s).
async fn attempt(state: &AppState, endpoint: &Endpoint, d: &Delivery) -> Outcome {
    let allow_private = state.config.webhooks.allow_private_targets;
    let url = match target::parse(&endpoint.url)
        .and_then(|u| target::check_literal(&u, allow_private).map(|_| u))
    {
        Ok(u) => u,
        Err(target::TargetError::NotAllowed(m)) => {
            return Outcome::failed(format!("url_not_allowed: {m}"))
        }
        Err(target::TargetError::Invalid(m)) => {
            return Outcome::failed(format!("invalid_url: {m}"))
        }
    };
    let keys = match signing_keys(state, endpoint).await {
        Ok(k) => k,
        Err(e) => return Outcome::failed(format!("the signing secret could not be read: {e:#}")),
    };
    let timestamp = now_ms() / 1000;
    let key_refs: Vec<&[u8]> = keys.iter().map(|k| k.as_slice()).collect();
    let signature = signing::header(&key_refs, &d.message_id, timestamp, d.body.as_bytes());
    let started = Instant::now();
    let sent = state
        .webhooks
        .client
        .post(url)
        .header("content-type", "application/json")
        .header("webhook-id", &d.message_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(d.body.clone())
        .send()
        .await;
    let mut out = Outcome::default();
    let mut resp = match sent {
        Ok(r) => r,
        Err(e) => {
            out.latency_ms = Some(started.elapsed().as_millis() as i64);
            out.error = Some(describe(&e));
            return out;
        }
    };
    out.latency_ms = Some(started.elapsed().as_millis() as i64);
    let status = resp.status().as_u16();
    out.status = Some(status);
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .map(str::to_string)
    };
    out.abort = header("webhook-delivery").is_some_and(|v| v.eq_ignore_ascii_case("abort-message"));
    if matches!(status, 429 | 503) {
        out.retry_after = header("retry-after").and_then(|v| v.parse().ok());
    }
    let mut excerpt = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                excerpt.extend_from_slice(&chunk);
                if excerpt.len() >= EXCERPT_BYTES {
                    break;
                }
            }
            Ok(None) => break,
            // The status counts; a body cut short does not fail a delivery.
            Err(_) => break,
        }
    }
    out.response = (!excerpt.is_empty()).then(|| cut(&excerpt, EXCERPT_BYTES));
    if !(200..300).contains(&status) {
        out.error = Some(format!("the endpoint answered {status}"));
    }
    out
}

/// The HMAC keys to sign with: the current secret, and the previous one
/// while a rotation's overlap lasts.
async fn signing_keys(
    state: &AppState,
    endpoint: &Endpoint,
) -> anyhow::Result<Vec<zeroize::Zeroizing<Vec<u8>>>> {
    let mut conn = state.db.pool.acquire().await?;
    let ws = endpoint.workspace_id;
    let current = secrets::get_string(
        &state.keyring,
        &mut conn,
        &secret_ref(ws, endpoint.id, SECRET),
    )
    .await?
    .ok_or_else(|| anyhow::anyhow!("the endpoint has no signing secret"))?;
    let mut keys = vec![signing::key(&current)?];
    if endpoint.previous_secret_until.is_some_and(|t| t > now_ms()) {
        let r = secret_ref(ws, endpoint.id, PREVIOUS_SECRET);
        if let Some(previous) = secrets::get_string(&state.keyring, &mut conn, &r).await? {
            keys.push(signing::key(&previous)?);
        }
    }
    Ok(keys)
}

/// A transport error with its causes (the guard's refusal is one of them).
fn describe(e: &reqwest::Error) -> String {
    let mut parts = vec![if e.is_timeout() {
        "timed out".to_string()
    } else if e.is_connect() {
        "could not connect".to_string()
    } else {
        "the request failed".to_string()
    }];
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.contains(&text) {
            parts.push(text);
        }
        source = s.source();
    }
    let text = parts.join(": ");
    if text.contains("is not a public address") {
        format!("url_not_allowed: {text}")
    } else {
        text
    }
}

/// At most `max` bytes of `bytes` as text, cut on a character boundary.
fn cut(bytes: &[u8], max: usize) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(max)]);
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_string()
}

/// The delay before attempt number `next` (0-based) of the schedule, with
/// up to 10% jitter added; `None` when the schedule is done.
pub fn delay_ms(schedule: &[f64], next: usize, retry_after: Option<u64>, unit: f64) -> Option<i64> {
    let secs = *schedule.get(next)?;
    let secs = if secs.is_finite() { secs.max(0.0) } else { 0.0 };
    let mut ms = secs * 1000.0 * (1.0 + 0.1 * unit.clamp(0.0, 1.0));
    if let Some(wait) = retry_after {
        // The receiver's wish, within reason (a day).
        ms = ms.max(wait.min(86_400) as f64 * 1000.0);
    }
    Some(ms as i64)
}

/// What an endpoint's run does after an attempt.
#[derive(Debug, PartialEq, Eq)]
enum Next {
    /// The delivery is done (delivered, or failed for good): on to the next.
    Continue,
    /// The delivery waits for its next attempt.
    Wait,
}

/// Stores an attempt's outcome with what follows from it: the next
/// attempt's job, the delivery failed for good, the endpoint disabled.
/// The endpoint is read again here: it may have been changed (or switched
/// off, or deleted) while the attempt ran.
async fn record(state: &AppState, mut d: Delivery, out: Outcome) -> anyhow::Result<Next> {
    let cfg = &state.config.webhooks;
    let now = now_ms();
    let delivered = out.delivered();
    d.attempts += 1;
    d.last_attempt_at = Some(now);
    d.status_code = out.status.map(i64::from);
    d.latency_ms = out.latency_ms;
    d.response = out.response;
    d.error = out.error;
    let mut tx = state.db.begin().await?;
    let Some(mut endpoint) = store::find_endpoint(&mut tx, d.workspace_id, d.endpoint_id).await?
    else {
        // Deleted meanwhile, with its deliveries.
        return Ok(Next::Continue);
    };
    let before = endpoint.clone();
    let mut retry_in = None;
    let mut disable = None;
    if delivered {
        d.state = state::DELIVERED.into();
        d.delivered_at = Some(now);
        d.next_attempt_at = None;
        endpoint.failing_since = None;
    } else {
        let since = *endpoint.failing_since.get_or_insert(now);
        if !endpoint.enabled() {
            // Switched off meanwhile: its pending deliveries failed then.
        } else if out.status == Some(410) {
            disable = Some("the endpoint answered 410 Gone".to_string());
        } else if now - since >= (cfg.disable_after_secs as i64).saturating_mul(1000) {
            disable = Some(format!(
                "every delivery attempt failed for {} (since {})",
                human(cfg.disable_after_secs),
                crate::http::api::rfc3339(since)
            ));
        }
        if endpoint.enabled() && disable.is_none() && !out.abort {
            let schedule = &cfg.retry_schedule_secs;
            retry_in = delay_ms(
                schedule,
                d.attempts as usize,
                out.retry_after,
                rand::random(),
            );
        }
        d.next_attempt_at = retry_in.map(|ms| now + ms);
        if retry_in.is_none() {
            d.state = state::FAILED.into();
        }
    }
    store::record_attempt(&mut tx, &d).await?;
    if let Some(ms) = retry_in {
        let job = DeliverWebhooks {
            workspace_id: d.workspace_id,
            endpoint_id: d.endpoint_id,
        };
        let key = format!("webhooks:{}:{}", d.id, d.attempts);
        enqueue(&mut tx, &job, Some(key), ms).await?;
    }
    if let Some(reason) = &disable {
        endpoint.disabled_at = Some(now);
        endpoint.disabled_reason = Some(reason.clone());
        let (ws, id) = (endpoint.workspace_id, endpoint.id);
        store::fail_pending(&mut tx, ws, id, "the endpoint was disabled").await?;
        let actor = Actor {
            kind: "system",
            id: None,
            name: "webhooks".into(),
        };
        // Mail is not configured in Blazz: the audit log, this event and the
        // endpoint's `disabled_reason` are how admins learn of it.
        let details = json!({"url": endpoint.url, "reason": reason});
        crate::services::record(
            &mut tx,
            ws,
            &actor,
            "webhook.disabled",
            ("webhook", id.to_string()),
            details,
        )
        .await?;
        tracing::warn!(workspace.id = %ws, webhook.id = %id, reason = %reason, "webhook endpoint disabled");
    }
    if endpoint != before {
        endpoint.updated_at = now;
        store::update_endpoint(&mut tx, &endpoint).await?;
    }
    tx.commit().await?;
    state.committed();
    Ok(if retry_in.is_some() {
        Next::Wait
    } else {
        Next::Continue
    })
}

fn human(secs: u64) -> String {
    match secs {
        s if s >= 86_400 && s % 86_400 == 0 => format!("{} days", s / 86_400),
        s if s >= 3_600 && s % 3_600 == 0 => format!("{} hours", s / 3_600),
        1 => "1 second".into(),
        s => format!("{s} seconds"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SVIX: &[f64] = &[
        0.0, 5.0, 300.0, 1_800.0, 7_200.0, 18_000.0, 36_000.0, 36_000.0,
    ];

    #[test]
    fn the_schedule_is_followed_then_ends() {
        assert_eq!(delay_ms(SVIX, 0, None, 0.0), Some(0));
        assert_eq!(delay_ms(SVIX, 1, None, 0.0), Some(5_000));
        assert_eq!(delay_ms(SVIX, 7, None, 0.0), Some(36_000_000));
        assert_eq!(delay_ms(SVIX, 8, None, 0.0), None);
        // Jitter only ever adds, at most a tenth.
        assert_eq!(delay_ms(SVIX, 2, None, 1.0), Some(330_000));
    }

    #[test]
    fn retry_after_stretches_a_delay_within_a_day() {
        assert_eq!(delay_ms(SVIX, 1, Some(60), 0.0), Some(60_000));
        assert_eq!(delay_ms(SVIX, 3, Some(60), 0.0), Some(1_800_000));
        assert_eq!(delay_ms(SVIX, 1, Some(u64::MAX), 0.0), Some(86_400_000));
    }

    #[test]
    fn excerpts_are_cut_on_a_character_boundary() {
        let text = "é".repeat(600);
        let cut = cut(text.as_bytes(), 1024);
        assert_eq!(cut.len(), 1024);
        assert!(cut.chars().all(|c| c == 'é'));
        assert_eq!(super::cut(b"short", 1024), "short");
    }

    #[test]
    fn only_2xx_without_error_is_delivered() {
        let ok = Outcome {
            status: Some(204),
            ..Outcome::default()
        };
        assert!(ok.delivered());
        let redirect = Outcome {
            status: Some(301),
            error: Some("the endpoint answered 301".into()),
            ..Outcome::default()
        };
        assert!(!redirect.delivered());
        assert!(!Outcome::failed("timed out").delivered());
    }
}
