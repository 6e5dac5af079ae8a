//! Pusher Channels protocol 7 frames: one JSON object `{event, channel?,
//! data?}` per text frame. Server frames carry `data` as a JSON-encoded
//! string, as the protocol does; client frames may send it either way.

use serde::Serialize;
use serde_json::Value;

/// The `code` of a `pusher:error`, also the WebSocket close code when the
/// server ends the connection. pusher-js reads the range: 4000-4099 do not
/// reconnect, 4100-4199 reconnect with backoff, 4200-4299 reconnect at once.
pub mod code {
    /// The app key names no app.
    pub const APP_NOT_FOUND: u16 = 4001;
    /// `protocol` is not a number.
    pub const INVALID_VERSION: u16 = 4006;
    /// A protocol version this server does not speak.
    pub const UNSUPPORTED_PROTOCOL: u16 = 4007;
    /// No `protocol` query parameter.
    pub const NO_PROTOCOL: u16 = 4008;
    /// A subscription whose signature does not verify, or a channel the
    /// connection may not use.
    pub const UNAUTHORIZED: u16 = 4009;
    /// Too many connections, or a client too slow to keep up.
    pub const OVER_CAPACITY: u16 = 4100;
    /// Reconnect now (server shutting down, credentials rotated, a
    /// malformed frame).
    pub const RECONNECT: u16 = 4200;
    /// No answer to the server's ping.
    pub const PONG_TIMEOUT: u16 = 4201;
    /// A client event refused (not allowed, too large or too many).
    pub const CLIENT_EVENT_REJECTED: u16 = 4301;
}

/// The protocol versions served (pusher-js sends 7).
pub const PROTOCOLS: std::ops::RangeInclusive<u32> = 5..=7;

#[derive(Serialize)]
struct Out<'a> {
    event: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    channel: Option<&'a str>,
    data: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_id: Option<&'a str>,
}

/// A server frame; `data` is the JSON text of the payload (sent as a string).
pub fn frame(event: &str, channel: Option<&str>, data: &str) -> String {
    frame_from(event, channel, data, None)
}

/// A client event relayed from a presence member: `user_id` names the sender.
pub fn frame_from(event: &str, channel: Option<&str>, data: &str, user_id: Option<&str>) -> String {
    let out = Out {
        event,
        channel,
        data,
        user_id,
    };
    // Serialising borrowed strings cannot fail.
    serde_json::to_string(&out).unwrap_or_default()
}

pub fn connection_established(socket_id: &str, activity_timeout_secs: u64) -> String {
    let data =
        serde_json::json!({"socket_id": socket_id, "activity_timeout": activity_timeout_secs});
    frame("pusher:connection_established", None, &data.to_string())
}

pub fn error(code: u16, message: &str, channel: Option<&str>) -> String {
    let data = serde_json::json!({"code": code, "message": message});
    frame("pusher:error", channel, &data.to_string())
}

pub fn ping() -> String {
    frame("pusher:ping", None, "{}")
}

pub fn pong() -> String {
    frame("pusher:pong", None, "{}")
}

/// What a client asked for.
#[derive(Debug, Clone, PartialEq)]
pub enum Inbound {
    Ping,
    Pong,
    Subscribe {
        channel: String,
        auth: Option<String>,
        /// Presence: the JSON text the signature covers.
        channel_data: Option<String>,
    },
    Unsubscribe {
        channel: String,
    },
    /// `pusher:signin` (user authentication), which Blazz does not offer.
    Signin,
    /// A `client-*` event to relay (`data` as the client sent it).
    ClientEvent {
        event: String,
        channel: String,
        data: Value,
    },
    /// Another `pusher:*` event: ignored, as Pusher ignores them.
    Ignored,
}

/// Reads one text frame. The error is the message of the `pusher:error`
/// (code 4200) that answers it; a bad frame never ends the connection.
pub fn parse(text: &str) -> Result<Inbound, String> {
    let v: Value = serde_json::from_str(text).map_err(|_| "Invalid message format: not JSON")?;
    let event = v["event"]
        .as_str()
        .ok_or("Invalid message format: no event")?;
    // The protocol lets `data` be an object or the JSON text of one.
    let data = match &v["data"] {
        Value::String(s) => serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.clone())),
        other => other.clone(),
    };
    let text_field = |field: &str| -> Option<String> {
        match &data[field] {
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            other => Some(other.to_string()),
        }
    };
    match event {
        "pusher:ping" => Ok(Inbound::Ping),
        "pusher:pong" => Ok(Inbound::Pong),
        "pusher:subscribe" => Ok(Inbound::Subscribe {
            channel: data["channel"]
                .as_str()
                .ok_or("pusher:subscribe needs data.channel")?
                .to_string(),
            auth: text_field("auth"),
            channel_data: text_field("channel_data"),
        }),
        "pusher:unsubscribe" => Ok(Inbound::Unsubscribe {
            channel: data["channel"]
                .as_str()
                .ok_or("pusher:unsubscribe needs data.channel")?
                .to_string(),
        }),
        "pusher:signin" => Ok(Inbound::Signin),
        e if e.starts_with("pusher:") || e.starts_with("pusher_internal:") => Ok(Inbound::Ignored),
        e => Ok(Inbound::ClientEvent {
            event: e.to_string(),
            channel: v["channel"]
                .as_str()
                .ok_or("a client event needs a channel")?
                .to_string(),
            // Relayed as sent: the raw `data`, not the decoded one.
            data: v["data"].clone(),
        }),
    }
}

/// A presence member as `channel_data` describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub user_id: String,
    pub user_info: Value,
}

/// Reads presence `channel_data` (`{"user_id": ..., "user_info": {...}}`);
/// a numeric `user_id` is kept as its decimal text, as Pusher does.
pub fn member(channel_data: &str) -> Option<Member> {
    let v: Value = serde_json::from_str(channel_data).ok()?;
    let user_id = match &v["user_id"] {
        Value::String(s) if !s.is_empty() => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    Some(Member {
        user_id,
        user_info: v.get("user_info").cloned().unwrap_or(Value::Null),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn decode(frame: &str) -> (Value, Value) {
        let v: Value = serde_json::from_str(frame).unwrap();
        let data = serde_json::from_str(v["data"].as_str().unwrap()).unwrap();
        (v, data)
    }

    #[test]
    fn server_frames_carry_data_as_a_json_string() {
        let (v, data) = decode(&connection_established("123.456", 120));
        assert_eq!(v["event"], "pusher:connection_established");
        assert!(v.get("channel").is_none());
        assert_eq!(
            data,
            json!({"socket_id": "123.456", "activity_timeout": 120})
        );
        let (v, data) = decode(&error(4009, "no", Some("private-x")));
        assert_eq!(v["channel"], "private-x");
        assert_eq!(data, json!({"code": 4009, "message": "no"}));
        let (v, data) = decode(&frame(
            "message.created",
            Some("private-a"),
            r#"{"id":"m1"}"#,
        ));
        assert_eq!(v["channel"], "private-a");
        assert_eq!(data["id"], "m1");
        assert_eq!(decode(&ping()).1, json!({}));
    }

    #[test]
    fn subscribe_reads_data_as_object_or_as_json_text() {
        let as_object =
            r#"{"event":"pusher:subscribe","data":{"channel":"private-a","auth":"k:s"}}"#;
        let as_text =
            r#"{"event":"pusher:subscribe","data":"{\"channel\":\"private-a\",\"auth\":\"k:s\"}"}"#;
        for text in [as_object, as_text] {
            assert_eq!(
                parse(text).unwrap(),
                Inbound::Subscribe {
                    channel: "private-a".into(),
                    auth: Some("k:s".into()),
                    channel_data: None
                }
            );
        }
        let presence = r#"{"event":"pusher:subscribe","data":{"channel":"presence-a","auth":"k:s","channel_data":"{\"user_id\":10}"}}"#;
        match parse(presence).unwrap() {
            Inbound::Subscribe { channel_data, .. } => {
                assert_eq!(channel_data.as_deref(), Some(r#"{"user_id":10}"#))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn fuzzy_input_is_an_error_not_a_panic() {
        for text in [
            "",
            "nope",
            "[]",
            "42",
            "{}",
            r#"{"event":5}"#,
            r#"{"event":"pusher:subscribe"}"#,
            r#"{"event":"pusher:subscribe","data":"not json"}"#,
            r#"{"event":"pusher:subscribe","data":{"channel":7}}"#,
            r#"{"event":"pusher:unsubscribe","data":null}"#,
            r#"{"event":"client-x"}"#,
        ] {
            assert!(parse(text).is_err(), "{text}");
        }
        assert_eq!(
            parse(r#"{"event":"pusher:whatever"}"#).unwrap(),
            Inbound::Ignored
        );
        assert_eq!(
            parse(r#"{"event":"pusher:ping","data":{}}"#).unwrap(),
            Inbound::Ping
        );
    }

    #[test]
    fn client_events_keep_their_data_as_sent() {
        let e = parse(r#"{"event":"client-typing","channel":"private-a","data":{"on":true}}"#);
        assert_eq!(
            e.unwrap(),
            Inbound::ClientEvent {
                event: "client-typing".into(),
                channel: "private-a".into(),
                data: json!({"on": true})
            }
        );
    }

    #[test]
    fn presence_members_take_string_or_numeric_ids() {
        let m = member(r#"{"user_id":10,"user_info":{"name":"Mr. Pusher"}}"#).unwrap();
        assert_eq!(m.user_id, "10");
        assert_eq!(m.user_info, json!({"name": "Mr. Pusher"}));
        assert_eq!(
            member(r#"{"user_id":"u1"}"#).unwrap().user_info,
            Value::Null
        );
        assert!(member(r#"{"user_id":""}"#).is_none());
        assert!(member(r#"{"user_info":{}}"#).is_none());
        assert!(member("nope").is_none());
    }

    #[test]
    fn presence_client_events_name_their_sender() {
        let v: Value = serde_json::from_str(&frame_from(
            "client-x",
            Some("presence-a"),
            "{}",
            Some("u1"),
        ))
        .unwrap();
        assert_eq!(v["user_id"], "u1");
    }
}
