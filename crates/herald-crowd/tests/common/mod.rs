//! Helpers shared by the crowd integration tests.
#![allow(dead_code)]

use herald_crowd::{
    BadRow, Checkpoint, CrowdError, CrowdFormat, CrowdReader, CrowdRow, RowOutcome, ValidationReport, validate,
};
use std::io::{Cursor, Read};

pub fn report(csv: &[u8]) -> Result<ValidationReport, CrowdError> {
    validate(csv, &CrowdFormat::default(), |_| {})
}

pub fn report_ok(csv: &[u8]) -> ValidationReport {
    report(csv).expect("file should validate")
}

/// Every row outcome with the checkpoint after it.
pub fn read_all(csv: &[u8], opts: &CrowdFormat) -> Vec<(RowOutcome, Checkpoint)> {
    let mut reader = CrowdReader::open(Cursor::new(csv.to_vec()), opts, Checkpoint::default()).unwrap();
    let mut out = Vec::new();
    while let Some(item) = reader.next() {
        out.push((item.unwrap(), reader.checkpoint()));
    }
    out
}

pub fn valid_rows(csv: &[u8]) -> Vec<CrowdRow> {
    read_all(csv, &CrowdFormat::default())
        .into_iter()
        .filter_map(|(o, _)| match o {
            RowOutcome::Valid(r) => Some(r),
            RowOutcome::Invalid(_) => None,
        })
        .collect()
}

pub fn var<'a>(row: &'a CrowdRow, name: &str) -> &'a str {
    row.variables.get(name).unwrap_or_else(|| panic!("no variable {name} in {row:?}"))
}

pub fn bad(line: u64, row: u64, reason_part: &str, report: &ValidationReport) -> BadRow {
    let found = report
        .bad_rows
        .iter()
        .find(|b| b.line == line)
        .unwrap_or_else(|| panic!("no bad row on line {line}: {:?}", report.bad_rows))
        .clone();
    assert_eq!(found.row, row, "{found:?}");
    assert!(found.reason.contains(reason_part), "{found:?} should mention {reason_part:?}");
    found
}

/// A reader that hands out at most one byte per read call.
pub struct Trickle<'a>(pub &'a [u8]);

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.0.is_empty() || buf.is_empty() {
            return Ok(0);
        }
        buf[0] = self.0[0];
        self.0 = &self.0[1..];
        Ok(1)
    }
}

/// A file exercising everything at once: BOM, CRLF and LF, quoted commas and newlines,
/// blank lines, bad rows, CJK, no trailing newline.
pub fn tricky_file() -> Vec<u8> {
    let mut f = b"\xEF\xBB\xBFuserId,city,note\r\n".to_vec();
    f.extend_from_slice("u1,北京,\"a, b\"\r\n".as_bytes());
    f.extend_from_slice(b"\r\n");
    f.extend_from_slice(b"u2,x,\"multi\nline\r\nnote\"\n");
    f.extend_from_slice(b",blank,receiver\n");
    f.extend_from_slice(b"\n\n");
    f.extend_from_slice(b"u3,extra,comma,\n");
    f.extend_from_slice(b"u4,\xff\xfe,bad utf8\n");
    f.extend_from_slice("u5,上海,\"\"\"quoted\"\"\"\n".as_bytes());
    f.extend_from_slice(b"u6,\"\",\"\n\"\n");
    f.extend_from_slice(b"u7,last,row");
    f
}
