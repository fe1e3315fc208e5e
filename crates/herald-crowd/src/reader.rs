//! Reading rows from a checkpoint, optionally up to the end of a shard, and splitting a file
//! into shards aligned to record boundaries.

use crate::error::CrowdError;
use crate::header::Header;
use crate::model::{Checkpoint, CrowdFormat, RowOutcome, Shard};
use crate::parser::{RawRecord, RecordParser};
use std::io::{Read, Seek, SeekFrom};

/// Streams the data rows of a crowd file from a [`Checkpoint`], one record in memory at a
/// time. Iterate it; after each item, [`CrowdReader::checkpoint`] is where to resume.
pub struct CrowdReader<R> {
    parser: RecordParser<R>,
    header: Header,
    rec: RawRecord,
    rows_read: u64,
    end_offset: Option<u64>,
    finished: bool,
}

impl<R: Read + Seek> CrowdReader<R> {
    /// Reads and checks the header, then positions the reader at `from` (the first data
    /// row when `from` is the default checkpoint).
    pub fn open(reader: R, opts: &CrowdFormat, from: Checkpoint) -> Result<Self, CrowdError> {
        Self::open_range(reader, opts, from, None)
    }

    /// Like [`CrowdReader::open`], but stops before the first record that starts at or after
    /// `end_offset`.
    pub fn open_range(
        mut reader: R,
        opts: &CrowdFormat,
        start: Checkpoint,
        end_offset: Option<u64>,
    ) -> Result<Self, CrowdError> {
        reader.seek(SeekFrom::Start(0))?;
        let mut parser = RecordParser::new(reader, opts.max_record_bytes);
        let header = Header::read(&mut parser, opts)?;
        let mut rows_read = 0;
        if !start.is_start() {
            if start.offset < parser.pos() {
                return Err(CrowdError::BadCheckpoint { offset: start.offset, header_end: parser.pos() });
            }
            parser.seek_to(start.offset, start.line)?;
            rows_read = start.rows_read;
        }
        Ok(Self { parser, header, rec: RawRecord::default(), rows_read, end_offset, finished: false })
    }
}

impl<R: Read> CrowdReader<R> {
    /// The position just after the last record returned: resuming there yields the next one.
    pub fn checkpoint(&self) -> Checkpoint {
        Checkpoint { offset: self.parser.pos(), rows_read: self.rows_read, line: self.parser.line() }
    }

    pub fn receiver_column(&self) -> &str {
        self.header.receiver_column()
    }

    /// The variable columns in header order.
    pub fn columns(&self) -> Vec<String> {
        self.header.variable_columns()
    }

    fn read_next(&mut self) -> Result<Option<RowOutcome>, CrowdError> {
        let Some(start) = self.parser.next_record_start()? else {
            return Ok(None);
        };
        if self.end_offset.is_some_and(|end| start >= end) {
            return Ok(None);
        }
        if !self.parser.read_record(&mut self.rec)? {
            return Ok(None);
        }
        self.rows_read += 1;
        Ok(Some(self.header.classify(&self.rec, self.rows_read)))
    }
}

impl<R: Read> Iterator for CrowdReader<R> {
    type Item = Result<RowOutcome, CrowdError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.finished {
            return None;
        }
        let item = self.read_next().transpose();
        if !matches!(item, Some(Ok(_))) {
            self.finished = true;
        }
        item
    }
}

/// Splits a crowd file into at most `shards` byte ranges that start at record boundaries
/// and together cover every data row exactly once. Reads the file once at most, streaming;
/// small files may yield fewer shards than asked for (always at least one).
pub fn split_offsets<R: Read + Seek>(
    mut reader: R,
    opts: &CrowdFormat,
    shards: usize,
) -> Result<Vec<Shard>, CrowdError> {
    reader.seek(SeekFrom::Start(0))?;
    let mut parser = RecordParser::new(reader, opts.max_record_bytes);
    Header::read(&mut parser, opts)?;
    let first = Checkpoint { offset: parser.pos(), rows_read: 0, line: parser.line() };
    let len = parser.input_len()?;
    let body = len.saturating_sub(first.offset);
    let shards = shards.max(1) as u64;
    let targets: Vec<u64> =
        (1..shards).map(|i| first.offset + (u128::from(body) * u128::from(i) / u128::from(shards)) as u64).collect();

    let mut starts = vec![first];
    let mut rec = RawRecord::default();
    let mut rows_read = 0;
    let mut next_target = 0;
    while next_target < targets.len() && parser.read_record(&mut rec)? {
        rows_read += 1;
        let here = parser.pos();
        if here >= len {
            break;
        }
        if here >= targets[next_target] {
            starts.push(Checkpoint { offset: here, rows_read, line: parser.line() });
            while next_target < targets.len() && here >= targets[next_target] {
                next_target += 1;
            }
        }
    }
    let ends = starts.iter().skip(1).map(|c| Some(c.offset)).chain([None]);
    Ok(starts.iter().zip(ends).map(|(&start, end_offset)| Shard { start, end_offset }).collect())
}
