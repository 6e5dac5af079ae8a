//! The `Caller` extractor: every API request is made by an API token or a
//! signed-in browser, always on behalf of exactly one workspace.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, Method};
use axum_extra::extract::CookieJar;
use blazz_domain::{Role, TokenId, UserId, WorkspaceId};
use blazz_store::audit::Actor;
use blazz_store::{members, sessions, tokens, users};

use super::{csrf, secrets};
use crate::error::ApiError;
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "blazz_session";

#[derive(Debug, Clone)]
pub struct Caller {
    pub workspace_id: WorkspaceId,
    pub role: Role,
    pub actor: Actor,
    pub user_id: Option<UserId>,
    pub token_id: Option<TokenId>,
}

impl Caller {
    /// Refuses callers below `role`.
    pub fn require(&self, role: Role) -> Result<(), ApiError> {
        if self.role.at_least(role) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "this needs the {role} role; the caller is {}",
                self.role
            )))
        }
    }
}

/// The client's address as the socket saw it.
pub fn client_ip(parts: &Parts) -> String {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ci| ci.0.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(auth) = parts.headers.get(header::AUTHORIZATION) {
            let raw = auth.to_str().unwrap_or_default();
            // The scheme is case-insensitive (RFC 9110).
            let secret = match raw.split_once(' ') {
                Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
                _ => "",
            };
            return from_token(parts, state, secret).await;
        }
        let jar = CookieJar::from_headers(&parts.headers);
        if let Some(cookie) = jar.get(SESSION_COOKIE) {
            return from_session(parts, state, cookie.value()).await;
        }
        Err(ApiError::Unauthorized)
    }
}

async fn from_token(parts: &Parts, state: &AppState, secret: &str) -> Result<Caller, ApiError> {
    let ip = client_ip(parts);
    let found = if secrets::looks_like_api_token(secret) {
        let mut conn = state.db.pool.acquire().await?;
        tokens::authenticate(&mut conn, secret).await?
    } else {
        None
    };
    let Some(token) = found else {
        if let Err(wait) = state.limits.bad_token.check(&ip) {
            return Err(ApiError::RateLimited {
                retry_after_secs: wait.as_secs() + 1,
            });
        }
        return Err(ApiError::Unauthorized);
    };
    if let Err(wait) = state.limits.api.check(&token.id.to_string()) {
        return Err(ApiError::RateLimited {
            retry_after_secs: wait.as_secs() + 1,
        });
    }
    // Last use is recorded at most once a minute, off the writer otherwise.
    let stale = token
        .last_used_at
        .is_none_or(|t| t < blazz_store::now_ms() - 60_000);
    if stale {
        let mut conn = state.db.write().await?;
        tokens::touch(&mut conn, token.id).await?;
    }
    Ok(Caller {
        workspace_id: token.workspace_id,
        role: token.role,
        actor: Actor {
            kind: "token",
            id: Some(token.id.to_string()),
            name: token.name,
        },
        user_id: None,
        token_id: Some(token.id),
    })
}

async fn from_session(parts: &Parts, state: &AppState, secret: &str) -> Result<Caller, ApiError> {
    let mut conn = state.db.pool.acquire().await?;
    let Some(session) = sessions::find(&mut conn, secret).await? else {
        return Err(ApiError::Unauthorized);
    };
    if session.second_factor_done_at.is_none() {
        return Err(ApiError::Unauthorized);
    }
    let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
    if !safe {
        let given = parts
            .headers
            .get(csrf::HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if !csrf::matches(&session.csrf_token, given) {
            return Err(ApiError::forbidden(
                "missing or wrong X-CSRF-Token header for a signed-in browser request",
            ));
        }
    }
    let Some(ws) = session.workspace_id else {
        return Err(ApiError::forbidden("choose a workspace first"));
    };
    // The role is read fresh: a demotion or removal applies at once.
    let Some(member) = members::find(&mut conn, ws, session.user_id).await? else {
        return Err(ApiError::forbidden(
            "you are not a member of this workspace",
        ));
    };
    let name = match users::find(&mut conn, session.user_id).await? {
        Some(u) => u.name,
        None => return Err(ApiError::Unauthorized),
    };
    Ok(Caller {
        workspace_id: ws,
        role: member.role,
        actor: Actor {
            kind: "user",
            id: Some(session.user_id.to_string()),
            name,
        },
        user_id: Some(session.user_id),
        token_id: None,
    })
}
