//! The fake's template management: listing with paging, creating
//! (pending review), deleting by name (and id).

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::server::{invalid, meta_error, waba_caller, Fake};
use crate::template::placeholders;

pub(crate) async fn list(
    State(shared): Fake,
    Path((version, waba)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = waba_caller(&shared, &waba, &headers) {
        return r;
    }
    let s = shared.lock();
    let all: Vec<&Value> = s
        .templates
        .iter()
        .filter(|(w, _)| *w == waba)
        .map(|(_, t)| t)
        .collect();
    let limit = q
        .get("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(s.page_size)
        .clamp(1, 100)
        .min(s.page_size);
    let start = q
        .get("after")
        .and_then(|a| a.strip_prefix("c"))
        .and_then(|a| a.parse::<usize>().ok())
        .unwrap_or(0)
        .min(all.len());
    let end = (start + limit).min(all.len());
    let data: Vec<Value> = all[start..end].iter().map(|t| (*t).clone()).collect();
    let mut paging =
        json!({"cursors": {"before": format!("c{start}"), "after": format!("c{end}")}});
    if end < all.len() {
        paging["next"] = json!(format!(
            "{}/{version}/{waba}/message_templates?limit={limit}&after=c{end}",
            s.base_url
        ));
    }
    Json(json!({"data": data, "paging": paging})).into_response()
}

pub(crate) async fn create(
    State(shared): Fake,
    Path((_version, waba)): Path<(String, String)>,
    headers: HeaderMap,
    raw: Bytes,
) -> Response {
    if let Err(r) = waba_caller(&shared, &waba, &headers) {
        return r;
    }
    let Ok(draft) = serde_json::from_slice::<Value>(&raw) else {
        return invalid("the body is not JSON");
    };
    let field = |k: &str| {
        draft
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let (name, language, category) = (field("name"), field("language"), field("category"));
    let name_ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !name_ok || language.is_empty() || category.is_empty() {
        return invalid("name (lowercase, digits, _), language and category are required");
    }
    if !draft.get("components").is_some_and(Value::is_array) {
        return invalid("components are required");
    }
    let mut s = shared.lock();
    let exists = s
        .templates
        .iter()
        .any(|(w, t)| *w == waba && t["name"] == json!(name) && t["language"] == json!(language));
    if exists {
        return meta_error(
            400,
            100,
            Some(2388024),
            "Message template already exists",
            None,
        );
    }
    let id = format!("{}", 700_000_000_000 + s.next_id());
    let mut stored = draft.clone();
    stored["id"] = json!(id);
    stored["status"] = json!("PENDING");
    s.templates.push((waba, stored));
    Json(json!({"id": id, "status": "PENDING", "category": category})).into_response()
}

pub(crate) async fn delete(
    State(shared): Fake,
    Path((_version, waba)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = waba_caller(&shared, &waba, &headers) {
        return r;
    }
    let Some(name) = q.get("name").cloned() else {
        return invalid("name is required");
    };
    let hsm_id = q.get("hsm_id").cloned();
    let mut s = shared.lock();
    let before = s.templates.len();
    s.templates.retain(|(w, t)| {
        let hit = *w == waba
            && t["name"] == json!(name)
            && hsm_id.as_ref().is_none_or(|h| t["id"] == json!(h));
        !hit
    });
    if s.templates.len() == before {
        return meta_error(400, 100, None, "Message template not found", None);
    }
    s.deleted_templates.push((waba, name, hsm_id));
    Json(json!({"success": true})).into_response()
}

/// The distinct variables of a template component's text.
pub(crate) fn component_vars(template: &Value, kind: &str) -> usize {
    template
        .get("components")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|c| {
            c.get("type")
                .and_then(Value::as_str)
                .is_some_and(|t| t.eq_ignore_ascii_case(kind))
        })
        .and_then(|c| c.get("text").and_then(Value::as_str))
        .map(|t| placeholders(t).len())
        .unwrap_or(0)
}
