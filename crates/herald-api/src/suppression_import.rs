//! Importing opt-outs from a CSV upload, for the API and the console alike: the file is parsed
//! as it arrives and written a few hundred rows at a time, so memory stays flat whatever its
//! size; each bad row is named by its line and skipped. An import only adds to the list and
//! adding is idempotent, so an interrupted import is finished by sending the file again.

use crate::crowds::multipart_error;
use crate::error::ApiError;
use crate::suppressions::channel_choice;
use crate::{ApiLimits, AppState};
use axum::body::Bytes;
use axum::extract::Multipart;
use axum::extract::multipart::Field;
use herald_core::listing::clip;
use herald_core::{ChannelKind, MessageKind, Suppression, SuppressionSource};
use serde::Serialize;
use std::io::{self, Read};
use tokio::sync::mpsc;

/// Bad rows an import answer names; the rest are counted.
pub(crate) const MAX_BAD_ROWS_LISTED: usize = 100;
/// Rows per write: one transaction each.
const ROWS_PER_WRITE: usize = 500;
/// The longest physical line read; a file without line breaks would otherwise be one record.
const MAX_LINE_BYTES: usize = 64 * 1024;
const MAX_REASON_CHARS: usize = 200;

/// What an import did.
#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ImportReport {
    /// Data rows read (the header not counted).
    pub rows: u64,
    /// Entries written (rows naming the same receiver and channel count once per write).
    pub written: u64,
    /// Rows refused.
    pub bad_count: u64,
    /// The first refused rows, by line.
    pub bad_rows: Vec<BadRow>,
}

/// A refused row.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub(crate) struct BadRow {
    /// The file's line the row starts on (1 is the first).
    pub line: u64,
    pub reason: String,
}

/// The request body limit of an import route (multipart framing adds a little).
pub(crate) fn import_body_limit(limits: &ApiLimits) -> usize {
    crate::crowds::upload_body_limit(limits)
}

/// What a row gives when its cell is blank.
#[derive(Debug, Clone, Default)]
struct RowDefaults {
    channel: Option<ChannelKind>,
    kinds: Option<Vec<MessageKind>>,
}

/// Reads an import's fields (`channel` and `kinds`, the defaults for rows without their own,
/// then `file`) and imports the file.
pub(crate) async fn receive_import(
    state: &AppState,
    mut multipart: Multipart,
    source: SuppressionSource,
) -> Result<ImportReport, ApiError> {
    let mut defaults = RowDefaults::default();
    while let Some(field) = multipart.next_field().await.map_err(multipart_error)? {
        match field.name() {
            Some("channel") => defaults.channel = channel_choice(Some(&field.text().await.map_err(multipart_error)?))?,
            Some("kinds") => {
                let text = field.text().await.map_err(multipart_error)?;
                defaults.kinds = parse_kinds(&text).map_err(|e| ApiError::field("kinds", e))?;
            }
            Some("file") => return import_file(state, field, defaults, source).await,
            _ => {}
        }
    }
    Err(ApiError::field("file", "the multipart body has no `file` field"))
}

/// Rows parsed from the file, a write's worth at a time.
#[derive(Default)]
struct Parsed {
    good: Vec<Suppression>,
    bad: Vec<BadRow>,
    rows: u64,
}

/// Streams `field` to a parser on a blocking thread and writes what it parses as it comes.
async fn import_file(
    state: &AppState,
    mut field: Field<'_>,
    defaults: RowDefaults,
    source: SuppressionSource,
) -> Result<ImportReport, ApiError> {
    let (bytes_tx, bytes_rx) = mpsc::channel::<Bytes>(4);
    let (rows_tx, mut rows_rx) = mpsc::channel::<Parsed>(2);
    let parser =
        tokio::task::spawn_blocking(move || parse_file(ChunkReader::new(bytes_rx), &defaults, source, &rows_tx));
    let limit = state.limits.max_upload_bytes;
    let pump = async move {
        let mut total = 0u64;
        while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
            total += chunk.len() as u64;
            if total > limit {
                return Err(ApiError::PayloadTooLarge(format!("the file is larger than the {limit}-byte limit")));
            }
            if bytes_tx.send(chunk).await.is_err() {
                break; // the parser stopped; its error says why
            }
        }
        Ok(())
    };
    let write = async {
        let mut report = ImportReport::default();
        while let Some(parsed) = rows_rx.recv().await {
            report.written += state.store.suppress(&parsed.good, state.clock.now()).await?;
            report.rows += parsed.rows;
            report.bad_count += parsed.bad.len() as u64;
            let room = MAX_BAD_ROWS_LISTED.saturating_sub(report.bad_rows.len());
            report.bad_rows.extend(parsed.bad.into_iter().take(room));
        }
        Ok::<_, ApiError>(report)
    };
    let (pumped, written) = tokio::join!(pump, write);
    let parsed = parser.await.map_err(|e| ApiError::Internal(format!("the import's parser stopped: {e}")))?;
    pumped?;
    let report = written?;
    parsed.map_err(|e| ApiError::field("file", e))?;
    tracing::info!(
        rows = report.rows,
        written = report.written,
        bad = report.bad_count,
        source = source.as_str(),
        "suppressions imported"
    );
    Ok(report)
}

/// Parses the whole file, handing rows to `out` a write's worth at a time; an error ends the
/// file (what came before it is kept).
fn parse_file(
    input: ChunkReader,
    defaults: &RowDefaults,
    source: SuppressionSource,
    out: &mpsc::Sender<Parsed>,
) -> Result<(), String> {
    let mut reader =
        csv::ReaderBuilder::new().has_headers(false).flexible(true).trim(csv::Trim::All).from_reader(input);
    let mut columns: Option<Columns> = None;
    let mut batch = Parsed::default();
    let mut record = csv::StringRecord::new();
    loop {
        let line = reader.position().line();
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => match e.kind() {
                csv::ErrorKind::Utf8 { .. } => {
                    batch.rows += 1;
                    batch.bad.push(BadRow { line: line.max(1), reason: "the row is not UTF-8 text".into() });
                    continue;
                }
                _ => return Err(read_error(&e)),
            },
        }
        let line = record.position().map_or(line, csv::Position::line);
        let cols = match &columns {
            Some(cols) => cols,
            None => {
                // The first record sets the columns, and is the header when it names them.
                let first = columns.insert(Columns::of(&record));
                if first.has_header {
                    continue;
                }
                first
            }
        };
        batch.rows += 1;
        match row(cols, &record, defaults, source) {
            Ok(entry) => batch.good.push(entry),
            Err(reason) => batch.bad.push(BadRow { line, reason: clip(&reason, MAX_REASON_CHARS) }),
        }
        if batch.good.len() + batch.bad.len() >= ROWS_PER_WRITE
            && out.blocking_send(std::mem::take(&mut batch)).is_err()
        {
            return Ok(()); // the writer stopped; its error says why
        }
    }
    let _ = out.blocking_send(batch);
    Ok(())
}

fn read_error(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Io(io) => io.to_string(),
        _ => e.to_string(),
    }
}

/// Where each value sits: named by a header, or the receiver first when there is none.
#[derive(Debug)]
struct Columns {
    receiver: usize,
    channel: Option<usize>,
    kinds: Option<usize>,
    note: Option<usize>,
    /// Whether the first record was a header (it names `receiver`).
    has_header: bool,
}

impl Columns {
    /// From the first record: a header if a cell says `receiver`.
    fn of(first: &csv::StringRecord) -> Self {
        let find = |name: &str| first.iter().position(|c| c.trim_start_matches('\u{feff}').eq_ignore_ascii_case(name));
        match find("receiver") {
            Some(receiver) => {
                Self { receiver, channel: find("channel"), kinds: find("kinds"), note: find("note"), has_header: true }
            }
            None => Self { receiver: 0, channel: None, kinds: None, note: None, has_header: false },
        }
    }
}

/// One row as an entry, or why not.
fn row(
    cols: &Columns,
    record: &csv::StringRecord,
    defaults: &RowDefaults,
    source: SuppressionSource,
) -> Result<Suppression, String> {
    let cell = |i: Option<usize>| i.and_then(|i| record.get(i)).filter(|c| !c.is_empty());
    let receiver = record.get(cols.receiver).unwrap_or_default().trim_start_matches('\u{feff}');
    let channel = match cell(cols.channel) {
        None => defaults.channel,
        Some(name) => channel_choice(Some(name)).map_err(|e| e.to_string())?,
    };
    let kinds = match cell(cols.kinds) {
        None => defaults.kinds.clone(),
        Some(text) => parse_kinds(text).map_err(|e| format!("kinds: {e}"))?,
    };
    Suppression::new(receiver, channel, kinds.as_deref(), source, cell(cols.note))
        .map_err(|problems| problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))
}

/// A list of kinds (`marketing,notice`, separated by commas, semicolons, bars or spaces);
/// None when blank.
pub(crate) fn parse_kinds(text: &str) -> Result<Option<Vec<MessageKind>>, String> {
    let words: Vec<&str> = text.split([',', ';', '|', ' ']).map(str::trim).filter(|w| !w.is_empty()).collect();
    if words.is_empty() {
        return Ok(None);
    }
    words
        .into_iter()
        .map(|w| {
            MessageKind::parse(w)
                .ok_or_else(|| format!("{:?} is not a kind: give notice, marketing or verification", clip(w, 40)))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// The upload's chunks as a `Read` for the parser's thread, refusing an over-long line.
struct ChunkReader {
    chunks: mpsc::Receiver<Bytes>,
    current: Bytes,
    since_line_break: usize,
}

impl ChunkReader {
    fn new(chunks: mpsc::Receiver<Bytes>) -> Self {
        Self { chunks, current: Bytes::new(), since_line_break: 0 }
    }
}

impl Read for ChunkReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            match self.chunks.blocking_recv() {
                Some(chunk) => self.current = chunk,
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        let taken = self.current.split_to(n);
        self.since_line_break = match taken.iter().rposition(|b| *b == b'\n') {
            Some(at) => n - at - 1,
            None => self.since_line_break + n,
        };
        if self.since_line_break > MAX_LINE_BYTES {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("a line is longer than {} KiB", MAX_LINE_BYTES / 1024),
            ));
        }
        buf[..n].copy_from_slice(&taken);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &'static str, defaults: RowDefaults) -> (Vec<Suppression>, Vec<BadRow>, u64) {
        let (bytes_tx, bytes_rx) = mpsc::channel(16);
        let (rows_tx, mut rows_rx) = mpsc::channel(16);
        bytes_tx.try_send(Bytes::from_static(text.as_bytes())).unwrap();
        drop(bytes_tx);
        parse_file(ChunkReader::new(bytes_rx), &defaults, SuppressionSource::Import, &rows_tx).unwrap();
        drop(rows_tx);
        let mut all = Parsed::default();
        while let Ok(p) = rows_rx.try_recv() {
            all.good.extend(p.good);
            all.bad.extend(p.bad);
            all.rows += p.rows;
        }
        (all.good, all.bad, all.rows)
    }

    #[test]
    fn a_headed_file_reads_its_columns_by_name_and_names_bad_rows_by_line() {
        let text = "\u{feff}note,Receiver,channel,kinds\n\
                    asked by phone,13800000000,sms,\n\
                    ,A@Example.com,,notice marketing\n\
                    ,x@y.z,fax,\n\
                    ,,sms,\n\
                    ,u1,all,verification\n";
        let (good, bad, rows) = parse(text, RowDefaults::default());
        assert_eq!(rows, 5);
        let receivers: Vec<&str> = good.iter().map(|s| s.receiver.as_str()).collect();
        assert_eq!(receivers, ["13800000000", "a@example.com", "u1"]);
        assert_eq!(good[0].channel, Some(ChannelKind::Sms));
        assert_eq!(good[0].note.as_deref(), Some("asked by phone"));
        assert_eq!(good[1].kinds.to_string(), "notice,marketing");
        assert_eq!(good[2].channel, None);
        let lines: Vec<u64> = bad.iter().map(|b| b.line).collect();
        assert_eq!(lines, [4, 5]);
        assert!(bad[0].reason.contains("\"fax\" is not a channel"), "{}", bad[0].reason);
        assert!(bad[1].reason.contains("receiver: must not be blank"), "{}", bad[1].reason);
    }

    #[test]
    fn a_file_without_a_header_has_the_receiver_first_and_takes_the_forms_defaults() {
        let defaults = RowDefaults { channel: Some(ChannelKind::Email), kinds: Some(vec![MessageKind::Notice]) };
        let (good, bad, rows) = parse("a@b.c,ignored\n\nb@c.d\n", defaults);
        assert_eq!((good.len(), bad.len(), rows), (2, 0, 2));
        assert!(good.iter().all(|s| s.channel == Some(ChannelKind::Email) && s.kinds.to_string() == "notice"));
    }

    #[test]
    fn kinds_are_read_from_a_list_and_an_unknown_one_is_named() {
        assert_eq!(parse_kinds(" "), Ok(None));
        assert_eq!(parse_kinds("notice;verification"), Ok(Some(vec![MessageKind::Notice, MessageKind::Verification])));
        assert!(parse_kinds("marketing,promo").unwrap_err().contains("\"promo\" is not a kind"));
    }

    #[test]
    fn a_line_without_end_is_refused_not_buffered() {
        let (bytes_tx, bytes_rx) = mpsc::channel(4);
        let (rows_tx, _rows_rx) = mpsc::channel(4);
        let long = "x".repeat(MAX_LINE_BYTES + 10);
        bytes_tx.try_send(Bytes::from(long)).unwrap();
        drop(bytes_tx);
        let error =
            parse_file(ChunkReader::new(bytes_rx), &RowDefaults::default(), SuppressionSource::Import, &rows_tx)
                .unwrap_err();
        assert!(error.contains("longer than 64 KiB"), "{error}");
    }
}
