//! A fake Graph API on a local port, for tests: the endpoints Blazz uses,
//! answering as Meta documents them (contracts A1–A5) — bearer-token
//! checks (190 when wrong), sends validated and recorded, uploads and
//! downloads, templates with paging, scripted failures — and webhook calls
//! in Meta's exact shape, signed with the number's app secret, posted to a
//! callback URL. Tests read what it received.

mod payload;
// Handlers answer early with Meta's error responses, which are large.
#[allow(clippy::result_large_err)]
mod server;
mod templates;
#[allow(clippy::result_large_err)]
mod validate;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::Value;
use tokio::sync::oneshot;

use crate::config::{CloudCredentials, GraphConfig, DEFAULT_VERSION};

pub use payload::{messages_payload, statuses_payload, template_status_payload};

/// A number the fake knows.
#[derive(Debug, Clone)]
pub struct FakeNumber {
    pub creds: CloudCredentials,
    /// As Meta displays it, e.g. `15550783881`.
    pub display_phone_number: String,
    pub verified_name: String,
    pub quality_rating: String,
}

/// A send the fake accepted.
#[derive(Debug, Clone, PartialEq)]
pub struct SentMessage {
    pub phone_number_id: String,
    /// The JSON body exactly as received.
    pub body: Value,
    pub wamid: String,
}

/// A media file uploaded (or planted with `add_media`).
#[derive(Debug, Clone, PartialEq)]
pub struct Upload {
    pub id: String,
    pub phone_number_id: String,
    /// The multipart's `type` field (the planted file's MIME type).
    pub mime_type: String,
    /// The `file` part's own content type and filename.
    pub file_content_type: Option<String>,
    pub filename: Option<String>,
    pub messaging_product: Option<String>,
    pub data: Vec<u8>,
}

/// A scripted failure for the next send.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub code: i64,
    pub subcode: Option<i64>,
    pub message: String,
    pub http_status: u16,
}

#[derive(Default)]
pub(crate) struct State {
    pub base_url: String,
    pub numbers: Vec<FakeNumber>,
    pub sent: Vec<SentMessage>,
    pub reads: Vec<Value>,
    pub media: Vec<Upload>,
    pub deleted_media: Vec<String>,
    /// (WABA id, template as Meta lists it).
    pub templates: Vec<(String, Value)>,
    pub deleted_templates: Vec<(String, String, Option<String>)>,
    pub failures: VecDeque<Failure>,
    pub auto_statuses: Vec<String>,
    pub webhook_url: Option<String>,
    pub page_size: usize,
    pub counter: u64,
    /// "METHOD /path?query", in order.
    pub requests: Vec<String>,
}

impl State {
    pub fn next_id(&mut self) -> u64 {
        self.counter += 1;
        self.counter
    }
}

pub(crate) struct Shared {
    pub state: Mutex<State>,
    pub http: reqwest::Client,
}

impl Shared {
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The fake Graph API. Stops when dropped.
pub struct FakeGraph {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
}

impl Drop for FakeGraph {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// The number every fake starts with.
pub fn default_number() -> FakeNumber {
    FakeNumber {
        creds: CloudCredentials {
            phone_number_id: "106540352242922".into(),
            business_account_id: "102290129340398".into(),
            access_token: "fake-access-token".into(),
            app_secret: "fake-app-secret".into(),
            verify_token: "fake-verify-token".into(),
        },
        display_phone_number: "15550783881".into(),
        verified_name: "Blazz Test".into(),
        quality_rating: "GREEN".into(),
    }
}

impl FakeGraph {
    /// Serves on 127.0.0.1 on a free port, with `default_number()`.
    pub async fn start() -> std::io::Result<FakeGraph> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                base_url: format!("http://{addr}"),
                numbers: vec![default_number()],
                page_size: 25,
                ..State::default()
            }),
            http: reqwest::Client::new(),
        });
        let (stop, stopped) = oneshot::channel::<()>();
        let app = server::router(shared.clone());
        tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
                let _ = stopped.await;
            });
            if let Err(e) = serve.await {
                tracing::warn!(error = %e, "the fake Graph API stopped");
            }
        });
        Ok(FakeGraph {
            addr,
            shared,
            stop: Some(stop),
        })
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Where Blazz should find this fake.
    pub fn graph_config(&self) -> GraphConfig {
        GraphConfig::new(self.base_url(), DEFAULT_VERSION)
    }

    /// The default number's credentials.
    pub fn credentials(&self) -> CloudCredentials {
        default_number().creds
    }

    pub fn add_number(&self, number: FakeNumber) {
        self.shared.lock().numbers.push(number);
    }

    /// Changes a number's valid token (the old one then answers 190).
    pub fn set_access_token(&self, phone_number_id: &str, token: &str) {
        let mut s = self.shared.lock();
        for n in s.numbers.iter_mut() {
            if n.creds.phone_number_id == phone_number_id {
                n.creds.access_token = token.to_string();
            }
        }
    }

    /// Where webhook calls go (the app's `/webhooks/meta`).
    pub fn set_webhook_url(&self, url: impl Into<String>) {
        self.shared.lock().webhook_url = Some(url.into());
    }

    /// Statuses posted back, in order, after every accepted send.
    pub fn auto_statuses(&self, statuses: &[&str]) {
        self.shared.lock().auto_statuses = statuses.iter().map(|s| s.to_string()).collect();
    }

    /// The next send answers Meta's error `code` with `http_status`.
    pub fn fail_next_send(&self, code: i64, subcode: Option<i64>, message: &str, http_status: u16) {
        self.shared.lock().failures.push_back(Failure {
            code,
            subcode,
            message: message.to_string(),
            http_status,
        });
    }

    pub fn sent(&self) -> Vec<SentMessage> {
        self.shared.lock().sent.clone()
    }

    /// Bodies of mark-read (and typing) calls.
    pub fn reads(&self) -> Vec<Value> {
        self.shared.lock().reads.clone()
    }

    /// Uploaded and planted media files.
    pub fn uploads(&self) -> Vec<Upload> {
        self.shared.lock().media.clone()
    }

    pub fn deleted_media(&self) -> Vec<String> {
        self.shared.lock().deleted_media.clone()
    }

    /// Every request line received, in order.
    pub fn requests(&self) -> Vec<String> {
        self.shared.lock().requests.clone()
    }

    /// Plants a media file a contact sent; its Meta media id.
    pub fn add_media(&self, phone_number_id: &str, mime_type: &str, data: Vec<u8>) -> String {
        let mut s = self.shared.lock();
        let id = format!("{}", 900_000_000_000 + s.next_id());
        s.media.push(Upload {
            id: id.clone(),
            phone_number_id: phone_number_id.to_string(),
            mime_type: mime_type.to_string(),
            file_content_type: Some(mime_type.to_string()),
            filename: None,
            messaging_product: None,
            data,
        });
        id
    }

    /// Adds a template to a business account, as Meta lists it (`id`,
    /// `name`, `language`, `status`, `category`, `components`).
    pub fn add_template(&self, waba_id: &str, template: Value) {
        self.shared
            .lock()
            .templates
            .push((waba_id.to_string(), template));
    }

    pub fn templates(&self, waba_id: &str) -> Vec<Value> {
        let s = self.shared.lock();
        s.templates
            .iter()
            .filter(|(w, _)| w == waba_id)
            .map(|(_, t)| t.clone())
            .collect()
    }

    /// (WABA id, name, hsm_id) of each delete.
    pub fn deleted_templates(&self) -> Vec<(String, String, Option<String>)> {
        self.shared.lock().deleted_templates.clone()
    }

    /// Templates per page when the caller gives no `limit`.
    pub fn set_page_size(&self, n: usize) {
        self.shared.lock().page_size = n.max(1);
    }

    /// Posts a contact's message (`message` holds its `type` and typed
    /// part, e.g. `{"type":"text","text":{"body":"hi"}}`; `id`, `from`
    /// and `timestamp` are filled in unless given). The wamid and the
    /// callback's HTTP status.
    pub async fn deliver_inbound(
        &self,
        phone_number_id: &str,
        from: &str,
        name: &str,
        message: Value,
    ) -> Result<(String, u16), String> {
        payload::deliver_inbound(&self.shared, phone_number_id, from, name, message).await
    }

    /// Posts a status of a message the number sent (`errors` in Meta's
    /// shape for `failed`). The callback's HTTP status.
    pub async fn deliver_status(
        &self,
        phone_number_id: &str,
        wamid: &str,
        recipient: &str,
        status: &str,
        errors: Vec<Value>,
    ) -> Result<u16, String> {
        payload::deliver_status(
            &self.shared,
            phone_number_id,
            wamid,
            recipient,
            status,
            errors,
        )
        .await
    }

    /// Posts a `message_template_status_update`.
    pub async fn deliver_template_status(
        &self,
        waba_id: &str,
        template_id: &str,
        name: &str,
        language: &str,
        event: &str,
        reason: Option<&str>,
    ) -> Result<u16, String> {
        let body = template_status_payload(waba_id, template_id, name, language, event, reason);
        let secret = {
            let s = self.shared.lock();
            s.numbers
                .iter()
                .find(|n| n.creds.business_account_id == waba_id)
                .map(|n| n.creds.app_secret.clone())
        };
        let secret = secret.ok_or_else(|| format!("no number of business account {waba_id}"))?;
        let raw = body.to_string().into_bytes();
        let sig = crate::webhook::sign(&secret, &raw);
        payload::post(&self.shared, raw, Some(sig)).await
    }

    /// Posts any body with any signature header (or none): duplicates,
    /// out-of-order statuses, bad signatures.
    pub async fn send_raw_webhook(
        &self,
        body: Vec<u8>,
        signature: Option<String>,
    ) -> Result<u16, String> {
        payload::post(&self.shared, body, signature).await
    }

    /// The app secret of a number (to sign raw webhooks with).
    pub fn app_secret(&self, phone_number_id: &str) -> Option<String> {
        self.shared
            .lock()
            .numbers
            .iter()
            .find(|n| n.creds.phone_number_id == phone_number_id)
            .map(|n| n.creds.app_secret.clone())
    }
}
