//! `blazz keys rotate`: re-seal every secret under a new key while the
//! app keeps running.
//!
//! With the key file: (1) the new key is added to the file and made current
//! (the file is replaced whole, so running processes see it at their next
//! seal and seal under it from then on); (2) every row not under the new key
//! is opened and sealed again, in batches, each row written only if it still
//! holds the value that was read (a concurrent write wins); passes repeat
//! until none is left; (3) only then are keys that no row uses any more
//! dropped from the file. Running processes that meet the new key id reload
//! the file on the spot.
//!
//! With a configured master key nothing is written to disk: the target is
//! the key given (`--new-key`), else the configured master key, and the
//! operator swaps keys in config (see the README).

use std::collections::BTreeMap;

use blazz_store::{secrets as store, Db};

use super::file;
use super::keyring::{Key, Keyring};
use super::live::config_keys;
use crate::config::Config;

/// A value written under an old key while a pass ran is caught by the next
/// pass; more passes than this means something keeps writing old keys.
const MAX_PASSES: usize = 8;

#[derive(Debug, Default)]
pub struct Rotation {
    /// The key every secret is now sealed under.
    pub key_id: String,
    /// The master key comes from config.
    pub from_config: bool,
    /// The target is not the configured master key: the operator must now
    /// make it `secrets.master_key`.
    pub swap_needed: bool,
    pub resealed: u64,
    /// Rows that could not be opened (row id, why): they keep their key.
    pub unreadable: Vec<(String, String)>,
    /// Rows still under another key after the last pass.
    pub left: i64,
    /// Keys dropped from the key file.
    pub dropped: Vec<String>,
}

pub struct Options {
    /// The key to rotate to; required with a configured master key.
    pub new_key: Option<Key>,
    pub batch: i64,
    /// Keep keys no row uses in the key file.
    pub keep_old_keys: bool,
}

pub async fn rotate(db: &Db, config: &Config, options: Options) -> anyhow::Result<Rotation> {
    let (master, old_keys) = config_keys(&config.secrets)?;
    let path = file::path(&config.data_dir);
    let batch = options.batch.clamp(1, 10_000);
    let Some(master) = master else {
        // The key file: add the new key, make it current, re-seal, prune.
        let mut key_file = match file::read(&path)? {
            Some(f) => f,
            None => file::create(&path)?.0,
        };
        let new = options.new_key.unwrap_or_else(Key::generate);
        key_file.add_current(new)?;
        file::write(&path, &key_file)?;
        let ring = key_file.keyring(&old_keys)?;
        tracing::info!(key.id = ring.current_id(), path = %path.display(), "new current key written to the key file");
        let mut done = reseal_all(db, &ring, batch).await?;
        if done.unreadable.is_empty() && done.left == 0 && !options.keep_old_keys {
            done.dropped = drop_unused_keys(db, &path).await?;
        }
        return Ok(done);
    };
    // A configured master key: re-seal under the key given, else under the
    // master key itself (finishing a swap made in config). Every key the
    // config or a key file holds stays readable.
    let target = options.new_key.unwrap_or_else(|| master.clone());
    let swap_needed = target.id() != master.id();
    let mut others = vec![master];
    others.extend(old_keys);
    if let Some(f) = file::read(&path)? {
        others.extend(f.keys.into_iter().map(|(k, _)| k));
    }
    let ring = Keyring::new(target, others);
    let mut done = reseal_all(db, &ring, batch).await?;
    done.from_config = true;
    done.swap_needed = swap_needed;
    Ok(done)
}

async fn reseal_all(db: &Db, ring: &Keyring, batch: i64) -> anyhow::Result<Rotation> {
    let target = ring.current_id().to_string();
    let mut resealed = 0;
    let mut unreadable: BTreeMap<String, String> = BTreeMap::new();
    for pass in 1..=MAX_PASSES {
        let mut attempted = 0;
        let mut after: Option<String> = None;
        loop {
            let rows = {
                let mut conn = db.pool.acquire().await?;
                store::list_batch(&mut conn, &target, after.as_deref(), batch).await?
            };
            let Some(last) = rows.last() else { break };
            after = Some(last.id.clone());
            let mut updates = Vec::with_capacity(rows.len());
            for row in &rows {
                if unreadable.contains_key(&row.id) {
                    continue;
                }
                let aad = super::binding(&row.secret);
                match ring
                    .open(&aad, &row.sealed)
                    .and_then(|plain| ring.seal(&aad, &plain))
                {
                    Ok(sealed) => updates.push((row, sealed)),
                    Err(e) => {
                        tracing::warn!(secret.id = %row.id, key.id = %row.key_id, error = %e, "cannot re-seal a secret");
                        unreadable.insert(row.id.clone(), e.to_string());
                    }
                }
            }
            attempted += updates.len();
            let mut tx = db.begin().await?;
            for (row, sealed) in &updates {
                if store::update_sealed(&mut tx, &row.id, &row.sealed, &target, sealed).await? {
                    resealed += 1;
                }
            }
            tx.commit().await?;
            tracing::debug!(pass, resealed, "re-sealed a batch of secrets");
        }
        if attempted == 0 {
            break;
        }
    }
    let mut conn = db.pool.acquire().await?;
    let left = store::count_by_key(&mut conn)
        .await?
        .into_iter()
        .filter(|(k, _)| *k != target)
        .map(|(_, n)| n)
        .sum::<i64>()
        - unreadable.len() as i64;
    Ok(Rotation {
        key_id: target,
        resealed,
        unreadable: unreadable.into_iter().collect(),
        left: left.max(0),
        ..Rotation::default()
    })
}

/// Drops from the key file every key that is not current and seals no row.
async fn drop_unused_keys(db: &Db, path: &std::path::Path) -> anyhow::Result<Vec<String>> {
    let mut conn = db.pool.acquire().await?;
    let used: Vec<String> = store::count_by_key(&mut conn)
        .await?
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    drop(conn);
    let Some(mut key_file) = file::read(path)? else {
        return Ok(Vec::new());
    };
    let current = key_file.current.clone();
    let (keep, dropped): (Vec<_>, Vec<_>) = key_file
        .keys
        .into_iter()
        .partition(|(k, _)| k.id() == current || used.iter().any(|u| u == k.id()));
    key_file.keys = keep;
    let dropped: Vec<String> = dropped.iter().map(|(k, _)| k.id().to_string()).collect();
    if !dropped.is_empty() {
        file::write(path, &key_file)?;
    }
    Ok(dropped)
}

/// One key as `blazz keys status` reports it.
#[derive(Debug)]
pub struct KeyUse {
    pub key_id: String,
    pub secrets: i64,
    /// Whether this process's config or key file holds the key.
    pub held: bool,
    pub current: bool,
}

/// Every key that is held or seals a secret, and how many it seals. Reads
/// the key file but never creates one.
pub async fn status(db: &Db, config: &Config) -> anyhow::Result<Vec<KeyUse>> {
    let (master, old_keys) = config_keys(&config.secrets)?;
    let key_file = file::read(&file::path(&config.data_dir))?;
    let current = match (&master, &key_file) {
        (Some(m), _) => Some(m.id().to_string()),
        (None, Some(f)) => Some(f.current.clone()),
        (None, None) => None,
    };
    let mut held: Vec<String> = master
        .iter()
        .chain(&old_keys)
        .map(|k| k.id().to_string())
        .collect();
    held.extend(
        key_file
            .iter()
            .flat_map(|f| f.keys.iter().map(|(k, _)| k.id().to_string())),
    );
    let mut conn = db.pool.acquire().await?;
    let mut uses: BTreeMap<String, i64> =
        store::count_by_key(&mut conn).await?.into_iter().collect();
    for id in &held {
        uses.entry(id.clone()).or_insert(0);
    }
    Ok(uses
        .into_iter()
        .map(|(key_id, secrets)| KeyUse {
            held: held.contains(&key_id),
            current: current.as_deref() == Some(key_id.as_str()),
            key_id,
            secrets,
        })
        .collect())
}
