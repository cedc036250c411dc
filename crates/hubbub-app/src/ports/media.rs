//! The media port: the life of stored files as the use cases see it.

use super::*;

/// The life of stored files, as the use cases see it: a use case that drops the last
/// reference to a file (a photo replaced, a photo message deleted, a former member's view
/// forgotten) or refuses a photo that was already stored deletes the file through this port,
/// after its transaction. Chosen once at start-up and held as `Arc<dyn MediaFiles>`: the
/// local disk (`hubbub_media::DiskMediaFiles`), and later a shared directory or an
/// S3-compatible store, each one adapter; [`NoMediaFiles`] where no media are configured.
///
/// Storing a file stays with the upload path (the HTTP layer streams the multipart body into
/// the image pipeline), which hands the use case a [`PhotoInput`] naming the stored file.
#[async_trait]
pub trait MediaFiles: Send + Sync + 'static {
    /// Deletes the file stored under `name`. Idempotent: `Ok(false)` if there was no such
    /// file (already deleted, or not a name this storage could have given).
    async fn delete(&self, name: &str) -> Result<bool, MediaFilesError>;
    /// The public URL of a stored name. For files Hubbub serves itself it is
    /// `hubbub_domain::media_path(name)`, the URL the store also puts in views and events.
    fn url(&self, name: &str) -> String;
}

/// A media adapter that could not do what was asked (the cause, for the log).
#[derive(Debug, thiserror::Error)]
#[error("media storage: {0}")]
pub struct MediaFilesError(pub String);

/// No media configured: there is nothing to delete, and names are still served at their
/// usual path (a request for one then finds no storage).
#[derive(Clone, Copy, Debug, Default)]
pub struct NoMediaFiles;

#[async_trait]
impl MediaFiles for NoMediaFiles {
    async fn delete(&self, _name: &str) -> Result<bool, MediaFilesError> {
        Ok(false)
    }

    fn url(&self, name: &str) -> String {
        hubbub_domain::media_path(name)
    }
}

/// A file the upload path has stored as it came (nothing decodes it), to be attached to a
/// message. The store records it (type, size) in the same transaction as the message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileInput {
    /// The stored name (random; what `/media/<name>` serves).
    pub media_name: String,
    /// The sender's name for it, cleaned (`hubbub_domain::FileName`), shown and downloaded as.
    pub file_name: String,
    /// The declared type, normalised (`hubbub_domain::attachment::normalize_content_type`).
    pub content_type: String,
    pub size_bytes: u64,
}

impl FileInput {
    /// The file as the Message object shows it.
    pub fn attachment(&self) -> hubbub_domain::Attachment {
        hubbub_domain::Attachment {
            url: hubbub_domain::media_path(&self.media_name),
            name: self.file_name.clone(),
            size: self.size_bytes,
            content_type: self.content_type.clone(),
        }
    }
}

/// One place where a stored file is used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MediaUse {
    /// A user's profile photo.
    UserPhoto,
    /// The current photo of a group.
    GroupPhoto(ConversationId),
    /// The photo a group had when this user left it, which their view of it still shows.
    FormerGroupPhoto { conversation: ConversationId, user: UserId },
    /// The photo of a (not deleted) message; forwarded copies share the file.
    MessagePhoto { conversation: ConversationId, seq: i64 },
    /// The file attached to a (not deleted) message, with the name and declared type it is
    /// downloaded as; forwarded copies share the file (and its name).
    MessageFile { conversation: ConversationId, seq: i64, file_name: String, content_type: String },
}
