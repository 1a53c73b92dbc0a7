//! Caps on connections: in total and per client address, so that one machine cannot take
//! every file descriptor. A connection over either cap is closed at once, before any work is
//! done for it. An [`Admission`] is held for as long as the connection lives, its WebSocket
//! included, and frees its place when dropped.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

/// The places in use.
#[derive(Debug)]
pub(crate) struct Admissions {
    max_total: usize,
    max_per_ip: usize,
    in_use: Mutex<InUse>,
}

#[derive(Debug, Default)]
struct InUse {
    total: usize,
    /// Only addresses with a connection open: the map is at most `max_total` long.
    per_ip: HashMap<IpAddr, usize>,
}

/// A connection's place as a request extension, for the WebSocket to take along when the
/// connection is upgraded.
#[derive(Debug, Clone)]
pub(crate) struct Held {
    /// Kept only to be dropped with the last copy.
    _place: Arc<Admission>,
}

impl Held {
    pub(crate) fn new(admission: Admission) -> Self {
        Self {
            _place: Arc::new(admission),
        }
    }
}

/// One connection's place; dropping it frees the place.
#[derive(Debug)]
pub(crate) struct Admission {
    ip: IpAddr,
    admissions: Arc<Admissions>,
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
fn is_local_proxy(ip: IpAddr) -> bool {
    ip == IpAddr::from([127, 0, 0, 1]) || ip == IpAddr::from([0u16, 0, 0, 0, 0, 0, 0, 1])
}

impl Admissions {
    pub(crate) fn new(max_total: usize, max_per_ip: usize) -> Arc<Self> {
        Arc::new(Self {
            max_total,
            max_per_ip,
            in_use: Mutex::new(InUse::default()),
        })
    }

    /// A place for a connection from `ip`, or `None` when a cap is reached.
    pub(crate) fn admit(self: &Arc<Self>, ip: IpAddr) -> Option<Admission> {
        let mut in_use = self.in_use.lock().unwrap_or_else(PoisonError::into_inner);
        let from_ip = in_use.per_ip.get(&ip).copied().unwrap_or(0);
        let over_per_ip = from_ip >= self.max_per_ip && !is_local_proxy(ip);
        if in_use.total >= self.max_total || over_per_ip {
            return None;
        }
        in_use.total += 1;
        in_use.per_ip.insert(ip, from_ip + 1);
        Some(Admission {
            ip,
            admissions: self.clone(),
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
        in_use.total -= 1;
        if let Some(count) = in_use.per_ip.get_mut(&self.ip) {
            *count -= 1;
            if *count == 0 {
                in_use.per_ip.remove(&self.ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_hold_per_address_and_in_total_and_places_come_back() {
        let admissions = Admissions::new(3, 2);
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
    fn a_local_proxy_has_only_the_total_cap() {
        let admissions = Admissions::new(3, 1);
        let proxy: IpAddr = "127.0.0.1".parse().unwrap();
        let held: Vec<_> = (0..3).filter_map(|_| admissions.admit(proxy)).collect();
        assert_eq!(held.len(), 3);
        assert!(admissions.admit(proxy).is_none());
        assert!(total_cap(0) >= 1 && total_cap(7) == 7);
    }
}
