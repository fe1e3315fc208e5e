//! `herald crowd check FILE`: validates a crowd CSV as an upload would, with a progress bar,
//! and prints the report.

use indicatif::{ProgressBar, ProgressStyle};
use std::io::BufReader;
use std::path::Path;
use std::process::ExitCode;

pub fn run(file: &Path, receiver_column: &str) -> anyhow::Result<ExitCode> {
    let handle = std::fs::File::open(file).map_err(|e| anyhow::anyhow!("cannot open {}: {e}", file.display()))?;
    let size = handle.metadata()?.len();
    let bar = ProgressBar::new(size).with_style(
        ProgressStyle::with_template("{spinner} [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")?
            .progress_chars("=> "),
    );
    let format = herald_crowd::CrowdFormat::with_receiver_column(receiver_column);
    let report = herald_crowd::validate(BufReader::new(handle), &format, |bytes| bar.set_position(bytes));
    bar.finish_and_clear();
    let report = match report {
        Ok(r) => r,
        Err(e) => {
            println!("{}: unusable: {e}", file.display());
            return Ok(ExitCode::FAILURE);
        }
    };
    println!("{}", file.display());
    println!("  receiver column: {}", report.receiver_column);
    println!("  variable columns: {}", report.columns.join(", "));
    println!("  rows: {} ({} valid, {} bad)", report.rows, report.valid_rows, report.bad_row_count);
    for bad in &report.bad_rows {
        println!("  line {}: {}", bad.line, bad.reason);
    }
    if report.bad_row_count > report.bad_rows.len() as u64 {
        println!("  ... and {} more bad rows", report.bad_row_count - report.bad_rows.len() as u64);
    }
    Ok(if report.bad_row_count == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
