//! Link previews: which messages get one, and attaching it after the send.
//!
//! The rule: a new message whose text contains an http(s) link gets
//! the preview of its first link, when this server has previews on (a `LinkFetcher` set with
//! `App::set_link_fetcher`). The send does not wait: the fetch runs in a task of its own and
//! the preview is attached by `Store::set_link_preview`, a persisted change with its own seq
//! (`message.updated`, `edited_at` untouched), so it reaches exactly the members who see the
//! message, and a device that was offline gets it from `/events` or the history. Its image
//! is a use of a stored file by that message (`MediaUse::MessagePhoto`): whoever may see the
//! message may read it, nobody else (`usecases/media/read.rs`).
//!
//! An edit that changes the first link (or removes it) takes the old preview away, as a
//! change of its own (`Store::clear_link_preview`, `message.updated`), and fetches the new
//! link's as for a send (`after_edit`); a fetch that finishes after the text moved on to
//! another link attaches nothing. A forwarded copy gets its original's preview, copied at
//! once when it has one (the same image file), else fetched as for a send.
//!
//! Results are cached by URL in memory (`link_cache.rs`), and at most `MAX_IN_FLIGHT` fetches
//! run at once on a node; a message sent while all are busy gets no preview.

use crate::App;
use crate::error::AppResult;
use crate::link_cache::{CachedLink, LinkCache};
use crate::ports::{FetchedLink, LinkFetcher, LinkImage, MediaFiles, NewLinkPreview, Store, StoreError};
use hubbub_domain::{ConversationId, Message, MessageId, Timestamp};
use std::sync::{Arc, OnceLock};
use tokio::sync::Semaphore;

/// Fetches running at once on one node.
pub const MAX_IN_FLIGHT: usize = 16;
/// Longer links are not previewed.
pub const URL_MAX: usize = 2048;

/// The link preview side of `App`: the fetcher (none: previews off), the cache, the limit.
pub struct LinkPreviews {
    fetcher: OnceLock<Arc<dyn LinkFetcher>>,
    cache: Arc<LinkCache>,
    in_flight: Arc<Semaphore>,
}

impl Default for LinkPreviews {
    fn default() -> Self {
        LinkPreviews {
            fetcher: OnceLock::new(),
            cache: Arc::new(LinkCache::default()),
            in_flight: Arc::new(Semaphore::new(MAX_IN_FLIGHT)),
        }
    }
}

impl LinkPreviews {
    /// Turns previews on; a second call is ignored (the fetcher is chosen once).
    pub fn set_fetcher(&self, fetcher: Arc<dyn LinkFetcher>) {
        let _ = self.fetcher.set(fetcher);
    }

    pub fn enabled(&self) -> bool {
        self.fetcher.get().is_some()
    }
}

/// The first http(s) link of a text, as written, without the punctuation that usually
/// follows one in prose (`.`, `,`, `)`, ...). `None` when there is none or it is too long.
pub fn first_link(text: &str) -> Option<&str> {
    // ASCII lowercasing keeps every byte offset, so indices into it are indices into `text`.
    let lower = text.to_ascii_lowercase();
    let start = lower.match_indices("http").map(|(i, _)| i).find(|&i| {
        let rest = &lower[i..];
        let at_word_start = i == 0 || !text[..i].ends_with(|c: char| c.is_alphanumeric());
        at_word_start && (rest.starts_with("http://") || rest.starts_with("https://"))
    })?;
    let rest = &text[start..];
    let end = rest.find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"' | '`')).unwrap_or(rest.len());
    let link = rest[..end].trim_end_matches(['.', ',', ';', ':', '!', '?', ')', ']', '}', '\'', '*', '_', '~']);
    let scheme_len = if starts_with_ignore_case(link, "https://") { 8 } else { 7 };
    (link.len() > scheme_len && link.len() <= URL_MAX).then_some(link)
}

fn starts_with_ignore_case(text: &str, prefix: &str) -> bool {
    text.get(..prefix.len()).is_some_and(|head| head.eq_ignore_ascii_case(prefix))
}

/// After a send committed: starts fetching the preview of the message's first link, if it
/// should get one (see the module's rule). Returns at once.
pub(crate) fn schedule(app: &App, message: &Message) {
    let Some(fetcher) = app.links.fetcher.get() else { return };
    if message.deleted {
        return;
    }
    let Some(url) = first_link(&message.text) else { return };
    let Ok(permit) = app.links.in_flight.clone().try_acquire_owned() else {
        tracing::debug!(conversation = %message.conversation_id, "too many link previews in flight; none for this message");
        return;
    };
    let job = Job {
        store: app.store.clone(),
        media: app.media.clone(),
        fetcher: fetcher.clone(),
        cache: app.links.cache.clone(),
        conversation: message.conversation_id,
        message: message.id,
        url: url.to_owned(),
    };
    tokio::spawn(async move {
        job.run().await;
        drop(permit);
    });
}

/// After an edit committed (`edited`, whose text was `old_text`): when its first link is
/// not what its preview (or, without one, its old text) showed, the old preview goes and
/// the new link's is fetched in the background. Returns the message as it then is.
pub(crate) async fn after_edit(app: &App, old_text: &str, edited: Message) -> AppResult<Message> {
    let link = first_link(&edited.text);
    let unchanged = match &edited.link_preview {
        Some(preview) => link == Some(preview.url.as_str()),
        None => link == first_link(old_text),
    };
    if unchanged {
        return Ok(edited);
    }
    let mut edited = edited;
    if edited.link_preview.is_some()
        && let Some(cleared) = app.store.clear_link_preview(edited.conversation_id, edited.id, Timestamp::now()).await?
    {
        crate::usecases::media::delete_unreferenced(app, cleared.unreferenced).await;
        edited = cleared.message;
    }
    schedule(app, &edited);
    Ok(edited)
}

/// A forwarded copy's preview: its original's (`preview`, the same image file) attached at
/// once, else fetched as for a send. Returns the copy as it then is.
pub(crate) async fn for_copy(app: &App, copy: Message, preview: Option<NewLinkPreview>) -> AppResult<Message> {
    let Some(preview) = preview else {
        schedule(app, &copy);
        return Ok(copy);
    };
    match app.store.set_link_preview(copy.conversation_id, copy.id, preview, Timestamp::now()).await {
        Ok((with_preview, _)) => Ok(with_preview),
        // The original's image went meanwhile (its last use deleted): fetch it again.
        Err(StoreError::NotFound) => {
            schedule(app, &copy);
            Ok(copy)
        }
        Err(other) => Err(other.into()),
    }
}

struct Job {
    store: Arc<dyn Store>,
    media: Arc<dyn MediaFiles>,
    fetcher: Arc<dyn LinkFetcher>,
    cache: Arc<LinkCache>,
    conversation: ConversationId,
    message: MessageId,
    url: String,
}

impl Job {
    async fn run(self) {
        let cached = match self.cache.get(&self.url) {
            Some(CachedLink::Failed) => return,
            Some(CachedLink::Found(link)) => Some(link),
            None => None,
        };
        if let Some(link) = cached {
            match self.attach(link, true).await {
                // The cached image's file went with the last message that used it.
                Err(StoreError::NotFound) => self.cache.forget(&self.url),
                other => return self.log(other),
            }
        }
        let link = match self.fetcher.fetch(&self.url).await {
            Ok(link) => link,
            Err(error) => {
                tracing::debug!(code = error.code(), %error, conversation = %self.conversation, "no link preview");
                self.cache.put(&self.url, CachedLink::Failed);
                return;
            }
        };
        self.cache.put(&self.url, CachedLink::Found(link.clone()));
        let image = link.image.as_ref().map(|p| p.media_name.clone());
        let result = self.attach(link, false).await;
        if result.is_err()
            && let Some(name) = image
        {
            // Not referenced (the write was refused): nothing else can use it but the cache,
            // which then finds its record missing and fetches again.
            self.cache.forget(&self.url);
            if let Err(error) = self.media.delete(&name).await {
                tracing::warn!(%error, file = name.as_str(), "could not delete a preview image nothing references");
            }
        }
        self.log(result);
    }

    async fn attach(&self, link: FetchedLink, cached: bool) -> Result<(), StoreError> {
        // An edit may have moved the text on to another link while this one was fetched:
        // its preview is not this one (the edit fetched its own). A deleted message is gone.
        let now_links_to = self.store.message_content(self.conversation, self.message).await?;
        if now_links_to.as_ref().and_then(|m| first_link(&m.text)) != Some(self.url.as_str()) {
            return Err(StoreError::InvalidState("the message no longer shows this link"));
        }
        let image = link.image.map(|photo| if cached { LinkImage::Cached(photo) } else { LinkImage::Fresh(photo) });
        let preview = NewLinkPreview {
            url: self.url.clone(),
            title: link.title,
            description: link.description,
            site_name: link.site_name,
            image,
        };
        self.store.set_link_preview(self.conversation, self.message, preview, Timestamp::now()).await.map(|_| ())
    }

    fn log(&self, result: Result<(), StoreError>) {
        match result {
            Ok(()) => {}
            // Deleted (or its conversation) while the page was fetched: nothing to attach to.
            Err(StoreError::InvalidState(_) | StoreError::NotFound) => {}
            Err(error) => tracing::warn!(%error, conversation = %self.conversation, "could not attach a link preview"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::first_link;

    #[test]
    fn the_first_http_link_is_taken_without_trailing_punctuation() {
        assert_eq!(first_link("see https://example.com/a?b=1."), Some("https://example.com/a?b=1"));
        assert_eq!(first_link("(http://example.com/x), then https://b.example"), Some("http://example.com/x"));
        assert_eq!(first_link("HTTPS://Example.com"), Some("HTTPS://Example.com"));
        assert_eq!(first_link("*https://example.com*"), Some("https://example.com"));
    }

    #[test]
    fn no_link_no_preview() {
        assert_eq!(first_link("no link here"), None);
        assert_eq!(first_link("ftp://example.com javascript:alert(1)"), None);
        assert_eq!(first_link("https://"), None);
        assert_eq!(first_link("xhttps://example.com"), None, "inside a word");
        let long = format!("https://example.com/{}", "a".repeat(3000));
        assert_eq!(first_link(&long), None);
    }
}
