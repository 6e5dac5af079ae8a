//! Contacts of the workspace: list and search, create, read, change, delete.

use axum::extract::State;
use axum::http::StatusCode;
use blazz_domain::ContactId;
use blazz_store::contacts::{self, Contact, Filter};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::{rfc3339, Page};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::{Json, Path, Query};
use crate::services::contacts::{self as service, Changes};
use crate::services::contacts_io as service_io;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct ContactView {
    pub id: String,
    /// E.164.
    pub phone: String,
    pub name: Option<String>,
    /// Lower-case; tags are also the audience groups of campaigns.
    pub tags: Vec<String>,
    #[schema(value_type = Object)]
    pub fields: Map<String, Value>,
    pub notes: Option<String>,
    pub opted_out: bool,
    pub opted_out_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<Contact> for ContactView {
    fn from(c: Contact) -> Self {
        Self {
            id: c.id.to_string(),
            phone: c.phone,
            name: c.name,
            tags: c.tags,
            fields: c.fields,
            notes: c.notes,
            opted_out: c.opted_out_at.is_some(),
            opted_out_at: c.opted_out_at.map(rfc3339),
            created_at: rfc3339(c.created_at),
            updated_at: rfc3339(c.updated_at),
        }
    }
}

/// Present-and-null is not the same as absent: `"name": null` clears.
pub(crate) fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ContactBody {
    /// Any common way of writing a number; stored as E.164. Required to create.
    pub phone: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub name: Option<Option<String>>,
    pub tags: Option<Vec<String>>,
    /// Custom fields: names of letters, digits and `_`; values text, numbers or booleans.
    #[schema(value_type = Option<Object>)]
    pub fields: Option<Map<String, Value>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub notes: Option<Option<String>>,
    pub opted_out: Option<bool>,
}

impl From<ContactBody> for Changes {
    fn from(b: ContactBody) -> Self {
        Changes {
            phone: b.phone,
            name: b.name,
            tags: b.tags,
            fields: b.fields,
            notes: b.notes,
            opted_out: b.opted_out,
        }
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ContactsQuery {
    /// Part of a name (any case) or of a phone number.
    pub q: Option<String>,
    /// Only contacts with this tag.
    pub tag: Option<String>,
    pub opted_out: Option<bool>,
    pub cursor: Option<String>,
    /// 1 to 200, default 50.
    pub limit: Option<i64>,
}

/// Contacts, newest first, searchable by name, phone and tag.
#[utoipa::path(get, path = "/contacts", tag = "contacts", params(ContactsQuery),
    responses((status = 200, body = Page<ContactView>), (status = 422, body = super::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ContactsQuery>,
) -> ApiResult<Json<Page<ContactView>>> {
    let before = match q.cursor.as_deref() {
        Some(c) => Some(
            c.parse()
                .map_err(|_| ApiError::invalid("invalid_cursor", "not a cursor of this list"))?,
        ),
        None => None,
    };
    let limit = super::page_limit(q.limit);
    let filter = Filter {
        search: q
            .q
            .filter(|s| !s.trim().is_empty())
            .map(|s| s.trim().to_string()),
        tag: q.tag.map(|t| t.trim().to_lowercase()),
        opted_out: q.opted_out,
        before,
        limit,
    };
    let mut conn = state.db.pool.acquire().await?;
    let found = contacts::list(&mut conn, caller.workspace_id, &filter).await?;
    Ok(Json(Page::of(
        found,
        limit,
        |c| c.id.to_string(),
        Into::into,
    )))
}

/// Adds a contact; a phone number already in the workspace is 409.
#[utoipa::path(post, path = "/contacts", tag = "contacts", request_body = ContactBody,
    responses((status = 201, body = ContactView), (status = 409, body = super::ErrorBody),
              (status = 422, body = super::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<ContactBody>,
) -> ApiResult<(StatusCode, Json<ContactView>)> {
    let c = service::create(&state, &caller, body.into()).await?;
    Ok((StatusCode::CREATED, Json(c.into())))
}

/// One contact.
#[utoipa::path(get, path = "/contacts/{id}", tag = "contacts", params(("id" = String, Path)),
    responses((status = 200, body = ContactView), (status = 404, body = super::ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<ContactId>,
) -> ApiResult<Json<ContactView>> {
    let mut conn = state.db.pool.acquire().await?;
    Ok(Json(service::find(&mut conn, &caller, id).await?.into()))
}

/// Changes the fields given (`null` clears name and notes; `tags` and
/// `fields` replace the whole set).
#[utoipa::path(patch, path = "/contacts/{id}", tag = "contacts", params(("id" = String, Path)),
    request_body = ContactBody,
    responses((status = 200, body = ContactView), (status = 404, body = super::ErrorBody),
              (status = 409, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<ContactId>,
    Json(body): Json<ContactBody>,
) -> ApiResult<Json<ContactView>> {
    Ok(Json(
        service::update(&state, &caller, id, body.into())
            .await?
            .into(),
    ))
}

/// Deletes a contact.
#[utoipa::path(delete, path = "/contacts/{id}", tag = "contacts", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = super::ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<ContactId>,
) -> ApiResult<StatusCode> {
    service::delete(&state, &caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportBody {
    /// The CSV text, with a header line.
    pub csv: String,
    #[serde(default)]
    pub mapping: service_io::Mapping,
    /// Tags added to every imported contact.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Only check the file: report what would happen, change nothing.
    #[serde(default)]
    pub dry_run: bool,
}

/// Imports contacts from CSV (up to 64 MiB): matched by phone, so importing
/// a file again changes nothing; bad rows are reported by line and skipped.
#[utoipa::path(post, path = "/contacts/import", tag = "contacts", request_body = ImportBody,
    responses((status = 200, body = service_io::ImportReport), (status = 422, body = super::ErrorBody)))]
pub async fn import(
    State(state): State<AppState>,
    caller: Caller,
    Json(b): Json<ImportBody>,
) -> ApiResult<Json<service_io::ImportReport>> {
    let report =
        service_io::import(&state, &caller, &b.csv, &b.mapping, &b.tags, b.dry_run).await?;
    Ok(Json(report))
}

/// All contacts as CSV: phone, name, tags, notes, opted_out, custom fields.
#[utoipa::path(get, path = "/contacts/export", tag = "contacts",
    responses((status = 200, content_type = "text/csv", body = String)))]
pub async fn export(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse;
    let csv = service_io::export(&state, &caller).await?;
    let headers = [
        (axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8"),
        (
            axum::http::header::CONTENT_DISPOSITION,
            "attachment; filename=\"contacts.csv\"",
        ),
    ];
    Ok((headers, csv).into_response())
}
