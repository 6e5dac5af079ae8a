//! Checking a template message's parameters against its template before
//! Meta is asked: the count, the order or the names, no blanks, the
//! header's kind, and URL buttons' variables.

use super::{ButtonParam, HeaderParam, Param, Template, TemplateMessage};
use crate::error::CloudError;

impl TemplateMessage {
    /// Checks the parameters against the template before Meta is asked
    /// (Meta would answer 132000 for a count mismatch): the count, the
    /// order (positional) or the names (named), no blank values, a header
    /// parameter of the header's kind, and URL buttons' variables.
    pub fn validate(&self, template: &Template) -> Result<(), CloudError> {
        let what = format!("template \"{}\" ({})", template.name, template.language);
        let bad = |m: String| Err(CloudError::Invalid(format!("{what}: {m}")));
        if template.name != self.name || template.language != self.language {
            return bad(format!("is not {} ({})", self.name, self.language));
        }
        if !template.status.eq_ignore_ascii_case("APPROVED") {
            return bad(format!(
                "is {}, not approved by Meta",
                template.status.to_ascii_lowercase()
            ));
        }
        let slots = template.slots();
        match (&slots.header_format, &self.header) {
            (None, Some(_)) => return bad("has no header to fill".into()),
            (Some(f), Some(h)) if f != h.format() => {
                return bad(format!(
                    "its header is {}, not {}",
                    f.to_lowercase(),
                    h.format().to_lowercase()
                ))
            }
            (Some(f), None) if f != "TEXT" => {
                return bad(format!("needs its {} header", f.to_lowercase()))
            }
            _ => {}
        }
        let header_params: Vec<Param> = match &self.header {
            Some(HeaderParam::Text(p)) => vec![p.clone()],
            _ => Vec::new(),
        };
        check_params(&what, "header", &slots.header, &header_params, template)?;
        check_params(&what, "body", &slots.body, &self.body, template)?;
        for (index, _) in &slots.buttons {
            let given = self
                .buttons
                .iter()
                .any(|b| matches!(b, ButtonParam::Url { index: i, text } if i == index && !text.trim().is_empty()));
            if !given {
                return bad(format!("URL button {index} needs its variable"));
            }
        }
        Ok(())
    }
}

fn check_params(
    what: &str,
    part: &str,
    slots: &[String],
    params: &[Param],
    template: &Template,
) -> Result<(), CloudError> {
    let bad = |m: String| Err(CloudError::Invalid(format!("{what}: {m}")));
    let wanted: Vec<String> = slots.iter().map(|s| format!("{{{{{s}}}}}")).collect();
    if slots.len() != params.len() {
        return bad(format!(
            "takes {} {part} variable(s) ({}), got {}",
            slots.len(),
            wanted.join(", "),
            params.len()
        ));
    }
    if let Some(i) = params.iter().position(Param::is_blank) {
        return bad(format!("{part} variable {} is empty", wanted[i]));
    }
    if template.is_named() {
        for p in params {
            match &p.name {
                Some(n) if slots.contains(n) => {}
                Some(n) => return bad(format!("has no {part} variable {{{{{n}}}}}")),
                None => {
                    return bad(format!(
                        "uses named variables: give each {part} value its name"
                    ))
                }
            }
        }
    } else {
        // Positional values fill {{1}}, {{2}}... in order: the template's
        // variables must be exactly those numbers.
        let expected: Vec<String> = (1..=slots.len()).map(|n| n.to_string()).collect();
        let mut sorted = slots.to_vec();
        sorted.sort_by_key(|s| s.parse::<u32>().unwrap_or(u32::MAX));
        if sorted != expected {
            return bad(format!(
                "{part} variables {} are not numbered 1 to {}",
                wanted.join(", "),
                slots.len()
            ));
        }
    }
    Ok(())
}
