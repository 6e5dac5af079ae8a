//! Planning: the campaign's audience becomes one recipient row per
//! contact, set-based (one `INSERT ... SELECT` per selection or chunk), in
//! the transaction that starts the campaign. Planning twice plans once.

use blazz_domain::{ContactId, WorkspaceId};
use blazz_store::campaigns::recipients::{self, Selection};
use blazz_store::campaigns::Campaign;
use blazz_store::contacts::{self, Contact};
use blazz_store::Conn;

use super::spec::{Audience, Settings};
use crate::error::ApiError;
use crate::state::AppState;

const CHUNK: usize = 500;

/// Plans `c`'s recipients; returns how many rows were added.
pub async fn plan(
    state: &AppState,
    tx: &mut Conn,
    c: &Campaign,
    now: i64,
) -> Result<u64, ApiError> {
    let audience: Audience =
        serde_json::from_value(c.audience.clone()).map_err(anyhow::Error::from)?;
    let settings: Settings =
        serde_json::from_value(c.settings.clone()).map_err(anyhow::Error::from)?;
    let cooldown_since = match settings.cooldown_hours {
        0 => i64::MAX,
        h => now - i64::from(h) * 3_600_000,
    };
    let ws = c.workspace_id;
    let mut seq = recipients::last_seq(tx, c.id).await?;
    let mut added = 0;
    if audience.all {
        added += recipients::plan(tx, ws, c.id, Selection::All, seq, cooldown_since, now).await?;
        seq = recipients::last_seq(tx, c.id).await?;
    }
    if !audience.tags.is_empty() {
        let tags = crate::services::contacts::tags(&audience.tags)?;
        added += recipients::plan(
            tx,
            ws,
            c.id,
            Selection::Tags(&tags),
            seq,
            cooldown_since,
            now,
        )
        .await?;
        seq = recipients::last_seq(tx, c.id).await?;
    }
    let mut ids = audience.contact_ids.clone();
    for chunk in audience.phones.chunks(CHUNK) {
        ids.extend(contacts_for(state, tx, ws, chunk, now).await?);
    }
    for chunk in ids.chunks(CHUNK) {
        added += recipients::plan(
            tx,
            ws,
            c.id,
            Selection::Contacts(chunk),
            seq,
            cooldown_since,
            now,
        )
        .await?;
        // Numbers are given in selection order; a conflict leaves a gap.
        seq += chunk.len() as i64;
    }
    Ok(added)
}

/// The contacts with these phones, created for the ones not known yet.
async fn contacts_for(
    state: &AppState,
    tx: &mut Conn,
    ws: WorkspaceId,
    raw: &[String],
    now: i64,
) -> Result<Vec<ContactId>, ApiError> {
    let mut phones = Vec::with_capacity(raw.len());
    for p in raw {
        phones.push(
            crate::services::contacts::phone(state, p)?
                .as_str()
                .to_string(),
        );
    }
    let known = contacts::by_phones(tx, ws, &phones).await?;
    let mut ids: Vec<ContactId> = known.iter().map(|c| c.id).collect();
    for phone in phones {
        if known.iter().any(|c| c.phone == phone) {
            continue;
        }
        let c = Contact {
            id: ContactId::new(),
            workspace_id: ws,
            phone: phone.clone(),
            name: None,
            tags: Vec::new(),
            fields: Default::default(),
            notes: None,
            opted_out_at: None,
            created_at: now,
            updated_at: now,
        };
        if contacts::insert_if_absent(tx, &c).await? {
            ids.push(c.id);
        } else if let Some((id, _)) = contacts::id_by_phone(tx, ws, &phone).await? {
            ids.push(id);
        }
    }
    Ok(ids)
}
