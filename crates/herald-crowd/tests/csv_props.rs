//! Generated crowd files: arbitrary bytes and CSV-shaped text never panic the validator or the
//! streaming reader; a refused file says why in a bounded message, and every bad row names
//! its line (after the header's) and a reason. Cases follow `PROPTEST_CASES` (256 by
//! default); `scripts/fuzz-props.sh` runs a million.

mod common;

use common::*;
use herald_crowd::{Checkpoint, CrowdFormat, CrowdReader, RowOutcome};
use proptest::prelude::*;
use proptest::test_runner::Config;
use std::io::Cursor;

fn config() -> Config {
    Config { failure_persistence: None, ..Config::default() }
}

/// Text made of CSV's own pieces, so quoting, blank lines and ragged rows come up often.
fn csv_like() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just("userId".to_string()),
        Just(",".to_string()),
        Just("\"".to_string()),
        Just("\n".to_string()),
        Just("\r\n".to_string()),
        Just("\u{feff}".to_string()),
        "[a-z0-9 ]{0,6}",
        ".{0,4}",
    ];
    prop::collection::vec(piece, 0..60).prop_map(|pieces| pieces.concat().into_bytes())
}

fn check_file(bytes: &[u8]) -> Result<(), TestCaseError> {
    match report(bytes) {
        Err(e) => {
            let msg = e.to_string();
            prop_assert!(!msg.is_empty() && msg.len() < 2048, "{} bytes: {msg:?}", msg.len());
        }
        Ok(report) => {
            prop_assert_eq!(report.rows, report.valid_rows + report.bad_row_count);
            for bad in &report.bad_rows {
                prop_assert!(bad.line >= 2 && bad.row >= 1 && !bad.reason.is_empty(), "{bad:?}");
            }
            // The streaming reader sees the same rows the validator counted, and resuming from
            // the checkpoint after any row yields exactly the rows after it, lines included.
            let all = read_from(bytes, Checkpoint::default())?;
            let valid = all.iter().filter(|(o, _)| matches!(o, RowOutcome::Valid(_))).count() as u64;
            prop_assert_eq!((valid, all.len() as u64 - valid), (report.valid_rows, report.bad_row_count));
            for (n, (_, checkpoint)) in all.iter().enumerate() {
                let rest: Vec<RowOutcome> = read_from(bytes, *checkpoint)?.into_iter().map(|(o, _)| o).collect();
                let expected: Vec<RowOutcome> = all[n + 1..].iter().map(|(o, _)| o.clone()).collect();
                prop_assert_eq!(rest, expected, "resuming at {:?}", checkpoint);
            }
        }
    }
    Ok(())
}

/// Every row outcome from `start` on, with the checkpoint after it.
fn read_from(bytes: &[u8], start: Checkpoint) -> Result<Vec<(RowOutcome, Checkpoint)>, TestCaseError> {
    let mut reader = CrowdReader::open(Cursor::new(bytes.to_vec()), &CrowdFormat::default(), start)
        .map_err(|e| TestCaseError::fail(format!("validated but not readable: {e}")))?;
    let mut out = Vec::new();
    while let Some(outcome) = reader.next() {
        let outcome = outcome.map_err(|e| TestCaseError::fail(format!("validated but failed mid-read: {e}")))?;
        out.push((outcome, reader.checkpoint()));
    }
    Ok(out)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_bytes_are_validated_without_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        check_file(&bytes)?;
    }

    #[test]
    fn csv_shaped_text_is_validated_consistently(bytes in csv_like()) {
        check_file(&bytes)?;
    }
}
