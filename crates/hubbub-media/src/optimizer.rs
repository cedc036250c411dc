//! `ImageOptimizer`: a `FileStorage` decorator that turns every put into an optimised image.
//!
//! Callers of `put` do not know it is there: they get back a `StoredFile` whose name,
//! content type and size describe the optimised bytes, plus width and height. CPU work runs
//! on tokio's blocking pool behind a semaphore (default: one permit per core), so a burst of
//! uploads queues here instead of starving the async workers that deliver messages.

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use tokio::sync::Semaphore;

use crate::error::{MediaError, Result};
use crate::kind::{ContentKind, MediaPurpose, StoredName};
use crate::pipeline::{self, Method, Optimized, PipelineConfig};
use crate::storage::{ByteRange, FileMeta, FileStorage, OpenedFile, PutOptions, PutSource, StoredFile};

/// Settings of the optimizer.
#[derive(Debug, Clone)]
pub struct OptimizerConfig {
    /// Decoder limits and encoder settings.
    pub pipeline: PipelineConfig,
    /// Images processed at once; the rest wait. Default: available parallelism.
    pub max_concurrency: usize,
    /// Largest stored file `reoptimize` will read (old uploads may predate the upload limit).
    pub max_reoptimize_input: u64,
    /// `reoptimize` replaces a file with a re-encode only if that saves at least this
    /// fraction. Re-encoding an already-optimised q80 JPEG gains a few percent per run and
    /// loses a little quality each time; without a threshold, running
    /// `hubbub media optimize` repeatedly would grind photos down. A metadata-only strip is
    /// lossless and is applied whenever it saves anything.
    pub reoptimize_min_saving: f64,
}

impl Default for OptimizerConfig {
    fn default() -> Self {
        OptimizerConfig {
            pipeline: PipelineConfig::default(),
            max_concurrency: std::thread::available_parallelism().map_or(2, |n| n.get()),
            max_reoptimize_input: 256 * 1024 * 1024,
            reoptimize_min_saving: 0.10,
        }
    }
}

/// A stored, optimised image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredImage {
    /// Fresh random name (`<uuid>.jpg|png|webp|gif`).
    pub name: StoredName,
    /// Type of the stored bytes.
    pub kind: ContentKind,
    /// Upright width in pixels.
    pub width: u32,
    /// Upright height in pixels.
    pub height: u32,
    /// Stored size in bytes.
    pub size: u64,
    /// Size of the upload, for logs and metrics.
    pub original_size: u64,
}

impl StoredImage {
    /// `Content-Type` of the stored bytes.
    pub fn content_type(&self) -> &'static str {
        self.kind.mime()
    }
}

/// Size, dimensions and type of a stored file, before or after re-optimising.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageFacts {
    /// Bytes.
    pub size: u64,
    /// Upright width.
    pub width: u32,
    /// Upright height.
    pub height: u32,
    /// Type of the bytes.
    pub kind: ContentKind,
}

/// What `reoptimize` did (or, in a dry run, would do).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReoptimizeOutcome {
    /// Not worth changing; the file is untouched.
    Unchanged,
    /// Same name and type, smaller bytes; replaced atomically in place. Update the stored
    /// size, width and height.
    Replaced,
    /// The better output has another type (an old opaque PNG that is now a JPEG), so it was
    /// stored under a new name and the old file is untouched. The caller must point every
    /// reference at `new_name` (and update size/width/height) and then delete the old name,
    /// in that order, so a crash in between leaves only an unreferenced file for a sweep.
    StoredAsNew {
        /// The new name.
        new_name: StoredName,
    },
}

/// Report of one `reoptimize` call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reoptimized {
    /// The file that was examined.
    pub name: StoredName,
    /// As stored before.
    pub before: ImageFacts,
    /// As the pipeline would store it now (equal to `before` when unchanged).
    pub after: ImageFacts,
    /// What happened.
    pub outcome: ReoptimizeOutcome,
    /// True when nothing was written (`--dry-run`); `outcome` then says what would happen.
    pub dry_run: bool,
}

impl Reoptimized {
    /// Whether the file changed (or would change, in a dry run).
    pub fn changed(&self) -> bool {
        self.outcome != ReoptimizeOutcome::Unchanged
    }

    /// Bytes saved (0 when unchanged).
    pub fn saved_bytes(&self) -> u64 {
        self.before.size.saturating_sub(self.after.size)
    }

    /// The name that now holds the image (new name after `StoredAsNew`).
    pub fn current_name(&self) -> &StoredName {
        match &self.outcome {
            ReoptimizeOutcome::StoredAsNew { new_name } if !self.dry_run => new_name,
            _ => &self.name,
        }
    }
}

/// The decorator. Cheap to clone; clones share the semaphore.
#[derive(Debug, Clone)]
pub struct ImageOptimizer {
    inner: Arc<dyn FileStorage>,
    config: Arc<OptimizerConfig>,
    permits: Arc<Semaphore>,
}

impl ImageOptimizer {
    /// Wraps a storage with default settings.
    pub fn new(inner: Arc<dyn FileStorage>) -> Self {
        Self::with_config(inner, OptimizerConfig::default())
    }

    /// Wraps a storage with the given settings.
    pub fn with_config(inner: Arc<dyn FileStorage>, config: OptimizerConfig) -> Self {
        let permits = Arc::new(Semaphore::new(config.max_concurrency.max(1)));
        ImageOptimizer { inner, config: Arc::new(config), permits }
    }

    /// The wrapped storage (for serving and deleting, which need no optimisation).
    pub fn inner(&self) -> &Arc<dyn FileStorage> {
        &self.inner
    }

    /// The settings in force.
    pub fn config(&self) -> &OptimizerConfig {
        &self.config
    }

    /// Runs the pipeline off the async runtime, after waiting for a permit. The input is
    /// read inside the permit, so queued uploads stay on disk rather than in memory. The
    /// permit moves into the blocking task: if the caller's future is dropped (client gone),
    /// the CPU work still holds its permit until it really ends.
    async fn run(&self, source: PutSource, purpose: MediaPurpose) -> Result<Optimized> {
        let permit = self.permits.clone().acquire_owned().await.map_err(|e| MediaError::Internal(e.to_string()))?;
        let config = self.config.clone();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let bytes = match source {
                PutSource::Bytes(b) => b,
                // Read, then drop the temp upload (removing it) when this closure ends.
                PutSource::File(t) => Bytes::from(std::fs::read(t.path())?),
            };
            pipeline::optimize(&bytes, purpose, &config.pipeline)
        })
        .await
        .map_err(|e| MediaError::Internal(format!("image task failed: {e}")))?
    }

    /// Optimises an upload and stores the result under a fresh name. On any error nothing
    /// is stored and the temp upload is removed.
    pub async fn put_image(&self, source: PutSource, purpose: MediaPurpose) -> Result<StoredImage> {
        let out = self.run(source, purpose).await?;
        let stored = self
            .inner
            .put(PutSource::Bytes(Bytes::from(out.bytes)), PutOptions { purpose, kind: Some(out.kind) })
            .await?;
        Ok(StoredImage {
            name: stored.name,
            kind: out.kind,
            width: out.width,
            height: out.height,
            size: stored.size,
            original_size: out.source_len as u64,
        })
    }

    /// Re-runs the pipeline over a stored file (for `hubbub media optimize`).
    ///
    /// Replaces the file atomically in place when the result is smaller and of the same
    /// type; stores it under a new name when the type changes (see
    /// [`ReoptimizeOutcome::StoredAsNew`]); leaves it alone otherwise. With `dry_run`
    /// nothing is written. A file the pipeline refuses (not an image, too big) is an error;
    /// the CLI should count it as skipped and go on.
    pub async fn reoptimize(&self, name: &StoredName, purpose: MediaPurpose, dry_run: bool) -> Result<Reoptimized> {
        let original = Bytes::from(self.inner.read_all(name, self.config.max_reoptimize_input).await?);
        let before_size = original.len() as u64;
        let out = self.run(PutSource::Bytes(original), purpose).await?;
        let before = ImageFacts {
            size: before_size,
            width: out.source_upright.0,
            height: out.source_upright.1,
            kind: out.source.kind,
        };
        let after = ImageFacts { size: out.bytes.len() as u64, width: out.width, height: out.height, kind: out.kind };
        let saving = before.size.saturating_sub(after.size) as f64 / before.size.max(1) as f64;
        let worth_it = after.size < before.size
            && (out.method == Method::OriginalStripped || saving >= self.config.reoptimize_min_saving);
        let unchanged = |before| Reoptimized {
            name: name.clone(),
            before,
            after: before,
            outcome: ReoptimizeOutcome::Unchanged,
            dry_run,
        };
        if !worth_it {
            return Ok(unchanged(before));
        }
        let same_type = name.kind() == Some(out.kind);
        let outcome = match (same_type, dry_run) {
            (true, true) => ReoptimizeOutcome::Replaced,
            (true, false) => {
                self.inner.replace(name, PutSource::Bytes(Bytes::from(out.bytes))).await?;
                ReoptimizeOutcome::Replaced
            }
            (false, true) => ReoptimizeOutcome::StoredAsNew { new_name: StoredName::generate(Some(out.kind)) },
            (false, false) => {
                let stored = self
                    .inner
                    .put(PutSource::Bytes(Bytes::from(out.bytes)), PutOptions { purpose, kind: Some(out.kind) })
                    .await?;
                ReoptimizeOutcome::StoredAsNew { new_name: stored.name }
            }
        };
        Ok(Reoptimized { name: name.clone(), before, after, outcome, dry_run })
    }
}

#[async_trait]
impl FileStorage for ImageOptimizer {
    fn staging_dir(&self) -> &Path {
        self.inner.staging_dir()
    }

    async fn put(&self, source: PutSource, options: PutOptions) -> Result<StoredFile> {
        let image = self.put_image(source, options.purpose).await?;
        Ok(StoredFile {
            content_type: image.content_type(),
            name: image.name,
            size: image.size,
            width: Some(image.width),
            height: Some(image.height),
        })
    }

    /// Replacing goes through the pipeline too, so no un-optimised bytes ever get in.
    /// The type must stay the same (the name's extension promises it).
    async fn replace(&self, name: &StoredName, source: PutSource) -> Result<u64> {
        let purpose = MediaPurpose::Message;
        let out = self.run(source, purpose).await?;
        if name.kind() != Some(out.kind) {
            return Err(MediaError::UnsupportedType { detected: out.kind.mime() });
        }
        self.inner.replace(name, PutSource::Bytes(Bytes::from(out.bytes))).await
    }

    async fn open(&self, name: &StoredName, range: ByteRange) -> Result<OpenedFile> {
        self.inner.open(name, range).await
    }

    async fn stat(&self, name: &StoredName) -> Result<Option<FileMeta>> {
        self.inner.stat(name).await
    }

    async fn exists(&self, name: &StoredName) -> Result<bool> {
        self.inner.exists(name).await
    }

    async fn delete(&self, name: &StoredName) -> Result<bool> {
        self.inner.delete(name).await
    }

    async fn list(&self) -> Result<Vec<StoredName>> {
        self.inner.list().await
    }
}
