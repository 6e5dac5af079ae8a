//! The signed-in home page and the workspace switcher.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use blazz_domain::{Role, WorkspaceId};
use blazz_store::{sessions, users};
use maud::{html, Markup};
use serde::Deserialize;

use super::layout::{csrf_field, page, role_label};
use super::SignedIn;
use crate::auth::csrf;
use crate::error::ApiError;
use crate::state::AppState;

/// The header navigation of signed-in pages: the areas, the workspace
/// switcher and sign out.
pub fn nav(s: &SignedIn) -> Markup {
    let tr = s.tr;
    html! {
        a href="/inbox" { (tr.t("nav.inbox")) }
        " · "
        a href="/numbers" { (tr.t("nav.numbers")) }
        " · "
        a href="/contacts" { (tr.t("nav.contacts")) }
        " · "
        a href="/campaigns" { (tr.t("nav.campaigns")) }
        " · "
        a href="/settings" { (tr.t("nav.settings")) }
        " · "
        @if s.workspaces.len() > 1 {
            form class="inline" method="post" action="/workspaces/switch" {
                (csrf_field(&s.csrf))
                label for="ws-switch" class="muted inline-label" { (tr.t("nav.workspace")) " " }
                select id="ws-switch" name="workspace" class="auto" {
                    @for (ws, _) in &s.workspaces {
                        option value=(ws.id) selected[s.current.as_ref().is_some_and(|(c, _)| c.id == ws.id)] { (ws.name) }
                    }
                }
                " " button class="link" type="submit" { (tr.t("nav.switch")) }
            }
            " · "
        }
        form class="inline" method="post" action="/logout" {
            (csrf_field(&s.csrf))
            button class="link" type="submit" { (tr.t("nav.sign_out")) }
        }
    }
}

pub async fn show(
    State(state): State<AppState>,
    signed_in: Result<SignedIn, super::session::NotSignedIn>,
) -> Result<Response, ApiError> {
    let s = match signed_in {
        Ok(s) => s,
        Err(super::session::NotSignedIn::Error(e)) => return Err(e),
        Err(super::session::NotSignedIn::Redirect(to)) if to != "/login" => {
            return Ok(Redirect::to(to).into_response());
        }
        Err(super::session::NotSignedIn::Redirect(_)) => {
            let mut conn = state.db.pool.acquire().await?;
            let to = if users::count(&mut conn).await? == 0 {
                "/setup"
            } else {
                "/login"
            };
            return Ok(Redirect::to(to).into_response());
        }
    };
    let tr = s.tr;
    let body = match &s.current {
        None => html! {
            div class="card" {
                h1 { (tr.f("home.hello", &[("name", &s.user.name)])) }
                p { (tr.t("home.no_workspace")) }
            }
        },
        Some((ws, role)) => html! {
            div class="card" {
                h1 { (ws.name) }
                p class="muted" { (tr.f("home.signed_in_as", &[("email", &s.user.email), ("role", &role_label(tr, *role)), ("workspace", &ws.slug)])) }
            }
            div class="card" {
                h2 { (tr.t("home.next_steps")) }
                ol {
                    li { a href="/numbers" { (tr.t("home.link_number")) } " " (tr.t("home.link_number_hint")) }
                    li { a href="/inbox" { (tr.t("home.open_inbox")) } }
                    @if role.at_least(Role::Admin) {
                        li { a href="/settings/tokens" { (tr.t("home.create_token")) } " · "
                             code { "blazz token create --workspace " (ws.slug) " --role admin --name my-script" } }
                        li { a href="/settings/invitations" { (tr.t("home.invite_team")) } }
                    }
                    li { (tr.t("home.read_api")) " " a href="/api/v1/openapi.json" { (tr.t("home.openapi")) } }
                }
            }
        },
    };
    Ok(page(tr, tr.t("nav.home"), Some(nav(&s)), body).into_response())
}

#[derive(Deserialize)]
pub struct SwitchForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    workspace: String,
}

pub async fn switch(
    State(state): State<AppState>,
    s: SignedIn,
    Form(f): Form<SwitchForm>,
) -> Result<Response, ApiError> {
    if !csrf::matches(&s.csrf, &f.csrf) {
        return Err(ApiError::forbidden(s.tr.t("common.form_expired")));
    }
    let target: Option<WorkspaceId> = f.workspace.parse().ok();
    let Some(ws) = target.filter(|id| s.workspaces.iter().any(|(w, _)| w.id == *id)) else {
        return Err(ApiError::not_found("workspace_not_found", "workspace"));
    };
    let mut conn = state.db.write().await?;
    sessions::set_workspace(&mut conn, &s.secret, ws).await?;
    Ok(Redirect::to("/").into_response())
}
