//! A customer: a second real client, linked to its own number on the fake
//! network, that a test drives to talk to the client under test.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, Context};
use whatsapp_rust::download::MediaType;
use whatsapp_rust::types::events::Event;
use whatsapp_rust::upload::UploadOptions;
use whatsapp_rust::wacore::store::InMemoryBackend;
use whatsapp_rust::waproto::buffa::MessageField;
use whatsapp_rust::waproto::whatsapp as wa;
use whatsapp_rust::{Client, Jid};

use crate::{FakeWhatsApp, TestClient};

/// A message a customer received.
#[derive(Debug, Clone)]
pub struct ReceivedMessage {
    pub id: String,
    /// The sender's number (digits).
    pub from: String,
    pub text: Option<String>,
    /// The image's bytes, downloaded and decrypted.
    pub image: Option<Vec<u8>>,
    pub image_mime: Option<String>,
    pub caption: Option<String>,
}

/// A customer's real client, linked and connected.
pub struct Customer {
    phone: String,
    device: TestClient,
}

fn user(phone: &str) -> Jid {
    Jid::pn(phone.trim_start_matches('+'))
}

impl FakeWhatsApp {
    /// A customer: a real client registered as `phone` (linked by QR on its
    /// own in-memory store), connected to this server.
    pub async fn customer(&self, phone: &str) -> anyhow::Result<Customer> {
        let device = self
            .link_new_client(phone, Arc::new(InMemoryBackend::new()))
            .await?;
        Ok(Customer {
            phone: phone.to_string(),
            device,
        })
    }
}

impl Customer {
    pub fn phone(&self) -> &str {
        &self.phone
    }

    pub fn client(&self) -> Arc<Client> {
        self.device.client()
    }

    /// The customer's own event stream.
    pub fn device(&self) -> &TestClient {
        &self.device
    }

    pub async fn send_text(&self, to: &str, text: &str) -> anyhow::Result<String> {
        let sent = self
            .client()
            .send_text(user(to), text)
            .await
            .map_err(|e| anyhow!("send_text: {e}"))?;
        Ok(sent.message_id)
    }

    pub async fn send_image(
        &self,
        to: &str,
        bytes: Vec<u8>,
        mime: &str,
        caption: Option<&str>,
    ) -> anyhow::Result<String> {
        let client = self.client();
        let up = client
            .upload(bytes, MediaType::Image, UploadOptions::default())
            .await?;
        let image = wa::message::ImageMessage {
            url: Some(up.url),
            direct_path: Some(up.direct_path),
            mimetype: Some(mime.to_string()),
            caption: caption.map(str::to_string),
            media_key: Some(up.media_key.to_vec()),
            file_enc_sha256: Some(up.file_enc_sha256.to_vec()),
            file_sha256: Some(up.file_sha256.to_vec()),
            file_length: Some(up.file_length),
            media_key_timestamp: Some(up.media_key_timestamp),
            ..Default::default()
        };
        let message = wa::Message {
            image_message: MessageField::some(image),
            ..Default::default()
        };
        let sent = client
            .send_message(user(to), message)
            .await
            .map_err(|e| anyhow!("send image: {e}"))?;
        Ok(sent.message_id)
    }

    /// Marks messages `from` a number sent as read (a `read` receipt).
    pub async fn mark_read(&self, from: &str, ids: &[String]) -> anyhow::Result<()> {
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        self.client().mark_as_read(&user(from), None, &ids).await
    }

    /// Starts (`true`) or stops typing in the chat with `to`.
    pub async fn typing(&self, to: &str, typing: bool) -> anyhow::Result<()> {
        let client = self.client();
        let chat = user(to);
        let sent = if typing {
            client.chatstate().send_composing(&chat).await
        } else {
            client.chatstate().send_paused(&chat).await
        };
        sent.map_err(|e| anyhow!("chat state: {e:?}"))
    }

    /// The next message it receives, within `timeout`.
    pub async fn next_message(&self, timeout: Duration) -> anyhow::Result<ReceivedMessage> {
        let (message, info) = self
            .device
            .wait_for(timeout, |e| match e {
                Event::Messages(batch) => batch
                    .messages
                    .first()
                    .map(|m| (m.message.clone(), m.info.clone())),
                _ => None,
            })
            .await?;
        let text = message.conversation.clone().or_else(|| {
            message
                .extended_text_message
                .as_option()
                .and_then(|t| t.text.clone())
        });
        let (image, image_mime, caption) = match message.image_message.as_option() {
            Some(img) => {
                let bytes = self
                    .client()
                    .download(img)
                    .await
                    .context("image download")?;
                (Some(bytes), img.mimetype.clone(), img.caption.clone())
            }
            None => (None, None, None),
        };
        Ok(ReceivedMessage {
            id: info.id.to_string(),
            from: info.source.sender.user.to_string(),
            text,
            image,
            image_mime,
            caption,
        })
    }

    /// The next receipt for a message it sent: (message id, receipt type as
    /// on the wire: `delivery`, `read`, ...). A device that is not in the
    /// foreground acknowledges delivery with `inactive`; that is reported as
    /// `delivery` (the same tick).
    pub async fn next_receipt(&self, timeout: Duration) -> anyhow::Result<(String, String)> {
        self.device
            .wait_for(timeout, |e| match e {
                Event::Receipt(r) => r.message_ids.first().map(|id| {
                    let kind = match r.r#type.as_wire_str() {
                        "inactive" => "delivery",
                        other => other,
                    };
                    (id.to_string(), kind.to_string())
                }),
                _ => None,
            })
            .await
    }

    pub async fn shutdown(self) {
        self.device.shutdown().await;
    }
}
