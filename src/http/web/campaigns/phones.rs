//! The phone numbers of an uploaded CSV file, for a campaign's audience:
//! its `phone` column, read by name as the contacts import reads it.

use crate::error::ApiError;

/// The `phone` column of a CSV file (by name, any case), or the only
/// column of a file without a `phone` header line.
pub fn phones_of_csv(bytes: &[u8]) -> Result<Vec<String>, ApiError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| ApiError::invalid("invalid_csv", "the file is not UTF-8 text"))?;
    let text = text.trim_start_matches('\u{feff}');
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut rows = reader.records();
    let first = match rows.next() {
        Some(r) => r.map_err(|e| ApiError::invalid("invalid_csv", e.to_string()))?,
        None => return Err(ApiError::invalid("invalid_csv", "the file is empty")),
    };
    let column = first.iter().position(|h| h.eq_ignore_ascii_case("phone"));
    let mut out = Vec::new();
    let (col, keep_first) = match column {
        Some(i) => (i, false),
        None if first.len() == 1 => (0, true),
        None => {
            return Err(ApiError::invalid(
                "no_phone_column",
                "the file has no phone column",
            ))
        }
    };
    if keep_first {
        out.extend(first.get(col).map(str::to_string));
    }
    for row in rows {
        let row = row.map_err(|e| ApiError::invalid("invalid_csv", e.to_string()))?;
        if let Some(p) = row.get(col).filter(|p| !p.is_empty()) {
            out.push(p.to_string());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_phone_column_is_read_by_name_or_as_the_only_column() {
        let named = phones_of_csv(b"name,Phone\nAna,+6281200000001\nBo,\n,+6281200000002\n");
        assert_eq!(
            named.unwrap(),
            vec!["+6281200000001".to_string(), "+6281200000002".to_string()]
        );
        let bare = phones_of_csv(b"+6281200000001\n+6281200000002\n").unwrap();
        assert_eq!(bare.len(), 2);
        let none = phones_of_csv(b"name,city\nAna,Bandung\n").unwrap_err();
        assert_eq!(none.code(), "no_phone_column");
        assert_eq!(phones_of_csv(b"").unwrap_err().code(), "invalid_csv");
    }
}
