//! `/settings/webhooks` (admins and owners): the workspace's webhook
//! endpoints and the form that adds one. Each endpoint's page
//! (`endpoint.rs`) edits it and shows its delivery log with replays. All
//! through `webhooks::service`, as the API.

mod actions;
mod endpoint;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use blazz_store::webhooks::{self as store, Endpoint};
use maud::{html, Markup};

use super::{admin, csrf_ok, fixable, forbidden, form_expired, refusal, say, shell, Ctx, Section};
use crate::error::ApiError;
use crate::events;
use crate::http::web::layout::{csrf_field, error_box};
use crate::http::web::SignedIn;
use crate::state::AppState;
use crate::webhooks::service::{self, Changes};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/settings/webhooks", get(show).post(create))
        .route(
            "/settings/webhooks/{id}",
            get(endpoint::show).post(endpoint::update),
        )
        .route("/settings/webhooks/{id}/enabled", post(actions::enabled))
        .route("/settings/webhooks/{id}/rotate", post(actions::rotate))
        .route("/settings/webhooks/{id}/test", post(actions::test))
        .route("/settings/webhooks/{id}/delete", post(actions::delete))
        .route(
            "/settings/webhooks/{id}/deliveries/{delivery}/replay",
            post(actions::replay),
        )
}

/// A posted form as its fields, in order: the events are checkboxes that
/// share one name.
type Fields = Vec<(String, String)>;

fn field<'a>(f: &'a Fields, name: &str) -> &'a str {
    f.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

/// The endpoint's fields from the form (every field is set: the form
/// shows them all).
fn changes(f: &Fields) -> Changes {
    let description = field(f, "description").trim();
    Changes {
        url: Some(field(f, "url").trim().to_string()),
        description: Some(Some(description.to_string()).filter(|d| !d.is_empty())),
        events: Some(
            f.iter()
                .filter(|(k, _)| k == "events")
                .map(|(_, v)| v.clone())
                .collect(),
        ),
        enabled: None,
    }
}

/// The fields of an endpoint: URL, description and the events (all, or
/// some), filled from `e` or from what was posted.
fn endpoint_fields(s: &SignedIn, url: &str, description: &str, chosen: &[String]) -> Markup {
    let tr = s.tr;
    let all = chosen.is_empty() || chosen.iter().any(|e| e == "*");
    html! {
        label for="webhook-url" { (tr.t("settings.webhooks.url")) }
        input id="webhook-url" name="url" type="url" required value=(url) placeholder="https://example.com/blazz";
        label for="webhook-description" { (tr.t("settings.webhooks.description")) " " span class="muted" { "(" (tr.t("common.optional")) ")" } }
        input id="webhook-description" name="description" maxlength="500" value=(description);
        fieldset class="events" {
            legend { (tr.t("settings.webhooks.events")) }
            label class="check" {
                input type="checkbox" name="events" value="*" checked[all];
                " " strong { (tr.t("settings.webhooks.all_events")) }
            }
            @for (name, _) in events::NAMES {
                label class="check" {
                    input type="checkbox" name="events" value=(name) checked[!all && chosen.iter().any(|c| c == name)];
                    " " code { (name) }
                    @if let Some(about) = tr.get(&format!("settings.webhooks.event.{}", name.replace('.', "_"))) {
                        " " span class="muted" { (about) }
                    }
                }
            }
        }
    }
}

async fn render(
    state: &AppState,
    s: &SignedIn,
    ctx: &Ctx,
    error: Option<&str>,
    posted: Option<&Fields>,
) -> Result<Markup, ApiError> {
    let all: Vec<Endpoint> = {
        let mut conn = state.db.pool.acquire().await?;
        store::list_endpoints(&mut conn, ctx.workspace.id).await?
    };
    let tr = s.tr;
    let chosen: Vec<String> = posted
        .map(|f| {
            f.iter()
                .filter(|(k, _)| k == "events")
                .map(|(_, v)| v.clone())
                .collect()
        })
        .unwrap_or_default();
    let (url, description) = posted
        .map(|f| (field(f, "url"), field(f, "description")))
        .unwrap_or(("", ""));
    Ok(shell(
        s,
        Section::Webhooks,
        html! {
            div class="card" {
                h1 { (tr.t("settings.webhooks.title")) }
                p class="muted" { (tr.t("settings.webhooks.intro")) }
                @if all.is_empty() {
                    p data-testid="no-webhooks" { (tr.t("settings.webhooks.none")) }
                } @else {
                    table class="settings-table" {
                        thead { tr {
                            th { (tr.t("settings.webhooks.url")) }
                            th class="opt" { (tr.t("settings.webhooks.events")) }
                            th { (tr.t("settings.webhooks.state")) }
                        } }
                        tbody {
                            @for e in &all {
                                tr data-webhook=(e.id) {
                                    td class="url" { a href=(format!("/settings/webhooks/{}", e.id)) { (e.url) }
                                        @if let Some(d) = &e.description { br; span class="muted" { (d) } } }
                                    td class="opt" { (event_summary(s, &e.events)) }
                                    td { (state_badge(s, e)) }
                                }
                            }
                        }
                    }
                }
            }
            div class="card" {
                h2 { (tr.t("settings.webhooks.add")) }
                (error_box(error))
                form method="post" action="/settings/webhooks" {
                    (csrf_field(&s.csrf))
                    (endpoint_fields(s, url, description, &chosen))
                    button type="submit" { (tr.t("settings.webhooks.create")) }
                }
            }
        },
    ))
}

fn event_summary(s: &SignedIn, events: &[String]) -> String {
    if events.iter().any(|e| e == "*") {
        s.tr.t("settings.webhooks.all_events").to_string()
    } else {
        events.join(", ")
    }
}

fn state_badge(s: &SignedIn, e: &Endpoint) -> Markup {
    let tr = s.tr;
    html! {
        @if !e.enabled() {
            span class="status" data-status="failed" { (tr.t("settings.webhooks.disabled")) }
        } @else if e.failing_since.is_some() {
            span class="status" data-status="qr_required" { (tr.t("settings.webhooks.failing")) }
        } @else {
            span class="status" data-status="connected" { (tr.t("settings.webhooks.enabled")) }
        }
    }
}

pub async fn show(State(state): State<AppState>, s: SignedIn) -> Result<Response, ApiError> {
    let Some(ctx) = admin(&s) else {
        return Ok(forbidden(&s));
    };
    Ok(render(&state, &s, &ctx, None, None).await?.into_response())
}

/// Adds the endpoint and opens its page, which shows the secret once.
pub async fn create(
    State(state): State<AppState>,
    s: SignedIn,
    Form(f): Form<Fields>,
) -> Result<Response, ApiError> {
    if !csrf_ok(&s, field(&f, "csrf")) {
        return Ok(form_expired(&s));
    }
    let Some(ctx) = admin(&s) else {
        return Ok(forbidden(&s));
    };
    match service::create(&state, &ctx.caller, changes(&f)).await {
        Ok((e, secret)) => {
            let page =
                endpoint::render(&state, &s, &e, endpoint::Shown::Secret(&secret), None).await?;
            Ok(page.into_response())
        }
        Err(e) if fixable(&e) => {
            let text = say(&s, &e);
            let page = render(&state, &s, &ctx, Some(&text), Some(&f)).await?;
            Ok((e.status(), page).into_response())
        }
        Err(e) => Ok(refusal(&s, e)),
    }
}

#[cfg(test)]
mod tests {
    use crate::i18n::{Lang, Tr};

    /// The event descriptions' keys are built at run time: each event has one.
    #[test]
    fn every_event_has_a_description_in_every_language() {
        for lang in Lang::ALL {
            for (name, _) in crate::events::NAMES {
                let key = format!("settings.webhooks.event.{}", name.replace('.', "_"));
                assert!(Tr::new(lang).get(&key).is_some(), "{lang:?} {key}");
            }
        }
    }
}
