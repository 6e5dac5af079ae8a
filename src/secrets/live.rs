//! The keyring as a running process holds it. With a key file it follows
//! rotations made by `blazz keys rotate` in another process: before sealing
//! it checks whether the file was replaced (one `stat`), and when it meets
//! a key id it does not hold it re-reads the file once and retries.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use zeroize::Zeroizing;

use super::file::{self, KeyFile, Stamp};
use super::keyring::{Key, Keyring, SecretError};
use crate::config::SecretsConfig;

pub struct LiveKeyring {
    /// The configured master key; `None`: the key file's current key seals.
    master: Option<Key>,
    /// `secrets.old_keys`: open only.
    old_keys: Vec<Key>,
    file: PathBuf,
    loaded: RwLock<Loaded>,
}

struct Loaded {
    ring: Arc<Keyring>,
    stamp: Option<Stamp>,
}

impl std::fmt::Debug for LiveKeyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveKeyring")
            .field("file", &self.file)
            .field("keyring", &self.keyring())
            .finish()
    }
}

/// The keys given in config: the master key (if any) and the old keys.
pub fn config_keys(config: &SecretsConfig) -> anyhow::Result<(Option<Key>, Vec<Key>)> {
    let master = config
        .master_key
        .as_ref()
        .map(|k| Key::from_base64(k.expose(), "secrets.master_key"))
        .transpose()?;
    let old = config
        .old_keys
        .iter()
        .enumerate()
        .map(|(i, k)| Key::from_base64(k.expose(), &format!("secrets.old_keys[{i}]")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok((master, old))
}

impl LiveKeyring {
    /// The keyring for `data_dir`: the configured master key, else the key
    /// file there (created, with a warning, on first run).
    pub fn load(config: &SecretsConfig, data_dir: &Path) -> anyhow::Result<Self> {
        let (master, old_keys) = config_keys(config)?;
        let path = file::path(data_dir);
        let mut stamp = file::stamp(&path);
        let mut key_file = file::read(&path)?;
        if key_file.is_none() && master.is_none() {
            let (made, created) = file::create(&path)?;
            if created {
                tracing::warn!(
                    path = %path.display(),
                    key.id = %made.current,
                    "no secrets.master_key is configured, so a new master key was generated into {}; \
                     back this file up (stored provider credentials cannot be decrypted without it) \
                     and keep it private",
                    path.display()
                );
            }
            stamp = file::stamp(&path);
            key_file = Some(made);
        }
        let ring = build(master.as_ref(), &old_keys, key_file.as_ref(), &path)?;
        match &master {
            Some(_) => tracing::info!(
                key.id = ring.current_id(),
                "secrets: master key from config"
            ),
            None => tracing::info!(
                key.id = ring.current_id(),
                path = %path.display(),
                "secrets: master key from the key file"
            ),
        }
        Ok(Self {
            master,
            old_keys,
            file: path,
            loaded: RwLock::new(Loaded {
                ring: Arc::new(ring),
                stamp,
            }),
        })
    }

    /// A keyring that never reloads (tests, one-off tools).
    pub fn fixed(ring: Keyring) -> Self {
        Self {
            master: None,
            old_keys: Vec::new(),
            file: PathBuf::new(),
            loaded: RwLock::new(Loaded {
                ring: Arc::new(ring),
                stamp: None,
            }),
        }
    }

    /// The keys as they are now.
    pub fn keyring(&self) -> Arc<Keyring> {
        self.read().ring.clone()
    }

    pub fn current_id(&self) -> String {
        self.reload_if_changed();
        self.keyring().current_id().to_string()
    }

    /// Seals under the current key (re-reading the key file first if it
    /// was replaced, so values written after a rotation use the new key).
    pub fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Result<String, SecretError> {
        self.reload_if_changed();
        self.keyring().seal(aad, plaintext)
    }

    /// Opens a sealed value; a key id not held sends it back to the key
    /// file once.
    pub fn open(&self, aad: &[u8], sealed: &str) -> Result<Zeroizing<Vec<u8>>, SecretError> {
        match self.keyring().open(aad, sealed) {
            Err(SecretError::UnknownKey { .. }) if self.reload_if_changed() => {
                self.keyring().open(aad, sealed)
            }
            other => other,
        }
    }

    /// Re-reads the key file if it is not the one loaded; whether the keys
    /// changed. A file that cannot be read keeps the keys in memory.
    pub fn reload_if_changed(&self) -> bool {
        if self.file.as_os_str().is_empty() {
            return false;
        }
        let stamp = file::stamp(&self.file);
        if self.read().stamp == stamp {
            return false;
        }
        let ring = match file::read(&self.file) {
            Ok(None) if self.master.is_none() => {
                tracing::warn!(path = %self.file.display(), "the secrets key file disappeared; keeping the keys in memory");
                return false;
            }
            Ok(f) => build(self.master.as_ref(), &self.old_keys, f.as_ref(), &self.file),
            Err(e) => Err(e),
        };
        match ring {
            Ok(ring) => {
                let mut loaded = self.write();
                let changed = loaded.ring.ids() != ring.ids()
                    || loaded.ring.current_id() != ring.current_id();
                if changed {
                    tracing::info!(key.id = ring.current_id(), "secrets: reloaded the key file");
                }
                loaded.ring = Arc::new(ring);
                loaded.stamp = stamp;
                changed
            }
            Err(e) => {
                tracing::warn!(error = format!("{e:#}"), path = %self.file.display(), "could not reload the secrets key file; keeping the keys in memory");
                false
            }
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Loaded> {
        self.loaded.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Loaded> {
        self.loaded.write().unwrap_or_else(|e| e.into_inner())
    }
}

/// The keyring from the configured keys and the key file's: the master key
/// seals if there is one, else the file's current key.
fn build(
    master: Option<&Key>,
    old_keys: &[Key],
    key_file: Option<&KeyFile>,
    path: &Path,
) -> anyhow::Result<Keyring> {
    let file_keys = key_file
        .into_iter()
        .flat_map(|f| f.keys.iter().map(|(k, _)| k.clone()));
    match (master, key_file) {
        (Some(master), _) => Ok(Keyring::new(
            master.clone(),
            old_keys.iter().cloned().chain(file_keys),
        )),
        (None, Some(f)) => f.keyring(old_keys),
        (None, None) => anyhow::bail!("no secrets key file at {}", path.display()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;
    use crate::secrets::sealed_key_id;

    #[test]
    fn a_replaced_key_file_is_followed_by_every_process() {
        let dir = tempfile::tempdir().unwrap();
        let config = SecretsConfig::default();
        let a = LiveKeyring::load(&config, dir.path()).unwrap();
        let b = LiveKeyring::load(&config, dir.path()).unwrap();
        assert_eq!(a.current_id(), b.current_id());
        let sealed_old = a.seal(b"x", b"old").unwrap();

        // What `blazz keys rotate` does first, from another process.
        let path = file::path(dir.path());
        let mut key_file = file::read(&path).unwrap().unwrap();
        let new = Key::generate();
        key_file.add_current(new.clone()).unwrap();
        file::write(&path, &key_file).unwrap();

        // b seals under the new key at once ...
        let sealed_new = b.seal(b"x", b"new").unwrap();
        assert_eq!(sealed_key_id(&sealed_new).unwrap(), new.id());
        // ... and a, meeting the new key id, reloads and opens it.
        assert!(!a.keyring().holds(new.id()));
        assert_eq!(&a.open(b"x", &sealed_new).unwrap()[..], b"new");
        assert_eq!(&a.open(b"x", &sealed_old).unwrap()[..], b"old");
        assert_eq!(a.current_id(), new.id());
    }

    #[test]
    fn a_configured_key_seals_and_an_existing_key_file_still_opens() {
        let dir = tempfile::tempdir().unwrap();
        let from_file = LiveKeyring::load(&SecretsConfig::default(), dir.path()).unwrap();
        let sealed = from_file.seal(b"x", b"v").unwrap();
        let master = Key::generate();
        let config = SecretsConfig {
            master_key: Some(Secret::new(master.to_base64().as_str())),
            ..SecretsConfig::default()
        };
        let live = LiveKeyring::load(&config, dir.path()).unwrap();
        assert_eq!(live.current_id(), master.id());
        assert_eq!(&live.open(b"x", &sealed).unwrap()[..], b"v");
        assert!(!format!("{live:?}").contains(master.to_base64().as_str()));
    }

    #[test]
    fn an_unknown_key_is_an_error_not_a_reload_loop() {
        let dir = tempfile::tempdir().unwrap();
        let live = LiveKeyring::load(&SecretsConfig::default(), dir.path()).unwrap();
        let sealed = Keyring::new(Key::generate(), []).seal(b"x", b"v").unwrap();
        assert!(matches!(
            live.open(b"x", &sealed),
            Err(SecretError::UnknownKey { .. })
        ));
    }
}
