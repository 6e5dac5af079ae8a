//! Security settings: turning two-factor sign-in (TOTP) on and off.
//! Recovery codes are shown once, when it is turned on.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use blazz_store::{secret_hash, sessions, users};
use maud::{html, Markup};
use serde::Deserialize;

use super::home::nav;
use super::layout::{csrf_field, error_box, page, qr_svg};
use super::SignedIn;
use crate::auth::{csrf, password, secrets, totp};
use crate::error::ApiError;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    password: String,
}

fn view(s: &SignedIn, content: Markup) -> Markup {
    page(
        crate::i18n::Tr::default(),
        "Security",
        Some(nav(s)),
        html! {
            div class="card" { h1 { "Two-factor sign-in" } (content) }
        },
    )
}

fn setup_form(s: &SignedIn, secret: &str, error: Option<&str>) -> Markup {
    view(
        s,
        html! {
            p { "Scan this code with an authenticator app, then type the six-digit code it shows." }
            div aria-label="QR code for your authenticator app" role="img" { (qr_svg(&totp::uri(secret, &s.user.email))) }
            p class="muted" { "Or type this key: " span class="secret" { (secret) } }
            (error_box(error))
            form method="post" action="/settings/security/totp/confirm" {
                (csrf_field(&s.csrf))
                label for="code" { "Code from the app" }
                input id="code" name="code" required autocomplete="one-time-code" inputmode="numeric";
                button type="submit" { "Turn on" }
            }
        },
    )
}

pub async fn show(State(state): State<AppState>, s: SignedIn) -> Result<Response, ApiError> {
    let content = if s.user.totp_enabled() {
        let mut conn = state.db.pool.acquire().await?;
        let left = users::unused_recovery_codes(&mut conn, s.user.id).await?;
        html! {
            p { "Two-factor sign-in is " strong { "on" } ". " (left) " recovery codes left." }
            form method="post" action="/settings/security/totp/disable" {
                (csrf_field(&s.csrf))
                label for="password" { "Your password, to turn it off" }
                input id="password" name="password" type="password" required autocomplete="current-password";
                button type="submit" { "Turn off" }
            }
        }
    } else {
        html! {
            p { "Two-factor sign-in is off. With it on, signing in also asks for a code from an authenticator app." }
            form method="post" action="/settings/security/totp" {
                (csrf_field(&s.csrf))
                button type="submit" { "Set up two-factor sign-in" }
            }
        }
    };
    Ok(view(&s, content).into_response())
}

fn check(s: &SignedIn, token: &str) -> Result<(), ApiError> {
    if csrf::matches(&s.csrf, token) {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "the form expired; reload the page and try again",
        ))
    }
}

pub async fn start(
    State(state): State<AppState>,
    s: SignedIn,
    Form(f): Form<CodeForm>,
) -> Result<Response, ApiError> {
    check(&s, &f.csrf)?;
    if s.user.totp_enabled() {
        return Ok(Redirect::to("/settings/security").into_response());
    }
    let secret = totp::new_secret();
    let mut conn = state.db.write().await?;
    users::set_pending_totp(&mut conn, s.user.id, &secret).await?;
    Ok(setup_form(&s, &secret, None).into_response())
}

pub async fn confirm(
    State(state): State<AppState>,
    s: SignedIn,
    Form(f): Form<CodeForm>,
) -> Result<Response, ApiError> {
    check(&s, &f.csrf)?;
    let Some(secret) = s
        .user
        .totp_secret
        .clone()
        .filter(|_| !s.user.totp_enabled())
    else {
        return Ok(Redirect::to("/settings/security").into_response());
    };
    let Some(step) = totp::matched_step(&secret, &f.code, totp::now_secs()) else {
        let page = setup_form(
            &s,
            &secret,
            Some("That code is not right; check the app's clock and try again."),
        );
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    };
    let codes: Vec<String> = (0..10).map(|_| secrets::recovery_code()).collect();
    let hashes: Vec<String> = codes
        .iter()
        .map(|c| secret_hash(&secrets::normalise_recovery_code(c)))
        .collect();
    let mut tx = state.db.begin().await?;
    users::enable_totp(&mut tx, s.user.id, &hashes).await?;
    users::use_totp_step(&mut tx, s.user.id, step as i64).await?;
    // Other browsers signed in without the second factor: sign them out.
    sessions::delete_others(&mut tx, s.user.id, &s.secret).await?;
    tx.commit().await?;
    Ok(view(&s, html! {
        p { "Two-factor sign-in is " strong { "on" } "." }
        p { strong { "Recovery codes" } ": keep them somewhere safe. Each works once, if you lose your phone. They are shown only now." }
        ul class="codes" data-testid="recovery-codes" { @for c in &codes { li { (c) } } }
        p { a href="/" { "Done" } }
    })
    .into_response())
}

pub async fn disable(
    State(state): State<AppState>,
    s: SignedIn,
    Form(f): Form<CodeForm>,
) -> Result<Response, ApiError> {
    check(&s, &f.csrf)?;
    if !password::verify(&f.password, &s.user.password_hash) {
        let body = view(
            &s,
            html! { (error_box(Some("The password is not right."))) p { a href="/settings/security" { "Back" } } },
        );
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, body).into_response());
    }
    let mut conn = state.db.write().await?;
    users::disable_totp(&mut conn, s.user.id).await?;
    Ok(Redirect::to("/settings/security").into_response())
}
