//! The catalogue of user-facing strings: one TOML file per language in
//! `locales/` (English and Indonesian), embedded in the binary.
//!
//! A key is its table path (`[inbox] empty = "..."` is `inbox.empty`).
//! Values may hold `{name}` placeholders, filled by [`Tr::f`]. A key that
//! counts has `one` and `other` forms (`[inbox.unread] one = ... other =
//! ...`), chosen by [`Tr::n`] with the language's plural rule. Both
//! catalogues must hold the same keys with the same placeholders, and every
//! key the code names must exist: tests below check both.

use std::collections::HashMap;
use std::fmt::Display;
use std::sync::LazyLock;

/// A language Blazz's pages are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    #[default]
    En,
    Id,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Id];

    /// The BCP 47 code: `en`, `id`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Id => "id",
        }
    }

    /// The language's name in itself, for a language picker.
    pub fn native_name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Id => "Bahasa Indonesia",
        }
    }

    pub fn parse(code: &str) -> Option<Lang> {
        let primary = code.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "en" => Some(Lang::En),
            // `in` is Indonesian's withdrawn ISO 639 code, still sent by some browsers.
            "id" | "in" => Some(Lang::Id),
            _ => None,
        }
    }

    /// The first language of an `Accept-Language` header Blazz has (by
    /// quality, then order); English when none.
    pub fn from_accept_language(header: &str) -> Lang {
        let mut best: Option<(f32, Lang)> = None;
        for part in header.split(',') {
            let mut fields = part.split(';');
            let Some(lang) = fields.next().and_then(Lang::parse) else {
                continue;
            };
            let q = fields
                .find_map(|f| f.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            if q > 0.0 && best.is_none_or(|(b, _)| q > b) {
                best = Some((q, lang));
            }
        }
        best.map(|(_, l)| l).unwrap_or_default()
    }
}

type Catalogue = HashMap<String, String>;

const SOURCES: [(Lang, &str); 2] = [
    (Lang::En, include_str!("../locales/en.toml")),
    (Lang::Id, include_str!("../locales/id.toml")),
];

static CATALOGUES: LazyLock<HashMap<Lang, Catalogue>> = LazyLock::new(|| {
    SOURCES
        .iter()
        .map(|(lang, text)| (*lang, parse(text).unwrap_or_default()))
        .collect()
});

fn parse(text: &str) -> Result<Catalogue, toml::de::Error> {
    let table: toml::Table = toml::from_str(text)?;
    let mut out = Catalogue::new();
    flatten("", &table, &mut out);
    Ok(out)
}

fn flatten(prefix: &str, table: &toml::Table, out: &mut Catalogue) {
    for (k, v) in table {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::Table(t) => flatten(&key, t, out),
            toml::Value::String(s) => {
                out.insert(key, s.clone());
            }
            other => {
                out.insert(key, other.to_string());
            }
        }
    }
}

/// Translates for one language. Cheap to copy; pages take it from the
/// signed-in member ([`crate::http::web::SignedIn::tr`]) or, before
/// sign-in, from the browser's `Accept-Language`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tr {
    pub lang: Lang,
}

impl Tr {
    pub fn new(lang: Lang) -> Self {
        Tr { lang }
    }

    /// The string for `key`; English when this language lacks it, and the
    /// key itself when no catalogue has it (a test keeps that from shipping).
    pub fn t(&self, key: &str) -> &'static str {
        lookup(self.lang, key)
            .or_else(|| lookup(Lang::En, key))
            .unwrap_or_else(|| leak_key(key))
    }

    /// The string for `key` when a catalogue has it (keys built at run
    /// time, such as `errors.{code}`, that may have no entry).
    pub fn get(&self, key: &str) -> Option<&'static str> {
        lookup(self.lang, key).or_else(|| lookup(Lang::En, key))
    }

    /// The string for `key` with its `{name}` placeholders filled.
    pub fn f(&self, key: &str, args: &[(&str, &dyn Display)]) -> String {
        fill(self.t(key), args)
    }

    /// The form of `key` for `count` (`key.one` or `key.other`), with
    /// `{count}` and `args` filled.
    pub fn n(&self, key: &str, count: i64, args: &[(&str, &dyn Display)]) -> String {
        let form = match self.lang {
            // Indonesian does not inflect nouns for number.
            Lang::Id => "other",
            Lang::En if count == 1 => "one",
            Lang::En => "other",
        };
        let template = self.t(&format!("{key}.{form}"));
        let mut all: Vec<(&str, &dyn Display)> = vec![("count", &count)];
        all.extend_from_slice(args);
        fill(template, &all)
    }
}

fn lookup(lang: Lang, key: &str) -> Option<&'static str> {
    CATALOGUES
        .get(&lang)
        .and_then(|c| c.get(key))
        .map(String::as_str)
}

/// Missing keys are rare (tests catch them) and few: keeping each one
/// alive for the process keeps `t` free of allocation on the normal path.
fn leak_key(key: &str) -> &'static str {
    static MISSING: LazyLock<std::sync::Mutex<HashMap<String, &'static str>>> =
        LazyLock::new(Default::default);
    let Ok(mut missing) = MISSING.lock() else {
        return "";
    };
    missing
        .entry(key.to_string())
        .or_insert_with(|| Box::leak(key.to_string().into_boxed_str()))
}

fn fill(template: &str, args: &[(&str, &dyn Display)]) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                let name = &after[..close];
                match args.iter().find(|(n, _)| *n == name) {
                    Some((_, v)) => out.push_str(&v.to_string()),
                    None => {
                        out.push('{');
                        out.push_str(name);
                        out.push('}');
                    }
                }
                rest = &after[close + 1..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// The `{name}` placeholders of a template, sorted.
#[cfg(test)]
fn placeholders(template: &str) -> Vec<String> {
    let mut names: Vec<String> = template
        .split('{')
        .skip(1)
        .filter_map(|s| s.split_once('}').map(|(n, _)| n.to_string()))
        .collect();
    names.sort();
    names.dedup();
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn both_catalogues_parse_and_hold_the_same_keys_and_placeholders() {
        let parsed: Vec<(Lang, Catalogue)> = SOURCES
            .iter()
            .map(|(l, t)| (*l, parse(t).unwrap_or_else(|e| panic!("{l:?}: {e}"))))
            .collect();
        let (_, en) = &parsed[0];
        assert!(en.len() > 20, "the English catalogue is nearly empty");
        for (lang, cat) in &parsed[1..] {
            let a: BTreeSet<_> = en.keys().collect();
            let b: BTreeSet<_> = cat.keys().collect();
            let missing: Vec<_> = a.difference(&b).collect();
            let extra: Vec<_> = b.difference(&a).collect();
            assert!(
                missing.is_empty() && extra.is_empty(),
                "{lang:?}: missing {missing:?}, not in English {extra:?}"
            );
            for (key, en_text) in en {
                assert_eq!(
                    placeholders(en_text),
                    placeholders(&cat[key]),
                    "{lang:?} {key}: placeholders differ"
                );
                assert!(!cat[key].trim().is_empty(), "{lang:?} {key} is empty");
            }
        }
    }

    /// Every literal key the code passes to `t`, `f` or `n` exists.
    #[test]
    fn every_key_named_in_the_code_exists() {
        let en = parse(SOURCES[0].1).expect("English parses");
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut missing = Vec::new();
        let mut seen = 0;
        visit(&root, &mut |path, text| {
            // This file's own tests name a missing key on purpose.
            if path.ends_with("i18n.rs") {
                return;
            }
            for (call, plural) in [(".t(\"", false), (".f(\"", false), (".n(\"", true)] {
                for (i, _) in text.match_indices(call) {
                    let start = i + call.len();
                    let Some(len) = text[start..].find('"') else {
                        continue;
                    };
                    let key = &text[start..start + len];
                    if !key.contains('.')
                        || !key
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
                    {
                        continue;
                    }
                    seen += 1;
                    let ok = if plural {
                        en.contains_key(&format!("{key}.one"))
                            && en.contains_key(&format!("{key}.other"))
                    } else {
                        en.contains_key(key)
                    };
                    if !ok {
                        missing.push(format!("{}: {key}", path.display()));
                    }
                }
            }
        });
        assert!(seen > 0, "found no keys in the code: the scan is broken");
        assert!(
            missing.is_empty(),
            "keys not in locales/en.toml: {missing:#?}"
        );
    }

    fn visit(dir: &std::path::Path, f: &mut dyn FnMut(&std::path::Path, &str)) {
        for entry in std::fs::read_dir(dir).expect("source folder") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                visit(&path, f);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("source file");
                f(&path, &text);
            }
        }
    }

    /// Keys built at run time (`status.{state}`) exist for every value.
    #[test]
    fn every_session_state_has_a_label() {
        let en = parse(SOURCES[0].1).expect("English parses");
        for state in blazz_domain::SessionState::ALL {
            let key = format!("status.{}", state.as_str());
            assert!(en.contains_key(&key), "{key} missing");
        }
    }

    #[test]
    fn placeholders_are_filled_and_unknown_ones_kept() {
        assert_eq!(
            fill("Hi {name}, {n} new {x}", &[("name", &"Ana"), ("n", &3)]),
            "Hi Ana, 3 new {x}"
        );
        assert_eq!(fill("no braces", &[]), "no braces");
        assert_eq!(fill("open { only", &[]), "open { only");
    }

    #[test]
    fn accept_language_picks_the_best_language_blazz_has() {
        assert_eq!(
            Lang::from_accept_language("id-ID,id;q=0.9,en;q=0.8"),
            Lang::Id
        );
        assert_eq!(
            Lang::from_accept_language("fr-FR,en;q=0.5,id;q=0.7"),
            Lang::Id
        );
        assert_eq!(Lang::from_accept_language("fr-FR"), Lang::En);
        assert_eq!(Lang::from_accept_language(""), Lang::En);
        assert_eq!(Lang::from_accept_language("id;q=0,en"), Lang::En);
        assert_eq!(Lang::parse("in"), Some(Lang::Id));
    }

    #[test]
    fn plurals_follow_each_language() {
        let en = Tr::new(Lang::En);
        let id = Tr::new(Lang::Id);
        assert_eq!(en.n("common.unread", 1, &[]), "1 unread message");
        assert_eq!(en.n("common.unread", 4, &[]), "4 unread messages");
        assert_eq!(id.n("common.unread", 1, &[]), "1 pesan belum dibaca");
        assert_eq!(en.t("no.such.key"), "no.such.key");
    }
}
