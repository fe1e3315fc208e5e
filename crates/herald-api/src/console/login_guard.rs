//! Throttling console logins: failures are counted per client address and per user name, and
//! past a few free ones each further attempt must wait a delay that doubles with every failure
//! (up to a ceiling). A throttled attempt is answered at once, without hashing, so guessing
//! costs the server nothing. Failures are forgotten after a quiet spell, and a success clears
//! its user's and address's counts.
//!
//! The address is the TCP peer the listener recorded; behind a reverse proxy every client
//! shares the proxy's address, so the per-address limit then throttles the proxy as a whole.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// Failures per address before delays start: a person mistyping never meets them.
pub const FREE_FAILURES_PER_ADDRESS: u32 = 10;
/// Failures per user name (from any address) before delays start; higher than per address,
/// so one guessing address cannot lock a user out for the others.
pub const FREE_FAILURES_PER_USER: u32 = 20;
/// The first delay; each further failure doubles it.
const FIRST_DELAY: Duration = Duration::from_secs(1);
const MAX_ADDRESS_DELAY: Duration = Duration::from_secs(15 * 60);
const MAX_USER_DELAY: Duration = Duration::from_secs(60);
/// Failures older than this (with none since) are forgotten.
const FORGET_AFTER: Duration = Duration::from_secs(30 * 60);
/// Tracked keys at most; past it, forgotten keys are pruned and new ones are not tracked.
const MAX_KEYS: usize = 50_000;
/// Logins from one address checked at once; more are refused at once. A flood from one
/// address then holds at most this many of the node's hashing slots, and people behind
/// one NAT rarely log in within the same tenth of a second.
pub const MAX_IN_FLIGHT_PER_ADDRESS: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Key {
    /// An IPv4 address, or an IPv6 /64 (one host usually holds a whole /64).
    Address(IpAddr),
    User(u64),
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
}

/// The login throttle of one node.
#[derive(Default)]
pub struct LoginGuard {
    failures: Mutex<HashMap<Key, Failures>>,
    in_flight: Mutex<HashMap<Key, u32>>,
}

/// A login being checked; ends its address's slot when dropped.
pub struct InFlight<'a> {
    guard: &'a LoginGuard,
    key: Option<Key>,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        let Some(key) = self.key else { return };
        let mut in_flight = self.guard.in_flight.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(n) = in_flight.get_mut(&key) {
            *n -= 1;
            if *n == 0 {
                in_flight.remove(&key);
            }
        }
    }
}

/// An attempt that must wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    pub retry_after: Duration,
}

impl LoginGuard {
    /// Whether an attempt from `address` for `user` may be checked now.
    pub fn check(&self, address: Option<IpAddr>, user: &str, now: Instant) -> Result<(), Throttled> {
        let failures = self.lock();
        let waits = [
            address
                .and_then(|a| failures.get(&address_key(a)))
                .map(|f| wait(f, FREE_FAILURES_PER_ADDRESS, MAX_ADDRESS_DELAY, now)),
            failures.get(&user_key(user)).map(|f| wait(f, FREE_FAILURES_PER_USER, MAX_USER_DELAY, now)),
        ];
        match waits.into_iter().flatten().max() {
            Some(retry_after) if !retry_after.is_zero() => Err(Throttled { retry_after }),
            _ => Ok(()),
        }
    }

    /// A slot to check a login from `address`, or None when that address already has
    /// [`MAX_IN_FLIGHT_PER_ADDRESS`] logins being checked.
    pub fn begin(&self, address: Option<IpAddr>) -> Option<InFlight<'_>> {
        let Some(key) = address.map(address_key) else { return Some(InFlight { guard: self, key: None }) };
        let mut in_flight = self.in_flight.lock().unwrap_or_else(PoisonError::into_inner);
        let n = in_flight.entry(key).or_insert(0);
        if *n >= MAX_IN_FLIGHT_PER_ADDRESS {
            return None;
        }
        *n += 1;
        Some(InFlight { guard: self, key: Some(key) })
    }

    /// Whether `address` has failed recently: such clients get no reserved hashing slot.
    pub fn is_suspect(&self, address: Option<IpAddr>, now: Instant) -> bool {
        address.is_none_or(|a| {
            self.lock().get(&address_key(a)).is_some_and(|f| now.saturating_duration_since(f.last) < FORGET_AFTER)
        })
    }

    pub fn failed(&self, address: Option<IpAddr>, user: &str, now: Instant) {
        let mut failures = self.lock();
        if failures.len() >= MAX_KEYS {
            failures.retain(|_, f| now.saturating_duration_since(f.last) < FORGET_AFTER);
        }
        for key in address.map(address_key).into_iter().chain([user_key(user)]) {
            if failures.len() >= MAX_KEYS && !failures.contains_key(&key) {
                continue;
            }
            let entry = failures.entry(key).or_insert(Failures { count: 0, last: now });
            if now.saturating_duration_since(entry.last) >= FORGET_AFTER {
                entry.count = 0;
            }
            entry.count = entry.count.saturating_add(1);
            entry.last = now;
        }
    }

    pub fn succeeded(&self, address: Option<IpAddr>, user: &str) {
        let mut failures = self.lock();
        failures.remove(&user_key(user));
        if let Some(a) = address {
            failures.remove(&address_key(a));
        }
    }

    /// Every entry is written whole under the lock, so a poisoned lock guards nothing
    /// half-made.
    fn lock(&self) -> MutexGuard<'_, HashMap<Key, Failures>> {
        self.failures.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// How long after `f.last` the next attempt must wait, counted from `now`.
fn wait(f: &Failures, free: u32, ceiling: Duration, now: Instant) -> Duration {
    let since = now.saturating_duration_since(f.last);
    if f.count < free || since >= FORGET_AFTER {
        return Duration::ZERO;
    }
    let doublings = (f.count - free).min(20);
    let delay = FIRST_DELAY.saturating_mul(1 << doublings).min(ceiling);
    delay.saturating_sub(since)
}

fn address_key(address: IpAddr) -> Key {
    match address {
        IpAddr::V4(_) => Key::Address(address),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => Key::Address(IpAddr::V4(v4)),
            None => {
                let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                Key::Address(IpAddr::V6(Ipv6Addr::from(prefix)))
            }
        },
    }
}

/// User names are hashed so the table holds no attacker-chosen strings of any length.
fn user_key(user: &str) -> Key {
    use std::hash::{BuildHasher, Hasher};
    static SEED: std::sync::LazyLock<std::collections::hash_map::RandomState> =
        std::sync::LazyLock::new(std::collections::hash_map::RandomState::new);
    let mut h = SEED.build_hasher();
    h.write(user.to_lowercase().as_bytes());
    Key::User(h.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn an_address_is_delayed_after_its_free_failures_and_the_delay_doubles() {
        let guard = LoginGuard::default();
        let t0 = Instant::now();
        for n in 0..FREE_FAILURES_PER_ADDRESS {
            assert_eq!(guard.check(ip("10.0.0.1"), &format!("u{n}"), t0), Ok(()));
            guard.failed(ip("10.0.0.1"), &format!("u{n}"), t0);
        }
        assert_eq!(guard.check(ip("10.0.0.1"), "admin", t0), Err(Throttled { retry_after: FIRST_DELAY }));
        assert_eq!(guard.check(ip("10.0.0.2"), "admin", t0), Ok(()), "another address is not held");
        let t1 = t0 + FIRST_DELAY;
        assert_eq!(guard.check(ip("10.0.0.1"), "admin", t1), Ok(()));
        guard.failed(ip("10.0.0.1"), "admin", t1);
        assert_eq!(guard.check(ip("10.0.0.1"), "admin", t1), Err(Throttled { retry_after: FIRST_DELAY * 2 }));
        assert_eq!(guard.check(ip("10.0.0.1"), "admin", t1 + FORGET_AFTER), Ok(()), "forgotten");
    }

    #[test]
    fn a_user_is_delayed_after_failures_from_many_addresses_and_a_success_clears_it() {
        let guard = LoginGuard::default();
        let t0 = Instant::now();
        for n in 0..FREE_FAILURES_PER_USER {
            guard.failed(Some(IpAddr::from([10, 0, 1, n as u8])), "Admin", t0);
        }
        assert!(guard.check(ip("10.9.9.9"), "admin", t0).is_err(), "names match in any case");
        guard.succeeded(ip("10.9.9.9"), "admin");
        assert_eq!(guard.check(ip("10.9.9.9"), "admin", t0), Ok(()));
    }

    #[test]
    fn an_address_checks_a_few_logins_at_once() {
        let guard = LoginGuard::default();
        let held: Vec<_> = (0..MAX_IN_FLIGHT_PER_ADDRESS).map(|_| guard.begin(ip("10.0.0.1")).unwrap()).collect();
        assert!(guard.begin(ip("10.0.0.1")).is_none());
        assert!(guard.begin(ip("10.0.0.2")).is_some());
        drop(held);
        assert!(guard.begin(ip("10.0.0.1")).is_some());
    }

    #[test]
    fn ipv6_hosts_are_counted_by_their_64() {
        assert_eq!(address_key("2001:db8::1".parse().unwrap()), address_key("2001:db8::ffff:2".parse().unwrap()));
        assert_ne!(address_key("2001:db8::1".parse().unwrap()), address_key("2001:db8:0:1::1".parse().unwrap()));
        assert_eq!(address_key("::ffff:10.0.0.1".parse().unwrap()), address_key("10.0.0.1".parse().unwrap()));
    }
}
