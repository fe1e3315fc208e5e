//! The printed table: one row per comparison, and number formatting.

use std::time::Duration;

pub struct Row {
    pub what: String,
    pub limit: String,
    pub herald: String,
    pub ratio: String,
    pub notes: String,
}

impl Row {
    pub fn new(what: &str, limit: String, herald: String, ratio: Option<f64>, notes: String) -> Self {
        let ratio = ratio.map_or_else(|| "n/a".to_owned(), significant);
        Self { what: what.to_owned(), limit, herald, ratio, notes }
    }
}

/// Two decimals, or two significant digits for small ratios: 0.5 -> "0.50", 0.00123 -> "0.0012".
pub fn significant(r: f64) -> String {
    let decimals = if r > 0.0 && r < 0.1 { (1.0 - r.log10().floor()) as usize } else { 2 };
    format!("{r:.decimals$}")
}

pub fn print_table(rows: &[Row]) {
    println!("| what | limit | herald | ratio (herald/limit) | notes |");
    println!("| --- | --- | --- | --- | --- |");
    for r in rows {
        println!("| {} | {} | {} | {} | {} |", r.what, r.limit, r.herald, r.ratio, r.notes);
    }
}

/// Items per second.
pub fn rate(items: usize, elapsed: Duration) -> f64 {
    items as f64 / elapsed.as_secs_f64()
}

/// A whole number with thousands separators: 1234567.8 -> "1,234,568".
pub fn thousands(x: f64) -> String {
    let digits = format!("{:.0}", x.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

pub fn per_sec(x: f64, unit: &str) -> String {
    format!("{} {unit}/s", thousands(x))
}

pub fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

pub fn millis(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

pub fn mib(kib: u64) -> String {
    format!("{:.1} MiB", crate::mem::mib(kib))
}

/// The scheduler-at-scale table: one row per (implementation, schedule count).
pub fn print_scheduler_table(rows: &[crate::sched::SchedulerRow]) {
    println!(
        "| scheduler | schedules | fires recorded / expected | lateness p50 | p99 | max | CPU s in window | peak RSS | notes |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for r in rows {
        let f = &r.figures;
        let late = |pick: fn(&crate::sched::Lateness) -> Duration| {
            f.lateness.as_ref().map_or("n/a".to_owned(), |l| millis(pick(l)))
        };
        println!(
            "| {} | {} | {} / {} | {} | {} | {} | {:.2} | {} | {} |",
            r.implementation,
            thousands(r.schedules as f64),
            thousands(f.recorded as f64),
            thousands(f.expected as f64),
            late(|l| l.p50),
            late(|l| l.p99),
            late(|l| l.max),
            f.cpu_secs,
            match f.rss_at_start_kib {
                Some(start) => format!("{} (from {})", mib(f.peak_rss_kib), mib(start)),
                None => mib(f.peak_rss_kib),
            },
            r.notes
        );
    }
}
