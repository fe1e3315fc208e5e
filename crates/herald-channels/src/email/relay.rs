//! Where an account's mail goes: the SMTP host resolved at each send and checked against the
//! address policy that HTTP providers follow, and the transport pinned to the checked address
//! (TLS still verifies the configured host name), so neither a send nor a test send can reach
//! a loopback, private or reserved address (no port scanning through the account page).

use super::{EmailConfig, transport};
use crate::address_policy::forbidden;
use lettre::{AsyncSmtpTransport, Tokio1Executor};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a checked address is used before the host is resolved and checked again.
const RECHECK_AFTER: Duration = Duration::from_secs(60);

type Transport = AsyncSmtpTransport<Tokio1Executor>;

pub struct Relay {
    config: EmailConfig,
    /// Private networks allowed: connect by host name, unchecked.
    open: bool,
    /// The transport for the address last checked, when it was checked; kept while the host
    /// resolves to it, and used without asking DNS again for [`RECHECK_AFTER`].
    pinned: Mutex<Option<(Option<IpAddr>, Instant, Transport)>>,
}

impl Relay {
    pub fn new(config: EmailConfig, open: bool) -> Self {
        Self { config, open, pinned: Mutex::new(None) }
    }

    /// A transport to an allowed address of the host, or why there is none.
    pub async fn transport(&self) -> Result<Transport, String> {
        if let Some((_, checked, transport)) = self.pinned().as_ref()
            && checked.elapsed() < RECHECK_AFTER
        {
            return Ok(transport.clone());
        }
        let address = if self.open { None } else { Some(self.allowed_address().await?) };
        let mut pinned = self.pinned();
        if let Some((at, checked, transport)) = pinned.as_mut()
            && *at == address
        {
            *checked = Instant::now();
            return Ok(transport.clone());
        }
        let (transport, _) = transport(&self.config, address).map_err(|e| e.to_string())?;
        *pinned = Some((address, Instant::now(), transport.clone()));
        Ok(transport)
    }

    fn pinned(&self) -> std::sync::MutexGuard<'_, Option<(Option<IpAddr>, Instant, Transport)>> {
        self.pinned.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
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
