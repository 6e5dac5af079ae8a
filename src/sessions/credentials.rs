//! A linked number's credentials (device keys, tokens): sealed at rest
//! through `crate::secrets`, bound to the account they belong to.

use blazz_store::accounts::Account;

use crate::secrets::{self, owner, SecretRef};
use crate::state::AppState;

fn secret_ref(account: &Account) -> SecretRef {
    SecretRef::new(
        Some(account.workspace_id),
        owner::ACCOUNT,
        account.id.to_string(),
        "credentials",
    )
}

pub async fn load(state: &AppState, account: &Account) -> anyhow::Result<Option<Vec<u8>>> {
    let mut conn = state.db.pool.acquire().await?;
    let found = secrets::get(&state.keyring, &mut conn, &secret_ref(account)).await?;
    Ok(found.map(|z| z.to_vec()))
}

/// Seals credentials for `account`: where they go, the key id, the value.
pub fn seal(
    state: &AppState,
    account: &Account,
    credentials: &[u8],
) -> anyhow::Result<(SecretRef, String, String)> {
    let r = secret_ref(account);
    let sealed = state.keyring.seal(&secrets::binding(&r), credentials)?;
    let key_id = secrets::sealed_key_id(&sealed)?.to_string();
    Ok((r, key_id, sealed))
}

pub async fn forget(state: &AppState, account: &Account) -> anyhow::Result<()> {
    let r = secret_ref(account);
    // Most numbers being linked have nothing stored: spare the writer.
    let stored = {
        let mut conn = state.db.pool.acquire().await?;
        blazz_store::secrets::get(&mut conn, &r).await?.is_some()
    };
    if stored {
        let mut conn = state.db.write().await?;
        secrets::delete(&mut conn, &r).await?;
    }
    Ok(())
}
