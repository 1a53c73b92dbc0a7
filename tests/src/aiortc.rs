//! A participant whose WebRTC stack is not Chromium's: aiortc, in Python, driven by
//! `tests/aiortc/sfu_participant.py` (installed by `scripts/setup.sh --test`). Its own ICE,
//! DTLS, SRTP, RTP and codecs meet the SFU and the browsers, which catches what only Chromium
//! forgives. It sends a 320x240 orange picture and silence, and reports what it decodes.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::server::workspace_root;

/// The picture it sends.
pub const PICTURE_WIDTH: u64 = 320;
pub const PICTURE_HEIGHT: u64 = 240;

/// What the script printed last, and what went to its stderr.
#[derive(Default)]
struct Heard {
    joined: Option<Value>,
    report: Value,
    stderr: String,
}

pub struct AiortcPeer {
    pub peer_id: String,
    heard: Arc<Mutex<Heard>>,
    child: Child,
    /// Held open: the script exits when it closes.
    _stdin: ChildStdin,
}

impl AiortcPeer {
    /// Starts the script, which joins `room` on the server at `ws_url` as `nickname`, and
    /// waits for its `joined`.
    pub async fn join(ws_url: &str, room: &str, nickname: &str) -> Self {
        let script = workspace_root().join("tests/aiortc/sfu_participant.py");
        let mut child = Command::new("python3")
            .arg(script)
            .args([ws_url, room, nickname])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("python3 runs (scripts/setup.sh --test installs aiortc)");
        let heard = Arc::new(Mutex::new(Heard::default()));
        let stdout = child.stdout.take().expect("piped stdout");
        let into = heard.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let Ok(event) = serde_json::from_str::<Value>(&line) else {
                    continue;
                };
                let mut heard = into.lock().unwrap_or_else(PoisonError::into_inner);
                match event["event"].as_str() {
                    Some("joined") => heard.joined = Some(event),
                    Some("report") => heard.report = event,
                    _ => {}
                }
            }
        });
        let mut stderr = child.stderr.take().expect("piped stderr");
        let into = heard.clone();
        std::thread::spawn(move || {
            let mut buffer = [0u8; 4096];
            while let Ok(read @ 1..) = stderr.read(&mut buffer) {
                let text = String::from_utf8_lossy(&buffer[..read]);
                into.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .stderr
                    .push_str(&text);
            }
        });
        let stdin = child.stdin.take().expect("piped stdin");
        let mut peer = Self {
            peer_id: String::new(),
            heard,
            child,
            _stdin: stdin,
        };
        // Python and aiortc take a while to import on a busy machine.
        peer.wait_for(
            &format!("{nickname} (aiortc) to join"),
            Duration::from_secs(60),
            |h| h.joined.is_some(),
        )
        .await;
        let joined = peer.with_heard(|h| h.joined.clone()).unwrap_or_default();
        peer.peer_id = joined["peer_id"].as_str().unwrap_or_default().to_owned();
        peer
    }

    /// Its latest report: `{media, connection, offered: [<peer id>], received: {<peer id>:
    /// {video_frames, width, height, audio_frames}}, errors}`; `offered` are the others whose
    /// tracks the latest offer brings.
    pub fn report(&self) -> Value {
        self.with_heard(|h| h.report.clone())
    }

    /// Waits until its latest report meets `condition`; panics after `deadline` with that
    /// report and the script's stderr. Returns how long it waited.
    pub async fn wait_until(
        &mut self,
        what: &str,
        deadline: Duration,
        condition: impl Fn(&Value) -> bool,
    ) -> Duration {
        self.wait_for(what, deadline, |h| condition(&h.report))
            .await
    }

    async fn wait_for(
        &mut self,
        what: &str,
        deadline: Duration,
        condition: impl Fn(&Heard) -> bool,
    ) -> Duration {
        let start = Instant::now();
        loop {
            if self.with_heard(&condition) {
                return start.elapsed();
            }
            let exited = self.child.try_wait().ok().flatten();
            if exited.is_some() || start.elapsed() > deadline {
                let (report, stderr) = self.with_heard(|h| (h.report.clone(), h.stderr.clone()));
                panic!(
                    "waited {:?} for {what} (script exit: {exited:?}); last report: {report}\n\
                     stderr:\n{stderr}",
                    start.elapsed()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn with_heard<T>(&self, read: impl FnOnce(&Heard) -> T) -> T {
        read(&self.heard.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

impl Drop for AiortcPeer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
