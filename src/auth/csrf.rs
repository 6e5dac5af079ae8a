//! CSRF protection. Signed-in browsers send their session's token (a hidden
//! form field, or the `X-CSRF-Token` header for script calls); forms shown
//! before sign-in use a double-submit cookie. The cookies are also
//! `SameSite=Lax`, so a cross-site form post carries no session at all.

use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use subtle::ConstantTimeEq;

use super::secrets::random_string;

pub const COOKIE: &str = "blazz_csrf";
pub const HEADER: &str = "x-csrf-token";

pub fn matches(expected: &str, given: &str) -> bool {
    !expected.is_empty() && expected.as_bytes().ct_eq(given.as_bytes()).into()
}

/// The anonymous-form token: the cookie's value, set if it is missing.
pub fn anonymous_token(jar: CookieJar, secure: bool) -> (CookieJar, String) {
    if let Some(c) = jar.get(COOKIE) {
        if c.value().len() >= 32 {
            let value = c.value().to_string();
            return (jar, value);
        }
    }
    let value = random_string(43);
    let cookie = Cookie::build((COOKIE, value.clone()))
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax)
        .build();
    (jar.add(cookie), value)
}

/// Checks an anonymous form's token against its cookie.
pub fn check_anonymous(jar: &CookieJar, given: &str) -> bool {
    jar.get(COOKIE).is_some_and(|c| matches(c.value(), given))
}
