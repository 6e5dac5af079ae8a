//! Message templates: the definitions Meta keeps per business account
//! (synced, created, deleted through `Graph`), a template message with
//! its header, body and button parameters, and the check that a message's
//! parameters fit its template before Meta is asked (contracts A1, A4).

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::error::CloudError;
use crate::outbound::MediaRef;

mod check;

/// A template as Meta lists it (`GET /{waba-id}/message_templates`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Template {
    pub id: String,
    pub name: String,
    pub language: String,
    /// `APPROVED`, `PENDING`, `REJECTED`, `PAUSED`, `DISABLED`...
    pub status: String,
    #[serde(default)]
    pub category: Option<String>,
    /// `POSITIONAL` (`{{1}}`) or `NAMED` (`{{first_name}}`).
    #[serde(default)]
    pub parameter_format: Option<String>,
    /// Meta's components as they are (`HEADER`, `BODY`, `FOOTER`, `BUTTONS`).
    #[serde(default)]
    pub components: Vec<Value>,
}

/// A template to submit for review (`POST /{waba-id}/message_templates`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemplateDraft {
    pub name: String,
    /// `MARKETING`, `UTILITY` or `AUTHENTICATION`.
    pub category: String,
    pub language: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameter_format: Option<String>,
    pub components: Vec<Value>,
}

/// Meta's answer to a submitted template.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreatedTemplate {
    pub id: String,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub category: Option<String>,
}

/// The variables of a template, in the order they appear.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Slots {
    /// `TEXT`, `IMAGE`, `VIDEO`, `DOCUMENT` or `LOCATION`, if it has a header.
    pub header_format: Option<String>,
    pub header: Vec<String>,
    pub body: Vec<String>,
    /// URL buttons with a variable: (button index, its variables).
    pub buttons: Vec<(u32, Vec<String>)>,
}

/// The distinct `{{...}}` placeholders of `text`, in order of appearance.
pub fn placeholders(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { break };
        let inner = after[..end].trim();
        let ok = !inner.is_empty() && inner.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if ok && !out.iter().any(|p| p == inner) {
            out.push(inner.to_string());
        }
        rest = &after[end + 2..];
    }
    out
}

fn field<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

impl Template {
    pub fn is_named(&self) -> bool {
        self.parameter_format
            .as_deref()
            .is_some_and(|f| f.eq_ignore_ascii_case("named"))
    }

    pub fn slots(&self) -> Slots {
        let mut s = Slots::default();
        for c in &self.components {
            let kind = field(c, "type").unwrap_or_default().to_ascii_uppercase();
            let text = field(c, "text").unwrap_or_default();
            match kind.as_str() {
                "HEADER" => {
                    let format = field(c, "format").unwrap_or("TEXT").to_ascii_uppercase();
                    if format == "TEXT" {
                        s.header = placeholders(text);
                    }
                    s.header_format = Some(format);
                }
                "BODY" => s.body = placeholders(text),
                "BUTTONS" => {
                    let buttons = c.get("buttons").and_then(Value::as_array);
                    for (i, b) in buttons.into_iter().flatten().enumerate() {
                        let url = field(b, "url").unwrap_or_default();
                        let vars = placeholders(url);
                        if !vars.is_empty() {
                            s.buttons.push((i as u32, vars));
                        }
                    }
                }
                _ => {}
            }
        }
        s
    }
}

/// A parameter's value.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamValue {
    Text(String),
    Currency {
        fallback: String,
        code: String,
        amount_1000: i64,
    },
    DateTime {
        fallback: String,
    },
}

/// One header or body parameter; `name` for templates with named
/// parameters (sent as `parameter_name`).
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    pub name: Option<String>,
    pub value: ParamValue,
}

impl Param {
    pub fn text(v: impl Into<String>) -> Param {
        Param {
            name: None,
            value: ParamValue::Text(v.into()),
        }
    }

    pub fn named(name: impl Into<String>, v: impl Into<String>) -> Param {
        Param {
            name: Some(name.into()),
            value: ParamValue::Text(v.into()),
        }
    }

    fn to_json(&self) -> Value {
        let mut m = match &self.value {
            ParamValue::Text(t) => json!({"type": "text", "text": t}),
            ParamValue::Currency {
                fallback,
                code,
                amount_1000,
            } => json!({"type": "currency", "currency": {
                "fallback_value": fallback, "code": code, "amount_1000": amount_1000}}),
            ParamValue::DateTime { fallback } => {
                json!({"type": "date_time", "date_time": {"fallback_value": fallback}})
            }
        };
        if let (Some(name), Some(obj)) = (&self.name, m.as_object_mut()) {
            obj.insert("parameter_name".into(), json!(name));
        }
        m
    }

    pub(crate) fn is_blank(&self) -> bool {
        match &self.value {
            ParamValue::Text(t) => t.trim().is_empty(),
            ParamValue::Currency { fallback, .. } | ParamValue::DateTime { fallback } => {
                fallback.trim().is_empty()
            }
        }
    }
}

/// The header's parameter: text, a media file, or a location.
#[derive(Debug, Clone, PartialEq)]
pub enum HeaderParam {
    Text(Param),
    Image(MediaRef),
    Video(MediaRef),
    Document {
        media: MediaRef,
        filename: Option<String>,
    },
    Location {
        latitude: f64,
        longitude: f64,
        name: Option<String>,
        address: Option<String>,
    },
}

impl HeaderParam {
    pub(crate) fn format(&self) -> &'static str {
        match self {
            HeaderParam::Text(_) => "TEXT",
            HeaderParam::Image(_) => "IMAGE",
            HeaderParam::Video(_) => "VIDEO",
            HeaderParam::Document { .. } => "DOCUMENT",
            HeaderParam::Location { .. } => "LOCATION",
        }
    }

    pub(crate) fn media_mut(&mut self) -> Option<&mut MediaRef> {
        match self {
            HeaderParam::Image(m) | HeaderParam::Video(m) => Some(m),
            HeaderParam::Document { media, .. } => Some(media),
            _ => None,
        }
    }

    fn to_json(&self) -> Result<Value, CloudError> {
        Ok(match self {
            HeaderParam::Text(p) => p.to_json(),
            HeaderParam::Image(m) => json!({"type": "image", "image": m.to_json()?}),
            HeaderParam::Video(m) => json!({"type": "video", "video": m.to_json()?}),
            HeaderParam::Document { media, filename } => {
                let mut d = media.to_json()?;
                if let Some(f) = filename {
                    d.insert("filename".into(), json!(f));
                }
                json!({"type": "document", "document": d})
            }
            HeaderParam::Location {
                latitude,
                longitude,
                name,
                address,
            } => {
                json!({"type": "location", "location": {"latitude": latitude,
                "longitude": longitude, "name": name, "address": address}})
            }
        })
    }
}

/// A button's parameter, by the button's index in the template.
#[derive(Debug, Clone, PartialEq)]
pub enum ButtonParam {
    /// What comes back as the `button.payload` when the contact taps it.
    QuickReply { index: u32, payload: String },
    /// The variable part of a URL button.
    Url { index: u32, text: String },
    /// The code a copy-code button copies.
    CopyCode { index: u32, code: String },
}

impl ButtonParam {
    fn index(&self) -> u32 {
        match self {
            ButtonParam::QuickReply { index, .. }
            | ButtonParam::Url { index, .. }
            | ButtonParam::CopyCode { index, .. } => *index,
        }
    }

    fn to_json(&self) -> Value {
        let (sub, param) = match self {
            ButtonParam::QuickReply { payload, .. } => (
                "quick_reply",
                json!({"type": "payload", "payload": payload}),
            ),
            ButtonParam::Url { text, .. } => ("url", json!({"type": "text", "text": text})),
            ButtonParam::CopyCode { code, .. } => (
                "copy_code",
                json!({"type": "coupon_code", "coupon_code": code}),
            ),
        };
        json!({"type": "button", "sub_type": sub, "index": self.index().to_string(),
               "parameters": [param]})
    }
}

/// A template message with its parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateMessage {
    pub name: String,
    /// Meta's language code, e.g. `en_US`.
    pub language: String,
    pub header: Option<HeaderParam>,
    pub body: Vec<Param>,
    pub buttons: Vec<ButtonParam>,
}

impl TemplateMessage {
    /// A template whose only parameters are the body's, in order.
    pub fn positional(name: &str, language: &str, variables: &[String]) -> TemplateMessage {
        TemplateMessage {
            name: name.to_string(),
            language: language.to_string(),
            header: None,
            body: variables.iter().map(Param::text).collect(),
            buttons: Vec::new(),
        }
    }

    /// The `template` object of a send.
    pub fn to_json(&self) -> Result<Value, CloudError> {
        let mut components = Vec::new();
        if let Some(h) = &self.header {
            components.push(json!({"type": "header", "parameters": [h.to_json()?]}));
        }
        if !self.body.is_empty() {
            let params: Vec<Value> = self.body.iter().map(Param::to_json).collect();
            components.push(json!({"type": "body", "parameters": params}));
        }
        components.extend(self.buttons.iter().map(ButtonParam::to_json));
        let mut m = Map::new();
        m.insert("name".into(), json!(self.name));
        m.insert("language".into(), json!({"code": self.language}));
        if !components.is_empty() {
            m.insert("components".into(), Value::Array(components));
        }
        Ok(Value::Object(m))
    }
}
