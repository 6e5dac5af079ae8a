//! Workspace slugs: short, URL-safe names (`acme-support`).

/// Turns a display name into a slug: lower-case ASCII letters and digits,
/// other runs collapsed to one `-`, at most 40 characters. Empty input gives
/// `"workspace"` so a slug always exists.
pub fn slugify(name: &str) -> String {
    let mut out = String::new();
    let mut dash = false;
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            if dash && !out.is_empty() {
                out.push('-');
            }
            dash = false;
            out.push(c.to_ascii_lowercase());
        } else {
            dash = true;
        }
        if out.len() >= 40 {
            break;
        }
    }
    if out.is_empty() {
        "workspace".to_string()
    } else {
        out
    }
}

/// Whether `s` is a slug we would have produced.
pub fn is_valid(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 40
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--")
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_lowercase_and_dashed() {
        assert_eq!(slugify("Acme Support!"), "acme-support");
        assert_eq!(slugify("  --Já  Vu-- "), "j-vu");
        assert_eq!(slugify("🎉"), "workspace");
    }

    #[test]
    fn slugify_output_is_valid() {
        for name in ["Acme", "a  b", "ÄÖÜ 123", "x".repeat(100).as_str()] {
            assert!(is_valid(&slugify(name)), "{name}");
        }
        assert!(!is_valid("Bad Slug"));
        assert!(!is_valid("-x"));
    }
}
