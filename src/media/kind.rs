//! The kinds of media WhatsApp carries, the types it accepts for each and
//! the size limits (contracts A3: image 5 MB, audio and video 16 MB,
//! document 100 MB, sticker 500 KB).

use std::fmt;

use serde::Serialize;
use utoipa::ToSchema;

use super::MediaError;
use crate::config::MediaConfig;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum MediaKind {
    Image,
    Video,
    Audio,
    Document,
    Sticker,
}

/// How a file came in: uploaded through the API, or in a customer's message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Upload,
    Inbound,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Upload => "upload",
            Origin::Inbound => "inbound",
        }
    }
}

const DOCUMENT_TYPES: &[&str] = &[
    "application/pdf",
    "text/plain",
    "text/csv",
    "application/rtf",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.ms-excel",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.presentation",
    "application/zip",
    "application/x-zip-compressed",
];

/// What an inbound document of a type we do not list is stored as: kept
/// (it is the customer's file) and only ever served as an attachment.
pub const OPAQUE_TYPE: &str = "application/octet-stream";

impl MediaKind {
    pub const ALL: [MediaKind; 5] = [
        MediaKind::Image,
        MediaKind::Video,
        MediaKind::Audio,
        MediaKind::Document,
        MediaKind::Sticker,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Image => "image",
            MediaKind::Video => "video",
            MediaKind::Audio => "audio",
            MediaKind::Document => "document",
            MediaKind::Sticker => "sticker",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The MIME types WhatsApp accepts for this kind (without parameters).
    pub fn allowed_types(self) -> &'static [&'static str] {
        match self {
            MediaKind::Image => &["image/jpeg", "image/png"],
            MediaKind::Video => &["video/mp4", "video/3gpp"],
            MediaKind::Audio => &[
                "audio/aac",
                "audio/mp4",
                "audio/mpeg",
                "audio/amr",
                "audio/ogg",
            ],
            MediaKind::Document => DOCUMENT_TYPES,
            MediaKind::Sticker => &["image/webp"],
        }
    }

    pub fn max_bytes(self, limits: &MediaConfig) -> u64 {
        match self {
            MediaKind::Image => limits.max_image_bytes,
            MediaKind::Video => limits.max_video_bytes,
            MediaKind::Audio => limits.max_audio_bytes,
            MediaKind::Document => limits.max_document_bytes,
            MediaKind::Sticker => limits.max_sticker_bytes,
        }
    }

    /// The type to store for a file said to be `mime`: lower-cased, its
    /// parameters kept (`audio/ogg; codecs=opus`). A type not allowed for
    /// the kind is refused, except an inbound document's (`OPAQUE_TYPE`).
    pub fn check_type(self, mime: &str, origin: Origin) -> Result<String, MediaError> {
        let raw = mime.trim();
        let printable = raw.bytes().all(|b| (0x20..0x7f).contains(&b));
        let (essence, params) = raw.split_once(';').unwrap_or((raw, ""));
        let essence = essence.trim().to_ascii_lowercase();
        let params = params.trim();
        if printable && raw.len() <= 200 && self.allowed_types().contains(&essence.as_str()) {
            return Ok(if params.is_empty() {
                essence
            } else {
                format!("{essence}; {params}")
            });
        }
        if self == MediaKind::Document && origin == Origin::Inbound {
            return Ok(OPAQUE_TYPE.to_string());
        }
        let shown: String = essence.chars().take(100).collect();
        Err(MediaError::TypeNotAllowed(format!(
            "{self}: the type must be one of {}, not {shown:?}",
            self.allowed_types().join(", ")
        )))
    }
}

impl fmt::Display for MediaKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A file name as given, reduced to a safe last path component (no
/// folders, no control characters, at most 200 characters).
pub fn clean_filename(name: Option<&str>) -> Option<String> {
    let name = name?;
    let last = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last.chars().filter(|c| !c.is_control()).take(200).collect();
    let cleaned = cleaned.trim();
    (!cleaned.is_empty() && cleaned != "." && cleaned != "..").then(|| cleaned.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_through_their_names() {
        for k in MediaKind::ALL {
            assert_eq!(MediaKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(MediaKind::parse("Image"), None);
        assert_eq!(MediaKind::parse("gif"), None);
    }

    #[test]
    fn types_are_normalised_and_checked_per_kind() {
        let ok = |k: MediaKind, m: &str| k.check_type(m, Origin::Upload).unwrap();
        assert_eq!(ok(MediaKind::Image, " IMAGE/JPEG "), "image/jpeg");
        assert_eq!(
            ok(MediaKind::Audio, "audio/ogg;codecs=opus"),
            "audio/ogg; codecs=opus"
        );
        for (k, m) in [
            (MediaKind::Image, "image/gif"),
            (MediaKind::Image, "image/webp"),
            (MediaKind::Sticker, "image/png"),
            (MediaKind::Video, "video/quicktime"),
            (MediaKind::Document, "text/html"),
            (MediaKind::Document, ""),
            (MediaKind::Image, "image/jpeg\u{7f}"),
        ] {
            assert!(
                matches!(
                    k.check_type(m, Origin::Upload),
                    Err(MediaError::TypeNotAllowed(_))
                ),
                "{k} {m:?}"
            );
        }
    }

    #[test]
    fn an_inbound_document_of_an_unlisted_type_is_kept_as_opaque_bytes() {
        assert_eq!(
            MediaKind::Document
                .check_type("text/html", Origin::Inbound)
                .unwrap(),
            OPAQUE_TYPE
        );
        assert!(MediaKind::Image
            .check_type("text/html", Origin::Inbound)
            .is_err());
    }

    #[test]
    fn file_names_lose_their_folders_and_control_characters() {
        assert_eq!(
            clean_filename(Some("../../etc/passwd")),
            Some("passwd".into())
        );
        assert_eq!(
            clean_filename(Some("C:\\Users\\a\\report.pdf")),
            Some("report.pdf".into())
        );
        assert_eq!(
            clean_filename(Some("in\r\nvoice.pdf")),
            Some("invoice.pdf".into())
        );
        assert_eq!(clean_filename(Some(" .. ")), None);
        assert_eq!(clean_filename(Some("dir/")), None);
        assert_eq!(clean_filename(None), None);
    }
}
