//! The envelope on the wire: a small binary header, then the event bytes as they are.
//!
//! Why not JSON for the whole envelope: the payload is already the event's JSON, stored and
//! sent to sockets as is; wrapping it in JSON would escape it into a string (a second
//! serialisation) and the receiver would have to unescape it. A fixed binary header keeps
//! the payload byte-identical, and on receipt it is a zero-copy slice of the NATS message.
//!
//! Layout (integers big-endian, ids as 16 UUID bytes):
//! `version:u8 kind:u8 origin:16` then per kind
//! - Deliver:   `conversation:16 seq:i64 audience payload…`
//! - Ephemeral: `has_except:u8 [except:16] audience payload…`
//! - Presence:  `user:16 online:u8 audience payload…`
//! - CloseSessions / ForgetSessions: `count:u32 session:16 × count`
//! - LoginFailed: `address username…` (the username's UTF-8 runs to the end)
//! - Registered:  `address`
//! - RoomPasswordFailed: `user:16 room:16`
//!
//! where `address` is `family:u8` (4 or 6) then 4 or 16 bytes.
//! where `audience` is `count:u32 user:16 × count`. The payload runs to the end.

use bytes::{BufMut, Bytes, BytesMut};
use hubbub_app::ports::{BusMessage, Envelope, NodeId, SessionId};
use hubbub_domain::{ConversationId, UserId};
use std::net::IpAddr;
use uuid::Uuid;

const VERSION: u8 = 1;
const DELIVER: u8 = 1;
const EPHEMERAL: u8 = 2;
const PRESENCE: u8 = 3;
const CLOSE_SESSIONS: u8 = 4;
const FORGET_SESSIONS: u8 = 5;
const LOGIN_FAILED: u8 = 6;
const REGISTERED: u8 = 7;
const ROOM_PASSWORD_FAILED: u8 = 8;

/// An envelope this node cannot read: from a newer version, or damaged.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    #[error("unknown envelope version {0}")]
    Version(u8),
    #[error("unknown message kind {0}")]
    Kind(u8),
    #[error("envelope cut short")]
    Truncated,
    #[error("a text field is not UTF-8")]
    Text,
}

impl DecodeError {
    /// Stable machine code, for logs and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            DecodeError::Version(_) => "bus_envelope_version",
            DecodeError::Kind(_) => "bus_envelope_kind",
            DecodeError::Truncated => "bus_envelope_truncated",
            DecodeError::Text => "bus_envelope_text",
        }
    }
}

pub fn encode(origin: NodeId, message: &BusMessage) -> Bytes {
    let mut out = BytesMut::with_capacity(64 + payload_len(message));
    out.put_u8(VERSION);
    match message {
        BusMessage::Deliver { conversation, seq, payload, audience } => {
            head(&mut out, DELIVER, origin);
            out.put_slice(conversation.0.as_bytes());
            out.put_i64(*seq);
            ids(&mut out, audience.iter().map(|u| &u.0));
            out.put_slice(payload);
        }
        BusMessage::Ephemeral { payload, audience, except_user } => {
            head(&mut out, EPHEMERAL, origin);
            match except_user {
                Some(user) => {
                    out.put_u8(1);
                    out.put_slice(user.0.as_bytes());
                }
                None => out.put_u8(0),
            }
            ids(&mut out, audience.iter().map(|u| &u.0));
            out.put_slice(payload);
        }
        BusMessage::Presence { user, online, payload, audience } => {
            head(&mut out, PRESENCE, origin);
            out.put_slice(user.0.as_bytes());
            out.put_u8(u8::from(*online));
            ids(&mut out, audience.iter().map(|u| &u.0));
            out.put_slice(payload);
        }
        BusMessage::CloseSessions(sessions) => {
            head(&mut out, CLOSE_SESSIONS, origin);
            ids(&mut out, sessions.iter().map(|s| &s.0));
        }
        BusMessage::ForgetSessions(sessions) => {
            head(&mut out, FORGET_SESSIONS, origin);
            ids(&mut out, sessions.iter().map(|s| &s.0));
        }
        BusMessage::LoginFailed { username, address } => {
            head(&mut out, LOGIN_FAILED, origin);
            put_address(&mut out, *address);
            out.put_slice(username.as_bytes());
        }
        BusMessage::Registered { address } => {
            head(&mut out, REGISTERED, origin);
            put_address(&mut out, *address);
        }
        BusMessage::RoomPasswordFailed { user, room } => {
            head(&mut out, ROOM_PASSWORD_FAILED, origin);
            out.put_slice(user.0.as_bytes());
            out.put_slice(room.0.as_bytes());
        }
    }
    out.freeze()
}

fn payload_len(message: &BusMessage) -> usize {
    match message {
        BusMessage::Deliver { payload, audience, .. }
        | BusMessage::Ephemeral { payload, audience, .. }
        | BusMessage::Presence { payload, audience, .. } => payload.len() + 16 * audience.len(),
        BusMessage::CloseSessions(s) | BusMessage::ForgetSessions(s) => 16 * s.len(),
        BusMessage::LoginFailed { username, .. } => username.len(),
        BusMessage::Registered { .. } | BusMessage::RoomPasswordFailed { .. } => 0,
    }
}

fn put_address(out: &mut BytesMut, address: IpAddr) {
    match address {
        IpAddr::V4(v4) => {
            out.put_u8(4);
            out.put_slice(&v4.octets());
        }
        IpAddr::V6(v6) => {
            out.put_u8(6);
            out.put_slice(&v6.octets());
        }
    }
}

fn head(out: &mut BytesMut, kind: u8, origin: NodeId) {
    out.put_u8(kind);
    out.put_slice(origin.0.as_bytes());
}

fn ids<'a>(out: &mut BytesMut, ids: impl ExactSizeIterator<Item = &'a Uuid>) {
    // An audience is at most a conversation's members, far below u32::MAX.
    out.put_u32(ids.len() as u32);
    for id in ids {
        out.put_slice(id.as_bytes());
    }
}

/// Reads an envelope; the payload is a slice of `bytes`, not a copy.
pub fn decode(bytes: Bytes) -> Result<Envelope, DecodeError> {
    let mut r = Reader { bytes: &bytes, at: 0 };
    let version = r.u8()?;
    if version != VERSION {
        return Err(DecodeError::Version(version));
    }
    let kind = r.u8()?;
    let origin = NodeId(r.uuid()?);
    let message = match kind {
        DELIVER => {
            let conversation = ConversationId(r.uuid()?);
            let seq = i64::from_be_bytes(r.take(8)?.try_into().map_err(|_| DecodeError::Truncated)?);
            let audience = r.uuids()?.into_iter().map(UserId).collect::<Vec<_>>().into();
            BusMessage::Deliver { conversation, seq, payload: bytes.slice(r.at..), audience }
        }
        EPHEMERAL => {
            let except_user = match r.u8()? {
                0 => None,
                _ => Some(UserId(r.uuid()?)),
            };
            let audience = r.uuids()?.into_iter().map(UserId).collect::<Vec<_>>().into();
            BusMessage::Ephemeral { payload: bytes.slice(r.at..), audience, except_user }
        }
        PRESENCE => {
            let user = UserId(r.uuid()?);
            let online = r.u8()? != 0;
            let audience = r.uuids()?.into_iter().map(UserId).collect::<Vec<_>>().into();
            BusMessage::Presence { user, online, payload: bytes.slice(r.at..), audience }
        }
        CLOSE_SESSIONS => BusMessage::CloseSessions(r.uuids()?.into_iter().map(SessionId).collect()),
        FORGET_SESSIONS => BusMessage::ForgetSessions(r.uuids()?.into_iter().map(SessionId).collect()),
        LOGIN_FAILED => {
            let address = r.address()?;
            let username = std::str::from_utf8(&bytes[r.at..]).map_err(|_| DecodeError::Text)?.to_owned();
            BusMessage::LoginFailed { username, address }
        }
        REGISTERED => BusMessage::Registered { address: r.address()? },
        ROOM_PASSWORD_FAILED => {
            BusMessage::RoomPasswordFailed { user: UserId(r.uuid()?), room: ConversationId(r.uuid()?) }
        }
        other => return Err(DecodeError::Kind(other)),
    };
    Ok(Envelope { origin, message })
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], DecodeError> {
        let end = self.at.checked_add(n).filter(|end| *end <= self.bytes.len()).ok_or(DecodeError::Truncated)?;
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }

    fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }

    fn uuid(&mut self) -> Result<Uuid, DecodeError> {
        Uuid::from_slice(self.take(16)?).map_err(|_| DecodeError::Truncated)
    }

    fn address(&mut self) -> Result<IpAddr, DecodeError> {
        match self.u8()? {
            4 => {
                let octets: [u8; 4] = self.take(4)?.try_into().map_err(|_| DecodeError::Truncated)?;
                Ok(IpAddr::from(octets))
            }
            6 => {
                let octets: [u8; 16] = self.take(16)?.try_into().map_err(|_| DecodeError::Truncated)?;
                Ok(IpAddr::from(octets))
            }
            // An unknown family is as unreadable as a cut.
            _ => Err(DecodeError::Truncated),
        }
    }

    fn uuids(&mut self) -> Result<Vec<Uuid>, DecodeError> {
        let count = u32::from_be_bytes(self.take(4)?.try_into().map_err(|_| DecodeError::Truncated)?) as usize;
        // Checked against what is left before allocating, so a damaged count cannot ask
        // for gigabytes.
        if count.checked_mul(16).is_none_or(|n| n > self.bytes.len() - self.at) {
            return Err(DecodeError::Truncated);
        }
        (0..count).map(|_| self.uuid()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_kind() -> Vec<BusMessage> {
        let (a, b) = (UserId::generate(), UserId::generate());
        vec![
            BusMessage::Deliver {
                conversation: ConversationId::generate(),
                seq: 42,
                payload: Bytes::from_static(b"{\"type\":\"message.created\"}"),
                audience: vec![a, b].into(),
            },
            BusMessage::Ephemeral {
                payload: Bytes::from_static(b"{}"),
                audience: vec![a].into(),
                except_user: Some(b),
            },
            BusMessage::Ephemeral { payload: Bytes::new(), audience: Vec::new().into(), except_user: None },
            BusMessage::Presence {
                user: a,
                online: false,
                payload: Bytes::from_static(b"p"),
                audience: vec![b].into(),
            },
            BusMessage::CloseSessions(vec![SessionId(Uuid::now_v7())]),
            BusMessage::ForgetSessions(vec![SessionId(Uuid::now_v7()), SessionId(Uuid::now_v7())]),
            BusMessage::LoginFailed { username: "bob".to_owned(), address: "192.0.2.7".parse().unwrap() },
            BusMessage::LoginFailed { username: String::new(), address: "2001:db8::1".parse().unwrap() },
            BusMessage::Registered { address: "198.51.100.2".parse().unwrap() },
            BusMessage::Registered { address: "2001:db8:1::".parse().unwrap() },
            BusMessage::RoomPasswordFailed { user: a, room: ConversationId(Uuid::now_v7()) },
        ]
    }

    #[test]
    fn every_kind_survives_the_wire_and_the_payload_is_not_copied() {
        let origin = NodeId::generate();
        for message in every_kind() {
            let wire = encode(origin, &message);
            let back = decode(wire.clone()).unwrap();
            assert_eq!(back, Envelope { origin, message });
            if let BusMessage::Deliver { payload, .. } = back.message {
                let start = wire.as_ptr() as usize;
                let at = payload.as_ptr() as usize;
                assert!(at >= start && at < start + wire.len(), "payload must be a slice of the message");
            }
        }
    }

    #[test]
    fn damaged_envelopes_are_errors_not_panics() {
        let origin = NodeId::generate();
        for message in every_kind() {
            let wire = encode(origin, &message);
            // Every cut that removes header bytes is refused (payloads may legally be
            // shorter, so cuts inside the payload are not errors).
            let header = wire.len() - payload_len_of(&message);
            for cut in 0..header {
                assert_eq!(decode(wire.slice(..cut)), Err(DecodeError::Truncated), "cut at {cut}");
            }
        }
        let mut wrong_version = encode(origin, &every_kind()[0]).to_vec();
        wrong_version[0] = 9;
        assert_eq!(decode(wrong_version.into()), Err(DecodeError::Version(9)));
        let mut wrong_kind = encode(origin, &every_kind()[0]).to_vec();
        wrong_kind[1] = 77;
        assert_eq!(decode(wrong_kind.into()), Err(DecodeError::Kind(77)));
        let mut huge_count = BytesMut::new();
        huge_count.put_u8(VERSION);
        head(&mut huge_count, CLOSE_SESSIONS, origin);
        huge_count.put_u32(u32::MAX);
        assert_eq!(decode(huge_count.freeze()), Err(DecodeError::Truncated));
        let mut bad_text = BytesMut::new();
        bad_text.put_u8(VERSION);
        head(&mut bad_text, LOGIN_FAILED, origin);
        put_address(&mut bad_text, "192.0.2.1".parse().unwrap());
        bad_text.put_slice(&[0xff, 0xfe]);
        assert_eq!(decode(bad_text.freeze()), Err(DecodeError::Text));
    }

    fn payload_len_of(message: &BusMessage) -> usize {
        match message {
            BusMessage::Deliver { payload, .. }
            | BusMessage::Ephemeral { payload, .. }
            | BusMessage::Presence { payload, .. } => payload.len(),
            BusMessage::LoginFailed { username, .. } => username.len(),
            _ => 0,
        }
    }
}
