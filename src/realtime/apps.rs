//! Each workspace is one Pusher app: a numeric id, a public key and a
//! secret sealed at rest. Created the first time it is needed; rotated by
//! an admin. Kept in memory for a short while, since every socket connect
//! and subscription needs it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use blazz_domain::WorkspaceId;
use blazz_store::realtime as store;
use rand::RngCore;
use serde_json::json;
use zeroize::Zeroizing;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::secrets::{self, SecretRef};
use crate::state::AppState;

use super::protocol::code;

/// The owner kind of an app's sealed secret.
pub const SECRET_OWNER: &str = "realtime_app";

/// How long another instance may keep using credentials this one rotated.
const CACHE_TTL: Duration = Duration::from_secs(30);

pub struct App {
    /// Numeric, as the official Pusher server libraries require.
    pub id: i64,
    pub workspace_id: WorkspaceId,
    pub key: String,
    secret: Zeroizing<String>,
}

impl App {
    pub fn secret(&self) -> &str {
        &self.secret
    }
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("id", &self.id)
            .field("workspace_id", &self.workspace_id)
            .field("key", &self.key)
            .field("secret", &"[redacted]")
            .finish()
    }
}

/// Apps recently read, by workspace, key and id.
#[derive(Default)]
pub struct AppCache {
    entries: Mutex<Entries>,
}

#[derive(Default)]
struct Entries {
    by_workspace: HashMap<WorkspaceId, (Arc<App>, Instant)>,
    by_key: HashMap<String, WorkspaceId>,
    by_id: HashMap<i64, WorkspaceId>,
}

enum Lookup<'a> {
    Workspace(WorkspaceId),
    Key(&'a str),
    Id(i64),
}

impl AppCache {
    fn get(&self, by: Lookup<'_>) -> Option<Arc<App>> {
        let e = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let ws = match by {
            Lookup::Workspace(ws) => ws,
            Lookup::Key(k) => *e.by_key.get(k)?,
            Lookup::Id(id) => *e.by_id.get(&id)?,
        };
        let (app, at) = e.by_workspace.get(&ws)?;
        let matches = match by {
            Lookup::Workspace(_) => true,
            Lookup::Key(k) => app.key == k,
            Lookup::Id(id) => app.id == id,
        };
        (matches && at.elapsed() < CACHE_TTL).then(|| app.clone())
    }

    fn put(&self, app: Arc<App>) {
        let mut e = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((old, _)) = e.by_workspace.get(&app.workspace_id) {
            let old_key = old.key.clone();
            e.by_key.remove(&old_key);
        }
        e.by_key.insert(app.key.clone(), app.workspace_id);
        e.by_id.insert(app.id, app.workspace_id);
        e.by_workspace
            .insert(app.workspace_id, (app, Instant::now()));
    }

    fn forget(&self, ws: WorkspaceId) {
        let mut e = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((app, _)) = e.by_workspace.remove(&ws) {
            e.by_key.remove(&app.key);
            e.by_id.remove(&app.id);
        }
    }
}

fn secret_ref(ws: WorkspaceId, app_id: i64) -> SecretRef {
    SecretRef::new(Some(ws), SECRET_OWNER, app_id.to_string(), "secret")
}

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut buf);
    hex::encode(buf)
}

/// A new key (20 hex characters, like Pusher's) and secret (160 bits).
fn new_credentials() -> (String, Zeroizing<String>) {
    (random_hex(10), Zeroizing::new(random_hex(20)))
}

async fn open(
    state: &AppState,
    conn: &mut blazz_store::Conn,
    row: store::App,
) -> anyhow::Result<Arc<App>> {
    let secret = secrets::get_string(&state.keyring, conn, &secret_ref(row.workspace_id, row.id))
        .await?
        .ok_or_else(|| anyhow::anyhow!("the realtime app {} has no secret", row.id))?;
    let app = Arc::new(App {
        id: row.id,
        workspace_id: row.workspace_id,
        key: row.key,
        secret: secret.as_str().to_string().into(),
    });
    state.realtime.apps.put(app.clone());
    Ok(app)
}

/// The app a socket connects to with `key`.
pub async fn by_key(state: &AppState, key: &str) -> anyhow::Result<Option<Arc<App>>> {
    if let Some(app) = state.realtime.apps.get(Lookup::Key(key)) {
        return Ok(Some(app));
    }
    let mut conn = state.db.pool.acquire().await?;
    match store::find_by_key(&mut conn, key).await? {
        Some(row) => Ok(Some(open(state, &mut conn, row).await?)),
        None => Ok(None),
    }
}

/// The app an HTTP API call names by id.
pub async fn by_id(state: &AppState, id: i64) -> anyhow::Result<Option<Arc<App>>> {
    if let Some(app) = state.realtime.apps.get(Lookup::Id(id)) {
        return Ok(Some(app));
    }
    let mut conn = state.db.pool.acquire().await?;
    match store::find_by_id(&mut conn, id).await? {
        Some(row) => Ok(Some(open(state, &mut conn, row).await?)),
        None => Ok(None),
    }
}

/// The workspace's app, created on first use.
pub async fn of_workspace(state: &AppState, ws: WorkspaceId) -> anyhow::Result<Arc<App>> {
    if let Some(app) = state.realtime.apps.get(Lookup::Workspace(ws)) {
        return Ok(app);
    }
    {
        let mut conn = state.db.pool.acquire().await?;
        if let Some(row) = store::find(&mut conn, ws).await? {
            return open(state, &mut conn, row).await;
        }
    }
    let mut tx = state.db.begin().await?;
    if let Some(row) = store::find(&mut tx, ws).await? {
        return open(state, &mut tx, row).await;
    }
    let (key, secret) = new_credentials();
    let row = match store::create(&mut tx, ws, &key).await {
        Ok(row) => row,
        Err(e) if blazz_store::is_unique_violation(&e) => {
            // Another request created it meanwhile.
            drop(tx);
            let mut conn = state.db.pool.acquire().await?;
            let row = store::find(&mut conn, ws)
                .await?
                .ok_or_else(|| anyhow::anyhow!("the workspace's realtime app vanished"))?;
            return open(state, &mut conn, row).await;
        }
        Err(e) => return Err(e.into()),
    };
    secrets::put(
        &state.keyring,
        &mut tx,
        &secret_ref(ws, row.id),
        secret.as_bytes(),
    )
    .await?;
    tx.commit().await?;
    let app = Arc::new(App {
        id: row.id,
        workspace_id: ws,
        key: row.key,
        secret,
    });
    state.realtime.apps.put(app.clone());
    Ok(app)
}

/// New key and secret for the caller's workspace (audited). Its sockets on
/// this instance are closed: subscriptions signed with the old secret end.
pub async fn rotate(state: &AppState, caller: &Caller) -> Result<Arc<App>, ApiError> {
    let ws = caller.workspace_id;
    // Make sure it exists, then change it.
    of_workspace(state, ws).await?;
    let (key, secret) = new_credentials();
    let mut tx = state.db.begin().await?;
    let row = store::find(&mut tx, ws)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the workspace's realtime app vanished"))?;
    store::set_key(&mut tx, ws, &key).await?;
    secrets::put(
        &state.keyring,
        &mut tx,
        &secret_ref(ws, row.id),
        secret.as_bytes(),
    )
    .await?;
    crate::services::record(
        &mut tx,
        ws,
        &caller.actor,
        "realtime.rotated",
        ("realtime_app", row.id.to_string()),
        json!({"key": key}),
    )
    .await?;
    tx.commit().await?;
    state.committed();
    state.realtime.apps.forget(ws);
    state.realtime.hub.close_workspace(
        ws,
        code::RECONNECT,
        "The app's credentials were rotated: connect with the new key",
    );
    let app = Arc::new(App {
        id: row.id,
        workspace_id: ws,
        key,
        secret,
    });
    state.realtime.apps.put(app.clone());
    Ok(app)
}
