//! Phone numbers as WhatsApp knows them: E.164 (`+15551234567`).

use std::fmt;

use serde::Serialize;

/// A valid phone number in E.164 form.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Phone(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidPhone {
    #[error("{0:?} is not a phone number")]
    Unreadable(String),
    #[error("{0:?} has no country code: write it as +<country><number>, or set a default country")]
    NoCountry(String),
    #[error("{0:?} is not a valid number for its country")]
    Invalid(String),
}

impl Phone {
    /// Parses what people type (`+1 (555) 123-4567`, `0044 20 7946 0958`,
    /// or a national number with `default_country`, an ISO 3166 code such
    /// as `GB`) into E.164. Garbage and impossible numbers are refused.
    pub fn parse(raw: &str, default_country: Option<&str>) -> Result<Self, InvalidPhone> {
        let trimmed = raw.trim();
        if trimmed.is_empty()
            || trimmed.len() > 40
            || !trimmed
                .chars()
                .all(|c| c.is_ascii_digit() || " +-().".contains(c))
            || !trimmed.chars().any(|c| c.is_ascii_digit())
        {
            return Err(InvalidPhone::Unreadable(raw.to_string()));
        }
        // "00" is the international prefix in most of the world.
        let normalised = match trimmed.strip_prefix("00") {
            Some(rest) if !trimmed.starts_with('+') => format!("+{rest}"),
            _ => trimmed.to_string(),
        };
        let country = default_country.and_then(|c| c.to_ascii_uppercase().parse().ok());
        if !normalised.starts_with('+') && country.is_none() {
            return Err(InvalidPhone::NoCountry(raw.to_string()));
        }
        let number = phonenumber::parse(country, &normalised)
            .map_err(|_| InvalidPhone::Unreadable(raw.to_string()))?;
        if !phonenumber::is_valid(&number) {
            return Err(InvalidPhone::Invalid(raw.to_string()));
        }
        Ok(Self(
            number.format().mode(phonenumber::Mode::E164).to_string(),
        ))
    }

    /// A sender's number as the network reports it: the network vouches
    /// for it, so only its E.164 shape is checked (numbers in ranges the
    /// numbering plan does not list yet still get through).
    pub fn from_network(raw: &str) -> Result<Self, InvalidPhone> {
        let digits = raw.strip_prefix('+').unwrap_or(raw);
        let ok = (7..=15).contains(&digits.len())
            && digits.chars().all(|c| c.is_ascii_digit())
            && !digits.starts_with('0');
        if ok {
            Ok(Self(format!("+{digits}")))
        } else {
            Err(InvalidPhone::Unreadable(raw.to_string()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_numbers_need_only_the_e164_shape() {
        assert_eq!(
            Phone::from_network("+15550001111").unwrap().as_str(),
            "+15550001111"
        );
        assert_eq!(
            Phone::from_network("4915112345678").unwrap().as_str(),
            "+4915112345678"
        );
        for raw in [
            "",
            "+",
            "+123",
            "+0123456789",
            "+1555abc1111",
            "+1234567890123456",
        ] {
            assert!(Phone::from_network(raw).is_err(), "{raw} accepted");
        }
    }

    #[test]
    fn international_forms_become_e164() {
        for raw in [
            "+1 (415) 555-2671",
            "+14155552671",
            "001 415 555 2671",
            " +1-415-555-2671 ",
        ] {
            assert_eq!(
                Phone::parse(raw, None).unwrap().as_str(),
                "+14155552671",
                "{raw}"
            );
        }
        assert_eq!(
            Phone::parse("+44 20 7946 0958", None).unwrap().as_str(),
            "+442079460958"
        );
    }

    #[test]
    fn national_numbers_need_a_default_country() {
        assert!(matches!(
            Phone::parse("020 7946 0958", None),
            Err(InvalidPhone::NoCountry(_))
        ));
        assert_eq!(
            Phone::parse("020 7946 0958", Some("gb")).unwrap().as_str(),
            "+442079460958"
        );
    }

    #[test]
    fn garbage_is_refused() {
        for raw in [
            "",
            "hello",
            "+",
            "+1 555 CALL NOW",
            "++1",
            "12345678901234567890123456789012345678901",
        ] {
            assert!(Phone::parse(raw, None).is_err(), "{raw} accepted");
        }
        // Well-formed, but no such numbers exist.
        for raw in ["+1 000 000 0000", "+1 123 456 7890", "+44 12"] {
            assert!(Phone::parse(raw, None).is_err(), "{raw} accepted");
        }
    }
}
