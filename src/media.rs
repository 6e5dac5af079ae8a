//! Media files (images, video, audio, documents, stickers): checked against
//! WhatsApp's types and sizes, their bytes kept in an object store (a local
//! folder by default, or S3), described by a `media` row of the workspace.

mod backend;
mod kind;

use std::sync::Arc;

use anyhow::Context;
use axum::body::Bytes;
use blazz_domain::WorkspaceId;
use blazz_store::{media as rows, now_ms, Db};
use futures::stream::{BoxStream, StreamExt, TryStreamExt};
use object_store::path::Path as Key;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::config::{Config, MediaConfig};
use crate::error::ApiError;

pub use kind::{MediaKind, Origin};

/// A stored file, as the API shows it and the message pipeline sends it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct StoredMedia {
    pub id: String,
    pub kind: MediaKind,
    /// As stored: lower-case type, parameters kept (`audio/ogg; codecs=opus`).
    pub mime_type: String,
    pub filename: Option<String>,
    pub size_bytes: i64,
    /// Hex SHA-256 of the bytes.
    pub sha256: String,
}

/// The bytes of a stored file, read from the store as they come.
pub type ByteStream = BoxStream<'static, std::io::Result<Bytes>>;

#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// The MIME type is not one WhatsApp accepts for the kind.
    #[error("{0}")]
    TypeNotAllowed(String),
    #[error("a {kind} may have at most {max} bytes")]
    TooLarge { kind: MediaKind, max: u64 },
    #[error("the file is empty")]
    Empty,
    /// No such media in the workspace (or another workspace's).
    #[error("media not found")]
    NotFound,
    /// The object store failed (S3 unreachable, disk full, ...).
    #[error("media storage: {0}")]
    Storage(#[from] object_store::Error),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for MediaError {
    fn from(e: sqlx::Error) -> Self {
        MediaError::Internal(e.into())
    }
}

impl From<MediaError> for ApiError {
    fn from(e: MediaError) -> Self {
        match e {
            MediaError::TypeNotAllowed(m) => ApiError::invalid("media_type_not_allowed", m),
            e @ MediaError::TooLarge { .. } => ApiError::invalid("media_too_large", e.to_string()),
            e @ MediaError::Empty => ApiError::invalid("media_empty", e.to_string()),
            MediaError::NotFound => ApiError::not_found("media_not_found", "media"),
            MediaError::Storage(err) => {
                // Logged here, once: the client only learns to retry.
                tracing::error!(error = %err, "media storage failed");
                ApiError::Unavailable(
                    "media_storage_unavailable",
                    "the media storage did not answer; try again".into(),
                )
            }
            MediaError::Internal(err) => ApiError::Internal(err),
        }
    }
}

/// The object store of media and the limits files are checked against.
#[derive(Clone)]
pub struct MediaStore {
    objects: Arc<dyn ObjectStore>,
    limits: MediaConfig,
}

impl std::fmt::Debug for MediaStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MediaStore({})", self.objects)
    }
}

/// Where a file's bytes are: one folder per workspace.
fn key(workspace: WorkspaceId, id: Uuid) -> String {
    format!("workspaces/{workspace}/{id}")
}

impl MediaStore {
    /// The store `[media]` configures: the local folder (created if need
    /// be), or the S3 bucket; incomplete S3 settings are an error here.
    pub fn from_config(config: &Config) -> anyhow::Result<Self> {
        Ok(Self {
            objects: backend::open(config)?,
            limits: config.media.clone(),
        })
    }

    /// Largest accepted file of `kind`, in bytes.
    pub fn max_bytes(&self, kind: MediaKind) -> u64 {
        kind.max_bytes(&self.limits)
    }

    /// Checks a file before any byte is stored; answers the MIME type to
    /// store (see `MediaKind::check_type`).
    pub fn check(
        &self,
        kind: MediaKind,
        mime_type: &str,
        size: u64,
        origin: Origin,
    ) -> Result<String, MediaError> {
        let mime = kind.check_type(mime_type, origin)?;
        if size == 0 {
            return Err(MediaError::Empty);
        }
        let max = self.max_bytes(kind);
        if size > max {
            return Err(MediaError::TooLarge { kind, max });
        }
        Ok(mime)
    }

    /// Checks and stores a file: its bytes first, then its row, so a crash
    /// in between leaves an orphan blob, never a row without bytes.
    #[allow(clippy::too_many_arguments)]
    pub async fn save(
        &self,
        db: &Db,
        workspace: WorkspaceId,
        kind: MediaKind,
        mime_type: &str,
        filename: Option<&str>,
        data: impl Into<Bytes>,
        origin: Origin,
    ) -> Result<StoredMedia, MediaError> {
        let data: Bytes = data.into();
        let mime_type = self.check(kind, mime_type, data.len() as u64, origin)?;
        let size_bytes = i64::try_from(data.len()).context("file size")?;
        let hashed = data.clone();
        let sha256 = tokio::task::spawn_blocking(move || hex::encode(Sha256::digest(&hashed)))
            .await
            .context("hashing the file")?;
        let id = Uuid::now_v7();
        let storage_key = key(workspace, id);
        let location = Key::from(storage_key.as_str());
        self.objects.put(&location, PutPayload::from(data)).await?;
        let row = rows::Media {
            id,
            workspace_id: workspace,
            kind: kind.as_str().to_string(),
            mime_type,
            filename: kind::clean_filename(filename),
            size_bytes,
            sha256,
            storage_key,
            origin: origin.as_str().to_string(),
            created_at: now_ms(),
        };
        let inserted = match db.write().await {
            Ok(mut conn) => rows::insert(&mut conn, &row).await,
            Err(e) => Err(e),
        };
        if let Err(e) = inserted {
            // Not worth a second error if this fails too: an orphan blob
            // costs space only.
            let _ = self.objects.delete(&location).await;
            return Err(e.into());
        }
        stored(row)
    }

    /// A file's description, without its bytes.
    pub async fn find(
        &self,
        db: &Db,
        workspace: WorkspaceId,
        id: &str,
    ) -> Result<StoredMedia, MediaError> {
        stored(row(db, workspace, id).await?)
    }

    /// A file and all its bytes (to send it to WhatsApp).
    pub async fn load(
        &self,
        db: &Db,
        workspace: WorkspaceId,
        id: &str,
    ) -> Result<(StoredMedia, Vec<u8>), MediaError> {
        let (media, found) = self.get(db, workspace, id).await?;
        let bytes = found.bytes().await?;
        Ok((media, Vec::from(bytes)))
    }

    /// A file and its bytes as a stream, read as the client takes them
    /// (downloads never hold a whole file in memory).
    pub async fn open(
        &self,
        db: &Db,
        workspace: WorkspaceId,
        id: &str,
    ) -> Result<(StoredMedia, ByteStream), MediaError> {
        let (media, found) = self.get(db, workspace, id).await?;
        let stream = found.into_stream().map_err(std::io::Error::from).boxed();
        Ok((media, stream))
    }

    async fn get(
        &self,
        db: &Db,
        workspace: WorkspaceId,
        id: &str,
    ) -> Result<(StoredMedia, object_store::GetResult), MediaError> {
        let row = row(db, workspace, id).await?;
        let found = match self.objects.get(&Key::from(row.storage_key.as_str())).await {
            Ok(found) => found,
            Err(object_store::Error::NotFound { .. }) => {
                // Deleted meanwhile, or lost from the store by hand.
                tracing::warn!(workspace.id = %workspace, media.id = %row.id,
                    key = %row.storage_key, "media row without bytes");
                return Err(MediaError::NotFound);
            }
            Err(e) => return Err(e.into()),
        };
        if found.meta.size != row.size_bytes as u64 {
            return Err(MediaError::Internal(anyhow::anyhow!(
                "media {} has {} bytes in the store, {} in its row",
                row.id,
                found.meta.size,
                row.size_bytes
            )));
        }
        Ok((stored(row)?, found))
    }

    /// Deletes a file: its row first (the file is gone for everyone at
    /// once), then its bytes; bytes that cannot be removed are logged.
    pub async fn delete(
        &self,
        db: &Db,
        workspace: WorkspaceId,
        id: &str,
    ) -> Result<StoredMedia, MediaError> {
        let row = row(db, workspace, id).await?;
        let mut conn = db.write().await?;
        if !rows::delete(&mut conn, workspace, row.id).await? {
            return Err(MediaError::NotFound);
        }
        drop(conn);
        match self
            .objects
            .delete(&Key::from(row.storage_key.as_str()))
            .await
        {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => tracing::warn!(workspace.id = %workspace, media.id = %row.id,
                key = %row.storage_key, error = %e, "could not remove deleted media's bytes"),
        }
        stored(row)
    }
}

/// The workspace's row for `id`; an id that does not parse names nothing.
async fn row(db: &Db, workspace: WorkspaceId, id: &str) -> Result<rows::Media, MediaError> {
    let Ok(id) = Uuid::parse_str(id) else {
        return Err(MediaError::NotFound);
    };
    let mut conn = db.pool.acquire().await?;
    rows::find(&mut conn, workspace, id)
        .await?
        .ok_or(MediaError::NotFound)
}

fn stored(row: rows::Media) -> Result<StoredMedia, MediaError> {
    let kind = MediaKind::parse(&row.kind)
        .with_context(|| format!("media {} has an unknown kind {:?}", row.id, row.kind))?;
    Ok(StoredMedia {
        id: row.id.to_string(),
        kind,
        mime_type: row.mime_type,
        filename: row.filename,
        size_bytes: row.size_bytes,
        sha256: row.sha256,
    })
}
