//! Requests to addresses that clients chose (webhook targets, media URLs), which must never
//! reach inside the network Postgate runs in unless the operator allows it.
//!
//! The check happens on the addresses the connection will use: names are resolved by a
//! resolver that keeps only public addresses, and reqwest connects to what it returned, so
//! a name cannot pass the check with one address and connect to another (DNS rebinding).
//! IP literals skip the resolver, so URLs are checked too, before the first request and
//! before every redirect.
//!
//! These clients never use a proxy, whether from `HTTP_PROXY`/`HTTPS_PROXY`/`ALL_PROXY` or
//! given by the caller: a proxy resolves and connects on our behalf, out of reach of the
//! resolver, so any private address would get through it.

use crate::domain::webhooks::{host_may_be_public, is_public};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::sync::Arc;
use url::Url;

/// Why a URL may not be fetched. The wording is safe to show to the client who gave it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("the URL is not an absolute http(s) URL")]
    NotHttp,
    #[error("the URL must not contain a user name or password")]
    Credentials,
    #[error("the URL points at a private, loopback or link-local address")]
    Private,
}

/// Resolves names, keeping only public addresses.
struct PublicOnly;

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addrs = public_addresses(&host).await?;
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// The public addresses `host` resolves to; an error when there are none.
async fn public_addresses(
    host: &str,
) -> Result<Vec<std::net::SocketAddr>, Box<dyn std::error::Error + Send + Sync>> {
    let addrs: Vec<std::net::SocketAddr> = tokio::net::lookup_host((host, 0))
        .await?
        .filter(|a| is_public(a.ip()))
        .collect();
    if addrs.is_empty() {
        return Err(format!("{host} resolves to no public address").into());
    }
    Ok(addrs)
}

/// A reqwest client that only reaches public addresses (unless `allow_private`), and the
/// URL check that goes with it.
#[derive(Clone)]
pub struct Guarded {
    client: reqwest::Client,
    allow_private: bool,
}

impl Guarded {
    /// `builder` carries the caller's timeouts and user agent. Up to `redirects` redirects
    /// are followed, each checked like the first URL; 0 follows none.
    pub fn new(
        builder: reqwest::ClientBuilder,
        redirects: usize,
        allow_private: bool,
    ) -> reqwest::Result<Self> {
        let policy = if redirects == 0 {
            reqwest::redirect::Policy::none()
        } else {
            reqwest::redirect::Policy::custom(move |attempt| {
                if attempt.previous().len() > redirects {
                    attempt.error("too many redirects")
                } else if let Err(refused) = check(attempt.url(), allow_private) {
                    attempt.error(refused)
                } else {
                    attempt.follow()
                }
            })
        };
        let mut builder = builder.redirect(policy).no_proxy();
        if !allow_private {
            builder = builder.dns_resolver(Arc::new(PublicOnly));
        }
        Ok(Self {
            client: builder.build()?,
            allow_private,
        })
    }

    /// Checks `url` before a request: the resolver checks names, this checks the rest.
    pub fn check(&self, url: &Url) -> Result<(), Refused> {
        check(url, self.allow_private)
    }

    /// The client, for requests to URLs `check` passed.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }
}

/// An absolute http(s) URL without credentials whose host is not obviously private.
pub fn check(url: &Url, allow_private: bool) -> Result<(), Refused> {
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(Refused::NotHttp);
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Refused::Credentials);
    }
    if !allow_private && !host_may_be_public(url) {
        return Err(Refused::Private);
    }
    Ok(())
}

/// A short reason for a failed request, without the URL, with the root cause.
pub fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_redirect() {
        "redirect refused"
    } else {
        "request failed"
    };
    let mut root: &dyn std::error::Error = e;
    while let Some(source) = root.source() {
        root = source;
    }
    format!("{kind}: {root}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn checked(url: &str, allow_private: bool) -> Result<(), Refused> {
        check(&Url::parse(url).unwrap(), allow_private)
    }

    #[test]
    fn private_literals_and_local_names_are_refused() {
        for url in [
            "http://127.0.0.1/x",
            "http://10.1.2.3/",
            "http://192.168.0.10/",
            "http://172.16.0.1/",
            "http://169.254.169.254/latest/meta-data",
            "http://[::1]/",
            "http://[fe80::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://0.0.0.0/",
            "http://localhost:8080/",
            "http://printer.local/",
        ] {
            assert_eq!(checked(url, false), Err(Refused::Private), "{url}");
            assert_eq!(checked(url, true), Ok(()), "{url} with private allowed");
        }
        assert_eq!(checked("https://93.184.216.34/a.jpg", false), Ok(()));
        assert_eq!(checked("https://example.com/a.jpg", false), Ok(()));
    }

    #[test]
    fn only_plain_http_urls_pass() {
        assert_eq!(checked("ftp://example.com/a", true), Err(Refused::NotHttp));
        assert_eq!(checked("file:///etc/passwd", true), Err(Refused::NotHttp));
        assert_eq!(
            checked("https://u:p@example.com/a", true),
            Err(Refused::Credentials)
        );
    }

    #[tokio::test]
    async fn the_resolver_drops_private_addresses() {
        // `localhost` resolves to loopback only: nothing is left to connect to.
        let err = PublicOnly
            .resolve(Name::from_str("localhost").unwrap())
            .await
            .err()
            .expect("no public address");
        assert!(err.to_string().contains("no public address"), "{err}");
        let err = public_addresses("127.0.0.1").await.unwrap_err();
        assert!(err.to_string().contains("127.0.0.1"), "{err}");
    }

    #[tokio::test]
    async fn a_proxy_is_never_used() {
        // A proxy as `HTTP_PROXY` would configure it: a real listener that answers 200 to
        // anything, so a request that went through it would succeed.
        let proxy = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let proxy_url = format!("http://{}", proxy.local_addr().unwrap());
        let reached = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = reached.clone();
        tokio::spawn(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            while let Ok((mut socket, _)) = proxy.accept().await {
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let mut buf = [0u8; 1024];
                let _ = socket.read(&mut buf).await;
                let _ = socket
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                    .await;
            }
        });
        for allow_private in [false, true] {
            let builder = reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(5))
                .proxy(reqwest::Proxy::all(&proxy_url).unwrap());
            let guarded = Guarded::new(builder, 0, allow_private).unwrap();
            let sent = guarded.client().get("http://localhost:9/").send().await;
            assert!(sent.is_err(), "answered by the proxy: {sent:?}");
        }
        assert_eq!(reached.load(std::sync::atomic::Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn requests_to_private_names_never_connect() {
        // A name (not a literal), so only the resolver stands in the way.
        let guarded = Guarded::new(reqwest::Client::builder(), 0, false).unwrap();
        let err = guarded
            .client()
            .get("http://localhost:9/")
            .send()
            .await
            .unwrap_err();
        assert!(
            describe(&err).contains("no public address"),
            "{}",
            describe(&err)
        );
    }
}
