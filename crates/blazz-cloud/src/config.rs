//! Where the Graph API is, and the credentials of one Cloud API number.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::CloudError;

/// Meta's Graph API host.
pub const DEFAULT_BASE_URL: &str = "https://graph.facebook.com";
/// The Graph API version Blazz speaks unless configured otherwise.
pub const DEFAULT_VERSION: &str = "v23.0";
/// Meta's default throughput per registered business number.
pub const DEFAULT_MESSAGES_PER_SECOND: u32 = 80;

/// The Graph API's address and version (`[cloud] graph_url`,
/// `graph_version` in Blazz's configuration).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GraphConfig {
    pub base_url: String,
    pub version: String,
}

impl Default for GraphConfig {
    fn default() -> Self {
        GraphConfig {
            base_url: DEFAULT_BASE_URL.into(),
            version: DEFAULT_VERSION.into(),
        }
    }
}

impl GraphConfig {
    pub fn new(base_url: impl Into<String>, version: impl Into<String>) -> Self {
        GraphConfig {
            base_url: base_url.into(),
            version: version.into(),
        }
    }

    /// The base URL without a trailing slash.
    pub fn base(&self) -> &str {
        self.base_url.trim_end_matches('/')
    }

    /// `{base}/{version}/{path}`.
    pub fn url(&self, path: &str) -> String {
        format!(
            "{}/{}/{}",
            self.base(),
            self.version.trim_matches('/'),
            path.trim_start_matches('/')
        )
    }
}

/// How the provider behaves beyond where the Graph API is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloudOptions {
    /// Sends per second per phone number (Meta's throughput; 80 by default,
    /// 1,000 for numbers Meta upgraded, 20 for coexistence numbers).
    pub messages_per_second: u32,
}

impl Default for CloudOptions {
    fn default() -> Self {
        CloudOptions {
            messages_per_second: DEFAULT_MESSAGES_PER_SECOND,
        }
    }
}

/// One Cloud API number's credentials, as a workspace enters them. Blazz
/// stores them sealed and hands them to the provider as JSON bytes in
/// `AccountRef::credentials`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CloudCredentials {
    pub phone_number_id: String,
    /// The WhatsApp Business Account (WABA) id: templates live there.
    pub business_account_id: String,
    /// A system-user access token with `whatsapp_business_messaging` and
    /// `whatsapp_business_management`.
    pub access_token: String,
    /// The Meta app's secret: webhook calls are signed with it.
    pub app_secret: String,
    /// What Meta sends back in the webhook verification handshake.
    pub verify_token: String,
}

impl CloudCredentials {
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CloudError> {
        let creds: CloudCredentials = serde_json::from_slice(bytes)
            .map_err(|e| CloudError::Invalid(format!("unreadable Cloud API credentials: {e}")))?;
        creds.check()?;
        Ok(creds)
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        // Serializing plain strings cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Every field is needed; ids are numeric as Meta issues them.
    pub fn check(&self) -> Result<(), CloudError> {
        let fields = [
            ("phone_number_id", &self.phone_number_id),
            ("business_account_id", &self.business_account_id),
            ("access_token", &self.access_token),
            ("app_secret", &self.app_secret),
            ("verify_token", &self.verify_token),
        ];
        for (name, value) in fields {
            if value.trim().is_empty() {
                return Err(CloudError::Invalid(format!("{name} is empty")));
            }
        }
        for (name, value) in &fields[..2] {
            if !value.chars().all(|c| c.is_ascii_digit()) {
                return Err(CloudError::Invalid(format!(
                    "{name} must be the numeric id Meta shows"
                )));
            }
        }
        Ok(())
    }
}

impl fmt::Debug for CloudCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CloudCredentials")
            .field("phone_number_id", &self.phone_number_id)
            .field("business_account_id", &self.business_account_id)
            .field("access_token", &"[redacted]")
            .field("app_secret", &"[redacted]")
            .field("verify_token", &"[redacted]")
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds() -> CloudCredentials {
        CloudCredentials {
            phone_number_id: "106540352242922".into(),
            business_account_id: "102290129340398".into(),
            access_token: "EAAG-secret-token".into(),
            app_secret: "app-secret-value".into(),
            verify_token: "verify-me".into(),
        }
    }

    #[test]
    fn debug_output_never_shows_the_token_or_the_secrets() {
        let shown = format!("{:?}", creds());
        assert!(shown.contains("106540352242922"));
        assert!(!shown.contains("EAAG-secret-token"));
        assert!(!shown.contains("app-secret-value"));
        assert!(!shown.contains("verify-me"));
    }

    #[test]
    fn credentials_round_trip_as_json_bytes() {
        let c = creds();
        assert_eq!(CloudCredentials::from_bytes(&c.to_bytes()).unwrap(), c);
    }

    #[test]
    fn empty_or_non_numeric_fields_are_refused() {
        let mut c = creds();
        c.access_token = " ".into();
        assert!(CloudCredentials::from_bytes(&c.to_bytes()).is_err());
        let mut c = creds();
        c.phone_number_id = "+1555".into();
        assert!(c.check().is_err());
        assert!(CloudCredentials::from_bytes(b"not json").is_err());
    }

    #[test]
    fn urls_join_base_version_and_path() {
        let g = GraphConfig::new("http://127.0.0.1:9/", "v23.0");
        assert_eq!(
            g.url("/123/messages"),
            "http://127.0.0.1:9/v23.0/123/messages"
        );
        let d = GraphConfig::default();
        assert_eq!(d.url("1"), "https://graph.facebook.com/v23.0/1");
    }
}
