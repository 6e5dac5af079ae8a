//! Meta's error codes, one by one, to the action Blazz takes and the
//! provider error the engine sees.

use blazz_provider::ProviderError;

use crate::error::{code_of, CloudError, ErrorAction, GraphError};

fn action(code: i64) -> ErrorAction {
    ErrorAction::for_code(code, Some(400), false)
}

#[test]
fn auth_errors_need_new_credentials_and_are_not_retried() {
    for code in [0, 190] {
        assert_eq!(action(code), ErrorAction::Reauthenticate, "code {code}");
        assert!(!action(code).is_retryable());
    }
}

#[test]
fn throughput_and_rate_limits_back_off() {
    for code in [130429, 80007, 4] {
        assert_eq!(action(code), ErrorAction::BackOff, "code {code}");
        assert!(action(code).is_retryable());
    }
}

#[test]
fn the_pair_rate_limit_retries_only_that_recipient_later() {
    assert_eq!(action(131056), ErrorAction::RetryRecipientLater);
    assert!(action(131056).is_retryable());
}

#[test]
fn outside_the_window_asks_for_a_template() {
    assert_eq!(action(131047), ErrorAction::OutsideWindow);
    let e = GraphError::from_body(
        400,
        br#"{"error":{"message":"(#131047) Re-engagement message","type":"OAuthException",
            "code":131047,"error_data":{"messaging_product":"whatsapp",
            "details":"Message failed to send because more than 24 hours have passed since the customer last replied to this number."},
            "fbtrace_id":"AbC"}}"#,
    )
    .unwrap();
    match e.to_provider_error() {
        ProviderError::Permanent(m) => {
            assert!(
                m.starts_with("outside the 24-hour window; send a template"),
                "{m}"
            );
            // Meta's own words are kept, and said to be Meta's.
            assert!(m.contains("[Meta error 131047: (#131047) Re-engagement message: Message failed to send because more than 24 hours"), "{m}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn undeliverable_unsupported_restricted_and_template_errors_are_permanent() {
    let mut codes = vec![131026, 131051, 130497];
    codes.extend(132000..=132016);
    for code in codes {
        assert_eq!(action(code), ErrorAction::Permanent, "code {code}");
        assert!(!action(code).is_retryable());
    }
}

#[test]
fn a_marketing_opt_out_is_recorded_as_such() {
    assert_eq!(action(131050), ErrorAction::OptedOut);
}

#[test]
fn quality_and_policy_blocks_pause_the_number() {
    for code in [131048, 368, 131031] {
        assert_eq!(action(code), ErrorAction::PauseNumber, "code {code}");
        assert!(!action(code).is_retryable());
    }
}

#[test]
fn meta_side_failures_are_retried_with_backoff() {
    for code in [131000, 131016, 1, 2, 133004, 131057] {
        assert_eq!(action(code), ErrorAction::Retry, "code {code}");
    }
}

#[test]
fn undocumented_codes_follow_the_http_status_and_is_transient() {
    assert_eq!(
        ErrorAction::for_code(999_999, Some(400), false),
        ErrorAction::Permanent
    );
    assert_eq!(
        ErrorAction::for_code(999_999, Some(503), false),
        ErrorAction::Retry
    );
    assert_eq!(
        ErrorAction::for_code(999_999, Some(400), true),
        ErrorAction::Retry
    );
    // A documented code wins over the status.
    assert_eq!(
        ErrorAction::for_code(131026, Some(500), true),
        ErrorAction::Permanent
    );
}

#[test]
fn provider_errors_carry_the_code_back() {
    let cases = [
        (190, "logged"),
        (130429, "transient"),
        (131056, "transient"),
        (131000, "transient"),
        (131047, "permanent"),
        (131050, "permanent"),
        (131048, "permanent"),
        (131026, "permanent"),
    ];
    for (code, kind) in cases {
        let e = GraphError {
            status: Some(400),
            code,
            subcode: None,
            kind: None,
            message: format!("(#{code}) something"),
            details: None,
            error_user_title: None,
            error_user_msg: None,
            fbtrace_id: None,
            is_transient: false,
        };
        let p = ProviderError::from(CloudError::Graph(Box::new(e)));
        let got = match &p {
            ProviderError::LoggedOut(_) => "logged",
            ProviderError::Transient(_) => "transient",
            ProviderError::Permanent(_) => "permanent",
            _ => "other",
        };
        assert_eq!(got, kind, "code {code}");
        assert_eq!(code_of(&p), Some(code), "{p}");
    }
    assert_eq!(code_of(&ProviderError::Transient("timeout".into())), None);
}

#[test]
fn the_error_body_is_read_field_by_field() {
    let e = GraphError::from_body(
        429,
        br#"{"error":{"message":"(#130429) Rate limit hit","type":"OAuthException","code":130429,
            "error_data":{"messaging_product":"whatsapp","details":"Message failed to send because there were too many messages sent from this phone number in a short period of time"},
            "error_subcode":2494055,"error_user_msg":"Slow down","fbtrace_id":"Az8or2yhqkZfEZ-_4Qn_Bam"}}"#,
    )
    .unwrap();
    assert_eq!(e.status, Some(429));
    assert_eq!(e.code, 130429);
    assert_eq!(e.subcode, Some(2494055));
    assert_eq!(e.kind.as_deref(), Some("OAuthException"));
    assert_eq!(e.message, "(#130429) Rate limit hit");
    assert!(e
        .details
        .as_deref()
        .unwrap()
        .starts_with("Message failed to send"));
    assert_eq!(e.error_user_msg.as_deref(), Some("Slow down"));
    assert_eq!(e.fbtrace_id.as_deref(), Some("Az8or2yhqkZfEZ-_4Qn_Bam"));
    assert_eq!(e.action(), ErrorAction::BackOff);
    assert!(GraphError::from_body(502, b"<html>Bad gateway</html>").is_none());
}

#[test]
fn network_failures_are_transient_and_invalid_requests_permanent() {
    assert!(matches!(
        ProviderError::from(CloudError::Network("refused".into())),
        ProviderError::Transient(_)
    ));
    assert!(matches!(
        ProviderError::from(CloudError::Invalid("no buttons".into())),
        ProviderError::Permanent(_)
    ));
}
