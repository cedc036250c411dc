//! Integration tests over the shared sample photos and hostile files.
//!
//! One binary (`tests/it/`) so the samples are decoded by one process and linking happens
//! once.

mod hostile;
mod local_disk;
mod photos;
mod reoptimize;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use hubbub_media::*;

/// `testdata/media-samples` of the workspace (a copy of the shared samples, with their licence).
pub fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/media-samples")
}

pub fn sample(name: &str) -> Vec<u8> {
    let path = samples().join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A fresh storage in a temp dir, with the optimizer around it.
pub struct Env {
    pub _dir: tempfile::TempDir,
    pub root: PathBuf,
    pub disk: Arc<LocalDiskStorage>,
    pub media: ImageOptimizer,
}

pub async fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("media");
    let disk = Arc::new(LocalDiskStorage::new(&root).await.unwrap());
    let media = ImageOptimizer::new(disk.clone());
    Env { _dir: dir, root, disk, media }
}

impl Env {
    /// Spools a sample through an `UploadSink` (as the HTTP layer will) and puts it.
    pub async fn upload(&self, file: &str, purpose: MediaPurpose) -> Result<StoredFile> {
        let upload = UploadSink::from_bytes(self.media.staging_dir(), DEFAULT_UPLOAD_LIMIT, &sample(file)).await?;
        self.media.put(upload.into(), PutOptions::new(purpose)).await
    }

    pub async fn read(&self, name: &StoredName) -> Vec<u8> {
        self.media.open(name, ByteRange::Full).await.unwrap().read_to_vec().await.unwrap()
    }

    /// Every file under the storage root, temp files in `.staging/` included.
    pub fn all_files(&self) -> Vec<PathBuf> {
        fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let entry = entry.unwrap();
                if entry.file_type().unwrap().is_dir() {
                    walk(&entry.path(), out);
                } else {
                    out.push(entry.path());
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.root, &mut out);
        out
    }
}

/// Markers of metadata segments in a JPEG (APPn other than JFIF, COM).
pub fn jpeg_metadata_markers(jpeg: &[u8]) -> Vec<u8> {
    let mut found = Vec::new();
    let mut i = 2;
    while i + 4 <= jpeg.len() && jpeg[i] == 0xFF {
        let marker = jpeg[i + 1];
        if marker == 0xDA {
            break;
        }
        let len = u16::from_be_bytes([jpeg[i + 2], jpeg[i + 3]]) as usize;
        let jfif = marker == 0xE0 && &jpeg[i + 4..i + 9] == b"JFIF\0";
        if (0xE0..=0xEF).contains(&marker) && !jfif || marker == 0xFE {
            found.push(marker);
        }
        i += 2 + len;
    }
    found
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
