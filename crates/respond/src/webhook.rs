//! Webhook delivery: a JSON POST with `X-Haechi-Signature: sha256=<hex HMAC-SHA256 of
//! the body>` when a secret is configured (the receiver recomputes it to know the call
//! is Haechi's and unaltered), retried with a growing pause on connection errors and 5xx
//! answers, each attempt bounded in time.

use ring::hmac;
use std::time::Duration;

/// Attempts per delivery.
pub const ATTEMPTS: u32 = 3;
/// The header carrying the signature.
pub const SIGNATURE_HEADER: &str = "X-Haechi-Signature";

/// Delivers webhooks.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    /// The pause before the second attempt (doubled for each further one).
    first_pause: Duration,
}

/// The signature header value of `body` under `secret`.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    let tag = hmac::sign(&key, body);
    let hex: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

impl Client {
    pub fn new(timeout: Duration, first_pause: Duration) -> Result<Client, String> {
        // One TLS provider for the whole binary (ring); installing twice is harmless.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .user_agent(concat!("haechi/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("cannot build the webhook client: {e}"))?;
        Ok(Client { http, first_pause })
    }

    /// Posts `body`; `Ok` names the status and attempts, `Err` says why it failed.
    pub async fn deliver(
        &self,
        url: &str,
        body: &serde_json::Value,
        secret: Option<&str>,
    ) -> Result<String, String> {
        let bytes = serde_json::to_vec(body).map_err(|e| e.to_string())?;
        let mut pause = self.first_pause;
        let mut last = String::new();
        for attempt in 1..=ATTEMPTS {
            let mut request = self
                .http
                .post(url)
                .header("Content-Type", "application/json")
                .body(bytes.clone());
            if let Some(s) = secret {
                request = request.header(SIGNATURE_HEADER, signature(s, &bytes));
            }
            match request.send().await {
                Ok(r) if r.status().is_success() => {
                    return Ok(format!(
                        "HTTP {} after {attempt} attempt(s)",
                        r.status().as_u16()
                    ));
                }
                Ok(r) if r.status().is_client_error() => {
                    // The receiver refuses this call; sending it again will not help.
                    return Err(format!("HTTP {} from {url}", r.status().as_u16()));
                }
                Ok(r) => last = format!("HTTP {}", r.status().as_u16()),
                Err(e) => last = e.to_string(),
            }
            if attempt < ATTEMPTS {
                tokio::time::sleep(pause).await;
                pause *= 2;
            }
        }
        Err(format!("{url}: {last} after {ATTEMPTS} attempts"))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_signature_is_rfc_4231_hmac_sha256() {
        // RFC 4231 test case 2.
        assert_eq!(
            super::signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
