//! Who a message mentions: `@username` of a current member (case-insensitively), and every
//! member at once with `@channel` or `@all` where the kind allows it
//! (`policy::allows_mention_all`). Resolved here, at send and at edit time; the store keeps
//! what this decided. Nothing inside code (`` `inline` `` or ``` ```blocks``` ```) is a
//! mention, as the web app's formatting shows code as it was typed.

use crate::App;
use crate::error::{AppError, AppResult};
use crate::ports::Mentions;
use hubbub_domain::policy;
use hubbub_domain::{ConversationId, ConversationKind, UserId};

/// The words that mention everyone.
const EVERYONE: [&str; 2] = ["channel", "all"];

/// What a text names, before anyone is looked up.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Named {
    /// Lowercase candidate usernames, each once, in the order written.
    pub usernames: Vec<String>,
    /// `@channel` or `@all` was written.
    pub everyone: bool,
}

impl Named {
    fn is_empty(&self) -> bool {
        self.usernames.is_empty() && !self.everyone
    }
}

/// The `@names` of a text outside code. A mention starts where a word does (so an e-mail
/// address is none) and runs over the characters of a username; dots at its end are the
/// sentence's (`@alice.`), not the name's.
pub(crate) fn named(text: &str) -> Named {
    let mut out = Named::default();
    for piece in outside_code(text) {
        let chars: Vec<char> = piece.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let starts = chars[i] == '@' && (i == 0 || !is_name_char(chars[i - 1]) && chars[i - 1] != '@');
            if !starts {
                i += 1;
                continue;
            }
            let mut end = i + 1;
            while end < chars.len() && is_name_char(chars[end]) {
                end += 1;
            }
            let name: String = chars[i + 1..end].iter().collect::<String>().trim_end_matches('.').to_ascii_lowercase();
            i = end;
            if EVERYONE.contains(&name.as_str()) {
                out.everyone = true;
            }
            if (3..=32).contains(&name.len()) && !out.usernames.contains(&name) {
                out.usernames.push(name);
            }
        }
    }
    out
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '.'
}

/// The text without its code: code blocks between pairs of ```, then inline code between
/// backticks on one line (the same pairing as `web/src/lib/markup.ts`).
fn outside_code(text: &str) -> Vec<&str> {
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find("```") {
        let Some(close) = rest[open + 3..].find("```") else { break };
        blocks.push(&rest[..open]);
        rest = &rest[open + 3 + close + 3..];
    }
    blocks.push(rest);
    let mut out = Vec::new();
    for block in blocks {
        let mut rest = block;
        while let Some(open) = rest.find('`') {
            let after = &rest[open + 1..];
            match after.find('`') {
                Some(close) if close > 0 && !after[..close].contains('\n') => {
                    out.push(&rest[..open]);
                    rest = &after[close + 1..];
                }
                _ => {
                    out.push(&rest[..open + 1]);
                    rest = after;
                }
            }
        }
        out.push(rest);
    }
    out
}

/// Who `text` mentions in conversation `id`. `kind` is the conversation's, when the caller
/// knows it already; otherwise it is read only if the text says `@channel`/`@all`, so a send
/// without `@` reads nothing more than it did.
pub(crate) async fn resolve(
    app: &App,
    me: UserId,
    id: ConversationId,
    kind: Option<ConversationKind>,
    text: &str,
) -> AppResult<Mentions> {
    let named = named(text);
    if named.is_empty() {
        return Ok(Mentions::default());
    }
    if named.everyone {
        let kind = match kind {
            Some(kind) => kind,
            None => app.store.membership(me, id).await?.ok_or(AppError::NotFound("conversation"))?.kind,
        };
        if policy::allows_mention_all(kind) {
            return Ok(Mentions { users: app.store.member_ids(id).await?.to_vec(), all: true });
        }
    }
    Ok(Mentions { users: app.store.members_named(id, &named.usernames).await?, all: false })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(text: &str) -> (Vec<&'static str>, bool) {
        let named = named(text);
        let leaked: Vec<&'static str> = named.usernames.into_iter().map(|n| &*n.leak()).collect();
        (leaked, named.everyone)
    }

    #[test]
    fn names_start_where_a_word_does_and_fold_case() {
        assert_eq!(names("hi @Alice and @bob_2, see @carol."), (vec!["alice", "bob_2", "carol"], false));
        assert_eq!(names("mail bob@example.com"), (vec![], false));
        assert_eq!(names("@al @x"), (vec![], false), "too short to be a username");
        assert_eq!(names("@alice @ALICE"), (vec!["alice"], false), "each once");
        assert_eq!(names("(@dave.smith)"), (vec!["dave.smith"], false));
    }

    #[test]
    fn everyone_is_channel_or_all() {
        assert_eq!(names("@channel look"), (vec!["channel"], true));
        assert_eq!(names("@All"), (vec!["all"], true));
        assert_eq!(names("@allison"), (vec!["allison"], false));
    }

    #[test]
    fn nothing_inside_code_is_a_mention() {
        assert_eq!(names("`@alice` @bob"), (vec!["bob"], false));
        assert_eq!(names("```\n@alice\n``` @carol"), (vec!["carol"], false));
        assert_eq!(names("a ` lone backtick @alice"), (vec!["alice"], false));
        assert_eq!(names("``` unclosed @alice"), (vec!["alice"], false));
    }
}
