//! Recently fetched link previews, by URL: an in-memory LRU with a TTL, one per node (a
//! cluster's nodes each keep their own; a miss only costs one more fetch). Failures are
//! remembered too, for a shorter time, so a link that times out is not fetched again for
//! every message that repeats it.

use crate::ports::FetchedLink;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// What the cache remembers of one URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CachedLink {
    Found(FetchedLink),
    /// Nothing to show, or the fetch was refused or failed.
    Failed,
}

pub struct LinkCache {
    entries: Mutex<HashMap<String, Entry>>,
    capacity: usize,
    ttl: Duration,
    failure_ttl: Duration,
}

struct Entry {
    link: CachedLink,
    expires: Instant,
    used: Instant,
}

impl Default for LinkCache {
    /// 1,024 URLs, a preview kept 1 hour, a failure 5 minutes.
    fn default() -> Self {
        LinkCache::new(1024, Duration::from_secs(3600), Duration::from_secs(300))
    }
}

impl LinkCache {
    pub fn new(capacity: usize, ttl: Duration, failure_ttl: Duration) -> Self {
        LinkCache { entries: Mutex::new(HashMap::new()), capacity: capacity.max(1), ttl, failure_ttl }
    }

    /// The remembered result for `url`, unless it expired.
    pub fn get(&self, url: &str) -> Option<CachedLink> {
        self.get_at(url, Instant::now())
    }

    fn get_at(&self, url: &str, now: Instant) -> Option<CachedLink> {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        match entries.get_mut(url) {
            Some(entry) if entry.expires > now => {
                entry.used = now;
                Some(entry.link.clone())
            }
            Some(_) => {
                entries.remove(url);
                None
            }
            None => None,
        }
    }

    pub fn put(&self, url: &str, link: CachedLink) {
        self.put_at(url, link, Instant::now());
    }

    fn put_at(&self, url: &str, link: CachedLink, now: Instant) {
        let ttl = if matches!(link, CachedLink::Failed) { self.failure_ttl } else { self.ttl };
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if !entries.contains_key(url) && entries.len() >= self.capacity {
            entries.retain(|_, entry| entry.expires > now);
            if entries.len() >= self.capacity {
                // The least recently used goes (a scan: the cache is small and this is rare).
                let oldest = entries.iter().min_by_key(|(_, entry)| entry.used).map(|(key, _)| key.clone());
                if let Some(oldest) = oldest {
                    entries.remove(&oldest);
                }
            }
        }
        entries.insert(url.to_owned(), Entry { link, expires: now + ttl, used: now });
    }

    pub fn forget(&self, url: &str) {
        self.entries.lock().unwrap_or_else(|e| e.into_inner()).remove(url);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(title: &str) -> CachedLink {
        CachedLink::Found(FetchedLink { title: title.into(), description: None, site_name: None, image: None })
    }

    #[test]
    fn entries_expire_and_failures_sooner() {
        let cache = LinkCache::new(8, Duration::from_secs(60), Duration::from_secs(5));
        let t0 = Instant::now();
        cache.put_at("a", found("A"), t0);
        cache.put_at("b", CachedLink::Failed, t0);
        assert_eq!(cache.get_at("a", t0 + Duration::from_secs(10)), Some(found("A")));
        assert_eq!(cache.get_at("b", t0 + Duration::from_secs(10)), None, "a failure is kept 5 s");
        assert_eq!(cache.get_at("a", t0 + Duration::from_secs(61)), None);
    }

    #[test]
    fn the_least_recently_used_goes_first() {
        let cache = LinkCache::new(2, Duration::from_secs(60), Duration::from_secs(60));
        let t0 = Instant::now();
        cache.put_at("a", found("A"), t0);
        cache.put_at("b", found("B"), t0 + Duration::from_millis(1));
        assert!(cache.get_at("a", t0 + Duration::from_millis(2)).is_some());
        cache.put_at("c", found("C"), t0 + Duration::from_millis(3));
        assert!(cache.get_at("b", t0 + Duration::from_millis(4)).is_none(), "b was used least recently");
        assert!(cache.get_at("a", t0 + Duration::from_millis(4)).is_some());
        assert!(cache.get_at("c", t0 + Duration::from_millis(4)).is_some());
    }
}
