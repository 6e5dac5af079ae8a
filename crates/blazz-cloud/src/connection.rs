//! Opening a Cloud API number for the session engine, and the connection
//! it drives. There is no socket: "connected" means the credentials work
//! (the number answers `GET /{phone-number-id}`) and the session is in the
//! registry that webhook deliveries reach.

use std::sync::Arc;

use blazz_provider::{
    AccountRef, Connection, EventSender, OutboundMessage, Provider, ProviderError, ProviderEvent,
    ProviderKind, Sent,
};

use crate::config::CloudCredentials;
use crate::error::{CloudError, ErrorAction};
use crate::outbound::{SendBody, SendRequest};
use crate::provider::{CloudProvider, Inner, Session};

#[async_trait::async_trait]
impl Provider for CloudProvider {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Cloud
    }

    /// Checks the credentials with Meta and reports `Connected`. Unreadable
    /// credentials, or credentials Meta refuses (an expired token, a number
    /// the token cannot reach) are `LoggedOut`: new ones must be entered.
    /// Meta or the network failing is `Transient`: the engine retries.
    async fn open(
        &self,
        account: AccountRef,
        events: EventSender,
    ) -> Result<Box<dyn Connection>, ProviderError> {
        let Some(raw) = account.credentials.as_deref() else {
            return Err(ProviderError::LoggedOut(
                "no Cloud API credentials are stored for this number".into(),
            ));
        };
        let creds = CloudCredentials::from_bytes(raw)
            .map_err(|e| ProviderError::LoggedOut(e.to_string()))?;
        if let Err(e) = self.inner.graph.phone_number(&creds).await {
            return Err(open_error(e));
        }
        let session = self.inner.register(&account.id, creds, events.clone());
        let conn = CloudConnection {
            inner: self.inner.clone(),
            session: Some(session),
        };
        // Buffered: the engine reads it once `open` returns.
        let _ = events.send(ProviderEvent::Connected).await;
        Ok(Box::new(conn))
    }
}

/// Why a number cannot be opened, in the engine's terms.
fn open_error(e: CloudError) -> ProviderError {
    match e.action() {
        ErrorAction::Reauthenticate | ErrorAction::Permanent => {
            ProviderError::LoggedOut(e.to_string())
        }
        _ => ProviderError::Transient(e.to_string()),
    }
}

/// One open Cloud API number. Dropping or closing it takes it out of the
/// registry, so webhook deliveries for it answer "not open here".
pub struct CloudConnection {
    inner: Arc<Inner>,
    session: Option<Arc<Session>>,
}

impl CloudConnection {
    fn session(&self) -> Result<&Arc<Session>, ProviderError> {
        self.session.as_ref().ok_or(ProviderError::NotConnected)
    }

    fn unregister(&mut self) {
        if let Some(s) = self.session.take() {
            self.inner.unregister(&s.account_id, s.generation);
        }
    }
}

impl Drop for CloudConnection {
    fn drop(&mut self) {
        self.unregister();
    }
}

#[async_trait::async_trait]
impl Connection for CloudConnection {
    async fn request_pair_code(&mut self, _phone: &str) -> Result<(), ProviderError> {
        Err(ProviderError::Unsupported(
            "pair codes: a Cloud API number is linked with Meta credentials",
        ))
    }

    /// Uploads the message's media bytes first when it has them (the body's
    /// `media_id` is then Meta's id; without bytes it must already be
    /// Meta's id or an https link). The Cloud API does not let Blazz choose
    /// the message id: Meta's wamid comes back, and Blazz's id rides along
    /// as `biz_opaque_callback_data`.
    async fn send(&mut self, message: OutboundMessage) -> Result<Sent, ProviderError> {
        let session = self.session()?.clone();
        let OutboundMessage {
            id,
            to,
            mut body,
            reply_to,
            media,
        } = message;
        if let Some(media) = &media {
            self.inner
                .upload_body_media(&session.creds, &mut body, media)
                .await?;
        }
        let request = SendRequest {
            to,
            body: SendBody::Common(body),
            reply_to,
            callback_data: Some(id),
        };
        Ok(self.inner.send(&session, request).await?)
    }

    async fn mark_read(
        &mut self,
        chat: &str,
        provider_message_ids: &[String],
    ) -> Result<(), ProviderError> {
        let session = self.session()?.clone();
        Ok(self
            .inner
            .mark_chat_read(&session, chat, provider_message_ids)
            .await?)
    }

    /// The Cloud API shows "typing…" only together with marking the
    /// contact's last message read, and hides it itself when Blazz answers
    /// or after 25 s. So `typing(true)` marks the newest message this
    /// session received from `chat` read with the indicator, and
    /// `typing(false)` has nothing to undo.
    async fn typing(&mut self, chat: &str, typing: bool) -> Result<(), ProviderError> {
        let session = self.session()?.clone();
        if !typing {
            return Ok(());
        }
        let Some(wamid) = session.last_inbound(chat) else {
            return Err(ProviderError::Unsupported(
                "typing: the Cloud API shows it only in answer to a message from the contact",
            ));
        };
        Ok(self
            .inner
            .graph
            .mark_read(&session.creds, &wamid, true)
            .await?)
    }

    async fn presence(&mut self, _available: bool) -> Result<(), ProviderError> {
        Err(ProviderError::Unsupported(
            "presence: the Cloud API has no online status",
        ))
    }

    async fn probe(&mut self) -> Result<(), ProviderError> {
        let session = self.session()?.clone();
        self.inner
            .graph
            .phone_number(&session.creds)
            .await
            .map(|_| ())
            .map_err(ProviderError::from)
    }

    /// Nothing to undo at Meta: the number has no linked device, and
    /// deregistering it would take it off the Cloud API for every app.
    /// Blazz forgets the credentials (the engine does); the access token
    /// itself is revoked in Meta's Business Manager.
    async fn logout(&mut self) -> Result<(), ProviderError> {
        self.unregister();
        Ok(())
    }

    async fn close(&mut self) {
        self.unregister();
    }
}
