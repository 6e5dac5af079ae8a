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
    /// A contact's tap on a reply button, a list row or a template's
    /// quick-reply button: `id` is the one the button was sent with (its
    /// payload), `title` the label the contact saw.
    ButtonReply {
        id: String,
        title: String,
        description: Option<String>,
    },
    /// A message of a type Blazz cannot show (the network's own
    /// "unsupported", or one newer than Blazz); `kind` names it.
    Unsupported {
        kind: String,
    },
}

/// The bytes of a media message as they cross the boundary. Providers
/// download inbound media themselves and hand the bytes over; Blazz stores
/// them before the message is recorded.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Media {
    pub mime_type: String,
    pub filename: Option<String>,
    pub data: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboundMessage {
    /// Blazz's id for this send, fixed before the first attempt. Networks
    /// that let the client choose the message id (WhatsApp Web, the
    /// sandbox) use it as the message id, so a resend after a crash is the
    /// same message to them, never a second one.
    pub id: String,
    /// The recipient, E.164.
    pub to: String,
    pub body: MessageBody,
    /// The provider id of the message this one quotes.
    pub reply_to: Option<String>,
    /// The bytes of `body`'s media, if it has any.
    #[serde(skip)]
    pub media: Option<Media>,
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
    /// The bytes of `body`'s media, if it has any.
    #[serde(skip)]
    pub media: Option<Media>,
}
