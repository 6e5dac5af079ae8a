//! CSV import, step two: the preview is the API's dry run of the kept
//! file (how many contacts would be added or updated, and every bad row
//! with its line, column and reason); only the confirmation writes.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use maud::{html, Markup};
use serde::Deserialize;

use super::{caller, csrf_ok, expired, no_workspace, notice, pending};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::http::extract::Path;
use crate::http::web::home::nav;
use crate::http::web::layout::{csrf_field, page};
use crate::http::web::SignedIn;
use crate::services::contacts_io::{self, ImportReport, Mapping, RowError};
use crate::state::AppState;

/// Bad rows listed on the preview; the rest are counted.
const SHOWN_ERRORS: usize = 100;

/// The mapping the page imports with: the known columns by name, and every
/// other column whose name can be a custom field's as that field (so an
/// export imports back whole).
fn mapping(headers: &[String]) -> Mapping {
    let mut m = Mapping::default();
    for h in headers {
        let known = contacts_io::KNOWN_COLUMNS
            .iter()
            .any(|k| k.eq_ignore_ascii_case(h));
        if !known && contacts_io::field_name_ok(h) {
            m.fields.insert(h.clone(), h.clone());
        }
    }
    m
}

/// An upload that is gone (expired, confirmed, another member's).
fn gone(s: &SignedIn) -> Response {
    notice(
        s,
        StatusCode::NOT_FOUND,
        s.tr.t("contacts.import.gone.title"),
        s.tr.t("contacts.import.gone.text"),
    )
}

fn upload_of(key: &str, caller: &Caller, take: bool) -> Option<pending::Upload> {
    let user = caller.user_id?;
    if take {
        pending::take(key, caller.workspace_id, user)
    } else {
        pending::get(key, caller.workspace_id, user)
    }
}

async fn run(
    state: &AppState,
    caller: &Caller,
    up: &pending::Upload,
    dry_run: bool,
) -> Result<ImportReport, ApiError> {
    let headers = contacts_io::headers(&up.csv)?;
    contacts_io::import(
        state,
        caller,
        &up.csv,
        &mapping(&headers),
        &up.tags,
        dry_run,
    )
    .await
}

/// A bad row's reason in the member's language.
fn row_reason(s: &SignedIn, e: &RowError) -> String {
    let key = match e.code.as_str() {
        "invalid_phone" => "contacts.import.reason.invalid_phone",
        "duplicate_phone" => "contacts.import.reason.duplicate_phone",
        "invalid_tag" => "contacts.import.reason.invalid_tag",
        "invalid_opted_out" => "contacts.import.reason.invalid_opted_out",
        "invalid_csv" => "contacts.import.reason.invalid_csv",
        _ => return e.message.clone(),
    };
    s.tr.t(key).to_string()
}

fn report_view(s: &SignedIn, r: &ImportReport) -> Markup {
    let tr = s.tr;
    html! {
        ul class="import-counts" data-testid="counts" {
            li data-count="created" { (tr.n("contacts.import.count.created", r.created as i64, &[])) }
            li data-count="updated" { (tr.n("contacts.import.count.updated", r.updated as i64, &[])) }
            li data-count="unchanged" { (tr.n("contacts.import.count.unchanged", r.unchanged as i64, &[])) }
            li data-count="failed" { (tr.n("contacts.import.count.failed", r.failed as i64, &[])) }
        }
        @if !r.errors.is_empty() {
            h2 { (tr.t("contacts.import.errors")) }
            table class="row-errors" data-testid="row-errors" {
                thead { tr {
                    th { (tr.t("contacts.import.line")) }
                    th { (tr.t("contacts.import.column")) }
                    th { (tr.t("contacts.import.reason_header")) }
                } }
                tbody {
                    @for e in r.errors.iter().take(SHOWN_ERRORS) {
                        tr {
                            td { (e.line) }
                            td { (e.column.as_deref().unwrap_or("—")) }
                            td { (row_reason(s, e)) }
                        }
                    }
                }
            }
            @if r.failed as usize > SHOWN_ERRORS {
                p class="muted" { (tr.n("contacts.import.more_errors", (r.failed as usize - SHOWN_ERRORS) as i64, &[])) }
            }
            p class="muted" { (tr.t("contacts.import.errors_skipped")) }
        }
    }
}

pub async fn preview(
    State(state): State<AppState>,
    s: SignedIn,
    Path(key): Path<String>,
) -> Result<Response, ApiError> {
    let Some(caller) = caller(&s) else {
        return Ok(no_workspace());
    };
    let Some(up) = upload_of(&key, &caller, false) else {
        return Ok(gone(&s));
    };
    let tr = s.tr;
    let report = run(&state, &caller, &up, true).await?;
    let headers = contacts_io::headers(&up.csv)?;
    let fields: Vec<String> = mapping(&headers).fields.into_keys().collect();
    let ignored: Vec<&String> = headers
        .iter()
        .filter(|h| {
            !contacts_io::KNOWN_COLUMNS
                .iter()
                .any(|k| k.eq_ignore_ascii_case(h))
                && !fields.contains(h)
        })
        .collect();
    let writes = report.created + report.updated > 0;
    let body = html! {
        p { a href="/contacts/import" { "← " (tr.t("contacts.import.another")) } }
        section class="card" data-testid="preview" {
            h1 { (tr.t("contacts.import.preview")) }
            p class="muted" {
                (tr.n("contacts.import.rows", report.rows as i64, &[("file", &up.filename)]))
            }
            @if !fields.is_empty() {
                p class="muted" { (tr.f("contacts.import.fields", &[("columns", &fields.join(", "))])) }
            }
            @if !ignored.is_empty() {
                p class="muted" { (tr.f("contacts.import.ignored", &[("columns", &ignored.iter().map(|h| h.as_str()).collect::<Vec<_>>().join(", "))])) }
            }
            @if !up.tags.is_empty() {
                p class="muted" { (tr.f("contacts.import.tagged", &[("tags", &up.tags.join(", "))])) }
            }
            (report_view(&s, &report))
            @if writes {
                form method="post" action=(format!("/contacts/import/{key}")) {
                    (csrf_field(&s.csrf))
                    button type="submit" { (tr.t("contacts.import.confirm")) }
                }
            } @else {
                p data-testid="nothing" { (tr.t("contacts.import.nothing")) }
            }
        }
    };
    Ok(page(tr, tr.t("contacts.import.preview"), Some(nav(&s)), body).into_response())
}

#[derive(Deserialize)]
pub struct ConfirmForm {
    #[serde(default)]
    csrf: String,
}

pub async fn confirm(
    State(state): State<AppState>,
    s: SignedIn,
    Path(key): Path<String>,
    Form(f): Form<ConfirmForm>,
) -> Result<Response, ApiError> {
    if !csrf_ok(&s, &f.csrf) {
        return Ok(expired(&s));
    }
    let Some(caller) = caller(&s) else {
        return Ok(no_workspace());
    };
    // Taken out first: a second click finds nothing rather than importing
    // twice (which would change nothing anyway: contacts match by phone).
    let Some(up) = upload_of(&key, &caller, true) else {
        return Ok(gone(&s));
    };
    match run(&state, &caller, &up, false).await {
        Ok(r) => Ok(Redirect::to(&format!(
            "/contacts?imported={}&updated={}",
            r.created, r.updated
        ))
        .into_response()),
        Err(e) => {
            pending::put_back(key, up);
            Err(e)
        }
    }
}
