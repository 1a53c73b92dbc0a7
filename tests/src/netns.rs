//! A network namespace joined to this one by a veth pair, for serving Noom on an address that
//! is not loopback (browsers treat all of 127/8 as a secure context). Needs root and `ip`
//! (iproute2).

use std::net::Ipv4Addr;
use std::process::Command;

/// While alive, a namespace whose end of the pair has [`Namespace::address`]; this side has
/// the other address of a /30. Dropping it removes both.
pub struct Namespace {
    name: String,
    pub address: Ipv4Addr,
}

impl Namespace {
    /// A namespace named for `tag` and this process (`tag` at most 4 characters, so that the
    /// interface names fit Linux's 15).
    pub fn create(tag: &str) -> Self {
        let pid = std::process::id();
        let name = format!("noom-{tag}-{pid}");
        let (outside, inside) = (format!("n{tag}{pid}a"), format!("n{tag}{pid}b"));
        // A /30 in 10.231.0.0/16 picked by the process id: parallel test runs do not collide.
        let block = (pid % 16_000) * 4;
        let [_, _, high, low] = block.to_be_bytes();
        let here = Ipv4Addr::new(10, 231, high, low + 1);
        let address = Ipv4Addr::new(10, 231, high, low + 2);
        let namespace = Self { name, address };
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
