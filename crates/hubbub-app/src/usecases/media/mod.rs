pub mod read;
pub mod reoptimize;

use crate::App;
use crate::ports::PhotoInput;

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

/// Deletes the file an upload stored for a change that was then refused (nothing was
/// committed, so nothing references it).
pub(crate) async fn discard_refused(app: &App, stored: Option<&str>) {
    let Some(name) = stored else { return };
    if let Err(error) = app.media.delete(name).await {
        tracing::warn!(%error, file = name, "could not delete the photo of a refused request");
    }
}

/// The stored file's name, kept before the photo moves into the store, so a refusal can
/// delete it.
pub(crate) fn stored_name(photo: Option<&PhotoInput>) -> Option<String> {
    photo.map(|p| p.media_name.clone())
}
