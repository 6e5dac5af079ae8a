//! What a campaign is made of, as clients write it: the message, the
//! audience, the numbers with their weights, when to start, and how to
//! send (cooldown, sending window, pacing, typing). Validated here, stored
//! as JSON on the campaign row.

use std::collections::BTreeMap;

use blazz_domain::{AccountId, ContactId};
use chrono::{NaiveTime, Timelike};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::inbox::body::Body;

/// Who receives the campaign: everyone, contacts with any of `tags`,
/// these contacts, or these phone numbers (contacts are created for the
/// ones not known yet). Opted-out contacts are never sent to.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Audience {
    #[serde(default)]
    pub all: bool,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    pub contact_ids: Vec<ContactId>,
    /// E.164, or national with the workspace's default country.
    #[serde(default)]
    pub phones: Vec<String>,
}

/// A number the campaign sends from, and its share of the sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct NumberShare {
    #[schema(value_type = String)]
    pub account_id: AccountId,
    /// Relative share (1 to 100); default 1.
    #[serde(default = "one")]
    pub weight: u32,
}

fn one() -> u32 {
    1
}

/// How fast each number sends.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PacingMode {
    /// 20 a minute, 500 an hour, 5,000 a day per number, less while a
    /// number is new (warm-up), 3–9 s apart at random.
    #[default]
    Default,
    /// No limits: only for numbers that may send that fast (benchmarks,
    /// the sandbox). WhatsApp bans web numbers that do.
    Off,
}

/// Only send between `start` and `end` ("09:00", "20:00"), in the
/// recipient's time zone (their contact field `time_zone`, else the
/// campaign's). An `end` before `start` spans midnight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Window {
    pub start: String,
    pub end: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Settings {
    /// Skip contacts another campaign messaged in the last N hours (0: no
    /// cooldown). Default 24.
    #[serde(default = "day")]
    pub cooldown_hours: u32,
    #[serde(default)]
    pub pacing: PacingMode,
    #[serde(default)]
    pub window: Option<Window>,
    /// IANA time zone of the window and of `start_at` given without an
    /// offset (default UTC).
    #[serde(default)]
    pub time_zone: Option<String>,
    /// Show "typing…" before each message, for a time that follows its
    /// length (default true).
    #[serde(default = "yes")]
    pub typing: bool,
}

fn day() -> u32 {
    24
}

fn yes() -> bool {
    true
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            cooldown_hours: day(),
            pacing: PacingMode::Default,
            window: None,
            time_zone: None,
            typing: true,
        }
    }
}

/// A campaign as created or changed through the API.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct CampaignInput {
    pub name: String,
    /// The message. Text, captions and local templates take variables:
    /// `{{contact.name|there}}`, `{{contact.phone}}`, `{{contact.fields.city}}`.
    #[serde(default)]
    pub message: Option<Body>,
    /// Shorthand for `{"type": "text", "text": ...}`.
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub audience: Audience,
    #[serde(default)]
    pub numbers: Vec<NumberShare>,
    /// Shorthand for `numbers` with a weight of 1 each.
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    pub account_ids: Vec<AccountId>,
    /// When to start once started (RFC 3339); now when absent or past.
    #[serde(default, alias = "schedule_at")]
    pub start_at: Option<String>,
    #[serde(default)]
    pub settings: Settings,
    /// Values for the template's own variables (`{{offer}}`).
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
}

const MAX_NUMBERS: usize = 50;
const MAX_LISTED: usize = 100_000;

impl CampaignInput {
    /// The message this input asks for.
    pub fn body(&self) -> Result<Body, ApiError> {
        let body = match (&self.message, &self.text) {
            (Some(b), None) => b.clone(),
            (None, Some(t)) => Body::Text { text: t.clone() },
            _ => {
                return Err(ApiError::invalid(
                    "invalid_body",
                    "give either message or text",
                ))
            }
        };
        match &body {
            Body::Text { .. }
            | Body::Image { .. }
            | Body::Video { .. }
            | Body::Document { .. }
            | Body::Audio { .. }
            | Body::Template { .. } => {}
            other => {
                return Err(ApiError::invalid(
                    "invalid_body",
                    format!("a campaign cannot send a {} message", other.kind()),
                ))
            }
        }
        if !matches!(body, Body::Template { .. }) {
            body.validate()?;
        }
        Ok(body)
    }

    /// The numbers and weights, one entry per number.
    pub fn shares(&self) -> Result<Vec<(AccountId, u32)>, ApiError> {
        let mut out: Vec<(AccountId, u32)> = self
            .numbers
            .iter()
            .map(|n| (n.account_id, n.weight))
            .chain(self.account_ids.iter().map(|a| (*a, 1)))
            .collect();
        out.sort_by_key(|(a, _)| a.to_string());
        out.dedup_by_key(|(a, _)| *a);
        if out.is_empty() || out.len() > MAX_NUMBERS {
            return Err(ApiError::invalid(
                "invalid_numbers",
                format!("a campaign sends from 1 to {MAX_NUMBERS} numbers"),
            ));
        }
        if out.iter().any(|(_, w)| !(1..=100).contains(w)) {
            return Err(ApiError::invalid(
                "invalid_numbers",
                "a number's weight is 1 to 100",
            ));
        }
        Ok(out)
    }

    pub fn check_audience(&self) -> Result<(), ApiError> {
        let a = &self.audience;
        if !a.all && a.tags.is_empty() && a.contact_ids.is_empty() && a.phones.is_empty() {
            return Err(ApiError::invalid(
                "invalid_audience",
                "choose the audience: all, tags, contact_ids or phones",
            ));
        }
        if a.contact_ids.len() + a.phones.len() > MAX_LISTED || a.tags.len() > 100 {
            return Err(ApiError::invalid(
                "invalid_audience",
                format!("list at most {MAX_LISTED} contacts or phones and 100 tags"),
            ));
        }
        Ok(())
    }

    /// `start_at` in ms since the epoch.
    pub fn start_at_ms(&self) -> Result<Option<i64>, ApiError> {
        let Some(raw) = self.start_at.as_deref().filter(|s| !s.trim().is_empty()) else {
            return Ok(None);
        };
        if let Ok(t) = chrono::DateTime::parse_from_rfc3339(raw.trim()) {
            return Ok(Some(t.timestamp_millis()));
        }
        let local = chrono::NaiveDateTime::parse_from_str(raw.trim(), "%Y-%m-%dT%H:%M")
            .or_else(|_| chrono::NaiveDateTime::parse_from_str(raw.trim(), "%Y-%m-%dT%H:%M:%S"))
            .map_err(|_| {
                ApiError::invalid(
                    "invalid_start_at",
                    "start_at is an RFC 3339 time, e.g. 2026-12-01T09:00:00+07:00",
                )
            })?;
        let tz = time_zone(self.settings.time_zone.as_deref())?;
        local
            .and_local_timezone(tz)
            .earliest()
            .map(|t| Some(t.timestamp_millis()))
            .ok_or_else(|| ApiError::invalid("invalid_start_at", "that time does not exist there"))
    }
}

impl Settings {
    pub fn check(&self) -> Result<(), ApiError> {
        time_zone(self.time_zone.as_deref())?;
        if let Some(w) = &self.window {
            let (a, b) = (parse_hhmm(&w.start)?, parse_hhmm(&w.end)?);
            if a == b {
                return Err(ApiError::invalid(
                    "invalid_window",
                    "the sending window's start and end must differ",
                ));
            }
        }
        if self.cooldown_hours > 24 * 90 {
            return Err(ApiError::invalid(
                "invalid_settings",
                "cooldown_hours is at most 2160 (90 days)",
            ));
        }
        Ok(())
    }
}

/// An IANA time zone; UTC when none is given.
pub fn time_zone(name: Option<&str>) -> Result<chrono_tz::Tz, ApiError> {
    match name.map(str::trim).filter(|n| !n.is_empty()) {
        None => Ok(chrono_tz::UTC),
        Some(n) => n.parse().map_err(|_| {
            ApiError::invalid(
                "invalid_time_zone",
                format!("{n:?} is not a time zone name such as Asia/Jakarta"),
            )
        }),
    }
}

/// Minutes after midnight of "HH:MM".
pub fn parse_hhmm(s: &str) -> Result<u32, ApiError> {
    NaiveTime::parse_from_str(s.trim(), "%H:%M")
        .map(|t| t.hour() * 60 + t.minute())
        .map_err(|_| {
            ApiError::invalid(
                "invalid_window",
                format!("{s:?} is not a time of day such as 09:00"),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(json: serde_json::Value) -> CampaignInput {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn shorthand_and_full_forms_agree() {
        let a = input(
            serde_json::json!({"name": "x", "text": "Hi {{contact.name}}",
            "account_ids": ["0190a7c0-0000-7000-8000-000000000001"], "audience": {"all": true}}),
        );
        assert_eq!(
            a.body().unwrap(),
            Body::Text {
                text: "Hi {{contact.name}}".into()
            }
        );
        assert_eq!(a.shares().unwrap().len(), 1);
        let both = input(serde_json::json!({"name": "x", "text": "a",
            "message": {"type": "text", "text": "b"}}));
        assert!(both.body().is_err());
    }

    #[test]
    fn bad_settings_are_refused_with_their_codes() {
        let s = |j| serde_json::from_value::<Settings>(j).unwrap().check();
        assert!(s(serde_json::json!({"time_zone": "Asia/Jakarta"})).is_ok());
        let code = |r: Result<(), ApiError>| r.unwrap_err().code();
        assert_eq!(
            code(s(serde_json::json!({"time_zone": "Mars/Base"}))),
            "invalid_time_zone"
        );
        assert_eq!(
            code(s(
                serde_json::json!({"window": {"start": "9am", "end": "20:00"}})
            )),
            "invalid_window"
        );
        assert_eq!(
            code(s(
                serde_json::json!({"window": {"start": "09:00", "end": "09:00"}})
            )),
            "invalid_window"
        );
    }

    #[test]
    fn a_local_start_time_is_read_in_the_campaign_s_time_zone() {
        let a = input(
            serde_json::json!({"name": "x", "start_at": "2026-12-01T09:00",
            "settings": {"time_zone": "Asia/Jakarta"}}),
        );
        let utc = input(serde_json::json!({"name": "x", "start_at": "2026-12-01T02:00:00Z"}));
        assert_eq!(a.start_at_ms().unwrap(), utc.start_at_ms().unwrap());
        let bad = input(serde_json::json!({"name": "x", "start_at": "tomorrow"}));
        assert_eq!(bad.start_at_ms().unwrap_err().code(), "invalid_start_at");
    }

    #[test]
    fn weights_and_number_counts_are_bounded() {
        let a = input(serde_json::json!({"name": "x", "numbers": [
            {"account_id": "0190a7c0-0000-7000-8000-000000000001", "weight": 0}]}));
        assert_eq!(a.shares().unwrap_err().code(), "invalid_numbers");
        let none = input(serde_json::json!({"name": "x"}));
        assert_eq!(none.shares().unwrap_err().code(), "invalid_numbers");
        assert_eq!(
            none.check_audience().unwrap_err().code(),
            "invalid_audience"
        );
    }
}
