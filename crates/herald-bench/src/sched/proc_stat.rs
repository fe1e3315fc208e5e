//! CPU time and peak memory of a process, read from /proc: the figures a scheduler costs.

use anyhow::Context;
use std::process::Command;

/// The kernel's clock ticks per second, in which /proc/<pid>/stat counts CPU time.
pub fn clock_ticks_per_sec() -> f64 {
    let out = Command::new("getconf").arg("CLK_TCK").output().ok();
    let ticks = out.and_then(|o| String::from_utf8(o.stdout).ok()).and_then(|s| s.trim().parse::<f64>().ok());
    // 100 on every Linux this runs on; getconf is asked in case of one where it is not.
    ticks.filter(|t| *t > 0.0).unwrap_or(100.0)
}

/// User plus system CPU time of `pid` ("self" for this process) so far, in seconds.
pub fn cpu_secs(pid: &str, ticks_per_sec: f64) -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).with_context(|| format!("/proc/{pid}/stat"))?;
    // The command name (field 2) may hold spaces; the fields after its closing paren do not.
    let after_name = stat.rsplit_once(')').map(|(_, rest)| rest).context("no ')' in /proc/<pid>/stat")?;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
    let ticks = |i: usize| -> anyhow::Result<f64> {
        let field = fields.get(i).with_context(|| format!("/proc/{pid}/stat has no field {}", i + 3))?;
        Ok(field.parse::<f64>()?)
    };
    Ok((ticks(11)? + ticks(12)?) / ticks_per_sec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_has_spent_some_cpu() {
        let ticks = clock_ticks_per_sec();
        let before = cpu_secs("self", ticks).unwrap();
        let mut x = 0u64;
        for i in 0..20_000_000u64 {
            x = x.wrapping_add(i * i);
        }
        std::hint::black_box(x);
        assert!(cpu_secs("self", ticks).unwrap() >= before);
    }
}
