//! The WhatsApp Web store (`blazz_wa::store`) on SQLite and PostgreSQL in
//! the same run; the checks of the engine's semantics run on its own
//! in-memory backend too, so that ours are held to the engine's.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod env;

mod app_sync;
mod device;
mod durability;
mod isolation;
mod messages;
mod protocol;
mod sealing;
mod signal;
