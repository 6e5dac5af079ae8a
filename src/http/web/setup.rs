//! First-run setup (the first visit creates the owner and workspace) and,
//! when the operator opens it, self-service sign-up.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use axum_extra::extract::CookieJar;
use blazz_store::users;
use maud::html;
use serde::Deserialize;

use super::layout::{csrf_field, error_box, error_text, page};
use super::session::{self, BrowserTr};
use crate::auth::csrf;
use crate::error::ApiError;
use crate::i18n::Tr;
use crate::services::accounts::{self, NewAccount};
use crate::state::AppState;

#[derive(Deserialize)]
pub struct AccountForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    workspace: String,
}

fn form(
    tr: Tr,
    action: &str,
    title: &str,
    intro: &str,
    token: &str,
    f: Option<&AccountForm>,
    error: Option<&str>,
) -> maud::Markup {
    let v = |get: fn(&AccountForm) -> &str| f.map(get).unwrap_or_default().to_string();
    page(
        tr,
        title,
        None,
        html! {
            div class="card" {
                h1 { (title) }
                p class="muted" { (intro) }
                (error_box(error))
                form method="post" action=(action) {
                    (csrf_field(token))
                    label for="name" { (tr.t("auth.your_name")) }
                    input id="name" name="name" required autocomplete="name" value=(v(|f| &f.name));
                    label for="email" { (tr.t("auth.email")) }
                    input id="email" name="email" type="email" required autocomplete="email" value=(v(|f| &f.email));
                    label for="password" { (tr.t("auth.new_password")) }
                    input id="password" name="password" type="password" required minlength="10" autocomplete="new-password";
                    label for="workspace" { (tr.t("auth.workspace_name")) }
                    input id="workspace" name="workspace" required placeholder=(tr.t("auth.workspace_placeholder")) value=(v(|f| &f.workspace));
                    button type="submit" { (tr.t("auth.create_button")) }
                }
            }
        },
    )
}

async fn is_fresh(state: &AppState) -> Result<bool, ApiError> {
    let mut conn = state.db.pool.acquire().await?;
    Ok(users::count(&mut conn).await? == 0)
}

pub async fn show(
    State(state): State<AppState>,
    BrowserTr(tr): BrowserTr,
    jar: CookieJar,
) -> Result<Response, ApiError> {
    if !is_fresh(&state).await? {
        return Ok(Redirect::to("/login").into_response());
    }
    let (jar, token) = csrf::anonymous_token(jar, state.config.secure_cookies);
    let body = form(
        tr,
        "/setup",
        tr.t("auth.welcome"),
        tr.t("auth.welcome_intro"),
        &token,
        None,
        None,
    );
    Ok((jar, body).into_response())
}

pub async fn submit(
    State(state): State<AppState>,
    BrowserTr(tr): BrowserTr,
    jar: CookieJar,
    Form(f): Form<AccountForm>,
) -> Result<Response, ApiError> {
    create(state, tr, jar, f, true, "/setup", tr.t("auth.welcome")).await
}

pub async fn show_signup(
    State(state): State<AppState>,
    BrowserTr(tr): BrowserTr,
    jar: CookieJar,
) -> Result<Response, ApiError> {
    if !state.config.signup_open {
        return Err(ApiError::NotFound(
            "signup_closed",
            "sign-up is closed; ask for an invitation".into(),
        ));
    }
    let (jar, token) = csrf::anonymous_token(jar, state.config.secure_cookies);
    let body = form(
        tr,
        "/signup",
        tr.t("auth.create_account"),
        tr.t("auth.signup_intro"),
        &token,
        None,
        None,
    );
    Ok((jar, body).into_response())
}

pub async fn submit_signup(
    State(state): State<AppState>,
    BrowserTr(tr): BrowserTr,
    jar: CookieJar,
    Form(f): Form<AccountForm>,
) -> Result<Response, ApiError> {
    if !state.config.signup_open {
        return Err(ApiError::NotFound(
            "signup_closed",
            "sign-up is closed; ask for an invitation".into(),
        ));
    }
    create(
        state,
        tr,
        jar,
        f,
        false,
        "/signup",
        tr.t("auth.create_account"),
    )
    .await
}

async fn create(
    state: AppState,
    tr: Tr,
    jar: CookieJar,
    f: AccountForm,
    first: bool,
    action: &str,
    title: &str,
) -> Result<Response, ApiError> {
    if !csrf::check_anonymous(&jar, &f.csrf) {
        return Err(ApiError::forbidden(
            "the form expired; reload the page and try again",
        ));
    }
    let new = NewAccount {
        email: &f.email,
        name: &f.name,
        password: &f.password,
        workspace_name: &f.workspace,
    };
    match accounts::create(&state.db, new, first).await {
        Ok((user, ws)) => {
            state.committed();
            let jar = session::start(&state, jar, user.id, Some(ws.id), true).await?;
            Ok((jar, Redirect::to("/")).into_response())
        }
        Err(e @ (ApiError::Invalid { .. } | ApiError::Conflict(..))) => {
            let token = jar
                .get(csrf::COOKIE)
                .map(|c| c.value().to_string())
                .unwrap_or_default();
            let body = form(
                tr,
                action,
                title,
                tr.t("auth.correct_form"),
                &token,
                Some(&f),
                Some(&error_text(tr, &e)),
            );
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, body).into_response())
        }
        Err(e) => Err(e),
    }
}
