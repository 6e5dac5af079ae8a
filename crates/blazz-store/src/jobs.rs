//! The durable job queue. A job is claimed with a lease, not deleted: if its
//! worker dies the lease runs out and the job is queued again. Finished jobs
//! stay (state `done`) for the idempotency window, failed ones past their
//! attempts stay `dead` until replayed.

use blazz_domain::{JobState, Priority, WorkspaceId};

use crate::{now_ms, Conn, Db, Dialect};

#[derive(Debug, Clone)]
pub struct NewJob {
    pub name: String,
    pub workspace_id: Option<WorkspaceId>,
    pub payload: serde_json::Value,
    pub priority: Priority,
    pub run_at: i64,
    pub max_attempts: i64,
    /// Enqueueing a second job with the same key is a no-op.
    pub idempotency_key: Option<String>,
}

/// A job a worker holds. `attempts` counts this run; together with
/// `locked_by` it fences a worker whose lease has expired from finishing a
/// job that another worker has claimed since.
#[derive(Debug, Clone)]
pub struct ClaimedJob {
    pub id: i64,
    pub name: String,
    pub workspace_id: Option<String>,
    pub payload: String,
    pub priority: i64,
    pub attempts: i64,
    pub max_attempts: i64,
    pub locked_by: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct JobRow {
    pub id: i64,
    pub name: String,
    pub workspace_id: Option<String>,
    pub payload: String,
    pub priority: i64,
    pub state: String,
    pub run_at: i64,
    pub attempts: i64,
    pub max_attempts: i64,
    pub idempotency_key: Option<String>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub finished_at: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct ClaimRow {
    id: i64,
    name: String,
    workspace_id: Option<String>,
    payload: String,
    priority: i64,
    attempts: i64,
    max_attempts: i64,
}

const COLUMNS: &str = "id, name, workspace_id, payload, priority, state, run_at, attempts, \
                       max_attempts, idempotency_key, last_error, created_at, finished_at";

/// Adds a job. Returns its id, or `None` when a job with the same
/// idempotency key exists already.
pub async fn enqueue(conn: &mut Conn, job: &NewJob) -> anyhow::Result<Option<i64>> {
    let row: Option<(i64,)> = sqlx::query_as(
        "INSERT INTO jobs (name, workspace_id, payload, priority, state, run_at, attempts, max_attempts, idempotency_key, created_at) \
         VALUES ($1, $2, $3, $4, 'queued', $5, 0, $6, $7, $8) \
         ON CONFLICT (idempotency_key) DO NOTHING RETURNING id",
    )
    .bind(&job.name)
    .bind(job.workspace_id.map(|w| w.to_string()))
    .bind(job.payload.to_string())
    .bind(job.priority.rank())
    .bind(job.run_at)
    .bind(job.max_attempts.max(1))
    .bind(job.idempotency_key.clone())
    .bind(now_ms())
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|(id,)| id))
}

/// Leases up to `limit` due jobs to `worker`, highest priority first.
pub async fn claim(
    db: &Db,
    worker: &str,
    limit: i64,
    lease_ms: i64,
) -> anyhow::Result<Vec<ClaimedJob>> {
    let now = now_ms();
    // PostgreSQL lets several instances claim at once without waiting on each
    // other's rows; SQLite has one writer, so the plain subquery is atomic.
    let lock = match db.dialect {
        Dialect::Postgres => "FOR UPDATE SKIP LOCKED",
        Dialect::Sqlite => "",
    };
    let sql = format!(
        "UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_until = $1, locked_by = $2 \
         WHERE id IN (SELECT id FROM jobs WHERE state = 'queued' AND run_at <= $3 \
                      ORDER BY priority, run_at, id LIMIT $4 {lock}) \
         RETURNING id, name, workspace_id, payload, priority, attempts, max_attempts"
    );
    let rows: Vec<ClaimRow> = sqlx::query_as(&sql)
        .bind(now + lease_ms)
        .bind(worker)
        .bind(now)
        .bind(limit)
        .fetch_all(&db.writer)
        .await?;
    let mut jobs: Vec<ClaimedJob> = rows
        .into_iter()
        .map(|r| ClaimedJob {
            id: r.id,
            name: r.name,
            workspace_id: r.workspace_id,
            payload: r.payload,
            priority: r.priority,
            attempts: r.attempts,
            max_attempts: r.max_attempts,
            locked_by: worker.to_string(),
        })
        .collect();
    jobs.sort_by_key(|j| (j.priority, j.id));
    Ok(jobs)
}

/// A job is finished only by the claim that holds it: `locked_by` names the
/// claim (unique per claim), so a worker whose lease expired and whose job
/// was claimed again cannot record anything for it.
const FENCE: &str = "state = 'running' AND locked_by = $2 AND attempts = $3";

/// Marks a held job done. False if the lease was lost in the meantime.
pub async fn complete(conn: &mut Conn, job: &ClaimedJob) -> anyhow::Result<bool> {
    let done = sqlx::query(&format!(
        "UPDATE jobs SET state = 'done', finished_at = $4, lease_until = NULL, last_error = NULL \
         WHERE id = $1 AND {FENCE}"
    ))
    .bind(job.id)
    .bind(&job.locked_by)
    .bind(job.attempts)
    .bind(now_ms())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records a failure: queued again at `retry_at`, or dead when `None`.
pub async fn fail(
    conn: &mut Conn,
    job: &ClaimedJob,
    error: &str,
    retry_at: Option<i64>,
) -> anyhow::Result<bool> {
    let now = now_ms();
    let (state, run_at, finished_at) = match retry_at {
        Some(at) => ("queued", at, None),
        None => ("dead", now, Some(now)),
    };
    let done = sqlx::query(&format!(
        "UPDATE jobs SET state = $4, run_at = $5, finished_at = $6, last_error = $7, lease_until = NULL \
         WHERE id = $1 AND {FENCE}"
    ))
    .bind(job.id)
    .bind(&job.locked_by)
    .bind(job.attempts)
    .bind(state)
    .bind(run_at)
    .bind(finished_at)
    .bind(truncate(error, 2000))
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Marks several held jobs done in one statement; returns how many still
/// held their lease.
pub async fn complete_many(conn: &mut Conn, done: &[&ClaimedJob]) -> anyhow::Result<u64> {
    let mut total = 0;
    // Grouped by claim; ids are integers we read, so inlining them is safe.
    let mut by_holder: std::collections::BTreeMap<&str, Vec<String>> = Default::default();
    for job in done {
        by_holder
            .entry(&job.locked_by)
            .or_default()
            .push(job.id.to_string());
    }
    for (holder, ids) in by_holder {
        let result = sqlx::query(&format!(
            "UPDATE jobs SET state = 'done', finished_at = $1, lease_until = NULL, last_error = NULL \
             WHERE locked_by = $2 AND state = 'running' AND id IN ({})",
            ids.join(",")
        ))
        .bind(now_ms())
        .bind(holder)
        .execute(&mut *conn)
        .await?;
        total += result.rows_affected();
    }
    Ok(total)
}

/// Extends the leases of every job a claim still holds.
pub async fn heartbeat(conn: &mut Conn, holder: &str, lease_ms: i64) -> anyhow::Result<u64> {
    let done =
        sqlx::query("UPDATE jobs SET lease_until = $1 WHERE locked_by = $2 AND state = 'running'")
            .bind(now_ms() + lease_ms)
            .bind(holder)
            .execute(conn)
            .await?;
    Ok(done.rows_affected())
}

/// Queues again every job whose worker stopped renewing its lease (crashed
/// or hung); one out of attempts goes dead instead.
pub async fn requeue_expired(conn: &mut Conn) -> anyhow::Result<u64> {
    let now = now_ms();
    let done = sqlx::query(
        "UPDATE jobs SET \
           state = CASE WHEN attempts >= max_attempts THEN 'dead' ELSE 'queued' END, \
           finished_at = CASE WHEN attempts >= max_attempts THEN $1 ELSE NULL END, \
           last_error = 'lease expired: the worker stopped before finishing', \
           run_at = $1, lease_until = NULL \
         WHERE state = 'running' AND lease_until < $1",
    )
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// Replays a dead job with a fresh set of attempts. With `ws`, only a job
/// of that workspace (the API); without, any job (the operator's CLI).
pub async fn retry_dead(conn: &mut Conn, id: i64, ws: Option<WorkspaceId>) -> anyhow::Result<bool> {
    let done = sqlx::query(
        "UPDATE jobs SET state = 'queued', attempts = 0, run_at = $2, finished_at = NULL, locked_by = NULL \
         WHERE id = $1 AND state = 'dead' AND ($3 IS NULL OR workspace_id = $3)",
    )
    .bind(id)
    .bind(now_ms())
    .bind(ws.map(|w| w.to_string()))
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn find(
    conn: &mut Conn,
    id: i64,
    ws: Option<WorkspaceId>,
) -> anyhow::Result<Option<JobRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM jobs WHERE id = $1 AND ($2 IS NULL OR workspace_id = $2)"
    ))
    .bind(id)
    .bind(ws.map(|w| w.to_string()))
    .fetch_optional(conn)
    .await?)
}

/// Newest first, optionally of one state; `before` is the previous page's
/// last id. `ws = None` lists every workspace's jobs (operators only).
pub async fn list(
    conn: &mut Conn,
    ws: Option<WorkspaceId>,
    state: Option<JobState>,
    before: Option<i64>,
    limit: i64,
) -> anyhow::Result<Vec<JobRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM jobs WHERE ($1 IS NULL OR workspace_id = $1) \
         AND ($2 IS NULL OR state = $2) AND ($3 IS NULL OR id < $3) ORDER BY id DESC LIMIT $4"
    ))
    .bind(ws.map(|w| w.to_string()))
    .bind(state.map(|s| s.as_str()))
    .bind(before)
    .bind(limit)
    .fetch_all(conn)
    .await?)
}

/// Job counts by (state, priority rank), for the queue-depth gauges.
pub async fn depth(conn: &mut Conn) -> anyhow::Result<Vec<(String, i64, i64)>> {
    Ok(sqlx::query_as(
        "SELECT state, priority, COUNT(*) FROM jobs WHERE state IN ('queued', 'running', 'dead') \
         GROUP BY state, priority",
    )
    .fetch_all(conn)
    .await?)
}

/// Forgets finished jobs older than `older_than_ms` (their idempotency
/// keys with them).
pub async fn prune_done(conn: &mut Conn, older_than_ms: i64) -> anyhow::Result<u64> {
    let done = sqlx::query("DELETE FROM jobs WHERE state = 'done' AND finished_at < $1")
        .bind(now_ms() - older_than_ms)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}
