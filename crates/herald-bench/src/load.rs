//! The HTTP load generator every HTTP comparison shares: C keep-alive connections POSTing to
//! one URL for a fixed time, by `wrk` when it is on PATH, else in process.

use anyhow::{Context, bail, ensure};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// Where a request's unique number goes in a [`Target`]'s body.
pub const SEQ: &str = "{seq}";

/// Untimed load before each timed one (connections, caches, the server's first requests).
const WARM_UP: Duration = Duration::from_secs(1);

/// wrk's threads: one per core of the benchmark machine.
const WRK_THREADS: usize = 2;

/// wrk gives up on a request after this; herald's p99 is far below it.
const WRK_TIMEOUT_SECS: u64 = 10;

/// Numbers every load of this process (warm-up or timed) so no two send the same [`SEQ`].
static LOADS: AtomicU32 = AtomicU32::new(0);

/// One POST target: every request carries `headers` and `body` with [`SEQ`] replaced by a number
/// no other request of this process gets (digits only: it fits in a receiver or a bizId).
#[derive(Clone)]
pub struct Target {
    pub url: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
}

impl Target {
    /// The request numbered `seq`, for reqwest.
    fn request(&self, http: &reqwest::Client, seq: &str) -> reqwest::RequestBuilder {
        let request = http.post(&self.url).body(self.body.replace(SEQ, seq));
        self.headers.iter().fold(request, |request, (name, value)| request.header(*name, value))
    }
}

/// Which generator to use, from the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GeneratorChoice {
    /// wrk when it is on PATH, else in process.
    Auto,
    Wrk,
    InProcess,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Generator {
    Wrk,
    InProcess,
}

/// A load: how many connections, for how long, by which generator.
#[derive(Debug, Clone, Copy)]
pub struct Load {
    pub connections: usize,
    pub duration: Duration,
    generator: Generator,
}

/// What one timed load measured.
pub struct Measured {
    pub requests: u64,
    pub rate: f64,
    pub p50: Duration,
    pub p99: Duration,
}

impl Load {
    pub fn new(connections: usize, duration: Duration, choice: GeneratorChoice) -> anyhow::Result<Self> {
        let generator = match choice {
            GeneratorChoice::Auto if wrk_on_path() => Generator::Wrk,
            GeneratorChoice::Auto | GeneratorChoice::InProcess => Generator::InProcess,
            GeneratorChoice::Wrk if wrk_on_path() => Generator::Wrk,
            GeneratorChoice::Wrk => bail!("--load-generator wrk: no wrk on PATH"),
        };
        Ok(Self { connections: connections.max(1), duration: whole_seconds(duration), generator })
    }

    /// The generator and its load, for the notes column.
    pub fn describe(&self) -> String {
        let (c, secs, warm_up) = (self.connections, self.duration.as_secs(), WARM_UP.as_secs());
        let generator = match self.generator {
            Generator::Wrk => format!("wrk ({} threads)", self.wrk_threads()),
            Generator::InProcess => "in-process load generator (reqwest, one client per connection)".to_owned(),
        };
        format!("{generator}, {c} connections, {secs} s after a {warm_up} s in-process warm-up")
    }

    /// A warm-up load, then the timed one. The warm-up is in process whatever the generator: it
    /// lets each connection finish its request, where wrk's end cuts requests off mid-flight (which
    /// herald's `/send` does not survive: see `http::check_after_load`).
    pub async fn measure(&self, target: &Target) -> anyhow::Result<Measured> {
        in_process(target, self.connections, WARM_UP, LOADS.fetch_add(1, Ordering::Relaxed) + 1).await?;
        self.run(target, self.duration).await
    }

    async fn run(&self, target: &Target, duration: Duration) -> anyhow::Result<Measured> {
        let load = LOADS.fetch_add(1, Ordering::Relaxed) + 1;
        match self.generator {
            Generator::Wrk => {
                let (owned, this) = (target.clone(), *self);
                let measured = tokio::task::spawn_blocking(move || this.wrk(&owned, duration, load)).await?;
                match measured {
                    Ok(measured) => Ok(measured),
                    Err(e) => Err(e.context(format!("one more request, by reqwest: {}", answer(target).await))),
                }
            }
            Generator::InProcess => in_process(target, self.connections, duration, load).await,
        }
    }

    fn wrk_threads(&self) -> usize {
        WRK_THREADS.min(self.connections)
    }

    fn wrk(&self, target: &Target, duration: Duration, load: u32) -> anyhow::Result<Measured> {
        let script = tempfile::Builder::new().suffix(".lua").tempfile()?;
        std::fs::write(script.path(), wrk_script(target, load)?)?;
        let out = Command::new("wrk")
            .arg(format!("--threads={}", self.wrk_threads()))
            .arg(format!("--connections={}", self.connections))
            .arg(format!("--duration={}s", duration.as_secs()))
            .arg(format!("--timeout={WRK_TIMEOUT_SECS}s"))
            .arg("--latency")
            .arg(format!("--script={}", script.path().display()))
            .arg(&target.url)
            .output()
            .context("running wrk")?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        ensure!(out.status.success(), "wrk failed: {stdout}{}", String::from_utf8_lossy(&out.stderr));
        parse_wrk(&stdout).with_context(|| format!("reading wrk's report:\n{stdout}"))
    }
}

/// What `target` answers one more request (its status and body), or why it did not.
pub async fn answer(target: &Target) -> String {
    let load = LOADS.fetch_add(1, Ordering::Relaxed) + 1;
    match target.request(&reqwest::Client::new(), &seq(load, 0, 1)).send().await {
        Ok(response) => format!("{} {}", response.status(), response.text().await.unwrap_or_default()),
        Err(e) => format!("failed: {e}"),
    }
}

fn wrk_on_path() -> bool {
    Command::new("wrk").arg("--version").output().is_ok()
}

/// wrk takes whole seconds.
fn whole_seconds(d: Duration) -> Duration {
    Duration::from_secs(d.as_secs().max(1))
}

/// The [`SEQ`] of request `n` of `connection` in load `load`: the same digits from both
/// generators.
fn seq(load: u32, connection: usize, n: u64) -> String {
    format!("{load}{connection:03}{n:09}")
}

/// A wrk script POSTing `target`'s body with [`SEQ`] spliced in as [`seq`] makes it (wrk's
/// threads stand for connections in the number; each thread counts its own requests).
fn wrk_script(target: &Target, load: u32) -> anyhow::Result<String> {
    let parts = target.body.split(SEQ).map(lua_string).collect::<anyhow::Result<Vec<_>>>()?.join(", ");
    let mut headers = String::new();
    for (name, value) in &target.headers {
        // The spaces keep `[[` from opening a long string.
        headers += &format!("wrk.headers[ {} ] = {}\n", lua_string(name)?, lua_string(value)?);
    }
    Ok(format!(
        r#"wrk.method = "POST"
{headers}local parts = {{{parts}}}
local counter = 0
local threads = 0
id = 0
function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end
function request()
  counter = counter + 1
  local seq = string.format("{load}%03d%09d", id, counter)
  return wrk.format(nil, nil, nil, table.concat(parts, seq))
end
"#
    ))
}

/// A Lua long string holding `s` as is.
fn lua_string(s: &str) -> anyhow::Result<String> {
    ensure!(!s.contains("]==]"), "{s:?} cannot go in a level-2 Lua long string");
    Ok(format!("[==[{s}]==]"))
}

/// Requests/sec, the request count and the 50% and 99% latencies of wrk's `--latency` report;
/// refused when any request failed.
fn parse_wrk(report: &str) -> anyhow::Result<Measured> {
    let field = |prefix: &str| report.lines().map(str::trim).find_map(|l| l.strip_prefix(prefix)).map(str::trim);
    if let Some(non_2xx) = field("Non-2xx or 3xx responses:") {
        bail!("{non_2xx} requests were not answered 2xx");
    }
    if let Some(errors) = field("Socket errors:") {
        bail!("socket errors: {errors}");
    }
    let rate: f64 = field("Requests/sec:").context("no Requests/sec")?.parse()?;
    let requests = report.lines().find_map(|l| l.trim().split_once(" requests in ")).context("no request count")?;
    let latency = |q: &str| field(q).context("no latency distribution").and_then(wrk_duration);
    Ok(Measured { requests: requests.0.parse()?, rate, p50: latency("50%")?, p99: latency("99%")? })
}

/// A wrk duration: `635.00us`, `2.31ms`, `1.02s`, `1.50m`.
fn wrk_duration(text: &str) -> anyhow::Result<Duration> {
    let split = text.find(|c: char| c.is_ascii_alphabetic()).context("a duration without a unit")?;
    let (value, unit) = text.split_at(split);
    let value: f64 = value.parse()?;
    let seconds = match unit {
        "us" => value / 1e6,
        "ms" => value / 1e3,
        "s" => value,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        _ => bail!("unknown unit in {text}"),
    };
    Ok(Duration::from_secs_f64(seconds))
}

/// `connections` tasks, each with its own keep-alive client, sending one request after another
/// until `duration` has passed.
async fn in_process(target: &Target, connections: usize, duration: Duration, load: u32) -> anyhow::Result<Measured> {
    let target = Arc::new(target.clone());
    let started = Instant::now();
    let deadline = started + duration;
    let tasks: Vec<_> =
        (0..connections).map(|c| tokio::spawn(connection(target.clone(), c + 1, load, deadline))).collect();
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await??);
    }
    let elapsed = started.elapsed();
    ensure!(!latencies.is_empty(), "no request finished");
    latencies.sort_unstable();
    let quantile = |q: f64| {
        let i = ((latencies.len() as f64 * q).ceil() as usize).clamp(1, latencies.len()) - 1;
        latencies[i]
    };
    Ok(Measured {
        requests: latencies.len() as u64,
        rate: crate::report::rate(latencies.len(), elapsed),
        p50: quantile(0.5),
        p99: quantile(0.99),
    })
}

/// One connection's requests until `deadline`; their latencies. Any answer but 2xx fails.
async fn connection(
    target: Arc<Target>,
    connection: usize,
    load: u32,
    deadline: Instant,
) -> anyhow::Result<Vec<Duration>> {
    let http = reqwest::Client::builder().pool_max_idle_per_host(1).build()?;
    let mut latencies = Vec::new();
    for n in 1.. {
        if Instant::now() >= deadline {
            break;
        }
        let request = target.request(&http, &seq(load, connection, n));
        let sent = Instant::now();
        let response = request.send().await?;
        let status = response.status();
        let answer = response.bytes().await?;
        latencies.push(sent.elapsed());
        ensure!(status.is_success(), "{}: {status} {}", target.url, String::from_utf8_lossy(&answer));
    }
    Ok(latencies)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_wrk_report() {
        let report = "Running 3s test @ http://127.0.0.1:1/noop\n  2 threads and 64 connections\n  \
                      Latency Distribution\n     50%  635.00us\n     75%    1.00ms\n     90%    2.00ms\n     \
                      99%    2.31ms\n  120021 requests in 3.00s, 10.00MB read\nRequests/sec:  40007.12\n";
        let m = parse_wrk(report).unwrap();
        assert_eq!((m.requests, m.rate), (120_021, 40_007.12));
        let micros = |d: Duration| (d.as_secs_f64() * 1e6).round();
        assert_eq!((micros(m.p50), micros(m.p99)), (635.0, 2310.0));
        assert!(parse_wrk(&format!("{report}  Non-2xx or 3xx responses: 3\n")).is_err());
    }
}
