//! `CloudProvider`: Blazz's Cloud API numbers behind the provider boundary.
//! Sends go out through the Graph API, paced per number; what Meta reports
//! arrives by webhook at the app, which hands it here (`deliver_change`,
//! `deliver`) to reach the session of that number — a registry of the
//! event senders of the sessions open on this instance.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use blazz_provider::{EventSender, Media, MessageBody, ProviderError, ProviderEvent, Sent};

use crate::config::{CloudCredentials, CloudOptions, GraphConfig};
use crate::error::{CloudError, ErrorAction};
use crate::graph::Graph;
use crate::outbound::{CloudBody, MediaRef, SendBody, SendRequest};
use crate::pacer::{Pacer, BACK_OFF};
use crate::webhook::{Change, MessageChange, StatusChange};

/// Read receipts sent at most for one `mark_read` whose newest message is
/// not known (each is one Graph API call).
const MAX_READ_MARKS: usize = 20;

/// The Cloud API provider. Cheap to clone: clones share the registry.
#[derive(Clone)]
pub struct CloudProvider {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) graph: Graph,
    options: CloudOptions,
    sessions: Mutex<HashMap<String, Arc<Session>>>,
    /// By phone number id: throughput is Meta's per number.
    pacers: Mutex<HashMap<String, Arc<Mutex<Pacer>>>>,
    epoch: Instant,
    generations: Mutex<u64>,
}

/// One number's open session on this instance.
pub(crate) struct Session {
    pub(crate) account_id: String,
    pub(crate) creds: CloudCredentials,
    events: EventSender,
    pub(crate) generation: u64,
    /// The newest inbound wamid per contact (E.164): the Cloud API shows
    /// "typing…" only as part of marking a contact's message read.
    last_inbound: Mutex<HashMap<String, String>>,
}

impl std::fmt::Debug for CloudProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CloudProvider")
            .field("graph", self.inner.graph.config())
            .field("options", &self.inner.options)
            .field("open_sessions", &lock(&self.inner.sessions).len())
            .finish()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl CloudProvider {
    pub fn new(config: GraphConfig, options: CloudOptions) -> Result<CloudProvider, CloudError> {
        Ok(CloudProvider::with_graph(Graph::new(config)?, options))
    }

    pub fn with_graph(graph: Graph, options: CloudOptions) -> CloudProvider {
        CloudProvider {
            inner: Arc::new(Inner {
                graph,
                options,
                sessions: Mutex::new(HashMap::new()),
                pacers: Mutex::new(HashMap::new()),
                epoch: Instant::now(),
                generations: Mutex::new(0),
            }),
        }
    }

    pub fn graph(&self) -> &Graph {
        &self.inner.graph
    }

    /// Whether `account_id`'s session is open on this instance.
    pub fn is_open(&self, account_id: &str) -> bool {
        lock(&self.inner.sessions).contains_key(account_id)
    }

    /// The account whose open session has this phone number id, with its
    /// credentials (the app secret checks the webhook's signature).
    pub fn open_account_for_number(
        &self,
        phone_number_id: &str,
    ) -> Option<(String, CloudCredentials)> {
        lock(&self.inner.sessions)
            .values()
            .find(|s| s.creds.phone_number_id == phone_number_id)
            .map(|s| (s.account_id.clone(), s.creds.clone()))
    }

    /// How long the next send from this number would wait for its slot
    /// (throughput, or a back-off after Meta's 130429).
    pub fn next_send_in(&self, phone_number_id: &str) -> Duration {
        let pacer = self.inner.pacer(phone_number_id);
        let now = self.inner.now_us();
        let booked = lock(&pacer);
        booked.peek(now)
    }

    /// Pushes events into `account_id`'s session; false if it is not open
    /// here (or is closing).
    pub async fn deliver(&self, account_id: &str, events: Vec<ProviderEvent>) -> bool {
        let Some(session) = self.inner.session(account_id) else {
            return false;
        };
        for event in events {
            session.note_inbound(&event);
            if session.events.send(event).await.is_err() {
                return false;
            }
        }
        true
    }

    /// Routes a parsed webhook change to the open session of its number
    /// (by `phone_number_id`), downloading inbound media first. False if
    /// no session of that number is open here, or the change is not a
    /// session's (template statuses, number-wide errors: the app's).
    pub async fn deliver_change(&self, change: Change) -> bool {
        let number = match &change {
            Change::Message(m) => &m.phone_number_id,
            Change::Status(s) => &s.phone_number_id,
            Change::TemplateStatus(_) | Change::Errors { .. } => return false,
        };
        let Some((account_id, creds)) = self.open_account_for_number(number) else {
            return false;
        };
        let events = self.events_for(&creds, change).await;
        self.deliver(&account_id, events).await
    }

    /// The provider events a change makes, inbound media downloaded (a
    /// failed download leaves the message without its bytes).
    pub async fn events_for(&self, creds: &CloudCredentials, change: Change) -> Vec<ProviderEvent> {
        match change {
            Change::Message(m) => vec![self.inbound(creds, m).await],
            Change::Status(s) => receipt_event(&s).into_iter().collect(),
            Change::TemplateStatus(_) | Change::Errors { .. } => Vec::new(),
        }
    }

    async fn inbound(&self, creds: &CloudCredentials, change: MessageChange) -> ProviderEvent {
        let MessageChange {
            mut message, media, ..
        } = change;
        if let Some(m) = media {
            match self.inner.graph.download_media(creds, &m.id).await {
                Ok(got) => {
                    message.media = Some(Media {
                        mime_type: m.mime_type.unwrap_or(got.mime_type),
                        filename: m.filename,
                        data: got.data,
                    })
                }
                Err(e) => tracing::warn!(
                    provider_message_id = %message.provider_message_id,
                    error = %e,
                    "could not download inbound media"
                ),
            }
        }
        ProviderEvent::Message(message)
    }

    /// Sends a Cloud-only message (`CloudBody`) through `account_id`'s
    /// open session, paced like every send.
    pub async fn send(
        &self,
        account_id: &str,
        request: SendRequest,
    ) -> Result<Sent, ProviderError> {
        let session = self
            .inner
            .session(account_id)
            .ok_or(ProviderError::NotConnected)?;
        self.inner
            .send(&session, request)
            .await
            .map_err(ProviderError::from)
    }

    /// Marks a contact's message read, showing "typing…" if `typing`.
    pub async fn mark_read(
        &self,
        account_id: &str,
        wamid: &str,
        typing: bool,
    ) -> Result<(), ProviderError> {
        let session = self
            .inner
            .session(account_id)
            .ok_or(ProviderError::NotConnected)?;
        Ok(self
            .inner
            .graph
            .mark_read(&session.creds, wamid, typing)
            .await?)
    }
}

/// The receipt a status makes; `None` for a status Blazz does not track.
pub fn receipt_event(s: &StatusChange) -> Option<ProviderEvent> {
    let status = s.receipt_status()?;
    let at = UNIX_EPOCH + Duration::from_millis(s.timestamp_ms.max(0) as u64);
    let error = (!s.errors.is_empty()).then(|| {
        s.errors
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ")
    });
    Some(ProviderEvent::Receipt {
        provider_message_id: s.wamid.clone(),
        status,
        at: if s.timestamp_ms > 0 {
            at
        } else {
            SystemTime::now()
        },
        error,
    })
}

impl Session {
    /// Remembers the newest message of each contact, also inside a batch
    /// delivered for storage (`Durable`).
    fn note_inbound(&self, event: &ProviderEvent) {
        match event {
            ProviderEvent::Message(m) => {
                lock(&self.last_inbound).insert(m.from.clone(), m.provider_message_id.clone());
            }
            ProviderEvent::Durable { events, .. } => {
                events.iter().for_each(|e| self.note_inbound(e))
            }
            _ => {}
        }
    }

    pub(crate) fn last_inbound(&self, chat: &str) -> Option<String> {
        lock(&self.last_inbound).get(chat).cloned()
    }
}

impl Inner {
    pub(crate) fn session(&self, account_id: &str) -> Option<Arc<Session>> {
        lock(&self.sessions).get(account_id).cloned()
    }

    /// Registers a session, replacing an older one of the same account.
    pub(crate) fn register(
        &self,
        account_id: &str,
        creds: CloudCredentials,
        events: EventSender,
    ) -> Arc<Session> {
        let generation = {
            let mut g = lock(&self.generations);
            *g += 1;
            *g
        };
        let session = Arc::new(Session {
            account_id: account_id.to_string(),
            creds,
            events,
            generation,
            last_inbound: Mutex::new(HashMap::new()),
        });
        lock(&self.sessions).insert(account_id.to_string(), session.clone());
        session
    }

    /// Removes a session unless a newer one took its place.
    pub(crate) fn unregister(&self, account_id: &str, generation: u64) {
        let mut sessions = lock(&self.sessions);
        if sessions.get(account_id).map(|s| s.generation) == Some(generation) {
            sessions.remove(account_id);
        }
    }

    fn pacer(&self, phone_number_id: &str) -> Arc<Mutex<Pacer>> {
        let rate = self.options.messages_per_second;
        lock(&self.pacers)
            .entry(phone_number_id.to_string())
            .or_insert_with(|| Arc::new(Mutex::new(Pacer::new(rate))))
            .clone()
    }

    fn now_us(&self) -> u64 {
        self.epoch.elapsed().as_micros() as u64
    }

    /// Uploads what must be, waits for the number's slot, sends.
    pub(crate) async fn send(
        &self,
        session: &Session,
        mut request: SendRequest,
    ) -> Result<Sent, CloudError> {
        let creds = &session.creds;
        if let Some(media) = upload_slot(&mut request.body) {
            if let MediaRef::Upload(bytes) = media {
                let id = self.graph.upload_media(creds, bytes).await?;
                *media = MediaRef::Id(id);
            }
        }
        let pacer = self.pacer(&creds.phone_number_id);
        let wait = lock(&pacer).reserve(self.now_us());
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        match self.graph.send(creds, &request).await {
            Ok(r) => Ok(Sent {
                provider_message_id: r.message_id,
            }),
            Err(e) => {
                if e.action() == ErrorAction::BackOff {
                    lock(&pacer).hold(self.now_us(), BACK_OFF);
                }
                Err(e)
            }
        }
    }

    /// Uploads a media message's bytes (an outbound message of the engine)
    /// and points its body at Meta's id.
    pub(crate) async fn upload_body_media(
        &self,
        creds: &CloudCredentials,
        body: &mut MessageBody,
        media: &Media,
    ) -> Result<(), CloudError> {
        let slot = match body {
            MessageBody::Image { media_id, .. }
            | MessageBody::Video { media_id, .. }
            | MessageBody::Audio { media_id }
            | MessageBody::Document { media_id, .. }
            | MessageBody::Sticker { media_id } => media_id,
            _ => return Ok(()),
        };
        *slot = self.graph.upload_media(creds, media).await?;
        Ok(())
    }

    pub(crate) async fn mark_chat_read(
        &self,
        session: &Session,
        chat: &str,
        ids: &[String],
    ) -> Result<(), CloudError> {
        // Meta marks a message and every earlier one read: the newest is
        // enough when Blazz knows which it is.
        let newest = session.last_inbound(chat).filter(|n| ids.contains(n));
        let marks: Vec<&String> = match &newest {
            Some(n) => vec![n],
            None => ids.iter().rev().take(MAX_READ_MARKS).collect(),
        };
        for id in marks {
            self.graph.mark_read(&session.creds, id, false).await?;
        }
        Ok(())
    }
}

/// The media of a Cloud body that may need uploading.
fn upload_slot(body: &mut SendBody) -> Option<&mut MediaRef> {
    match body {
        SendBody::Cloud(CloudBody::Media { media, .. }) => Some(media),
        SendBody::Cloud(CloudBody::Template(t)) => t.header.as_mut()?.media_mut(),
        _ => None,
    }
}
