//! A Noom node in a process of its own (the `noom-node` binary of this crate), for tests that
//! kill one with SIGKILL.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use crate::server::wait_until_healthy;

/// A running node; dropping it kills it.
pub struct NodeProcess {
    pub addr: SocketAddr,
    child: Child,
}

impl NodeProcess {
    /// Starts `executable` (pass `env!("CARGO_BIN_EXE_noom-node")`) with the server flags in
    /// `args`, `--listen` among them, and waits until it is healthy.
    pub async fn start(executable: impl AsRef<Path>, args: &[&str]) -> Self {
        let mut child = Command::new(executable.as_ref())
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .expect("start a node");
        let stdout = child.stdout.take().expect("the node's stdout");
        let line = BufReader::new(stdout)
            .lines()
            .next()
            .expect("the node prints its address")
            .expect("a readable line");
        let addr = line
            .strip_prefix("listening on ")
            .and_then(|addr| addr.parse().ok())
            .unwrap_or_else(|| panic!("unexpected first line from the node: {line}"));
        wait_until_healthy(addr).await;
        Self { addr, child }
    }

    /// SIGKILL: the process ends at once and the kernel resets its sockets.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        self.kill();
    }
}
