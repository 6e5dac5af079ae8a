//! Adding and removing a contact's tags, one form each, through the same
//! update as the API (`tags` replaces the whole set).

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use blazz_domain::ContactId;
use serde::Deserialize;

use super::edit::{reason, split_tags};
use super::{caller, contact_id, csrf_ok, expired, no_workspace, not_found, show};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::http::extract::Path;
use crate::http::web::SignedIn;
use crate::services::contacts::{self as service, Changes};
use crate::state::AppState;

#[derive(Deserialize)]
pub struct TagForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    tag: String,
}

/// Reads the contact, changes its tags with `change`, and answers with
/// its page (the refusal shown on the tags).
async fn retag(
    state: &AppState,
    s: &SignedIn,
    caller: &Caller,
    id: ContactId,
    change: impl FnOnce(Vec<String>) -> Vec<String>,
) -> Result<Response, ApiError> {
    let c = {
        let mut conn = state.db.pool.acquire().await?;
        match service::find(&mut conn, caller, id).await {
            Ok(c) => c,
            Err(ApiError::NotFound(..)) => return Ok(not_found(s)),
            Err(e) => return Err(e),
        }
    };
    let changes = Changes {
        tags: Some(change(c.tags.clone())),
        ..Default::default()
    };
    match service::update(state, caller, id, changes).await {
        Ok(_) => Ok(Redirect::to(&format!("/contacts/{id}#tags")).into_response()),
        Err(ApiError::NotFound(..)) => Ok(not_found(s)),
        Err(e @ ApiError::Invalid { .. }) => {
            let error = reason(s, &e);
            let page = show::render(state, s, caller, &c, None, None, Some(&error)).await?;
            Ok((e.status(), page).into_response())
        }
        Err(e) => Err(e),
    }
}

pub async fn add(
    State(state): State<AppState>,
    s: SignedIn,
    Path(raw): Path<String>,
    Form(f): Form<TagForm>,
) -> Result<Response, ApiError> {
    if !csrf_ok(&s, &f.csrf) {
        return Ok(expired(&s));
    }
    let Some(caller) = caller(&s) else {
        return Ok(no_workspace());
    };
    let Some(id) = contact_id(&raw) else {
        return Ok(not_found(&s));
    };
    let mut new = split_tags(&f.tag);
    if new.is_empty() {
        // An empty tag is refused by the service like any other bad tag.
        new.push(String::new());
    }
    retag(&state, &s, &caller, id, |mut tags| {
        tags.extend(new);
        tags
    })
    .await
}

pub async fn remove(
    State(state): State<AppState>,
    s: SignedIn,
    Path(raw): Path<String>,
    Form(f): Form<TagForm>,
) -> Result<Response, ApiError> {
    if !csrf_ok(&s, &f.csrf) {
        return Ok(expired(&s));
    }
    let Some(caller) = caller(&s) else {
        return Ok(no_workspace());
    };
    let Some(id) = contact_id(&raw) else {
        return Ok(not_found(&s));
    };
    let gone = f.tag.trim().to_lowercase();
    retag(&state, &s, &caller, id, |tags| {
        tags.into_iter().filter(|t| *t != gone).collect()
    })
    .await
}
