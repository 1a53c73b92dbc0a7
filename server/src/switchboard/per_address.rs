//! What one client address has made the server keep after its connections' own bounds: the
//! rooms it opened, and the seats held for its lost connections. Each is counted while it
//! lasts, so that one address cannot keep more than its share; a local proxy's address (see
//! `admission.rs`) is not counted.

use std::collections::HashMap;
use std::net::IpAddr;

use crate::admission::is_local_proxy;

/// At most `max` live things of kind `K` per address.
#[derive(Debug)]
pub(crate) struct AddressTally<K> {
    max: usize,
    /// Each address's things, each with a time (ms, the switchboard's clock) for the caller:
    /// rooms keep when they were counted, until they are seen open.
    by_address: HashMap<IpAddr, Vec<(K, Option<u64>)>>,
    /// Addresses kept before the next sweep of those with nothing left.
    sweep_at: usize,
}

const FIRST_SWEEP_AT: usize = 1024;

impl<K: PartialEq> AddressTally<K> {
    pub(crate) fn new(max: usize) -> Self {
        Self {
            max,
            by_address: HashMap::new(),
            sweep_at: FIRST_SWEEP_AT,
        }
    }

    /// Whether `ip` may have one more; `lasts` says whether a thing counted at a time still
    /// exists (it may move the time: see `Switchboard`'s rooms). No address (a test's
    /// in-process connection) or a local proxy may always.
    pub(crate) fn has_room(
        &mut self,
        ip: Option<IpAddr>,
        mut lasts: impl FnMut(&K, &mut Option<u64>) -> bool,
    ) -> bool {
        let Some(ip) = ip.filter(|ip| !is_local_proxy(*ip)) else {
            return true;
        };
        let Some(things) = self.by_address.get_mut(&ip) else {
            return self.max > 0;
        };
        things.retain_mut(|(thing, at)| lasts(thing, at));
        things.len() < self.max
    }

    /// Counts `thing`, with the time `at`, for `ip`. Addresses with nothing left are forgotten now
    /// and then, so the map stays within a small multiple of the addresses with something.
    pub(crate) fn add(
        &mut self,
        ip: Option<IpAddr>,
        thing: K,
        at: Option<u64>,
        mut lasts: impl FnMut(&K, &mut Option<u64>) -> bool,
    ) {
        let Some(ip) = ip.filter(|ip| !is_local_proxy(*ip)) else {
            return;
        };
        self.by_address.entry(ip).or_default().push((thing, at));
        if self.by_address.len() >= self.sweep_at {
            self.by_address.retain(|_, things| {
                things.retain_mut(|(thing, at)| lasts(thing, at));
                !things.is_empty()
            });
            self.sweep_at = (self.by_address.len() * 2).max(FIRST_SWEEP_AT);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_has_at_most_max_live_things_and_local_proxies_are_not_counted() {
        let mut tally = AddressTally::new(2);
        let ip = Some("192.0.2.4".parse().unwrap());
        let alive = |_: &&str, _: &mut Option<u64>| true;
        assert!(tally.has_room(ip, alive));
        tally.add(ip, "a", None, alive);
        tally.add(ip, "b", None, alive);
        assert!(!tally.has_room(ip, alive), "two is the most");
        assert!(
            tally.has_room(ip, |thing, _: &mut Option<u64>| *thing != "a"),
            "a is gone"
        );
        let proxy = Some("127.0.0.1".parse().unwrap());
        for _ in 0..5 {
            tally.add(proxy, "p", None, alive);
        }
        assert!(tally.has_room(proxy, alive) && tally.has_room(None, alive));
    }

    #[test]
    fn addresses_with_nothing_left_are_swept() {
        let mut tally = AddressTally::new(1);
        for n in 0..5_000u32 {
            let ip = Some(IpAddr::from(n.to_be_bytes().map(|b| b | 1)));
            let recent =
                |_: &u32, at: &mut Option<u64>| at.is_some_and(|at| at + 10 > u64::from(n));
            tally.add(ip, n, Some(u64::from(n)), recent);
        }
        assert!(tally.by_address.len() < 2 * FIRST_SWEEP_AT);
    }
}
