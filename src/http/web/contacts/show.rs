//! `/contacts/{id}`: one contact, its details form, its tags (added and
//! removed one at a time), its chats (linked to the inbox) and deleting it.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use blazz_store::contacts::Contact;
use maud::{html, Markup};
use serde_json::Value;

use super::chats::{chats_card, chats_of};
use super::{caller, contact_id, no_workspace, not_found};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::http::extract::Path;
use crate::http::web::home::nav;
use crate::http::web::layout::{csrf_field, error_box, page};
use crate::http::web::SignedIn;
use crate::services::contacts as service;
use crate::state::AppState;

/// What the details form shows: the stored contact, or what was entered.
#[derive(Default)]
pub struct Values {
    pub phone: String,
    pub name: String,
    pub notes: String,
    pub opted_out: bool,
    /// Custom fields, name and value as text.
    pub fields: Vec<(String, String)>,
    /// The "new field" pair.
    pub new_field: (String, String),
}

/// A custom field's value as the form shows it.
pub fn field_text(v: &Value) -> String {
    match v {
        Value::String(t) => t.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

impl From<&Contact> for Values {
    fn from(c: &Contact) -> Self {
        Values {
            phone: c.phone.clone(),
            name: c.name.clone().unwrap_or_default(),
            notes: c.notes.clone().unwrap_or_default(),
            opted_out: c.opted_out_at.is_some(),
            fields: c
                .fields
                .iter()
                .map(|(k, v)| (k.clone(), field_text(v)))
                .collect(),
            new_field: Default::default(),
        }
    }
}

fn fields_part(s: &SignedIn, v: &Values) -> Markup {
    let tr = s.tr;
    html! {
        fieldset class="fields" {
            legend { (tr.t("contacts.fields")) }
            @for (i, (k, value)) in v.fields.iter().enumerate() {
                label for=(format!("field-{i}")) { (k) }
                input id=(format!("field-{i}")) name=(format!("field.{k}")) value=(value) autocomplete="off";
            }
            @if !v.fields.is_empty() {
                p class="muted hint" { (tr.t("contacts.fields_hint")) }
            }
            div class="new-field" {
                div {
                    label for="new-field-name" { (tr.t("contacts.new_field_name")) }
                    input id="new-field-name" name="new_field_name" value=(v.new_field.0) maxlength="64" placeholder="city" autocomplete="off";
                }
                div {
                    label for="new-field-value" { (tr.t("contacts.new_field_value")) }
                    input id="new-field-value" name="new_field_value" value=(v.new_field.1) autocomplete="off";
                }
            }
            p class="muted hint" { (tr.t("contacts.new_field_hint")) }
        }
    }
}

/// The details form, posting to `action`; with `tags` (adding a contact)
/// it asks for tags too.
pub fn details_form(
    s: &SignedIn,
    v: &Values,
    action: &str,
    error: Option<&str>,
    button: &str,
    tags: Option<&str>,
) -> Markup {
    let tr = s.tr;
    html! {
        (error_box(error))
        form method="post" action=(action) class="contact-form" {
            (csrf_field(&s.csrf))
            label for="contact-name" { (tr.t("contacts.name")) }
            input id="contact-name" name="name" maxlength="200" value=(v.name) autocomplete="off";
            label for="contact-phone" { (tr.t("contacts.phone")) }
            input id="contact-phone" name="phone" type="tel" required value=(v.phone) placeholder="+6281234567890" autocomplete="off";
            p class="muted hint" { (tr.t("contacts.phone_hint")) }
            @if let Some(tags) = tags {
                label for="contact-tags" { (tr.t("contacts.tags")) }
                input id="contact-tags" name="tags" value=(tags) placeholder=(tr.t("contacts.tags_placeholder"));
            }
            label for="contact-notes" { (tr.t("contacts.notes")) }
            textarea id="contact-notes" name="notes" rows="3" maxlength="10000" { (v.notes) }
            div class="check" {
                input id="contact-opted-out" name="opted_out" type="checkbox" value="on" checked[v.opted_out];
                label for="contact-opted-out" { (tr.t("contacts.opted_out")) }
            }
            p class="muted hint" { (tr.t("contacts.opted_out_hint")) }
            (fields_part(s, v))
            button type="submit" { (button) }
        }
    }
}

fn tags_card(s: &SignedIn, c: &Contact, error: Option<&str>) -> Markup {
    let tr = s.tr;
    let base = format!("/contacts/{}/tags", c.id);
    html! {
        section class="card" id="tags" {
            h2 { (tr.t("contacts.tags")) }
            (error_box(error))
            @if c.tags.is_empty() {
                p class="muted" data-testid="no-tags" { (tr.t("contacts.no_tags")) }
            } @else {
                ul class="tag-list" data-testid="tags" {
                    @for t in &c.tags {
                        li {
                            span class="tag" { (t) }
                            form class="inline" method="post" action=(format!("{base}/remove")) {
                                (csrf_field(&s.csrf))
                                input type="hidden" name="tag" value=(t);
                                button type="submit" class="link remove-tag"
                                    aria-label=(tr.f("contacts.remove_tag", &[("tag", t)])) { "×" }
                            }
                        }
                    }
                }
            }
            form method="post" action=(base) class="add-tag" {
                (csrf_field(&s.csrf))
                label for="new-tag" { (tr.t("contacts.add_tag")) }
                div class="row" {
                    input id="new-tag" name="tag" required maxlength="200" placeholder=(tr.t("contacts.tag_hint"));
                    button type="submit" class="secondary" { (tr.t("contacts.add_tag_button")) }
                }
                p class="muted hint" { (tr.t("contacts.tags_hint")) }
            }
        }
    }
}

/// The whole page; `error` is shown on the details form, `tag_error` on
/// the tags.
pub async fn render(
    state: &AppState,
    s: &SignedIn,
    caller: &Caller,
    c: &Contact,
    values: Option<Values>,
    error: Option<&str>,
    tag_error: Option<&str>,
) -> Result<Markup, ApiError> {
    let tr = s.tr;
    let title = c.name.clone().unwrap_or_else(|| c.phone.clone());
    let chats = chats_of(state, caller, c).await?;
    let values = values.unwrap_or_else(|| Values::from(c));
    let action = format!("/contacts/{}", c.id);
    let body = html! {
        p { a href="/contacts" { "← " (tr.t("contacts.title")) } }
        section class="card" {
            h1 { (title) }
            @if c.opted_out_at.is_some() {
                p { span class="status opted-out" data-testid="opted-out" { (tr.t("contacts.opted_out_badge")) } }
            }
            (details_form(s, &values, &action, error, tr.t("contacts.save"), None))
        }
        (tags_card(s, c, tag_error))
        (chats_card(s, &chats))
        section class="card" {
            h2 { (tr.t("contacts.delete.title")) }
            p class="muted" { (tr.t("contacts.delete.text")) }
            form method="post" action=(format!("/contacts/{}/delete", c.id)) {
                (csrf_field(&s.csrf))
                button type="submit" class="danger" { (tr.t("contacts.delete.button")) }
            }
        }
    };
    Ok(page(tr, &title, Some(nav(s)), body))
}

pub async fn show(
    State(state): State<AppState>,
    s: SignedIn,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let Some(caller) = caller(&s) else {
        return Ok(no_workspace());
    };
    let Some(id) = contact_id(&raw) else {
        return Ok(not_found(&s));
    };
    let found = {
        let mut conn = state.db.pool.acquire().await?;
        service::find(&mut conn, &caller, id).await
    };
    let c = match found {
        Ok(c) => c,
        Err(ApiError::NotFound(..)) => return Ok(not_found(&s)),
        Err(e) => return Err(e),
    };
    let page = render(&state, &s, &caller, &c, None, None, None).await?;
    Ok((StatusCode::OK, page).into_response())
}
