//! Adding, changing and deleting a contact from its forms. A refusal the
//! member can fix (a bad phone number, one already in the workspace) shows
//! the form again with what was entered.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use maud::html;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::show::{self, details_form, field_text, Values};
use super::{caller, contact_id, csrf_ok, expired, no_workspace, not_found};
use crate::error::ApiError;
use crate::http::extract::Path;
use crate::http::web::home::nav;
use crate::http::web::layout::page;
use crate::http::web::SignedIn;
use crate::services::contacts::{self as service, Changes};
use crate::state::AppState;

/// The details form as posted. Read from the raw pairs: custom fields
/// come as `field.{name}`, one input each.
#[derive(Default)]
pub struct DetailsForm {
    csrf: String,
    phone: String,
    name: String,
    notes: String,
    /// A checkbox: present when ticked.
    opted_out: bool,
    /// Tags when adding (comma-separated).
    tags: String,
    fields: Vec<(String, String)>,
    new_field: (String, String),
}

impl DetailsForm {
    fn of(pairs: Vec<(String, String)>) -> Self {
        let mut f = DetailsForm::default();
        for (k, v) in pairs {
            match k.as_str() {
                "csrf" => f.csrf = v,
                "phone" => f.phone = v,
                "name" => f.name = v,
                "notes" => f.notes = v,
                "opted_out" => f.opted_out = true,
                "tags" => f.tags = v,
                "new_field_name" => f.new_field.0 = v,
                "new_field_value" => f.new_field.1 = v,
                _ => {
                    if let Some(name) = k.strip_prefix("field.") {
                        f.fields.push((name.to_string(), v));
                    }
                }
            }
        }
        f
    }

    fn values(&self) -> Values {
        Values {
            phone: self.phone.clone(),
            name: self.name.clone(),
            notes: self.notes.clone(),
            opted_out: self.opted_out,
            fields: self.fields.clone(),
            new_field: self.new_field.clone(),
        }
    }

    /// The changes the form asks for; custom fields left as they were
    /// keep their stored value (a number stays a number), an emptied one
    /// is removed.
    fn changes(&self, before: &Map<String, Value>) -> Changes {
        let text = |v: &str| Some(Some(v.to_string()).filter(|s| !s.trim().is_empty()));
        let mut fields = Map::new();
        for (k, v) in &self.fields {
            let v = v.trim();
            if v.is_empty() {
                continue;
            }
            let kept = before.get(k).filter(|old| field_text(old) == v).cloned();
            fields.insert(
                k.clone(),
                kept.unwrap_or_else(|| Value::String(v.to_string())),
            );
        }
        let (name, value) = (self.new_field.0.trim(), self.new_field.1.trim());
        if !name.is_empty() || !value.is_empty() {
            fields.insert(name.to_string(), Value::String(value.to_string()));
        }
        Changes {
            phone: Some(self.phone.clone()),
            name: text(&self.name),
            notes: text(&self.notes),
            opted_out: Some(self.opted_out),
            fields: Some(fields),
            ..Default::default()
        }
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// Splits "vip, Leads;x" into tags.
pub fn split_tags(raw: &str) -> Vec<String> {
    raw.split([',', ';'])
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}

/// Whether the member can fix this refusal on the form.
fn shown(e: &ApiError) -> bool {
    matches!(e, ApiError::Invalid { .. } | ApiError::Conflict(..))
}

fn new_page(s: &SignedIn, f: Option<&DetailsForm>, error: Option<&str>) -> maud::Markup {
    let tr = s.tr;
    let values = f.map(DetailsForm::values).unwrap_or_default();
    let tags = f.map(|f| f.tags.clone()).unwrap_or_default();
    let body = html! {
        p { a href="/contacts" { "← " (tr.t("contacts.title")) } }
        section class="card" {
            h1 { (tr.t("contacts.new.title")) }
            (details_form(s, &values, "/contacts", error, tr.t("contacts.new.button"), Some(&tags)))
        }
    };
    page(tr, tr.t("contacts.new.title"), Some(nav(s)), body)
}

pub async fn new(s: SignedIn) -> Response {
    if caller(&s).is_none() {
        return no_workspace();
    }
    new_page(&s, None, None).into_response()
}

pub async fn create(
    State(state): State<AppState>,
    s: SignedIn,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let f = DetailsForm::of(pairs);
    if !csrf_ok(&s, &f.csrf) {
        return Ok(expired(&s));
    }
    let Some(caller) = caller(&s) else {
        return Ok(no_workspace());
    };
    let mut changes = f.changes(&Map::new());
    changes.tags = Some(split_tags(&f.tags));
    match service::create(&state, &caller, changes).await {
        Ok(c) => Ok(Redirect::to(&format!("/contacts/{}", c.id)).into_response()),
        Err(e) if shown(&e) => {
            let status = e.status();
            let page = new_page(&s, Some(&f), Some(&reason(&s, &e)));
            Ok((status, page).into_response())
        }
        Err(e) => Err(e),
    }
}

pub async fn update(
    State(state): State<AppState>,
    s: SignedIn,
    Path(raw): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let f = DetailsForm::of(pairs);
    if !csrf_ok(&s, &f.csrf) {
        return Ok(expired(&s));
    }
    let Some(caller) = caller(&s) else {
        return Ok(no_workspace());
    };
    let Some(id) = contact_id(&raw) else {
        return Ok(not_found(&s));
    };
    let before = {
        let mut conn = state.db.pool.acquire().await?;
        match service::find(&mut conn, &caller, id).await {
            Ok(c) => c,
            Err(ApiError::NotFound(..)) => return Ok(not_found(&s)),
            Err(e) => return Err(e),
        }
    };
    match service::update(&state, &caller, id, f.changes(&before.fields)).await {
        Ok(c) => Ok(Redirect::to(&format!("/contacts/{}", c.id)).into_response()),
        Err(ApiError::NotFound(..)) => Ok(not_found(&s)),
        Err(e) if shown(&e) => {
            let status = e.status();
            let c = {
                let mut conn = state.db.pool.acquire().await?;
                service::find(&mut conn, &caller, id).await?
            };
            let error = reason(&s, &e);
            let page = show::render(
                &state,
                &s,
                &caller,
                &c,
                Some(f.values()),
                Some(&error),
                None,
            )
            .await?;
            Ok((status, page).into_response())
        }
        Err(e) => Err(e),
    }
}

pub async fn delete(
    State(state): State<AppState>,
    s: SignedIn,
    Path(raw): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, ApiError> {
    if !csrf_ok(&s, &f.csrf) {
        return Ok(expired(&s));
    }
    let Some(caller) = caller(&s) else {
        return Ok(no_workspace());
    };
    let Some(id) = contact_id(&raw) else {
        return Ok(not_found(&s));
    };
    match service::delete(&state, &caller, id).await {
        Ok(()) => Ok(Redirect::to("/contacts?deleted=1").into_response()),
        Err(ApiError::NotFound(..)) => Ok(not_found(&s)),
        Err(e) => Err(e),
    }
}

/// A refusal in the member's language, by its stable code; the service's
/// own words for anything else.
pub fn reason(s: &SignedIn, e: &ApiError) -> String {
    let key = match e.code() {
        "invalid_phone" => "contacts.error.invalid_phone",
        "contact_exists" => "contacts.error.contact_exists",
        "invalid_tag" => "contacts.error.invalid_tag",
        "invalid_fields" => "contacts.error.invalid_fields",
        _ => return e.to_string(),
    };
    s.tr.t(key).to_string()
}
