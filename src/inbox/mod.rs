//! The shared inbox: chats and messages of both directions (DESIGN.md
//! "Messages"). Inbound messages and receipts arrive through the session
//! writer (`inbound`); sends are accepted here and handed to the number's
//! session by a job (`send`).

pub mod body;
pub mod chats;
pub mod inbound;
pub mod media;
pub mod send;
pub mod view;

pub use send::ChatLocks;
