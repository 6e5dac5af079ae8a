//! `/numbers`: the workspace's numbers with live status, and the form that
//! adds one and starts linking it.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use blazz_provider::ProviderKind;
use blazz_store::accounts::{self, Account};
use maud::{html, Markup};
use serde::Deserialize;

use super::{check_csrf, Ctx};
use crate::error::ApiError;
use crate::events;
use crate::http::web::home::nav;
use crate::http::web::layout::{csrf_field, error_box, error_text, live_page, status_label};
use crate::http::web::SignedIn;
use crate::i18n::Tr;
use crate::services::numbers;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct NewNumber {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    provider: String,
}

/// The kinds of number this Blazz can link from the browser.
fn linkable(state: &AppState, tr: Tr) -> Vec<(ProviderKind, &'static str)> {
    [
        (ProviderKind::Sandbox, tr.t("numbers.kind_sandbox")),
        (ProviderKind::Web, tr.t("numbers.kind_web")),
    ]
    .into_iter()
    .filter(|(k, _)| state.sessions.supports(*k))
    .collect()
}

async fn render(
    state: &AppState,
    s: &SignedIn,
    ctx: &Ctx,
    error: Option<&str>,
) -> Result<Markup, ApiError> {
    let all: Vec<Account> = {
        let mut conn = state.db.pool.acquire().await?;
        accounts::list(&mut conn, ctx.workspace.id).await?
    };
    let ws = ctx.workspace.id.to_string();
    let live = ctx
        .live(state, s, vec![events::workspace_channel(&ws)])
        .await?;
    let tr = s.tr;
    let kinds = linkable(state, tr);
    let body = html! {
        div class="card" {
            h1 { (tr.t("nav.numbers")) }
            @if all.is_empty() {
                p data-testid="empty" {
                    (tr.t("numbers.empty")) " "
                    @if ctx.admin() {
                        (tr.t("numbers.empty_admin"))
                    } @else {
                        (tr.f("numbers.empty_agent", &[("workspace", &ctx.workspace.name)]))
                    }
                }
            } @else {
                table {
                    thead { tr { th { (tr.t("numbers.name")) } th class="opt" { (tr.t("numbers.phone")) } th { (tr.t("numbers.status")) } } }
                    tbody {
                        @for a in &all {
                            tr {
                                td { a href=(format!("/numbers/{}", a.id)) { (a.name) } }
                                td class="opt" { (a.phone.as_deref().unwrap_or("—")) }
                                td { span class="status" data-status-for=(a.id) data-status=(a.status.as_str()) { (status_label(s.tr, a.status)) } }
                            }
                        }
                    }
                }
            }
        }
        @if ctx.admin() && !kinds.is_empty() {
            div class="card" {
                h2 { (tr.t("numbers.link_a_number")) }
                (error_box(error))
                form method="post" action="/numbers" {
                    (csrf_field(&s.csrf))
                    label for="number-name" { (tr.t("numbers.name")) }
                    input id="number-name" name="name" required maxlength="100" placeholder=(tr.t("numbers.name_placeholder"));
                    label for="number-provider" { (tr.t("numbers.kind")) }
                    select id="number-provider" name="provider" {
                        @for (k, label) in &kinds { option value=(k.as_str()) { (label) } }
                    }
                    button type="submit" { (tr.t("numbers.add_and_link")) }
                }
            }
        }
        @if ctx.admin() && state.sessions.supports(ProviderKind::Cloud) {
            (super::cloud::form(s, None))
        }
    };
    Ok(live_page(
        tr,
        tr.t("nav.numbers"),
        Some(nav(s)),
        Some(&live),
        body,
    ))
}

pub async fn show(State(state): State<AppState>, s: SignedIn) -> Result<Response, ApiError> {
    let Ok(ctx) = Ctx::of(&s) else {
        return Ok(Redirect::to("/").into_response());
    };
    Ok(render(&state, &s, &ctx, None).await?.into_response())
}

/// Adds the number and starts linking it: the next page shows its QR code.
pub async fn create(
    State(state): State<AppState>,
    s: SignedIn,
    Form(f): Form<NewNumber>,
) -> Result<Response, ApiError> {
    check_csrf(&s, &f.csrf)?;
    let ctx = Ctx::of(&s)?;
    let account = match numbers::create(&state, &ctx.caller, &f.provider, &f.name).await {
        Ok(a) => a,
        Err(e @ ApiError::Invalid { .. }) => {
            let page = render(&state, &s, &ctx, Some(&error_text(s.tr, &e))).await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
        Err(e) => return Err(e),
    };
    // A refused link (rate limit, capacity) still leaves the number; its
    // page says so and offers to try again.
    if let Err(e) = numbers::link(&state, &ctx.caller, account.id, None).await {
        tracing::info!(account.id = %account.id, error = %e, "linking a new number");
    }
    Ok(Redirect::to(&format!("/numbers/{}", account.id)).into_response())
}
