//! `/settings/tokens` (admins and owners): the workspace's API tokens.
//! A new token's secret is shown once, in the answer to the form that
//! creates it; it is stored only as a hash, so the list shows its prefix.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use blazz_domain::{Role, TokenId};
use blazz_store::tokens::{self, ApiToken};
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
pub struct TokenForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

#[derive(Default)]
struct Extra<'a> {
    created: Option<(&'a ApiToken, &'a str)>,
    error: Option<String>,
    name: &'a str,
}

async fn render(
    state: &AppState,
    s: &SignedIn,
    ctx: &Ctx,
    extra: Extra<'_>,
) -> Result<Markup, ApiError> {
    let all = {
        let mut conn = state.db.pool.acquire().await?;
        tokens::list(&mut conn, ctx.workspace.id).await?
    };
    let tr = s.tr;
    let grantable: Vec<Role> = Role::ALL
        .into_iter()
        .rev()
        .filter(|r| ctx.caller.role.may_grant(*r))
        .collect();
    let never = tr.t("common.never");
    Ok(shell(
        s,
        Section::Tokens,
        html! {
            @if let Some((token, secret)) = extra.created {
                div class="card once" role="status" data-testid="new-token" {
                    h2 { (tr.f("settings.tokens.created", &[("name", &token.name)])) }
                    label for="new-token" { (tr.t("settings.tokens.secret")) }
                    input id="new-token" class="copy" readonly value=(secret);
                    p class="warning" { strong { (tr.t("settings.tokens.once_title")) } " " (tr.t("settings.tokens.once_body")) }
                    p class="muted" { (tr.t("settings.tokens.usage")) " " code { "Authorization: Bearer …" } }
                }
            }
            div class="card" {
                h1 { (tr.t("settings.tokens.title")) }
                p class="muted" { (tr.t("settings.tokens.intro")) }
                (error_box(extra.error.as_deref()))
                form method="post" action="/settings/tokens" {
                    (csrf_field(&s.csrf))
                    label for="token-name" { (tr.t("settings.tokens.name")) }
                    input id="token-name" name="name" required maxlength="120" autocomplete="off" value=(extra.name) placeholder=(tr.t("settings.tokens.name_example"));
                    label for="token-role" { (tr.t("settings.tokens.role")) }
                    select id="token-role" name="role" {
                        @for r in &grantable { option value=(r.as_str()) { (role_label(tr, *r)) } }
                    }
                    button type="submit" { (tr.t("settings.tokens.create")) }
                }
            }
            div class="card" {
                h2 { (tr.t("settings.tokens.list")) }
                @if all.is_empty() {
                    p class="muted" data-testid="no-tokens" { (tr.t("settings.tokens.none")) }
                } @else {
                    table class="settings-table" {
                        thead { tr {
                            th { (tr.t("settings.tokens.name")) }
                            th { (tr.t("settings.tokens.role")) }
                            th class="opt" { (tr.t("settings.tokens.last_used")) }
                            th { span class="visually-hidden" { (tr.t("settings.actions")) } }
                        } }
                        tbody {
                            @for t in &all {
                                tr data-token=(t.id) {
                                    td { (t.name) br; code class="muted" { (t.prefix) "…" } }
                                    td { (role_label(tr, t.role)) }
                                    td class="opt" { (t.last_used_at.map(when).unwrap_or_else(|| never.to_string())) }
                                    td {
                                        @if let Some(at) = t.revoked_at {
                                            span class="status" { (tr.f("settings.tokens.revoked_at", &[("time", &when(at))])) }
                                        } @else if ctx.caller.role.may_grant(t.role) {
                                            form class="inline" method="post" action=(format!("/settings/tokens/{}/revoke", t.id)) {
                                                (csrf_field(&s.csrf))
                                                button type="submit" class="danger" aria-label=(tr.f("settings.tokens.revoke_named", &[("name", &t.name)])) { (tr.t("settings.tokens.revoke")) }
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
    Form(f): Form<TokenForm>,
) -> Result<Response, ApiError> {
    if !csrf_ok(&s, &f.csrf) {
        return Ok(form_expired(&s));
    }
    let Some(ctx) = admin(&s) else {
        return Ok(forbidden(&s));
    };
    let c = &ctx.caller;
    let done = match f.role.parse::<Role>() {
        Ok(role) => {
            services::tokens::create(
                &state.db,
                c.workspace_id,
                &c.actor,
                Some(c.role),
                &f.name,
                role,
                c.user_id,
            )
            .await
        }
        Err(_) => Err(ApiError::invalid("invalid_role", "choose a role")),
    };
    match done {
        Ok((token, secret)) => {
            state.committed();
            let extra = Extra {
                created: Some((&token, &secret)),
                ..Extra::default()
            };
            Ok(render(&state, &s, &ctx, extra).await?.into_response())
        }
        Err(e) if fixable(&e) => {
            let extra = Extra {
                error: Some(say(&s, &e)),
                name: &f.name,
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
    let Some(ctx) = admin(&s) else {
        return Ok(forbidden(&s));
    };
    let Ok(id) = id.parse::<TokenId>() else {
        return Ok(super::not_found(&s));
    };
    let c = &ctx.caller;
    match services::tokens::revoke(&state.db, c.workspace_id, &c.actor, c.role, id).await {
        Ok(()) => {
            state.committed();
            Ok(Redirect::to("/settings/tokens").into_response())
        }
        Err(e) => Ok(refusal(&s, e)),
    }
}
