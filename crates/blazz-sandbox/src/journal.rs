//! The network's memory of what it received, on disk (`sandbox.journal`):
//! one JSON line per accepted send, written before the send is answered and
//! read back when the network is created, so that a resend after Blazz was
//! killed is known to be the same message, as it is to WhatsApp.
//!
//! Each line goes out in one `write` on a file opened for appending, so a
//! killed process leaves every answered send on disk (the kernel has it; no
//! fsync is needed unless the machine itself goes down). A line cut short
//! (a full disk, a power cut) is skipped with a warning when read back.

use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use blazz_provider::MessageBody;
use serde::{Deserialize, Serialize};

use crate::network::SandboxNetwork;
use crate::sends::{MediaInfo, ReceivedMessage};

/// One line of the journal.
#[derive(Serialize, Deserialize)]
struct Entry {
    account: String,
    id: String,
    to: String,
    body: MessageBody,
    at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    media: Option<MediaInfo>,
}

/// The journal could not be opened or read back.
#[derive(Debug, thiserror::Error)]
#[error("sandbox journal {}: {source}", path.display())]
pub struct JournalError {
    pub path: PathBuf,
    pub source: io::Error,
}

/// What `open_journal` read back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reloaded {
    /// Messages known again (each id once per number).
    pub messages: usize,
    /// Lines that could not be read (a line cut short by a kill, say).
    pub skipped: usize,
}

pub(crate) struct Journal {
    file: File,
    /// The file does not end with a newline (a line was cut short): the
    /// next line starts with one, so that it stands alone.
    needs_newline: bool,
}

#[derive(Default)]
pub(crate) enum JournalState {
    /// Memory only.
    #[default]
    Off,
    Open(Journal),
    /// Asked for but unusable: sends fail rather than go unrecorded.
    Broken(String),
}

impl JournalState {
    /// Writes an accepted message for `account`; the error is why the
    /// send must fail (and be retried).
    pub fn append(&mut self, account: &str, m: &ReceivedMessage) -> Result<(), String> {
        let journal = match self {
            JournalState::Off => return Ok(()),
            JournalState::Broken(why) => {
                return Err(format!("the sandbox journal is unavailable: {why}"))
            }
            JournalState::Open(journal) => journal,
        };
        let entry = Entry {
            account: account.to_string(),
            id: m.id.clone(),
            to: m.to.clone(),
            body: m.body.clone(),
            at: m.at,
            media: m.media.clone(),
        };
        journal
            .append(&entry)
            .map_err(|e| format!("the sandbox journal could not be written: {e}"))
    }
}

impl Journal {
    fn append(&mut self, entry: &Entry) -> io::Result<()> {
        let mut line = Vec::with_capacity(256);
        if self.needs_newline {
            line.push(b'\n');
        }
        serde_json::to_writer(&mut line, entry)?;
        line.push(b'\n');
        // One write of the whole line (O_APPEND): a kill never leaves half
        // of it; only a short write (a full disk) could, hence the newline.
        let written = self.file.write_all(&line);
        self.needs_newline = written.is_err();
        written
    }

    /// Reads the journal back (a missing file is an empty one) and opens
    /// it for appending.
    fn open(path: &Path) -> io::Result<(Journal, Vec<Entry>, usize)> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let (entries, skipped, clean_end) = match File::open(path) {
            Ok(file) => read_back(path, file)?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => (Vec::new(), 0, true),
            Err(e) => return Err(e),
        };
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        let journal = Journal {
            file,
            needs_newline: !clean_end,
        };
        Ok((journal, entries, skipped))
    }
}

/// The journal's entries, how many lines were skipped, and whether the
/// file ends with a whole line.
fn read_back(path: &Path, file: File) -> io::Result<(Vec<Entry>, usize, bool)> {
    let mut reader = BufReader::new(file);
    let (mut entries, mut skipped, mut clean_end) = (Vec::new(), 0, true);
    let mut line = Vec::new();
    for number in 1.. {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        clean_end = line.ends_with(b"\n");
        if line.trim_ascii().is_empty() {
            continue;
        }
        match serde_json::from_slice::<Entry>(&line) {
            Ok(entry) => entries.push(entry),
            Err(e) => {
                skipped += 1;
                if clean_end {
                    tracing::warn!(journal = %path.display(), line = number, error = %e,
                        "skipping an unreadable line of the sandbox journal");
                } else {
                    tracing::warn!(journal = %path.display(), line = number,
                        "skipping the sandbox journal's last line, cut short (Blazz stopped mid-write)");
                }
            }
        }
    }
    Ok((entries, skipped, clean_end))
}

impl SandboxNetwork {
    /// Makes accepted sends outlive the process: reads the journal at
    /// `path` back (each message known again to its number, so a resend
    /// is recognised) and writes every accepted send to it from now on,
    /// before the send is answered. Call once, before connections open.
    ///
    /// On error the network refuses every send (a transient failure)
    /// rather than accept one it could not remember.
    pub fn open_journal(&self, path: &Path) -> Result<Reloaded, JournalError> {
        let mut phones = self.phones();
        let mut journal = self.journal();
        let (opened, entries, skipped) = match Journal::open(path) {
            Ok(read) => read,
            Err(source) => {
                *journal = JournalState::Broken(source.to_string());
                return Err(JournalError {
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        let mut messages = 0;
        for e in entries {
            let sends = &mut phones.entry(e.account).or_default().sends;
            if sends.knows(&e.id) {
                continue;
            }
            sends.record(ReceivedMessage {
                id: e.id,
                to: e.to,
                body: e.body,
                at: e.at,
                media: e.media,
            });
            messages += 1;
        }
        *journal = JournalState::Open(opened);
        Ok(Reloaded { messages, skipped })
    }
}
