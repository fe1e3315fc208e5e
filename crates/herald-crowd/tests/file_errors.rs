//! Whole-file errors: files that cannot be used as a crowd at all.

mod common;

use common::*;
use herald_crowd::{CrowdError, CrowdFormat, validate};

#[test]
fn empty_file() {
    assert!(matches!(report(b""), Err(CrowdError::Empty)));
}

#[test]
fn a_file_holding_only_a_bom_is_empty() {
    assert!(matches!(report(b"\xEF\xBB\xBF"), Err(CrowdError::Empty)));
}

#[test]
fn a_file_of_blank_lines_has_no_header() {
    assert!(matches!(report(b"\n\r\n\n"), Err(CrowdError::NoHeader)));
}

#[test]
fn missing_receiver_column_lists_the_header_columns() {
    let err = report(b"user,name,city\nu1,a,b\n").unwrap_err();
    match &err {
        CrowdError::MissingReceiverColumn { column, found } => {
            assert_eq!(column, "userId");
            assert_eq!(found, &["user", "name", "city"]);
        }
        other => panic!("unexpected {other:?}"),
    }
    let msg = err.to_string();
    assert!(msg.contains("`userId`") && msg.contains("`user`, `name`, `city`"), "{msg}");
}

#[test]
fn missing_receiver_column_hints_at_a_wrong_delimiter() {
    let msg = report(b"userId;name\nu1;a\n").unwrap_err().to_string();
    assert!(msg.contains("semicolons"), "{msg}");
}

#[test]
fn non_utf8_header() {
    let err = report(b"userId,n\xffme\nu1,a\n").unwrap_err();
    assert!(matches!(err, CrowdError::HeaderNotUtf8 { index: 2 }), "{err:?}");
}

#[test]
fn duplicate_header_names() {
    let err = report(b"userId,name, name\nu1,a,b\n").unwrap_err();
    assert!(matches!(&err, CrowdError::DuplicateHeader { name } if name == "name"), "{err:?}");
}

#[test]
fn empty_header_name() {
    let err = report(b"userId,,city\nu1,a,b\n").unwrap_err();
    assert!(matches!(err, CrowdError::EmptyHeaderName { index: 2 }), "{err:?}");
}

#[test]
fn binary_file_is_not_csv() {
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0";
    assert!(matches!(report(png), Err(CrowdError::NotCsv { .. })));
}

#[test]
fn xlsx_file_is_not_csv() {
    let err = report(b"PK\x03\x04\x14\0\x06\0\x08\0\0\0!\0").unwrap_err();
    assert!(err.to_string().contains("Excel"), "{err}");
}

#[test]
fn header_without_line_break_within_the_limit_is_not_csv() {
    let opts = CrowdFormat { max_record_bytes: 1000, ..CrowdFormat::default() };
    let blob = vec![b'a'; 5000];
    let err = validate(&blob[..], &opts, |_| {}).unwrap_err();
    assert!(matches!(err, CrowdError::NotCsv { .. }), "{err:?}");
}

#[test]
fn unclosed_quote_is_stopped_at_the_record_limit() {
    let opts = CrowdFormat { max_record_bytes: 1000, ..CrowdFormat::default() };
    let mut csv = b"userId,n\nu1,a\nu2,\"open\n".to_vec();
    for _ in 0..500 {
        csv.extend_from_slice(b"u3,b\n");
    }
    let err = validate(&csv[..], &opts, |_| {}).unwrap_err();
    assert!(matches!(err, CrowdError::RecordTooLong { line: 3, limit: 1000 }), "{err:?}");
}

#[test]
fn io_errors_are_reported() {
    struct Failing;
    impl std::io::Read for Failing {
        fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("disk on fire"))
        }
    }
    let err = validate(Failing, &CrowdFormat::default(), |_| {}).unwrap_err();
    assert!(matches!(err, CrowdError::Io(_)), "{err:?}");
}

#[test]
fn utf16_file_is_not_csv() {
    let utf16: Vec<u8> = "\u{FEFF}userId,n\n".encode_utf16().flat_map(u16::to_le_bytes).collect();
    let err = report(&utf16).unwrap_err();
    assert!(err.to_string().contains("UTF-16"), "{err}");
}

#[test]
fn a_header_wider_than_the_column_cap_is_refused() {
    let header: Vec<String> =
        std::iter::once("userId".to_string()).chain((1..=herald_crowd::MAX_COLUMNS).map(|n| format!("c{n}"))).collect();
    let csv = format!("{}\n", header.join(","));
    let err = report(csv.as_bytes()).unwrap_err();
    assert!(matches!(err, CrowdError::TooManyColumns { count, limit } if count == limit + 1), "{err:?}");
    let at_cap = format!("{}\n", header[..herald_crowd::MAX_COLUMNS].join(","));
    assert!(report(at_cap.as_bytes()).is_ok());
}

#[test]
fn a_missing_receiver_column_in_a_wide_header_gives_a_short_message() {
    let header: Vec<String> = (0..1000).map(|n| format!("column_{n:05}_{}", "x".repeat(100))).collect();
    let msg = report(format!("{}\n", header.join(",")).as_bytes()).unwrap_err().to_string();
    assert!(msg.len() < 800, "{} bytes: {msg}", msg.len());
    assert!(msg.contains("1000 columns") && msg.contains("and 995 more"), "{msg}");
}

/// Found by the property test: a bare `\r` ends a record (and a line, in any editor), but
/// bad rows after one were reported on the header's line.
#[test]
fn bad_rows_after_a_bare_carriage_return_name_their_own_line() {
    let report = report(b"userId,name\r,x\r\nu1,a\n\n,y\n").unwrap();
    let lines: Vec<u64> = report.bad_rows.iter().map(|b| b.line).collect();
    assert_eq!(lines, [2, 5]);
}
