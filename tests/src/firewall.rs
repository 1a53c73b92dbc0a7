//! Packets to chosen local ports dropped, as by a network that stops carrying a connection, or
//! that carries only so much (nftables; needs root and the `nft` command, which
//! `scripts/setup.sh` installs).

use std::process::Command;

/// While alive, TCP and UDP packets to `ports` (on any interface, loopback included) are
/// dropped. Dropping it lets them through again.
pub struct PortBlock {
    table: String,
}

impl PortBlock {
    pub fn new(ports: &[u16]) -> Self {
        Self::with_rule(ports, "drop")
    }

    /// Like [`PortBlock::new`], but only what is over `kbit_per_s` is dropped, as on a slow
    /// link with no room to queue.
    pub fn slow(ports: &[u16], kbit_per_s: u32) -> Self {
        let kbytes = kbit_per_s / 8;
        Self::with_rule(
            ports,
            &format!("limit rate over {kbytes} kbytes/second drop"),
        )
    }

    fn with_rule(ports: &[u16], verdict: &str) -> Self {
        assert!(!ports.is_empty(), "no ports to block");
        let table = format!("noom_test_{}", std::process::id());
        let ports = ports
            .iter()
            .map(u16::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        let rules = format!(
            "table inet {table} {{\n chain input {{\n  type filter hook input priority 0\n  \
             meta l4proto {{ tcp, udp }} th dport {{ {ports} }} {verdict}\n }}\n}}\n"
        );
        nft(&["-f", "-"], Some(&rules));
        Self { table }
    }
}

impl Drop for PortBlock {
    fn drop(&mut self) {
        nft(&["delete", "table", "inet", &self.table], None);
    }
}

fn nft(args: &[&str], input: Option<&str>) {
    use std::io::Write;
    let mut child = Command::new("nft")
        .args(args)
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("nft (Debian's `nftables`) runs");
    if let (Some(input), Some(mut stdin)) = (input, child.stdin.take()) {
        stdin
            .write_all(input.as_bytes())
            .expect("write the nft rules");
    }
    let status = child.wait().expect("nft finishes");
    assert!(status.success(), "nft {args:?} failed");
}
