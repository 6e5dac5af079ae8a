//! `/settings/realtime`: the workspace's Pusher-protocol app, what
//! pusher-js or Laravel Echo need to connect. Every member sees the app id
//! and key; admins and owners also see the secret and rotate the key and
//! secret (as `GET /api/v1/realtime` and `POST /api/v1/realtime/rotate`).

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Form;
use maud::{html, Markup};
use serde::Deserialize;

use super::{csrf_ok, form_expired, refusal, shell, Ctx, Section};
use crate::error::ApiError;
use crate::events;
use crate::http::web::layout::csrf_field;
use crate::http::web::SignedIn;
use crate::realtime::{apps, App};
use crate::state::AppState;

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// Where clients connect: host, port and whether TLS is on, from the
/// public URL.
fn endpoint(state: &AppState) -> (String, u16, bool) {
    let url = reqwest::Url::parse(&state.config.public_url()).ok();
    let tls = url.as_ref().is_some_and(|u| u.scheme() == "https");
    let host = url
        .as_ref()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_default();
    let port = url
        .as_ref()
        .and_then(|u| u.port_or_known_default())
        .unwrap_or(80);
    (host, port, tls)
}

fn render(state: &AppState, s: &SignedIn, ctx: &Ctx, app: &App, rotated: bool) -> Markup {
    let tr = s.tr;
    let (host, port, tls) = endpoint(state);
    let ws = ctx.workspace.id.to_string();
    let row = |label: &str, id: &str, value: &str| {
        html! {
            label for=(id) { (label) }
            input id=(id) class="copy" readonly value=(value);
        }
    };
    shell(
        s,
        Section::Realtime,
        html! {
            @if rotated {
                p class="notice" role="status" data-testid="rotated" { (tr.t("settings.realtime.rotated")) }
            }
            div class="card" {
                h1 { (tr.t("settings.realtime.title")) }
                p class="muted" { (tr.t("settings.realtime.intro")) }
                (row(tr.t("settings.realtime.app_id"), "rt-app-id", &app.id.to_string()))
                (row(tr.t("settings.realtime.key"), "rt-key", &app.key))
                @if ctx.admin() {
                    (row(tr.t("settings.realtime.secret"), "rt-secret", app.secret()))
                    p class="muted" { (tr.t("settings.realtime.secret_hint")) }
                }
                (row(tr.t("settings.realtime.host"), "rt-host", &host))
                (row(tr.t("settings.realtime.port"), "rt-port", &port.to_string()))
                (row(tr.t("settings.realtime.tls"), "rt-tls", if tls { tr.t("common.yes") } else { tr.t("common.no") }))
                (row(tr.t("settings.realtime.auth_endpoint"), "rt-auth", &format!("{}/broadcasting/auth", state.config.public_url())))
                (row(tr.t("settings.realtime.channel"), "rt-channel", &events::workspace_channel(&ws)))
            }
            @if ctx.admin() {
                div class="card" {
                    h2 { (tr.t("settings.realtime.rotate_title")) }
                    p class="muted" { (tr.t("settings.realtime.rotate_body")) }
                    form method="post" action="/settings/realtime/rotate" {
                        (csrf_field(&s.csrf))
                        button type="submit" class="danger" { (tr.t("settings.realtime.rotate")) }
                    }
                }
            }
        },
    )
}

pub async fn show(State(state): State<AppState>, s: SignedIn) -> Result<Response, ApiError> {
    let Some(ctx) = Ctx::of(&s) else {
        return Ok(super::not_found(&s));
    };
    let app = apps::of_workspace(&state, ctx.workspace.id).await?;
    Ok(render(&state, &s, &ctx, &app, false).into_response())
}

pub async fn rotate(
    State(state): State<AppState>,
    s: SignedIn,
    Form(f): Form<CsrfForm>,
) -> Result<Response, ApiError> {
    if !csrf_ok(&s, &f.csrf) {
        return Ok(form_expired(&s));
    }
    let Some(ctx) = Ctx::of(&s) else {
        return Ok(super::not_found(&s));
    };
    if let Err(e) = ctx.caller.require(blazz_domain::Role::Admin) {
        return Ok(refusal(&s, e));
    }
    match apps::rotate(&state, &ctx.caller).await {
        Ok(app) => Ok(render(&state, &s, &ctx, &app, true).into_response()),
        Err(e) => Ok(refusal(&s, e)),
    }
}
