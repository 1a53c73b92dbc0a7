//! The real `noom-server` binary in a process of its own, as an operator runs it: started in
//! a directory of the test's choosing, its log kept for the test to read.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Long enough for a busy machine; conditions are polled, so a quick pass stays quick.
const START_WITHIN: Duration = Duration::from_secs(30);

/// Where Cargo put `noom-server` for this test run: beside the `deps/` directory that holds
/// the test executables. `cargo test` builds it (the server's own tests need it).
pub fn server_executable() -> PathBuf {
    let exe = std::env::current_exe().expect("the test's own path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("tests run from target/<profile>/deps");
    let server = profile_dir.join("noom-server");
    let built = std::fs::metadata(&server).and_then(|m| m.modified());
    let Ok(built) = built else {
        panic!(
            "{} is missing: run the whole workspace's `cargo test`, or `cargo build -p noom-server`",
            server.display()
        );
    };
    // `cargo test -p noom-tests` alone does not rebuild it: catch a binary older than the app
    // it should embed.
    let bundle = crate::server::workspace_root().join("dist/index.html");
    if let Ok(bundled) = std::fs::metadata(bundle).and_then(|m| m.modified()) {
        assert!(
            built >= bundled,
            "{} is older than dist/: run `cargo build -p noom-server` first",
            server.display()
        );
    }
    server
}

/// A running `noom-server`; dropping it kills it.
pub struct ServerProcess {
    pub addr: SocketAddr,
    child: Child,
    log: Arc<Mutex<String>>,
}

impl ServerProcess {
    /// Starts `executable` in `dir` with `args` (`--listen 127.0.0.1:0` among them) and no
    /// `NOOM_*` variables from the test's environment; waits until it logs its address.
    pub fn start(executable: &Path, dir: &Path, args: &[&str]) -> Self {
        Self::start_with(Command::new(executable), dir, args)
    }

    /// Like [`start`](Self::start) with a command prepared by the caller (e.g. `ip netns exec`).
    pub fn start_with(mut command: Command, dir: &Path, args: &[&str]) -> Self {
        for (name, _) in std::env::vars().filter(|(name, _)| name.starts_with("NOOM_")) {
            command.env_remove(name);
        }
        let mut child = command
            .args(args)
            .current_dir(dir)
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start noom-server");
        let log = Arc::new(Mutex::new(String::new()));
        for output in [
            Box::new(child.stdout.take().expect("stdout")) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().expect("stderr")),
        ] {
            let log = log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(output).lines().map_while(Result::ok) {
                    let mut log = log.lock().unwrap_or_else(PoisonError::into_inner);
                    log.push_str(&line);
                    log.push('\n');
                }
            });
        }
        let mut process = Self {
            addr: SocketAddr::from(([0, 0, 0, 0], 0)),
            child,
            log,
        };
        let line = process.wait_for_log("Noom is listening");
        process.addr = field(&line, "addr")
            .and_then(|addr| addr.parse().ok())
            .unwrap_or_else(|| panic!("no address in: {line}"));
        process
    }

    /// Everything logged so far.
    pub fn log(&self) -> String {
        self.log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Waits for a log line containing `text` and returns it.
    pub fn wait_for_log(&mut self, text: &str) -> String {
        self.wait_for_nth_log(text, 1)
    }

    /// Waits for the `nth` (from 1) log line containing `text` and returns it.
    pub fn wait_for_nth_log(&mut self, text: &str, nth: usize) -> String {
        let started = Instant::now();
        loop {
            if let Some(line) = self.log().lines().filter(|l| l.contains(text)).nth(nth - 1) {
                return line.to_owned();
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "noom-server exited ({status}) before logging {text:?}:\n{}",
                    self.log()
                );
            }
            assert!(
                started.elapsed() < START_WITHIN,
                "no {text:?} in the log within {START_WITHIN:?}:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends `signal` (`"HUP"`, `"TERM"`) to the process.
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{signal} failed");
    }

    /// Ends the process and waits for it.
    pub fn stop(mut self) {
        self.kill();
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Process `pid`'s resident memory now (VmRSS), in KiB; `None` once it is gone.
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
}

/// The value of `name=value` in a log line (colours off first).
pub fn field(line: &str, name: &str) -> Option<String> {
    let plain = strip_colours(line);
    let rest = plain.split_once(&format!("{name}="))?.1;
    Some(rest.split_whitespace().next()?.trim_matches('"').to_owned())
}

fn strip_colours(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            chars.by_ref().find(char::is_ascii_alphabetic);
        } else {
            out.push(c);
        }
    }
    out
}

/// A fresh empty directory under the system's temp dir, named for the test.
pub fn empty_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("noom-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("make a test directory");
    dir
}
