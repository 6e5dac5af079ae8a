//! The fake's checks of a send body, as Meta makes them (contracts A1):
//! the recipient, the typed part, media by exactly one of id or link,
//! reply buttons, and templates that exist, are approved and get as many
//! parameters as they have variables.

use axum::response::Response;
use serde_json::Value;

use super::server::meta_error;
use super::templates::component_vars;
use super::{FakeNumber, Shared};

fn invalid(details: &str) -> Response {
    meta_error(400, 100, None, "(#100) Invalid parameter", Some(details))
}

fn str_of<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

pub(crate) fn send(shared: &Shared, number: &FakeNumber, body: &Value) -> Result<(), Response> {
    let to = str_of(body, "to").unwrap_or_default();
    if to.is_empty()
        || !to
            .trim_start_matches('+')
            .chars()
            .all(|c| c.is_ascii_digit())
    {
        return Err(invalid("to must be a phone number"));
    }
    let Some(kind) = str_of(body, "type") else {
        return Err(invalid("type is required"));
    };
    let Some(part) = body.get(kind) else {
        return Err(invalid(&format!("{kind} is required for type {kind}")));
    };
    match kind {
        "text" => {
            if str_of(part, "body").is_none_or(str::is_empty) {
                return Err(invalid("text.body is required"));
            }
        }
        "image" | "video" | "audio" | "document" | "sticker" => media(shared, number, kind, part)?,
        "location" => {
            if !(part.get("latitude").is_some_and(Value::is_number)
                && part.get("longitude").is_some_and(Value::is_number))
            {
                return Err(invalid("location needs latitude and longitude"));
            }
        }
        "contacts" => {
            let ok = part.as_array().is_some_and(|cards| {
                !cards.is_empty()
                    && cards.iter().all(|c| {
                        c.pointer("/name/formatted_name")
                            .is_some_and(Value::is_string)
                    })
            });
            if !ok {
                return Err(invalid("contacts need name.formatted_name"));
            }
        }
        "reaction" => {
            if str_of(part, "message_id").is_none() || part.get("emoji").is_none() {
                return Err(invalid("reaction needs message_id and emoji"));
            }
        }
        "interactive" => interactive(part)?,
        "template" => template(shared, number, part)?,
        other => return Err(invalid(&format!("unknown type {other}"))),
    }
    Ok(())
}

fn media(shared: &Shared, number: &FakeNumber, kind: &str, part: &Value) -> Result<(), Response> {
    match (str_of(part, "id"), str_of(part, "link")) {
        (Some(id), None) => {
            let known = shared
                .lock()
                .media
                .iter()
                .any(|m| m.id == id && m.phone_number_id == number.creds.phone_number_id);
            if !known {
                return Err(invalid(&format!(
                    "{kind}.id {id} is not a media id of this number"
                )));
            }
        }
        (None, Some(link)) if link.starts_with("https://") || link.starts_with("http://") => {}
        _ => return Err(invalid(&format!("{kind} needs exactly one of id or link"))),
    }
    if matches!(kind, "audio" | "sticker") && part.get("caption").is_some() {
        return Err(invalid(&format!("{kind} takes no caption")));
    }
    Ok(())
}

fn interactive(part: &Value) -> Result<(), Response> {
    if part.pointer("/body/text").and_then(Value::as_str).is_none() {
        return Err(invalid("interactive.body.text is required"));
    }
    match str_of(part, "type") {
        Some("button") => {
            let n = part
                .pointer("/action/buttons")
                .and_then(Value::as_array)
                .map(Vec::len)
                .unwrap_or(0);
            if !(1..=3).contains(&n) {
                return Err(invalid(
                    "an interactive button message takes 1 to 3 buttons",
                ));
            }
        }
        Some("list") => {
            let rows = part
                .pointer("/action/sections")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|s| s.get("rows").and_then(Value::as_array))
                .map(Vec::len)
                .sum::<usize>();
            if str_of(part.get("action").unwrap_or(&Value::Null), "button").is_none()
                || !(1..=10).contains(&rows)
            {
                return Err(invalid("a list needs a button label and 1 to 10 rows"));
            }
        }
        _ => return Err(invalid("interactive.type must be button or list")),
    }
    Ok(())
}

fn template(shared: &Shared, number: &FakeNumber, part: &Value) -> Result<(), Response> {
    let name = str_of(part, "name").unwrap_or_default();
    let language = part
        .pointer("/language/code")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let found = shared
        .lock()
        .templates
        .iter()
        .find(|(w, t)| {
            *w == number.creds.business_account_id
                && str_of(t, "name") == Some(name)
                && str_of(t, "language") == Some(language)
        })
        .map(|(_, t)| t.clone());
    let Some(t) = found else {
        return Err(meta_error(
            404,
            132001,
            None,
            "(#132001) Template name does not exist in the translation",
            Some(&format!(
                "template name ({name}) does not exist in {language}"
            )),
        ));
    };
    match str_of(&t, "status").unwrap_or_default() {
        "APPROVED" => {}
        "PAUSED" => {
            return Err(meta_error(
                400,
                132015,
                None,
                "(#132015) Template is paused",
                None,
            ))
        }
        "DISABLED" => {
            return Err(meta_error(
                400,
                132016,
                None,
                "(#132016) Template is disabled",
                None,
            ))
        }
        _ => {
            return Err(meta_error(
                400,
                132001,
                None,
                "(#132001) Template name does not exist in the translation",
                None,
            ))
        }
    }
    let given = part
        .get("components")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|c| str_of(c, "type") == Some("body"))
        .and_then(|c| c.get("parameters").and_then(Value::as_array))
        .map(Vec::len)
        .unwrap_or(0);
    let wanted = component_vars(&t, "BODY");
    if given != wanted {
        return Err(meta_error(
            400,
            132000,
            None,
            "(#132000) Number of parameters does not match the expected number of params",
            Some(&format!("body: number of localizable_params ({given}) does not match the expected number of params ({wanted})")),
        ));
    }
    Ok(())
}
