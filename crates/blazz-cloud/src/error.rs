//! Meta's errors, what Blazz does about each, and how they cross the
//! provider boundary. Actions follow Meta's `code` (never the deprecated
//! `error_subcode` or the title); Meta's own words are kept and always
//! attributed to Meta.

use std::fmt;

use blazz_provider::ProviderError;
use serde_json::Value;

/// An error Meta answered with: the `{"error":{...}}` of a Graph API call,
/// or one item of a webhook's `errors[]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphError {
    /// The HTTP status of the call; `None` for a webhook's error.
    pub status: Option<u16>,
    pub code: i64,
    /// Deprecated by Meta and absent from v16+; kept for logs only.
    pub subcode: Option<i64>,
    /// `type`, e.g. `OAuthException`.
    pub kind: Option<String>,
    /// Meta's message (a webhook error's `message`, else its `title`).
    pub message: String,
    /// `error_data.details`: the most precise explanation Meta gives.
    pub details: Option<String>,
    pub error_user_title: Option<String>,
    pub error_user_msg: Option<String>,
    pub fbtrace_id: Option<String>,
    pub is_transient: bool,
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

impl GraphError {
    /// Reads Meta's `{"error":{...}}` body; `None` if the body is not one.
    pub fn from_body(status: u16, body: &[u8]) -> Option<GraphError> {
        let v: Value = serde_json::from_slice(body).ok()?;
        let e = v.get("error")?;
        let mut err = GraphError::from_value(e)?;
        err.status = Some(status);
        Some(err)
    }

    /// Reads one error object (`code`, `message`/`title`, `error_data`...).
    pub fn from_value(e: &Value) -> Option<GraphError> {
        let code = e.get("code").and_then(|c| {
            c.as_i64()
                .or_else(|| c.as_str().and_then(|s| s.parse().ok()))
        })?;
        let details = e
            .get("error_data")
            .and_then(|d| text(d, "details").or_else(|| d.as_str().map(str::to_string)));
        Some(GraphError {
            status: None,
            code,
            subcode: e.get("error_subcode").and_then(Value::as_i64),
            kind: text(e, "type"),
            message: text(e, "message")
                .or_else(|| text(e, "title"))
                .unwrap_or_default(),
            details,
            error_user_title: text(e, "error_user_title"),
            error_user_msg: text(e, "error_user_msg"),
            fbtrace_id: text(e, "fbtrace_id"),
            is_transient: e
                .get("is_transient")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        })
    }

    pub fn action(&self) -> ErrorAction {
        ErrorAction::for_code(self.code, self.status, self.is_transient)
    }

    /// The provider boundary's error, Meta's words kept and attributed.
    pub fn to_provider_error(&self) -> ProviderError {
        let text = self.to_string();
        match self.action() {
            ErrorAction::Reauthenticate => ProviderError::LoggedOut(text),
            ErrorAction::BackOff | ErrorAction::RetryRecipientLater | ErrorAction::Retry => {
                ProviderError::Transient(text)
            }
            ErrorAction::OutsideWindow
            | ErrorAction::OptedOut
            | ErrorAction::PauseNumber
            | ErrorAction::Permanent => ProviderError::Permanent(text),
        }
    }
}

/// The marker `code_of` finds in a provider error's text.
const MARK: &str = "[Meta error ";

impl fmt::Display for GraphError {
    /// `<what Blazz makes of it> [Meta error <code>: <Meta's message>: <details>]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(hint) = self.action().hint() {
            write!(f, "{hint} ")?;
        }
        write!(f, "{MARK}{}: {}", self.code, self.message)?;
        if let Some(d) = self.details.as_deref().filter(|d| *d != self.message) {
            write!(f, ": {d}")?;
        }
        if let Some(u) = &self.error_user_msg {
            write!(f, " ({u})")?;
        }
        write!(f, "]")
    }
}

/// Meta's error code in a `ProviderError` made from a `GraphError`, so that
/// whoever only sees the provider error (the send job) can still act on
/// `ErrorAction::for_code`.
pub fn code_of(err: &ProviderError) -> Option<i64> {
    let text = match err {
        ProviderError::Transient(t) | ProviderError::Permanent(t) | ProviderError::LoggedOut(t) => {
            t
        }
        _ => return None,
    };
    let rest = &text[text.find(MARK)? + MARK.len()..];
    let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    digits.parse().ok()
}

/// What Blazz does about an error Meta reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorAction {
    /// The token no longer works: the account needs new credentials
    /// (`needs_reauth`); retrying will not help.
    Reauthenticate,
    /// Throughput or API rate limit: back off, then retry.
    BackOff,
    /// Too many messages to this one recipient: retry only it, later;
    /// other recipients are fine.
    RetryRecipientLater,
    /// More than 24 hours since the contact last wrote: only a template
    /// can reach them now.
    OutsideWindow,
    /// The contact stopped marketing messages: record the opt-out.
    OptedOut,
    /// A quality or policy block: pause sending on this number and alert.
    PauseNumber,
    /// Meta failed for now: retry with backoff.
    Retry,
    /// Retrying will not help.
    Permanent,
}

impl ErrorAction {
    /// The action for Meta's `code` (contracts A2). Codes Meta does not
    /// document are retried when Meta says they are transient or the call
    /// failed on its side (5xx), and permanent otherwise.
    pub fn for_code(code: i64, status: Option<u16>, is_transient: bool) -> ErrorAction {
        match code {
            0 | 190 => ErrorAction::Reauthenticate,
            4 | 80007 | 130429 => ErrorAction::BackOff,
            131056 => ErrorAction::RetryRecipientLater,
            131047 => ErrorAction::OutsideWindow,
            131050 => ErrorAction::OptedOut,
            131048 | 368 | 131031 => ErrorAction::PauseNumber,
            1 | 2 | 131000 | 131016 | 133004 | 131057 => ErrorAction::Retry,
            // Undeliverable, unsupported type, country restricted,
            // template problems, permissions, Meta's marketing cap per
            // user, media that cannot be fetched or uploaded, bad
            // parameters.
            131026
            | 131051
            | 130497
            | 132000..=132016
            | 3
            | 10
            | 200..=299
            | 131049
            | 131052
            | 131053
            | 100 => ErrorAction::Permanent,
            _ if is_transient || status.is_some_and(|s| s >= 500) => ErrorAction::Retry,
            _ => ErrorAction::Permanent,
        }
    }

    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            ErrorAction::BackOff | ErrorAction::RetryRecipientLater | ErrorAction::Retry
        )
    }

    /// What Blazz tells the user before Meta's own words, if anything.
    fn hint(self) -> Option<&'static str> {
        match self {
            ErrorAction::Reauthenticate => {
                Some("the Cloud API access token no longer works; enter new credentials")
            }
            ErrorAction::OutsideWindow => Some("outside the 24-hour window; send a template"),
            ErrorAction::OptedOut => Some("the contact stopped marketing messages"),
            ErrorAction::PauseNumber => Some("Meta restricted this number; sending is paused"),
            _ => None,
        }
    }
}

/// Everything that can go wrong talking to the Graph API.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CloudError {
    /// Meta answered with an error.
    #[error("{0}")]
    Graph(Box<GraphError>),
    /// The Graph API could not be reached (or did not answer in time).
    #[error("could not reach the Graph API: {0}")]
    Network(String),
    /// Meta answered something Blazz cannot read.
    #[error("unexpected answer from the Graph API: {0}")]
    Unexpected(String),
    /// What Blazz was asked to send cannot be sent as it is.
    #[error("{0}")]
    Invalid(String),
}

impl CloudError {
    pub fn action(&self) -> ErrorAction {
        match self {
            CloudError::Graph(g) => g.action(),
            CloudError::Network(_) | CloudError::Unexpected(_) => ErrorAction::Retry,
            CloudError::Invalid(_) => ErrorAction::Permanent,
        }
    }

    pub fn graph(&self) -> Option<&GraphError> {
        match self {
            CloudError::Graph(g) => Some(g.as_ref()),
            _ => None,
        }
    }
}

impl From<reqwest::Error> for CloudError {
    fn from(e: reqwest::Error) -> Self {
        CloudError::Network(e.without_url().to_string())
    }
}

impl From<CloudError> for ProviderError {
    fn from(e: CloudError) -> Self {
        match e {
            CloudError::Graph(g) => g.to_provider_error(),
            CloudError::Network(_) | CloudError::Unexpected(_) => {
                ProviderError::Transient(e.to_string())
            }
            CloudError::Invalid(m) => ProviderError::Permanent(m),
        }
    }
}
