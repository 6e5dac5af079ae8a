//! Secrets at rest: provider credentials (WhatsApp device keys, Cloud API
//! tokens, webhook secrets) are sealed with AES-256-GCM under a master key
//! before they reach the store, and opened only when needed.
//!
//! ```ignore
//! let r = SecretRef::new(Some(ws), owner::ACCOUNT, account.to_string(), "cloud_token");
//! secrets::put(&state.keyring, &mut conn, &r, token.as_bytes()).await?;
//! let token = secrets::get_string(&state.keyring, &mut conn, &r).await?;
//! ```

mod file;
mod keyring;
mod live;
pub mod rotate;

use anyhow::Context;
use blazz_store::Conn;
use zeroize::Zeroizing;

pub use blazz_store::secrets::SecretRef;
pub use file::{path as key_file_path, FILE_NAME as KEY_FILE_NAME};
pub use keyring::{sealed_key_id, Key, Keyring, SecretError};
pub use live::LiveKeyring;

/// The owner kinds in use, so that callers agree on the spelling.
pub mod owner {
    /// A linked number: device keys, Cloud API tokens.
    pub const ACCOUNT: &str = "account";
    /// An outgoing webhook endpoint: its signing secret.
    pub const WEBHOOK: &str = "webhook";
    /// The instance itself (no workspace): say, the Meta app secret.
    pub const INSTANCE: &str = "instance";
}

/// The associated data a value is sealed with: where it is stored. A sealed
/// value copied into another row (another owner, name or workspace) does
/// not open there.
pub fn binding(r: &SecretRef) -> Vec<u8> {
    let ws = r.workspace.map(|w| w.to_string()).unwrap_or_default();
    let mut out = b"blazz/secret/v1".to_vec();
    for field in [ws.as_str(), &r.owner_kind, &r.owner_id, &r.name] {
        out.extend_from_slice(&(field.len() as u64).to_be_bytes());
        out.extend_from_slice(field.as_bytes());
    }
    out
}

/// Seals `plaintext` and stores it as `r`, replacing what was there.
pub async fn put(
    keys: &LiveKeyring,
    conn: &mut Conn,
    r: &SecretRef,
    plaintext: &[u8],
) -> anyhow::Result<()> {
    let sealed = keys
        .seal(&binding(r), plaintext)
        .with_context(|| describe("sealing", r))?;
    let key_id = sealed_key_id(&sealed)?;
    blazz_store::secrets::put(conn, r, key_id, &sealed).await
}

/// The secret `r` in clear (wiped from memory when dropped), if it exists.
pub async fn get(
    keys: &LiveKeyring,
    conn: &mut Conn,
    r: &SecretRef,
) -> anyhow::Result<Option<Zeroizing<Vec<u8>>>> {
    let Some(row) = blazz_store::secrets::get(conn, r).await? else {
        return Ok(None);
    };
    let plain = keys
        .open(&binding(r), &row.sealed)
        .with_context(|| describe("opening", r))?;
    Ok(Some(plain))
}

/// Like `get`, for secrets that are text.
pub async fn get_string(
    keys: &LiveKeyring,
    conn: &mut Conn,
    r: &SecretRef,
) -> anyhow::Result<Option<Zeroizing<String>>> {
    let Some(bytes) = get(keys, conn, r).await? else {
        return Ok(None);
    };
    let text = std::str::from_utf8(&bytes).with_context(|| describe("reading (not UTF-8)", r))?;
    Ok(Some(Zeroizing::new(text.to_string())))
}

/// Deletes the secret `r`; whether it existed.
pub async fn delete(conn: &mut Conn, r: &SecretRef) -> anyhow::Result<bool> {
    blazz_store::secrets::delete(conn, r).await
}

fn describe(verb: &str, r: &SecretRef) -> String {
    format!(
        "{verb} the secret {:?} of {} {}",
        r.name, r.owner_kind, r.owner_id
    )
}
