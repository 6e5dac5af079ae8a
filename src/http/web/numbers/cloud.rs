//! Cloud API numbers in the web app: the form that adds one with its Meta
//! credentials, the number's Cloud card ("test connection", a new access
//! token, resume sending), and its templates page with "sync from Meta".
//! Everything goes through `crate::cloud`, as the API does.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use blazz_domain::AccountId;
use blazz_store::accounts::Account;
use maud::{html, Markup};
use serde::Deserialize;

use super::{check_csrf, show, Ctx};
use crate::cloud::numbers::{CloudInput, CloudView, TestResult};
use crate::error::ApiError;
use crate::http::extract::Path;
use crate::http::web::home::nav;
use crate::http::web::layout::{csrf_field, error_box, error_text, page};
use crate::http::web::SignedIn;
use crate::i18n::Tr;
use crate::services::numbers;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct NewCloudNumber {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    phone_number_id: String,
    #[serde(default)]
    business_account_id: String,
    #[serde(default)]
    access_token: String,
    #[serde(default)]
    app_secret: String,
    #[serde(default)]
    verify_token: String,
}

#[derive(Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    access_token: String,
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// The "add a Cloud API number" form on `/numbers`.
pub fn form(s: &SignedIn, error: Option<&str>) -> Markup {
    let tr = s.tr;
    let field = |id: &str, label: &str, kind: &str| {
        html! {
            label for=(format!("cloud-{id}")) { (label) }
            input id=(format!("cloud-{id}")) name=(id) type=(kind) required autocomplete="off";
        }
    };
    html! {
        div class="card" id="cloud-form" {
            h2 { (tr.t("numbers.cloud.add_title")) }
            p class="muted" { (tr.t("numbers.cloud.add_help")) }
            (error_box(error))
            form method="post" action="/numbers/cloud" {
                (csrf_field(&s.csrf))
                label for="cloud-name" { (tr.t("numbers.name")) }
                input id="cloud-name" name="name" required maxlength="100" placeholder=(tr.t("numbers.name_placeholder"));
                (field("phone_number_id", tr.t("numbers.cloud.phone_number_id"), "text"))
                (field("business_account_id", tr.t("numbers.cloud.business_account_id"), "text"))
                (field("access_token", tr.t("numbers.cloud.access_token"), "password"))
                (field("app_secret", tr.t("numbers.cloud.app_secret"), "password"))
                (field("verify_token", tr.t("numbers.cloud.verify_token"), "password"))
                button type="submit" { (tr.t("numbers.cloud.add")) }
            }
        }
    }
}

fn post_button(s: &SignedIn, action: String, label: &str, class: &str) -> Markup {
    html! {
        form class="inline" method="post" action=(action) {
            (csrf_field(&s.csrf))
            button type="submit" class=(class) { (label) }
        }
    }
}

fn test_result(tr: Tr, r: &TestResult) -> Markup {
    html! {
        @if r.ok {
            p role="status" data-testid="test-ok" { (tr.t("numbers.cloud.test_ok")) }
        } @else {
            p class="error" role="alert" data-testid="test-problem" {
                (tr.t(&format!("numbers.cloud.problem.{}", r.problem.as_deref().unwrap_or("meta_error"))))
            }
            @if let Some(m) = r.meta_error.as_ref().and_then(|e| e["message"].as_str()) {
                p { (tr.t("numbers.cloud.meta_said")) " " code { (m) } }
            }
        }
    }
}

/// The Cloud card on a Cloud number's page.
pub fn card(
    s: &SignedIn,
    ctx: &Ctx,
    a: &Account,
    view: &CloudView,
    tested: Option<&TestResult>,
) -> Markup {
    let tr = s.tr;
    let base = format!("/numbers/{}", a.id);
    html! {
        div class="card" id="cloud-card" {
            h2 { (tr.t("numbers.cloud.title")) }
            dl {
                dt { (tr.t("numbers.cloud.phone_number_id")) } dd { code { (view.phone_number_id) } }
                dt { (tr.t("numbers.cloud.business_account_id")) } dd { code { (view.business_account_id) } }
            }
            @if view.needs_reauth {
                p class="error" role="alert" { (tr.t("numbers.cloud.needs_reauth")) }
            }
            @if view.sending_paused {
                p class="error" role="alert" { (tr.t("numbers.cloud.paused")) " "
                    @if let Some(r) = &view.paused_reason { code { (r) } } }
                @if ctx.admin() { (post_button(s, format!("{base}/resume-sending"), tr.t("numbers.cloud.resume"), "secondary")) }
            }
            @if let Some(r) = tested { (test_result(tr, r)) }
            div class="actions" {
                @if ctx.admin() { (post_button(s, format!("{base}/test"), tr.t("numbers.cloud.test"), "")) }
                a href=(format!("{base}/templates")) { (tr.t("numbers.cloud.templates")) }
            }
            @if ctx.admin() {
                form method="post" action=(format!("{base}/token")) {
                    (csrf_field(&s.csrf))
                    label for="new-token" { (tr.t("numbers.cloud.new_token")) }
                    input id="new-token" name="access_token" type="password" required autocomplete="off";
                    button type="submit" class="secondary" { (tr.t("numbers.cloud.save_token")) }
                }
            }
        }
    }
}

/// Adds a Cloud number; its page follows.
pub async fn create(
    State(state): State<AppState>,
    s: SignedIn,
    Form(f): Form<NewCloudNumber>,
) -> Result<Response, ApiError> {
    check_csrf(&s, &f.csrf)?;
    let ctx = Ctx::of(&s)?;
    let some = |v: String| Some(v);
    let input = CloudInput {
        phone_number_id: some(f.phone_number_id),
        business_account_id: some(f.business_account_id),
        access_token: some(f.access_token),
        app_secret: some(f.app_secret),
        verify_token: some(f.verify_token),
    };
    match crate::cloud::numbers::create(&state, &ctx.caller, &f.name, input).await {
        Ok(a) => Ok(Redirect::to(&format!("/numbers/{}", a.id)).into_response()),
        Err(e @ ApiError::Invalid { .. }) => {
            let body = html! {
                p { a href="/numbers" { "← " (s.tr.t("nav.numbers")) } }
                (form(&s, Some(&error_text(s.tr, &e))))
            };
            let markup = page(s.tr, s.tr.t("numbers.cloud.add_title"), Some(nav(&s)), body);
            Ok((StatusCode::UNPROCESSABLE_ENTITY, markup).into_response())
        }
        Err(e) => Err(e),
    }
}

async fn number(
    state: &AppState,
    s: &SignedIn,
    id: AccountId,
) -> Result<Result<(Ctx, Account), Response>, ApiError> {
    let ctx = Ctx::of(s)?;
    match numbers::find(state, &ctx.caller, id).await {
        Ok(a) => Ok(Ok((ctx, a))),
        Err(ApiError::NotFound(..)) => Ok(Err(show::not_found(s))),
        Err(e) => Err(e),
    }
}

/// "Test connection": the number's page with Meta's answer.
pub async fn test(
    State(state): State<AppState>,
    s: SignedIn,
    Path(id): Path<AccountId>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, ApiError> {
    check_csrf(&s, &f.csrf)?;
    let (ctx, a) = match number(&state, &s, id).await? {
        Ok(found) => found,
        Err(page) => return Ok(page),
    };
    let result = crate::cloud::numbers::test(&state, &ctx.caller, id).await?;
    Ok(show::render_tested(&state, &s, &ctx, &a, &result)
        .await?
        .into_response())
}

/// A new access token for the number; it reconnects.
pub async fn token(
    State(state): State<AppState>,
    s: SignedIn,
    Path(id): Path<AccountId>,
    Form(f): Form<TokenForm>,
) -> Result<Response, ApiError> {
    check_csrf(&s, &f.csrf)?;
    let (ctx, a) = match number(&state, &s, id).await? {
        Ok(found) => found,
        Err(page) => return Ok(page),
    };
    let input = CloudInput {
        access_token: Some(f.access_token),
        ..CloudInput::default()
    };
    match crate::cloud::numbers::update(&state, &ctx.caller, id, input).await {
        Ok(_) => Ok(Redirect::to(&format!("/numbers/{id}")).into_response()),
        Err(e @ (ApiError::Invalid { .. } | ApiError::Conflict(..))) => {
            let page =
                show::render(&state, &s, &ctx, &a, Some(&error_text(s.tr, &e)), None).await?;
            Ok((e.status(), page).into_response())
        }
        Err(e) => Err(e),
    }
}

pub async fn resume(
    State(state): State<AppState>,
    s: SignedIn,
    Path(id): Path<AccountId>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, ApiError> {
    check_csrf(&s, &f.csrf)?;
    let (ctx, a) = match number(&state, &s, id).await? {
        Ok(found) => found,
        Err(page) => return Ok(page),
    };
    ctx.caller.require(blazz_domain::Role::Admin)?;
    crate::cloud::sending::resume(&state, ctx.caller.workspace_id, &a).await?;
    Ok(Redirect::to(&format!("/numbers/{id}")).into_response())
}

async fn templates_page(
    state: &AppState,
    s: &SignedIn,
    ctx: &Ctx,
    a: &Account,
    error: Option<&str>,
) -> Result<Markup, ApiError> {
    let tr = s.tr;
    let all = crate::cloud::templates::list(state, &ctx.caller, Some(a.id)).await?;
    let base = format!("/numbers/{}", a.id);
    let body = html! {
        p { a href=(base) { "← " (a.name) } }
        div class="card" {
            h1 { (tr.t("numbers.cloud.templates")) }
            (error_box(error))
            @if ctx.admin() {
                (post_button(s, format!("{base}/templates/sync"), tr.t("numbers.cloud.sync"), ""))
            }
            @if all.is_empty() {
                p data-testid="no-templates" { (tr.t("numbers.cloud.no_templates")) }
            } @else {
                table data-testid="templates" {
                    thead { tr {
                        th { (tr.t("numbers.cloud.template_name")) }
                        th { (tr.t("numbers.cloud.template_language")) }
                        th class="opt" { (tr.t("numbers.cloud.template_category")) }
                        th { (tr.t("numbers.cloud.template_status")) }
                    } }
                    tbody {
                        @for t in &all {
                            tr {
                                td { code { (t.name) } }
                                td { (t.language) }
                                td class="opt" { (t.category.as_deref().unwrap_or("—")) }
                                td { (t.status) }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(page(
        tr,
        tr.t("numbers.cloud.templates"),
        Some(nav(s)),
        body,
    ))
}

pub async fn templates(
    State(state): State<AppState>,
    s: SignedIn,
    Path(id): Path<AccountId>,
) -> Result<Response, ApiError> {
    if Ctx::of(&s).is_err() {
        return Ok(Redirect::to("/").into_response());
    }
    let (ctx, a) = match number(&state, &s, id).await? {
        Ok(found) => found,
        Err(page) => return Ok(page),
    };
    Ok(templates_page(&state, &s, &ctx, &a, None)
        .await?
        .into_response())
}

pub async fn sync(
    State(state): State<AppState>,
    s: SignedIn,
    Path(id): Path<AccountId>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, ApiError> {
    check_csrf(&s, &f.csrf)?;
    let (ctx, a) = match number(&state, &s, id).await? {
        Ok(found) => found,
        Err(page) => return Ok(page),
    };
    match crate::cloud::templates::sync(&state, &ctx.caller, id).await {
        Ok(_) => Ok(Redirect::to(&format!("/numbers/{id}/templates")).into_response()),
        Err(
            e @ (ApiError::Invalid { .. } | ApiError::Conflict(..) | ApiError::Unavailable(..)),
        ) => {
            let page = templates_page(&state, &s, &ctx, &a, Some(&error_text(s.tr, &e))).await?;
            Ok((e.status(), page).into_response())
        }
        Err(e) => Err(e),
    }
}
