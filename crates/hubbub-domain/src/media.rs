//! Where a stored file is served: the one definition of a media URL.
//!
//! Every photo URL the API hands out (`User::photo_url`, `Conversation::photo_url`,
//! `Photo::url`, and the same fields inside stored events) is `media_path(stored name)`.
//! The store adapters call it inside their transactions (event payloads carry photo URLs),
//! and the local-disk media adapter's `MediaFiles::url` is this too, so the scheme lives
//! here only. It is part of the API contract: `/media/<name>`, served by `GET /media/{name}`.

/// The prefix under which stored files are served.
pub const MEDIA_PREFIX: &str = "/media/";

/// The public path of a stored file: `/media/<name>`.
pub fn media_path(name: &str) -> String {
    let mut path = String::with_capacity(MEDIA_PREFIX.len() + name.len());
    path.push_str(MEDIA_PREFIX);
    path.push_str(name);
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_name_is_served_under_media() {
        let name = "0b6f5d7e-8c1a-4c1e-9d1e-3f2a1b0c9d8e.jpg";
        assert_eq!(media_path(name), format!("/media/{name}"));
    }
}
