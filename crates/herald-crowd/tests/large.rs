//! A 200,000-row file generated on the fly validates and streams by counting, not loading.

use herald_crowd::{Checkpoint, CrowdFormat, CrowdReader, RowOutcome, validate};
use std::io::Read;

const ROWS: u64 = 200_000;

/// Generates `userId,city,note` rows on demand; every 1000th row has a blank receiver.
struct Generated {
    next_row: u64,
    pending: Vec<u8>,
    at: usize,
    produced: u64,
}

impl Generated {
    fn new() -> Self {
        Self { next_row: 0, pending: b"\xEF\xBB\xBFuserId,city,note\r\n".to_vec(), at: 0, produced: 0 }
    }
}

impl Read for Generated {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.at == self.pending.len() {
            if self.next_row == ROWS {
                return Ok(0);
            }
            self.next_row += 1;
            let i = self.next_row;
            let receiver = if i.is_multiple_of(1000) { String::new() } else { format!("u{i}") };
            self.pending = format!("{receiver},城市{},\"note, {i}\nsecond line\"\r\n", i % 7).into_bytes();
            self.at = 0;
        }
        // Odd-sized reads so records straddle buffer boundaries.
        let n = buf.len().min(self.pending.len() - self.at).min(37);
        buf[..n].copy_from_slice(&self.pending[self.at..self.at + n]);
        self.at += n;
        self.produced += n as u64;
        Ok(n)
    }
}

#[test]
fn validates_200k_generated_rows_by_streaming() {
    let mut last_progress = 0;
    let report = validate(Generated::new(), &CrowdFormat::default(), |n| last_progress = n).unwrap();
    assert_eq!(report.rows, ROWS);
    assert_eq!(report.bad_row_count, ROWS / 1000);
    assert_eq!(report.valid_rows, ROWS - ROWS / 1000);
    assert_eq!(report.bad_rows.len(), 100);
    // Each row spans two lines after the one-line header.
    assert_eq!(report.bad_rows[0].line, 2 + 999 * 2);
    assert_eq!(report.columns, ["city", "note"]);

    let mut counter = Generated::new();
    std::io::copy(&mut counter, &mut std::io::sink()).unwrap();
    assert_eq!(last_progress, counter.produced);
}

#[test]
fn streams_200k_rows_from_a_file_with_continuous_numbering() {
    let mut file = tempfile::tempfile().unwrap();
    std::io::copy(&mut Generated::new(), &mut file).unwrap();
    let reader = CrowdReader::open(file, &CrowdFormat::default(), Checkpoint::default()).unwrap();
    let mut expected = 0;
    for item in reader {
        expected += 1;
        let row = match item.unwrap() {
            RowOutcome::Valid(r) => r.row,
            RowOutcome::Invalid(b) => b.row,
        };
        assert_eq!(row, expected);
    }
    assert_eq!(expected, ROWS);
}
