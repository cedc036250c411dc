//! Embeds `web/dist` (the built Vue app) into the crate.
//!
//! The web app is built with npm, not by this script: `npm --prefix web ci && npm --prefix web run build`
//! (or `cargo xtask web`). When `web/dist/index.html` does not exist the crate still compiles and
//! serves a page that says how to build the app. Every embedded file is an `include_bytes!`, so
//! cargo rebuilds the crate when the files change; `rerun-if-changed` on the folder catches new
//! and removed files (and, while the folder is missing, makes cargo look again on every build).
//!
//! `npm run build` also writes `<file>.br` and `<file>.gz` beside each JS, CSS, HTML and SVG
//! file (`web/scripts/compress.mjs`); they are embedded as that file's precompressed variants,
//! not as files of their own.
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let dist = match std::env::var_os("HUBBUB_WEB_DIST") {
        Some(p) => PathBuf::from(p),
        None => manifest.join("../../web/dist"),
    };
    println!("cargo:rerun-if-env-changed=HUBBUB_WEB_DIST");
    println!("cargo:rerun-if-changed={}", dist.display());
    println!("cargo:rerun-if-changed=build.rs");

    let mut files = Vec::new();
    if dist.join("index.html").is_file() {
        collect(&dist, &dist, &mut files);
        files.sort();
    }
    let mut out = String::new();
    out.push_str("pub(crate) static FILES: &[crate::Embedded] = &[\n");
    let is_variant = |rel: &str| rel.ends_with(".br") || rel.ends_with(".gz");
    for (rel, abs) in files.iter().filter(|(rel, _)| !is_variant(rel)) {
        let include = |path: &Path| format!("include_bytes!({:?})", path.canonicalize().unwrap().display().to_string());
        let variant = |ext: &str| {
            let mut path = abs.clone().into_os_string();
            path.push(ext);
            let path = PathBuf::from(path);
            if path.is_file() { format!("Some({})", include(&path)) } else { "None".to_owned() }
        };
        writeln!(
            out,
            "    crate::Embedded {{ path: {rel:?}, raw: {}, br: {}, gz: {} }},",
            include(abs),
            variant(".br"),
            variant(".gz")
        )
        .unwrap();
    }
    out.push_str("];\n");
    let dest = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("embedded.rs");
    std::fs::write(dest, out).unwrap();
}

fn collect(root: &Path, dir: &Path, files: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(root, &path, files);
        } else if path.is_file() {
            let rel = path.strip_prefix(root).unwrap();
            let rel: Vec<String> = rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
            files.push((format!("/{}", rel.join("/")), path));
        }
    }
}
