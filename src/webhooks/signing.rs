//! Standard Webhooks signatures: `v1,` + base64(HMAC-SHA256(key,
//! "{webhook-id}.{webhook-timestamp}.{body}")), where the key is the
//! base64-decoded part of a `whsec_...` secret.

use data_encoding::BASE64;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use zeroize::Zeroizing;

pub const PREFIX: &str = "whsec_";

/// A fresh secret: `whsec_` + base64 of 32 random bytes.
pub fn generate() -> Zeroizing<String> {
    let mut key = Zeroizing::new([0u8; 32]);
    rand::thread_rng().fill_bytes(key.as_mut());
    Zeroizing::new(format!("{PREFIX}{}", BASE64.encode(key.as_ref())))
}

/// The HMAC key of a `whsec_...` secret.
pub fn key(secret: &str) -> anyhow::Result<Zeroizing<Vec<u8>>> {
    let b64 = secret.strip_prefix(PREFIX).unwrap_or(secret);
    let key = BASE64
        .decode(b64.as_bytes())
        .map_err(|_| anyhow::anyhow!("a webhook secret is not base64 after {PREFIX}"))?;
    anyhow::ensure!(!key.is_empty(), "a webhook secret is empty");
    Ok(Zeroizing::new(key))
}

/// One signature, `v1,<base64>`.
pub fn sign(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> String {
    // HMAC takes keys of any length, so this cannot fail.
    let mut mac = match Hmac::<Sha256>::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", BASE64.encode(&mac.finalize().into_bytes()))
}

/// The `webhook-signature` header: one signature per key, space-separated
/// (the current secret first, then the previous one during a rotation).
pub fn header(keys: &[&[u8]], id: &str, timestamp: i64, body: &[u8]) -> String {
    keys.iter()
        .map(|k| sign(k, id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the Standard Webhooks specification (recomputed
    /// independently in ../shared/reference/contracts.md).
    #[test]
    fn the_specification_s_test_vector() {
        let key = key("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD").unwrap();
        let sig = sign(
            &key,
            "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
            1649367553,
            br#"{"email":"test@example.com","username":"test_user"}"#,
        );
        assert_eq!(sig, "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=");
    }

    #[test]
    fn generated_secrets_carry_32_random_bytes() {
        let a = generate();
        let b = generate();
        assert!(a.starts_with("whsec_"));
        assert_ne!(*a, *b);
        assert_eq!(key(&a).unwrap().len(), 32);
    }

    #[test]
    fn rotation_headers_carry_both_signatures() {
        let (k1, k2) = (b"one".as_slice(), b"two".as_slice());
        let h = header(&[k1, k2], "msg_1", 5, b"{}");
        let parts: Vec<&str> = h.split(' ').collect();
        assert_eq!(
            parts,
            [sign(k1, "msg_1", 5, b"{}"), sign(k2, "msg_1", 5, b"{}")]
        );
    }

    #[test]
    fn bad_secrets_are_refused() {
        assert!(key("whsec_not base64!").is_err());
        assert!(key("whsec_").is_err());
    }
}
