//! The one error type of the HTTP API. Each variant is a case a client can
//! act on; everything else is `Internal`, logged once here and answered
//! without its details.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A resource that does not exist, or belongs to another workspace.
    #[error("{1}")]
    NotFound(&'static str, String),
    /// The request is well-formed but its content is wrong.
    #[error("{message}")]
    Invalid { code: &'static str, message: String },
    #[error("{1}")]
    Conflict(&'static str, String),
    #[error("authentication required")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    #[error("too many requests")]
    RateLimited { retry_after_secs: u64 },
    #[error("{message}")]
    RateLimitedWith {
        code: &'static str,
        message: String,
        retry_after_secs: u64,
    },
    /// Cannot be done right now (capacity, a provider that did not answer).
    #[error("{1}")]
    Unavailable(&'static str, String),
    #[error("request body too large")]
    PayloadTooLarge,
    #[error("{0}")]
    BadRequest(String),
    #[error("no such route")]
    RouteNotFound,
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    pub fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::Invalid {
            code,
            message: message.into(),
        }
    }

    pub fn not_found(code: &'static str, what: &str) -> Self {
        ApiError::NotFound(code, format!("{what} not found"))
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        ApiError::Forbidden(message.into())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::NotFound(..) | ApiError::RouteNotFound => StatusCode::NOT_FOUND,
            ApiError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Conflict(..) => StatusCode::CONFLICT,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::RateLimited { .. } | ApiError::RateLimitedWith { .. } => {
                StatusCode::TOO_MANY_REQUESTS
            }
            ApiError::Unavailable(..) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::NotFound(code, _) => code,
            ApiError::Invalid { code, .. } => code,
            ApiError::Conflict(code, _) => code,
            ApiError::Unauthorized => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::RateLimited { .. } => "rate_limited",
            ApiError::RateLimitedWith { code, .. } => code,
            ApiError::Unavailable(code, _) => code,
            ApiError::PayloadTooLarge => "payload_too_large",
            ApiError::BadRequest(_) => "bad_request",
            ApiError::RouteNotFound => "route_not_found",
            ApiError::MethodNotAllowed => "method_not_allowed",
            ApiError::Internal(_) => "internal",
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        ApiError::Internal(e.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = match &self {
            ApiError::Internal(err) => {
                tracing::error!(error = %format!("{err:#}"), "internal error");
                "internal error".to_string()
            }
            other => other.to_string(),
        };
        let body = json!({"error": {"code": self.code(), "message": message}});
        let mut response = (status, axum::Json(body)).into_response();
        if let ApiError::Unauthorized = self {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"blazz\""),
            );
        }
        if let ApiError::RateLimited { retry_after_secs }
        | ApiError::RateLimitedWith {
            retry_after_secs, ..
        } = self
        {
            if let Ok(v) = HeaderValue::from_str(&retry_after_secs.max(1).to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
