pub mod read;
pub mod reoptimize;

use crate::App;
use crate::ports::{FileInput, PhotoInput};

/// Deletes files whose last reference a committed change dropped (the store names them;
/// their records went in the same transaction). Best effort: the change is committed, so a
/// file that cannot be deleted now is logged and left for a sweep, and the caller succeeds.
pub(crate) async fn delete_unreferenced(app: &App, names: impl IntoIterator<Item = String>) {
    for name in names {
        if let Err(error) = app.media.delete(&name).await {
            tracing::warn!(%error, file = name.as_str(), "could not delete a file nothing references");
        }
    }
}

/// Deletes the files an upload stored for a change that was then refused (nothing was
/// committed, so nothing references them).
pub(crate) async fn discard_refused(app: &App, stored: &[String]) {
    for name in stored {
        if let Err(error) = app.media.delete(name).await {
            tracing::warn!(%error, file = name.as_str(), "could not delete the upload of a refused request");
        }
    }
}

/// The stored files' names, kept before the photo or file moves into the store, so a
/// refusal can delete them.
pub(crate) fn stored_names(photo: Option<&PhotoInput>, file: Option<&FileInput>) -> Vec<String> {
    photo.map(|p| p.media_name.clone()).into_iter().chain(file.map(|f| f.media_name.clone())).collect()
}
