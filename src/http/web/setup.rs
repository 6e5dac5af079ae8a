//! First-run setup (the first visit creates the owner and workspace) and,
//! when the operator opens it, self-service sign-up.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use axum_extra::extract::CookieJar;
use blazz_store::users;
use maud::html;
use serde::Deserialize;

use super::layout::{csrf_field, error_box, page};
use super::session;
use crate::auth::csrf;
use crate::error::ApiError;
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
    action: &str,
    title: &str,
    intro: &str,
    token: &str,
    f: Option<&AccountForm>,
    error: Option<&str>,
) -> maud::Markup {
    let v = |get: fn(&AccountForm) -> &str| f.map(get).unwrap_or_default().to_string();
    page(
        crate::i18n::Tr::default(),
        title,
        None,
        html! {
            div class="card" {
                h1 { (title) }
                p class="muted" { (intro) }
                (error_box(error))
                form method="post" action=(action) {
                    (csrf_field(token))
                    label for="name" { "Your name" }
                    input id="name" name="name" required autocomplete="name" value=(v(|f| &f.name));
                    label for="email" { "E-mail" }
                    input id="email" name="email" type="email" required autocomplete="email" value=(v(|f| &f.email));
                    label for="password" { "Password (at least 10 characters)" }
                    input id="password" name="password" type="password" required minlength="10" autocomplete="new-password";
                    label for="workspace" { "Workspace name" }
                    input id="workspace" name="workspace" required placeholder="Acme Support" value=(v(|f| &f.workspace));
                    button type="submit" { "Create account" }
                }
            }
        },
    )
}

async fn is_fresh(state: &AppState) -> Result<bool, ApiError> {
    let mut conn = state.db.pool.acquire().await?;
    Ok(users::count(&mut conn).await? == 0)
}

pub async fn show(State(state): State<AppState>, jar: CookieJar) -> Result<Response, ApiError> {
    if !is_fresh(&state).await? {
        return Ok(Redirect::to("/login").into_response());
    }
    let (jar, token) = csrf::anonymous_token(jar, state.config.secure_cookies);
    let body = form(
        "/setup",
        "Welcome to Blazz",
        "Create the owner account and the first workspace.",
        &token,
        None,
        None,
    );
    Ok((jar, body).into_response())
}

pub async fn submit(
    State(state): State<AppState>,
    jar: CookieJar,
    Form(f): Form<AccountForm>,
) -> Result<Response, ApiError> {
    create(state, jar, f, true, "/setup", "Welcome to Blazz").await
}

pub async fn show_signup(
    State(state): State<AppState>,
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
        "/signup",
        "Create an account",
        "An account and a workspace of your own.",
        &token,
        None,
        None,
    );
    Ok((jar, body).into_response())
}

pub async fn submit_signup(
    State(state): State<AppState>,
    jar: CookieJar,
    Form(f): Form<AccountForm>,
) -> Result<Response, ApiError> {
    if !state.config.signup_open {
        return Err(ApiError::NotFound(
            "signup_closed",
            "sign-up is closed; ask for an invitation".into(),
        ));
    }
    create(state, jar, f, false, "/signup", "Create an account").await
}

async fn create(
    state: AppState,
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
                action,
                title,
                "Please correct the form.",
                &token,
                Some(&f),
                Some(&e.to_string()),
            );
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, body).into_response())
        }
        Err(e) => Err(e),
    }
}
