//! Where an account's mail goes: the SMTP host resolved at each send and checked against the
//! address policy that HTTP providers follow, and the transport pinned to the checked address
//! (TLS still verifies the configured host name), so neither a send nor a test send can reach
//! a loopback, private or reserved address (no port scanning through the account page).

use super::{EmailConfig, transport};
use crate::address_policy::forbidden;
use lettre::{AsyncSmtpTransport, Tokio1Executor};
use std::net::IpAddr;
use std::sync::Mutex;

type Transport = AsyncSmtpTransport<Tokio1Executor>;

pub struct Relay {
    config: EmailConfig,
    /// Private networks allowed: connect by host name, unchecked.
    open: bool,
    /// The transport for the address last checked, kept while the host resolves to it.
    pinned: Mutex<Option<(Option<IpAddr>, Transport)>>,
}

impl Relay {
    pub fn new(config: EmailConfig, open: bool) -> Self {
        Self { config, open, pinned: Mutex::new(None) }
    }

    /// A transport to an allowed address of the host, or why there is none.
    pub async fn transport(&self) -> Result<Transport, String> {
        let address = if self.open { None } else { Some(self.allowed_address().await?) };
        let mut pinned = self.pinned.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((at, transport)) = pinned.as_ref()
            && *at == address
        {
            return Ok(transport.clone());
        }
        let (transport, _) = transport(&self.config, address).map_err(|e| e.to_string())?;
        *pinned = Some((address, transport.clone()));
        Ok(transport)
    }

    async fn allowed_address(&self) -> Result<IpAddr, String> {
        let host = self.config.host.trim();
        let port = self.config.port.unwrap_or(self.config.security.default_port());
        let resolved: Vec<IpAddr> = tokio::net::lookup_host((host.trim_matches(['[', ']']), port))
            .await
            .map_err(|e| format!("cannot resolve SMTP host {host}: {e}"))?
            .map(|a| a.ip())
            .collect();
        resolved.iter().copied().find(|ip| !forbidden(*ip)).ok_or_else(|| {
            let all = resolved.iter().map(IpAddr::to_string).collect::<Vec<_>>().join(", ");
            format!("SMTP host {host} resolves only to loopback, private or reserved addresses ({all})")
        })
    }
}
