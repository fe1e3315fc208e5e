//! Whole-file validation: one streaming pass that counts rows and reports the bad ones.

use crate::error::CrowdError;
use crate::header::Header;
use crate::model::{CrowdFormat, RowOutcome, ValidationReport};
use crate::parser::{RawRecord, RecordParser};
use std::io::Read;

/// How often, in bytes, `validate` reports progress.
const PROGRESS_EVERY: u64 = 256 * 1024;

/// Validates a crowd file in one streaming pass, never holding more than one record.
///
/// `on_progress` receives the number of bytes read so far, every few hundred KiB and once
/// at the end. Bad rows do not fail validation; they are counted and the first
/// [`CrowdFormat::max_reported_bad_rows`] are listed in the report.
pub fn validate<R: Read>(
    reader: R,
    opts: &CrowdFormat,
    mut on_progress: impl FnMut(u64),
) -> Result<ValidationReport, CrowdError> {
    let mut parser = RecordParser::new(reader, opts.max_record_bytes);
    let header = Header::read(&mut parser, opts)?;
    let mut report = ValidationReport {
        rows: 0,
        valid_rows: 0,
        bad_row_count: 0,
        bad_rows: Vec::new(),
        receiver_column: header.receiver_column().to_string(),
        columns: header.variable_columns(),
    };
    let mut rec = RawRecord::default();
    let mut reported = 0;
    while parser.read_record(&mut rec)? {
        report.rows += 1;
        match header.classify(&rec, report.rows) {
            RowOutcome::Valid(_) => report.valid_rows += 1,
            RowOutcome::Invalid(bad) => {
                report.bad_row_count += 1;
                if report.bad_rows.len() < opts.max_reported_bad_rows {
                    report.bad_rows.push(bad);
                }
            }
        }
        if parser.pos() - reported >= PROGRESS_EVERY {
            reported = parser.pos();
            on_progress(reported);
        }
    }
    on_progress(parser.pos());
    Ok(report)
}
