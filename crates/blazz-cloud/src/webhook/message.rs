//! One inbound message of a webhook, of every type Meta sends, as the
//! provider boundary's `InboundMessage` (media by Meta's id, to download).

use blazz_provider::{InboundMessage, MessageBody};
use serde_json::Value;

/// Media a contact sent, still at Meta.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundMedia {
    /// Meta's media id (`Graph::download_media`).
    pub id: String,
    pub mime_type: Option<String>,
    pub filename: Option<String>,
    pub sha256: Option<String>,
}

fn s(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

fn s_or_empty(v: &Value, key: &str) -> String {
    s(v, key).unwrap_or_default()
}

/// Coordinates come as numbers (or, defensively, as strings).
fn f(v: &Value, key: &str) -> Option<f64> {
    let x = v.get(key)?;
    x.as_f64().or_else(|| x.as_str()?.parse().ok())
}

/// Meta's Unix seconds (a string) in milliseconds.
pub(crate) fn timestamp_ms(v: &Value) -> i64 {
    let secs = match v.get("timestamp") {
        Some(Value::String(t)) => t.parse::<i64>().unwrap_or(0),
        Some(Value::Number(n)) => n.as_i64().unwrap_or(0),
        _ => 0,
    };
    secs.saturating_mul(1000)
}

/// A wa_id as E.164.
pub(crate) fn e164(wa_id: &str) -> String {
    let digits = wa_id.trim().trim_start_matches('+');
    format!("+{digits}")
}

fn media(v: &Value, kind: &str) -> Option<InboundMedia> {
    let m = v.get(kind)?;
    Some(InboundMedia {
        id: s(m, "id")?,
        mime_type: s(m, "mime_type"),
        filename: s(m, "filename"),
        sha256: s(m, "sha256"),
    })
}

fn unsupported(kind: impl Into<String>) -> MessageBody {
    MessageBody::Unsupported { kind: kind.into() }
}

/// The body of one message, and its media if it has any.
fn body(v: &Value) -> (MessageBody, Option<InboundMedia>) {
    let kind = v.get("type").and_then(Value::as_str).unwrap_or("unknown");
    let part = v.get(kind).cloned().unwrap_or(Value::Null);
    let caption = s(&part, "caption");
    let with_media = |b: MessageBody| match media(v, kind) {
        Some(m) => (b, Some(m)),
        // A media message without an id cannot be fetched.
        None => (unsupported(kind), None),
    };
    let media_id = s_or_empty(&part, "id");
    match kind {
        "text" => (
            MessageBody::Text {
                text: s_or_empty(&part, "body"),
            },
            None,
        ),
        "image" => with_media(MessageBody::Image { media_id, caption }),
        "video" => with_media(MessageBody::Video { media_id, caption }),
        "audio" => with_media(MessageBody::Audio { media_id }),
        "sticker" => with_media(MessageBody::Sticker { media_id }),
        "document" => with_media(MessageBody::Document {
            media_id,
            filename: s(&part, "filename"),
            caption,
        }),
        "location" => match (f(&part, "latitude"), f(&part, "longitude")) {
            (Some(latitude), Some(longitude)) => (
                MessageBody::Location {
                    latitude,
                    longitude,
                    name: s(&part, "name"),
                    address: s(&part, "address"),
                },
                None,
            ),
            _ => (unsupported("location"), None),
        },
        "contacts" => (contact(&part), None),
        "reaction" => (
            MessageBody::Reaction {
                to_provider_message_id: s_or_empty(&part, "message_id"),
                // Empty when the contact removed the reaction.
                emoji: s_or_empty(&part, "emoji"),
            },
            None,
        ),
        "interactive" => (interactive(&part), None),
        // A tap on a template's quick-reply button.
        "button" => (
            MessageBody::ButtonReply {
                id: s_or_empty(&part, "payload"),
                title: s_or_empty(&part, "text"),
                description: None,
            },
            None,
        ),
        // `unsupported`, `order`, `system`, `request_welcome` and types
        // newer than Blazz.
        other => (unsupported(other), None),
    }
}

/// The first contact card; Meta sends an array, WhatsApp users rarely share
/// more than one at once.
fn contact(part: &Value) -> MessageBody {
    let Some(card) = part.as_array().and_then(|a| a.first()) else {
        return unsupported("contacts");
    };
    let name = card.get("name").cloned().unwrap_or(Value::Null);
    let display = s(&name, "formatted_name")
        .or_else(|| {
            let parts: Vec<String> = ["first_name", "last_name"]
                .iter()
                .filter_map(|k| s(&name, k))
                .collect();
            (!parts.is_empty()).then(|| parts.join(" "))
        })
        .unwrap_or_default();
    let phones = card
        .get("phones")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|p| s(p, "phone").or_else(|| s(p, "wa_id").map(|w| e164(&w))))
        .collect();
    MessageBody::Contact {
        name: display,
        phones,
    }
}

fn interactive(part: &Value) -> MessageBody {
    let kind = part.get("type").and_then(Value::as_str).unwrap_or("");
    match kind {
        "button_reply" | "list_reply" => {
            let reply = part.get(kind).cloned().unwrap_or(Value::Null);
            MessageBody::ButtonReply {
                id: s_or_empty(&reply, "id"),
                title: s_or_empty(&reply, "title"),
                description: s(&reply, "description"),
            }
        }
        // Flow answers (`nfm_reply`) and newer kinds.
        other => unsupported(format!("interactive.{other}")),
    }
}

/// One entry of `value.messages[]`; `None` without an id or a sender.
/// `contacts` is `value.contacts[]`, where the sender's profile name is.
pub(crate) fn parse(
    v: &Value,
    contacts: &[Value],
) -> Option<(InboundMessage, Option<String>, Option<InboundMedia>)> {
    let id = s(v, "id").filter(|i| !i.is_empty())?;
    let from = s(v, "from").filter(|f| !f.is_empty())?;
    let name = contacts
        .iter()
        .find(|c| s(c, "wa_id").as_deref() == Some(from.as_str()))
        .or(contacts.first().filter(|_| contacts.len() == 1))
        .and_then(|c| c.pointer("/profile/name"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let (body, media) = body(v);
    let reply_to = v
        .get("context")
        .and_then(|c| s(c, "id"))
        .filter(|i| !i.is_empty());
    let message = InboundMessage {
        provider_message_id: id,
        from: e164(&from),
        push_name: name.clone(),
        body,
        reply_to,
        timestamp_ms: timestamp_ms(v),
        media: None,
    };
    Some((message, name, media))
}
