//! Files in browser tests: picked in a page as a user would, and checked where they arrive.

use std::time::Duration;

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::browser::{Page, js, testid};

/// A file one page sends: random bytes from a seed.
pub struct TestFile {
    pub name: &'static str,
    pub mime: &'static str,
    pub size: usize,
    pub seed: u32,
}

impl TestFile {
    pub async fn pick(&self, page: &Page) {
        pick_random_file(
            page,
            "file-input",
            self.name,
            self.mime,
            self.size,
            self.seed,
        )
        .await;
    }

    /// `page` has a verified download of this file with the same SHA-256, size and name.
    pub async fn assert_received(&self, who: &str, page: &Page) {
        page.wait_for(
            &format!("{who} to receive and verify {}", self.name),
            &format!("{} === 'verified'", file_state(self.name)),
            Duration::from_secs(60),
        )
        .await;
        let expected: String = Sha256::digest(random_bytes(self.size, self.seed))
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let got = page.eval(&received_file(self.name)).await;
        let what = format!("{who}'s copy of {}", self.name);
        assert_eq!(got["hash"], Value::from(expected), "{what} is intact");
        assert_eq!(
            got["size"],
            Value::from(self.size),
            "{what} has the right size"
        );
        // Never the sender's type: a received file is only ever downloaded.
        assert_eq!(
            got["type"],
            Value::from("application/octet-stream"),
            "{what} is a download, whatever {} was declared as",
            self.mime
        );
        assert_eq!(
            got["download"],
            Value::from(self.name),
            "{what} has the right name"
        );
    }
}

/// `size` pseudo-random bytes (xorshift32 from `seed`, little-endian words): the same bytes
/// [`pick_random_file`] makes in the page, so a test can hash them on its side.
pub fn random_bytes(size: usize, seed: u32) -> Vec<u8> {
    assert!(
        size % 4 == 0 && seed != 0,
        "whole words from a non-zero seed"
    );
    let mut x = seed;
    let mut bytes = Vec::with_capacity(size);
    for _ in 0..size / 4 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        bytes.extend_from_slice(&x.to_le_bytes());
    }
    bytes
}

/// Picks a file of [`random_bytes`]`(size, seed)` named `name` in the `<input type=file>` with
/// `data-testid` = `id`, as a user would: set through `DataTransfer`, then `change`. The bytes
/// are made in the page, so megabytes need not cross the DevTools socket.
pub async fn pick_random_file(
    page: &Page,
    id: &str,
    name: &str,
    mime: &str,
    size: usize,
    seed: u32,
) {
    assert!(
        size % 4 == 0 && seed != 0,
        "whole words from a non-zero seed"
    );
    page.eval(&format!(
        "(() => {{ const bytes = new Uint8Array({size}); const view = new DataView(bytes.buffer); \
         let x = {seed}; \
         for (let i = 0; i < {size}; i += 4) {{ \
           x = (x ^ (x << 13)) >>> 0; x = (x ^ (x >>> 17)) >>> 0; x = (x ^ (x << 5)) >>> 0; \
           view.setUint32(i, x, true); }} \
         {} }})()",
        set_file_js(id, "[bytes]", name, mime)
    ))
    .await;
}

/// Picks a file of `size` zero bytes, as [`pick_random_file`] does: quick to make at any size.
pub async fn pick_empty_file(page: &Page, id: &str, name: &str, size: usize) {
    page.eval(&format!(
        "(() => {{ {} }})()",
        set_file_js(
            id,
            &format!("[new Uint8Array({size})]"),
            name,
            "application/octet-stream"
        )
    ))
    .await;
}

/// JavaScript statements: a `File` of `parts` set on input `id`, and its `change` event.
fn set_file_js(id: &str, parts: &str, name: &str, mime: &str) -> String {
    format!(
        "const input = document.querySelector({}); const picked = new DataTransfer(); \
         picked.items.add(new File({parts}, {}, {{ type: {} }})); input.files = picked.files; \
         input.dispatchEvent(new Event('change', {{ bubbles: true }}));",
        js(&testid(id)),
        js(name),
        js(mime)
    )
}

/// A JavaScript expression: the file `name` received on the page, as `{hash, size, type,
/// download}` read back from its download link (SHA-256 in hex), or `null` before it is
/// verified.
pub fn received_file(name: &str) -> String {
    format!(
        "(async () => {{ \
           const a = document.querySelector('[data-testid=\"file-transfer\"][data-name=' + \
             CSS.escape({0}) + '][data-state=\"verified\"] [data-testid=\"file-download\"]'); \
           if (!a) return null; \
           const blob = await (await fetch(a.href)).blob(); \
           const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', await blob.arrayBuffer())); \
           return {{ hash: [...digest].map(b => b.toString(16).padStart(2, '0')).join(''), \
             size: blob.size, type: blob.type, download: a.download, shown: a.dataset.size }}; \
         }})()",
        js(name)
    )
}

/// A JavaScript expression: the `data-state` of the file row for `name`, or `null`.
pub fn file_state(name: &str) -> String {
    format!(
        "((document.querySelector('[data-testid=\"file-transfer\"][data-name=' + CSS.escape({}) + ']') \
         || {{ dataset: {{}} }}).dataset.state || null)",
        js(name)
    )
}
