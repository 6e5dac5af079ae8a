//! The fake's HTTP side: Graph API endpoints as Meta documents them.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use super::payload::status_item;
use super::{templates, FakeNumber, SentMessage, Shared, Upload};

pub(crate) type Fake = State<Arc<Shared>>;

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/whatsapp_business/attachments/", get(download))
        .route("/{version}/{id}", get(get_object).delete(delete_object))
        .route("/{version}/{id}/messages", post(messages))
        .route("/{version}/{id}/media", post(upload))
        .route(
            "/{version}/{id}/message_templates",
            get(templates::list)
                .post(templates::create)
                .delete(templates::delete),
        )
        .layer(DefaultBodyLimit::max(110 * 1024 * 1024))
        .layer(middleware::from_fn_with_state(shared.clone(), record))
        .with_state(shared)
}

async fn record(State(shared): Fake, req: Request, next: Next) -> Response {
    let line = format!("{} {}", req.method(), req.uri());
    shared.lock().requests.push(line);
    next.run(req).await
}

/// Meta's error body.
pub(crate) fn meta_error(
    status: u16,
    code: i64,
    subcode: Option<i64>,
    message: &str,
    details: Option<&str>,
) -> Response {
    let mut e = json!({
        "message": message,
        "type": if code == 190 { "OAuthException" } else { "GraphMethodException" },
        "code": code,
        "fbtrace_id": "AFakeTraceId0000000000",
    });
    if let Some(sub) = subcode {
        e["error_subcode"] = json!(sub);
    }
    if let Some(d) = details {
        e["error_data"] = json!({"messaging_product": "whatsapp", "details": d});
    }
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    (status, Json(json!({ "error": e }))).into_response()
}

pub(crate) fn invalid(details: &str) -> Response {
    meta_error(400, 100, None, "(#100) Invalid parameter", Some(details))
}

pub(crate) fn no_object(id: &str) -> Response {
    let msg = format!(
        "Unsupported request. Object with ID '{id}' does not exist, cannot be loaded due to \
         missing permissions, or does not support this operation"
    );
    meta_error(400, 100, Some(33), &msg, None)
}

pub(crate) fn bad_token() -> Response {
    meta_error(
        401,
        190,
        None,
        "Invalid OAuth access token - Cannot parse access token",
        None,
    )
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
}

fn authorized(number: &FakeNumber, headers: &HeaderMap) -> bool {
    bearer(headers) == Some(number.creds.access_token.as_str())
}

fn number_by_id(shared: &Shared, id: &str) -> Option<FakeNumber> {
    let s = shared.lock();
    s.numbers
        .iter()
        .find(|n| n.creds.phone_number_id == id)
        .cloned()
}

/// The number whose token is given, among those of a business account.
pub(crate) fn waba_caller(
    shared: &Shared,
    waba: &str,
    headers: &HeaderMap,
) -> Result<(), Response> {
    let s = shared.lock();
    let numbers: Vec<&FakeNumber> = s
        .numbers
        .iter()
        .filter(|n| n.creds.business_account_id == waba)
        .collect();
    if numbers.is_empty() {
        return Err(no_object(waba));
    }
    if numbers.iter().any(|n| authorized(n, headers)) {
        Ok(())
    } else {
        Err(bad_token())
    }
}

async fn get_object(
    State(shared): Fake,
    Path((_version, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Some(n) = number_by_id(&shared, &id) {
        if !authorized(&n, &headers) {
            return bad_token();
        }
        return Json(json!({
            "id": n.creds.phone_number_id,
            "display_phone_number": n.display_phone_number,
            "verified_name": n.verified_name,
            "quality_rating": n.quality_rating,
            "messaging_limit_tier": "TIER_1K",
            "throughput": {"level": "STANDARD"},
            "code_verification_status": "VERIFIED",
            "name_status": "APPROVED",
            "platform_type": "CLOUD_API",
        }))
        .into_response();
    }
    let (media, base) = {
        let s = shared.lock();
        (
            s.media.iter().find(|m| m.id == id).cloned(),
            s.base_url.clone(),
        )
    };
    let Some(m) = media else {
        return no_object(&id);
    };
    match number_by_id(&shared, &m.phone_number_id) {
        Some(owner) if authorized(&owner, &headers) => {}
        _ => return bad_token(),
    }
    Json(json!({
        "messaging_product": "whatsapp",
        "url": format!("{base}/whatsapp_business/attachments/?mid={}", m.id),
        "mime_type": m.mime_type,
        "sha256": hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&m.data)),
        "file_size": m.data.len(),
        "id": m.id,
    }))
    .into_response()
}

async fn delete_object(
    State(shared): Fake,
    Path((_version, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let media = shared.lock().media.iter().find(|m| m.id == id).cloned();
    let Some(m) = media else {
        return no_object(&id);
    };
    match number_by_id(&shared, &m.phone_number_id) {
        Some(owner) if authorized(&owner, &headers) => {}
        _ => return bad_token(),
    }
    let mut s = shared.lock();
    s.media.retain(|x| x.id != id);
    s.deleted_media.push(id);
    Json(json!({"success": true})).into_response()
}

async fn download(
    State(shared): Fake,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let id = q.get("mid").cloned().unwrap_or_default();
    let media = shared.lock().media.iter().find(|m| m.id == id).cloned();
    let Some(m) = media else {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    };
    match number_by_id(&shared, &m.phone_number_id) {
        Some(owner) if authorized(&owner, &headers) => {}
        _ => return bad_token(),
    }
    ([(header::CONTENT_TYPE, m.mime_type.clone())], m.data).into_response()
}

async fn upload(
    State(shared): Fake,
    Path((_version, id)): Path<(String, String)>,
    headers: HeaderMap,
    mut form: Multipart,
) -> Response {
    let Some(number) = number_by_id(&shared, &id) else {
        return no_object(&id);
    };
    if !authorized(&number, &headers) {
        return bad_token();
    }
    let mut up = Upload {
        id: String::new(),
        phone_number_id: id,
        mime_type: String::new(),
        file_content_type: None,
        filename: None,
        messaging_product: None,
        data: Vec::new(),
    };
    let mut has_file = false;
    loop {
        let field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return invalid(&format!("unreadable multipart: {e}")),
        };
        let name = field.name().unwrap_or_default().to_string();
        if name == "file" {
            has_file = true;
            up.filename = field.file_name().map(str::to_string);
            up.file_content_type = field.content_type().map(str::to_string);
            match field.bytes().await {
                Ok(b) => up.data = b.to_vec(),
                Err(e) => return invalid(&format!("unreadable file: {e}")),
            }
        } else {
            let text = field.text().await.unwrap_or_default();
            match name.as_str() {
                "type" => up.mime_type = text,
                "messaging_product" => up.messaging_product = Some(text),
                _ => {}
            }
        }
    }
    if up.messaging_product.as_deref() != Some("whatsapp") {
        return invalid("messaging_product is required and must be whatsapp");
    }
    if !has_file || up.data.is_empty() || up.mime_type.is_empty() {
        return invalid("file and type are required");
    }
    let mut s = shared.lock();
    up.id = format!("{}", 800_000_000_000 + s.next_id());
    let id = up.id.clone();
    s.media.push(up);
    Json(json!({ "id": id })).into_response()
}

async fn messages(
    State(shared): Fake,
    Path((_version, id)): Path<(String, String)>,
    headers: HeaderMap,
    raw: Bytes,
) -> Response {
    let Some(number) = number_by_id(&shared, &id) else {
        return no_object(&id);
    };
    if !authorized(&number, &headers) {
        return bad_token();
    }
    let Ok(body) = serde_json::from_slice::<Value>(&raw) else {
        return invalid("the body is not JSON");
    };
    if body.get("messaging_product").and_then(Value::as_str) != Some("whatsapp") {
        return invalid("messaging_product is required and must be whatsapp");
    }
    if body.get("status").and_then(Value::as_str) == Some("read") {
        if body.get("message_id").and_then(Value::as_str).is_none() {
            return invalid("message_id is required");
        }
        shared.lock().reads.push(body);
        return Json(json!({"success": true})).into_response();
    }
    let failure = shared.lock().failures.pop_front();
    if let Some(f) = failure {
        return meta_error(
            f.http_status,
            f.code,
            f.subcode,
            &f.message,
            Some(&f.message),
        );
    }
    if let Err(r) = super::validate::send(&shared, &number, &body) {
        return r;
    }
    let to = body
        .get("to")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let is_template = body.get("type").and_then(Value::as_str) == Some("template");
    let (wamid, statuses, hooked) = {
        let mut s = shared.lock();
        let wamid = format!("wamid.FAKEOUT{:012}", s.next_id());
        s.sent.push(SentMessage {
            phone_number_id: number.creds.phone_number_id.clone(),
            body,
            wamid: wamid.clone(),
        });
        (wamid, s.auto_statuses.clone(), s.webhook_url.is_some())
    };
    if hooked && !statuses.is_empty() {
        let shared = shared.clone();
        let (wamid, to, number) = (wamid.clone(), to.clone(), number.clone());
        tokio::spawn(async move {
            for st in statuses {
                let item = status_item(&wamid, &to, &st, Vec::new());
                let payload = super::statuses_payload(&number, vec![item]);
                let raw = payload.to_string().into_bytes();
                let sig = crate::webhook::sign(&number.creds.app_secret, &raw);
                if let Err(e) = super::payload::post(&shared, raw, Some(sig)).await {
                    tracing::warn!(error = %e, "the fake could not post a status");
                }
            }
        });
    }
    let mut message = json!({ "id": wamid });
    if is_template {
        message["message_status"] = json!("accepted");
    }
    Json(json!({
        "messaging_product": "whatsapp",
        "contacts": [{"input": to, "wa_id": to.trim_start_matches('+')}],
        "messages": [message],
    }))
    .into_response()
}
