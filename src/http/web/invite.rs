//! Accepting an invitation from its one-time link.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use axum_extra::extract::CookieJar;
use blazz_domain::Email;
use blazz_store::invitations::Invitation;
use blazz_store::{users, workspaces};
use maud::html;
use serde::Deserialize;

use super::layout::{csrf_field, error_box, error_text, page, role_label};
use super::session::{self, BrowserTr};
use crate::auth::csrf;
use crate::error::ApiError;
use crate::i18n::Tr;
use crate::services::invitations::{self, Acceptor};
use crate::state::AppState;

#[derive(Deserialize)]
pub struct AcceptForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
}

async fn render(
    state: &AppState,
    tr: Tr,
    secret: &str,
    inv: &Invitation,
    token: &str,
    error: Option<&str>,
) -> Result<maud::Markup, ApiError> {
    let mut conn = state.db.pool.acquire().await?;
    let ws_name = workspaces::find(&mut conn, inv.workspace_id)
        .await?
        .map(|w| w.name)
        .unwrap_or_default();
    let email = Email::parse(&inv.email).map_err(|e| ApiError::Internal(e.into()))?;
    let has_account = users::find_by_email(&mut conn, &email).await?.is_some();
    let role = role_label(tr, inv.role);
    Ok(page(
        tr,
        tr.t("invite.title"),
        None,
        html! {
            div class="card" {
                h1 { (tr.f("invite.join_workspace", &[("workspace", &ws_name)])) }
                p { (tr.f("invite.invited_as", &[("role", &role), ("email", &inv.email)])) }
                (error_box(error))
                form method="post" action=(format!("/invite/{secret}")) {
                    (csrf_field(token))
                    @if has_account {
                        p class="muted" { (tr.t("invite.has_account")) }
                    } @else {
                        label for="name" { (tr.t("auth.your_name")) }
                        input id="name" name="name" required autocomplete="name";
                    }
                    label for="password" { @if has_account { (tr.t("auth.password")) } @else { (tr.t("auth.new_password")) } }
                    input id="password" name="password" type="password" required
                        autocomplete=(if has_account { "current-password" } else { "new-password" });
                    button type="submit" { (tr.t("invite.join")) }
                }
            }
        },
    ))
}

pub async fn show(
    State(state): State<AppState>,
    Path(secret): Path<String>,
    BrowserTr(tr): BrowserTr,
    jar: CookieJar,
) -> Result<Response, ApiError> {
    let inv = invitations::pending(&state, &secret).await?;
    let (jar, token) = csrf::anonymous_token(jar, state.config.secure_cookies);
    Ok((jar, render(&state, tr, &secret, &inv, &token, None).await?).into_response())
}

pub async fn submit(
    State(state): State<AppState>,
    Path(secret): Path<String>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    BrowserTr(tr): BrowserTr,
    jar: CookieJar,
    Form(f): Form<AcceptForm>,
) -> Result<Response, ApiError> {
    if !csrf::check_anonymous(&jar, &f.csrf) {
        return Err(ApiError::forbidden(
            "the form expired; reload the page and try again",
        ));
    }
    let inv = invitations::pending(&state, &secret).await?;
    let email = Email::parse(&inv.email).map_err(|e| ApiError::Internal(e.into()))?;
    let existing = {
        let mut conn = state.db.pool.acquire().await?;
        users::find_by_email(&mut conn, &email).await?
    };
    if existing.is_some() {
        // Confirming with an existing account's password is a sign-in:
        // the same limits apply, or an invitation would sidestep them.
        let keys = [
            format!("login-ip:{}", addr.ip()),
            format!("login-email:{email}"),
        ];
        if let Some(e) = super::login::limited(&state, &keys) {
            return Err(e);
        }
    }
    let who = match existing {
        Some(_) => Acceptor::ExistingUser {
            password: &f.password,
        },
        None => Acceptor::NewUser {
            name: &f.name,
            password: &f.password,
        },
    };
    match invitations::accept(&state, &secret, who).await {
        Ok(user) => {
            let jar = session::start(
                &state,
                jar,
                user.id,
                Some(inv.workspace_id),
                !user.totp_enabled(),
            )
            .await?;
            let next = if user.totp_enabled() {
                "/login/2fa"
            } else {
                "/"
            };
            Ok((jar, Redirect::to(next)).into_response())
        }
        Err(e @ (ApiError::Invalid { .. } | ApiError::Conflict(..))) => {
            let body = render(
                &state,
                tr,
                &secret,
                &inv,
                &f.csrf,
                Some(&error_text(tr, &e)),
            )
            .await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, body).into_response())
        }
        Err(e) => Err(e),
    }
}
