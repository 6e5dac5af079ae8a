//! What Blazz sends, as the JSON body of `POST /{phone-number-id}/messages`
//! (contracts A1). `MessageBody` covers the common types; `CloudBody`
//! adds what only the Cloud API has (link previews, templates with header
//! and button parameters, reply buttons with ids, lists).

use blazz_provider::{Media, MessageBody};
use serde_json::{json, Map, Value};

use crate::error::CloudError;
use crate::template::TemplateMessage;

/// Reply buttons Meta accepts in one message.
pub const MAX_BUTTONS: usize = 3;

/// A media file to send: by the id of an upload, by a public link, or as
/// bytes the provider uploads first.
#[derive(Debug, Clone, PartialEq)]
pub enum MediaRef {
    Id(String),
    Link(String),
    Upload(Media),
}

impl MediaRef {
    /// Blazz's `media_id` strings: a link if it is one, else Meta's id.
    pub fn from_id_or_link(s: &str) -> MediaRef {
        if s.starts_with("https://") || s.starts_with("http://") {
            MediaRef::Link(s.to_string())
        } else {
            MediaRef::Id(s.to_string())
        }
    }

    /// `{"id": ...}` or `{"link": ...}`; bytes must be uploaded first.
    pub(crate) fn to_json(&self) -> Result<Map<String, Value>, CloudError> {
        let mut m = Map::new();
        match self {
            MediaRef::Id(id) if !id.is_empty() => m.insert("id".into(), json!(id)),
            MediaRef::Link(l) => m.insert("link".into(), json!(l)),
            MediaRef::Id(_) => return Err(CloudError::Invalid("the media id is empty".into())),
            MediaRef::Upload(_) => {
                return Err(CloudError::Invalid(
                    "media bytes must be uploaded before the send".into(),
                ))
            }
        };
        Ok(m)
    }
}

/// A reply button: `id` comes back in the contact's `button_reply`.
#[derive(Debug, Clone, PartialEq)]
pub struct Button {
    pub id: String,
    pub title: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ListRow {
    pub id: String,
    pub title: String,
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ListSection {
    pub title: Option<String>,
    pub rows: Vec<ListRow>,
}

/// Message content only the Cloud API carries.
#[derive(Debug, Clone, PartialEq)]
pub enum CloudBody {
    /// Text whose first link WhatsApp previews when `preview_url`.
    Text {
        text: String,
        preview_url: bool,
    },
    Template(TemplateMessage),
    /// Up to three reply buttons.
    Buttons {
        header: Option<String>,
        body: String,
        footer: Option<String>,
        buttons: Vec<Button>,
    },
    /// A list the contact opens with `button` (its label) and picks a row of.
    List {
        header: Option<String>,
        body: String,
        footer: Option<String>,
        button: String,
        sections: Vec<ListSection>,
    },
    /// Media by id or link, which `MessageBody` cannot say.
    Media {
        kind: MediaKind,
        media: MediaRef,
        caption: Option<String>,
        filename: Option<String>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaKind {
    Image,
    Video,
    Audio,
    Document,
    Sticker,
}

impl MediaKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Image => "image",
            MediaKind::Video => "video",
            MediaKind::Audio => "audio",
            MediaKind::Document => "document",
            MediaKind::Sticker => "sticker",
        }
    }

    /// Whether Meta takes a caption with this kind (not audio, not sticker).
    fn has_caption(self) -> bool {
        matches!(
            self,
            MediaKind::Image | MediaKind::Video | MediaKind::Document
        )
    }
}

/// A message ready for the Graph API.
#[derive(Debug, Clone, PartialEq)]
pub struct SendRequest {
    /// The recipient, E.164 (a leading '+' is dropped on the way out).
    pub to: String,
    pub body: SendBody,
    /// The wamid of the message this one quotes.
    pub reply_to: Option<String>,
    /// Echoed back by Meta in this message's status webhooks
    /// (`biz_opaque_callback_data`): Blazz puts its own message id there.
    pub callback_data: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SendBody {
    Common(MessageBody),
    Cloud(CloudBody),
}

/// Meta wants the number without '+' (or a wa_id).
pub fn wa_number(e164: &str) -> String {
    e164.trim().trim_start_matches('+').to_string()
}

fn opt(m: &mut Map<String, Value>, key: &str, v: &Option<String>) {
    if let Some(v) = v.as_ref().filter(|v| !v.is_empty()) {
        m.insert(key.into(), json!(v));
    }
}

fn media_json(
    kind: MediaKind,
    media: &MediaRef,
    caption: &Option<String>,
    filename: &Option<String>,
) -> Result<(&'static str, Value), CloudError> {
    let mut m = media.to_json()?;
    if kind.has_caption() {
        opt(&mut m, "caption", caption);
    }
    if kind == MediaKind::Document {
        opt(&mut m, "filename", filename);
    }
    Ok((kind.as_str(), Value::Object(m)))
}

fn text_part(text: &Option<String>) -> Option<Value> {
    text.as_ref()
        .filter(|t| !t.is_empty())
        .map(|t| json!({"text": t}))
}

fn interactive(
    kind: &str,
    header: &Option<String>,
    body: &str,
    footer: &Option<String>,
    action: Value,
) -> Value {
    let mut m = Map::new();
    m.insert("type".into(), json!(kind));
    if let Some(h) = header.as_ref().filter(|h| !h.is_empty()) {
        m.insert("header".into(), json!({"type": "text", "text": h}));
    }
    m.insert("body".into(), json!({ "text": body }));
    if let Some(f) = text_part(footer) {
        m.insert("footer".into(), f);
    }
    m.insert("action".into(), action);
    Value::Object(m)
}

fn buttons_json(buttons: &[Button]) -> Result<Value, CloudError> {
    if buttons.is_empty() || buttons.len() > MAX_BUTTONS {
        return Err(CloudError::Invalid(format!(
            "the Cloud API takes 1 to {MAX_BUTTONS} reply buttons (got {}); send a list instead",
            buttons.len()
        )));
    }
    let list: Vec<Value> = buttons
        .iter()
        .map(|b| json!({"type": "reply", "reply": {"id": b.id, "title": b.title}}))
        .collect();
    Ok(json!({ "buttons": list }))
}

fn list_json(button: &str, sections: &[ListSection]) -> Value {
    let sections: Vec<Value> = sections
        .iter()
        .map(|s| {
            let rows: Vec<Value> = s
                .rows
                .iter()
                .map(|r| {
                    let mut row = Map::new();
                    row.insert("id".into(), json!(r.id));
                    row.insert("title".into(), json!(r.title));
                    opt(&mut row, "description", &r.description);
                    Value::Object(row)
                })
                .collect();
            let mut sec = Map::new();
            opt(&mut sec, "title", &s.title);
            sec.insert("rows".into(), Value::Array(rows));
            Value::Object(sec)
        })
        .collect();
    json!({"button": button, "sections": sections})
}

/// `MessageBody`'s type name and object as Meta writes them.
fn common_json(body: &MessageBody) -> Result<(&'static str, Value), CloudError> {
    let media = |id: &str| MediaRef::from_id_or_link(id);
    Ok(match body {
        MessageBody::Text { text } => ("text", json!({"preview_url": false, "body": text})),
        MessageBody::Image { media_id, caption } => {
            media_json(MediaKind::Image, &media(media_id), caption, &None)?
        }
        MessageBody::Video { media_id, caption } => {
            media_json(MediaKind::Video, &media(media_id), caption, &None)?
        }
        MessageBody::Audio { media_id } => {
            media_json(MediaKind::Audio, &media(media_id), &None, &None)?
        }
        MessageBody::Document {
            media_id,
            filename,
            caption,
        } => media_json(MediaKind::Document, &media(media_id), caption, filename)?,
        MessageBody::Sticker { media_id } => {
            media_json(MediaKind::Sticker, &media(media_id), &None, &None)?
        }
        MessageBody::Location {
            latitude,
            longitude,
            name,
            address,
        } => {
            let mut m = Map::new();
            m.insert("latitude".into(), json!(latitude));
            m.insert("longitude".into(), json!(longitude));
            opt(&mut m, "name", name);
            opt(&mut m, "address", address);
            ("location", Value::Object(m))
        }
        MessageBody::Contact { name, phones } => {
            let phones: Vec<Value> = phones.iter().map(|p| json!({ "phone": p })).collect();
            let card = json!({
                "name": {"formatted_name": name, "first_name": name},
                "phones": phones,
            });
            ("contacts", json!([card]))
        }
        MessageBody::Reaction {
            to_provider_message_id,
            emoji,
        } => (
            "reaction",
            json!({"message_id": to_provider_message_id, "emoji": emoji}),
        ),
        MessageBody::Template {
            name,
            language,
            variables,
        } => {
            let t = TemplateMessage::positional(name, language, variables);
            ("template", t.to_json()?)
        }
        MessageBody::Interactive { body, buttons } => {
            // The title is the id too: a tap answers with what was shown.
            let buttons: Vec<Button> = buttons
                .iter()
                .map(|t| Button {
                    id: t.clone(),
                    title: t.clone(),
                })
                .collect();
            let action = buttons_json(&buttons)?;
            (
                "interactive",
                interactive("button", &None, body, &None, action),
            )
        }
        MessageBody::ButtonReply { .. } | MessageBody::Unsupported { .. } => {
            return Err(CloudError::Invalid(
                "this kind of message only arrives; it cannot be sent".into(),
            ))
        }
    })
}

fn cloud_json(body: &CloudBody) -> Result<(&'static str, Value), CloudError> {
    Ok(match body {
        CloudBody::Text { text, preview_url } => {
            ("text", json!({"preview_url": preview_url, "body": text}))
        }
        CloudBody::Template(t) => ("template", t.to_json()?),
        CloudBody::Buttons {
            header,
            body,
            footer,
            buttons,
        } => (
            "interactive",
            interactive("button", header, body, footer, buttons_json(buttons)?),
        ),
        CloudBody::List {
            header,
            body,
            footer,
            button,
            sections,
        } => {
            if sections.iter().all(|s| s.rows.is_empty()) {
                return Err(CloudError::Invalid("a list needs at least one row".into()));
            }
            (
                "interactive",
                interactive("list", header, body, footer, list_json(button, sections)),
            )
        }
        CloudBody::Media {
            kind,
            media,
            caption,
            filename,
        } => media_json(*kind, media, caption, filename)?,
    })
}

impl SendRequest {
    /// The JSON body Meta documents for this message.
    pub fn to_json(&self) -> Result<Value, CloudError> {
        let (kind, object) = match &self.body {
            SendBody::Common(b) => common_json(b)?,
            SendBody::Cloud(b) => cloud_json(b)?,
        };
        let to = wa_number(&self.to);
        if to.is_empty() {
            return Err(CloudError::Invalid("the recipient is empty".into()));
        }
        let mut m = Map::new();
        m.insert("messaging_product".into(), json!("whatsapp"));
        m.insert("recipient_type".into(), json!("individual"));
        m.insert("to".into(), json!(to));
        m.insert("type".into(), json!(kind));
        m.insert(kind.into(), object);
        // A reaction names its message itself; a quote is a context.
        if kind != "reaction" {
            if let Some(id) = self.reply_to.as_ref().filter(|id| !id.is_empty()) {
                m.insert("context".into(), json!({ "message_id": id }));
            }
        }
        opt(&mut m, "biz_opaque_callback_data", &self.callback_data);
        Ok(Value::Object(m))
    }
}
