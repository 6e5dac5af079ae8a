//! Message templates with variables: `Hello {{contact.name|there}}!`.
//! A variable is a dotted path; `|` gives a fallback for a missing or empty
//! value. Unknown variables render as their fallback (or nothing), so a
//! customer never sees `{{...}}`.

use std::collections::HashMap;

/// Fills `template` from `values` (keys like `contact.name`).
pub fn render(template: &str, values: &HashMap<String, String>) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            return out;
        };
        let inner = after[..end].trim();
        let (path, fallback) = match inner.split_once('|') {
            Some((p, f)) => (p.trim(), f.trim()),
            None => (inner, ""),
        };
        match values.get(path).filter(|v| !v.is_empty()) {
            Some(v) => out.push_str(v),
            None => out.push_str(fallback),
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

/// The variables a template uses, in order of first use.
pub fn variables(template: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { break };
        let path = after[..end]
            .split('|')
            .next()
            .unwrap_or_default()
            .trim()
            .to_string();
        if !path.is_empty() && !found.contains(&path) {
            found.push(path);
        }
        rest = &after[end + 2..];
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values() -> HashMap<String, String> {
        HashMap::from([
            ("contact.name".to_string(), "Asha".to_string()),
            ("contact.fields.city".to_string(), "Lagos".to_string()),
            ("contact.fields.empty".to_string(), String::new()),
        ])
    }

    #[test]
    fn fills_variables_and_fallbacks() {
        let v = values();
        assert_eq!(
            render("Hi {{contact.name}} from {{ contact.fields.city }}!", &v),
            "Hi Asha from Lagos!"
        );
        assert_eq!(render("Hi {{contact.nickname|there}}", &v), "Hi there");
        assert_eq!(render("[{{contact.fields.empty|none}}]", &v), "[none]");
        assert_eq!(render("[{{unknown}}]", &v), "[]");
    }

    #[test]
    fn leaves_unclosed_braces_alone() {
        assert_eq!(render("a {{contact.name", &values()), "a {{contact.name");
        assert_eq!(render("no variables", &values()), "no variables");
        assert_eq!(render("😀 {{contact.name}} 😀", &values()), "😀 Asha 😀");
    }

    #[test]
    fn lists_the_variables_used() {
        assert_eq!(
            variables("{{contact.name|x}} {{a.b}} {{contact.name}}"),
            ["contact.name", "a.b"]
        );
    }
}
