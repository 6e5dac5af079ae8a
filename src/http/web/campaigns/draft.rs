//! The draft form's values as the member entered them: read from the
//! posted form (urlencoded, or multipart with a CSV of phone numbers),
//! from a stored campaign (to edit it), and turned into the API's
//! `CampaignInput` (the service validates it).

use std::collections::{BTreeMap, HashMap};

use axum::extract::{FromRequest, Multipart, Request};
use axum::http::header;
use axum::Form;
use blazz_domain::AccountId;

use super::phones::phones_of_csv;
use super::MAX_FILE;
use crate::campaigns::service::Full;
use crate::campaigns::spec::{self, Audience, CampaignInput, NumberShare, PacingMode, Settings};
use crate::error::ApiError;
use crate::inbox::body::Body;
use crate::state::AppState;

/// Every field of the form, as text (kept as typed when it is refused).
#[derive(Debug, Clone)]
pub struct Draft {
    pub csrf: String,
    /// `save` or `preview`.
    pub intent: String,
    pub name: String,
    /// `text`, `template`, or `kept` (a media message set through the
    /// API, kept as it is: the form does not upload media).
    pub kind: String,
    /// The kept message, as JSON.
    pub kept: String,
    pub text: String,
    /// A canned reply's shortcut.
    pub template: String,
    /// `{shortcut}.{variable}` → value.
    pub vars: BTreeMap<String, String>,
    /// `all`, `tags` or `phones`.
    pub audience: String,
    pub tags: String,
    pub phones: String,
    /// Contacts chosen through the API, kept as they are.
    pub contact_ids: Vec<String>,
    /// The numbers ticked, and every number's weight as typed.
    pub accounts: Vec<String>,
    pub weights: HashMap<String, String>,
    /// `now` or `later`.
    pub start: String,
    pub start_at: String,
    pub time_zone: String,
    pub window_start: String,
    pub window_end: String,
    pub cooldown: String,
    /// `default` or `off`.
    pub pacing: String,
    pub typing: bool,
    pub preview_contact: String,
    /// A CSV whose phone column could not be read: why.
    pub file_problem: Option<(&'static str, String)>,
}

impl Default for Draft {
    fn default() -> Self {
        Draft {
            csrf: String::new(),
            intent: "save".into(),
            name: String::new(),
            kind: "text".into(),
            kept: String::new(),
            text: String::new(),
            template: String::new(),
            vars: BTreeMap::new(),
            audience: "all".into(),
            tags: String::new(),
            phones: String::new(),
            contact_ids: Vec::new(),
            accounts: Vec::new(),
            weights: HashMap::new(),
            start: "now".into(),
            start_at: String::new(),
            time_zone: String::new(),
            window_start: String::new(),
            window_end: String::new(),
            cooldown: "24".into(),
            pacing: "default".into(),
            typing: true,
            preview_contact: String::new(),
            file_problem: None,
        }
    }
}

impl Draft {
    fn set(&mut self, key: &str, value: String) {
        match key {
            "csrf" => self.csrf = value,
            "intent" => self.intent = value,
            "name" => self.name = value,
            "kind" => self.kind = value,
            "kept" => self.kept = value,
            "text" => self.text = value,
            "template" => self.template = value,
            "audience" => self.audience = value,
            "tags" => self.tags = value,
            "phones" => self.phones = value,
            "contact_id" => self.contact_ids.push(value),
            "account" => self.accounts.push(value),
            "start" => self.start = value,
            "start_at" => self.start_at = value,
            "time_zone" => self.time_zone = value,
            "window_start" => self.window_start = value,
            "window_end" => self.window_end = value,
            "cooldown" => self.cooldown = value,
            "pacing" => self.pacing = value,
            "typing" => self.typing = value == "on" || value == "true",
            "preview_contact" => self.preview_contact = value,
            other => {
                if let Some(k) = other.strip_prefix("weight.") {
                    self.weights.insert(k.to_string(), value);
                } else if let Some(k) = other.strip_prefix("var.") {
                    self.vars.insert(k.to_string(), value);
                }
            }
        }
    }

    /// The posted form. An unticked checkbox sends nothing, so `typing`
    /// starts off here and is on only when sent.
    pub async fn read(state: &AppState, req: Request) -> Result<Draft, ApiError> {
        let mut d = Draft {
            typing: false,
            ..Draft::default()
        };
        let multipart = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"));
        if !multipart {
            let Form(fields) = Form::<Vec<(String, String)>>::from_request(req, state)
                .await
                .map_err(|e| ApiError::invalid("invalid_body", e.body_text()))?;
            for (k, v) in fields {
                d.set(&k, v);
            }
            return Ok(d);
        }
        let bad = |e: axum::extract::multipart::MultipartError| {
            ApiError::invalid("invalid_body", e.body_text())
        };
        let mut form = Multipart::from_request(req, state)
            .await
            .map_err(|e| ApiError::invalid("invalid_body", e.body_text()))?;
        let mut file = Vec::new();
        while let Some(mut field) = form.next_field().await.map_err(bad)? {
            let name = field.name().unwrap_or_default().to_string();
            if name == "phones_file" {
                while let Some(chunk) = field.chunk().await.map_err(bad)? {
                    if file.len() + chunk.len() > MAX_FILE {
                        return Err(ApiError::PayloadTooLarge);
                    }
                    file.extend_from_slice(&chunk);
                }
            } else {
                let value = field.text().await.map_err(bad)?;
                d.set(&name, value);
            }
        }
        // A form without a chosen file still sends an empty part.
        if !file.is_empty() {
            match phones_of_csv(&file) {
                Ok(list) => {
                    let mut all = d.phones.trim_end().to_string();
                    for p in list {
                        if !all.is_empty() {
                            all.push('\n');
                        }
                        all.push_str(&p);
                    }
                    d.phones = all;
                    d.audience = "phones".into();
                }
                Err(e) => d.file_problem = Some((e.code(), e.to_string())),
            }
        }
        Ok(d)
    }

    /// A stored campaign's values, to edit it.
    pub fn of(full: &Full) -> Draft {
        let c = &full.campaign;
        let mut d = Draft {
            name: c.name.clone(),
            ..Draft::default()
        };
        match serde_json::from_value::<Body>(c.message.clone()) {
            Ok(Body::Template {
                template,
                variables,
                ..
            }) => {
                d.kind = "template".into();
                for (k, v) in variables {
                    d.vars.insert(format!("{template}.{k}"), v);
                }
                d.template = template;
            }
            Ok(Body::Text { text }) => d.text = text,
            Ok(body) => {
                d.kind = "kept".into();
                d.text = body.text().unwrap_or_default();
                d.kept = c.message.to_string();
            }
            Err(_) => {}
        }
        let audience: Audience = serde_json::from_value(c.audience.clone()).unwrap_or_default();
        d.audience = if !audience.phones.is_empty() {
            "phones"
        } else if !audience.tags.is_empty() {
            "tags"
        } else {
            "all"
        }
        .into();
        d.tags = audience.tags.join(", ");
        d.phones = audience.phones.join("\n");
        d.contact_ids = audience.contact_ids.iter().map(|i| i.to_string()).collect();
        let settings: Settings = serde_json::from_value(c.settings.clone()).unwrap_or_default();
        d.cooldown = settings.cooldown_hours.to_string();
        d.pacing = match settings.pacing {
            PacingMode::Default => "default",
            PacingMode::Off => "off",
        }
        .into();
        if let Some(w) = &settings.window {
            d.window_start = w.start.clone();
            d.window_end = w.end.clone();
        }
        d.typing = settings.typing;
        d.time_zone = settings.time_zone.clone().unwrap_or_default();
        if let Some(at) = c.start_at {
            let tz = spec::time_zone(settings.time_zone.as_deref()).unwrap_or(chrono_tz::UTC);
            if let Some(t) = chrono::DateTime::from_timestamp_millis(at) {
                d.start = "later".into();
                d.start_at = t.with_timezone(&tz).format("%Y-%m-%dT%H:%M").to_string();
            }
        }
        for n in &full.numbers {
            d.accounts.push(n.account_id.to_string());
            d.weights
                .insert(n.account_id.to_string(), n.weight.to_string());
        }
        d
    }

    /// The variables entered for the chosen canned reply.
    pub fn template_vars(&self) -> BTreeMap<String, String> {
        let prefix = format!("{}.", self.template);
        self.vars
            .iter()
            .filter_map(|(k, v)| Some((k.strip_prefix(&prefix)?.to_string(), v.clone())))
            .filter(|(_, v)| !v.trim().is_empty())
            .collect()
    }

    /// The message as the form describes it (a template without its text:
    /// the service fills it from the canned reply).
    pub fn body(&self) -> Body {
        if self.kind == "kept" {
            if let Ok(body) = serde_json::from_str::<Body>(&self.kept) {
                return body;
            }
        }
        if self.kind == "template" {
            Body::Template {
                template: self.template.trim().to_string(),
                language: None,
                variables: self.template_vars(),
                text: None,
            }
        } else {
            Body::Text {
                text: self.text.clone(),
            }
        }
    }

    /// The API's input for these values; what the service checks is left
    /// to it, so the page refuses exactly what the API refuses.
    pub fn input(&self) -> Result<CampaignInput, ApiError> {
        if let Some((code, message)) = &self.file_problem {
            return Err(ApiError::invalid(code, message.clone()));
        }
        let mut audience = Audience {
            contact_ids: self
                .contact_ids
                .iter()
                .filter_map(|c| c.parse().ok())
                .collect(),
            ..Audience::default()
        };
        match self.audience.as_str() {
            "tags" => {
                audience.tags = split(&self.tags, &[',']);
            }
            "phones" => {
                audience.phones = split(&self.phones, &['\n', ',', ';']);
            }
            _ => audience.all = true,
        }
        let mut numbers = Vec::new();
        for a in &self.accounts {
            let account_id: AccountId = a.parse().map_err(|_| {
                ApiError::invalid("invalid_numbers", "choose a number of this workspace")
            })?;
            let raw = self.weights.get(a).map(|w| w.trim()).unwrap_or("");
            let weight = if raw.is_empty() {
                1
            } else {
                raw.parse().map_err(|_| {
                    ApiError::invalid("invalid_numbers", "a number's weight is 1 to 100")
                })?
            };
            numbers.push(NumberShare { account_id, weight });
        }
        let window = match (self.window_start.trim(), self.window_end.trim()) {
            ("", "") => None,
            (start, end) => Some(spec::Window {
                start: start.to_string(),
                end: end.to_string(),
            }),
        };
        let cooldown_hours = match self.cooldown.trim() {
            "" => 24,
            raw => raw.parse().map_err(|_| {
                ApiError::invalid("invalid_settings", "the cooldown is a number of hours")
            })?,
        };
        let start_at = if self.start == "later" {
            if self.start_at.trim().is_empty() {
                return Err(ApiError::invalid(
                    "invalid_start_at",
                    "choose the date and time to start",
                ));
            }
            Some(self.start_at.trim().to_string())
        } else {
            None
        };
        Ok(CampaignInput {
            name: self.name.clone(),
            message: Some(self.body()),
            text: None,
            audience,
            numbers,
            account_ids: Vec::new(),
            start_at,
            settings: Settings {
                cooldown_hours,
                pacing: if self.pacing == "off" {
                    PacingMode::Off
                } else {
                    PacingMode::Default
                },
                window,
                time_zone: Some(self.time_zone.trim().to_string()).filter(|t| !t.is_empty()),
                typing: self.typing,
            },
            variables: BTreeMap::new(),
        })
    }
}

/// The non-empty, trimmed parts of `raw`.
fn split(raw: &str, by: &[char]) -> Vec<String> {
    raw.split(by)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_becomes_the_api_s_input() {
        let mut d = Draft {
            name: "Promo".into(),
            text: "Hi {{contact.name|there}}".into(),
            audience: "tags".into(),
            tags: "vip, new ,".into(),
            accounts: vec!["0190a7c0-0000-7000-8000-000000000001".into()],
            pacing: "off".into(),
            window_start: "09:00".into(),
            window_end: "20:00".into(),
            ..Draft::default()
        };
        d.weights
            .insert("0190a7c0-0000-7000-8000-000000000001".into(), "3".into());
        let input = d.input().unwrap();
        assert_eq!(input.audience.tags, vec!["vip", "new"]);
        assert_eq!(input.shares().unwrap()[0].1, 3);
        assert_eq!(input.settings.pacing, PacingMode::Off);
        assert!(input.settings.window.is_some());
        d.weights
            .insert("0190a7c0-0000-7000-8000-000000000001".into(), "lots".into());
        assert_eq!(d.input().unwrap_err().code(), "invalid_numbers");
    }

    #[test]
    fn a_media_message_set_through_the_api_is_kept() {
        let image = serde_json::json!({"type": "image", "media_id": "m1", "caption": "New stock"});
        let d = Draft {
            kind: "kept".into(),
            kept: image.to_string(),
            ..Draft::default()
        };
        assert_eq!(serde_json::to_value(d.body()).unwrap(), image);
        let chosen_text = Draft {
            kind: "text".into(),
            text: "Hi".into(),
            ..d.clone()
        };
        assert_eq!(chosen_text.body(), Body::Text { text: "Hi".into() });
    }
}
