//! Validated values. Each newtype can only be built through `parse()`, which enforces the
//! contract's limits, so the rest of the system never re-checks a username or a text.

use serde::Serialize;
use std::fmt;
use std::time::Duration;
use unicode_segmentation::UnicodeSegmentation;

/// A value failed validation. `field` names the request field so the API can point at it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ValidationError {
    pub field: &'static str,
    pub message: String,
}

impl ValidationError {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self { field, message: message.into() }
    }
}

/// The contract's limits; `Default` is the contract's defaults.
#[derive(Debug, Clone)]
pub struct Limits {
    pub message_text_max: usize,
    pub group_members_max: usize,
    pub history_page_max: u32,
    pub events_page_max: u32,
    pub rate: RateLimits,
    /// Live WebSockets one user may hold on this node (all their sessions together). It is
    /// per user, not per session, because a stolen or buggy token is not the only way to
    /// open a thousand sockets: so is one account signed in on a thousand devices. 32 is far
    /// above any real person's phones, tablets and tabs.
    pub websockets_per_user_max: usize,
    /// How often a node checks that the sessions of its open sockets still exist, closing
    /// those that ended. A logout reaches every node's sockets at once over the bus; this
    /// catches the ones whose message the bus lost (a NATS outage).
    pub session_sweep_interval: std::time::Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            message_text_max: 4096,
            group_members_max: 1024,
            history_page_max: 200,
            events_page_max: 500,
            rate: RateLimits::default(),
            websockets_per_user_max: 32,
            session_sweep_interval: std::time::Duration::from_secs(30),
        }
    }
}

/// Brakes on password guessing and sign-up spam, counted per node in fixed windows (the
/// rules are in hubbub-app's `ratelimit`). "Address" is the client address, an IPv6 client
/// counted by its /64. `Default` is the production setting.
#[derive(Debug, Clone)]
pub struct RateLimits {
    /// The window in which failed logins are counted (5 minutes).
    pub login_window: Duration,
    /// Failures for one username from one address before that pair waits out the window
    /// (10). A success from the address clears its count.
    pub login_failures_per_username_and_address: u32,
    /// Failures from one address, whatever the usernames, before the address waits out the
    /// window (30): spraying usernames from one address stops here.
    pub login_failures_per_address: u32,
    /// Failures for one username from all addresses after which the username is slowed,
    /// never locked (100): an address that already failed for it in the window gets one
    /// attempt per `login_slowed_interval`, shared by all such addresses; an address that has
    /// not failed for it (the owner on another network) is not slowed.
    pub login_failures_per_username: u32,
    /// See `login_failures_per_username` (5 s).
    pub login_slowed_interval: Duration,
    /// Registration attempts from one address per `registration_window` (10 an hour); 0
    /// turns the limit off.
    pub registrations_per_address: u32,
    pub registration_window: Duration,
    /// Wrong passwords one user may try on one room per `room_password_window` (5 in 5
    /// minutes) before that user waits out the window for that room.
    pub room_password_failures: u32,
    pub room_password_window: Duration,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            login_window: Duration::from_secs(300),
            login_failures_per_username_and_address: 10,
            login_failures_per_address: 30,
            login_failures_per_username: 100,
            login_slowed_interval: Duration::from_secs(5),
            registrations_per_address: 10,
            registration_window: Duration::from_secs(3600),
            room_password_failures: 5,
            room_password_window: Duration::from_secs(300),
        }
    }
}

macro_rules! string_value {
    ($name:ident) => {
        #[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

string_value!(Username);
string_value!(DisplayName);
string_value!(GroupName);
string_value!(MessageText);
string_value!(About);
string_value!(Emoji);
string_value!(Topic);

impl Topic {
    /// Up to 250 characters after trimming; may be empty (no topic). One line: no control
    /// characters.
    pub fn parse(input: &str) -> Result<Self, ValidationError> {
        let trimmed = input.trim();
        if trimmed.chars().count() > 250 {
            return Err(ValidationError::new("topic", "must be at most 250 characters"));
        }
        if trimmed.chars().any(|c| c.is_control()) {
            return Err(ValidationError::new("topic", "must not contain control characters"));
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub fn empty() -> Self {
        Self(String::new())
    }
}

impl Username {
    /// 3–32 characters of `[a-z0-9_.]`. Upper case input is folded to lower case, which is
    /// also what makes uniqueness case-insensitive: only the folded form is ever stored.
    pub fn parse(input: &str) -> Result<Self, ValidationError> {
        let folded = input.trim().to_ascii_lowercase();
        let len = folded.chars().count();
        if !(3..=32).contains(&len) {
            return Err(ValidationError::new("username", "must be 3 to 32 characters"));
        }
        if !folded.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'.') {
            return Err(ValidationError::new("username", "may contain only a-z, 0-9, '_' and '.'"));
        }
        Ok(Self(folded))
    }
}

fn bounded_trimmed(field: &'static str, input: &str, max: usize) -> Result<String, ValidationError> {
    let trimmed = input.trim();
    let len = trimmed.chars().count();
    if len == 0 {
        return Err(ValidationError::new(field, "must not be empty"));
    }
    if len > max {
        return Err(ValidationError::new(field, format!("must be at most {max} characters")));
    }
    if trimmed.chars().any(|c| c.is_control()) {
        return Err(ValidationError::new(field, "must not contain control characters"));
    }
    Ok(trimmed.to_owned())
}

impl DisplayName {
    /// 1–64 characters after trimming, no control characters.
    pub fn parse(input: &str) -> Result<Self, ValidationError> {
        bounded_trimmed("display_name", input, 64).map(Self)
    }
}

impl GroupName {
    /// 1–100 characters after trimming, no control characters.
    pub fn parse(input: &str) -> Result<Self, ValidationError> {
        bounded_trimmed("name", input, 100).map(Self)
    }
}

impl About {
    /// Up to 500 characters; may be empty. Newlines are allowed, other control characters not.
    pub fn parse(input: &str) -> Result<Self, ValidationError> {
        let trimmed = input.trim();
        if trimmed.chars().count() > 500 {
            return Err(ValidationError::new("about", "must be at most 500 characters"));
        }
        if trimmed.chars().any(|c| c.is_control() && c != '\n') {
            return Err(ValidationError::new("about", "must not contain control characters"));
        }
        Ok(Self(trimmed.to_owned()))
    }
}

impl MessageText {
    /// 1–`max` Unicode scalar values. Text is kept exactly as sent (no trimming: leading
    /// spaces can matter in code snippets), but a text of only white space counts as empty.
    /// `allow_empty` is for messages that carry a photo, whose caption is optional.
    pub fn parse(input: &str, max: usize, allow_empty: bool) -> Result<Self, ValidationError> {
        if input.trim().is_empty() && !allow_empty {
            return Err(ValidationError::new("text", "must not be empty"));
        }
        if input.chars().count() > max {
            return Err(ValidationError::new("text", format!("must be at most {max} characters")));
        }
        if input.chars().any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r') {
            return Err(ValidationError::new("text", "must not contain control characters"));
        }
        let text = if input.trim().is_empty() { String::new() } else { input.to_owned() };
        Ok(Self(text))
    }

    pub fn empty() -> Self {
        Self(String::new())
    }
}

/// A password is never stored or printed; it only lives long enough to be hashed.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    /// 8–256 characters.
    pub fn parse(input: &str, field: &'static str) -> Result<Self, ValidationError> {
        let len = input.chars().count();
        if !(8..=256).contains(&len) {
            return Err(ValidationError::new(field, "must be 8 to 256 characters"));
        }
        Ok(Self(input.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

impl Emoji {
    /// Exactly one extended grapheme cluster that is an emoji: a pictographic character
    /// (with any skin tone, variation selector or ZWJ sequence it carries), a flag made of
    /// two regional indicators, or a keycap. This admits every emoji a picker offers and
    /// refuses words, letters and several emoji in one reaction.
    pub fn parse(input: &str) -> Result<Self, ValidationError> {
        let err = || ValidationError::new("emoji", "must be a single emoji");
        if input.is_empty() || input.len() > 64 {
            return Err(err());
        }
        let mut graphemes = input.graphemes(true);
        let (Some(first), None) = (graphemes.next(), graphemes.next()) else {
            return Err(err());
        };
        let chars: Vec<char> = first.chars().collect();
        let is_keycap =
            chars.len() >= 2 && matches!(chars[0], '0'..='9' | '#' | '*') && chars.last() == Some(&'\u{20E3}');
        let is_flag = chars.len() == 2 && chars.iter().all(|c| is_regional_indicator(*c));
        let is_pictographic = is_pictographic(chars[0]);
        if is_keycap || is_flag || is_pictographic { Ok(Self(first.to_owned())) } else { Err(err()) }
    }
}

fn is_regional_indicator(c: char) -> bool {
    ('\u{1F1E6}'..='\u{1F1FF}').contains(&c)
}

/// An approximation of Unicode's Extended_Pictographic property that covers every block
/// emoji pickers draw from.
fn is_pictographic(c: char) -> bool {
    matches!(c,
        '\u{00A9}' | '\u{00AE}' | '\u{203C}' | '\u{2049}' | '\u{2122}' | '\u{2139}'
        | '\u{2194}'..='\u{2199}' | '\u{21A9}'..='\u{21AA}' | '\u{231A}'..='\u{231B}'
        | '\u{2328}' | '\u{23CF}' | '\u{23E9}'..='\u{23FA}' | '\u{24C2}'
        | '\u{25AA}'..='\u{25AB}' | '\u{25B6}' | '\u{25C0}' | '\u{25FB}'..='\u{25FE}'
        | '\u{2600}'..='\u{27BF}' | '\u{2934}'..='\u{2935}' | '\u{2B05}'..='\u{2B07}'
        | '\u{2B1B}'..='\u{2B1C}' | '\u{2B50}' | '\u{2B55}' | '\u{3030}' | '\u{303D}'
        | '\u{3297}' | '\u{3299}' | '\u{1F000}'..='\u{1FAFF}')
        && !is_regional_indicator(c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn usernames_fold_case_and_refuse_bad_characters() {
        assert_eq!(Username::parse("Alice_1.x").unwrap().as_str(), "alice_1.x");
        assert!(Username::parse("al").is_err());
        assert!(Username::parse("a".repeat(33).as_str()).is_err());
        assert!(Username::parse("al ice").is_err());
        assert!(Username::parse("alïce").is_err());
    }

    #[test]
    fn emoji_accepts_single_emoji_graphemes_only() {
        for ok in ["👍", "❤️", "😂", "👍🏽", "👨‍👩‍👧", "🇸🇮", "1️⃣", "🙏"] {
            assert!(Emoji::parse(ok).is_ok(), "{ok} should be accepted");
        }
        for bad in ["", "a", "ok", "👍👍", "👍 ", "🇸", "1"] {
            assert!(Emoji::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn message_text_counts_scalar_values_not_bytes() {
        assert!(MessageText::parse(&"é".repeat(4096), 4096, false).is_ok());
        assert!(MessageText::parse(&"é".repeat(4097), 4096, false).is_err());
        assert!(MessageText::parse("   ", 4096, false).is_err());
        assert_eq!(MessageText::parse("  ", 4096, true).unwrap().as_str(), "");
    }

    #[test]
    fn topics_are_short_single_lines_and_may_be_empty() {
        assert_eq!(Topic::parse("  about cats ").unwrap().as_str(), "about cats");
        assert_eq!(Topic::parse("").unwrap().as_str(), "");
        assert!(Topic::parse(&"t".repeat(250)).is_ok());
        assert!(Topic::parse(&"t".repeat(251)).is_err());
        assert!(Topic::parse("two\nlines").is_err());
    }

    #[test]
    fn password_debug_never_shows_the_secret() {
        let p = Password::parse("correct horse", "password").unwrap();
        assert!(!format!("{p:?}").contains("horse"));
    }

    proptest! {
        #[test]
        fn username_parse_accepts_exactly_the_allowed_alphabet(s in "\\PC{0,40}") {
            let folded = s.trim().to_ascii_lowercase();
            let valid = (3..=32).contains(&folded.chars().count())
                && folded.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'.');
            prop_assert_eq!(Username::parse(&s).is_ok(), valid);
        }

        #[test]
        fn username_parse_is_idempotent(s in "[a-zA-Z0-9_.]{3,32}") {
            let once = Username::parse(&s).unwrap();
            let twice = Username::parse(once.as_str()).unwrap();
            prop_assert_eq!(once, twice);
        }

        #[test]
        fn message_text_limit_is_in_scalar_values(s in "\\PC{1,100}", max in 1usize..80) {
            let result = MessageText::parse(&s, max, false);
            if s.chars().count() > max || s.trim().is_empty() {
                prop_assert!(result.is_err());
            } else {
                let text = result.unwrap();
                prop_assert_eq!(text.as_str(), s.as_str());
            }
        }

        #[test]
        fn emoji_never_accepts_more_than_one_grapheme(s in "\\PC{0,8}") {
            if let Ok(e) = Emoji::parse(&s) {
                prop_assert_eq!(e.as_str().graphemes(true).count(), 1);
            }
        }

        #[test]
        fn emoji_refuses_ascii_words(s in "[ -~]{1,10}") {
            prop_assert!(Emoji::parse(&s).is_err());
        }
    }
}
