//! Who is calling, and how we know: passwords, API tokens, browser
//! sessions, TOTP, CSRF and rate limits.

pub mod caller;
pub mod csrf;
pub mod password;
pub mod ratelimit;
pub mod secrets;
pub mod totp;

pub use caller::Caller;
