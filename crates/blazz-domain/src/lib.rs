//! Blazz domain types: typed ids, roles, and the pure rules the rest of the
//! system applies. Nothing here does IO.

pub mod backoff;
pub mod campaign;
pub mod email;
pub mod ids;
pub mod jobs;
pub mod message;
pub mod phone;
pub mod role;
pub mod session;
pub mod slug;
pub mod template;

pub use email::Email;
pub use ids::*;
pub use jobs::{JobState, Priority};
pub use message::{ChatStatus, Direction, MessageStatus};
pub use phone::Phone;
pub use role::Role;
pub use session::{SessionEvent, SessionState};
