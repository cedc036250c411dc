//! The app's `MediaFiles` port over a [`FileStorage`] whose files Hubbub serves itself at
//! `/media/<name>` (the local disk, or a directory the nodes of a cluster share).

use std::sync::Arc;

use async_trait::async_trait;
use hubbub_app::ports::{MediaFiles, MediaFilesError};

use crate::kind::StoredName;
use crate::storage::FileStorage;

/// What the use cases may do with a stored file's life, on a [`FileStorage`].
#[derive(Debug, Clone)]
pub struct DiskMediaFiles {
    storage: Arc<dyn FileStorage>,
}

impl DiskMediaFiles {
    pub fn new(storage: Arc<dyn FileStorage>) -> Self {
        Self { storage }
    }
}

#[async_trait]
impl MediaFiles for DiskMediaFiles {
    async fn delete(&self, name: &str) -> Result<bool, MediaFilesError> {
        // A name this storage could not have given names no file of it.
        let Ok(name) = StoredName::parse(name) else { return Ok(false) };
        self.storage.delete(&name).await.map_err(|error| {
            let cause = std::error::Error::source(&error).map(|e| format!(": {e}")).unwrap_or_default();
            MediaFilesError(format!("{error}{cause}"))
        })
    }

    fn url(&self, name: &str) -> String {
        hubbub_domain::media_path(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::LocalDiskStorage;
    use crate::kind::MediaPurpose;
    use crate::storage::{PutOptions, PutSource};

    async fn disk() -> (tempfile::TempDir, Arc<LocalDiskStorage>, DiskMediaFiles) {
        let dir = tempfile::tempdir().unwrap();
        let storage = Arc::new(LocalDiskStorage::new(dir.path().join("media")).await.unwrap());
        let files = DiskMediaFiles::new(storage.clone());
        (dir, storage, files)
    }

    #[tokio::test]
    async fn delete_removes_the_file_and_is_idempotent() {
        let (_dir, storage, files) = disk().await;
        let stored = storage
            .put(
                PutSource::Bytes(b"\x89PNG\r\n\x1a\nnot really".to_vec().into()),
                PutOptions::new(MediaPurpose::Message),
            )
            .await
            .unwrap();
        assert!(storage.exists(&stored.name).await.unwrap());
        assert!(files.delete(stored.name.as_str()).await.unwrap(), "deleted now");
        assert!(!storage.exists(&stored.name).await.unwrap());
        assert!(!files.delete(stored.name.as_str()).await.unwrap(), "already gone: not an error");
    }

    #[tokio::test]
    async fn names_it_could_not_have_given_are_not_files() {
        let (dir, _storage, files) = disk().await;
        std::fs::write(dir.path().join("outside.jpg"), b"x").unwrap();
        for name in ["../outside.jpg", ".staging", "", "a/b.jpg"] {
            assert!(!files.delete(name).await.unwrap(), "{name:?}");
        }
        assert!(dir.path().join("outside.jpg").exists(), "nothing outside the storage is touched");
    }

    #[tokio::test]
    async fn a_stored_name_is_served_under_media() {
        let (_dir, _storage, files) = disk().await;
        let name = "0b6f5d7e-8c1a-4c1e-9d1e-3f2a1b0c9d8e.jpg";
        assert_eq!(files.url(name), format!("/media/{name}"));
        assert_eq!(files.url(name), hubbub_domain::media_path(name));
    }
}
