//! The resolver every outbound HTTP call connects through: it asks the system (or a given
//! resolver) for a host's addresses and keeps only those the address policy allows, so the
//! address checked is the address connected to (a DNS answer that changes between a check and
//! the connection, DNS rebinding, cannot reach a refused address).

use crate::address_policy::forbidden;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::SocketAddr;
use std::sync::Arc;

/// Every address a host resolved to is refused by the policy.
#[derive(Debug, thiserror::Error)]
#[error("{host} resolves only to loopback, private or reserved addresses ({addresses})")]
pub struct AddressRefused {
    pub host: String,
    pub addresses: String,
}

/// The system's resolver (getaddrinfo, through tokio).
pub struct SystemResolver;

impl Resolve for SystemResolver {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// Filters what `inner` answers through the address policy (unless `open`: private networks
/// allowed).
pub struct PolicyResolver {
    pub inner: Arc<dyn Resolve>,
    pub open: bool,
}

impl Resolve for PolicyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_string();
        let answer = self.inner.resolve(name);
        if self.open {
            return answer;
        }
        Box::pin(async move {
            let all: Vec<SocketAddr> = answer.await?.collect();
            let allowed: Vec<SocketAddr> = all.iter().copied().filter(|a| !forbidden(a.ip())).collect();
            if allowed.is_empty() {
                let addresses = all.iter().map(|a| a.ip().to_string()).collect::<Vec<_>>().join(", ");
                return Err(Box::new(AddressRefused { host, addresses }) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}
