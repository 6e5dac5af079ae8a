//! Contacts in and out as CSV. Import maps columns to contact fields,
//! reports every bad row (with its line) without stopping, and is
//! idempotent: contacts are matched by phone, so importing the same file
//! twice changes nothing the second time.

use std::collections::{BTreeSet, HashMap};

use blazz_domain::ContactId;
use blazz_store::contacts::{self, Contact};
use blazz_store::{now_ms, outbox};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use utoipa::ToSchema;

pub use super::contacts::field_name_ok;
use super::contacts::{phone, tags};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;

/// Which CSV column feeds which contact field (header names, any case).
/// Unset entries fall back to a column of that name (`phone`, `name`,
/// `tags`, `notes`, `opted_out`).
#[derive(Debug, Default, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    pub phone: Option<String>,
    pub name: Option<String>,
    /// Tags in one cell, separated by `;` or `,`.
    pub tags: Option<String>,
    pub notes: Option<String>,
    /// `true`/`yes`/`1` opt the contact out, `false`/`no`/`0` back in.
    pub opted_out: Option<String>,
    /// Custom field name → column.
    #[serde(default)]
    pub fields: HashMap<String, String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RowError {
    /// The line in the file (the header is line 1).
    pub line: u64,
    /// The header of the column at fault, when one is.
    pub column: Option<String>,
    pub code: String,
    pub message: String,
}

#[derive(Debug, Default, Serialize, ToSchema)]
pub struct ImportReport {
    pub dry_run: bool,
    pub rows: u64,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub failed: u64,
    /// The first 1,000 bad rows.
    pub errors: Vec<RowError>,
}

const MAX_ERRORS: usize = 1000;
const BATCH: usize = 1000;

struct Columns {
    headers: Vec<String>,
    phone: usize,
    name: Option<usize>,
    tags: Option<usize>,
    notes: Option<usize>,
    opted_out: Option<usize>,
    fields: Vec<(String, usize)>,
}

fn columns(headers: &csv::StringRecord, m: &Mapping) -> Result<Columns, ApiError> {
    let find = |want: &str| {
        headers
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(want.trim()))
    };
    let pick = |mapped: &Option<String>, default: &str| -> Result<Option<usize>, ApiError> {
        match mapped {
            Some(col) => find(col).map(Some).ok_or_else(|| {
                ApiError::invalid("unknown_column", format!("the file has no column {col:?}"))
            }),
            None => Ok(find(default)),
        }
    };
    let phone = pick(&m.phone, "phone")?.ok_or_else(|| {
        ApiError::invalid(
            "unknown_column",
            "no phone column: map one with mapping.phone",
        )
    })?;
    let mut fields = Vec::new();
    for (name, col) in &m.fields {
        let idx = find(col).ok_or_else(|| {
            ApiError::invalid("unknown_column", format!("the file has no column {col:?}"))
        })?;
        fields.push((name.clone(), idx));
    }
    Ok(Columns {
        headers: headers.iter().map(|h| h.trim().to_string()).collect(),
        phone,
        name: pick(&m.name, "name")?,
        tags: pick(&m.tags, "tags")?,
        notes: pick(&m.notes, "notes")?,
        opted_out: pick(&m.opted_out, "opted_out")?,
        fields,
    })
}

/// One parsed row: what it sets.
struct Parsed {
    phone: String,
    name: Option<String>,
    tags: Vec<String>,
    notes: Option<String>,
    opted_out: Option<bool>,
    fields: Map<String, Value>,
}

fn cell(rec: &csv::StringRecord, idx: Option<usize>) -> Option<String> {
    idx.and_then(|i| rec.get(i))
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

fn parse_row(
    state: &AppState,
    cols: &Columns,
    extra_tags: &[String],
    line: u64,
    rec: &csv::StringRecord,
) -> Result<Parsed, RowError> {
    let header = |idx: Option<usize>| idx.and_then(|i| cols.headers.get(i)).cloned();
    let err = |idx: Option<usize>| {
        move |e: ApiError| RowError {
            line,
            column: header(idx),
            code: e.code().to_string(),
            message: e.to_string(),
        }
    };
    let raw_phone = cell(rec, Some(cols.phone)).unwrap_or_default();
    let phone = phone(state, &raw_phone)
        .map_err(err(Some(cols.phone)))?
        .to_string();
    let mut raw_tags: Vec<String> = cell(rec, cols.tags)
        .map(|t| {
            t.split([';', ','])
                .map(str::to_string)
                .filter(|s| !s.trim().is_empty())
                .collect()
        })
        .unwrap_or_default();
    raw_tags.extend(extra_tags.iter().cloned());
    let tags = tags(&raw_tags).map_err(err(cols.tags))?;
    let opted_out = match cell(rec, cols.opted_out).map(|s| s.to_lowercase()) {
        None => None,
        Some(s) if ["true", "yes", "1", "y"].contains(&s.as_str()) => Some(true),
        Some(s) if ["false", "no", "0", "n"].contains(&s.as_str()) => Some(false),
        Some(s) => {
            return Err(RowError {
                line,
                column: header(cols.opted_out),
                code: "invalid_opted_out".into(),
                message: format!("{s:?} is not yes or no"),
            })
        }
    };
    let mut fields = Map::new();
    for (name, idx) in &cols.fields {
        if let Some(v) = cell(rec, Some(*idx)) {
            fields.insert(name.clone(), Value::String(v));
        }
    }
    Ok(Parsed {
        phone,
        name: cell(rec, cols.name),
        tags,
        notes: cell(rec, cols.notes),
        opted_out,
        fields,
    })
}

/// Applies a row to an existing contact; whether anything changed.
fn merge(c: &mut Contact, row: &Parsed) -> bool {
    let before = (
        c.name.clone(),
        c.tags.clone(),
        c.notes.clone(),
        c.opted_out_at.is_some(),
        c.fields.clone(),
    );
    if row.name.is_some() {
        c.name = row.name.clone();
    }
    if row.notes.is_some() {
        c.notes = row.notes.clone();
    }
    let all: BTreeSet<String> = c.tags.iter().chain(&row.tags).cloned().collect();
    c.tags = all.into_iter().collect();
    for (k, v) in &row.fields {
        c.fields.insert(k.clone(), v.clone());
    }
    match row.opted_out {
        Some(true) if c.opted_out_at.is_none() => c.opted_out_at = Some(now_ms()),
        Some(false) => c.opted_out_at = None,
        _ => {}
    }
    before
        != (
            c.name.clone(),
            c.tags.clone(),
            c.notes.clone(),
            c.opted_out_at.is_some(),
            c.fields.clone(),
        )
}

fn reader(csv_text: &str) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(csv_text.as_bytes())
}

fn header_line(reader: &mut csv::Reader<&[u8]>) -> Result<csv::StringRecord, ApiError> {
    let headers = reader
        .headers()
        .map_err(|e| ApiError::invalid("invalid_csv", format!("cannot read the header line: {e}")))?
        .clone();
    if headers.iter().all(|h| h.trim().is_empty()) {
        return Err(ApiError::invalid("invalid_csv", "the file is empty"));
    }
    Ok(headers)
}

/// The column names of a file's header line, as written.
pub fn headers(csv_text: &str) -> Result<Vec<String>, ApiError> {
    let headers = header_line(&mut reader(csv_text))?;
    Ok(headers.iter().map(|h| h.trim().to_string()).collect())
}

/// The columns a file's contacts are read from without a mapping.
pub const KNOWN_COLUMNS: [&str; 5] = ["phone", "name", "tags", "notes", "opted_out"];

pub async fn import(
    state: &AppState,
    caller: &Caller,
    csv_text: &str,
    mapping: &Mapping,
    extra_tags: &[String],
    dry_run: bool,
) -> Result<ImportReport, ApiError> {
    let extra_tags = tags(extra_tags)?;
    let mut reader = reader(csv_text);
    let headers = header_line(&mut reader)?;
    let cols = columns(&headers, mapping)?;
    let mut report = ImportReport {
        dry_run,
        ..Default::default()
    };
    let mut batch: Vec<Parsed> = Vec::with_capacity(BATCH);
    // A phone met again is most likely a slip in the file: the first row
    // wins and the others are reported, in a dry run too.
    let mut first_seen: HashMap<String, u64> = HashMap::new();
    for (i, rec) in reader.records().enumerate() {
        report.rows += 1;
        let line = i as u64 + 2;
        let parsed = rec
            .map_err(|e| RowError {
                line,
                column: None,
                code: "invalid_csv".into(),
                message: e.to_string(),
            })
            .and_then(|rec| parse_row(state, &cols, &extra_tags, line, &rec))
            .and_then(|p| match first_seen.get(&p.phone) {
                Some(first) => Err(RowError {
                    line,
                    column: cols.headers.get(cols.phone).cloned(),
                    code: "duplicate_phone".into(),
                    message: format!("{} is already on line {first}", p.phone),
                }),
                None => {
                    first_seen.insert(p.phone.clone(), line);
                    Ok(p)
                }
            });
        match parsed {
            Ok(p) => batch.push(p),
            Err(e) => {
                report.failed += 1;
                if report.errors.len() < MAX_ERRORS {
                    report.errors.push(e);
                }
            }
        }
        if batch.len() >= BATCH {
            write_batch(
                state,
                caller,
                std::mem::take(&mut batch),
                dry_run,
                &mut report,
            )
            .await?;
        }
    }
    write_batch(state, caller, batch, dry_run, &mut report).await?;
    Ok(report)
}

async fn write_batch(
    state: &AppState,
    caller: &Caller,
    rows: Vec<Parsed>,
    dry_run: bool,
    report: &mut ImportReport,
) -> Result<(), ApiError> {
    if rows.is_empty() {
        return Ok(());
    }
    let ws = caller.workspace_id;
    let phones: Vec<String> = rows.iter().map(|r| r.phone.clone()).collect();
    let mut tx = state.db.begin().await?;
    let mut known: HashMap<String, Contact> = contacts::by_phones(&mut tx, ws, &phones)
        .await?
        .into_iter()
        .map(|c| (c.phone.clone(), c))
        .collect();
    let mut created = 0;
    for row in rows {
        match known.get_mut(&row.phone) {
            Some(c) => {
                if merge(c, &row) {
                    report.updated += 1;
                    if !dry_run {
                        contacts::update(&mut tx, c).await?;
                    }
                } else {
                    report.unchanged += 1;
                }
            }
            None => {
                let now = now_ms();
                let mut c = Contact {
                    id: ContactId::new(),
                    workspace_id: ws,
                    phone: row.phone.clone(),
                    name: None,
                    tags: Vec::new(),
                    fields: Map::new(),
                    notes: None,
                    opted_out_at: None,
                    created_at: now,
                    updated_at: now,
                };
                merge(&mut c, &row);
                report.created += 1;
                created += 1;
                if !dry_run {
                    contacts::create(&mut tx, &c).await?;
                }
                known.insert(c.phone.clone(), c);
            }
        }
    }
    if dry_run {
        tx.rollback().await?;
        return Ok(());
    }
    // One event per batch: an import of 100,000 rows is 100 events, not
    // 100,000 webhook calls.
    outbox::append(
        &mut tx,
        Some(ws),
        "contacts.imported",
        &json!({"created": created, "rows": phones.len()}),
    )
    .await?;
    tx.commit().await?;
    state.committed();
    Ok(())
}

/// The workspace's contacts as CSV: phone, name, tags (`;`-separated),
/// notes, opted_out, then one column per custom field.
pub async fn export(state: &AppState, caller: &Caller) -> Result<String, ApiError> {
    let mut all = Vec::new();
    let mut after = None;
    let mut conn = state.db.pool.acquire().await?;
    loop {
        let page = contacts::page_after(&mut conn, caller.workspace_id, after, 1000).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        all.extend(page);
    }
    let keys: BTreeSet<String> = all.iter().flat_map(|c| c.fields.keys().cloned()).collect();
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = vec![
        "phone".to_string(),
        "name".into(),
        "tags".into(),
        "notes".into(),
        "opted_out".into(),
    ];
    header.extend(keys.iter().cloned());
    w.write_record(&header)
        .map_err(|e| ApiError::Internal(e.into()))?;
    for c in all {
        let mut rec = vec![
            c.phone,
            c.name.unwrap_or_default(),
            c.tags.join(";"),
            c.notes.unwrap_or_default(),
            if c.opted_out_at.is_some() {
                "true"
            } else {
                "false"
            }
            .to_string(),
        ];
        for k in &keys {
            rec.push(match c.fields.get(k) {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Null) | None => String::new(),
                Some(other) => other.to_string(),
            });
        }
        w.write_record(&rec)
            .map_err(|e| ApiError::Internal(e.into()))?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("{e}")))?;
    String::from_utf8(bytes).map_err(|e| ApiError::Internal(e.into()))
}
