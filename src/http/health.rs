//! `/healthz` (the process answers), `/readyz` (the database answers and
//! its schema is current) and `/metrics` (Prometheus text format).

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use blazz_domain::Priority;
use serde_json::json;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/healthz",
            get(|| async { axum::Json(json!({"status": "ok"})) }),
        )
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}

async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    let db = state.db.ping().await;
    let migrated = state.db.migrations_done().await;
    match (db, migrated) {
        (Ok(()), Ok(true)) => (StatusCode::OK, axum::Json(json!({"status": "ready"}))),
        (Ok(()), _) => (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(
                json!({"status": "not_ready", "reason": "database migrations are not complete"}),
            ),
        ),
        (Err(e), _) => {
            tracing::warn!(error = %format!("{e:#}"), "readiness check: database unreachable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(json!({"status": "not_ready", "reason": "database unreachable"})),
            )
        }
    }
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let m = &state.metrics;
    m.open_fds.set(crate::metrics::open_fds());
    m.sessions.reset();
    for ((provider, st), n) in state.sessions.census() {
        m.sessions
            .with_label_values(&[provider.as_str(), st.as_str()])
            .set(n);
    }
    if let Ok(mut conn) = state.db.pool.acquire().await {
        if let Ok(rows) = blazz_store::jobs::depth(&mut conn).await {
            m.jobs_depth.reset();
            for (st, rank, n) in rows {
                let p = Priority::from_rank(rank)
                    .map(|p| p.as_str())
                    .unwrap_or("unknown");
                m.jobs_depth.with_label_values(&[&st, p]).set(n);
            }
        }
        let unpublished: Result<(i64,), _> =
            sqlx::query_as("SELECT COUNT(*) FROM outbox WHERE published_at IS NULL")
                .fetch_one(&mut *conn)
                .await;
        if let Ok((n,)) = unpublished {
            m.outbox_unpublished.set(n);
        }
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        m.render(),
    )
}
