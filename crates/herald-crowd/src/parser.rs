//! Low-level record parsing over a bounded buffer: csv-core driven by hand so that every
//! record's start offset and physical line are exact, blank lines are skipped, records are
//! size-capped, and reading can resume at any record boundary.

use crate::error::CrowdError;
use std::io::{self, Read, Seek, SeekFrom};

const BUF_CAPACITY: usize = 64 * 1024;
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// A read buffer that, unlike `BufReader`, can be asked for a minimum number of bytes.
struct Input<R> {
    inner: R,
    buf: Box<[u8]>,
    start: usize,
    end: usize,
}

impl<R: Read> Input<R> {
    fn new(inner: R) -> Self {
        Self { inner, buf: vec![0; BUF_CAPACITY].into_boxed_slice(), start: 0, end: 0 }
    }

    fn available(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    /// Reads until at least `min` bytes are buffered or the input ends.
    fn fill(&mut self, min: usize) -> io::Result<&[u8]> {
        debug_assert!(min <= BUF_CAPACITY);
        if self.end - self.start < min && self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        while self.end - self.start < min && self.end < self.buf.len() {
            match self.inner.read(&mut self.buf[self.end..]) {
                Ok(0) => break,
                Ok(n) => self.end += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(self.available())
    }

    fn consume(&mut self, n: usize) {
        self.start += n;
        debug_assert!(self.start <= self.end);
    }

    fn discard(&mut self) {
        self.start = 0;
        self.end = 0;
    }
}

/// One raw record: field bytes and their end positions, plus where it started.
#[derive(Debug, Default)]
pub(crate) struct RawRecord {
    data: Vec<u8>,
    ends: Vec<usize>,
    len: usize,
    /// Byte offset of the record's first byte.
    pub(crate) offset: u64,
    /// Physical line of the record's first byte.
    pub(crate) line: u64,
}

impl RawRecord {
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn field(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.data[start..self.ends[i]]
    }

    pub(crate) fn fields(&self) -> impl Iterator<Item = &[u8]> {
        (0..self.len).map(|i| self.field(i))
    }
}

/// Streams records from a reader, tracking the byte offset and line of the next record.
pub(crate) struct RecordParser<R> {
    input: Input<R>,
    core: csv_core::Reader,
    /// Byte offset of the next unconsumed byte.
    pos: u64,
    /// Physical line (1-based) of the next unconsumed byte.
    line: u64,
    /// Whether the last consumed byte was `\r`, so a `\n` after it ends no further line.
    after_cr: bool,
    max_record_bytes: u64,
}

impl<R: Read> RecordParser<R> {
    /// A parser at the very start of `inner`.
    pub(crate) fn new(inner: R, max_record_bytes: u64) -> Self {
        Self {
            input: Input::new(inner),
            core: csv_core::Reader::new(),
            pos: 0,
            line: 1,
            after_cr: false,
            max_record_bytes: max_record_bytes.max(1),
        }
    }

    pub(crate) fn pos(&self) -> u64 {
        self.pos
    }

    pub(crate) fn line(&self) -> u64 {
        self.line
    }

    /// Consumes a UTF-8 byte order mark at the start of the file. Returns `false` when the
    /// input holds no bytes besides it.
    pub(crate) fn skip_bom(&mut self) -> Result<bool, CrowdError> {
        let head = self.input.fill(BOM.len())?;
        if head.is_empty() {
            return Ok(false);
        }
        if head.starts_with(BOM) {
            self.input.consume(BOM.len());
            self.pos += BOM.len() as u64;
            return Ok(!self.input.fill(1)?.is_empty());
        }
        Ok(true)
    }

    /// Up to `n` bytes at the current position, without consuming them.
    pub(crate) fn peek(&mut self, n: usize) -> Result<&[u8], CrowdError> {
        Ok(self.input.fill(n.min(BUF_CAPACITY))?)
    }

    /// Skips blank lines. Returns `false` at the end of the input.
    fn skip_blank_lines(&mut self) -> Result<bool, CrowdError> {
        loop {
            let buf = self.input.fill(1)?;
            if buf.is_empty() {
                return Ok(false);
            }
            let n = buf.iter().take_while(|&&b| b == b'\n' || b == b'\r').count();
            self.line += count_line_breaks(&buf[..n], &mut self.after_cr);
            self.input.consume(n);
            self.pos += n as u64;
            if n < self.input.available().len() {
                return Ok(true);
            }
        }
    }

    /// Skips blank lines and returns the offset where the next record starts, or `None` at
    /// the end of the input.
    pub(crate) fn next_record_start(&mut self) -> Result<Option<u64>, CrowdError> {
        Ok(self.skip_blank_lines()?.then_some(self.pos))
    }

    /// Reads the next record into `rec`. Returns `false` at the end of the input.
    pub(crate) fn read_record(&mut self, rec: &mut RawRecord) -> Result<bool, CrowdError> {
        if !self.skip_blank_lines()? {
            return Ok(false);
        }
        rec.offset = self.pos;
        rec.line = self.line;
        rec.len = 0;
        if rec.data.is_empty() {
            rec.data.resize(1024, 0);
        }
        if rec.ends.is_empty() {
            rec.ends.resize(16, 0);
        }
        let (mut nout_total, mut nend_total) = (0, 0);
        loop {
            let input = self.input.fill(1)?;
            let (res, nin, nout, nend) =
                self.core.read_record(input, &mut rec.data[nout_total..], &mut rec.ends[nend_total..]);
            self.line += count_line_breaks(&input[..nin], &mut self.after_cr);
            self.input.consume(nin);
            self.pos += nin as u64;
            nout_total += nout;
            nend_total += nend;
            if self.pos - rec.offset > self.max_record_bytes {
                return Err(CrowdError::RecordTooLong { line: rec.line, limit: self.max_record_bytes });
            }
            match res {
                csv_core::ReadRecordResult::InputEmpty => {}
                csv_core::ReadRecordResult::OutputFull => {
                    let n = rec.data.len() * 2;
                    rec.data.resize(n, 0);
                }
                csv_core::ReadRecordResult::OutputEndsFull => {
                    let n = rec.ends.len() * 2;
                    rec.ends.resize(n, 0);
                }
                csv_core::ReadRecordResult::Record => {
                    rec.len = nend_total;
                    return Ok(true);
                }
                csv_core::ReadRecordResult::End => return Ok(false),
            }
        }
    }
}

impl<R: Read + Seek> RecordParser<R> {
    /// Moves to `offset`, a record boundary known to be on physical line `line`. Call it
    /// between records (after the header): the CSV state is kept, not reset, since a reset
    /// core strips a UTF-8 BOM again, and a row starting with one would then read
    /// differently when resumed.
    pub(crate) fn seek_to(&mut self, offset: u64, line: u64) -> Result<(), CrowdError> {
        // A record may end at a `\r` whose `\n` comes after the boundary: that `\n` ends no
        // further line.
        let mut before = [0u8; 1];
        self.after_cr = offset > 0 && {
            self.input.inner.seek(SeekFrom::Start(offset - 1))?;
            self.input.inner.read_exact(&mut before).is_ok() && before[0] == b'\r'
        };
        self.input.inner.seek(SeekFrom::Start(offset))?;
        self.input.discard();
        self.pos = offset;
        self.line = line.max(1);
        Ok(())
    }

    /// The length of the underlying input; leaves the parser where it was.
    pub(crate) fn input_len(&mut self) -> Result<u64, CrowdError> {
        let len = self.input.inner.seek(SeekFrom::End(0))?;
        let here = self.pos + self.input.available().len() as u64;
        self.input.inner.seek(SeekFrom::Start(here))?;
        Ok(len)
    }
}

/// Line breaks in `bytes` as the CSV reader sees them (and editors show them): `\n`, `\r\n`
/// and a bare `\r` each end one line. `after_cr` carries a `\r` at the end of one chunk over
/// to the next, so a `\r\n` split between chunks counts once.
pub(crate) fn count_line_breaks(bytes: &[u8], after_cr: &mut bool) -> u64 {
    let mut lines = 0;
    for &b in bytes {
        if b == b'\r' || (b == b'\n' && !*after_cr) {
            lines += 1;
        }
        *after_cr = b == b'\r';
    }
    lines
}
