//! Sealing private values before they reach the database: the app supplies
//! the cipher (a `Sealer`), this module decides what each value is bound to.

/// Encrypts and decrypts values for storage. The app implements it with its
/// keyring (AES-256-GCM under the master key); tests use their own.
pub trait Sealer: Send + Sync + 'static {
    /// Seals `plain`, bound to `aad` (a different aad cannot open it).
    fn seal(&self, aad: &[u8], plain: &[u8]) -> anyhow::Result<String>;

    fn open(&self, aad: &[u8], sealed: &str) -> anyhow::Result<Vec<u8>>;

    /// The id of the key a sealed value names, stored beside it so that a
    /// rotation can find the rows still under an old key. The default reads
    /// Blazz's sealed format, `<version>.<key id>.<nonce>.<ciphertext>`;
    /// a value in another format gets an empty id.
    fn key_id<'a>(&self, sealed: &'a str) -> &'a str {
        let mut parts = sealed.split('.');
        match (parts.next(), parts.next(), parts.next()) {
            (Some(_), Some(id), Some(_)) => id,
            _ => "",
        }
    }
}

/// What a sealed value is bound to: the account, the table and the row's
/// key, each length-prefixed so that no two rows share a binding. A value
/// copied to another row or account does not open there.
pub(crate) fn binding(account_id: &str, table: &str, key: &[&[u8]]) -> Vec<u8> {
    let mut out = b"blazz/wa-store/v1".to_vec();
    let fields = [account_id.as_bytes(), table.as_bytes()];
    for field in fields.iter().chain(key.iter()) {
        out.extend_from_slice(&(field.len() as u64).to_be_bytes());
        out.extend_from_slice(field);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bindings_differ_by_account_table_and_key() {
        let base = binding("a1", "wa_sessions", &[b"x@s.whatsapp.net"]);
        assert_ne!(base, binding("a2", "wa_sessions", &[b"x@s.whatsapp.net"]));
        assert_ne!(
            base,
            binding("a1", "wa_sender_keys", &[b"x@s.whatsapp.net"])
        );
        assert_ne!(base, binding("a1", "wa_sessions", &[b"y@s.whatsapp.net"]));
        // Field boundaries count: ("ab", "c") is not ("a", "bc").
        assert_ne!(
            binding("a", "t", &[b"ab", b"c"]),
            binding("a", "t", &[b"a", b"bc"])
        );
    }

    #[test]
    fn the_default_key_id_reads_blazz_sealed_values() {
        struct Any;
        impl Sealer for Any {
            fn seal(&self, _: &[u8], _: &[u8]) -> anyhow::Result<String> {
                Ok(String::new())
            }
            fn open(&self, _: &[u8], _: &str) -> anyhow::Result<Vec<u8>> {
                Ok(Vec::new())
            }
        }
        assert_eq!(Any.key_id("v1.1a2b3c4d.bm9uY2U.Y2lwaGVy"), "1a2b3c4d");
        assert_eq!(Any.key_id("plain"), "");
        assert_eq!(Any.key_id("v1.only"), "");
    }
}
