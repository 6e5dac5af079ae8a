//! The HTTP surface: JSON API, web pages, health and metrics.

pub mod api;
pub mod extract;
pub mod health;
pub mod realtime;
pub mod web;
pub mod webhooks_meta;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::{middleware, Router};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;

use crate::error::ApiError;
use crate::state::AppState;

pub fn router(state: AppState) -> Router {
    let (api, openapi) = utoipa_axum::router::OpenApiRouter::with_openapi(
        <api::ApiDoc as utoipa::OpenApi>::openapi(),
    )
    .nest("/api/v1", api::router())
    .split_for_parts();
    let openapi_json = openapi.to_pretty_json().unwrap_or_default();
    let api = api
        .route(
            "/api/v1/openapi.json",
            get(
                move || async move { ([(header::CONTENT_TYPE, "application/json")], openapi_json) },
            ),
        )
        .route("/api/v1", any(|| async { ApiError::RouteNotFound }))
        .route("/api/v1/", any(|| async { ApiError::RouteNotFound }))
        .route("/api/v1/{*rest}", any(|| async { ApiError::RouteNotFound }))
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed });

    Router::new()
        .merge(api)
        .merge(web::router().layer(web::security_headers()))
        .merge(health::router())
        .merge(realtime::router())
        .merge(webhooks_meta::router())
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::metrics::track,
        ))
        .layer(DefaultBodyLimit::max(state.config.http.body_limit_bytes))
        .layer(CatchPanicLayer::custom(on_panic))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

fn on_panic(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    let mut r = ApiError::Internal(anyhow::anyhow!("handler panicked")).into_response();
    *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    r
}
