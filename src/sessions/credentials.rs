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

pub async fn save(state: &AppState, account: &Account, credentials: &[u8]) -> anyhow::Result<()> {
    let mut conn = state.db.write().await?;
    secrets::put(&state.keyring, &mut conn, &secret_ref(account), credentials).await
}

pub async fn forget(state: &AppState, account: &Account) -> anyhow::Result<()> {
    let mut conn = state.db.write().await?;
    secrets::delete(&mut conn, &secret_ref(account)).await?;
    Ok(())
}
