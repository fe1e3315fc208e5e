//! Crowd CSV: the raw `csv` crate parse (the limit) against herald's validation and its
//! checkpointed row streaming into batches, on the same generated austin-style file.

use crate::mem;
use crate::report::{Row, mib, per_sec, rate, thousands};
use anyhow::{Context, ensure};
use herald_core::{Batcher, CrowdRow};
use herald_crowd::{Checkpoint, CrowdFormat, CrowdReader, RowOutcome};
use std::fs::File;
use std::hint::black_box;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::{Duration, Instant};

/// Timed passes per measurement; the best is kept (the file is in the page cache throughout).
const PASSES: usize = 3;

/// Row `n` of the generated crowds (1-based), as herald's own tests write it.
pub fn row(n: usize) -> CrowdRow {
    CrowdRow {
        row: n as u64,
        receiver: receiver(n),
        variables: [("name".to_owned(), format!("用户{n}")), ("code".to_owned(), code(n))].into(),
    }
}

fn receiver(n: usize) -> String {
    format!("139{n:08}")
}

fn code(n: usize) -> String {
    format!("{:06}", n * 7 % 1_000_000)
}

/// Writes an austin-style crowd (`userId,name,code`, every row distinct) of `rows` rows.
pub fn write_crowd(out: impl Write, rows: usize) -> std::io::Result<()> {
    let mut out = BufWriter::new(out);
    out.write_all(b"userId,name,code\n")?;
    for n in 1..=rows {
        writeln!(out, "{},用户{n},{}", receiver(n), code(n))?;
    }
    out.flush()
}

/// A generated crowd of `rows` rows in a temporary file.
pub fn temp_crowd(rows: usize) -> anyhow::Result<tempfile::NamedTempFile> {
    let file = tempfile::NamedTempFile::new().context("temp file")?;
    write_crowd(file.as_file(), rows).context("writing the crowd")?;
    Ok(file)
}

/// The bare `csv` crate's `ByteRecord` loop over a crowd file: calls `each` with the header
/// record and every data record; returns the number of data records.
pub fn for_each_record(
    path: &Path,
    mut each: impl FnMut(&csv::ByteRecord, &csv::ByteRecord) -> anyhow::Result<()>,
) -> anyhow::Result<usize> {
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_path(path)?;
    let header = reader.byte_headers()?.clone();
    let mut record = csv::ByteRecord::new();
    let mut rows = 0;
    while reader.read_byte_record(&mut record)? {
        each(&header, &record)?;
        rows += 1;
    }
    Ok(rows)
}

/// The limit: the `csv` crate's `ByteRecord` loop, counting rows.
fn raw_parse(path: &Path) -> anyhow::Result<usize> {
    for_each_record(path, |_, record| {
        black_box(record);
        Ok(())
    })
}

fn herald_validate(path: &Path) -> anyhow::Result<usize> {
    let report = herald_crowd::validate(File::open(path)?, &CrowdFormat::default(), |_| {})?;
    ensure!(report.bad_row_count == 0, "generated crowd has bad rows");
    Ok(report.rows as usize)
}

/// What the streamer's reading half does: rows from a checkpoint, grouped into batches of 100,
/// with the checkpoint taken after each batch.
fn herald_stream(path: &Path) -> anyhow::Result<usize> {
    let mut reader = CrowdReader::open(File::open(path)?, &CrowdFormat::default(), Checkpoint::default())?;
    let mut batcher = Batcher::new(herald_core::Installation::new("bench"), 1);
    let mut rows = 0;
    while let Some(outcome) = reader.next() {
        let RowOutcome::Valid(row) = outcome? else { anyhow::bail!("generated crowd has a bad row") };
        rows += 1;
        if let Some(batch) = batcher.push(row) {
            black_box((batch, reader.checkpoint()));
        }
    }
    black_box(batcher.finish());
    Ok(rows)
}

struct Measured {
    best: Duration,
    /// Peak RSS during the passes over the large file, and during one pass over the small one.
    peak_large: u64,
    peak_small: u64,
}

fn measure(
    f: fn(&Path) -> anyhow::Result<usize>,
    small: &Path,
    small_rows: usize,
    large: &Path,
    rows: usize,
) -> anyhow::Result<Measured> {
    let (n, peak_small) = mem::with_peak(|| f(small));
    ensure!(n? == small_rows, "row count of the small crowd");
    f(large)?; // warm-up
    mem::reset_peak();
    let mut best = Duration::MAX;
    for _ in 0..PASSES {
        let started = Instant::now();
        let n = f(large)?;
        best = best.min(started.elapsed());
        ensure!(n == rows, "read {n} rows of {rows}");
    }
    Ok(Measured { best, peak_large: mem::peak_kib(), peak_small })
}

/// Runs the CSV comparisons on a `rows`-row file (and a `small_rows`-row one for memory).
pub fn run(rows: usize, small_rows: usize) -> anyhow::Result<Vec<Row>> {
    let large = temp_crowd(rows)?;
    let small = temp_crowd(small_rows)?;
    let bytes = std::fs::metadata(large.path())?.len();
    let m = |f| measure(f, small.path(), small_rows, large.path(), rows);
    let raw = m(raw_parse)?;
    let validate = m(herald_validate)?;
    let stream = m(herald_stream)?;

    let limit = rate(rows, raw.best);
    let r = |x: &Measured| rate(rows, x.best);
    let size = format!("{} rows, {:.1} MiB", thousands(rows as f64), bytes as f64 / (1 << 20) as f64);
    let table = vec![
        Row::new(
            "crowd CSV: validate",
            per_sec(limit, "rows"),
            per_sec(r(&validate), "rows"),
            Some(r(&validate) / limit),
            format!("{size}; limit = `csv` ByteRecord loop; herald = `herald_crowd::validate`; best of {PASSES}"),
        ),
        Row::new(
            "crowd CSV: checkpointed streaming into batches of 100",
            per_sec(limit, "rows"),
            per_sec(r(&stream), "rows"),
            Some(r(&stream) / limit),
            format!("{size}; herald = `CrowdReader` + `Batcher`, checkpoint per batch; best of {PASSES}"),
        ),
        Row::new(
            "crowd CSV: peak RSS, small -> large file",
            format!("{} -> {}", mib(raw.peak_small), mib(raw.peak_large)),
            format!("{} -> {}", mib(stream.peak_small), mib(stream.peak_large)),
            Some(stream.peak_large as f64 / raw.peak_large as f64),
            format!(
                "whole-process VmHWM per pass, {} vs {} rows; validate: {} -> {}",
                thousands(small_rows as f64),
                thousands(rows as f64),
                mib(validate.peak_small),
                mib(validate.peak_large)
            ),
        ),
    ];
    Ok(table)
}
