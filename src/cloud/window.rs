//! The customer service window: a Cloud number may send free-form messages
//! to a contact only within 24 hours of the contact's last message; after
//! that only a template reaches them (Meta would refuse with 131047). The
//! window is read from the stored inbound messages of the chat, so it needs
//! no state of its own and survives restarts and failovers.

use blazz_domain::{AccountId, WorkspaceId};

use crate::error::ApiError;

pub const WINDOW_MS: i64 = 24 * 3_600_000;

/// Whether the window with `phone` is open at `now` (unix ms).
pub async fn is_open(
    conn: &mut blazz_store::Conn,
    ws: WorkspaceId,
    account: AccountId,
    phone: &str,
    now: i64,
) -> anyhow::Result<bool> {
    let last = blazz_store::cloud::last_inbound_at(conn, ws, account, phone).await?;
    Ok(last.is_some_and(|at| now - at < WINDOW_MS))
}

/// The refusal of a free-form send outside the window.
pub fn closed() -> ApiError {
    ApiError::Conflict(
        "outside_customer_window",
        "more than 24 hours have passed since this contact last wrote (or they never did): \
         the Cloud API delivers only an approved template now; send {\"type\":\"template\", \
         \"name\":..., \"language\":..., \"variables\":[...]}"
            .into(),
    )
}
