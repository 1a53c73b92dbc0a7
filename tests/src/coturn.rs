//! A real coturn (Debian's `coturn`) checking TURN REST credentials against a shared secret,
//! and its `turnutils_uclient` to try them.

use std::io::{BufRead, BufReader};
use std::net::{IpAddr, Ipv4Addr, UdpSocket};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// How long coturn may take to open its listeners on a busy machine.
const START_WITHIN: Duration = Duration::from_secs(20);

pub struct TestTurn {
    pub port: u16,
    pub listening: Vec<IpAddr>,
    dir: PathBuf,
    child: Child,
}

impl TestTurn {
    /// coturn on 127.0.0.1 and a free port, relaying on 127.0.0.1.
    pub fn start(secret: &str) -> Self {
        Self::start_on(
            &[Ipv4Addr::LOCALHOST.into()],
            Ipv4Addr::LOCALHOST.into(),
            secret,
        )
    }

    /// coturn listening on each of `listening`, with relayed addresses on `relay`.
    pub fn start_on(listening: &[IpAddr], relay: IpAddr, secret: &str) -> Self {
        let port = UdpSocket::bind("127.0.0.1:0")
            .and_then(|s| s.local_addr())
            .expect("a free port")
            .port();
        let dir = std::env::temp_dir().join(format!("noom-coturn-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("coturn's directory");
        let mut command = Command::new("turnserver");
        for ip in listening {
            command.arg(format!("--listening-ip={ip}"));
        }
        command
            .arg(format!("--listening-port={port}"))
            .arg(format!("--relay-ip={relay}"))
            .arg("--use-auth-secret")
            .arg(format!("--static-auth-secret={secret}"))
            .args([
                "--realm=noom.test",
                "--no-tls",
                "--no-dtls",
                "--no-cli",
                "-n",
            ])
            // Peers on loopback and private addresses are what tests have.
            .args([
                "--allow-loopback-peers",
                "--log-file=stdout",
                "--simple-log",
            ])
            .arg(format!("--db={}", dir.join("turndb").display()))
            .arg(format!(
                "--pidfile={}",
                dir.join("turnserver.pid").display()
            ))
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut child = command
            .spawn()
            .expect("turnserver is installed (scripts/setup.sh --test installs coturn)");
        let stdout = child.stdout.take().expect("coturn's output");
        let (ready, started) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line.contains("Total General servers") {
                    let _ = ready.send(());
                }
            }
        });
        started
            .recv_timeout(START_WITHIN)
            .expect("coturn started within 20 s");
        Self {
            port,
            listening: listening.to_vec(),
            dir,
            child,
        }
    }

    /// The `turn:` URL of the first listening address.
    pub fn url(&self) -> String {
        match self.listening[0] {
            IpAddr::V6(ip) => format!("turn:[{ip}]:{}", self.port),
            IpAddr::V4(ip) => format!("turn:{ip}:{}", self.port),
        }
    }

    /// Whether coturn grants an allocation to `username`/`credential` and relays through it
    /// (`turnutils_uclient`, two clients sending to each other through their relays).
    pub fn relays_for(&self, username: &str, credential: &str) -> bool {
        Command::new("turnutils_uclient")
            .args(["-y", "-n", "1", "-m", "1", "-c"])
            .args([
                "-u",
                username,
                "-w",
                credential,
                "-p",
                &self.port.to_string(),
            ])
            .arg(self.listening[0].to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("turnutils_uclient runs")
            .success()
    }
}

impl Drop for TestTurn {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
