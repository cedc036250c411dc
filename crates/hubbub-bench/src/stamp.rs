//! The latency stamp carried in message text, and the cheap frame scanner that reads it back.
//!
//! The receiver side of a fanout run must parse hundreds of thousands of frames per second
//! on one core; a full `serde_json` parse of every `Message` would make the generator the
//! bottleneck long before the server. So the receiver only looks for three things with
//! substring scans: the event type, the first `"seq"` and our own `bench:` token.

use std::sync::OnceLock;
use std::time::Instant;

/// Prefix of every message the generator sends.
pub const PREFIX: &str = "bench:";

/// Nanoseconds on a process-wide monotonic clock. Sender and receiver live in the same
/// process, so the same `Instant` epoch makes their readings directly comparable.
pub fn now_ns() -> u64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    EPOCH.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

/// What the sender writes into the message text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    /// Which step (rate level) of the scenario the message belongs to.
    pub step: u32,
    /// Index of the conversation in the scenario's topology.
    pub conv: u32,
    /// Per-(step, conversation) message number, dense from 0, used for loss and duplicates.
    pub n: u64,
    /// `now_ns()` just before the request left.
    pub sent_ns: u64,
}

impl Stamp {
    pub fn encode(&self) -> String {
        format!("{PREFIX}{}:{}:{}:{}", self.step, self.conv, self.n, self.sent_ns)
    }

    /// Parses the token at the start of `s` (trailing bytes after the last number are ignored,
    /// which is how the token sits inside a JSON string: followed by `"`).
    pub fn parse(s: &[u8]) -> Option<Stamp> {
        let rest = s.strip_prefix(PREFIX.as_bytes())?;
        let mut nums = [0u64; 4];
        let mut i = 0;
        for (k, slot) in nums.iter_mut().enumerate() {
            let start = i;
            while i < rest.len() && rest[i].is_ascii_digit() {
                *slot = slot.checked_mul(10)?.checked_add(u64::from(rest[i] - b'0'))?;
                i += 1;
            }
            if i == start {
                return None;
            }
            if k < 3 {
                if rest.get(i) != Some(&b':') {
                    return None;
                }
                i += 1;
            }
        }
        Some(Stamp {
            step: u32::try_from(nums[0]).ok()?,
            conv: u32::try_from(nums[1]).ok()?,
            n: nums[2],
            sent_ns: nums[3],
        })
    }
}

/// A `message.created` frame that carries one of our stamps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivery {
    pub seq: u64,
    pub stamp: Stamp,
}

use memchr::memmem::Finder;

/// Searchers built once: the scan runs for every frame the generator receives.
struct Finders {
    ty: Finder<'static>,
    seq: Finder<'static>,
    stamp: Finder<'static>,
}

fn finders() -> &'static Finders {
    static F: OnceLock<Finders> = OnceLock::new();
    F.get_or_init(|| Finders {
        ty: Finder::new(b"\"type\":"),
        seq: Finder::new(b"\"seq\":"),
        stamp: Finder::new(PREFIX.as_bytes()),
    })
}

/// Returns the bytes right after the key pattern (`"key":`) and any whitespace.
fn value_of<'a>(frame: &'a [u8], key: &Finder<'_>) -> Option<&'a [u8]> {
    let at = key.find(frame)? + key.needle().len();
    let mut rest = &frame[at..];
    while let [b' ' | b'\t' | b'\n' | b'\r', tail @ ..] = rest {
        rest = tail;
    }
    Some(rest)
}

/// Scans one server→client text frame. `None` for anything that is not a stamped
/// `message.created` (presence, receipts, other people's messages...).
pub fn scan_frame(frame: &[u8]) -> Option<Delivery> {
    let f = finders();
    let ty = value_of(frame, &f.ty)?;
    if !ty.starts_with(b"\"message.created\"") {
        return None;
    }
    // In `message.created` the top-level seq and `data.seq` are the same number, so the
    // first occurrence is right whichever order the server serialises the keys in.
    let seq_bytes = value_of(frame, &f.seq)?;
    let digits = seq_bytes.iter().take_while(|b| b.is_ascii_digit()).count();
    let seq = std::str::from_utf8(&seq_bytes[..digits]).ok()?.parse().ok()?;
    let at = f.stamp.find(frame)?;
    let stamp = Stamp::parse(&frame[at..])?;
    Some(Delivery { seq, stamp })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamp_round_trips() {
        let s = Stamp { step: 3, conv: 17, n: 99, sent_ns: 123_456_789 };
        assert_eq!(Stamp::parse(s.encode().as_bytes()), Some(s));
        assert_eq!(Stamp::parse(b"bench:1:2:3"), None);
        assert_eq!(Stamp::parse(b"bench:1:2::4"), None);
        assert_eq!(Stamp::parse(b"hello"), None);
    }

    #[test]
    fn scans_compact_and_spaced_frames_in_any_key_order() {
        let compact = br#"{"type":"message.created","conversation_id":"c","seq":42,"data":{"id":"m","seq":42,"text":"bench:1:0:7:555","deleted":false}}"#;
        let d = scan_frame(compact).unwrap();
        assert_eq!(d.seq, 42);
        assert_eq!(d.stamp, Stamp { step: 1, conv: 0, n: 7, sent_ns: 555 });

        let spaced = br#"{"data": {"text": "bench:2:5:1:9", "seq": 8}, "seq": 8, "type": "message.created"}"#;
        let d = scan_frame(spaced).unwrap();
        assert_eq!((d.seq, d.stamp.conv, d.stamp.n), (8, 5, 1));
    }

    #[test]
    fn ignores_other_frames() {
        assert_eq!(scan_frame(br#"{"type":"presence","data":{"user_id":"u","online":true}}"#), None);
        assert_eq!(scan_frame(br#"{"type":"message.updated","seq":3,"data":{"text":"bench:1:0:7:5"}}"#), None);
        assert_eq!(scan_frame(br#"{"type":"message.created","seq":3,"data":{"text":"hi"}}"#), None);
    }
}
