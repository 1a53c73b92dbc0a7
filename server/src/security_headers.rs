//! Headers that keep Noom's pages from being framed, sniffed or made to run someone else's
//! script: every response of the app and the admin page gets them, and HTML gets a
//! Content-Security-Policy that allows only this origin's scripts, the inline scripts the page
//! itself carries (by hash: Trunk's loader, the admin page), and WebAssembly.

use base64::Engine as _;
use hyper::header::{HeaderMap, HeaderName, HeaderValue};
use sha2::{Digest, Sha256};

/// `X-Content-Type-Options`, `Referrer-Policy` and `X-Frame-Options` on every response.
pub(crate) fn add_common(headers: &mut HeaderMap) {
    for (name, value) in [
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
        ("x-frame-options", "DENY"),
    ] {
        headers.insert(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    }
}

/// The policy for `html`, served to a request for `host` (its `Host` header, if valid).
pub(crate) fn content_security_policy(html: &[u8], host: Option<&str>) -> Option<HeaderValue> {
    let scripts: String = inline_scripts(html)
        .map(|script| {
            let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(script));
            format!(" 'sha256-{hash}'")
        })
        .collect();
    // `'self'` covers the page's own WebSocket in current browsers; naming it keeps older
    // ones working. `blob:` lets the page read back the files it received.
    let sockets = host
        .filter(|host| host.parse::<hyper::http::uri::Authority>().is_ok())
        .map(|host| format!(" ws://{host} wss://{host}"))
        .unwrap_or_default();
    let policy = format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'{scripts}; \
         style-src 'self' 'unsafe-inline'; img-src 'self' blob: data:; \
         media-src 'self' blob: mediastream:; connect-src 'self' blob:{sockets}; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    );
    HeaderValue::from_str(&policy).ok()
}

/// The contents of the `<script>` elements without a `src`.
fn inline_scripts(html: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = html;
    std::iter::from_fn(move || {
        loop {
            let start = find(rest, b"<script")?;
            let tag_end = start + find(&rest[start..], b">")?;
            let tag = &rest[start..tag_end];
            let body_start = tag_end + 1;
            let body_end = body_start + find(&rest[body_start..], b"</script>")?;
            let body = &rest[body_start..body_end];
            rest = &rest[body_end..];
            if find(tag, b" src=").is_none() {
                return Some(body);
            }
        }
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window.eq_ignore_ascii_case(needle))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_scripts_are_allowed_by_hash_and_others_not_at_all() {
        let html = b"<head><script type=\"module\">boot()</script>\
            <script src=\"/x.js\"></script><SCRIPT>two()</SCRIPT></head>";
        let found: Vec<&[u8]> = inline_scripts(html).collect();
        assert_eq!(found, [b"boot()".as_slice(), b"two()".as_slice()]);

        let policy = content_security_policy(html, Some("meet.example.org:8443")).unwrap();
        let policy = policy.to_str().unwrap();
        let boot = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(b"boot()"));
        assert!(policy.contains(&format!("'sha256-{boot}'")), "{policy}");
        assert!(policy.contains("'wasm-unsafe-eval'"));
        let script_src = policy
            .split(';')
            .find(|d| d.trim().starts_with("script-src"));
        assert!(!script_src.unwrap().contains("unsafe-inline"), "{policy}");
        assert!(policy.contains("wss://meet.example.org:8443"));
        assert!(policy.contains("frame-ancestors 'none'"));
        let odd_host = content_security_policy(b"", Some("evil.example; script-src *")).unwrap();
        assert!(
            !odd_host.to_str().unwrap().contains("evil"),
            "a bad Host is left out"
        );
    }
}
