//! The inbox's side of media: checking what a send refers to, loading it
//! for the provider, and keeping what arrives.

use blazz_domain::WorkspaceId;
use blazz_provider::{InboundMessage, Media, MessageBody};

use crate::error::ApiError;
use crate::media::{MediaError, MediaKind, Origin};
use crate::state::AppState;

/// A send may only use media of its own workspace, of the body's kind.
pub async fn check(
    state: &AppState,
    ws: WorkspaceId,
    id: &str,
    kind: &str,
) -> Result<(), ApiError> {
    let media = match state.media.find(&state.db, ws, id).await {
        Ok(m) => m,
        Err(MediaError::NotFound) => return Err(ApiError::not_found("media_not_found", "media")),
        Err(e) => return Err(e.into()),
    };
    if media.kind.as_str() != kind {
        return Err(ApiError::invalid(
            "media_kind_mismatch",
            format!("media {id} is a {}, not a {kind}", media.kind.as_str()),
        ));
    }
    Ok(())
}

/// The bytes of a stored file for the provider; the error says why the
/// message cannot be sent (the file is gone).
pub async fn load(state: &AppState, ws: WorkspaceId, id: &str) -> Result<Media, String> {
    match state.media.load(&state.db, ws, id).await {
        Ok((m, data)) => Ok(Media {
            mime_type: m.mime_type,
            filename: m.filename,
            data,
        }),
        Err(e) => Err(format!("media {id}: {e}")),
    }
}

/// Keeps the media of an inbound message; its id, or none if it had none
/// or it could not be kept (the message is stored regardless, without it).
pub async fn keep_inbound(
    state: &AppState,
    ws: WorkspaceId,
    msg: &InboundMessage,
) -> Option<String> {
    let media = msg.media.as_ref()?;
    let kind = match &msg.body {
        MessageBody::Image { .. } => MediaKind::Image,
        MessageBody::Video { .. } => MediaKind::Video,
        MessageBody::Audio { .. } => MediaKind::Audio,
        MessageBody::Document { .. } => MediaKind::Document,
        MessageBody::Sticker { .. } => MediaKind::Sticker,
        _ => return None,
    };
    let saved = state
        .media
        .save(
            &state.db,
            ws,
            kind,
            &media.mime_type,
            media.filename.as_deref(),
            media.data.clone(),
            Origin::Inbound,
        )
        .await;
    match saved {
        Ok(m) => Some(m.id),
        Err(e) => {
            tracing::warn!(provider_message_id = %msg.provider_message_id, error = %e, "could not keep inbound media");
            None
        }
    }
}
