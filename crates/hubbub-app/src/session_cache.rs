//! Recently checked sessions, so that an authenticated request costs no database read.
//!
//! Every API request and every socket authenticates; before this cache each one read the
//! session from storage, which on SQLite meant a hop to a reader thread and back, a large
//! share of the CPU of a busy send path. Sessions are long-lived and change only through
//! this node's use cases (logout, password change), which forget the sessions they end
//! *before* they return, so a revoked token stops working at once on this node. Entries
//! also expire after `TTL`, which bounds how long a revocation made elsewhere (another node
//! sharing the database) can go unnoticed; a cluster bus must forget revoked sessions on
//! every node when one is added.
//!
//! The race that matters: a lookup that read the session from storage just before a logout
//! deleted it must not put it back into the cache afterwards. Each lookup takes the cache's
//! generation before reading storage, every revocation bumps it, and an entry is only
//! inserted if the generation is unchanged.

use crate::ports::{Actor, SessionId, TokenDigest};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a checked session is trusted without asking storage again.
const TTL: Duration = Duration::from_secs(10);
/// More entries than this and the cache starts over (cheaper than tracking age order, and
/// only reached with this many sessions active within `TTL`).
const CAPACITY: usize = 65_536;

pub struct SessionCache {
    inner: Mutex<Inner>,
}

struct Inner {
    generation: u64,
    entries: HashMap<TokenDigest, (Actor, Instant)>,
}

/// Proof of which generation a storage lookup started in.
#[derive(Clone, Copy)]
pub struct Generation(u64);

impl Default for SessionCache {
    fn default() -> Self {
        SessionCache { inner: Mutex::new(Inner { generation: 0, entries: HashMap::new() }) }
    }
}

impl SessionCache {
    /// A fresh cached session for this token digest, if there is one.
    pub fn get(&self, digest: &TokenDigest) -> Option<Actor> {
        let inner = self.inner.lock().unwrap();
        inner.entries.get(digest).filter(|(_, checked)| checked.elapsed() < TTL).map(|(actor, _)| *actor)
    }

    /// Taken before asking storage; pass it to `insert`.
    pub fn generation(&self) -> Generation {
        Generation(self.inner.lock().unwrap().generation)
    }

    /// Remembers a session storage confirmed, unless a revocation happened since `seen`.
    pub fn insert(&self, seen: Generation, digest: TokenDigest, actor: Actor) {
        let mut inner = self.inner.lock().unwrap();
        if inner.generation != seen.0 {
            return;
        }
        if inner.entries.len() >= CAPACITY {
            inner.entries.clear();
        }
        inner.entries.insert(digest, (actor, Instant::now()));
    }

    /// Forgets these sessions (after storage has ended them) and voids lookups in flight.
    pub fn forget(&self, sessions: &[SessionId]) {
        let mut inner = self.inner.lock().unwrap();
        inner.generation += 1;
        inner.entries.retain(|_, (actor, _)| !sessions.contains(&actor.session_id));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hubbub_domain::UserId;
    use uuid::Uuid;

    fn actor() -> Actor {
        Actor { user_id: UserId(Uuid::now_v7()), session_id: SessionId(Uuid::now_v7()) }
    }

    #[test]
    fn remembers_and_forgets_sessions() {
        let cache = SessionCache::default();
        let (a, b) = (actor(), actor());
        cache.insert(cache.generation(), [1; 32], a);
        cache.insert(cache.generation(), [2; 32], b);
        assert_eq!(cache.get(&[1; 32]), Some(a));
        cache.forget(&[a.session_id]);
        assert_eq!(cache.get(&[1; 32]), None);
        assert_eq!(cache.get(&[2; 32]), Some(b), "other sessions stay cached");
    }

    #[test]
    fn a_lookup_that_raced_a_revocation_is_not_cached() {
        let cache = SessionCache::default();
        let a = actor();
        let seen = cache.generation();
        // Storage said "valid", then a logout ended the session before the insert.
        cache.forget(&[a.session_id]);
        cache.insert(seen, [1; 32], a);
        assert_eq!(cache.get(&[1; 32]), None);
    }
}
