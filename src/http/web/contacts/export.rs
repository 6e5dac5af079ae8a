//! `/contacts/export`: the workspace's contacts as a CSV download, in the
//! format the import reads back (the API's export).

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::{caller, no_workspace};
use crate::error::ApiError;
use crate::http::web::SignedIn;
use crate::services::contacts_io;
use crate::state::AppState;

pub async fn download(State(state): State<AppState>, s: SignedIn) -> Result<Response, ApiError> {
    let Some(caller) = caller(&s) else {
        return Ok(no_workspace());
    };
    let csv = contacts_io::export(&state, &caller).await?;
    let name = s
        .current
        .as_ref()
        .map(|(w, _)| format!("attachment; filename=\"{}-contacts.csv\"", w.slug))
        .unwrap_or_else(|| "attachment; filename=\"contacts.csv\"".into());
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, name),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        csv,
    )
        .into_response())
}
