//! Prometheus metrics: HTTP request counts and latencies by route and
//! status, queue depth, unpublished outbox events, open file descriptors.
//! One registry per app (so tests can run several apps in one process).

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};

use crate::state::AppState;

#[derive(Clone)]
pub struct Metrics {
    pub registry: Registry,
    pub http_requests: IntCounterVec,
    pub http_duration: HistogramVec,
    pub jobs_depth: IntGaugeVec,
    pub jobs_finished: IntCounterVec,
    pub outbox_unpublished: IntGauge,
    pub open_fds: IntGauge,
    pub sessions: IntGaugeVec,
    pub session_reconnects: IntCounterVec,
    pub link_attempts: IntCounterVec,
    pub realtime_connections: IntGauge,
    pub realtime_messages: IntCounter,
}

impl Metrics {
    pub fn new() -> anyhow::Result<Self> {
        let registry = Registry::new_custom(Some("blazz".into()), None)?;
        let http_requests = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests by route and status"),
            &["method", "route", "status"],
        )?;
        let http_duration = HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "HTTP request latency").buckets(
                vec![
                    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                ],
            ),
            &["method", "route"],
        )?;
        let jobs_depth = IntGaugeVec::new(
            Opts::new("jobs", "Jobs in the queue by state and priority"),
            &["state", "priority"],
        )?;
        let jobs_finished = IntCounterVec::new(
            Opts::new(
                "jobs_finished_total",
                "Jobs run by this process, by name and outcome",
            ),
            &["name", "outcome"],
        )?;
        let outbox_unpublished =
            IntGauge::new("outbox_unpublished", "Committed events not yet published")?;
        let open_fds = IntGauge::new("process_open_fds_current", "Open file descriptors")?;
        let sessions = IntGaugeVec::new(
            Opts::new(
                "sessions",
                "Live sessions of this process by provider and state",
            ),
            &["provider", "state"],
        )?;
        let session_reconnects = IntCounterVec::new(
            Opts::new(
                "session_reconnects_total",
                "Reconnects of sessions by provider",
            ),
            &["provider"],
        )?;
        let link_attempts = IntCounterVec::new(
            Opts::new("link_attempts_total", "Link attempts started, by provider"),
            &["provider"],
        )?;
        let realtime_connections = IntGauge::new(
            "realtime_connections",
            "Realtime sockets open in this process",
        )?;
        let realtime_messages = IntCounter::new(
            "realtime_messages_sent_total",
            "Frames queued to realtime sockets by broadcasts",
        )?;
        registry.register(Box::new(realtime_connections.clone()))?;
        registry.register(Box::new(realtime_messages.clone()))?;
        registry.register(Box::new(sessions.clone()))?;
        registry.register(Box::new(session_reconnects.clone()))?;
        registry.register(Box::new(link_attempts.clone()))?;
        registry.register(Box::new(http_requests.clone()))?;
        registry.register(Box::new(http_duration.clone()))?;
        registry.register(Box::new(jobs_depth.clone()))?;
        registry.register(Box::new(jobs_finished.clone()))?;
        registry.register(Box::new(outbox_unpublished.clone()))?;
        registry.register(Box::new(open_fds.clone()))?;
        Ok(Self {
            registry,
            http_requests,
            http_duration,
            jobs_depth,
            jobs_finished,
            outbox_unpublished,
            open_fds,
            sessions,
            session_reconnects,
            link_attempts,
            realtime_connections,
            realtime_messages,
        })
    }

    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut buf);
        String::from_utf8(buf).unwrap_or_default()
    }
}

/// Counts and times every request by its route pattern (not its path, so
/// ids do not explode the label set).
pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let response = next.run(req).await;
    let status = response.status().as_u16().to_string();
    state
        .metrics
        .http_requests
        .with_label_values(&[&method, &route, &status])
        .inc();
    state
        .metrics
        .http_duration
        .with_label_values(&[&method, &route])
        .observe(started.elapsed().as_secs_f64());
    response
}

/// Open file descriptors of this process (Linux), -1 where unknown.
pub fn open_fds() -> i64 {
    std::fs::read_dir("/proc/self/fd")
        .map(|d| d.count() as i64)
        .unwrap_or(-1)
}
