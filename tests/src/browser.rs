//! Headless Chromium for end-to-end tests, driven over the DevTools protocol (chromiumoxide).
//!
//! One [`Browser`] process per test binary run; each participant gets a [`Page`] in its own
//! browser context (its own storage, and a foreground tab, so its video really plays). Camera
//! and microphone are Chromium's fake devices. Pages are driven through small JavaScript
//! snippets on the app's `data-testid` attributes; a failed wait panics with what it waited
//! for.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chromiumoxide::browser::{Browser as CdpBrowser, BrowserConfig};
use chromiumoxide::cdp::browser_protocol::browser::{
    PermissionDescriptor, PermissionSetting, SetPermissionParams,
};
use chromiumoxide::cdp::browser_protocol::emulation::SetDeviceMetricsOverrideParams;
use chromiumoxide::cdp::browser_protocol::input::{
    DispatchKeyEventParams, DispatchKeyEventType, InsertTextParams,
};
use chromiumoxide::cdp::browser_protocol::page::CaptureScreenshotFormat;
use chromiumoxide::cdp::browser_protocol::target::{
    CreateBrowserContextParams, CreateTargetParams,
};
use chromiumoxide::cdp::js_protocol::runtime::EvaluateParams;
use chromiumoxide::page::ScreenshotParams;
use futures_util::StreamExt;
use serde_json::Value;
use tokio::task::JoinHandle;

/// Where Debian installs Chromium; `NOOM_CHROMIUM` overrides it.
const DEFAULT_CHROMIUM: &str = "/usr/bin/chromium";

/// The window every page gets: a laptop screen.
const WINDOW: (u32, u32) = (1280, 800);

/// How long a single `wait_for` may take unless told otherwise.
pub const WAIT: Duration = Duration::from_secs(20);

/// Every browser's switches (without the leading `--`): fake media, no background work.
const SWITCHES: &[&str] = &[
    "use-fake-device-for-media-stream",
    "allow-loopback-in-peer-connection",
    "autoplay-policy=no-user-gesture-required",
    "disable-background-networking",
    "disable-component-update",
    "disable-sync",
    "disable-gpu",
    "disable-quic",
    "no-first-run",
    "disable-background-timer-throttling",
    "disable-renderer-backgrounding",
    "disable-backgrounding-occluded-windows",
];

/// A running headless Chromium. Dropping it kills the process.
pub struct Browser {
    inner: CdpBrowser,
    handler: JoinHandle<()>,
    profile: PathBuf,
    /// Processes started here rather than by chromiumoxide (Chromium in a namespace and its
    /// forwarder), killed on drop.
    processes: Vec<std::process::Child>,
}

impl Browser {
    /// Starts Chromium with fake media devices and a fresh profile.
    pub async fn launch() -> Self {
        Self::launch_with(&[]).await
    }

    /// Like [`Browser::launch`], and screen sharing (`getDisplayMedia`) picks the whole screen
    /// without showing a picker. The switch that does it accepts every permission prompt, so
    /// [`Browser::open_blocking`] cannot block anything in this browser. The fake camera is
    /// small (160×120 at 10 frames a second, from [`camera_clip`]): four or five pages
    /// encoding one another's video beside a shared screen then fit on two cores.
    pub async fn launch_for_screen_sharing() -> Self {
        Self::launch_with_camera(160, 120).await
    }

    /// Like [`Browser::launch_for_screen_sharing`], with a `width`×`height` fake camera at 10
    /// frames a second (Chromium encodes all three simulcast layers only from 1280×720).
    pub async fn launch_with_camera(width: usize, height: usize) -> Self {
        let clip = format!(
            "use-file-for-fake-video-capture={}",
            camera_clip(width, height).display()
        );
        Self::launch_with(&["use-fake-ui-for-media-stream", &clip]).await
    }

    /// Like [`Browser::launch`], and certificates for the key in `key_pem` are trusted, as
    /// after a user accepts a self-signed certificate's warning.
    pub async fn launch_trusting_key(key_pem: &str) -> Self {
        Self::launch_with(&[&trust_key_switch(key_pem)]).await
    }

    /// Like [`Browser::launch`], with `navigator.language` set to `lang` (`ko-KR`).
    pub async fn launch_speaking(lang: &str) -> Self {
        Self::launch_with(&[&format!("accept-lang={lang}")]).await
    }

    async fn launch_with(extra_args: &[&str]) -> Self {
        let executable = chromium_executable();
        let profile = fresh_profile();
        let config = BrowserConfig::builder()
            .chrome_executable(&executable)
            .user_data_dir(&profile)
            .new_headless_mode()
            .no_sandbox()
            .window_size(WINDOW.0, WINDOW.1)
            .viewport(None)
            .launch_timeout(Duration::from_secs(30))
            .request_timeout(Duration::from_secs(30))
            .args(SWITCHES.iter().copied())
            .args(extra_args.iter().copied())
            .build()
            .expect("a valid Chromium configuration");
        let (inner, mut events) = CdpBrowser::launch(config)
            .await
            .unwrap_or_else(|err| panic!("cannot start {}: {err}", executable.display()));
        let handler = tokio::spawn(async move { while events.next().await.is_some() {} });
        Self {
            inner,
            handler,
            profile,
            processes: Vec::new(),
        }
    }

    /// Like [`Browser::launch_trusting_key`], with Chromium inside `namespace`, so that its
    /// pages reach the network from there. Its DevTools port listens on the namespace's
    /// loopback only: `forwarder` (the `noom-forward` binary) is started beside it on the
    /// namespace's address, and this side connects through that.
    pub async fn launch_in(
        namespace: &crate::netns::Namespace,
        forwarder: &Path,
        key_pem: &str,
    ) -> Self {
        use std::io::{BufRead, BufReader};
        use std::process::Stdio;
        let profile = fresh_profile();
        let mut chromium = namespace
            .command(&chromium_executable())
            .args([
                "--headless=new",
                "--no-sandbox",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg(format!("--window-size={},{}", WINDOW.0, WINDOW.1))
            .arg(format!("--{}", trust_key_switch(key_pem)))
            .args(SWITCHES.iter().map(|switch| format!("--{switch}")))
            .arg("about:blank")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start Chromium in the namespace");
        let mut lines = BufReader::new(chromium.stderr.take().expect("Chromium's stderr")).lines();
        let devtools = lines
            .by_ref()
            .map_while(Result::ok)
            .find_map(|line| {
                line.split_once("DevTools listening on ")
                    .map(|(_, url)| url.trim().to_owned())
            })
            .expect("Chromium prints its DevTools URL");
        std::thread::spawn(move || lines.for_each(drop));
        let local = devtools
            .trim_start_matches("ws://")
            .split('/')
            .next()
            .expect("host:port in the DevTools URL")
            .to_owned();
        let mut forward = namespace
            .command(forwarder)
            .args([format!("{}:0", namespace.address), local.clone()])
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the forwarder");
        let mut first = String::new();
        BufReader::new(forward.stdout.take().expect("the forwarder's stdout"))
            .read_line(&mut first)
            .expect("the forwarder prints its address");
        let reachable = first
            .trim()
            .strip_prefix("listening on ")
            .expect("the forwarder's address")
            .to_owned();
        let (inner, mut events) = CdpBrowser::connect(devtools.replace(&local, &reachable))
            .await
            .expect("connect to Chromium in the namespace");
        let handler = tokio::spawn(async move { while events.next().await.is_some() {} });
        Self {
            inner,
            handler,
            profile,
            processes: vec![chromium, forward],
        }
    }

    /// Opens `url` in a new page with its own browser context (fresh storage), and waits until
    /// the document is parsed (DOMContentLoaded, not `load`).
    pub async fn open(&self, url: &str) -> Page {
        self.open_blocking(url, &[]).await
    }

    /// Like [`Browser::open`], with the given permissions (`"camera"`, `"microphone"`) denied
    /// in the page's context, as when a user clicks "Block".
    pub async fn open_blocking(&self, url: &str, blocked: &[&str]) -> Page {
        let context = self
            .inner
            .create_browser_context(CreateBrowserContextParams::default())
            .await
            .expect("create a browser context");
        // Camera and microphone are granted or denied up front, so no prompt is ever shown.
        // An insecure origin has none to grant (Chromium refuses to set them).
        let permissions = if is_secure_origin(&origin(url)) {
            ["camera", "microphone"].as_slice()
        } else {
            &[]
        };
        for &permission in permissions {
            let setting = if blocked.contains(&permission) {
                PermissionSetting::Denied
            } else {
                PermissionSetting::Granted
            };
            let mut decide =
                SetPermissionParams::new(PermissionDescriptor::new(permission), setting);
            decide.browser_context_id = Some(context.clone());
            decide.origin = Some(origin(url));
            self.inner.execute(decide).await.expect("set a permission");
        }
        let target = CreateTargetParams::builder()
            .url("about:blank")
            .browser_context_id(context)
            .build()
            .expect("valid target parameters");
        let page = Page {
            inner: self.inner.new_page(target).await.expect("open a page"),
        };
        page.eval(&format!("location.href = {}", js(url))).await;
        page.wait_for(
            "the page to load",
            &format!(
                "location.href.startsWith({}) && document.readyState !== 'loading'",
                js(url)
            ),
            WAIT,
        )
        .await;
        page
    }

    /// Closes Chromium and waits for it to exit (the profile is removed on drop).
    pub async fn close(mut self) {
        let _ = self.inner.close().await;
        let _ = self.inner.wait().await;
    }
}

/// Chromium's path, checked.
fn chromium_executable() -> PathBuf {
    let executable = std::env::var_os("NOOM_CHROMIUM")
        .map_or_else(|| PathBuf::from(DEFAULT_CHROMIUM), PathBuf::from);
    assert!(
        executable.exists(),
        "Chromium not found at {} (install Debian's `chromium`, or set NOOM_CHROMIUM)",
        executable.display()
    );
    executable
}

/// A profile directory no other browser uses.
fn fresh_profile() -> PathBuf {
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    std::env::temp_dir().join(format!("noom-chromium-{}-{stamp}", std::process::id()))
}

/// The switch that makes Chromium accept certificates of the key in `key_pem` (its SPKI hash).
fn trust_key_switch(key_pem: &str) -> String {
    use base64::Engine as _;
    use sha2::Digest as _;
    let key = rcgen::KeyPair::from_pem(key_pem).expect("a PEM private key");
    let spki_hash = sha2::Sha256::digest(key.public_key_der());
    let encoded = base64::engine::general_purpose::STANDARD.encode(spki_hash);
    format!("ignore-certificate-errors-spki-list={encoded}")
}

impl Drop for Browser {
    /// After a failed test: chromiumoxide kills the process; the profile goes too.
    fn drop(&mut self) {
        for process in &mut self.processes {
            let _ = process.kill();
            let _ = process.wait();
        }
        self.handler.abort();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// One tab.
pub struct Page {
    inner: chromiumoxide::Page,
}

impl Page {
    /// Evaluates a JavaScript expression (promises are awaited) and returns its JSON value.
    /// Retries for a moment while a navigation replaces the page's JavaScript context.
    pub async fn eval(&self, expression: &str) -> Value {
        let started = Instant::now();
        loop {
            match self.try_eval(expression).await {
                Ok(value) => return value,
                Err(err) if started.elapsed() > Duration::from_secs(5) => {
                    panic!("evaluating `{expression}` failed: {err}")
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }

    async fn try_eval(&self, expression: &str) -> Result<Value, String> {
        let params = EvaluateParams::builder()
            .expression(expression)
            .await_promise(true)
            .return_by_value(true)
            .build()?;
        let result = self
            .inner
            .evaluate_expression(params)
            .await
            .map_err(|err| err.to_string())?;
        Ok(result.value().cloned().unwrap_or(Value::Null))
    }

    /// Polls `condition` (a JavaScript expression, or a promise of one) until it is truthy; panics after `timeout`
    /// naming `what`. Returns how long it took.
    /// Waits until an element with test id `id` contains `text`; returns how long it took.
    pub async fn wait_for_text(&self, id: &str, text: &str, timeout: Duration) -> Duration {
        self.wait_for(
            &format!("{text:?} in {id}"),
            &format!(
                "[...document.querySelectorAll({})].some(e => e.textContent.includes({}))",
                js(&testid(id)),
                js(text)
            ),
            timeout,
        )
        .await
    }

    pub async fn wait_for(&self, what: &str, condition: &str, timeout: Duration) -> Duration {
        let started = Instant::now();
        let expression = format!(
            "(async () => {{ try {{ return !!(await ({condition})); }} catch (e) {{ return false; }} }})()"
        );
        loop {
            if self.try_eval(&expression).await == Ok(Value::Bool(true)) {
                return started.elapsed();
            }
            assert!(
                started.elapsed() < timeout,
                "timed out after {timeout:?} waiting for {what}\n  condition: {condition}\n  page text: {}",
                self.text().await
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Clicks the element with `data-testid` = `id` (it must exist and be enabled).
    pub async fn click(&self, id: &str) {
        let selector = testid(id);
        self.wait_for(
            &format!("{selector} to be clickable"),
            &format!(
                "document.querySelector({0}) && !document.querySelector({0}).disabled",
                js(&selector)
            ),
            WAIT,
        )
        .await;
        self.eval(&format!(
            "document.querySelector({}).click()",
            js(&selector)
        ))
        .await;
    }

    /// Types `text` into the input with `data-testid` = `id`, as one input event.
    pub async fn fill(&self, id: &str, text: &str) {
        let selector = testid(id);
        self.wait_for(
            &format!("{selector} to exist"),
            &format!("document.querySelector({})", js(&selector)),
            WAIT,
        )
        .await;
        self.eval(&format!(
            "(() => {{ const el = document.querySelector({}); el.focus(); el.value = {}; \
             el.dispatchEvent(new Event('input', {{ bubbles: true }})); }})()",
            js(&selector),
            js(text)
        ))
        .await;
    }

    /// The number of elements matching a CSS selector.
    pub async fn count(&self, selector: &str) -> u64 {
        self.eval(&format!(
            "document.querySelectorAll({}).length",
            js(selector)
        ))
        .await
        .as_u64()
        .unwrap_or(0)
    }

    /// The page's visible text, for failure messages.
    pub async fn text(&self) -> String {
        self.eval("document.body ? document.body.innerText : ''")
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Writes a PNG screenshot of the page to `path`, creating its directory.
    pub async fn screenshot(&self, path: &Path) {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("create the screenshot directory");
        }
        let png = self
            .inner
            .screenshot(
                ScreenshotParams::builder()
                    .format(CaptureScreenshotFormat::Png)
                    .build(),
            )
            .await
            .expect("take a screenshot");
        std::fs::write(path, png).expect("write the screenshot");
    }

    /// Emulates a screen of `width` x `height` CSS pixels (a phone: 390 x 844).
    pub async fn resize(&self, width: u32, height: u32) {
        self.inner
            .execute(SetDeviceMetricsOverrideParams::new(
                width,
                height,
                1.0,
                width < 600,
            ))
            .await
            .expect("resize the page");
    }

    /// Presses and releases `key` as a keyboard would (`Tab`, `Enter`, ` ` for Space,
    /// `Escape`), to the element that has the focus.
    pub async fn press(&self, key: &str) {
        let (code, key_code, text) = match key {
            "Tab" => ("Tab", 9, ""),
            "Enter" => ("Enter", 13, "\r"),
            " " => ("Space", 32, " "),
            "Escape" => ("Escape", 27, ""),
            other => panic!("no key code for {other:?}"),
        };
        let down_type = if text.is_empty() {
            DispatchKeyEventType::RawKeyDown
        } else {
            DispatchKeyEventType::KeyDown
        };
        for (kind, text) in [(down_type, text), (DispatchKeyEventType::KeyUp, "")] {
            let event = DispatchKeyEventParams::builder()
                .r#type(kind)
                .key(key)
                .code(code)
                .windows_virtual_key_code(key_code)
                .native_virtual_key_code(key_code)
                .text(text)
                .build()
                .expect("a key event");
            self.inner.execute(event).await.expect("press a key");
        }
    }

    /// Types `text` into the focused field, as an input method would.
    pub async fn type_text(&self, text: &str) {
        self.inner
            .execute(InsertTextParams::new(text))
            .await
            .expect("type text");
    }

    /// Presses Tab until the element with test id `id` has the focus (at most `most` times);
    /// returns how many presses it took.
    pub async fn tab_to(&self, id: &str, most: usize) -> usize {
        let focused = format!(
            "document.activeElement && document.activeElement.matches({})",
            js(&testid(id))
        );
        for presses in 0..=most {
            if self.eval(&focused).await == Value::Bool(true) {
                return presses;
            }
            self.press("Tab").await;
        }
        panic!(
            "{id} not reached in {most} Tabs; the focus is on {}",
            self.eval("document.activeElement && document.activeElement.outerHTML.slice(0, 120)")
                .await
        );
    }

    /// Closes the tab.
    pub async fn close(self) {
        let _ = self.inner.close().await;
    }
}

/// `scheme://host:port` of an absolute URL.
/// HTTPS, or HTTP on loopback: where browsers offer cameras.
fn is_secure_origin(origin: &str) -> bool {
    let Some(host) = origin.strip_prefix("http://") else {
        return true;
    };
    host.starts_with("127.") || host.starts_with("localhost") || host.starts_with("[::1]")
}

fn origin(url: &str) -> String {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let end = url[after_scheme..]
        .find('/')
        .map_or(url.len(), |i| after_scheme + i);
    url[..end].to_owned()
}

/// A one-second `W`×`H` Y4M clip at 10 frames a second, a bright bar moving across grey, for
/// Chromium's file-fed fake camera (it loops the clip). Written once per machine and size.
pub fn camera_clip(width: usize, height: usize) -> PathBuf {
    let path = std::env::temp_dir().join(format!("noom-camera-{width}x{height}.y4m"));
    if path.is_file() {
        return path;
    }
    let mut clip = format!("YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n").into_bytes();
    for frame in 0..10 {
        clip.extend_from_slice(b"FRAME\n");
        let bar = frame * width / 10;
        for _y in 0..height {
            clip.extend((0..width).map(|x| {
                if x >= bar && x < bar + width / 10 {
                    235
                } else {
                    96
                }
            }));
        }
        // Chroma planes, a quarter each: a tint that changes per frame.
        clip.extend(std::iter::repeat_n(
            128 + frame as u8 * 4,
            width * height / 4,
        ));
        clip.extend(std::iter::repeat_n(128, width * height / 4));
    }
    let partial = path.with_extension(format!("partial-{}", std::process::id()));
    std::fs::write(&partial, clip).expect("write the fake camera clip");
    std::fs::rename(&partial, &path).expect("move the fake camera clip into place");
    path
}

/// Where a screenshot named `name` goes: `tests/artifacts/`, ignored by git.
pub fn artifact(name: &str) -> PathBuf {
    crate::server::workspace_root()
        .join("tests/artifacts")
        .join(name)
}

/// A CSS selector for `data-testid` = `id`.
pub fn testid(id: &str) -> String {
    format!("[data-testid=\"{id}\"]")
}

/// `text` as a JavaScript string literal.
pub fn js(text: &str) -> String {
    Value::from(text).to_string()
}

/// Per remote peer: inbound video frames decoded and inbound audio packets received.
pub const MEDIA_STATS: &str = r#"(async () => {
    const out = {};
    for (const [peer, pc] of (window.__noom ? window.__noom.peers : new Map())) {
        let frames = 0, packets = 0;
        (await pc.getStats()).forEach(r => {
            if (r.type === 'inbound-rtp' && r.kind === 'video') frames += r.framesDecoded || 0;
            if (r.type === 'inbound-rtp' && r.kind === 'audio') packets += r.packetsReceived || 0;
        });
        out[peer] = [frames, packets];
    }
    return out;
})()"#;

/// `dist/`, the release bundle the server serves; panics with how to build it when missing.
pub fn built_dist() -> PathBuf {
    let dist = crate::server::workspace_root().join("dist");
    assert!(
        dist.join("index.html").is_file(),
        "{} is missing: build the web client first with `scripts/build.sh` at the workspace root",
        dist.join("index.html").display()
    );
    dist
}

/// A server on a free port serving the release bundle, with default settings.
pub async fn app_server() -> crate::TestServer {
    crate::TestServer::with_config(noom_server::Config {
        static_dir: Some(built_dist()),
        ..noom_server::Config::default()
    })
    .await
}

/// Opens a page for each of `names` in turn, each joins the room at `room_url` under that name,
/// and returns once every page sees and hears all the others.
pub async fn start_call(browser: &Browser, room_url: &str, names: &[&str]) -> Vec<Page> {
    let mut pages = Vec::new();
    for name in names {
        let page = browser.open(room_url).await;
        join(&page, Some(name)).await;
        pages.push(page);
    }
    for (name, page) in names.iter().zip(&pages) {
        assert_media_flows(name, page, names.len() - 1).await;
    }
    pages
}

/// Waits for pre-join with the camera and microphone ready, sets the nickname when given, and
/// clicks Join; returns when Join was clicked, after seeing the call view.
pub async fn join(page: &Page, nickname: Option<&str>) -> Instant {
    page.wait_for(
        "the camera preview",
        "document.querySelector('.preview video') && document.querySelector('.preview video').srcObject",
        WAIT,
    )
    .await;
    if let Some(nickname) = nickname {
        page.fill("prejoin-nickname", nickname).await;
    }
    let clicked = Instant::now();
    page.click("join-button").await;
    page.wait_for(
        "the call view",
        &format!(
            "document.querySelector({})",
            js(&testid("participant-count"))
        ),
        WAIT,
    )
    .await;
    clicked
}

/// On every one of the `links` links of `page`: video frames decoded and audio packets received, and both rising;
/// and every remote tile's `<video>` shows a picture.
pub async fn assert_media_flows(name: &str, page: &Page, links: usize) {
    let links_up = format!(
        "{MEDIA_STATS}.then(s => Object.keys(s).length === {links} && \
         Object.values(s).every(([frames, packets]) => frames > 0 && packets > 0))"
    );
    page.wait_for(
        &format!("{name} to decode media from both others"),
        &links_up,
        WAIT,
    )
    .await;
    let before = media_stats(page).await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let after = media_stats(page).await;
    assert_eq!(after.len(), links, "{name} has {links} peer connections");
    for (peer, (frames, packets)) in &after {
        let Some(&(frames_before, packets_before)) = before.get(peer) else {
            panic!(
                "{name}: the link to {peer} is new: links were replaced ({before:?} → {after:?})"
            );
        };
        assert!(
            *frames > frames_before,
            "{name}: video from {peer} is not being decoded ({frames_before} → {frames} frames)"
        );
        assert!(
            *packets > packets_before,
            "{name}: audio from {peer} is not arriving ({packets_before} → {packets} packets)"
        );
    }
    page.wait_for(
        &format!("{name}'s remote tiles to show video"),
        &format!(
            "[...document.querySelectorAll('[data-testid=\"tile\"][data-self=\"false\"] video')]\
             .filter(v => v.videoWidth > 0 && !v.paused).length === {links}"
        ),
        WAIT,
    )
    .await;
}

pub async fn media_stats(page: &Page) -> HashMap<String, (u64, u64)> {
    let stats = page.eval(MEDIA_STATS).await;
    let Value::Object(peers) = stats else {
        panic!("unexpected stats: {stats}");
    };
    peers
        .into_iter()
        .map(|(peer, counts)| {
            let count = |i: usize| counts[i].as_u64().unwrap_or(0);
            (peer, (count(0), count(1)))
        })
        .collect()
}

/// Opens the side panel that the toggle `toggle_id` shows, unless it is open already.
pub async fn open_panel(page: &Page, toggle_id: &str) {
    let closed = page
        .eval(&format!(
            "document.querySelector({}).getAttribute('aria-pressed') !== 'true'",
            js(&testid(toggle_id))
        ))
        .await;
    if closed == Value::Bool(true) {
        page.click(toggle_id).await;
    }
}

/// The peer id on `page`'s own tile.
pub async fn self_peer_id(page: &Page) -> String {
    page.eval("document.querySelector('[data-testid=\"tile\"][data-self=\"true\"]').dataset.peer")
        .await
        .as_str()
        .expect("the page has its own tile")
        .to_owned()
}
