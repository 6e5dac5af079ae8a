//! Media through the Graph API (contracts A3): upload for a send, look up
//! and download what contacts sent (with the same bearer token), delete.

use blazz_provider::Media;
use reqwest::header::CONTENT_TYPE;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::Graph;
use crate::config::CloudCredentials;
use crate::error::CloudError;

/// The largest file Meta carries (documents, 100 MB), with some slack.
const MAX_DOWNLOAD: u64 = 110 * 1024 * 1024;

/// `GET /{media-id}`: where a media file can be downloaded for a while.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaInfo {
    pub id: String,
    pub url: String,
    #[serde(default)]
    pub mime_type: Option<String>,
    #[serde(default)]
    pub sha256: Option<String>,
    #[serde(default)]
    pub file_size: Option<u64>,
}

/// A filename fit for a multipart header.
fn clean_filename(name: Option<&str>) -> String {
    let cleaned: String = name
        .unwrap_or("file")
        .chars()
        .filter(|c| !matches!(c, '"' | '\\' | '\r' | '\n'))
        .collect();
    if cleaned.is_empty() {
        "file".into()
    } else {
        cleaned
    }
}

/// The `multipart/form-data` body Meta documents for an upload, and its
/// content type. The boundary derives from the bytes' hash, so it cannot
/// occur in them.
pub(crate) fn upload_form(media: &Media) -> (String, Vec<u8>) {
    let hash = hex::encode(Sha256::digest(&media.data));
    let boundary = format!("blazz-{}", &hash[..32]);
    let mime = if media.mime_type.is_empty() {
        "application/octet-stream"
    } else {
        media.mime_type.as_str()
    };
    let mut body = Vec::with_capacity(media.data.len() + 512);
    let mut field = |name: &str, value: &str| {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    };
    field("messaging_product", "whatsapp");
    field("type", mime);
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{}\"\r\nContent-Type: {mime}\r\n\r\n",
            clean_filename(media.filename.as_deref())
        )
        .as_bytes(),
    );
    body.extend_from_slice(&media.data);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

impl Graph {
    /// Uploads a file for sending; Meta's media id (kept 30 days).
    pub async fn upload_media(
        &self,
        creds: &CloudCredentials,
        media: &Media,
    ) -> Result<String, CloudError> {
        if media.data.is_empty() {
            return Err(CloudError::Invalid("the media file is empty".into()));
        }
        let (content_type, body) = upload_form(media);
        let url = self.config.url(&format!("{}/media", creds.phone_number_id));
        let v = self
            .json(
                self.request(Method::POST, &url, creds)
                    .header(CONTENT_TYPE, content_type)
                    .body(body),
            )
            .await?;
        v.get("id")
            .and_then(|id| {
                id.as_str()
                    .map(str::to_string)
                    .or_else(|| id.as_u64().map(|n| n.to_string()))
            })
            .ok_or_else(|| CloudError::Unexpected("the upload answer has no media id".into()))
    }

    pub async fn media_info(
        &self,
        creds: &CloudCredentials,
        media_id: &str,
    ) -> Result<MediaInfo, CloudError> {
        let url = self.config.url(media_id);
        let v = self
            .json(
                self.request(Method::GET, &url, creds)
                    .query(&[("phone_number_id", creds.phone_number_id.as_str())]),
            )
            .await?;
        serde_json::from_value(v)
            .map_err(|e| CloudError::Unexpected(format!("unreadable media answer: {e}")))
    }

    /// Downloads a media file a contact sent: its URL first, then the bytes
    /// from that URL with the same bearer token.
    pub async fn download_media(
        &self,
        creds: &CloudCredentials,
        media_id: &str,
    ) -> Result<Media, CloudError> {
        let info = self.media_info(creds, media_id).await?;
        if info.file_size.is_some_and(|s| s > MAX_DOWNLOAD) {
            return Err(CloudError::Invalid(format!(
                "media {media_id} is larger than Blazz keeps"
            )));
        }
        let response = self.request(Method::GET, &info.url, creds).send().await?;
        let header_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let data = Graph::read(response).await?;
        let mime_type = info
            .mime_type
            .or(header_type)
            .unwrap_or_else(|| "application/octet-stream".into());
        Ok(Media {
            mime_type,
            filename: None,
            data,
        })
    }

    pub async fn delete_media(
        &self,
        creds: &CloudCredentials,
        media_id: &str,
    ) -> Result<(), CloudError> {
        let url = self.config.url(media_id);
        self.json(
            self.request(Method::DELETE, &url, creds)
                .query(&[("phone_number_id", creds.phone_number_id.as_str())]),
        )
        .await?;
        Ok(())
    }
}
