//! `/settings/invitations` (admins and owners): invite someone by e-mail
//! with a role, showing the one-time link once; the pending invitations,
//! each revocable. Blazz sends no mail: the inviter passes the link on.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use blazz_domain::{InvitationId, Role};
use blazz_store::invitations;
use blazz_store::now_ms;
use maud::{html, Markup};
use serde::Deserialize;

use super::{
    admin, csrf_ok, fixable, forbidden, form_expired, refusal, say, shell, when, Ctx, Section,
};
use crate::error::ApiError;
use crate::http::extract::Path;
use crate::http::web::layout::{csrf_field, error_box, role_label};
use crate::http::web::SignedIn;
use crate::services;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct InviteForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// What the page shows besides the list: a new link, or a refusal with
/// the form as it was filled in.
#[derive(Default)]
struct Extra<'a> {
    link: Option<(&'a str, &'a str)>,
    error: Option<String>,
    email: &'a str,
}

async fn render(
    state: &AppState,
    s: &SignedIn,
    ctx: &Ctx,
    extra: Extra<'_>,
) -> Result<Markup, ApiError> {
    let now = now_ms();
    let pending: Vec<_> = {
        let mut conn = state.db.pool.acquire().await?;
        invitations::list(&mut conn, ctx.workspace.id).await?
    }
    .into_iter()
    .filter(|i| i.status(now) == "pending")
    .collect();
    let tr = s.tr;
    let grantable: Vec<Role> = Role::ALL
        .into_iter()
        .rev()
        .filter(|r| ctx.caller.role.may_grant(*r))
        .collect();
    Ok(shell(
        s,
        Section::Invitations,
        html! {
            @if let Some((email, link)) = extra.link {
                div class="card once" role="status" data-testid="invitation-link" {
                    h2 { (tr.f("settings.invitations.created", &[("email", &email)])) }
                    label for="invitation-link" { (tr.t("settings.invitations.link")) }
                    input id="invitation-link" class="copy" readonly value=(link);
                    p class="muted" { (tr.t("settings.invitations.link_once")) }
                }
            }
            div class="card" {
                h1 { (tr.t("settings.invitations.title")) }
                (error_box(extra.error.as_deref()))
                form method="post" action="/settings/invitations" {
                    (csrf_field(&s.csrf))
                    label for="invite-email" { (tr.t("settings.invitations.email")) }
                    input id="invite-email" name="email" type="email" required autocomplete="off" value=(extra.email);
                    label for="invite-role" { (tr.t("settings.invitations.role")) }
                    select id="invite-role" name="role" {
                        @for r in &grantable { option value=(r.as_str()) { (role_label(tr, *r)) } }
                    }
                    button type="submit" { (tr.t("settings.invitations.create")) }
                }
            }
            div class="card" {
                h2 { (tr.t("settings.invitations.pending")) }
                @if pending.is_empty() {
                    p class="muted" data-testid="no-invitations" { (tr.t("settings.invitations.none")) }
                } @else {
                    table class="settings-table" {
                        thead { tr {
                            th { (tr.t("settings.invitations.email")) }
                            th { (tr.t("settings.invitations.role")) }
                            th class="opt" { (tr.t("settings.invitations.expires")) }
                            th { span class="visually-hidden" { (tr.t("settings.actions")) } }
                        } }
                        tbody {
                            @for i in &pending {
                                tr data-invitation=(i.id) {
                                    td { (i.email) }
                                    td { (role_label(tr, i.role)) }
                                    td class="opt" { (when(i.expires_at)) }
                                    td {
                                        @if ctx.caller.role.may_grant(i.role) {
                                            form class="inline" method="post" action=(format!("/settings/invitations/{}/revoke", i.id)) {
                                                (csrf_field(&s.csrf))
                                                button type="submit" class="danger" aria-label=(tr.f("settings.invitations.revoke_for", &[("email", &i.email)])) { (tr.t("settings.invitations.revoke")) }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        },
    ))
}

pub async fn show(State(state): State<AppState>, s: SignedIn) -> Result<Response, ApiError> {
    let Some(ctx) = admin(&s) else {
        return Ok(forbidden(&s));
    };
    Ok(render(&state, &s, &ctx, Extra::default())
        .await?
        .into_response())
}

pub async fn create(
    State(state): State<AppState>,
    s: SignedIn,
    Form(f): Form<InviteForm>,
) -> Result<Response, ApiError> {
    if !csrf_ok(&s, &f.csrf) {
        return Ok(form_expired(&s));
    }
    let Some(ctx) = Ctx::of(&s) else {
        return Ok(forbidden(&s));
    };
    let done = match f.role.parse::<Role>() {
        Ok(role) => services::invitations::create(&state, &ctx.caller, &f.email, role).await,
        Err(_) => Err(ApiError::invalid("invalid_role", "choose a role")),
    };
    match done {
        Ok((inv, link)) => {
            let extra = Extra {
                link: Some((&inv.email, &link)),
                ..Extra::default()
            };
            Ok(render(&state, &s, &ctx, extra).await?.into_response())
        }
        Err(e) if fixable(&e) && ctx.admin() => {
            let extra = Extra {
                error: Some(say(&s, &e)),
                email: &f.email,
                ..Extra::default()
            };
            let page = render(&state, &s, &ctx, extra).await?;
            Ok((e.status(), page).into_response())
        }
        Err(e) => Ok(refusal(&s, e)),
    }
}

pub async fn revoke(
    State(state): State<AppState>,
    s: SignedIn,
    Path(id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, ApiError> {
    if !csrf_ok(&s, &f.csrf) {
        return Ok(form_expired(&s));
    }
    let Some(ctx) = Ctx::of(&s) else {
        return Ok(forbidden(&s));
    };
    let Ok(id) = id.parse::<InvitationId>() else {
        return Ok(super::not_found(&s));
    };
    match services::invitations::revoke(&state, &ctx.caller, id).await {
        Ok(()) => Ok(Redirect::to("/settings/invitations").into_response()),
        Err(e) => Ok(refusal(&s, e)),
    }
}
