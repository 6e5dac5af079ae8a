//! Media of the workspace: upload a file (its bytes as the body, or a
//! multipart form), download it (streamed, never held whole in memory),
//! read its description, delete it.

use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use blazz_domain::Role;
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::{Json, Path, Query};
use crate::media::{MediaError, MediaKind, Origin, StoredMedia};
use crate::state::AppState;

/// A stored file and where to download it.
#[derive(Serialize, ToSchema)]
pub struct MediaView {
    #[serde(flatten)]
    pub media: StoredMedia,
    /// `/api/v1/media/{id}`: the bytes, for members of the workspace.
    pub url: String,
}

impl From<StoredMedia> for MediaView {
    fn from(media: StoredMedia) -> Self {
        let url = format!("/api/v1/media/{}", media.id);
        Self { media, url }
    }
}

/// The file's bytes.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct FileBytes(pub Vec<u8>);

/// A multipart upload: the file in a field named `file`, with its type.
#[derive(ToSchema)]
pub struct UploadForm {
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// `image`, `video`, `audio`, `document` or `sticker`.
    pub kind: String,
    /// The file's name (shown with documents); a multipart part's own name
    /// is used when this is absent.
    pub filename: Option<String>,
}

/// Uploads a file to send in messages. The body is the file, its
/// `Content-Type` the file's type (or `multipart/form-data` with a `file`
/// field). The type and size are checked against WhatsApp's limits for the
/// kind: `media_type_not_allowed`, `media_too_large`, `media_empty` (422).
#[utoipa::path(post, path = "/media", tag = "media", params(UploadQuery),
    request_body(description = "The file's bytes, or a multipart form with a `file` field",
        content((FileBytes = "application/octet-stream"), (UploadForm = "multipart/form-data"))),
    responses((status = 201, body = MediaView), (status = 422, body = super::ErrorBody),
              (status = 503, body = super::ErrorBody)))]
pub async fn upload(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<UploadQuery>,
    req: Request,
) -> ApiResult<(StatusCode, Json<MediaView>)> {
    caller.require(Role::Agent)?;
    let kind = MediaKind::parse(q.kind.trim()).ok_or_else(|| {
        ApiError::invalid(
            "invalid_media_kind",
            "kind is one of image, video, audio, document, sticker",
        )
    })?;
    let max = state.media.max_bytes(kind);
    let content_type = header_str(req.headers(), header::CONTENT_TYPE).to_string();
    let declared: Option<u64> = header_str(req.headers(), header::CONTENT_LENGTH)
        .parse()
        .ok();
    let multipart = content_type
        .to_ascii_lowercase()
        .starts_with("multipart/form-data");
    // A body announced as too large is refused before it is read (a form's
    // boundaries and headers get some room).
    let slack = if multipart { 64 * 1024 } else { 0 };
    if declared.is_some_and(|n| n > max + slack) {
        return Err(MediaError::TooLarge { kind, max }.into());
    }
    let file = if multipart {
        from_form(req, &state, kind, max).await?
    } else {
        kind.check_type(&content_type, Origin::Upload)?;
        let capacity = declared.unwrap_or(0).min(max);
        File {
            mime_type: content_type,
            filename: None,
            data: read_capped(req.into_body(), kind, max, capacity).await?,
        }
    };
    let filename = q.filename.or(file.filename);
    let media = state
        .media
        .save(
            &state.db,
            caller.workspace_id,
            kind,
            &file.mime_type,
            filename.as_deref(),
            file.data,
            Origin::Upload,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(media.into())))
}

struct File {
    mime_type: String,
    filename: Option<String>,
    data: Vec<u8>,
}

fn header_str(headers: &HeaderMap, name: header::HeaderName) -> &str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .trim()
}

fn unreadable() -> ApiError {
    ApiError::BadRequest("the request body could not be read".into())
}

/// The body, refused as soon as it passes `max` bytes.
async fn read_capped(
    body: Body,
    kind: MediaKind,
    max: u64,
    capacity: u64,
) -> Result<Vec<u8>, ApiError> {
    let mut data = Vec::with_capacity(usize::try_from(capacity).unwrap_or(0));
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| unreadable())?;
        if (data.len() + chunk.len()) as u64 > max {
            return Err(MediaError::TooLarge { kind, max }.into());
        }
        data.extend_from_slice(&chunk);
    }
    Ok(data)
}

/// The `file` field of a multipart form, its type checked before its bytes
/// are read.
async fn from_form(
    req: Request,
    state: &AppState,
    kind: MediaKind,
    max: u64,
) -> Result<File, ApiError> {
    let bad = |e: axum::extract::multipart::MultipartError| {
        ApiError::invalid("invalid_body", format!("multipart body: {}", e.body_text()))
    };
    let mut form = Multipart::from_request(req, state)
        .await
        .map_err(|e| ApiError::invalid("invalid_body", e.body_text()))?;
    while let Some(mut field) = form.next_field().await.map_err(bad)? {
        if field.name() != Some("file") {
            continue;
        }
        let mime_type = field.content_type().unwrap_or_default().to_string();
        kind.check_type(&mime_type, Origin::Upload)?;
        let filename = field.file_name().map(str::to_string);
        let mut data = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(bad)? {
            if (data.len() + chunk.len()) as u64 > max {
                return Err(MediaError::TooLarge { kind, max }.into());
            }
            data.extend_from_slice(&chunk);
        }
        return Ok(File {
            mime_type,
            filename,
            data,
        });
    }
    Err(ApiError::invalid(
        "invalid_body",
        "the multipart form has no `file` field",
    ))
}

/// The file's bytes, streamed, with its stored type. Images, video, audio
/// and stickers are `inline`; documents are attachments with their name.
#[utoipa::path(get, path = "/media/{id}", tag = "media", params(("id" = String, Path)),
    responses((status = 200, description = "The file, with its own Content-Type",
               content_type = "application/octet-stream", body = FileBytes),
              (status = 404, body = super::ErrorBody), (status = 503, body = super::ErrorBody)))]
pub async fn download(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let (media, bytes) = state
        .media
        .open(&state.db, caller.workspace_id, &id)
        .await?;
    let content_type = HeaderValue::from_str(&media.mime_type)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    let headers = [
        (header::CONTENT_TYPE, content_type),
        (header::CONTENT_LENGTH, HeaderValue::from(media.size_bytes)),
        (header::CONTENT_DISPOSITION, disposition(&media)),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (header::CACHE_CONTROL, HeaderValue::from_static("private")),
    ];
    Ok((headers, Body::from_stream(bytes)).into_response())
}

/// `inline`, or `attachment` for documents; with the file name (an ASCII
/// fallback and the exact UTF-8 name, RFC 6266) when there is one.
fn disposition(media: &StoredMedia) -> HeaderValue {
    let how = if media.kind == MediaKind::Document {
        "attachment"
    } else {
        "inline"
    };
    let Some(name) = media.filename.as_deref() else {
        return HeaderValue::from_static(how);
    };
    let ascii: String = name
        .chars()
        .map(|c| {
            if (c.is_ascii_graphic() || c == ' ') && c != '"' && c != '\\' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(char::from(b));
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    HeaderValue::from_str(&format!(
        "{how}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"
    ))
    .unwrap_or(HeaderValue::from_static(how))
}

/// A file's description.
#[utoipa::path(get, path = "/media/{id}/info", tag = "media", params(("id" = String, Path)),
    responses((status = 200, body = MediaView), (status = 404, body = super::ErrorBody)))]
pub async fn info(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<MediaView>> {
    let media = state
        .media
        .find(&state.db, caller.workspace_id, &id)
        .await?;
    Ok(Json(media.into()))
}

/// Deletes a file and its bytes (admin: messages may still point at it).
#[utoipa::path(delete, path = "/media/{id}", tag = "media", params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = super::ErrorBody),
              (status = 404, body = super::ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    caller.require(Role::Admin)?;
    state
        .media
        .delete(&state.db, caller.workspace_id, &id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
