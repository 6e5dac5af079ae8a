//! The key file, `keys.json` in the data directory, used when no master
//! key is configured: `{"version": 1, "current": "<id>", "keys": [{"id",
//! "key" (base64), "created_at" (unix ms)}]}`, mode 0600. It is only ever
//! replaced whole (a new file renamed over it), so a reader never sees half
//! of one, and a changed file has a new inode: that is how a running
//! process notices a rotation.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::Context;
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, Zeroizing};

use super::keyring::{Key, Keyring};

pub const FILE_NAME: &str = "keys.json";

pub fn path(data_dir: &Path) -> PathBuf {
    data_dir.join(FILE_NAME)
}

/// The file's keys: the current one and every other, oldest first.
pub struct KeyFile {
    pub current: String,
    pub keys: Vec<(Key, i64)>,
}

impl KeyFile {
    /// The file's keys plus `extra` (keys from config), sealing with the
    /// file's current key.
    pub fn keyring(&self, extra: &[Key]) -> anyhow::Result<Keyring> {
        let current = self
            .keys
            .iter()
            .find(|(k, _)| k.id() == self.current)
            .map(|(k, _)| k.clone())
            .with_context(|| format!("the key file names {} current but lacks it", self.current))?;
        let others = self.keys.iter().map(|(k, _)| k.clone());
        Ok(Keyring::new(current, others.chain(extra.iter().cloned())))
    }

    /// Adds `key` and makes it current.
    pub fn add_current(&mut self, key: Key) -> anyhow::Result<()> {
        anyhow::ensure!(
            self.keys.iter().all(|(k, _)| k.id() != key.id()),
            "the key file already holds a key with id {}",
            key.id()
        );
        self.current = key.id().to_string();
        self.keys.push((key, blazz_store::now_ms()));
        Ok(())
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Format {
    version: u32,
    current: String,
    keys: Vec<FormatKey>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FormatKey {
    id: String,
    key: String,
    created_at: i64,
}

impl Drop for FormatKey {
    fn drop(&mut self) {
        self.key.zeroize();
    }
}

/// Reads the key file; `None` if there is none.
pub fn read(path: &Path) -> anyhow::Result<Option<KeyFile>> {
    let text = match fs::read_to_string(path) {
        Ok(t) => Zeroizing::new(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(e).with_context(|| format!("reading the key file {}", path.display()))
        }
    };
    warn_if_readable_by_others(path);
    let bad = || {
        format!(
            "the key file {} is not a valid Blazz key file",
            path.display()
        )
    };
    let format: Format = serde_json::from_str(&text).with_context(bad)?;
    anyhow::ensure!(
        format.version == 1,
        "{}: unknown version {}",
        bad(),
        format.version
    );
    let mut keys = Vec::with_capacity(format.keys.len());
    for k in &format.keys {
        let key = Key::from_base64(&k.key, &format!("key {} in {}", k.id, path.display()))?;
        anyhow::ensure!(
            key.id() == k.id,
            "{}: key {} does not match its id (the file was edited or damaged)",
            bad(),
            k.id
        );
        keys.push((key, k.created_at));
    }
    let file = KeyFile {
        current: format.current.clone(),
        keys,
    };
    file.keyring(&[]).with_context(bad)?;
    Ok(Some(file))
}

/// Replaces the key file with `file`, atomically.
pub fn write(path: &Path, file: &KeyFile) -> anyhow::Result<()> {
    let tmp = write_temp(path, file)?;
    fs::rename(&tmp, path).with_context(|| format!("replacing the key file {}", path.display()))?;
    sync_dir(path);
    Ok(())
}

/// Creates the key file with one new key, unless another process has just
/// created one: then that one is read. Never overwrites a key file. Whether
/// this call created it.
pub fn create(path: &Path) -> anyhow::Result<(KeyFile, bool)> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir)
            .with_context(|| format!("creating the data directory {}", dir.display()))?;
    }
    let mut file = KeyFile {
        current: String::new(),
        keys: Vec::new(),
    };
    file.add_current(Key::generate())?;
    let tmp = write_temp(path, &file)?;
    // A hard link puts the complete file in place only if none is there.
    let linked = fs::hard_link(&tmp, path);
    let _ = fs::remove_file(&tmp);
    match linked {
        Ok(()) => {
            sync_dir(path);
            Ok((file, true))
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let existing =
                read(path)?.with_context(|| format!("the key file {} vanished", path.display()))?;
            Ok((existing, false))
        }
        Err(e) => Err(e).with_context(|| format!("creating the key file {}", path.display())),
    }
}

fn write_temp(path: &Path, file: &KeyFile) -> anyhow::Result<PathBuf> {
    let format = Format {
        version: 1,
        current: file.current.clone(),
        keys: file
            .keys
            .iter()
            .map(|(k, created_at)| FormatKey {
                id: k.id().to_string(),
                key: k.to_base64().to_string(),
                created_at: *created_at,
            })
            .collect(),
    };
    let text = Zeroizing::new(serde_json::to_string_pretty(&format)?);
    let tmp = path.with_file_name(format!(
        ".{FILE_NAME}.{}.{}.tmp",
        std::process::id(),
        rand::random::<u32>()
    ));
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options.open(&tmp).and_then(|mut f| {
        f.write_all(text.as_bytes())?;
        f.write_all(b"\n")?;
        f.sync_all()
    });
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(e).with_context(|| format!("writing {}", tmp.display()));
    }
    Ok(tmp)
}

/// Makes a rename or link durable.
fn sync_dir(path: &Path) {
    if let Some(dir) = path.parent() {
        if let Ok(d) = fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
}

fn warn_if_readable_by_others(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = fs::metadata(path) {
            if meta.permissions().mode() & 0o077 != 0 {
                tracing::warn!(
                    path = %path.display(),
                    "the secrets key file is readable by other users; chmod 600 it"
                );
            }
        }
    }
}

/// What identifies one version of the key file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp {
    len: u64,
    modified: Option<SystemTime>,
    inode: u64,
}

/// The file's current stamp; `None` if it cannot be read.
pub fn stamp(path: &Path) -> Option<Stamp> {
    let meta = fs::metadata(path).ok()?;
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(&meta);
    #[cfg(not(unix))]
    let inode = 0;
    Some(Stamp {
        len: meta.len(),
        modified: meta.modified().ok(),
        inode,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_created_file_is_private_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let p = path(&dir.path().join("sub"));
        let (made, created) = create(&p).unwrap();
        assert!(created);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&p).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let read = read(&p).unwrap().unwrap();
        assert_eq!(read.current, made.current);
        assert_eq!(read.keys.len(), 1);
        // Creating again keeps the existing key.
        let (again, created) = create(&p).unwrap();
        assert!(!created);
        assert_eq!(again.current, made.current);
        let leftovers: Vec<_> = fs::read_dir(p.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers, vec![std::ffi::OsString::from(FILE_NAME)]);
    }

    #[test]
    fn a_rewritten_file_has_a_new_stamp_and_the_new_current_key() {
        let dir = tempfile::tempdir().unwrap();
        let p = path(dir.path());
        let (mut file, _) = create(&p).unwrap();
        let before = stamp(&p).unwrap();
        let new = Key::generate();
        file.add_current(new.clone()).unwrap();
        write(&p, &file).unwrap();
        assert_ne!(stamp(&p).unwrap(), before);
        let ring = read(&p).unwrap().unwrap().keyring(&[]).unwrap();
        assert_eq!(ring.current_id(), new.id());
        assert_eq!(ring.ids().len(), 2);
    }

    #[test]
    fn a_damaged_file_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = path(dir.path());
        create(&p).unwrap();
        let text = fs::read_to_string(&p).unwrap();
        let id = read(&p).unwrap().unwrap().current;
        fs::write(
            &p,
            text.replace(&format!("\"id\": \"{id}\""), "\"id\": \"00000000\""),
        )
        .unwrap();
        let err = format!("{:#}", read(&p).err().unwrap());
        assert!(err.contains("does not match its id"), "{err}");
        fs::write(&p, "{").unwrap();
        let err = format!("{:#}", read(&p).err().unwrap());
        assert!(err.contains("not a valid Blazz key file"), "{err}");
    }
}
