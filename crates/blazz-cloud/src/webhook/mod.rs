//! Meta's webhook calls (contracts A5): the verification handshake, the
//! `X-Hub-Signature-256` check over the raw body, and the payload read into
//! `Change`s — every entry, every change, every message and status in them.

mod message;

use std::collections::HashMap;

use blazz_provider::{InboundMessage, ReceiptStatus};
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::error::GraphError;

pub use message::InboundMedia;

/// The header Meta signs its calls in.
pub const SIGNATURE_HEADER: &str = "X-Hub-Signature-256";

type HmacSha256 = Hmac<Sha256>;

/// The header value for `body` signed with `app_secret`: `sha256=<hex>`.
pub fn sign(app_secret: &str, body: &[u8]) -> String {
    // HMAC takes a key of any length.
    let mut mac = match HmacSha256::new_from_slice(app_secret.as_bytes()) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Whether `header` (the `X-Hub-Signature-256` value, `None` if missing)
/// signs exactly these raw bytes with the app secret. Constant time.
pub fn verify_signature(app_secret: &str, raw_body: &[u8], header: Option<&str>) -> bool {
    let Some(hex_sig) = header.and_then(|h| h.trim().strip_prefix("sha256=")) else {
        return false;
    };
    let Ok(given) = hex::decode(hex_sig.to_ascii_lowercase()) else {
        return false;
    };
    if app_secret.is_empty() {
        return false;
    }
    let Ok(mut mac) = HmacSha256::new_from_slice(app_secret.as_bytes()) else {
        return false;
    };
    mac.update(raw_body);
    mac.verify_slice(&given).is_ok()
}

/// The GET handshake: the challenge to answer (200, text/plain) when
/// `hub.mode` is `subscribe` and `hub.verify_token` is ours; `None` means
/// answer 403.
pub fn verify_challenge(query: &HashMap<String, String>, verify_token: &str) -> Option<String> {
    let mode = query.get("hub.mode")?;
    let token = query.get("hub.verify_token")?;
    let challenge = query.get("hub.challenge")?;
    let matches: bool = token.as_bytes().ct_eq(verify_token.as_bytes()).into();
    (mode == "subscribe" && matches && !verify_token.is_empty()).then(|| challenge.clone())
}

/// Something a webhook call reported.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// A contact wrote to the number `phone_number_id`.
    Message(MessageChange),
    /// A status of a message the number sent.
    Status(StatusChange),
    /// A template was approved, rejected, paused...
    TemplateStatus(TemplateStatusChange),
    /// Errors about the number not tied to one message (`value.errors[]`,
    /// e.g. 130429 throughput reached).
    Errors {
        phone_number_id: String,
        errors: Vec<GraphError>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct MessageChange {
    pub phone_number_id: String,
    /// Media bodies carry Meta's media id; `media` says how to fetch it.
    pub message: InboundMessage,
    /// The sender's WhatsApp profile name.
    pub contact_name: Option<String>,
    pub media: Option<InboundMedia>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StatusChange {
    pub phone_number_id: String,
    pub wamid: String,
    /// `sent`, `delivered`, `read`, `failed` (or a newer one).
    pub status: String,
    pub timestamp_ms: i64,
    /// The contact, E.164.
    pub recipient: String,
    pub errors: Vec<GraphError>,
    /// What Blazz sent as `biz_opaque_callback_data` (its message id).
    pub callback_data: Option<String>,
    /// Meta's `pricing` and `conversation` objects, when present.
    pub pricing: Option<Value>,
    pub conversation: Option<Value>,
}

impl StatusChange {
    pub fn receipt_status(&self) -> Option<ReceiptStatus> {
        match self.status.as_str() {
            "sent" => Some(ReceiptStatus::Sent),
            "delivered" => Some(ReceiptStatus::Delivered),
            "read" => Some(ReceiptStatus::Read),
            "failed" => Some(ReceiptStatus::Failed),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct TemplateStatusChange {
    pub waba_id: String,
    pub template_id: String,
    pub name: String,
    pub language: String,
    /// `APPROVED`, `REJECTED`, `PAUSED`, `DISABLED`, `FLAGGED`...
    pub event: String,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error("the webhook body is not JSON: {0}")]
    NotJson(String),
    #[error("the webhook is about {0:?}, not a WhatsApp Business Account")]
    NotWhatsApp(String),
}

fn text(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn array<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

fn errors(v: &Value) -> Vec<GraphError> {
    array(v, "errors")
        .iter()
        .filter_map(GraphError::from_value)
        .collect()
}

/// Reads a webhook call's raw body. Fields Blazz does not use are ignored;
/// an item without what identifies it (a message without an id) is
/// skipped, the rest of the call still read.
pub fn parse(raw_body: &[u8]) -> Result<Vec<Change>, WebhookError> {
    let root: Value =
        serde_json::from_slice(raw_body).map_err(|e| WebhookError::NotJson(e.to_string()))?;
    let object = root.get("object").and_then(Value::as_str).unwrap_or("");
    if object != "whatsapp_business_account" {
        return Err(WebhookError::NotWhatsApp(object.to_string()));
    }
    let mut out = Vec::new();
    for entry in array(&root, "entry") {
        let waba_id = text(entry, "id").unwrap_or_default();
        for change in array(entry, "changes") {
            let value = change.get("value").cloned().unwrap_or(Value::Null);
            match change.get("field").and_then(Value::as_str) {
                Some("messages") => read_messages(&value, &mut out),
                Some("message_template_status_update") => {
                    out.extend(template_status(&waba_id, &value))
                }
                _ => {}
            }
        }
    }
    Ok(out)
}

fn read_messages(value: &Value, out: &mut Vec<Change>) {
    let Some(phone_number_id) = value
        .get("metadata")
        .and_then(|m| text(m, "phone_number_id"))
    else {
        tracing::warn!("skipped a webhook change without metadata.phone_number_id");
        return;
    };
    let contacts = array(value, "contacts");
    for m in array(value, "messages") {
        match message::parse(m, contacts) {
            Some((message, contact_name, media)) => out.push(Change::Message(MessageChange {
                phone_number_id: phone_number_id.clone(),
                message,
                contact_name,
                media,
            })),
            None => tracing::warn!("skipped a webhook message without an id or a sender"),
        }
    }
    for s in array(value, "statuses") {
        let (Some(wamid), Some(status)) = (text(s, "id"), text(s, "status")) else {
            tracing::warn!("skipped a webhook status without an id or a status");
            continue;
        };
        out.push(Change::Status(StatusChange {
            phone_number_id: phone_number_id.clone(),
            wamid,
            status,
            timestamp_ms: message::timestamp_ms(s),
            recipient: text(s, "recipient_id")
                .map(|r| message::e164(&r))
                .unwrap_or_default(),
            errors: errors(s),
            callback_data: text(s, "biz_opaque_callback_data"),
            pricing: s.get("pricing").cloned(),
            conversation: s.get("conversation").cloned(),
        }));
    }
    let errs = errors(value);
    if !errs.is_empty() {
        out.push(Change::Errors {
            phone_number_id,
            errors: errs,
        });
    }
}

fn template_status(waba_id: &str, v: &Value) -> Option<Change> {
    Some(Change::TemplateStatus(TemplateStatusChange {
        waba_id: waba_id.to_string(),
        template_id: text(v, "message_template_id")?,
        name: text(v, "message_template_name").unwrap_or_default(),
        language: text(v, "message_template_language").unwrap_or_default(),
        event: text(v, "event")?,
        reason: text(v, "reason").filter(|r| r != "NONE" && !r.is_empty()),
    }))
}

/// The phone number ids a call is about (to route it before reading it
/// fully, e.g. to find the app secret that signed it).
pub fn phone_number_ids(raw_body: &[u8]) -> Vec<String> {
    let Ok(root) = serde_json::from_slice::<Value>(raw_body) else {
        return Vec::new();
    };
    let mut ids: Vec<String> = Vec::new();
    for entry in array(&root, "entry") {
        for change in array(entry, "changes") {
            let id = change
                .pointer("/value/metadata")
                .and_then(|m| text(m, "phone_number_id"));
            if let Some(id) = id {
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
        }
    }
    ids
}

/// The business account ids (`entry[].id`) a call is about.
pub fn business_account_ids(raw_body: &[u8]) -> Vec<String> {
    let Ok(root) = serde_json::from_slice::<Value>(raw_body) else {
        return Vec::new();
    };
    let mut ids: Vec<String> = Vec::new();
    for id in array(&root, "entry").iter().filter_map(|e| text(e, "id")) {
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    ids
}
