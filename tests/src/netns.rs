//! A network namespace joined to this one by a veth pair, for serving Noom on an address that
//! is not loopback (browsers treat all of 127/8 as a secure context). Needs root and `ip`
//! (iproute2).

use std::net::Ipv4Addr;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

/// While alive, a namespace whose end of the pair has [`Namespace::address`]; this side has
/// the other address of a /30. Dropping it removes both.
pub struct Namespace {
    name: String,
    /// The namespace's end of the pair.
    pub address: Ipv4Addr,
    /// This side's end: the namespace's way out.
    pub outside: Ipv4Addr,
}

/// Namespaces made by this process so far: each gets its own /30.
static MADE: AtomicU32 = AtomicU32::new(0);

impl Namespace {
    /// A namespace named for `tag` and this process (`tag` at most 3 characters, so that the
    /// interface names fit Linux's 15).
    pub fn create(tag: &str) -> Self {
        let pid = std::process::id();
        let name = format!("noom-{tag}-{pid}");
        let (outside, inside) = (format!("n{tag}{pid}a"), format!("n{tag}{pid}b"));
        // A /30 in 10.231.0.0/16 picked by the process id and a count, up to four per process:
        // parallel test runs do not collide.
        let made = MADE.fetch_add(1, Ordering::Relaxed);
        assert!(made < 4, "at most four namespaces per test process");
        let block = ((pid % 4_000) * 4 + made) * 4;
        let [_, _, high, low] = block.to_be_bytes();
        let here = Ipv4Addr::new(10, 231, high, low + 1);
        let address = Ipv4Addr::new(10, 231, high, low + 2);
        let namespace = Self {
            name,
            address,
            outside: here,
        };
        ip(&["netns", "add", &namespace.name]);
        ip(&[
            "link", "add", &outside, "type", "veth", "peer", "name", &inside,
        ]);
        ip(&["link", "set", &inside, "netns", &namespace.name]);
        ip(&["addr", "add", &format!("{here}/30"), "dev", &outside]);
        ip(&["link", "set", &outside, "up"]);
        let inside_cidr = format!("{address}/30");
        for args in [
            ["addr", "add", inside_cidr.as_str(), "dev", inside.as_str()].as_slice(),
            &["link", "set", inside.as_str(), "up"],
            &["link", "set", "lo", "up"],
        ] {
            let mut inner = vec!["netns", "exec", namespace.name.as_str(), "ip"];
            inner.extend_from_slice(args);
            ip(&inner);
        }
        namespace
    }

    /// Lets the namespace reach `address`, one of this side's own addresses (of another
    /// namespace's pair, say) through its pair. Only that address: no route to what lies
    /// behind it.
    pub fn route_to(&self, address: Ipv4Addr) {
        let target = format!("{address}/32");
        let via = self.outside.to_string();
        ip(&[
            "netns", "exec", &self.name, "ip", "route", "add", &target, "via", &via,
        ]);
    }

    /// `program` to be run inside the namespace.
    pub fn command(&self, program: &std::path::Path) -> Command {
        let mut command = Command::new("ip");
        command.args(["netns", "exec", &self.name]).arg(program);
        command
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        // Deleting the namespace deletes its end of the pair, and so the pair.
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

fn ip(args: &[&str]) {
    let status = Command::new("ip")
        .args(args)
        .status()
        .expect("`ip` (iproute2) runs");
    assert!(status.success(), "ip {args:?} failed (root is needed)");
}
