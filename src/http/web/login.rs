//! Signing in and out, with the second step for members who turned on
//! two-factor sign-in (an authenticator code or a recovery code).

use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use axum_extra::extract::CookieJar;
use blazz_domain::Email;
use blazz_store::{sessions, users};
use maud::html;
use serde::Deserialize;
use std::net::SocketAddr;

use super::layout::{csrf_field, error_box, page};
use super::session::{self, BrowserTr};
use crate::auth::caller::SESSION_COOKIE;
use crate::auth::{csrf, password, secrets, totp};
use crate::error::ApiError;
use crate::i18n::Tr;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

fn login_page(tr: Tr, token: &str, email: &str, error: Option<&str>, signup: bool) -> maud::Markup {
    page(
        tr,
        tr.t("auth.sign_in"),
        None,
        html! {
            div class="card" {
                h1 { (tr.t("auth.sign_in")) }
                (error_box(error))
                form method="post" action="/login" {
                    (csrf_field(token))
                    label for="email" { (tr.t("auth.email")) }
                    input id="email" name="email" type="email" required autocomplete="username" value=(email);
                    label for="password" { (tr.t("auth.password")) }
                    input id="password" name="password" type="password" required autocomplete="current-password";
                    button type="submit" { (tr.t("auth.sign_in")) }
                }
                @if signup { p { (tr.t("auth.new_here")) " " a href="/signup" { (tr.t("auth.create_account")) } } }
            }
        },
    )
}

pub async fn show(
    State(state): State<AppState>,
    BrowserTr(tr): BrowserTr,
    jar: CookieJar,
) -> Result<Response, ApiError> {
    {
        let mut conn = state.db.pool.acquire().await?;
        if users::count(&mut conn).await? == 0 {
            return Ok(Redirect::to("/setup").into_response());
        }
    }
    let (jar, token) = csrf::anonymous_token(jar, state.config.secure_cookies);
    Ok((
        jar,
        login_page(tr, &token, "", None, state.config.signup_open),
    )
        .into_response())
}

pub(super) fn limited(state: &AppState, keys: &[String]) -> Option<ApiError> {
    keys.iter().find_map(|k| {
        state
            .limits
            .login
            .check(k)
            .err()
            .map(|wait| ApiError::RateLimited {
                retry_after_secs: wait.as_secs() + 1,
            })
    })
}

pub async fn submit(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    BrowserTr(tr): BrowserTr,
    jar: CookieJar,
    Form(f): Form<LoginForm>,
) -> Result<Response, ApiError> {
    if !csrf::check_anonymous(&jar, &f.csrf) {
        return Err(ApiError::forbidden(
            "the form expired; reload the page and try again",
        ));
    }
    let email = Email::parse(&f.email).ok();
    let email_key = format!(
        "login-email:{}",
        email.as_ref().map(|e| e.as_str()).unwrap_or("")
    );
    if let Some(e) = limited(&state, &[format!("login-ip:{}", addr.ip()), email_key]) {
        return Err(e);
    }
    let user = match &email {
        Some(email) => {
            let mut conn = state.db.pool.acquire().await?;
            users::find_by_email(&mut conn, email).await?
        }
        None => None,
    };
    let hash = user
        .as_ref()
        .map(|u| u.password_hash.as_str())
        .unwrap_or(password::decoy());
    let ok = password::verify(&f.password, hash);
    let Some(user) = user.filter(|_| ok) else {
        let body = login_page(
            tr,
            &f.csrf,
            &f.email,
            Some(tr.t("auth.wrong_password")),
            state.config.signup_open,
        );
        return Ok((StatusCode::UNAUTHORIZED, body).into_response());
    };
    let jar = session::start(&state, jar, user.id, None, !user.totp_enabled()).await?;
    let next = if user.totp_enabled() {
        "/login/2fa"
    } else {
        "/"
    };
    Ok((jar, Redirect::to(next)).into_response())
}

#[derive(Deserialize)]
pub struct SecondForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: String,
}

fn second_page(tr: Tr, token: &str, error: Option<&str>) -> maud::Markup {
    page(
        tr,
        tr.t("auth.two_factor"),
        None,
        html! {
            div class="card" {
                h1 { (tr.t("auth.two_factor")) }
                p class="muted" { (tr.t("auth.two_factor_intro")) }
                (error_box(error))
                form method="post" action="/login/2fa" {
                    (csrf_field(token))
                    label for="code" { (tr.t("auth.code")) }
                    input id="code" name="code" required autocomplete="one-time-code" inputmode="text";
                    button type="submit" { (tr.t("auth.continue")) }
                }
            }
        },
    )
}

/// The half-signed-in session behind this browser, if any.
async fn pending(
    state: &AppState,
    jar: &CookieJar,
) -> Result<Option<(String, sessions::WebSession)>, ApiError> {
    let Some(secret) = jar.get(SESSION_COOKIE).map(|c| c.value().to_string()) else {
        return Ok(None);
    };
    let mut conn = state.db.pool.acquire().await?;
    Ok(sessions::find(&mut conn, &secret)
        .await?
        .map(|s| (secret, s)))
}

pub async fn show_second(
    State(state): State<AppState>,
    BrowserTr(tr): BrowserTr,
    jar: CookieJar,
) -> Result<Response, ApiError> {
    match pending(&state, &jar).await? {
        None => Ok(Redirect::to("/login").into_response()),
        Some((_, s)) if s.second_factor_done_at.is_some() => Ok(Redirect::to("/").into_response()),
        Some((_, s)) => Ok(second_page(tr, &s.csrf_token, None).into_response()),
    }
}

pub async fn submit_second(
    State(state): State<AppState>,
    BrowserTr(tr): BrowserTr,
    jar: CookieJar,
    Form(f): Form<SecondForm>,
) -> Result<Response, ApiError> {
    let Some((secret, session)) = pending(&state, &jar).await? else {
        return Ok(Redirect::to("/login").into_response());
    };
    if !csrf::matches(&session.csrf_token, &f.csrf) {
        return Err(ApiError::forbidden(
            "the form expired; reload the page and try again",
        ));
    }
    if let Some(e) = limited(&state, &[format!("2fa:{}", session.user_id)]) {
        return Err(e);
    }
    let mut conn = state.db.write().await?;
    let Some(user) = users::find(&mut conn, session.user_id).await? else {
        return Ok(Redirect::to("/login").into_response());
    };
    let step = user
        .totp_secret
        .as_deref()
        .and_then(|s| totp::matched_step(s, &f.code, totp::now_secs()));
    let by_app = match step {
        Some(step) => users::use_totp_step(&mut conn, user.id, step as i64).await?,
        None => false,
    };
    let ok = by_app || {
        let typed = secrets::normalise_recovery_code(&f.code);
        users::use_recovery_code(&mut conn, user.id, &blazz_store::secret_hash(&typed)).await?
    };
    if !ok {
        return Ok((
            StatusCode::UNAUTHORIZED,
            second_page(tr, &session.csrf_token, Some(tr.t("auth.wrong_code"))),
        )
            .into_response());
    }
    sessions::complete_second_factor(&mut conn, &secret).await?;
    Ok(Redirect::to("/").into_response())
}

#[derive(Deserialize)]
pub struct LogoutForm {
    #[serde(default)]
    csrf: String,
}

pub async fn logout(
    State(state): State<AppState>,
    jar: CookieJar,
    Form(f): Form<LogoutForm>,
) -> Result<Response, ApiError> {
    if let Some((_, session)) = pending(&state, &jar).await? {
        if !csrf::matches(&session.csrf_token, &f.csrf) {
            return Err(ApiError::forbidden(
                "the form expired; reload the page and try again",
            ));
        }
    }
    let jar = session::end(&state, jar).await?;
    Ok((jar, Redirect::to("/login")).into_response())
}
