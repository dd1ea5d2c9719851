//! Where a delivery may connect: the host name's addresses, public ones only.

use std::error::Error as _;

use crate::domain;

/// A delivery not sent because its destination is not a public address.
#[derive(Debug)]
pub(super) struct Refused;

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("refused: webhooks go to public addresses only")
    }
}

impl std::error::Error for Refused {}

/// Whether `e` (or what caused it) is the resolver's [`Refused`].
pub(super) fn is_refused(e: &reqwest::Error) -> bool {
    let mut source = e.source();
    while let Some(cause) = source {
        if cause.is::<Refused>() {
            return true;
        }
        source = cause.source();
    }
    false
}

/// Resolves a delivery's host name and keeps only the addresses webhooks may go to
/// ([`domain::Destinations::refused_ip`]); none left is [`Refused`]. Checked as each
/// connection is made, so a name cannot be pointed inside after registration.
pub(super) struct PublicOnly(pub(super) domain::Destinations);

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let destinations = self.0.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let public: Vec<std::net::SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| destinations.refused_ip(a.ip()).is_none())
                .collect();
            if public.is_empty() {
                return Err(Box::new(Refused) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(public.into_iter()) as reqwest::dns::Addrs)
        })
    }
}
