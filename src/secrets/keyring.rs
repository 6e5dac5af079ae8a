//! Master keys and the sealed format: `v1.<key id>.<nonce>.<ciphertext>`,
//! AES-256-GCM with a fresh random 96-bit nonce per value, nonce and
//! ciphertext (tag included) in unpadded base64url. The associated data
//! binds a value to the header and to where it is stored, so neither the
//! key id nor the row can be swapped.

use std::collections::BTreeMap;
use std::fmt;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use data_encoding::{BASE64, BASE64URL, BASE64URL_NOPAD, BASE64_NOPAD};
use rand::RngCore;
use sha2::Digest;
use zeroize::Zeroizing;

const VERSION: &str = "v1";
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;

/// Why a secret could not be sealed or opened. Messages never contain key
/// material or plaintext.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("not a sealed secret (expected v1.<key id>.<nonce>.<ciphertext>)")]
    Malformed,
    #[error("sealed in format {0:?}, which this version of Blazz does not read")]
    UnsupportedVersion(String),
    #[error(
        "sealed under key {key_id}, which the keyring does not hold (it holds {known}): \
         is secrets.master_key (or the key file in the data directory) the right one?"
    )]
    UnknownKey { key_id: String, known: String },
    #[error(
        "cannot decrypt a secret sealed under key {key_id}: the value was altered \
         or belongs to another record"
    )]
    Decrypt { key_id: String },
    #[error("encrypting a secret failed")]
    Seal,
}

/// One 256-bit master key and its id. `Debug` shows the id only; the bytes
/// are wiped when dropped.
#[derive(Clone)]
pub struct Key {
    id: String,
    bytes: Zeroizing<[u8; 32]>,
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Key")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl Key {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        let bytes = Zeroizing::new(bytes);
        Self {
            id: key_id(&bytes),
            bytes,
        }
    }

    /// A fresh random key.
    pub fn generate() -> Self {
        let mut bytes = Zeroizing::new([0u8; 32]);
        rand::rngs::OsRng.fill_bytes(&mut bytes[..]);
        Self {
            id: key_id(&bytes),
            bytes,
        }
    }

    /// Reads base64 (standard or URL-safe, padded or not) of 32 bytes.
    /// The error names `what` but never echoes the input.
    pub fn from_base64(text: &str, what: &str) -> anyhow::Result<Self> {
        let text = text.trim().as_bytes();
        let decoded = [BASE64, BASE64_NOPAD, BASE64URL, BASE64URL_NOPAD]
            .iter()
            .find_map(|enc| enc.decode(text).ok())
            .map(Zeroizing::new)
            .ok_or_else(|| anyhow::anyhow!("{what} is not valid base64"))?;
        let bytes: [u8; 32] = decoded.as_slice().try_into().map_err(|_| {
            anyhow::anyhow!(
                "{what} must be 32 bytes (base64 of 32 random bytes), not {}",
                decoded.len()
            )
        })?;
        Ok(Self::from_bytes(bytes))
    }

    /// The key in standard base64, for the key file or an operator.
    pub fn to_base64(&self) -> Zeroizing<String> {
        Zeroizing::new(BASE64.encode(&self.bytes[..]))
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    fn cipher(&self) -> Result<Aes256Gcm, SecretError> {
        Aes256Gcm::new_from_slice(&self.bytes[..]).map_err(|_| SecretError::Seal)
    }
}

/// A short stable id derived from the key (8 hex characters of a
/// domain-separated SHA-256): the same key has the same id everywhere, so
/// a key given in config needs no id of its own, and a wrong key shows up
/// as an unknown id rather than as a failed decryption.
fn key_id(bytes: &[u8; 32]) -> String {
    let mut h = sha2::Sha256::new();
    h.update(b"blazz/secrets/key-id/v1\0");
    h.update(bytes);
    hex::encode(&h.finalize()[..4])
}

/// The keys a process can use: one current key that seals, and older ones
/// that still open what they sealed.
#[derive(Clone, Debug)]
pub struct Keyring {
    current: String,
    keys: BTreeMap<String, Key>,
}

impl Keyring {
    pub fn new(current: Key, others: impl IntoIterator<Item = Key>) -> Self {
        let mut keys: BTreeMap<String, Key> =
            others.into_iter().map(|k| (k.id.clone(), k)).collect();
        let id = current.id.clone();
        keys.insert(id.clone(), current);
        Self { current: id, keys }
    }

    pub fn current_id(&self) -> &str {
        &self.current
    }

    /// Every key id held, current included, in order.
    pub fn ids(&self) -> Vec<String> {
        self.keys.keys().cloned().collect()
    }

    pub fn holds(&self, key_id: &str) -> bool {
        self.keys.contains_key(key_id)
    }

    /// Encrypts `plaintext` under the current key, bound to `aad`.
    pub fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Result<String, SecretError> {
        let key = self.keys.get(&self.current).ok_or(SecretError::Seal)?;
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let header = format!("{VERSION}.{}", key.id);
        let bound = bind(&header, aad);
        let ciphertext = key
            .cipher()?
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: &bound,
                },
            )
            .map_err(|_| SecretError::Seal)?;
        Ok(format!(
            "{header}.{}.{}",
            BASE64URL_NOPAD.encode(&nonce),
            BASE64URL_NOPAD.encode(&ciphertext)
        ))
    }

    /// Decrypts a sealed value that was bound to `aad`.
    pub fn open(&self, aad: &[u8], sealed: &str) -> Result<Zeroizing<Vec<u8>>, SecretError> {
        let parts = Parts::parse(sealed)?;
        let key = self
            .keys
            .get(parts.key_id)
            .ok_or_else(|| SecretError::UnknownKey {
                key_id: parts.key_id.to_string(),
                known: self.ids().join(", "),
            })?;
        let bound = bind(&format!("{VERSION}.{}", parts.key_id), aad);
        key.cipher()?
            .decrypt(
                Nonce::from_slice(&parts.nonce),
                Payload {
                    msg: &parts.ciphertext,
                    aad: &bound,
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| SecretError::Decrypt {
                key_id: parts.key_id.to_string(),
            })
    }
}

/// The key id named by a sealed value (without opening it).
pub fn sealed_key_id(sealed: &str) -> Result<&str, SecretError> {
    Parts::parse(sealed).map(|p| p.key_id)
}

/// The associated data: the header, a NUL (never in a header), then the
/// caller's binding.
fn bind(header: &str, aad: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(header.len() + 1 + aad.len());
    out.extend_from_slice(header.as_bytes());
    out.push(0);
    out.extend_from_slice(aad);
    out
}

struct Parts<'a> {
    key_id: &'a str,
    nonce: [u8; NONCE_LEN],
    ciphertext: Vec<u8>,
}

impl<'a> Parts<'a> {
    fn parse(sealed: &'a str) -> Result<Self, SecretError> {
        let mut it = sealed.split('.');
        let (Some(version), Some(key_id), Some(nonce), Some(ciphertext), None) =
            (it.next(), it.next(), it.next(), it.next(), it.next())
        else {
            return Err(SecretError::Malformed);
        };
        if version != VERSION {
            return Err(if version.starts_with('v') && version.len() <= 4 {
                SecretError::UnsupportedVersion(version.to_string())
            } else {
                SecretError::Malformed
            });
        }
        if key_id.is_empty() || !key_id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(SecretError::Malformed);
        }
        let nonce: [u8; NONCE_LEN] = BASE64URL_NOPAD
            .decode(nonce.as_bytes())
            .ok()
            .and_then(|n| n.try_into().ok())
            .ok_or(SecretError::Malformed)?;
        let ciphertext = BASE64URL_NOPAD
            .decode(ciphertext.as_bytes())
            .map_err(|_| SecretError::Malformed)?;
        if ciphertext.len() < TAG_LEN {
            return Err(SecretError::Malformed);
        }
        Ok(Self {
            key_id,
            nonce,
            ciphertext,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring() -> Keyring {
        Keyring::new(Key::from_bytes([7; 32]), [])
    }

    #[test]
    fn sealed_values_open_and_name_their_key() {
        let ring = ring();
        let sealed = ring.seal(b"account/1/token", b"EAAG-secret").unwrap();
        let parts: Vec<&str> = sealed.split('.').collect();
        assert_eq!(parts.len(), 4, "{sealed}");
        assert_eq!(parts[0], "v1");
        assert_eq!(parts[1], ring.current_id());
        assert_eq!(parts[1].len(), 8);
        assert_eq!(
            BASE64URL_NOPAD.decode(parts[2].as_bytes()).unwrap().len(),
            12
        );
        assert_eq!(
            BASE64URL_NOPAD.decode(parts[3].as_bytes()).unwrap().len(),
            b"EAAG-secret".len() + TAG_LEN
        );
        assert!(sealed.bytes().all(|b| b.is_ascii_graphic()));
        assert_eq!(sealed_key_id(&sealed).unwrap(), ring.current_id());
        let opened = ring.open(b"account/1/token", &sealed).unwrap();
        assert_eq!(&opened[..], b"EAAG-secret");
        assert!(!sealed.contains("EAAG"));
    }

    #[test]
    fn every_seal_uses_a_fresh_nonce() {
        let ring = ring();
        let a = ring.seal(b"x", b"same").unwrap();
        let b = ring.seal(b"x", b"same").unwrap();
        assert_ne!(a, b);
        assert_ne!(a.split('.').nth(2), b.split('.').nth(2));
    }

    #[test]
    fn empty_values_round_trip() {
        let ring = ring();
        let sealed = ring.seal(b"", b"").unwrap();
        assert!(ring.open(b"", &sealed).unwrap().is_empty());
    }

    #[test]
    fn altered_values_do_not_open() {
        let ring = ring();
        let sealed = ring.seal(b"aad", b"hello").unwrap();
        let parts: Vec<&str> = sealed.split('.').collect();
        let flip = |s: &str| {
            let mut bytes = BASE64URL_NOPAD.decode(s.as_bytes()).unwrap();
            bytes[0] ^= 1;
            BASE64URL_NOPAD.encode(&bytes)
        };
        let bad_nonce = format!("{}.{}.{}.{}", parts[0], parts[1], flip(parts[2]), parts[3]);
        let bad_body = format!("{}.{}.{}.{}", parts[0], parts[1], parts[2], flip(parts[3]));
        for bad in [bad_nonce, bad_body] {
            assert!(matches!(
                ring.open(b"aad", &bad),
                Err(SecretError::Decrypt { .. })
            ));
        }
        assert!(matches!(
            ring.open(b"other", &sealed),
            Err(SecretError::Decrypt { .. })
        ));
    }

    #[test]
    fn the_header_is_authenticated() {
        // A value re-labelled with another key's id fails even if that key
        // is held.
        let old = Key::from_bytes([1; 32]);
        let new = Key::from_bytes([2; 32]);
        let ring = Keyring::new(new.clone(), [old.clone()]);
        let sealed = Keyring::new(old.clone(), []).seal(b"a", b"v").unwrap();
        let relabelled = sealed.replacen(old.id(), new.id(), 1);
        assert!(ring.open(b"a", &sealed).is_ok());
        assert!(matches!(
            ring.open(b"a", &relabelled),
            Err(SecretError::Decrypt { .. })
        ));
    }

    #[test]
    fn unknown_keys_and_malformed_values_are_errors() {
        let sealed = Keyring::new(Key::from_bytes([9; 32]), [])
            .seal(b"a", b"v")
            .unwrap();
        let err = ring().open(b"a", &sealed).unwrap_err();
        assert!(matches!(err, SecretError::UnknownKey { .. }));
        assert!(err.to_string().contains("master_key"), "{err}");
        for bad in [
            "",
            "v1",
            "v1.abc.def",
            "v1.abc.AAAAAAAAAAAAAAAA.AAAA",
            "v1..AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA",
            "v1.ab-c.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA",
            "v1.abc.!!!.AAAAAAAAAAAAAAAAAAAAAA",
            "v1.a.b.c.d",
            "plaintext",
        ] {
            assert!(
                matches!(ring().open(b"a", bad), Err(SecretError::Malformed)),
                "{bad:?}"
            );
        }
        assert!(matches!(
            ring().open(b"a", "v2.abc.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA"),
            Err(SecretError::UnsupportedVersion(_))
        ));
    }

    #[test]
    fn key_ids_are_stable_and_distinct() {
        assert_eq!(Key::from_bytes([3; 32]).id(), Key::from_bytes([3; 32]).id());
        assert_ne!(Key::from_bytes([3; 32]).id(), Key::from_bytes([4; 32]).id());
        assert_ne!(Key::generate().id(), Key::generate().id());
    }

    #[test]
    fn keys_read_from_base64_in_any_common_form() {
        let key = Key::from_bytes([0xfb; 32]);
        let std = key.to_base64();
        assert_eq!(Key::from_base64(&std, "k").unwrap().id(), key.id());
        let url = BASE64URL_NOPAD.encode(&[0xfb; 32]);
        assert_eq!(Key::from_base64(&url, "k").unwrap().id(), key.id());
        let short = Key::from_base64(&BASE64.encode(&[1; 16]), "secrets.master_key");
        let msg = short.unwrap_err().to_string();
        assert!(
            msg.contains("secrets.master_key") && msg.contains("32 bytes"),
            "{msg}"
        );
        let junk = Key::from_base64("not base64 at all!", "k").unwrap_err();
        assert!(!junk.to_string().contains("at all"), "{junk}");
    }

    #[test]
    fn debug_never_prints_key_material() {
        let key = Key::from_bytes([0xab; 32]);
        let b64 = key.to_base64().to_string();
        let ring = Keyring::new(key.clone(), [Key::from_bytes([0xcd; 32])]);
        for printed in [
            format!("{key:?}"),
            format!("{ring:?}"),
            format!("{ring:#?}"),
        ] {
            assert!(printed.contains(key.id()), "{printed}");
            assert!(!printed.contains(&b64), "{printed}");
            assert!(!printed.contains("171, 171"), "{printed}"); // 0xab, 0xab
            assert!(!printed.to_lowercase().contains("abab"), "{printed}");
        }
    }
}
