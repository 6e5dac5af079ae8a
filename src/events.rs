//! The events Blazz tells the outside world about, named in one place.
//!
//! The outbox records internal event kinds (`message.received`,
//! `account.status_changed`, ...). This module maps them to the public
//! names that realtime clients and webhook endpoints see, and to the
//! realtime channels they are broadcast on. Payloads are the API's shapes
//! (a message as `GET /api/v1/messages/{id}` shows it, and so on).

use blazz_bus::Event;
use serde_json::{json, Value};

/// Every public event name, for documentation and webhook subscriptions.
pub const NAMES: &[(&str, &str)] = &[
    ("message.created", "a message arrived from a contact, or one was accepted for sending; data: the message, plus `contact` for inbound ones"),
    ("message.updated", "a message's status moved (sent, delivered, read, failed); data: the message"),
    ("chat.updated", "a chat's status, assignee, labels or unread count changed; data: the chat"),
    ("chat.note_added", "an internal note was added to a chat; data: the note"),
    ("contact.updated", "a contact was created, changed or deleted; data: `{id, action, phone, name, tags, opted_out}` with `action` one of created, updated, deleted"),
    ("typing", "a contact started or stopped typing; data: `{account_id, from, typing}`"),
    ("presence", "a contact came online or went offline; data: `{account_id, from, available}`"),
    ("account.qr", "a new QR code or pair code to link a number; data: `{account_id, code, expires_at}` (and `pair_code: true` for pair codes)"),
    ("account.status", "a linked number's session state changed; data: `{account_id, provider, status, reason}`"),
    ("campaign.progress", "a campaign's counters moved; data: the campaign's counters"),
    ("account.alert", "Meta restricted a Cloud API number (131048, 368, 131031) and its sending is paused; data: `{account_id, provider, alert, code, reason}`"),
    ("template.status", "Meta approved, rejected, paused... a message template; data: `{id, account_id, name, language, status, reason}`"),
];

/// An event as the outside world sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Public {
    /// One of `NAMES`.
    pub name: &'static str,
    pub workspace_id: String,
    /// Realtime channels to broadcast on (all private to the workspace).
    pub channels: Vec<String>,
    pub data: Value,
    /// The outbox sequence number (an id that is the same every time the
    /// event is delivered).
    pub seq: i64,
    /// Unix milliseconds when the event happened.
    pub created_at: i64,
}

pub fn workspace_channel(ws: &str) -> String {
    format!("private-workspace.{ws}")
}

pub fn chat_channel(chat: &str) -> String {
    format!("private-chat.{chat}")
}

pub fn account_channel(account: &str) -> String {
    format!("private-account.{account}")
}

pub fn campaign_channel(campaign: &str) -> String {
    format!("private-campaign.{campaign}")
}

pub fn presence_channel(ws: &str) -> String {
    format!("presence-workspace.{ws}")
}

/// The public form of a committed event, or `None` for events that stay
/// internal (audit-only changes such as tokens and invitations).
pub fn public(e: &Event) -> Option<Public> {
    let ws = e.workspace_id.clone()?;
    let p = &e.payload;
    let s = |v: &Value| v.as_str().map(str::to_string);
    let chat = s(&p["chat_id"]);
    let account = s(&p["account_id"]);
    let mut channels = vec![workspace_channel(&ws)];
    let (name, data) = match e.kind.as_str() {
        "message.received" | "message.created" => {
            channels.extend(chat.as_deref().map(chat_channel));
            ("message.created", p.clone())
        }
        "message.status_changed" => {
            channels.extend(chat.as_deref().map(chat_channel));
            ("message.updated", p.clone())
        }
        "chat.updated" => {
            channels.extend(s(&p["id"]).as_deref().map(chat_channel));
            ("chat.updated", p.clone())
        }
        "chat.note_added" => {
            channels.extend(chat.as_deref().map(chat_channel));
            ("chat.note_added", p.clone())
        }
        "contact.created" | "contact.updated" | "contact.deleted" => {
            let mut data = p.clone();
            data["id"] = p["contact_id"].clone();
            data["action"] = json!(e.kind.trim_start_matches("contact."));
            ("contact.updated", data)
        }
        "account.typing" => {
            channels.extend(account.as_deref().map(account_channel));
            ("typing", p.clone())
        }
        "account.presence" => {
            channels.extend(account.as_deref().map(account_channel));
            ("presence", p.clone())
        }
        "account.qr_updated" | "account.pair_code" => {
            // Link codes go to the number's channel only.
            channels = account
                .as_deref()
                .map(account_channel)
                .into_iter()
                .collect();
            let mut data = p.clone();
            if e.kind == "account.pair_code" {
                data["pair_code"] = json!(true);
            }
            ("account.qr", data)
        }
        "account.status_changed" => {
            channels.extend(account.as_deref().map(account_channel));
            ("account.status", p.clone())
        }
        "campaign.progress" => {
            channels.extend(s(&p["campaign_id"]).as_deref().map(campaign_channel));
            ("campaign.progress", p.clone())
        }
        "account.sending_paused" => {
            channels.extend(account.as_deref().map(account_channel));
            ("account.alert", p.clone())
        }
        "template.status_changed" => ("template.status", p.clone()),
        _ => return None,
    };
    Some(Public {
        name,
        workspace_id: ws,
        channels,
        data,
        seq: e.seq,
        created_at: e.created_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: &str, payload: Value) -> Event {
        Event {
            seq: 7,
            workspace_id: Some("w1".into()),
            kind: kind.into(),
            payload,
            created_at: 1,
        }
    }

    #[test]
    fn messages_go_to_their_workspace_and_chat() {
        let p = public(&event(
            "message.received",
            json!({"id": "m1", "chat_id": "c1"}),
        ))
        .unwrap();
        assert_eq!(p.name, "message.created");
        assert_eq!(p.channels, ["private-workspace.w1", "private-chat.c1"]);
        let p = public(&event("message.status_changed", json!({"chat_id": "c1"}))).unwrap();
        assert_eq!(p.name, "message.updated");
    }

    #[test]
    fn link_codes_stay_on_the_number_s_channel() {
        let p = public(&event(
            "account.qr_updated",
            json!({"account_id": "a1", "code": "2@x"}),
        ))
        .unwrap();
        assert_eq!(p.name, "account.qr");
        assert_eq!(p.channels, ["private-account.a1"]);
    }

    #[test]
    fn contact_events_name_the_contact_and_what_happened() {
        let p = public(&event(
            "contact.deleted",
            json!({"contact_id": "k1", "phone": "+14155552671"}),
        ))
        .unwrap();
        assert_eq!(p.name, "contact.updated");
        assert_eq!(p.data["id"], "k1");
        assert_eq!(p.data["action"], "deleted");
    }

    #[test]
    fn internal_events_stay_internal() {
        assert!(public(&event("token.created", json!({}))).is_none());
        let mut no_ws = event("message.created", json!({}));
        no_ws.workspace_id = None;
        assert!(public(&no_ws).is_none());
    }

    #[test]
    fn every_mapped_name_is_documented() {
        for kind in [
            "message.received",
            "message.status_changed",
            "chat.updated",
            "chat.note_added",
            "contact.updated",
            "account.typing",
            "account.presence",
            "account.qr_updated",
            "account.status_changed",
            "campaign.progress",
            "account.sending_paused",
            "template.status_changed",
        ] {
            let p = public(&event(kind, json!({}))).unwrap();
            assert!(NAMES.iter().any(|(n, _)| *n == p.name), "{kind}");
        }
    }
}
