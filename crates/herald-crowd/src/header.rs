//! The header row and the per-row rules: which column is the receiver, which are variables,
//! and what makes a data row bad.

use crate::error::CrowdError;
use crate::model::{BadRow, CrowdFormat, MAX_COLUMNS, MAX_RECEIVER_BYTES, RowOutcome};
use crate::parser::{RawRecord, RecordParser, count_line_breaks};
use herald_core::CrowdRow;
use std::collections::{BTreeMap, HashSet};
use std::io::Read;

/// How much of the file's start is inspected for signs of a binary format.
const SNIFF_BYTES: usize = 4096;

/// Recognises common non-CSV uploads by their first bytes.
fn sniff_binary(head: &[u8]) -> Option<&'static str> {
    const SIGNATURES: &[(&[u8], &str)] = &[
        (b"PK\x03\x04", "this is a ZIP archive (an Excel workbook?); export it as CSV"),
        (b"\xD0\xCF\x11\xE0", "this is an old Excel (.xls) workbook; export it as CSV"),
        (b"\xFF\xFE", "the file is UTF-16 encoded; save it as UTF-8"),
        (b"\xFE\xFF", "the file is UTF-16 encoded; save it as UTF-8"),
        (b"\x1F\x8B", "the file is gzip-compressed; upload it uncompressed"),
    ];
    SIGNATURES
        .iter()
        .find(|(magic, _)| head.starts_with(magic))
        .map(|(_, reason)| *reason)
        .or_else(|| head.contains(&0).then_some("the file holds binary data (NUL bytes)"))
}

/// A checked header row.
#[derive(Debug, Clone)]
pub(crate) struct Header {
    /// Every column name, in file order.
    names: Vec<String>,
    receiver: usize,
    receiver_column: String,
}

impl Header {
    /// Reads and checks the header at the start of the file; the parser is left at the
    /// first data record.
    pub(crate) fn read<R: Read>(parser: &mut RecordParser<R>, opts: &CrowdFormat) -> Result<Self, CrowdError> {
        if !parser.skip_bom()? {
            return Err(CrowdError::Empty);
        }
        if let Some(reason) = sniff_binary(parser.peek(SNIFF_BYTES)?) {
            return Err(CrowdError::NotCsv { reason: reason.into() });
        }
        let mut rec = RawRecord::default();
        let found = match parser.read_record(&mut rec) {
            Ok(found) => found,
            Err(CrowdError::RecordTooLong { limit, .. }) => {
                return Err(CrowdError::NotCsv { reason: format!("no line break in the first {limit} bytes") });
            }
            Err(e) => return Err(e),
        };
        if !found {
            return Err(CrowdError::NoHeader);
        }
        Self::from_record(&rec, opts)
    }

    fn from_record(rec: &RawRecord, opts: &CrowdFormat) -> Result<Self, CrowdError> {
        if rec.fields().flatten().any(|&b| b == 0 || (b < 0x20 && b != b'\t')) {
            return Err(CrowdError::NotCsv { reason: "the header row holds binary data".into() });
        }
        if rec.len() > MAX_COLUMNS {
            return Err(CrowdError::TooManyColumns { count: rec.len(), limit: MAX_COLUMNS });
        }
        let mut names = Vec::with_capacity(rec.len());
        let mut seen = HashSet::new();
        for (i, raw) in rec.fields().enumerate() {
            let name =
                std::str::from_utf8(raw).map_err(|_| CrowdError::HeaderNotUtf8 { index: i + 1 })?.trim().to_string();
            if name.is_empty() {
                return Err(CrowdError::EmptyHeaderName { index: i + 1 });
            }
            if !seen.insert(name.clone()) {
                return Err(CrowdError::DuplicateHeader { name });
            }
            names.push(name);
        }
        let receiver_column = opts.receiver_column.trim().to_string();
        let receiver = names.iter().position(|n| *n == receiver_column).ok_or_else(|| {
            CrowdError::MissingReceiverColumn { column: receiver_column.clone(), found: names.clone() }
        })?;
        Ok(Self { names, receiver, receiver_column })
    }

    pub(crate) fn receiver_column(&self) -> &str {
        &self.receiver_column
    }

    /// The variable columns in header order.
    pub(crate) fn variable_columns(&self) -> Vec<String> {
        let mut names = self.names.clone();
        names.remove(self.receiver);
        names
    }

    /// Checks one data record; `row` is its 1-based data row index.
    pub(crate) fn classify(&self, rec: &RawRecord, row: u64) -> RowOutcome {
        match self.check(rec, row) {
            Ok(valid) => RowOutcome::Valid(valid),
            Err(reason) => RowOutcome::Invalid(BadRow { line: rec.line, row, reason }),
        }
    }

    fn check(&self, rec: &RawRecord, row: u64) -> Result<CrowdRow, String> {
        if rec.len() != self.names.len() {
            return Err(wrong_width(rec, self.names.len()));
        }
        let mut receiver = String::new();
        let mut variables = BTreeMap::new();
        for (i, (raw, name)) in rec.fields().zip(&self.names).enumerate() {
            let value = std::str::from_utf8(raw).map_err(|_| format!("column `{name}` is not valid UTF-8"))?;
            if i == self.receiver {
                receiver = value.trim().to_string();
            } else {
                variables.insert(name.clone(), value.to_string());
            }
        }
        if receiver.is_empty() {
            return Err(format!("the receiver column `{}` is blank", self.receiver_column));
        }
        if receiver.len() > MAX_RECEIVER_BYTES {
            return Err(format!("the receiver is {} bytes long, more than {MAX_RECEIVER_BYTES}", receiver.len()));
        }
        Ok(CrowdRow { row, receiver, variables })
    }
}

/// Why a record has the wrong number of columns. A record whose field runs over a line break
/// had a quote left open that swallowed the lines after it (a stray `"` in a name, say): the
/// message names the lines read as one row, so the row that vanished into it is not silent.
fn wrong_width(rec: &RawRecord, expected: usize) -> String {
    let breaks: Vec<u64> = rec.fields().map(|field| count_line_breaks(field, &mut false)).collect();
    // No field before the first one over a line break holds a break, so its quote opened on
    // the record's first line.
    let Some(first) = breaks.iter().copied().find(|&n| n > 0) else {
        return format!("expected {expected} columns, found {} (an extra or missing comma?)", rec.len());
    };
    let (opened, last) = (rec.line, rec.line + breaks.iter().sum::<u64>());
    format!(
        "lines {opened} to {last} were read as one row of {} columns, not {expected}: a quote opened on line \
         {opened} is closed only on line {} (a stray or unclosed \")",
        rec.len(),
        opened + first
    )
}
