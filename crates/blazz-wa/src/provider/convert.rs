//! Message bodies between Blazz's model and WhatsApp's protobuf.

use blazz_provider::{Media, MessageBody, OutboundMessage, ProviderError};
use whatsapp_rust::download::{Downloadable, MediaType};
use whatsapp_rust::prelude::*;
use whatsapp_rust::upload::UploadOptions;

/// A media message's CDN reference, to download its bytes.
pub(super) enum Attachment {
    Image(wa::message::ImageMessage),
    Video(wa::message::VideoMessage),
    Audio(wa::message::AudioMessage),
    Document(wa::message::DocumentMessage),
    Sticker(wa::message::StickerMessage),
}

impl Attachment {
    pub(super) fn downloadable(&self) -> &dyn Downloadable {
        match self {
            Attachment::Image(m) => m,
            Attachment::Video(m) => m,
            Attachment::Audio(m) => m,
            Attachment::Document(m) => m,
            Attachment::Sticker(m) => m,
        }
    }

    pub(super) fn media(&self, data: Vec<u8>) -> Media {
        let (mime, filename, fallback) = match self {
            Attachment::Image(m) => (m.mimetype.clone(), None, "image/jpeg"),
            Attachment::Video(m) => (m.mimetype.clone(), None, "video/mp4"),
            Attachment::Audio(m) => (m.mimetype.clone(), None, "audio/ogg"),
            Attachment::Document(m) => (
                m.mimetype.clone(),
                m.file_name.clone(),
                "application/octet-stream",
            ),
            Attachment::Sticker(m) => (m.mimetype.clone(), None, "image/webp"),
        };
        Media {
            mime_type: mime.unwrap_or_else(|| fallback.to_string()),
            filename,
            data,
        }
    }
}

/// What Blazz keeps of an incoming message.
pub(super) struct Incoming {
    pub body: MessageBody,
    pub reply_to: Option<String>,
    pub attachment: Option<Attachment>,
}

fn reply_of(ctx: &MessageField<wa::ContextInfo>) -> Option<String> {
    ctx.as_option().and_then(|c| c.stanza_id.clone())
}

fn media_ref(direct_path: &Option<String>) -> String {
    direct_path.clone().unwrap_or_default()
}

/// Reads a message of a type Blazz stores; `None` for protocol messages
/// (key distribution, app-state, edits...) that are not chat content.
pub(super) fn incoming(message: &wa::Message) -> Option<Incoming> {
    let m = message.get_base_message();
    let plain = |body| {
        Some(Incoming {
            body,
            reply_to: None,
            attachment: None,
        })
    };
    if let Some(text) = m.conversation.as_ref().filter(|t| !t.is_empty()) {
        return plain(MessageBody::Text { text: text.clone() });
    }
    if let Some(ext) = m.extended_text_message.as_option() {
        let text = ext.text.clone().unwrap_or_default();
        return Some(Incoming {
            body: MessageBody::Text { text },
            reply_to: reply_of(&ext.context_info),
            attachment: None,
        });
    }
    if let Some(img) = m.image_message.as_option() {
        return Some(Incoming {
            body: MessageBody::Image {
                media_id: media_ref(&img.direct_path),
                caption: img.caption.clone(),
            },
            reply_to: reply_of(&img.context_info),
            attachment: Some(Attachment::Image(img.clone())),
        });
    }
    if let Some(v) = m.video_message.as_option() {
        return Some(Incoming {
            body: MessageBody::Video {
                media_id: media_ref(&v.direct_path),
                caption: v.caption.clone(),
            },
            reply_to: reply_of(&v.context_info),
            attachment: Some(Attachment::Video(v.clone())),
        });
    }
    if let Some(a) = m.audio_message.as_option() {
        return Some(Incoming {
            body: MessageBody::Audio {
                media_id: media_ref(&a.direct_path),
            },
            reply_to: reply_of(&a.context_info),
            attachment: Some(Attachment::Audio(a.clone())),
        });
    }
    if let Some(d) = m.document_message.as_option() {
        return Some(Incoming {
            body: MessageBody::Document {
                media_id: media_ref(&d.direct_path),
                filename: d.file_name.clone(),
                caption: d.caption.clone(),
            },
            reply_to: reply_of(&d.context_info),
            attachment: Some(Attachment::Document(d.clone())),
        });
    }
    if let Some(s) = m.sticker_message.as_option() {
        return Some(Incoming {
            body: MessageBody::Sticker {
                media_id: media_ref(&s.direct_path),
            },
            reply_to: reply_of(&s.context_info),
            attachment: Some(Attachment::Sticker(s.clone())),
        });
    }
    if let Some(l) = m.location_message.as_option() {
        return plain(MessageBody::Location {
            latitude: l.degrees_latitude.unwrap_or_default(),
            longitude: l.degrees_longitude.unwrap_or_default(),
            name: l.name.clone(),
            address: l.address.clone(),
        });
    }
    if let Some(c) = m.contact_message.as_option() {
        let vcard = c.vcard.clone().unwrap_or_default();
        return plain(MessageBody::Contact {
            name: c.display_name.clone().unwrap_or_default(),
            phones: vcard_phones(&vcard),
        });
    }
    if let Some(r) = m.reaction_message.as_option() {
        let target = r.key.as_option().and_then(|k| k.id.clone())?;
        return plain(MessageBody::Reaction {
            to_provider_message_id: target,
            emoji: r.text.clone().unwrap_or_default(),
        });
    }
    None
}

/// The phone numbers of a vCard's `TEL` lines (`waid=` or the value).
fn vcard_phones(vcard: &str) -> Vec<String> {
    vcard
        .lines()
        .filter(|l| l.to_ascii_uppercase().starts_with("TEL"))
        .filter_map(|l| l.rsplit(':').next())
        .map(|v| {
            let digits: String = v.chars().filter(|c| c.is_ascii_digit()).collect();
            format!("+{digits}")
        })
        .filter(|p| p.len() > 1)
        .collect()
}

fn vcard(name: &str, phones: &[String]) -> String {
    let mut card = format!("BEGIN:VCARD\nVERSION:3.0\nFN:{name}\n");
    for p in phones {
        let digits = p.trim_start_matches('+');
        card.push_str(&format!("TEL;type=CELL;waid={digits}:{p}\n"));
    }
    card.push_str("END:VCARD");
    card
}

/// The media upload a body needs, if any.
pub(super) fn upload_kind(body: &MessageBody) -> Option<MediaType> {
    match body {
        MessageBody::Image { .. } => Some(MediaType::Image),
        MessageBody::Video { .. } => Some(MediaType::Video),
        MessageBody::Audio { .. } => Some(MediaType::Audio),
        MessageBody::Document { .. } => Some(MediaType::Document),
        MessageBody::Sticker { .. } => Some(MediaType::Sticker),
        _ => None,
    }
}

/// Builds the protobuf for `out`; media bodies are uploaded first through
/// `client` (the bytes travel in `out.media`).
pub(super) async fn outgoing(
    client: &Client,
    out: &OutboundMessage,
    to: &Jid,
) -> Result<wa::Message, ProviderError> {
    let context = out.reply_to.as_ref().map(|id| {
        Box::new(wa::ContextInfo {
            stanza_id: Some(id.clone()),
            participant: Some(to.to_string()),
            ..Default::default()
        })
    });
    if let Some(kind) = upload_kind(&out.body) {
        let media = out.media.as_ref().ok_or(ProviderError::Permanent(
            "the media's bytes are missing".into(),
        ))?;
        let uploaded = client
            .upload(media.data.clone(), kind, UploadOptions::default())
            .await
            .map_err(|e| ProviderError::Transient(format!("media upload failed: {e:#}")))?;
        let mime = Some(media.mime_type.clone());
        use whatsapp_rust::media as wm;
        return Ok(match &out.body {
            MessageBody::Image { caption, .. } => wm::image_message(
                uploaded,
                wm::ImageOptions {
                    caption: caption.clone(),
                    mimetype: mime,
                    context_info: context,
                    ..Default::default()
                },
            ),
            MessageBody::Video { caption, .. } => wm::video_message(
                uploaded,
                wm::VideoOptions {
                    caption: caption.clone(),
                    mimetype: mime,
                    context_info: context,
                    ..Default::default()
                },
            ),
            MessageBody::Audio { .. } => wm::audio_message(
                uploaded,
                wm::AudioOptions {
                    mimetype: mime,
                    context_info: context,
                    ..Default::default()
                },
            ),
            MessageBody::Document {
                filename, caption, ..
            } => wm::document_message(
                uploaded,
                wm::DocumentOptions {
                    mimetype: mime,
                    file_name: filename.clone().or_else(|| media.filename.clone()),
                    caption: caption.clone(),
                    context_info: context,
                    ..Default::default()
                },
            ),
            _ => wa::Message {
                sticker_message: MessageField::some(wa::message::StickerMessage {
                    url: Some(uploaded.url),
                    direct_path: Some(uploaded.direct_path),
                    media_key: Some(uploaded.media_key.to_vec()),
                    file_sha256: Some(uploaded.file_sha256.to_vec()),
                    file_enc_sha256: Some(uploaded.file_enc_sha256.to_vec()),
                    file_length: Some(uploaded.file_length),
                    media_key_timestamp: Some(uploaded.media_key_timestamp),
                    mimetype: mime,
                    ..Default::default()
                }),
                ..Default::default()
            },
        });
    }
    let with_context =
        |ctx: Option<Box<wa::ContextInfo>>| ctx.map(|c| MessageField::some(*c)).unwrap_or_default();
    Ok(match &out.body {
        MessageBody::Text { text } => match context {
            None => wa::Message::text(text.clone()),
            Some(ctx) => wa::Message::text_with_context(text.clone(), *ctx),
        },
        MessageBody::Location {
            latitude,
            longitude,
            name,
            address,
        } => wa::Message {
            location_message: MessageField::some(wa::message::LocationMessage {
                degrees_latitude: Some(*latitude),
                degrees_longitude: Some(*longitude),
                name: name.clone(),
                address: address.clone(),
                context_info: with_context(context),
                ..Default::default()
            }),
            ..Default::default()
        },
        MessageBody::Contact { name, phones } => wa::Message {
            contact_message: MessageField::some(wa::message::ContactMessage {
                display_name: Some(name.clone()),
                vcard: Some(vcard(name, phones)),
                context_info: with_context(context),
                ..Default::default()
            }),
            ..Default::default()
        },
        MessageBody::Reaction {
            to_provider_message_id,
            emoji,
        } => {
            // Blazz reacts to what contacts wrote: the key names their message.
            let key = wa::MessageKey {
                remote_jid: Some(to.to_string()),
                from_me: Some(false),
                id: Some(to_provider_message_id.clone()),
                participant: None,
            };
            whatsapp_rust::wacore::proto_helpers::build_reaction_message(
                key,
                emoji.clone(),
                now_ms(),
            )
        }
        MessageBody::Template { .. } => {
            return Err(ProviderError::Unsupported(
                "WhatsApp Web numbers send text; Meta templates need a Cloud API number",
            ))
        }
        MessageBody::Interactive { .. } => {
            return Err(ProviderError::Unsupported(
                "buttons and lists need a Cloud API number",
            ))
        }
        _ => return Err(ProviderError::Unsupported("this message type")),
    })
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_and_replies_are_read() {
        let m = wa::Message::text("hello");
        let i = incoming(&m).unwrap();
        assert_eq!(
            i.body,
            MessageBody::Text {
                text: "hello".into()
            }
        );
        assert!(i.reply_to.is_none());

        let ctx = wa::ContextInfo {
            stanza_id: Some("ABC".into()),
            ..Default::default()
        };
        let m = wa::Message::text_with_context("re", ctx);
        let i = incoming(&m).unwrap();
        assert_eq!(i.body, MessageBody::Text { text: "re".into() });
        assert_eq!(i.reply_to.as_deref(), Some("ABC"));
    }

    #[test]
    fn contacts_keep_their_numbers() {
        let card = vcard("Ana", &["+628111".into(), "+15550001".into()]);
        let m = wa::Message {
            contact_message: MessageField::some(wa::message::ContactMessage {
                display_name: Some("Ana".into()),
                vcard: Some(card),
                ..Default::default()
            }),
            ..Default::default()
        };
        let i = incoming(&m).unwrap();
        assert_eq!(
            i.body,
            MessageBody::Contact {
                name: "Ana".into(),
                phones: vec!["+628111".into(), "+15550001".into()],
            }
        );
    }

    #[test]
    fn protocol_messages_are_not_chat_content() {
        assert!(incoming(&wa::Message::default()).is_none());
    }
}
