//! Embeds the built web app (`dist/`, or `NOOM_BUNDLE_DIR`) in the binary, each file with a
//! gzip copy made here when that is smaller, so the release binary is all a deployment needs.
//! Without a built app the binary embeds nothing and says how to build one.

use std::fmt::Write as _;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::{env, fs};

use flate2::Compression;
use flate2::write::GzEncoder;

fn main() {
    println!("cargo:rerun-if-env-changed=NOOM_BUNDLE_DIR");
    let bundle = env::var_os("NOOM_BUNDLE_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../dist"),
        PathBuf::from,
    );
    // A missing directory makes Cargo rerun this every build, which is what we want: the
    // next build after `trunk build` embeds it.
    println!("cargo:rerun-if-changed={}", bundle.display());
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("Cargo sets OUT_DIR"));
    let mut files = Vec::new();
    if bundle.join("index.html").is_file() {
        collect(&bundle, &bundle, &mut files);
    }
    files.sort();

    let mut code = String::from("&[\n");
    for (index, relative) in files.iter().enumerate() {
        let source = bundle.join(relative);
        let raw = fs::read(&source).expect("read a bundle file");
        let gzip = gzipped(&raw).map(|packed| {
            let path = out.join(format!("asset-{index}.gz"));
            fs::write(&path, packed).expect("write a gzip copy");
            path
        });
        let mut hasher = DefaultHasher::new();
        raw.hash(&mut hasher);
        let _ = writeln!(
            code,
            "    EmbeddedAsset {{ path: {path:?}, raw: include_bytes!({source:?}), \
             gzip: {gzip}, etag: \"\\\"{etag:016x}\\\"\" }},",
            path = relative,
            source = source.canonicalize().expect("a bundle file's full path"),
            gzip = gzip.map_or("None".to_owned(), |p| format!(
                "Some(include_bytes!({p:?}))"
            )),
            etag = hasher.finish(),
        );
    }
    code.push(']');
    fs::write(out.join("bundle.rs"), code).expect("write bundle.rs");
}

/// Every file under `dir`, as `/`-separated paths relative to `root`.
fn collect(root: &Path, dir: &Path, files: &mut Vec<String>) {
    for entry in fs::read_dir(dir).expect("read the bundle directory") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            collect(root, &path, files);
        } else if let Ok(relative) = path.strip_prefix(root) {
            let parts: Vec<_> = relative.iter().map(|p| p.to_string_lossy()).collect();
            files.push(parts.join("/"));
        }
    }
}

/// The gzip copy, if it saves at least a tenth (images and fonts are compressed already).
fn gzipped(raw: &[u8]) -> Option<Vec<u8>> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    encoder.write_all(raw).ok()?;
    let packed = encoder.finish().ok()?;
    (packed.len() < raw.len() - raw.len() / 10).then_some(packed)
}
