//! Browser sessions for pages: the `SignedIn` extractor (which redirects to
//! sign-in when there is none) and starting and ending sessions.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use blazz_domain::{Role, UserId, WorkspaceId};
use blazz_store::users::User;
use blazz_store::workspaces::Workspace;
use blazz_store::{sessions, users, workspaces};

use crate::auth::caller::SESSION_COOKIE;
use crate::auth::secrets::random_string;
use crate::error::ApiError;
use crate::i18n::{Lang, Tr};
use crate::state::AppState;

/// A fully signed-in browser: the user, the session's secret, its CSRF
/// token, the workspaces the user belongs to (oldest first) and the one
/// the browser is working in.
pub struct SignedIn {
    pub user: User,
    pub secret: String,
    pub csrf: String,
    pub workspaces: Vec<(Workspace, Role)>,
    pub current: Option<(Workspace, Role)>,
    /// The member's language, or the browser's when they chose none.
    pub tr: Tr,
}

/// The browser's language (`Accept-Language`), for pages before sign-in.
pub struct BrowserTr(pub Tr);

impl<S: Send + Sync> FromRequestParts<S> for BrowserTr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(BrowserTr(browser_tr(parts)))
    }
}

fn browser_tr(parts: &Parts) -> Tr {
    let header = parts
        .headers
        .get(axum::http::header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    Tr::new(Lang::from_accept_language(header))
}

/// Why a page could not be shown to this browser.
pub enum NotSignedIn {
    Redirect(&'static str),
    Error(ApiError),
}

impl IntoResponse for NotSignedIn {
    fn into_response(self) -> Response {
        match self {
            NotSignedIn::Redirect(to) => Redirect::to(to).into_response(),
            NotSignedIn::Error(e) => e.into_response(),
        }
    }
}

impl From<anyhow::Error> for NotSignedIn {
    fn from(e: anyhow::Error) -> Self {
        NotSignedIn::Error(ApiError::Internal(e))
    }
}

impl From<sqlx::Error> for NotSignedIn {
    fn from(e: sqlx::Error) -> Self {
        NotSignedIn::Error(e.into())
    }
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = NotSignedIn;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, NotSignedIn> {
        let jar = CookieJar::from_headers(&parts.headers);
        let Some(secret) = jar.get(SESSION_COOKIE).map(|c| c.value().to_string()) else {
            return Err(NotSignedIn::Redirect("/login"));
        };
        let mut conn = state.db.pool.acquire().await?;
        let Some(session) = sessions::find(&mut conn, &secret).await? else {
            return Err(NotSignedIn::Redirect("/login"));
        };
        if session.second_factor_done_at.is_none() {
            return Err(NotSignedIn::Redirect("/login/2fa"));
        }
        let Some(user) = users::find(&mut conn, session.user_id).await? else {
            return Err(NotSignedIn::Redirect("/login"));
        };
        let mut all = Vec::new();
        for (ws, role) in workspaces::for_user(&mut conn, user.id).await? {
            all.push((ws, role.parse::<Role>().map_err(anyhow::Error::from)?));
        }
        let current = session
            .workspace_id
            .and_then(|id| all.iter().find(|(w, _)| w.id == id).cloned())
            .or_else(|| all.first().cloned());
        if let Some((ws, _)) = &current {
            if session.workspace_id != Some(ws.id) {
                let mut w = state.db.write().await?;
                sessions::set_workspace(&mut w, &secret, ws.id).await?;
            }
        }
        let tr = user
            .language
            .as_deref()
            .and_then(Lang::parse)
            .map(Tr::new)
            .unwrap_or_else(|| browser_tr(parts));
        Ok(SignedIn {
            tr,
            user,
            secret,
            csrf: session.csrf_token,
            workspaces: all,
            current,
        })
    }
}

/// Starts a session for `user`; returns the jar with its cookie.
pub async fn start(
    state: &AppState,
    jar: CookieJar,
    user: UserId,
    workspace: Option<WorkspaceId>,
    fully_signed_in: bool,
) -> Result<CookieJar, ApiError> {
    let secret = random_string(43);
    let csrf = random_string(43);
    let hours = state.config.http.session_hours;
    let workspace = match workspace {
        Some(ws) => Some(ws),
        None => {
            let mut conn = state.db.pool.acquire().await?;
            workspaces::for_user(&mut conn, user)
                .await?
                .first()
                .map(|(w, _)| w.id)
        }
    };
    let mut conn = state.db.write().await?;
    sessions::create(
        &mut conn,
        &secret,
        user,
        workspace,
        &csrf,
        fully_signed_in,
        hours * 3_600_000,
    )
    .await?;
    let cookie = Cookie::build((SESSION_COOKIE, secret))
        .path("/")
        .http_only(true)
        .secure(state.config.secure_cookies)
        .same_site(SameSite::Lax)
        .max_age(time_hours(hours))
        .build();
    Ok(jar.add(cookie))
}

fn time_hours(hours: i64) -> time::Duration {
    time::Duration::hours(hours)
}

pub async fn end(state: &AppState, jar: CookieJar) -> Result<CookieJar, ApiError> {
    if let Some(c) = jar.get(SESSION_COOKIE) {
        let mut conn = state.db.write().await?;
        sessions::delete(&mut conn, c.value()).await?;
    }
    Ok(jar.remove(Cookie::build(SESSION_COOKIE).path("/")))
}
