//! One Redis connection per node, shared by everything cluster mode keeps in Redis (dedup
//! windows, rate buckets, the ledger's hot window, provider tokens), and [`Guarded`]: Redis
//! used as a speed-up with a fallback, where a call gives up quickly and a failure stands
//! Redis down for a few seconds, so callers fall back at once instead of each waiting out a
//! timeout while Redis is gone.

use crate::error::{Result, StoreError};
use redis::RedisResult;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use std::future::Future;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Connects a connection manager that gives up on a connection attempt or a reply after five
/// seconds and on a (re)connection after three tries about a second or two apart, so a
/// worker never hangs on a lost Redis. It reconnects by itself once Redis is back.
pub async fn connect(client: redis::Client) -> Result<ConnectionManager> {
    // redis 0.32 hands `factor` to backon as the multiplier on a 1 s first delay (capped at
    // 60 s), so the default of 100 would wait minutes before reporting Redis unreachable.
    let config = ConnectionManagerConfig::new()
        .set_factor(2)
        .set_max_delay(2_000)
        .set_number_of_retries(3)
        .set_connection_timeout(Duration::from_secs(5))
        .set_response_timeout(Duration::from_secs(5));
    ConnectionManager::new_with_config(client, config).await.map_err(redis_error)
}

/// The store's error type has no Redis variant; a Redis failure is reported as an I/O error
/// talking to the database, which callers already treat as transient.
pub(crate) fn redis_error(e: redis::RedisError) -> StoreError {
    StoreError::Database(sqlx::Error::Io(std::io::Error::other(e)))
}

/// How long a guarded call may take before its caller falls back.
pub const GUARD_TIMEOUT: Duration = Duration::from_secs(1);
/// How long Redis is left alone after a failed call.
pub const STAND_DOWN: Duration = Duration::from_secs(5);

/// A connection for work that has a fallback: [`Guarded::run`] answers None when Redis failed,
/// timed out, or failed within the last [`STAND_DOWN`]. One warning per outage; Redis errors
/// carry no keys or values, so nothing secret is logged.
pub struct Guarded {
    conn: ConnectionManager,
    purpose: &'static str,
    fallback: &'static str,
    timeout: Duration,
    down_until: Mutex<Option<Instant>>,
}

impl Guarded {
    /// `purpose` names what Redis holds here ("rate buckets"), `fallback` what serves while
    /// Redis is gone ("this node's own buckets"); both only for the logs.
    pub fn new(conn: ConnectionManager, purpose: &'static str, fallback: &'static str) -> Self {
        Self { conn, purpose, fallback, timeout: GUARD_TIMEOUT, down_until: Mutex::new(None) }
    }

    /// Runs `op` on the connection; None when Redis is (or was just) unreachable.
    pub async fn run<T, F, Fut>(&self, op: F) -> Option<T>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: Future<Output = RedisResult<T>>,
    {
        let was_down = {
            let down_until = self.down_until.lock().expect("guard lock");
            match *down_until {
                Some(until) if Instant::now() < until => return None,
                down => down.is_some(),
            }
        };
        let error = match tokio::time::timeout(self.timeout, op(self.conn.clone())).await {
            Ok(Ok(value)) => {
                if was_down {
                    *self.down_until.lock().expect("guard lock") = None;
                    tracing::info!(purpose = self.purpose, "Redis is reachable again");
                }
                return Some(value);
            }
            Ok(Err(e)) => e.to_string(),
            Err(_) => format!("no reply within {:?}", self.timeout),
        };
        *self.down_until.lock().expect("guard lock") = Some(Instant::now() + STAND_DOWN);
        if !was_down {
            tracing::warn!(%error, purpose = self.purpose, fallback = self.fallback, "Redis is unreachable; falling back");
        }
        None
    }
}
