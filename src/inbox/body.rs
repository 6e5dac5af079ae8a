//! Message bodies as Blazz stores and shows them, and their translation to
//! and from the provider boundary's `MessageBody`.

use std::collections::BTreeMap;

use blazz_provider::MessageBody;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::ApiError;

/// The content of a message. Media is referenced by the id of an upload
/// (`POST /api/v1/media`) or, for inbound media, of what Blazz stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Body {
    Text {
        text: String,
    },
    Image {
        media_id: Option<String>,
        caption: Option<String>,
    },
    Video {
        media_id: Option<String>,
        caption: Option<String>,
    },
    Audio {
        media_id: Option<String>,
    },
    Document {
        media_id: Option<String>,
        filename: Option<String>,
        caption: Option<String>,
    },
    Sticker {
        media_id: Option<String>,
    },
    Location {
        latitude: f64,
        longitude: f64,
        name: Option<String>,
        address: Option<String>,
    },
    /// A contact card.
    Contact {
        name: String,
        phones: Vec<String>,
    },
    /// An emoji reaction to another message of the chat (by Blazz id);
    /// an empty emoji removes the reaction.
    Reaction {
        message_id: Option<String>,
        emoji: String,
    },
    /// A canned reply (by shortcut) filled with the contact's details and
    /// `variables`; `text` is what was sent (set by Blazz). With a
    /// `language`, on a Cloud API number, a template Meta approved
    /// (`template` or `name` is its name): `variables` fill its body's
    /// `{{1}}`, `{{2}}`... (a list, or an object by number) or its named
    /// `{{...}}`, checked against the stored template before Meta is asked.
    Template {
        #[serde(alias = "name")]
        template: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        language: Option<String>,
        #[serde(default, deserialize_with = "crate::cloud::templates::variables")]
        variables: BTreeMap<String, String>,
        #[serde(default)]
        text: Option<String>,
    },
}

pub const MAX_TEXT: usize = 4096;
pub const MAX_CAPTION: usize = 1024;

impl Body {
    /// The stored `kind` (the `type` tag).
    pub fn kind(&self) -> &'static str {
        match self {
            Body::Text { .. } => "text",
            Body::Image { .. } => "image",
            Body::Video { .. } => "video",
            Body::Audio { .. } => "audio",
            Body::Document { .. } => "document",
            Body::Sticker { .. } => "sticker",
            Body::Location { .. } => "location",
            Body::Contact { .. } => "contact",
            Body::Reaction { .. } => "reaction",
            Body::Template { .. } => "template",
        }
    }

    /// The media this body carries, if any.
    pub fn media_id(&self) -> Option<&str> {
        match self {
            Body::Image { media_id, .. }
            | Body::Video { media_id, .. }
            | Body::Audio { media_id }
            | Body::Document { media_id, .. }
            | Body::Sticker { media_id } => media_id.as_deref(),
            _ => None,
        }
    }

    /// What full-text search sees (and previews show).
    pub fn text(&self) -> Option<String> {
        let joined = |parts: &[&Option<String>]| {
            let s = parts
                .iter()
                .filter_map(|p| p.as_deref())
                .collect::<Vec<_>>()
                .join(" ");
            (!s.is_empty()).then_some(s)
        };
        match self {
            Body::Text { text } => Some(text.clone()),
            Body::Image { caption, .. } | Body::Video { caption, .. } => caption.clone(),
            Body::Document {
                filename, caption, ..
            } => joined(&[filename, caption]),
            Body::Location { name, address, .. } => joined(&[name, address]),
            Body::Contact { name, .. } => Some(name.clone()),
            Body::Template { text, .. } => text.clone(),
            Body::Audio { .. } | Body::Sticker { .. } | Body::Reaction { .. } => None,
        }
    }

    /// A one-line preview for chat lists.
    pub fn preview(&self) -> String {
        let text = self.text().unwrap_or_default();
        let line = match self {
            Body::Text { .. } | Body::Template { .. } => text,
            Body::Reaction { emoji, .. } => format!("reacted {emoji}"),
            other if text.is_empty() => format!("[{}]", other.kind()),
            other => format!("[{}] {text}", other.kind()),
        };
        blazz_domain::message::preview(&line, 120)
    }

    /// Checks what a client asks to send (limits WhatsApp applies).
    pub fn validate(&self) -> Result<(), ApiError> {
        let caption_long =
            |c: &Option<String>| c.as_ref().is_some_and(|c| c.chars().count() > MAX_CAPTION);
        let problem = match self {
            Body::Text { text } if text.trim().is_empty() => Some("text must not be empty"),
            Body::Text { text } if text.chars().count() > MAX_TEXT => {
                Some("text is limited to 4,096 characters")
            }
            Body::Image { caption, .. }
            | Body::Video { caption, .. }
            | Body::Document { caption, .. }
                if caption_long(caption) =>
            {
                Some("captions are limited to 1,024 characters")
            }
            Body::Location {
                latitude,
                longitude,
                ..
            } if !(-90.0..=90.0).contains(latitude) || !(-180.0..=180.0).contains(longitude) => {
                Some("latitude is -90..90 and longitude -180..180")
            }
            Body::Contact { name, phones }
                if name.trim().is_empty() || phones.is_empty() || phones.len() > 20 =>
            {
                Some("a contact card has a name and 1 to 20 phones")
            }
            Body::Reaction {
                message_id: None, ..
            } => Some("a reaction names the message_id it reacts to"),
            Body::Reaction { emoji, .. } if emoji.chars().count() > 10 => {
                Some("a reaction is one emoji")
            }
            Body::Template { template, .. } if template.trim().is_empty() => {
                Some("a template names a canned reply by its shortcut")
            }
            Body::Image { media_id: None, .. }
            | Body::Video { media_id: None, .. }
            | Body::Audio { media_id: None }
            | Body::Document { media_id: None, .. }
            | Body::Sticker { media_id: None } => {
                Some("a media message needs a media_id (upload with POST /api/v1/media)")
            }
            _ => None,
        };
        match problem {
            Some(p) => Err(ApiError::invalid("invalid_body", p)),
            None => Ok(()),
        }
    }

    /// The body to hand to the provider. `reaction_target` is the provider
    /// id of the message a reaction is about.
    pub fn to_provider(&self, reaction_target: Option<String>) -> MessageBody {
        let media = |m: &Option<String>| m.clone().unwrap_or_default();
        match self.clone() {
            Body::Text { text } => MessageBody::Text { text },
            Body::Image { media_id, caption } => MessageBody::Image {
                media_id: media(&media_id),
                caption,
            },
            Body::Video { media_id, caption } => MessageBody::Video {
                media_id: media(&media_id),
                caption,
            },
            Body::Audio { media_id } => MessageBody::Audio {
                media_id: media(&media_id),
            },
            Body::Document {
                media_id,
                filename,
                caption,
            } => MessageBody::Document {
                media_id: media(&media_id),
                filename,
                caption,
            },
            Body::Sticker { media_id } => MessageBody::Sticker {
                media_id: media(&media_id),
            },
            Body::Location {
                latitude,
                longitude,
                name,
                address,
            } => MessageBody::Location {
                latitude,
                longitude,
                name,
                address,
            },
            Body::Contact { name, phones } => MessageBody::Contact { name, phones },
            Body::Reaction { emoji, .. } => MessageBody::Reaction {
                to_provider_message_id: reaction_target.unwrap_or_default(),
                emoji,
            },
            // A Meta template goes out by name, its variables in order.
            Body::Template {
                template,
                language: Some(language),
                variables,
                ..
            } => MessageBody::Template {
                name: template,
                language,
                variables: crate::cloud::templates::ordered(&variables),
            },
            // Local templates go out as the text they render to.
            Body::Template { text, .. } => MessageBody::Text {
                text: text.unwrap_or_default(),
            },
        }
    }

    /// How Blazz stores what a provider delivered. Media ids become Blazz's
    /// own (`stored_media`), or none if the bytes could not be kept; a
    /// reaction's target is resolved by the caller.
    pub fn from_provider(body: &MessageBody, stored_media: Option<String>) -> Body {
        let media_id = stored_media;
        match body.clone() {
            MessageBody::Text { text } => Body::Text { text },
            MessageBody::Image { caption, .. } => Body::Image { media_id, caption },
            MessageBody::Video { caption, .. } => Body::Video { media_id, caption },
            MessageBody::Audio { .. } => Body::Audio { media_id },
            MessageBody::Document {
                filename, caption, ..
            } => Body::Document {
                media_id,
                filename,
                caption,
            },
            MessageBody::Sticker { .. } => Body::Sticker { media_id },
            MessageBody::Location {
                latitude,
                longitude,
                name,
                address,
            } => Body::Location {
                latitude,
                longitude,
                name,
                address,
            },
            MessageBody::Contact { name, phones } => Body::Contact { name, phones },
            MessageBody::Reaction { emoji, .. } => Body::Reaction {
                message_id: None,
                emoji,
            },
            MessageBody::Template {
                name,
                language,
                variables,
            } => Body::Template {
                template: name,
                language: Some(language),
                variables: variables
                    .into_iter()
                    .enumerate()
                    .map(|(i, v)| ((i + 1).to_string(), v))
                    .collect(),
                text: None,
            },
            MessageBody::Interactive { body, .. } => Body::Text { text: body },
            MessageBody::ButtonReply { title, .. } => Body::Text { text: title },
            MessageBody::Unsupported { kind } => Body::Text {
                text: format!("[unsupported message: {kind}]"),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_read_as_the_api_writes_them() {
        let b: Body = serde_json::from_str(r#"{"type":"text","text":"hi"}"#).unwrap();
        assert_eq!(b, Body::Text { text: "hi".into() });
        let b: Body =
            serde_json::from_str(r#"{"type":"image","media_id":"m1","caption":"look"}"#).unwrap();
        assert_eq!(b.kind(), "image");
        assert_eq!(b.media_id(), Some("m1"));
        assert_eq!(b.preview(), "[image] look");
    }

    #[test]
    fn validation_refuses_what_whatsapp_would() {
        let text = |t: &str| Body::Text { text: t.into() };
        assert!(text("hello").validate().is_ok());
        assert!(text("  ").validate().is_err());
        assert!(text(&"a".repeat(MAX_TEXT + 1)).validate().is_err());
        let image = Body::Image {
            media_id: None,
            caption: None,
        };
        assert!(image.validate().is_err());
        let far = Body::Location {
            latitude: 91.0,
            longitude: 0.0,
            name: None,
            address: None,
        };
        assert!(far.validate().is_err());
    }

    #[test]
    fn templates_go_out_as_their_text() {
        let t = Body::Template {
            template: "thanks".into(),
            language: None,
            variables: BTreeMap::new(),
            text: Some("Thanks Ana".into()),
        };
        assert_eq!(
            t.to_provider(None),
            MessageBody::Text {
                text: "Thanks Ana".into()
            }
        );
    }
}
