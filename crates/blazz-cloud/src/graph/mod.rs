//! The Graph API client: one `reqwest` client for every number; each call
//! takes the number's credentials. Errors come back as Meta wrote them
//! (`GraphError`), so the caller can act on Meta's code.

mod media;
mod templates;

use std::time::Duration;

use reqwest::{Method, RequestBuilder, Response};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::config::{CloudCredentials, GraphConfig};
use crate::error::{CloudError, GraphError};
use crate::outbound::SendRequest;

pub use media::MediaInfo;

/// How long one Graph API call may take.
const TIMEOUT: Duration = Duration::from_secs(30);

/// The fields asked for when a number is checked.
const PHONE_FIELDS: &str = "id,display_phone_number,verified_name,quality_rating,\
messaging_limit_tier,throughput,code_verification_status,name_status,platform_type";

#[derive(Debug, Clone)]
pub struct Graph {
    http: reqwest::Client,
    config: GraphConfig,
}

/// What Meta says about a number (the "test connection" answer).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhoneNumberInfo {
    pub id: String,
    #[serde(default)]
    pub display_phone_number: Option<String>,
    #[serde(default)]
    pub verified_name: Option<String>,
    /// `GREEN`, `YELLOW`, `RED` or `UNKNOWN`.
    #[serde(default)]
    pub quality_rating: Option<String>,
    #[serde(default)]
    pub messaging_limit_tier: Option<String>,
    /// `{"level": "STANDARD" | "HIGH" | "NOT_APPLICABLE"}`.
    #[serde(default)]
    pub throughput: Option<Value>,
    #[serde(default)]
    pub code_verification_status: Option<String>,
    #[serde(default)]
    pub name_status: Option<String>,
    #[serde(default)]
    pub platform_type: Option<String>,
}

impl PhoneNumberInfo {
    /// The number in E.164, as Meta displays it (`+1 555-078-3881`).
    pub fn e164(&self) -> Option<String> {
        let digits: String = self
            .display_phone_number
            .as_deref()?
            .chars()
            .filter(char::is_ascii_digit)
            .collect();
        (!digits.is_empty()).then(|| format!("+{digits}"))
    }
}

/// Meta's answer to an accepted send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendResponse {
    /// The wamid: statuses and replies refer to it.
    pub message_id: String,
    /// The recipient's WhatsApp id as Meta resolved it.
    pub wa_id: Option<String>,
    /// For templates: `accepted`, `held_for_quality_assessment`, `paused`.
    pub message_status: Option<String>,
}

impl Graph {
    pub fn new(config: GraphConfig) -> Result<Graph, CloudError> {
        let http = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .build()
            .map_err(|e| CloudError::Network(format!("building the HTTP client: {e}")))?;
        Ok(Graph { http, config })
    }

    /// With a client of the caller's (shared connection pool, proxy...).
    pub fn with_client(config: GraphConfig, http: reqwest::Client) -> Graph {
        Graph { http, config }
    }

    pub fn config(&self) -> &GraphConfig {
        &self.config
    }

    fn request(&self, method: Method, url: &str, creds: &CloudCredentials) -> RequestBuilder {
        self.http
            .request(method, url)
            .bearer_auth(&creds.access_token)
    }

    /// The body of a successful answer, or Meta's error.
    async fn read(response: Response) -> Result<Vec<u8>, CloudError> {
        let status = response.status().as_u16();
        let body = response.bytes().await?.to_vec();
        if (200..300).contains(&status) {
            // Some errors come with 200 (rare): still an error.
            if let Some(e) = GraphError::from_body(status, &body) {
                return Err(CloudError::Graph(Box::new(e)));
            }
            return Ok(body);
        }
        match GraphError::from_body(status, &body) {
            Some(e) => Err(CloudError::Graph(Box::new(e))),
            None => {
                let snippet: String = String::from_utf8_lossy(&body).chars().take(200).collect();
                Err(CloudError::Unexpected(format!("HTTP {status}: {snippet}")))
            }
        }
    }

    async fn json(&self, builder: RequestBuilder) -> Result<Value, CloudError> {
        let body = Graph::read(builder.send().await?).await?;
        serde_json::from_slice(&body)
            .map_err(|e| CloudError::Unexpected(format!("unreadable JSON: {e}")))
    }

    /// Checks the credentials and reads the number's details.
    pub async fn phone_number(
        &self,
        creds: &CloudCredentials,
    ) -> Result<PhoneNumberInfo, CloudError> {
        let url = self.config.url(&creds.phone_number_id);
        let v = self
            .json(
                self.request(Method::GET, &url, creds)
                    .query(&[("fields", PHONE_FIELDS)]),
            )
            .await?;
        serde_json::from_value(v)
            .map_err(|e| CloudError::Unexpected(format!("unreadable phone number: {e}")))
    }

    /// Sends a message as it is (media must be uploaded already).
    pub async fn send(
        &self,
        creds: &CloudCredentials,
        message: &SendRequest,
    ) -> Result<SendResponse, CloudError> {
        self.send_json(creds, &message.to_json()?).await
    }

    /// Sends a message body already in Meta's shape.
    pub async fn send_json(
        &self,
        creds: &CloudCredentials,
        body: &Value,
    ) -> Result<SendResponse, CloudError> {
        let url = self
            .config
            .url(&format!("{}/messages", creds.phone_number_id));
        let v = self
            .json(self.request(Method::POST, &url, creds).json(body))
            .await?;
        let first = v.pointer("/messages/0");
        let message_id = first
            .and_then(|m| m.get("id"))
            .and_then(Value::as_str)
            .filter(|id| !id.is_empty())
            .ok_or_else(|| CloudError::Unexpected("the send answer has no message id".into()))?;
        let text = |p: &str| v.pointer(p).and_then(Value::as_str).map(str::to_string);
        Ok(SendResponse {
            message_id: message_id.to_string(),
            wa_id: text("/contacts/0/wa_id"),
            message_status: text("/messages/0/message_status"),
        })
    }

    /// Marks an inbound message (and those before it) read; with `typing`
    /// the contact sees "typing…" until Blazz answers or 25 s pass.
    pub async fn mark_read(
        &self,
        creds: &CloudCredentials,
        message_id: &str,
        typing: bool,
    ) -> Result<(), CloudError> {
        let mut body = json!({
            "messaging_product": "whatsapp",
            "status": "read",
            "message_id": message_id,
        });
        if typing {
            body["typing_indicator"] = json!({"type": "text"});
        }
        let url = self
            .config
            .url(&format!("{}/messages", creds.phone_number_id));
        self.json(self.request(Method::POST, &url, creds).json(&body))
            .await?;
        Ok(())
    }
}
