//! Caps on connections: in total and per client address, so that one machine cannot take
//! every file descriptor. A connection over either cap is closed at once, before any work is
//! done for it. An [`Admission`] is held for as long as the connection lives, its WebSocket
//! included, and frees its place when dropped. Each address also has one rate limiter that all
//! its connections share and that outlives them for a while, so reconnecting does not refill
//! it.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::rate::RateLimiter;

/// How long an address's rate limiter is kept after its last connection closed.
const LIMITER_LINGERS: Duration = Duration::from_secs(60);

/// The rate limiter shared by one address's connections.
pub(crate) type SharedLimiter = Arc<Mutex<RateLimiter>>;

/// The places in use.
#[derive(Debug)]
pub(crate) struct Admissions {
    max_total: usize,
    max_per_ip: usize,
    /// Messages per second, and burst, for all of one address's connections together.
    per_ip_rate: (u32, u32),
    in_use: Mutex<InUse>,
}

#[derive(Debug, Default)]
struct InUse {
    total: usize,
    /// Addresses with a connection open, or closed less than [`LIMITER_LINGERS`] ago; pruned
    /// to those open when it grows past `max_total`.
    per_ip: HashMap<IpAddr, Address>,
}

#[derive(Debug)]
struct Address {
    open: usize,
    limiter: SharedLimiter,
    /// When its last connection closed.
    idle_since: Option<Instant>,
}

/// A connection's place as a request extension, for the WebSocket to take along when the
/// connection is upgraded.
#[derive(Debug, Clone)]
pub(crate) struct Held {
    place: Arc<Admission>,
}

impl Held {
    pub(crate) fn new(admission: Admission) -> Self {
        Self {
            place: Arc::new(admission),
        }
    }

    /// The limiter this connection's address shares; `None` for a proxy's address.
    pub(crate) fn limiter(&self) -> Option<SharedLimiter> {
        self.place.limiter()
    }
}

impl Admission {
    /// The limiter its address shares; `None` for a proxy's address.
    pub(crate) fn limiter(&self) -> Option<SharedLimiter> {
        self.limiter.clone()
    }
}

/// One connection's place; dropping it frees the place.
#[derive(Debug)]
pub(crate) struct Admission {
    /// The address it counts against, if any.
    ip: Option<IpAddr>,
    /// Whether it counts against the total.
    in_total: bool,
    admissions: Arc<Admissions>,
    limiter: Option<SharedLimiter>,
}

/// Descriptors kept for what is not a connection: Redis, certificate files, the listeners.
const SPARE_DESCRIPTORS: usize = 100;

/// The process's soft limit on open files (Linux), if it can be read.
fn open_file_limit() -> Option<usize> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits
        .lines()
        .find(|line| line.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// The cap on connections in total: `configured`, or (0) what the open-file limit allows.
pub(crate) fn total_cap(configured: usize) -> usize {
    match configured {
        0 => open_file_limit().map_or(10_000, |limit| {
            limit.saturating_sub(SPARE_DESCRIPTORS).max(1)
        }),
        cap => cap,
    }
}

/// Where a reverse proxy on this machine connects from: only the total cap applies.
pub(crate) fn is_local_proxy(ip: IpAddr) -> bool {
    ip == IpAddr::from([127, 0, 0, 1]) || ip == IpAddr::from([0u16, 0, 0, 0, 0, 0, 0, 1])
}

impl Admissions {
    pub(crate) fn new(max_total: usize, max_per_ip: usize, per_ip_rate: (u32, u32)) -> Arc<Self> {
        Arc::new(Self {
            max_total,
            max_per_ip,
            per_ip_rate,
            in_use: Mutex::new(InUse::default()),
        })
    }

    /// A place for a connection from `ip`, or `None` when a cap is reached. A local proxy's
    /// address has only the total cap.
    pub(crate) fn admit(self: &Arc<Self>, ip: IpAddr) -> Option<Admission> {
        self.place(Some(ip).filter(|ip| !is_local_proxy(*ip)), true)
    }

    /// A place for a trusted proxy's connection (`--trust-proxy-header`): the total cap only,
    /// since the proxy speaks for many clients.
    pub(crate) fn admit_proxy(self: &Arc<Self>) -> Option<Admission> {
        self.place(None, true)
    }

    /// A place for a client behind a trusted proxy, at `ip` as the proxy says: the per-address
    /// cap only, since the proxy's connection already has its place in the total.
    pub(crate) fn admit_behind_proxy(self: &Arc<Self>, ip: IpAddr) -> Option<Admission> {
        self.place(Some(ip), false)
    }

    fn place(self: &Arc<Self>, ip: Option<IpAddr>, in_total: bool) -> Option<Admission> {
        let now = Instant::now();
        let mut in_use = self.in_use.lock().unwrap_or_else(PoisonError::into_inner);
        let from_ip = ip
            .and_then(|ip| in_use.per_ip.get(&ip))
            .map_or(0, |address| address.open);
        if (in_total && in_use.total >= self.max_total)
            || (ip.is_some() && from_ip >= self.max_per_ip)
        {
            return None;
        }
        if in_use.per_ip.len() >= self.max_total {
            in_use.per_ip.retain(|_, address| {
                address
                    .idle_since
                    .is_none_or(|since| now.duration_since(since) < LIMITER_LINGERS)
            });
            if in_use.per_ip.len() >= self.max_total {
                in_use.per_ip.retain(|_, address| address.open > 0);
            }
        }
        if in_total {
            in_use.total += 1;
        }
        let (rate, burst) = self.per_ip_rate;
        let limiter = ip.map(|ip| {
            let address = in_use.per_ip.entry(ip).or_insert_with(|| Address {
                open: 0,
                limiter: Arc::new(Mutex::new(RateLimiter::new(rate, burst, now))),
                idle_since: None,
            });
            address.open += 1;
            address.idle_since = None;
            address.limiter.clone()
        });
        Some(Admission {
            ip,
            in_total,
            admissions: self.clone(),
            limiter,
        })
    }
}

impl Drop for Admission {
    fn drop(&mut self) {
        let mut in_use = self
            .admissions
            .in_use
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if self.in_total {
            in_use.total -= 1;
        }
        if let Some(address) = self.ip.and_then(|ip| in_use.per_ip.get_mut(&ip)) {
            address.open -= 1;
            if address.open == 0 {
                address.idle_since = Some(Instant::now());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_hold_per_address_and_in_total_and_places_come_back() {
        let admissions = Admissions::new(3, 2, (50, 200));
        let (a, b): (IpAddr, IpAddr) = ("192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap());
        let first = admissions.admit(a).unwrap();
        let _second = admissions.admit(a).unwrap();
        assert!(admissions.admit(a).is_none(), "two per address");
        let _third = admissions.admit(b).unwrap();
        assert!(admissions.admit(b).is_none(), "three in all");
        drop(first);
        assert!(
            admissions.admit(a).is_some(),
            "a closed connection frees its place"
        );
        let in_use = admissions.in_use.lock().unwrap();
        assert!(in_use.per_ip.len() <= 2);
    }

    #[test]
    fn an_address_keeps_its_limiter_across_reconnects() {
        let admissions = Admissions::new(10, 10, (50, 200));
        let ip: IpAddr = "192.0.2.9".parse().unwrap();
        let first = Held::new(admissions.admit(ip).unwrap());
        let limiter = first.limiter().unwrap();
        drop(first);
        let again = Held::new(admissions.admit(ip).unwrap());
        assert!(Arc::ptr_eq(&limiter, &again.limiter().unwrap()));
        let proxy = Held::new(admissions.admit("127.0.0.1".parse().unwrap()).unwrap());
        assert!(proxy.limiter().is_none(), "a local proxy speaks for many");
    }

    #[test]
    fn a_local_proxy_has_only_the_total_cap() {
        let admissions = Admissions::new(3, 1, (50, 200));
        let proxy: IpAddr = "127.0.0.1".parse().unwrap();
        let held: Vec<_> = (0..3).filter_map(|_| admissions.admit(proxy)).collect();
        assert_eq!(held.len(), 3);
        assert!(admissions.admit(proxy).is_none());
        assert!(total_cap(0) >= 1 && total_cap(7) == 7);
    }

    #[test]
    fn behind_a_trusted_proxy_the_total_counts_connections_and_the_cap_counts_clients() {
        let admissions = Admissions::new(3, 1, (50, 200));
        let proxied: Vec<_> = (0..3).filter_map(|_| admissions.admit_proxy()).collect();
        assert_eq!(
            proxied.len(),
            3,
            "a proxy's connections have the total cap only"
        );
        assert!(admissions.admit_proxy().is_none());
        let client: IpAddr = "198.51.100.7".parse().unwrap();
        let first = admissions.admit_behind_proxy(client).unwrap();
        assert!(first.limiter().is_some(), "each client has its rate limit");
        assert!(
            admissions.admit_behind_proxy(client).is_none(),
            "one per client address"
        );
        drop(first);
        assert!(admissions.admit_behind_proxy(client).is_some());
    }
}
