//! CSV import, step one: the upload form, and the upload checked (a CSV
//! with a phone column, not too large) and kept on the server
//! (`pending`) for its preview.

use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{html, Markup};

use super::edit::split_tags;
use super::{caller, csrf_ok, expired, no_workspace, pending};
use crate::error::ApiError;
use crate::http::web::home::nav;
use crate::http::web::layout::{csrf_field, error_box, page};
use crate::http::web::SignedIn;
use crate::services::contacts_io;

/// The largest file the page takes (bigger imports go through the API).
pub const MAX_FILE: usize = 5 * 1024 * 1024;
/// The request around it: the file, the form's other fields, boundaries.
pub const BODY_LIMIT: usize = MAX_FILE + 64 * 1024;

fn upload_page(s: &SignedIn, error: Option<&str>, tags: &str) -> Markup {
    let tr = s.tr;
    let body = html! {
        p { a href="/contacts" { "← " (tr.t("contacts.title")) } }
        section class="card" {
            h1 { (tr.t("contacts.import.title")) }
            p { (tr.t("contacts.import.intro")) }
            ul class="columns-help" {
                li { code { "phone" } " — " (tr.t("contacts.import.col_phone")) }
                li { code { "name" } " — " (tr.t("contacts.import.col_name")) }
                li { code { "tags" } " — " (tr.t("contacts.import.col_tags")) }
                li { code { "notes" } " — " (tr.t("contacts.import.col_notes")) }
                li { code { "opted_out" } " — " (tr.t("contacts.import.col_opted_out")) }
            }
            p class="muted" { (tr.t("contacts.import.other_columns")) }
            p class="muted" { (tr.f("contacts.import.limit", &[("mb", &(MAX_FILE / (1024 * 1024)))])) }
            (error_box(error))
            form method="post" action="/contacts/import" enctype="multipart/form-data" {
                (csrf_field(&s.csrf))
                label for="import-file" { (tr.t("contacts.import.file")) }
                input id="import-file" name="file" type="file" required accept=".csv,text/csv";
                label for="import-tags" { (tr.t("contacts.import.tags")) }
                input id="import-tags" name="tags" value=(tags) placeholder=(tr.t("contacts.tags_placeholder"));
                button type="submit" { (tr.t("contacts.import.check")) }
            }
        }
    };
    page(tr, tr.t("contacts.import.title"), Some(nav(s)), body)
}

pub async fn form(s: SignedIn) -> Response {
    if caller(&s).is_none() {
        return no_workspace();
    }
    upload_page(&s, None, "").into_response()
}

/// What the upload form sent.
#[derive(Default)]
struct Sent {
    csrf: String,
    tags: String,
    filename: String,
    file: Vec<u8>,
}

/// Why an upload cannot be previewed, for the member.
enum Refused {
    TooLarge,
    Unreadable,
}

async fn read_form(mut m: Multipart) -> Result<Sent, Refused> {
    let mut sent = Sent::default();
    while let Some(mut field) = m.next_field().await.map_err(refusal)? {
        match field.name().unwrap_or_default() {
            "file" => {
                sent.filename = field.file_name().unwrap_or_default().to_string();
                while let Some(chunk) = field.chunk().await.map_err(refusal)? {
                    if sent.file.len() + chunk.len() > MAX_FILE {
                        return Err(Refused::TooLarge);
                    }
                    sent.file.extend_from_slice(&chunk);
                }
            }
            "csrf" => sent.csrf = field.text().await.map_err(refusal)?,
            "tags" => sent.tags = field.text().await.map_err(refusal)?,
            _ => {}
        }
    }
    Ok(sent)
}

fn refusal(e: axum::extract::multipart::MultipartError) -> Refused {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        Refused::TooLarge
    } else {
        Refused::Unreadable
    }
}

/// The file as text with its columns, or why it is not a contacts CSV.
fn check_file(s: &SignedIn, bytes: Vec<u8>) -> Result<(String, Vec<String>), String> {
    let tr = s.tr;
    if bytes.is_empty() {
        return Err(tr.t("contacts.import.error.empty").into());
    }
    let text = match String::from_utf8(bytes) {
        Ok(t) if !t.contains('\0') => t,
        _ => return Err(tr.t("contacts.import.error.not_csv").into()),
    };
    let text = text
        .strip_prefix('\u{feff}')
        .map(str::to_string)
        .unwrap_or(text);
    let headers = match contacts_io::headers(&text) {
        Ok(h) => h,
        Err(_) => return Err(tr.t("contacts.import.error.not_csv").into()),
    };
    if !headers.iter().any(|h| h.eq_ignore_ascii_case("phone")) {
        return Err(tr.f(
            "contacts.import.error.no_phone",
            &[("columns", &headers.join(", "))],
        ));
    }
    Ok((text, headers))
}

pub async fn upload(
    s: SignedIn,
    m: Result<Multipart, MultipartRejection>,
) -> Result<Response, ApiError> {
    let Some(caller) = caller(&s) else {
        return Ok(no_workspace());
    };
    let tr = s.tr;
    let refused = |error: String, tags: &str, status: StatusCode| {
        (status, upload_page(&s, Some(&error), tags)).into_response()
    };
    let sent = match m {
        Err(_) => {
            let e = tr.t("contacts.import.error.unreadable").to_string();
            return Ok(refused(e, "", StatusCode::BAD_REQUEST));
        }
        Ok(m) => match read_form(m).await {
            Ok(sent) => sent,
            Err(Refused::TooLarge) => {
                let mb = MAX_FILE / (1024 * 1024);
                let e = tr.f("contacts.import.error.too_large", &[("mb", &mb)]);
                return Ok(refused(e, "", StatusCode::PAYLOAD_TOO_LARGE));
            }
            Err(Refused::Unreadable) => {
                let e = tr.t("contacts.import.error.unreadable").to_string();
                return Ok(refused(e, "", StatusCode::BAD_REQUEST));
            }
        },
    };
    if !csrf_ok(&s, &sent.csrf) {
        return Ok(expired(&s));
    }
    let (text, _) = match check_file(&s, sent.file) {
        Ok(ok) => ok,
        Err(e) => return Ok(refused(e, &sent.tags, StatusCode::UNPROCESSABLE_ENTITY)),
    };
    let tags = split_tags(&sent.tags);
    if let Err(e) = crate::services::contacts::tags(&tags) {
        let e = super::edit::reason(&s, &e);
        return Ok(refused(e, &sent.tags, StatusCode::UNPROCESSABLE_ENTITY));
    }
    let (Some(user), ws) = (caller.user_id, caller.workspace_id) else {
        return Ok(no_workspace());
    };
    let key = pending::keep(ws, user, sent.filename, text, tags);
    Ok(Redirect::to(&format!("/contacts/import/{key}")).into_response())
}
