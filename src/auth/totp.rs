//! Time-based one-time passwords (RFC 6238: HMAC-SHA1, 30-second steps,
//! six digits), as authenticator apps implement them.

use hmac::{Hmac, Mac};
use sha1::Sha1;

const STEP_SECS: u64 = 30;
const DIGITS: u32 = 6;

/// A new secret, base32 without padding (what authenticator apps take).
pub fn new_secret() -> String {
    let bytes: [u8; 20] = rand::random();
    data_encoding::BASE32_NOPAD.encode(&bytes)
}

/// The `otpauth://` URI that authenticator apps read from a QR code.
pub fn uri(secret: &str, account: &str) -> String {
    let enc = |s: &str| -> String {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect()
    };
    format!(
        "otpauth://totp/Blazz:{}?secret={secret}&issuer=Blazz&algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}",
        enc(account)
    )
}

/// The code for the 30-second step containing `unix_secs`.
pub fn code_at(secret: &str, unix_secs: u64) -> Option<String> {
    let key = data_encoding::BASE32_NOPAD.decode(secret.as_bytes()).ok()?;
    Some(hotp(&key, unix_secs / STEP_SECS))
}

fn hotp(key: &[u8], counter: u64) -> String {
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(key) else {
        return String::new();
    };
    mac.update(&counter.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = (digest[19] & 0x0f) as usize;
    let bin = u32::from_be_bytes([
        digest[offset] & 0x7f,
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ]);
    format!(
        "{:0width$}",
        bin % 10u32.pow(DIGITS),
        width = DIGITS as usize
    )
}

/// Checks a typed code, allowing one step of clock drift either way.
pub fn verify(secret: &str, typed: &str, unix_secs: u64) -> bool {
    matched_step(secret, typed, unix_secs).is_some()
}

/// The 30-second step whose code was typed, if any. Callers record it so
/// that a code cannot be used twice (`users::use_totp_step`).
pub fn matched_step(secret: &str, typed: &str, unix_secs: u64) -> Option<u64> {
    let typed: String = typed.chars().filter(|c| !c.is_whitespace()).collect();
    if typed.len() != DIGITS as usize {
        return None;
    }
    let steps = [
        unix_secs.saturating_sub(STEP_SECS),
        unix_secs,
        unix_secs + STEP_SECS,
    ];
    steps
        .into_iter()
        .find(|t| {
            code_at(secret, *t).is_some_and(|code| {
                subtle::ConstantTimeEq::ct_eq(code.as_bytes(), typed.as_bytes()).into()
            })
        })
        .map(|t| t / STEP_SECS)
}

pub fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 6238 appendix B, SHA-1 vectors (secret "12345678901234567890"),
    // truncated to six digits.
    const RFC_SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

    #[test]
    fn matches_the_rfc_test_vectors() {
        assert_eq!(code_at(RFC_SECRET, 59).unwrap(), "287082");
        assert_eq!(code_at(RFC_SECRET, 1111111109).unwrap(), "081804");
        assert_eq!(code_at(RFC_SECRET, 1234567890).unwrap(), "005924");
        assert_eq!(code_at(RFC_SECRET, 20000000000).unwrap(), "353130");
    }

    #[test]
    fn accepts_one_step_of_drift_only() {
        let s = new_secret();
        let t = 1_700_000_000;
        let code = code_at(&s, t).unwrap();
        assert!(verify(&s, &code, t));
        assert!(verify(&s, &code, t + 30));
        assert!(!verify(&s, &code, t + 90));
        assert!(!verify(&s, "12345", t));
        assert!(!verify("not base32!", "123456", t));
    }

    #[test]
    fn uri_names_blazz_and_the_account() {
        let u = uri("ABC", "asha@example.com");
        assert!(u.starts_with("otpauth://totp/Blazz:asha%40example.com?secret=ABC&issuer=Blazz"));
    }
}
