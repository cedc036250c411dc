//! The local-disk adapter: files live flat under one directory, uploads are spooled in
//! `<root>/.staging/` (same filesystem, so moving a finished upload into place is a rename).
//!
//! Durability: content is written to a temp file, fsynced, moved to its final name with a
//! no-clobber rename (`renameat2(RENAME_NOREPLACE)` or link+unlink, via `tempfile`), and the
//! directory is fsynced so the name itself survives a crash. A crash at any point leaves
//! either no file or the whole file under its name, plus at worst a stale temp file in
//! `.staging/`, which [`LocalDiskStorage::new`] clears when it is old.

use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use crate::error::{MediaError, Result};
use crate::kind::{ContentKind, StoredName};
use crate::storage::{ByteRange, FileMeta, FileStorage, OpenedFile, PutOptions, PutSource, StoredFile};
use crate::upload::TempUpload;

/// Temp files older than this are leftovers of a crash (no upload takes an hour to spool);
/// younger ones may belong to another process sharing the directory (the server while the
/// CLI runs), so they are left alone.
const STALE_TEMP_AGE: Duration = Duration::from_secs(3600);

/// Stores files in a directory on the local filesystem.
#[derive(Debug, Clone)]
pub struct LocalDiskStorage {
    root: PathBuf,
    staging: PathBuf,
}

impl LocalDiskStorage {
    /// Opens (creating if needed) a storage directory, e.g. `<data dir>/media`, and removes
    /// stale temp files left by a crash. (Not `open`, which is the trait's read method.)
    pub async fn new(root: impl Into<PathBuf>) -> Result<Self> {
        let root = root.into();
        let staging = root.join(".staging");
        let storage = LocalDiskStorage { root, staging };
        let s = storage.clone();
        blocking(move || {
            fs::create_dir_all(&s.staging)?;
            s.remove_stale_temp_files()
        })
        .await?;
        Ok(storage)
    }

    /// The directory files are stored in.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path_of(&self, name: &StoredName) -> PathBuf {
        // StoredName admits no '/' and no leading '.', so this cannot leave `root` or hit a
        // temp file.
        self.root.join(name.as_str())
    }

    fn remove_stale_temp_files(&self) -> Result<()> {
        let now = SystemTime::now();
        for entry in fs::read_dir(&self.staging)? {
            let entry = entry?;
            let meta = entry.metadata()?;
            let age = meta.modified().ok().and_then(|m| now.duration_since(m).ok()).unwrap_or_default();
            if meta.is_file() && age > STALE_TEMP_AGE {
                let _ = fs::remove_file(entry.path());
            }
        }
        Ok(())
    }

    fn new_temp(&self) -> io::Result<tempfile::NamedTempFile> {
        tempfile::Builder::new().prefix(".write-").tempfile_in(&self.staging)
    }

    /// Makes `source` durable in a temp file in the staging directory and returns it.
    /// A spooled upload already in staging is reused (no copy); anything else is written.
    fn durable_temp(&self, source: BlockingSource) -> Result<tempfile::TempPath> {
        match source {
            BlockingSource::File(upload) if upload.path().parent() == Some(&self.staging) => {
                fs::File::open(upload.path())?.sync_all()?;
                Ok(upload.path)
            }
            BlockingSource::File(upload) => {
                // Elsewhere (maybe another filesystem): copy, so the final step is a rename.
                let mut tmp = self.new_temp()?;
                io::copy(&mut fs::File::open(upload.path())?, tmp.as_file_mut())?;
                tmp.as_file().sync_all()?;
                Ok(tmp.into_temp_path())
            }
            BlockingSource::Bytes(bytes) => {
                let mut tmp = self.new_temp()?;
                tmp.write_all(&bytes)?;
                tmp.as_file().sync_all()?;
                Ok(tmp.into_temp_path())
            }
        }
    }

    fn sync_root(&self) -> io::Result<()> {
        // The rename is durable only once the directory entry is.
        fs::File::open(&self.root)?.sync_all()
    }

    fn put_blocking(&self, source: BlockingSource, kind: Option<ContentKind>) -> Result<StoredFile> {
        let kind = kind.or_else(|| source.sniff());
        let mut temp = self.durable_temp(source)?;
        // A v4 UUID collision is not going to happen, but if the name is taken we must not
        // clobber it: try a fresh name a few times.
        for _ in 0..3 {
            let name = StoredName::generate(kind);
            match temp.persist_noclobber(self.path_of(&name)) {
                Ok(()) => {
                    self.sync_root()?;
                    let size = fs::metadata(self.path_of(&name))?.len();
                    return Ok(StoredFile { content_type: name.content_type(), name, size, width: None, height: None });
                }
                Err(e) if e.error.kind() == io::ErrorKind::AlreadyExists => temp = e.path,
                // Dropping e.path removes the temp file.
                Err(e) => return Err(e.error.into()),
            }
        }
        Err(MediaError::AlreadyExists)
    }

    fn replace_blocking(&self, name: &StoredName, source: BlockingSource) -> Result<u64> {
        let target = self.path_of(name);
        if !target.is_file() {
            return Err(MediaError::NotFound);
        }
        let temp = self.durable_temp(source)?;
        // rename(2) over an existing name is atomic: readers with the old file open keep
        // reading the old bytes; new opens get the new ones.
        temp.persist(&target).map_err(|e| e.error)?;
        self.sync_root()?;
        Ok(fs::metadata(&target)?.len())
    }
}

/// A `PutSource` that can cross into a blocking task.
enum BlockingSource {
    File(TempUpload),
    Bytes(Bytes),
}

impl BlockingSource {
    fn sniff(&self) -> Option<ContentKind> {
        let mut head = [0u8; 16];
        let head: &[u8] = match self {
            BlockingSource::Bytes(b) => &b[..b.len().min(16)],
            BlockingSource::File(t) => {
                let n = fs::File::open(t.path()).and_then(|mut f| f.read(&mut head)).unwrap_or(0);
                &head[..n]
            }
        };
        ContentKind::sniff(head).ok()
    }
}

impl From<PutSource> for BlockingSource {
    fn from(s: PutSource) -> Self {
        match s {
            PutSource::File(t) => BlockingSource::File(t),
            PutSource::Bytes(b) => BlockingSource::Bytes(b),
        }
    }
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f).await.map_err(|e| MediaError::Internal(format!("storage task failed: {e}")))?
}

fn not_found_as_none<T>(r: io::Result<T>) -> Result<Option<T>> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.into()),
    }
}

#[async_trait]
impl FileStorage for LocalDiskStorage {
    fn staging_dir(&self) -> &Path {
        &self.staging
    }

    async fn put(&self, source: PutSource, options: PutOptions) -> Result<StoredFile> {
        let this = self.clone();
        let source = BlockingSource::from(source);
        blocking(move || this.put_blocking(source, options.kind)).await
    }

    async fn replace(&self, name: &StoredName, source: PutSource) -> Result<u64> {
        let this = self.clone();
        let name = name.clone();
        let source = BlockingSource::from(source);
        blocking(move || this.replace_blocking(&name, source)).await
    }

    async fn open(&self, name: &StoredName, range: ByteRange) -> Result<OpenedFile> {
        let Some(mut file) = not_found_as_none(tokio::fs::File::open(self.path_of(name)).await)? else {
            return Err(MediaError::NotFound);
        };
        let meta = file.metadata().await?;
        if !meta.is_file() {
            return Err(MediaError::NotFound);
        }
        let range = range.resolve(meta.len())?;
        if range.start > 0 {
            file.seek(io::SeekFrom::Start(range.start)).await?;
        }
        Ok(OpenedFile {
            total_len: meta.len(),
            modified: meta.modified().ok(),
            content_type: name.content_type(),
            body: Box::pin(file.take(range.end - range.start)),
            range,
        })
    }

    async fn stat(&self, name: &StoredName) -> Result<Option<FileMeta>> {
        Ok(not_found_as_none(tokio::fs::metadata(self.path_of(name)).await)?
            .filter(|m| m.is_file())
            .map(|m| FileMeta { len: m.len(), modified: m.modified().ok() }))
    }

    async fn delete(&self, name: &StoredName) -> Result<bool> {
        Ok(not_found_as_none(tokio::fs::remove_file(self.path_of(name)).await)?.is_some())
    }

    async fn list(&self) -> Result<Vec<StoredName>> {
        let root = self.root.clone();
        blocking(move || {
            let mut names = Vec::new();
            for entry in fs::read_dir(root)? {
                let entry = entry?;
                if !entry.file_type()?.is_file() {
                    continue;
                }
                if let Some(name) = entry.file_name().to_str().and_then(|n| StoredName::parse(n).ok()) {
                    names.push(name);
                }
            }
            names.sort();
            Ok(names)
        })
        .await
    }
}
