//! Security settings: turning two-factor sign-in (TOTP) on and off.
//! Recovery codes are shown once, when it is turned on.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use blazz_store::{secret_hash, sessions, users};
use maud::{html, Markup};
use serde::Deserialize;

use super::{csrf_ok, form_expired, shell, Section};
use crate::auth::{password, secrets, totp};
use crate::error::ApiError;
use crate::http::web::layout::{csrf_field, error_box, qr_svg};
use crate::http::web::SignedIn;
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
    shell(
        s,
        Section::Security,
        html! {
            div class="card" { h1 { (s.tr.t("settings.security.title")) } (content) }
        },
    )
}

/// "Two-factor sign-in is on."
fn is_on(s: &SignedIn) -> Markup {
    html! { (s.tr.t("settings.security.is")) " " strong { (s.tr.t("settings.security.on")) } "." }
}

fn setup_form(s: &SignedIn, secret: &str, error: Option<&str>) -> Markup {
    let tr = s.tr;
    view(
        s,
        html! {
            p { (tr.t("settings.security.scan")) }
            div aria-label=(tr.t("settings.security.qr_label")) role="img" { (qr_svg(&totp::uri(secret, &s.user.email))) }
            p class="muted" { (tr.t("settings.security.or_type")) " " span class="secret" { (secret) } }
            (error_box(error))
            form method="post" action="/settings/security/totp/confirm" {
                (csrf_field(&s.csrf))
                label for="code" { (tr.t("settings.security.code")) }
                input id="code" name="code" required autocomplete="one-time-code" inputmode="numeric";
                button type="submit" { (tr.t("settings.security.turn_on")) }
            }
        },
    )
}

pub async fn show(State(state): State<AppState>, s: SignedIn) -> Result<Response, ApiError> {
    let tr = s.tr;
    let content = if s.user.totp_enabled() {
        let mut conn = state.db.pool.acquire().await?;
        let left = users::unused_recovery_codes(&mut conn, s.user.id).await?;
        html! {
            p { (is_on(&s)) " " (tr.n("settings.security.codes_left", left, &[])) }
            form method="post" action="/settings/security/totp/disable" {
                (csrf_field(&s.csrf))
                label for="password" { (tr.t("settings.security.password_to_turn_off")) }
                input id="password" name="password" type="password" required autocomplete="current-password";
                button type="submit" class="danger" { (tr.t("settings.security.turn_off")) }
            }
        }
    } else {
        html! {
            p { (tr.t("settings.security.off")) }
            form method="post" action="/settings/security/totp" {
                (csrf_field(&s.csrf))
                button type="submit" { (tr.t("settings.security.set_up")) }
            }
        }
    };
    Ok(view(&s, content).into_response())
}

pub async fn start(
    State(state): State<AppState>,
    s: SignedIn,
    Form(f): Form<CodeForm>,
) -> Result<Response, ApiError> {
    if !csrf_ok(&s, &f.csrf) {
        return Ok(form_expired(&s));
    }
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
    if !csrf_ok(&s, &f.csrf) {
        return Ok(form_expired(&s));
    }
    let Some(secret) = s
        .user
        .totp_secret
        .clone()
        .filter(|_| !s.user.totp_enabled())
    else {
        return Ok(Redirect::to("/settings/security").into_response());
    };
    let Some(step) = totp::matched_step(&secret, &f.code, totp::now_secs()) else {
        let page = setup_form(&s, &secret, Some(s.tr.t("settings.security.wrong_code")));
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
    let tr = s.tr;
    Ok(view(
        &s,
        html! {
            p { (is_on(&s)) }
            p { strong { (tr.t("settings.security.recovery_title")) } ": " (tr.t("settings.security.recovery_body")) }
            ul class="codes" data-testid="recovery-codes" { @for c in &codes { li { (c) } } }
            p { a href="/settings" { (tr.t("settings.done")) } }
        },
    )
    .into_response())
}

pub async fn disable(
    State(state): State<AppState>,
    s: SignedIn,
    Form(f): Form<CodeForm>,
) -> Result<Response, ApiError> {
    if !csrf_ok(&s, &f.csrf) {
        return Ok(form_expired(&s));
    }
    if !password::verify(&f.password, &s.user.password_hash) {
        let body = view(
            &s,
            html! {
                (error_box(Some(s.tr.t("settings.security.wrong_password"))))
                p { a href="/settings/security" { (s.tr.t("common.back")) } }
            },
        );
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, body).into_response());
    }
    let mut conn = state.db.write().await?;
    users::disable_totp(&mut conn, s.user.id).await?;
    Ok(Redirect::to("/settings/security").into_response())
}
