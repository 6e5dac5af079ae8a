//! `/settings/members`: everyone in the workspace with their role. Admins
//! and owners change roles and remove members, within the API's rules
//! (`services::members`: nobody acts above their role, the last owner
//! stays).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use blazz_domain::{Role, UserId};
use blazz_store::members::{self, Member};
use maud::{html, Markup};
use serde::Deserialize;

use super::{csrf_ok, fixable, form_expired, refusal, say, shell, when, Ctx, Section};
use crate::error::ApiError;
use crate::http::extract::Path;
use crate::http::web::layout::{csrf_field, error_box, role_label};
use crate::http::web::SignedIn;
use crate::services;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct RoleForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    role: String,
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// Whether the page offers to change `m` (the service decides anyway).
fn manageable(ctx: &Ctx, s: &SignedIn, m: &Member) -> bool {
    ctx.admin() && ctx.caller.role.may_grant(m.role) && m.user_id != s.user.id
}

async fn render(
    state: &AppState,
    s: &SignedIn,
    ctx: &Ctx,
    error: Option<&str>,
) -> Result<Markup, ApiError> {
    let all = {
        let mut conn = state.db.pool.acquire().await?;
        members::list(&mut conn, ctx.workspace.id).await?
    };
    let tr = s.tr;
    let grantable: Vec<Role> = Role::ALL
        .into_iter()
        .filter(|r| ctx.caller.role.may_grant(*r))
        .collect();
    Ok(shell(
        s,
        Section::Members,
        html! {
            div class="card" {
                h1 { (tr.t("settings.members.title")) }
                p class="muted" { (tr.n("settings.members.count", all.len() as i64, &[("workspace", &ctx.workspace.name)])) }
                (error_box(error))
                table class="settings-table" {
                    thead { tr {
                        th { (tr.t("settings.members.name")) }
                        th class="opt" { (tr.t("settings.members.joined")) }
                        th { (tr.t("settings.members.role")) }
                    } }
                    tbody {
                        @for m in &all {
                            tr data-member=(m.user_id) {
                                td { (m.name) br; span class="muted" { (m.email) }
                                    @if m.user_id == s.user.id { " " span class="muted" { (tr.t("settings.members.you")) } } }
                                td class="opt" { (when(m.joined_at)) }
                                td {
                                    @if manageable(ctx, s, m) {
                                        form class="member-role" method="post" action=(format!("/settings/members/{}/role", m.user_id)) {
                                            (csrf_field(&s.csrf))
                                            label class="visually-hidden" for=(format!("role-{}", m.user_id)) { (tr.f("settings.members.role_of", &[("name", &m.name)])) }
                                            select id=(format!("role-{}", m.user_id)) name="role" class="auto" {
                                                @for r in &grantable { option value=(r.as_str()) selected[*r == m.role] { (role_label(tr, *r)) } }
                                            }
                                            " " button type="submit" class="secondary" { (tr.t("settings.members.change")) }
                                        }
                                        form class="inline" method="post" action=(format!("/settings/members/{}/remove", m.user_id)) {
                                            (csrf_field(&s.csrf))
                                            button type="submit" class="danger" aria-label=(tr.f("settings.members.remove_who", &[("name", &m.name)])) { (tr.t("settings.members.remove")) }
                                        }
                                    } @else {
                                        span class="status" { (role_label(tr, m.role)) }
                                    }
                                }
                            }
                        }
                    }
                }
                @if ctx.admin() {
                    p { a href="/settings/invitations" { (tr.t("settings.members.invite")) } }
                } @else {
                    p class="muted" { (tr.t("settings.members.ask_admin")) }
                }
            }
        },
    ))
}

pub async fn show(State(state): State<AppState>, s: SignedIn) -> Result<Response, ApiError> {
    let Some(ctx) = Ctx::of(&s) else {
        return Ok(Redirect::to("/settings").into_response());
    };
    Ok(render(&state, &s, &ctx, None).await?.into_response())
}

/// The list again, or what went wrong shown on it.
async fn answer<T>(
    state: &AppState,
    s: &SignedIn,
    ctx: &Ctx,
    done: Result<T, ApiError>,
) -> Result<Response, ApiError> {
    match done {
        Ok(_) => Ok(Redirect::to("/settings/members").into_response()),
        Err(e) if fixable(&e) => {
            let page = render(state, s, ctx, Some(&say(s, &e))).await?;
            Ok((e.status(), page).into_response())
        }
        Err(e) => Ok(refusal(s, e)),
    }
}

pub async fn change_role(
    State(state): State<AppState>,
    s: SignedIn,
    Path(id): Path<String>,
    Form(f): Form<RoleForm>,
) -> Result<Response, ApiError> {
    if !csrf_ok(&s, &f.csrf) {
        return Ok(form_expired(&s));
    }
    let Some(ctx) = Ctx::of(&s) else {
        return Ok(super::not_found(&s));
    };
    let Ok(user) = id.parse::<UserId>() else {
        return Ok(super::not_found(&s));
    };
    let Ok(role) = f.role.parse::<Role>() else {
        let e = ApiError::invalid("invalid_role", "choose owner, admin or agent");
        let page = render(&state, &s, &ctx, Some(&say(&s, &e))).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    };
    let done = services::members::change_role(&state, &ctx.caller, user, role).await;
    answer(&state, &s, &ctx, done).await
}

pub async fn remove(
    State(state): State<AppState>,
    s: SignedIn,
    Path(id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, ApiError> {
    if !csrf_ok(&s, &f.csrf) {
        return Ok(form_expired(&s));
    }
    let Some(ctx) = Ctx::of(&s) else {
        return Ok(super::not_found(&s));
    };
    let Ok(user) = id.parse::<UserId>() else {
        return Ok(super::not_found(&s));
    };
    let done = services::members::remove(&state, &ctx.caller, user).await;
    answer(&state, &s, &ctx, done).await
}
