//! Whole-file errors of crowd CSV parsing: the problems that make a file unusable as a crowd.

use herald_core::listing::{QUOTED_CHARS, clip, name_some};

/// A problem with a crowd file as a whole. Problems confined to one data row are not errors:
/// they are reported as [`crate::BadRow`]s and the other rows stay usable.
#[derive(Debug, thiserror::Error)]
pub enum CrowdError {
    #[error("the crowd file is empty")]
    Empty,
    #[error("the crowd file has no header row (it holds only blank lines)")]
    NoHeader,
    #[error("{}", missing_column_message(.column, .found))]
    MissingReceiverColumn { column: String, found: Vec<String> },
    #[error("header column {index} is not valid UTF-8 (save the file as UTF-8)")]
    HeaderNotUtf8 { index: usize },
    #[error("header column {index} has an empty name")]
    EmptyHeaderName { index: usize },
    #[error("the header has {count} columns; at most {limit}")]
    TooManyColumns { count: usize, limit: usize },
    #[error("header column `{}` appears more than once", clip(.name, QUOTED_CHARS))]
    DuplicateHeader { name: String },
    #[error("not a CSV file: {reason}")]
    NotCsv { reason: String },
    #[error(
        "the record starting at line {line} is longer than {limit} bytes \
         (is a quote left unclosed?)"
    )]
    RecordTooLong { line: u64, limit: u64 },
    #[error("checkpoint offset {offset} lies inside the header, which ends at byte {header_end}")]
    BadCheckpoint { offset: u64, header_end: u64 },
    #[error("reading the crowd file failed: {0}")]
    Io(#[from] std::io::Error),
}

fn missing_column_message(column: &str, found: &[String]) -> String {
    let mut msg = format!(
        "the header has no `{}` column; its {} columns are: {}",
        clip(column, QUOTED_CHARS),
        found.len(),
        name_some(found.iter().map(|c| format!("`{c}`")))
    );
    if let [only] = found {
        for (delim, name) in [(';', "semicolons"), ('\t', "tabs"), ('|', "pipes")] {
            if only.contains(delim) {
                msg.push_str(&format!(" (the file seems to separate columns with {name}; use commas)"));
                break;
            }
        }
    }
    msg
}
