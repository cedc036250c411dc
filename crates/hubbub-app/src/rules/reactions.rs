//! What setting a reaction does.

use hubbub_domain::Emoji;

/// What a request for the user's one reaction on a message changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReactionChange<'a> {
    /// The reaction is already what was asked: nothing is written, no event.
    Unchanged,
    /// A new or changed reaction. A changed one moves to the end, as if given anew, so the
    /// adapter replaces the old row rather than updating it in place.
    Set(&'a Emoji),
    Clear,
}

pub fn change<'a>(current: Option<&str>, wanted: Option<&'a Emoji>) -> ReactionChange<'a> {
    match wanted {
        _ if current == wanted.map(|e| e.as_str()) => ReactionChange::Unchanged,
        Some(emoji) => ReactionChange::Set(emoji),
        None => ReactionChange::Clear,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_reaction_again_changes_nothing() {
        let heart = Emoji::parse("❤️").unwrap();
        assert_eq!(change(Some(heart.as_str()), Some(&heart)), ReactionChange::Unchanged);
        assert_eq!(change(None, None), ReactionChange::Unchanged);
    }

    #[test]
    fn a_new_or_different_reaction_is_set() {
        let heart = Emoji::parse("❤️").unwrap();
        assert_eq!(change(None, Some(&heart)), ReactionChange::Set(&heart));
        assert_eq!(change(Some("👍"), Some(&heart)), ReactionChange::Set(&heart));
    }

    #[test]
    fn clearing_an_existing_reaction() {
        assert_eq!(change(Some("👍"), None), ReactionChange::Clear);
    }
}
