//! Hands the heap a node has freed back to the system while it runs. glibc's malloc keeps what
//! a thread frees inside that thread's arena for the thread to reuse; over a long send the
//! node's threads (tokio's workers, sqlx's SQLite connection threads) churn through batches,
//! rows and statements, and their arenas held twice what was in use (`malloc_stats` one third
//! into a 1,000,000-row send: 42 MB held, 14 MB in use, all of it resident). `malloc_trim(0)`
//! returns every whole free page of every arena (42.9 -> 20.8 MiB resident, called there); every
//! 100 ms it keeps the node's resident memory near what it uses (BENCHMARKS.md). With another
//! allocator (musl, other systems) it does nothing.

use std::sync::Once;
use std::time::{Duration, Instant};

/// How often the freed heap is handed back: once a second left the publish phase's churn
/// (13 KB bus payloads, ~550 a second) 10 MiB of saw on top of what is in use; every 250 ms the
/// node peaked at 64.2 MiB over a 5,000,000-row send, every 100 ms at 60.8 MiB (one run each,
/// the same build otherwise; a trim takes 1 to 5 ms of this thread during a send).
pub const EVERY: Duration = Duration::from_millis(100);

/// Whether this build's allocator is glibc's, the one this is for.
const GLIBC: bool = cfg!(all(target_os = "linux", target_env = "gnu"));

/// Starts the process's trimmer on the first call (on glibc; elsewhere it does nothing): a
/// thread of its own that trims every [`EVERY`] until the process ends, off the runtime's
/// workers (a trim walks every arena, 1 to 5 ms during a send). A trim covers the whole
/// process, so one trimmer serves however many nodes it runs (the tests and the bench run
/// several).
pub fn start() {
    static STARTED: Once = Once::new();
    if !GLIBC {
        return;
    }
    STARTED.call_once(|| {
        let trimmer = std::thread::Builder::new().name("heap-trim".into()).spawn(|| {
            loop {
                std::thread::sleep(EVERY);
                let started = Instant::now();
                trim();
                tracing::trace!(took_us = started.elapsed().as_micros() as u64, "heap trimmed");
            }
        });
        if let Err(e) = trimmer {
            tracing::warn!(error = %e, "could not start the heap trimmer; freed heap stays with the allocator");
        }
    });
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn trim() {
    // SAFETY: malloc_trim takes no pointer and frees nothing in use: it locks each arena in
    // turn and advises the kernel that its free pages may be dropped.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn trim() {}

#[cfg(all(test, target_os = "linux", target_env = "gnu"))]
mod tests {
    use super::trim;

    /// This process's resident anonymous memory, in KiB.
    fn rss_anon_kib() -> u64 {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let line = status.lines().find(|l| l.starts_with("RssAnon:")).unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    }

    #[test]
    fn a_trim_returns_the_freed_pages_an_arena_kept() {
        // 64 MiB in 4 KiB blocks on a thread of its own (its own arena), all freed but the last
        // one allocated: the free space lies below a block in use, where glibc keeps it resident.
        // No node starts in this test binary, so no trimmer thread runs beside the test.
        let (last, kept_kib) = std::thread::spawn(|| {
            let mut blocks: Vec<Vec<u8>> = (0..16_384).map(|_| vec![1u8; 4096]).collect();
            let last = blocks.pop().unwrap();
            drop(blocks);
            (last, rss_anon_kib())
        })
        .join()
        .unwrap();
        trim();
        let after_kib = rss_anon_kib();
        assert!(
            kept_kib.saturating_sub(after_kib) >= 32 * 1024,
            "resident anonymous memory went from {kept_kib} KiB to {after_kib} KiB; expected the freed 64 MiB back"
        );
        drop(last);
    }
}
