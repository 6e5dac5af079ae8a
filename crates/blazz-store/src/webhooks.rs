//! Outgoing webhooks: a workspace's endpoints, their deliveries (one per
//! endpoint and outbox event, holding the exact body that is signed and
//! sent), and the mark on outbox rows that says they were turned into
//! deliveries. Signing secrets are in `secrets`, sealed by the app.

use std::fmt;
use std::str::FromStr;

use blazz_domain::{InvalidId, WorkspaceId};
use uuid::Uuid;

use crate::outbox::OutboxEvent;
use crate::{now_ms, parse_id, Conn};

macro_rules! uuid_id {
    ($($(#[$doc:meta])* $name:ident),*) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = InvalidId;

            fn from_str(s: &str) -> Result<Self, InvalidId> {
                Uuid::parse_str(s).map(Self).map_err(|_| InvalidId)
            }
        }
    )*};
}

uuid_id!(
    /// An endpoint that receives a workspace's webhooks.
    WebhookId,
    /// One event (or test ping) on its way to one endpoint.
    DeliveryId
);

#[derive(Debug, Clone, PartialEq)]
pub struct Endpoint {
    pub id: WebhookId,
    pub workspace_id: WorkspaceId,
    pub url: String,
    pub description: Option<String>,
    /// Public event names, or `["*"]` for all of them.
    pub events: Vec<String>,
    pub disabled_at: Option<i64>,
    pub disabled_reason: Option<String>,
    pub failing_since: Option<i64>,
    pub secret_rotated_at: Option<i64>,
    pub previous_secret_until: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Endpoint {
    pub fn enabled(&self) -> bool {
        self.disabled_at.is_none()
    }

    /// Whether the endpoint subscribed to events named `name`.
    pub fn wants(&self, name: &str) -> bool {
        self.events.iter().any(|e| e == "*" || e == name)
    }
}

#[derive(sqlx::FromRow)]
struct EndpointRow {
    id: String,
    workspace_id: String,
    url: String,
    description: Option<String>,
    events: String,
    disabled_at: Option<i64>,
    disabled_reason: Option<String>,
    failing_since: Option<i64>,
    secret_rotated_at: Option<i64>,
    previous_secret_until: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

const ENDPOINT_COLUMNS: &str = "id, workspace_id, url, description, events, disabled_at, \
     disabled_reason, failing_since, secret_rotated_at, previous_secret_until, created_at, updated_at";

impl TryFrom<EndpointRow> for Endpoint {
    type Error = anyhow::Error;

    fn try_from(r: EndpointRow) -> anyhow::Result<Self> {
        Ok(Endpoint {
            id: parse_id(&r.id)?,
            workspace_id: parse_id(&r.workspace_id)?,
            url: r.url,
            description: r.description,
            events: serde_json::from_str(&r.events).unwrap_or_default(),
            disabled_at: r.disabled_at,
            disabled_reason: r.disabled_reason,
            failing_since: r.failing_since,
            secret_rotated_at: r.secret_rotated_at,
            previous_secret_until: r.previous_secret_until,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

fn endpoints(rows: Vec<EndpointRow>) -> anyhow::Result<Vec<Endpoint>> {
    rows.into_iter().map(Endpoint::try_from).collect()
}

pub async fn create_endpoint(conn: &mut Conn, e: &Endpoint) -> anyhow::Result<()> {
    sqlx::query(&format!(
        "INSERT INTO webhook_endpoints ({ENDPOINT_COLUMNS}) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
    ))
    .bind(e.id.to_string())
    .bind(e.workspace_id.to_string())
    .bind(&e.url)
    .bind(e.description.clone())
    .bind(serde_json::to_string(&e.events)?)
    .bind(e.disabled_at)
    .bind(e.disabled_reason.clone())
    .bind(e.failing_since)
    .bind(e.secret_rotated_at)
    .bind(e.previous_secret_until)
    .bind(e.created_at)
    .bind(e.updated_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Writes every changeable field of `e` back.
pub async fn update_endpoint(conn: &mut Conn, e: &Endpoint) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE webhook_endpoints SET url = $3, description = $4, events = $5, disabled_at = $6, \
         disabled_reason = $7, failing_since = $8, secret_rotated_at = $9, \
         previous_secret_until = $10, updated_at = $11 \
         WHERE workspace_id = $1 AND id = $2",
    )
    .bind(e.workspace_id.to_string())
    .bind(e.id.to_string())
    .bind(&e.url)
    .bind(e.description.clone())
    .bind(serde_json::to_string(&e.events)?)
    .bind(e.disabled_at)
    .bind(e.disabled_reason.clone())
    .bind(e.failing_since)
    .bind(e.secret_rotated_at)
    .bind(e.previous_secret_until)
    .bind(e.updated_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn find_endpoint(
    conn: &mut Conn,
    ws: WorkspaceId,
    id: WebhookId,
) -> anyhow::Result<Option<Endpoint>> {
    let row: Option<EndpointRow> = sqlx::query_as(&format!(
        "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE workspace_id = $1 AND id = $2"
    ))
    .bind(ws.to_string())
    .bind(id.to_string())
    .fetch_optional(conn)
    .await?;
    row.map(Endpoint::try_from).transpose()
}

/// The workspace's endpoints, oldest first.
pub async fn list_endpoints(conn: &mut Conn, ws: WorkspaceId) -> anyhow::Result<Vec<Endpoint>> {
    let rows: Vec<EndpointRow> = sqlx::query_as(&format!(
        "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE workspace_id = $1 ORDER BY id"
    ))
    .bind(ws.to_string())
    .fetch_all(conn)
    .await?;
    endpoints(rows)
}

/// The workspace's endpoints that take deliveries.
pub async fn enabled_endpoints(conn: &mut Conn, ws: WorkspaceId) -> anyhow::Result<Vec<Endpoint>> {
    let rows: Vec<EndpointRow> = sqlx::query_as(&format!(
        "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints \
         WHERE workspace_id = $1 AND disabled_at IS NULL ORDER BY id"
    ))
    .bind(ws.to_string())
    .fetch_all(conn)
    .await?;
    endpoints(rows)
}

pub async fn delete_endpoint(
    conn: &mut Conn,
    ws: WorkspaceId,
    id: WebhookId,
) -> anyhow::Result<bool> {
    // Deliveries go with it (ON DELETE CASCADE needs SQLite's foreign keys
    // pragma, which every connection sets; the explicit delete does not).
    sqlx::query("DELETE FROM webhook_deliveries WHERE workspace_id = $1 AND endpoint_id = $2")
        .bind(ws.to_string())
        .bind(id.to_string())
        .execute(&mut *conn)
        .await?;
    let done = sqlx::query("DELETE FROM webhook_endpoints WHERE workspace_id = $1 AND id = $2")
        .bind(ws.to_string())
        .bind(id.to_string())
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Delivery states.
pub mod state {
    pub const PENDING: &str = "pending";
    pub const DELIVERED: &str = "delivered";
    pub const FAILED: &str = "failed";
}

#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// The order of an endpoint's deliveries, and the list cursor.
    pub seq: i64,
    pub id: DeliveryId,
    pub workspace_id: WorkspaceId,
    pub endpoint_id: WebhookId,
    pub event_seq: Option<i64>,
    pub event_type: String,
    /// The `webhook-id` header.
    pub message_id: String,
    /// The JSON body, byte for byte as it is signed and sent.
    pub body: String,
    pub state: String,
    pub attempts: i64,
    pub next_attempt_at: Option<i64>,
    pub last_attempt_at: Option<i64>,
    pub status_code: Option<i64>,
    pub latency_ms: Option<i64>,
    /// The start of the last response's body (at most 1 KiB).
    pub response: Option<String>,
    pub error: Option<String>,
    pub created_at: i64,
    pub delivered_at: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct DeliveryRow {
    seq: i64,
    id: String,
    workspace_id: String,
    endpoint_id: String,
    event_seq: Option<i64>,
    event_type: String,
    message_id: String,
    body: String,
    state: String,
    attempts: i64,
    next_attempt_at: Option<i64>,
    last_attempt_at: Option<i64>,
    status_code: Option<i64>,
    latency_ms: Option<i64>,
    response: Option<String>,
    error: Option<String>,
    created_at: i64,
    delivered_at: Option<i64>,
}

const DELIVERY_COLUMNS: &str = "seq, id, workspace_id, endpoint_id, event_seq, event_type, \
     message_id, body, state, attempts, next_attempt_at, last_attempt_at, status_code, \
     latency_ms, response, error, created_at, delivered_at";

impl TryFrom<DeliveryRow> for Delivery {
    type Error = anyhow::Error;

    fn try_from(r: DeliveryRow) -> anyhow::Result<Self> {
        Ok(Delivery {
            seq: r.seq,
            id: parse_id(&r.id)?,
            workspace_id: parse_id(&r.workspace_id)?,
            endpoint_id: parse_id(&r.endpoint_id)?,
            event_seq: r.event_seq,
            event_type: r.event_type,
            message_id: r.message_id,
            body: r.body,
            state: r.state,
            attempts: r.attempts,
            next_attempt_at: r.next_attempt_at,
            last_attempt_at: r.last_attempt_at,
            status_code: r.status_code,
            latency_ms: r.latency_ms,
            response: r.response,
            error: r.error,
            created_at: r.created_at,
            delivered_at: r.delivered_at,
        })
    }
}

fn deliveries(rows: Vec<DeliveryRow>) -> anyhow::Result<Vec<Delivery>> {
    rows.into_iter().map(Delivery::try_from).collect()
}

/// A delivery to create: pending, due at `next_attempt_at`.
#[derive(Debug, Clone)]
pub struct NewDelivery {
    pub id: DeliveryId,
    pub workspace_id: WorkspaceId,
    pub endpoint_id: WebhookId,
    pub event_seq: Option<i64>,
    pub event_type: String,
    pub message_id: String,
    pub body: String,
    pub next_attempt_at: i64,
}

/// Creates a pending delivery; false when the endpoint already has one for
/// this event (a second fan-out of the same event).
pub async fn insert_delivery(conn: &mut Conn, d: &NewDelivery) -> anyhow::Result<bool> {
    let done = sqlx::query(
        "INSERT INTO webhook_deliveries (id, workspace_id, endpoint_id, event_seq, event_type, \
         message_id, body, state, attempts, next_attempt_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', 0, $8, $9) \
         ON CONFLICT (endpoint_id, event_seq) DO NOTHING",
    )
    .bind(d.id.to_string())
    .bind(d.workspace_id.to_string())
    .bind(d.endpoint_id.to_string())
    .bind(d.event_seq)
    .bind(&d.event_type)
    .bind(&d.message_id)
    .bind(&d.body)
    .bind(d.next_attempt_at)
    .bind(now_ms())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The endpoint's oldest pending delivery: the next one to go out.
pub async fn head(
    conn: &mut Conn,
    ws: WorkspaceId,
    endpoint: WebhookId,
) -> anyhow::Result<Option<Delivery>> {
    let row: Option<DeliveryRow> = sqlx::query_as(&format!(
        "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries \
         WHERE endpoint_id = $1 AND state = 'pending' AND workspace_id = $2 ORDER BY seq LIMIT 1"
    ))
    .bind(endpoint.to_string())
    .bind(ws.to_string())
    .fetch_optional(conn)
    .await?;
    row.map(Delivery::try_from).transpose()
}

/// Writes the outcome of an attempt (state, counters, last response).
pub async fn record_attempt(conn: &mut Conn, d: &Delivery) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE webhook_deliveries SET state = $2, attempts = $3, next_attempt_at = $4, \
         last_attempt_at = $5, status_code = $6, latency_ms = $7, response = $8, error = $9, \
         delivered_at = $10 WHERE id = $1",
    )
    .bind(d.id.to_string())
    .bind(&d.state)
    .bind(d.attempts)
    .bind(d.next_attempt_at)
    .bind(d.last_attempt_at)
    .bind(d.status_code)
    .bind(d.latency_ms)
    .bind(d.response.clone())
    .bind(d.error.clone())
    .bind(d.delivered_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Fails every pending delivery of an endpoint (it was disabled).
pub async fn fail_pending(
    conn: &mut Conn,
    ws: WorkspaceId,
    endpoint: WebhookId,
    error: &str,
) -> anyhow::Result<u64> {
    let done = sqlx::query(
        "UPDATE webhook_deliveries SET state = 'failed', next_attempt_at = NULL, error = $3 \
         WHERE workspace_id = $1 AND endpoint_id = $2 AND state = 'pending'",
    )
    .bind(ws.to_string())
    .bind(endpoint.to_string())
    .bind(error)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// A page of an endpoint's deliveries, newest first, before `before` (a seq).
pub async fn list_deliveries(
    conn: &mut Conn,
    ws: WorkspaceId,
    endpoint: WebhookId,
    state: Option<&str>,
    before: Option<i64>,
    limit: i64,
) -> anyhow::Result<Vec<Delivery>> {
    let rows: Vec<DeliveryRow> = sqlx::query_as(&format!(
        "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries \
         WHERE workspace_id = $1 AND endpoint_id = $2 AND seq < $3 AND state LIKE $4 \
         ORDER BY seq DESC LIMIT $5"
    ))
    .bind(ws.to_string())
    .bind(endpoint.to_string())
    .bind(before.unwrap_or(i64::MAX))
    .bind(state.unwrap_or("%"))
    .bind(limit)
    .fetch_all(conn)
    .await?;
    deliveries(rows)
}

pub async fn find_delivery(
    conn: &mut Conn,
    ws: WorkspaceId,
    endpoint: WebhookId,
    id: DeliveryId,
) -> anyhow::Result<Option<Delivery>> {
    let row: Option<DeliveryRow> = sqlx::query_as(&format!(
        "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries \
         WHERE workspace_id = $1 AND endpoint_id = $2 AND id = $3"
    ))
    .bind(ws.to_string())
    .bind(endpoint.to_string())
    .bind(id.to_string())
    .fetch_optional(conn)
    .await?;
    row.map(Delivery::try_from).transpose()
}

/// Sends a delivery again from the start of the schedule, due now. With
/// `only_failed_since`, every failed delivery of the endpoint created since
/// then instead of one. Returns how many were queued again.
pub async fn replay(
    conn: &mut Conn,
    ws: WorkspaceId,
    endpoint: WebhookId,
    which: Replay,
) -> anyhow::Result<u64> {
    let set =
        "UPDATE webhook_deliveries SET state = 'pending', attempts = 0, next_attempt_at = $3, \
               delivered_at = NULL WHERE workspace_id = $1 AND endpoint_id = $2 AND";
    let one = format!("{set} id = $4");
    let since = format!("{set} state = 'failed' AND created_at >= $4");
    let query = |sql| {
        sqlx::query(sql)
            .bind(ws.to_string())
            .bind(endpoint.to_string())
            .bind(now_ms())
    };
    let done = match which {
        Replay::One(id) => query(&one).bind(id.to_string()).execute(conn).await?,
        Replay::FailedSince(at) => query(&since).bind(at).execute(conn).await?,
    };
    Ok(done.rows_affected())
}

#[derive(Debug, Clone, Copy)]
pub enum Replay {
    One(DeliveryId),
    /// Unix milliseconds.
    FailedSince(i64),
}

/// Committed events not yet turned into deliveries, in sequence order.
pub async fn unfanned_events(conn: &mut Conn, limit: i64) -> anyhow::Result<Vec<OutboxEvent>> {
    Ok(sqlx::query_as(
        "SELECT id, workspace_id, kind, payload, created_at FROM outbox \
         WHERE webhooks_at IS NULL ORDER BY id LIMIT $1",
    )
    .bind(limit)
    .fetch_all(conn)
    .await?)
}

/// Marks events as turned into deliveries (call in the same transaction).
pub async fn mark_fanned(conn: &mut Conn, ids: &[i64]) -> anyhow::Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    // Ids are integers we read, so inlining them is safe.
    let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    sqlx::query(&format!(
        "UPDATE outbox SET webhooks_at = $1 WHERE id IN ({list})"
    ))
    .bind(now_ms())
    .execute(conn)
    .await?;
    Ok(())
}

/// Endpoints whose next delivery was due before `due_before` and is still
/// pending (its job was lost, say): (workspace, endpoint, delivery, attempts).
pub async fn overdue(
    conn: &mut Conn,
    due_before: i64,
    limit: i64,
) -> anyhow::Result<Vec<(WorkspaceId, WebhookId, DeliveryId, i64)>> {
    let rows: Vec<(String, String, String, i64)> = sqlx::query_as(
        "SELECT d.workspace_id, d.endpoint_id, d.id, d.attempts FROM webhook_deliveries d \
         WHERE d.state = 'pending' AND d.next_attempt_at < $1 AND d.seq = \
           (SELECT MIN(h.seq) FROM webhook_deliveries h WHERE h.endpoint_id = d.endpoint_id AND h.state = 'pending') \
         LIMIT $2",
    )
    .bind(due_before)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|(w, e, d, n)| Ok((parse_id(&w)?, parse_id(&e)?, parse_id(&d)?, n)))
        .collect()
}

/// Deletes finished deliveries created before `older_than_ms` ago.
pub async fn prune(conn: &mut Conn, older_than_ms: i64) -> anyhow::Result<u64> {
    let done = sqlx::query(
        "DELETE FROM webhook_deliveries WHERE state IN ('delivered', 'failed') AND created_at < $1",
    )
    .bind(now_ms() - older_than_ms)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}
