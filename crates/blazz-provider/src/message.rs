//! Messages as they cross the provider boundary (DESIGN.md "Messages").

use serde::{Deserialize, Serialize};

/// The content of a message, of any type WhatsApp carries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum MessageBody {
    Text {
        text: String,
    },
    Image {
        media_id: String,
        caption: Option<String>,
    },
    Video {
        media_id: String,
        caption: Option<String>,
    },
    Audio {
        media_id: String,
    },
    Document {
        media_id: String,
        filename: Option<String>,
        caption: Option<String>,
    },
    Sticker {
        media_id: String,
    },
    Location {
        latitude: f64,
        longitude: f64,
        name: Option<String>,
        address: Option<String>,
    },
    Contact {
        name: String,
        phones: Vec<String>,
    },
    Reaction {
        to_provider_message_id: String,
        emoji: String,
    },
    Template {
        name: String,
        language: String,
        variables: Vec<String>,
    },
    Interactive {
        body: String,
        buttons: Vec<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboundMessage {
    /// The recipient, E.164.
    pub to: String,
    pub body: MessageBody,
    /// The provider id of the message this one quotes.
    pub reply_to: Option<String>,
    /// Blazz's idempotency key: a provider that can dedupe uses it.
    pub idempotency_key: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InboundMessage {
    /// The provider's id: inbound messages are deduplicated by it.
    pub provider_message_id: String,
    /// The sender, E.164.
    pub from: String,
    pub push_name: Option<String>,
    pub body: MessageBody,
    pub reply_to: Option<String>,
    /// Unix milliseconds, as the provider timestamps it.
    pub timestamp_ms: i64,
}
