//! The benchmark at its smallest size, so the command cannot rot: it must run to the end and
//! print every comparison beside its limit. Its figures are not asserted (a test is no place to
//! time things; BENCHMARKS.md holds the full release run).

use std::process::Command;

#[test]
fn every_comparison_runs_at_the_smallest_size() {
    let out = Command::new(env!("CARGO_BIN_EXE_herald-bench")).args(["--rows", "1000"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    for row in [
        "| crowd CSV: validate |",
        "| crowd CSV: checkpointed streaming into batches of 100 |",
        "| HTTP: requests/s |",
        "| end to end (embedded): run-now -> all delivered (completed) |",
        "| Kafka publish, bounded concurrency |",
    ] {
        let line = stdout.lines().find(|l| l.starts_with(row)).unwrap_or_else(|| panic!("no {row} row:\n{stdout}"));
        assert_eq!(line.matches(" | ").count(), 4, "limit, figure, ratio and notes in {line}");
    }
    assert!(stdout.contains("1,000 rows; "), "{stdout}");
}
