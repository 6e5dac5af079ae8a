//! Uploaded CSV files waiting for the member to confirm their import. The
//! file stays on the server, under a random key, bound to the workspace and
//! member who uploaded it, for 30 minutes: the confirmation names the key
//! and cannot swap in other data. Kept in memory and bounded (a member's
//! last few files, and a total size); a restart forgets them, and the
//! member uploads the file again.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};

use blazz_domain::{UserId, WorkspaceId};

use crate::auth::secrets::random_string;

const TTL: Duration = Duration::from_secs(30 * 60);
/// Files one member may have waiting; the oldest goes first.
const PER_MEMBER: usize = 3;
/// All waiting files together.
const TOTAL_BYTES: usize = 64 * 1024 * 1024;

/// One uploaded file.
#[derive(Clone)]
pub struct Upload {
    pub workspace: WorkspaceId,
    pub user: UserId,
    pub filename: String,
    pub csv: Arc<str>,
    /// Tags added to every imported contact.
    pub tags: Vec<String>,
    at: Instant,
    /// Order of upload (instants may tie).
    seq: u64,
}

static SEQ: AtomicU64 = AtomicU64::new(0);

static WAITING: LazyLock<Mutex<HashMap<String, Upload>>> = LazyLock::new(Default::default);

fn waiting() -> std::sync::MutexGuard<'static, HashMap<String, Upload>> {
    // A panic while holding the lock leaves plain data behind: keep going.
    WAITING.lock().unwrap_or_else(|p| p.into_inner())
}

/// Keeps `csv` for its uploader; returns its key.
pub fn keep(
    workspace: WorkspaceId,
    user: UserId,
    filename: String,
    csv: String,
    tags: Vec<String>,
) -> String {
    let key = random_string(32);
    let mut all = waiting();
    all.retain(|_, u| u.at.elapsed() < TTL);
    let mut mine: Vec<(String, u64)> = all
        .iter()
        .filter(|(_, u)| u.user == user)
        .map(|(k, u)| (k.clone(), u.seq))
        .collect();
    mine.sort_by_key(|(_, seq)| *seq);
    while mine.len() >= PER_MEMBER {
        let (k, _) = mine.remove(0);
        all.remove(&k);
    }
    let size = csv.len();
    while !all.is_empty() && all.values().map(|u| u.csv.len()).sum::<usize>() + size > TOTAL_BYTES {
        let oldest = all.iter().min_by_key(|(_, u)| u.at).map(|(k, _)| k.clone());
        if let Some(k) = oldest {
            all.remove(&k);
        }
    }
    all.insert(
        key.clone(),
        Upload {
            workspace,
            user,
            filename,
            csv: csv.into(),
            tags,
            at: Instant::now(),
            seq: SEQ.fetch_add(1, Ordering::Relaxed),
        },
    );
    key
}

/// The file under `key`, if it is this member's in this workspace and
/// has not expired.
pub fn get(key: &str, workspace: WorkspaceId, user: UserId) -> Option<Upload> {
    let all = waiting();
    all.get(key)
        .filter(|u| u.workspace == workspace && u.user == user && u.at.elapsed() < TTL)
        .cloned()
}

/// Takes the file out (confirming imports it once).
pub fn take(key: &str, workspace: WorkspaceId, user: UserId) -> Option<Upload> {
    let mut all = waiting();
    let mine = all
        .get(key)
        .is_some_and(|u| u.workspace == workspace && u.user == user && u.at.elapsed() < TTL);
    if mine {
        all.remove(key)
    } else {
        None
    }
}

/// Puts a taken file back (its import failed before writing).
pub fn put_back(key: String, upload: Upload) {
    waiting().insert(key, upload);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_its_uploaders_alone_and_taken_once() {
        let (ws, other_ws) = (WorkspaceId::new(), WorkspaceId::new());
        let (user, other_user) = (UserId::new(), UserId::new());
        let key = keep(ws, user, "a.csv".into(), "phone\n".into(), vec![]);
        assert!(get(&key, ws, user).is_some());
        assert!(get(&key, other_ws, user).is_none());
        assert!(get(&key, ws, other_user).is_none());
        assert!(take(&key, ws, other_user).is_none(), "not another member's");
        assert_eq!(
            take(&key, ws, user).map(|u| u.filename),
            Some("a.csv".into())
        );
        assert!(take(&key, ws, user).is_none(), "taken once");
    }

    #[test]
    fn a_member_keeps_only_the_last_few_files() {
        let (ws, user) = (WorkspaceId::new(), UserId::new());
        let keys: Vec<String> = (0..PER_MEMBER + 1)
            .map(|i| keep(ws, user, format!("{i}.csv"), "phone\n".into(), vec![]))
            .collect();
        assert!(get(&keys[0], ws, user).is_none(), "the oldest went");
        assert!(keys[1..].iter().all(|k| get(k, ws, user).is_some()));
    }
}
