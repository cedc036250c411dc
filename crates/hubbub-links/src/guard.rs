//! The resolver behind every outgoing request of Hubbub (link previews and Web Push): it
//! resolves a name once, refuses it if any of its addresses is not public
//! (`addr::is_public`), and hands the connector only the addresses it checked, so there is
//! no second lookup for a DNS rebinding to answer differently.

use crate::addr;
use std::net::SocketAddr;

/// A host name that resolves to an address the guard refuses.
#[derive(Debug, thiserror::Error)]
#[error("{0} resolves to a non-public address")]
pub struct Blocked(pub String);

/// The client's resolver (`reqwest::ClientBuilder::dns_resolver`). `allow_private` lifts
/// the address rule (for tests on loopback).
pub struct GuardedResolver {
    pub allow_private: bool,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if addrs.is_empty() {
                return Err(format!("{host} has no address").into());
            }
            if !allow_private && addrs.iter().any(|a| !addr::is_public(a.ip())) {
                return Err(Box::new(Blocked(host)) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The refusal inside a failed request's chain of causes, if the guard refused it.
pub fn blocked(error: &reqwest::Error) -> Option<&Blocked> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(cause) = source {
        if let Some(blocked) = cause.downcast_ref::<Blocked>() {
            return Some(blocked);
        }
        source = cause.source();
    }
    None
}
