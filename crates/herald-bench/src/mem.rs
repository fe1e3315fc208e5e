//! Resident memory of this process, from /proc/self: the current RSS, the peak (VmHWM), and a
//! reset of the peak so that each section reports its own.

use std::fs;

/// Reads a `kB` field of /proc/self/status (VmRSS, VmHWM), in KiB.
fn status_kib(field: &str) -> Option<u64> {
    status_kib_of("self", field)
}

/// Reads a `kB` field of /proc/`pid`/status, in KiB.
fn status_kib_of(pid: &str, field: &str) -> Option<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Peak resident set size since start or the last [`reset_peak`], in KiB.
pub fn peak_kib() -> u64 {
    status_kib("VmHWM:").unwrap_or(0)
}

/// Peak resident set size of another process, in KiB (0 when it cannot be read).
pub fn peak_kib_of(pid: &str) -> u64 {
    status_kib_of(pid, "VmHWM:").unwrap_or(0)
}

/// Current resident set size, in KiB.
pub fn rss_kib() -> u64 {
    status_kib("VmRSS:").unwrap_or(0)
}

/// Resets VmHWM to the current RSS (Linux `clear_refs` value 5). Returns whether it worked.
pub fn reset_peak() -> bool {
    fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// Runs `f` and returns its result with the peak RSS (KiB) seen while it ran.
pub fn with_peak<T>(f: impl FnOnce() -> T) -> (T, u64) {
    reset_peak();
    let out = f();
    (out, peak_kib())
}

pub fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}
