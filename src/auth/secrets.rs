//! Random secrets: API tokens, session ids, invitation links, recovery codes.

use rand::distributions::Alphanumeric;
use rand::Rng;

/// `n` random alphanumeric characters (about 5.95 bits each).
pub fn random_string(n: usize) -> String {
    rand::rngs::OsRng
        .sample_iter(&Alphanumeric)
        .take(n)
        .map(char::from)
        .collect()
}

/// A new API token: `blz_` and 43 characters (256 bits).
pub fn api_token() -> String {
    format!("blz_{}", random_string(43))
}

pub fn looks_like_api_token(s: &str) -> bool {
    s.starts_with("blz_") && s.len() == 47 && s[4..].chars().all(|c| c.is_ascii_alphanumeric())
}

/// A recovery code as people type it: `xxxxx-xxxxx`, lower-case.
pub fn recovery_code() -> String {
    let raw = random_string(10).to_lowercase();
    format!("{}-{}", &raw[..5], &raw[5..])
}

/// The form in which a typed recovery code is compared.
pub fn normalise_recovery_code(typed: &str) -> String {
    typed
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_have_the_blz_shape() {
        let t = api_token();
        assert!(looks_like_api_token(&t), "{t}");
        assert_ne!(t, api_token());
        assert!(!looks_like_api_token("blz_short"));
    }

    #[test]
    fn recovery_codes_compare_whatever_the_typing() {
        let code = recovery_code();
        assert_eq!(code.len(), 11);
        let typed = code.to_uppercase().replace('-', " ");
        assert_eq!(
            normalise_recovery_code(&typed),
            normalise_recovery_code(&code)
        );
    }
}
