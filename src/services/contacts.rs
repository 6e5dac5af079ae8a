//! Contacts: validation (E.164 phones, tags, custom fields) and the writes,
//! each with its outbox event.

use blazz_domain::{ContactId, Phone};
use blazz_store::contacts::{self, Contact};
use blazz_store::{is_unique_violation, now_ms, outbox, Conn};
use serde_json::{json, Map, Value};

use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;

/// What a create or an update may set; `None` leaves a field as it is.
#[derive(Debug, Default, Clone)]
pub struct Changes {
    pub phone: Option<String>,
    pub name: Option<Option<String>>,
    pub tags: Option<Vec<String>>,
    pub fields: Option<Map<String, Value>>,
    pub notes: Option<Option<String>>,
    pub opted_out: Option<bool>,
}

pub fn phone(state: &AppState, raw: &str) -> Result<Phone, ApiError> {
    Phone::parse(raw, state.config.contacts.default_country.as_deref())
        .map_err(|e| ApiError::invalid("invalid_phone", e.to_string()))
}

/// Tags are trimmed and lower-cased ("VIP " and "vip" are one group).
pub fn tags(raw: &[String]) -> Result<Vec<String>, ApiError> {
    let mut out: Vec<String> = Vec::new();
    for t in raw {
        let t = t.trim().to_lowercase();
        if t.is_empty() || t.chars().count() > 50 {
            return Err(ApiError::invalid(
                "invalid_tag",
                "tags have 1 to 50 characters",
            ));
        }
        if !out.contains(&t) {
            out.push(t);
        }
    }
    if out.len() > 50 {
        return Err(ApiError::invalid(
            "invalid_tag",
            "at most 50 tags per contact",
        ));
    }
    out.sort();
    Ok(out)
}

/// A custom field's name: 1 to 64 letters, digits and `_`.
pub fn field_name_ok(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn fields(map: Map<String, Value>) -> Result<Map<String, Value>, ApiError> {
    if map.len() > 100 {
        return Err(ApiError::invalid(
            "invalid_fields",
            "at most 100 custom fields",
        ));
    }
    for (k, v) in &map {
        if !field_name_ok(k) {
            return Err(ApiError::invalid(
                "invalid_fields",
                format!("field name {k:?}: letters, digits and _ only"),
            ));
        }
        if !matches!(
            v,
            Value::String(_) | Value::Number(_) | Value::Bool(_) | Value::Null
        ) {
            return Err(ApiError::invalid(
                "invalid_fields",
                format!("field {k:?}: text, number or true/false"),
            ));
        }
    }
    Ok(map)
}

fn text(what: &'static str, v: Option<String>, max: usize) -> Result<Option<String>, ApiError> {
    let v = v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    if v.as_ref().is_some_and(|s| s.chars().count() > max) {
        return Err(ApiError::invalid(
            "invalid_body",
            format!("{what} has at most {max} characters"),
        ));
    }
    Ok(v)
}

/// Applies `changes` to `c` (validating them).
fn apply(state: &AppState, c: &mut Contact, changes: Changes) -> Result<(), ApiError> {
    if let Some(p) = changes.phone {
        c.phone = phone(state, &p)?.to_string();
    }
    if let Some(n) = changes.name {
        c.name = text("name", n, 200)?;
    }
    if let Some(t) = changes.tags {
        c.tags = tags(&t)?;
    }
    if let Some(f) = changes.fields {
        c.fields = fields(f)?;
    }
    if let Some(n) = changes.notes {
        c.notes = text("notes", n, 10_000)?;
    }
    if let Some(o) = changes.opted_out {
        c.opted_out_at = match (o, c.opted_out_at) {
            (true, None) => Some(now_ms()),
            (true, at) => at,
            (false, _) => None,
        };
    }
    Ok(())
}

fn event(c: &Contact) -> Value {
    json!({"contact_id": c.id.to_string(), "phone": c.phone, "name": c.name, "tags": c.tags,
           "opted_out": c.opted_out_at.is_some()})
}

fn taken(e: sqlx::Error) -> ApiError {
    if is_unique_violation(&e) {
        ApiError::Conflict(
            "contact_exists",
            "a contact with this phone number exists in the workspace".into(),
        )
    } else {
        e.into()
    }
}

pub async fn create(
    state: &AppState,
    caller: &Caller,
    changes: Changes,
) -> Result<Contact, ApiError> {
    let ws = caller.workspace_id;
    let Some(raw) = changes.phone.clone() else {
        return Err(ApiError::invalid("invalid_phone", "phone is required"));
    };
    let now = now_ms();
    let mut c = Contact {
        id: ContactId::new(),
        workspace_id: ws,
        phone: phone(state, &raw)?.to_string(),
        name: None,
        tags: Vec::new(),
        fields: Map::new(),
        notes: None,
        opted_out_at: None,
        created_at: now,
        updated_at: now,
    };
    apply(state, &mut c, changes)?;
    let mut tx = state.db.begin().await?;
    contacts::create(&mut tx, &c).await.map_err(taken)?;
    outbox::append(&mut tx, Some(ws), "contact.created", &event(&c)).await?;
    tx.commit().await?;
    state.committed();
    Ok(c)
}

pub async fn find(conn: &mut Conn, caller: &Caller, id: ContactId) -> Result<Contact, ApiError> {
    contacts::find(conn, caller.workspace_id, id)
        .await?
        .ok_or_else(|| ApiError::not_found("contact_not_found", "contact"))
}

pub async fn update(
    state: &AppState,
    caller: &Caller,
    id: ContactId,
    changes: Changes,
) -> Result<Contact, ApiError> {
    let mut tx = state.db.begin().await?;
    let mut c = find(&mut tx, caller, id).await?;
    apply(state, &mut c, changes)?;
    contacts::update(&mut tx, &c).await.map_err(taken)?;
    outbox::append(
        &mut tx,
        Some(caller.workspace_id),
        "contact.updated",
        &event(&c),
    )
    .await?;
    tx.commit().await?;
    state.committed();
    Ok(c)
}

pub async fn delete(state: &AppState, caller: &Caller, id: ContactId) -> Result<(), ApiError> {
    let mut tx = state.db.begin().await?;
    let c = find(&mut tx, caller, id).await?;
    contacts::delete(&mut tx, caller.workspace_id, id).await?;
    outbox::append(
        &mut tx,
        Some(caller.workspace_id),
        "contact.deleted",
        &event(&c),
    )
    .await?;
    tx.commit().await?;
    state.committed();
    Ok(())
}
