//! The webhook signature over the raw body, and the GET handshake.

use std::collections::HashMap;

use crate::webhook::{sign, verify_challenge, verify_signature};

const SECRET: &str = "app-secret";

#[test]
fn a_good_signature_over_the_raw_bytes_verifies() {
    let body = br#"{"object":"whatsapp_business_account","entry":[]}"#;
    let header = sign(SECRET, body);
    assert!(header.starts_with("sha256="));
    assert!(verify_signature(SECRET, body, Some(&header)));
    // Upper-case hex is the same signature.
    let upper = format!("sha256={}", header["sha256=".len()..].to_uppercase());
    assert!(verify_signature(SECRET, body, Some(&upper)));
}

#[test]
fn bad_missing_or_altered_signatures_fail() {
    let body = br#"{"object":"whatsapp_business_account","entry":[]}"#;
    let header = sign(SECRET, body);
    assert!(!verify_signature(SECRET, body, None));
    assert!(!verify_signature(SECRET, body, Some("")));
    assert!(!verify_signature("another-secret", body, Some(&header)));
    assert!(!verify_signature(
        SECRET,
        body,
        Some(&header["sha256=".len()..])
    ));
    assert!(!verify_signature(SECRET, body, Some("sha256=zz")));
    assert!(!verify_signature("", body, Some(&sign("", body))));
    // One byte changed (re-serialized JSON is a different body too).
    let altered = br#"{"object":"whatsapp_business_account","entry":[ ]}"#;
    assert!(!verify_signature(SECRET, altered, Some(&header)));
}

#[test]
fn the_handshake_answers_the_challenge_only_for_our_token() {
    let q = |mode: &str, token: &str| -> HashMap<String, String> {
        [
            ("hub.mode", mode),
            ("hub.verify_token", token),
            ("hub.challenge", "1158201444"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    };
    assert_eq!(
        verify_challenge(&q("subscribe", "tok"), "tok").as_deref(),
        Some("1158201444")
    );
    assert_eq!(verify_challenge(&q("subscribe", "wrong"), "tok"), None);
    assert_eq!(verify_challenge(&q("unsubscribe", "tok"), "tok"), None);
    assert_eq!(verify_challenge(&HashMap::new(), "tok"), None);
    assert_eq!(verify_challenge(&q("subscribe", ""), ""), None);
}
