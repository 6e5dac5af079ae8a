//! The two signatures of the Pusher protocol: channel authorisations
//! (`<key>:<hex HMAC-SHA256(secret, socket_id:channel[:channel_data])>`)
//! and HTTP API requests (hex HMAC-SHA256 of method, path and the sorted
//! query). Comparisons are constant-time.

use hmac::{Hmac, Mac};
use md5::{Digest, Md5};
use sha2::Sha256;
use subtle::ConstantTimeEq;

fn hmac_hex(secret: &str, message: &str) -> String {
    // HMAC takes a key of any length; `new_from_slice` cannot fail for it.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(message.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// The signature part of a channel authorisation.
pub fn channel_signature(
    secret: &str,
    socket_id: &str,
    channel: &str,
    channel_data: Option<&str>,
) -> String {
    let mut message = format!("{socket_id}:{channel}");
    if let Some(data) = channel_data {
        message.push(':');
        message.push_str(data);
    }
    hmac_hex(secret, &message)
}

/// The `auth` value a client sends with `pusher:subscribe`.
pub fn channel_auth(
    key: &str,
    secret: &str,
    socket_id: &str,
    channel: &str,
    channel_data: Option<&str>,
) -> String {
    format!(
        "{key}:{}",
        channel_signature(secret, socket_id, channel, channel_data)
    )
}

/// Whether `auth` (`key:signature`) authorises `socket_id` on `channel`.
/// Only the signature is checked: it cannot be made without the secret.
pub fn verify_channel_auth(
    secret: &str,
    auth: &str,
    socket_id: &str,
    channel: &str,
    channel_data: Option<&str>,
) -> bool {
    let Some((_, given)) = auth.split_once(':') else {
        return false;
    };
    same(
        given,
        &channel_signature(secret, socket_id, channel, channel_data),
    )
}

/// Hex MD5 of a request body (the HTTP API's `body_md5`).
pub fn body_md5(body: &[u8]) -> String {
    hex::encode(Md5::digest(body))
}

/// What an HTTP API request signs: `METHOD\nPATH\n` and the query
/// parameters other than `auth_signature`, keys lower-cased, sorted by key,
/// joined as `k=v&...` without URL-encoding.
pub fn api_string_to_sign(method: &str, path: &str, params: &[(String, String)]) -> String {
    let mut pairs: Vec<(String, &str)> = params
        .iter()
        .map(|(k, v)| (k.to_lowercase(), v.as_str()))
        .filter(|(k, _)| k != "auth_signature")
        .collect();
    pairs.sort();
    let query = pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    format!("{}\n{path}\n{query}", method.to_uppercase())
}

pub fn api_signature(
    secret: &str,
    method: &str,
    path: &str,
    params: &[(String, String)],
) -> String {
    hmac_hex(secret, &api_string_to_sign(method, path, params))
}

pub fn verify_api_signature(
    secret: &str,
    method: &str,
    path: &str,
    params: &[(String, String)],
    given: &str,
) -> bool {
    same(
        &given.to_lowercase(),
        &api_signature(secret, method, path, params),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    // The credentials of the worked examples in Pusher's documentation
    // ("Generating authentication and authorization strings", and the
    // HTTP API reference).
    const KEY: &str = "278d425bdf160c739803";
    const SECRET: &str = "7ad3773142a6692b25b8";

    #[test]
    fn private_channel_example_from_the_pusher_docs() {
        let auth = channel_auth(KEY, SECRET, "1234.1234", "private-foobar", None);
        assert_eq!(
            auth,
            "278d425bdf160c739803:58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4"
        );
        assert!(verify_channel_auth(
            SECRET,
            &auth,
            "1234.1234",
            "private-foobar",
            None
        ));
        assert!(!verify_channel_auth(
            SECRET,
            &auth,
            "1234.1235",
            "private-foobar",
            None
        ));
        assert!(!verify_channel_auth(
            SECRET,
            &auth,
            "1234.1234",
            "private-foobaz",
            None
        ));
        assert!(!verify_channel_auth(
            "other",
            &auth,
            "1234.1234",
            "private-foobar",
            None
        ));
        assert!(!verify_channel_auth(
            SECRET,
            "no colon",
            "1234.1234",
            "private-foobar",
            None
        ));
    }

    #[test]
    fn presence_channel_example_from_the_pusher_docs() {
        let data = r#"{"user_id":10,"user_info":{"name":"Mr. Pusher"}}"#;
        let auth = channel_auth(KEY, SECRET, "1234.1234", "presence-foobar", Some(data));
        assert_eq!(
            auth,
            "278d425bdf160c739803:afaed3695da2ffd16931f457e338e6c9f2921fa133ce7dac49f529792be6304c"
        );
        assert!(verify_channel_auth(
            SECRET,
            &auth,
            "1234.1234",
            "presence-foobar",
            Some(data)
        ));
        // The member data is signed: another user id does not verify.
        let forged = r#"{"user_id":11,"user_info":{"name":"Mr. Pusher"}}"#;
        assert!(!verify_channel_auth(
            SECRET,
            &auth,
            "1234.1234",
            "presence-foobar",
            Some(forged)
        ));
        assert!(!verify_channel_auth(
            SECRET,
            &auth,
            "1234.1234",
            "presence-foobar",
            None
        ));
    }

    #[test]
    fn http_api_example_from_the_pusher_docs() {
        let body = r#"{"name":"foo","channels":["project-3"],"data":"{\"some\":\"data\"}"}"#;
        assert_eq!(
            body_md5(body.as_bytes()),
            "ec365a775a4cd0599faeb73354201b6f"
        );
        let params: Vec<(String, String)> = [
            ("auth_key", KEY),
            ("auth_timestamp", "1353088179"),
            ("auth_version", "1.0"),
            ("body_md5", "ec365a775a4cd0599faeb73354201b6f"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(
            api_string_to_sign("POST", "/apps/3/events", &params),
            "POST\n/apps/3/events\nauth_key=278d425bdf160c739803&auth_timestamp=1353088179&auth_version=1.0&body_md5=ec365a775a4cd0599faeb73354201b6f"
        );
        let expected = "da454824c97ba181a32ccc17a72625ba02771f50b50e1e7430e47a1f3f457e6c";
        assert_eq!(
            api_signature(SECRET, "POST", "/apps/3/events", &params),
            expected
        );
        // Order of the query and a given auth_signature do not matter.
        let mut shuffled = params.clone();
        shuffled.reverse();
        shuffled.push(("auth_signature".into(), expected.into()));
        assert!(verify_api_signature(
            SECRET,
            "POST",
            "/apps/3/events",
            &shuffled,
            expected
        ));
        assert!(!verify_api_signature(
            SECRET,
            "POST",
            "/apps/4/events",
            &shuffled,
            expected
        ));
        assert!(!verify_api_signature(
            SECRET,
            "POST",
            "/apps/3/events",
            &shuffled,
            "00"
        ));
    }
}
