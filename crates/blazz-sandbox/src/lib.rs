//! The sandbox: an emulated WhatsApp network inside Blazz, so that linking,
//! messaging, receipts and failures work end to end with no phone and no
//! internet (development, demos, tests, benchmarks).
//!
//! `SandboxNetwork` is the network and the "phones" on it; `SandboxProvider`
//! opens connections to it. Linking behaves as WhatsApp's does where it
//! matters: QR codes rotate (first after 60 s, then every 20 s), six codes
//! and linking times out; a phone approves by scanning the current code (or
//! typing the pair code); the link hands out credentials that restore the
//! session later without a new scan. A message's id is the one the client
//! chose, and a resend of it is the same message (`sends`), also after a
//! restart when the network keeps a journal (`journal`). A number that
//! messages contacts who never wrote to it too fast is banned for a while
//! (`Pacing`), as real numbers are; faults (drops, silence, outages, bans,
//! failed sends, odd receipts) happen on demand.

mod connection;
mod journal;
mod network;
mod pacing;
mod phone;
mod sends;

#[cfg(test)]
mod tests;

pub use connection::SandboxProvider;
pub use journal::{JournalError, Reloaded};
pub use network::{SandboxError, SandboxNetwork, Timing};
pub use pacing::Pacing;
pub use sends::{
    FailureKind, MediaInfo, ReadSent, Received, ReceivedMessage, TypingSent, MARKS_KEPT,
    RECEIVED_KEPT,
};
