//! Blazz's WhatsApp Web provider: the multi-device protocol through
//! `whatsapp-rust`, the device keys in Blazz's store.

pub mod provider;
pub mod store;

pub use provider::{Backends, WebOptions, WebProvider};
