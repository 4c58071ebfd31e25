//! The e-mail action's sender: SMTP through lettre (rustls with ring, Mozilla's roots),
//! configured by `[respond.smtp]`. `tls` is `starttls` (default, port 587), `tls`
//! (implicit TLS, port 465) or `none` (plain text: a relay on the same host or a test
//! server only). The password, if any, is read from an environment variable, never from
//! the configuration file.

use lettre::message::{Mailbox, Message, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use std::time::Duration;

/// The most recipients one e-mail action names.
pub const MAX_RECIPIENTS: usize = 20;

/// How to reach the SMTP server.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    pub host: String,
    /// Default: 587 with `starttls`, 465 with `tls`, 25 with `none`.
    #[serde(default)]
    pub port: Option<u16>,
    /// The sender, e.g. `Haechi <haechi@cert.example>`.
    pub from: String,
    /// `starttls` (default), `tls` or `none`.
    #[serde(default)]
    pub tls: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
    /// The environment variable holding the password.
    #[serde(default)]
    pub password_env: Option<String>,
    /// Seconds for the whole exchange (default 15).
    #[serde(default)]
    pub timeout_secs: Option<u64>,
}

/// A configured sender.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    /// Checks the configuration and builds the transport (no connection is made yet).
    pub fn new(config: &SmtpConfig) -> Result<Mailer, String> {
        let from: Mailbox = config
            .from
            .parse()
            .map_err(|e| format!("respond.smtp.from '{}': {e}", config.from))?;
        let mode = config.tls.as_deref().unwrap_or("starttls");
        let builder = match mode {
            "starttls" => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&config.host)
                .map_err(|e| format!("respond.smtp.host '{}': {e}", config.host))?,
            "tls" => AsyncSmtpTransport::<Tokio1Executor>::relay(&config.host)
                .map_err(|e| format!("respond.smtp.host '{}': {e}", config.host))?,
            "none" => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.host),
            other => {
                return Err(format!(
                    "respond.smtp.tls '{other}': use starttls, tls or none"
                ));
            }
        };
        let port = config.port.unwrap_or(match mode {
            "tls" => 465,
            "none" => 25,
            _ => 587,
        });
        let mut builder = builder.port(port).timeout(Some(Duration::from_secs(
            config.timeout_secs.unwrap_or(15).max(1),
        )));
        if let Some(user) = &config.username {
            let var = config.password_env.as_deref().ok_or(
                "respond.smtp.username needs password_env (the variable holding the password)",
            )?;
            let password = std::env::var(var)
                .map_err(|_| format!("respond.smtp.password_env: {var} is not set"))?;
            builder = builder.credentials(Credentials::new(user.clone(), password));
        }
        Ok(Mailer {
            transport: builder.build(),
            from,
        })
    }

    /// Sends one plain-text message; answers the server's reply or why it failed.
    pub async fn send(&self, to: &[String], subject: &str, body: &str) -> Result<String, String> {
        let mut message = Message::builder().from(self.from.clone()).subject(subject);
        for address in to {
            let mailbox: Mailbox = address
                .parse()
                .map_err(|e| format!("recipient '{address}': {e}"))?;
            message = message.to(mailbox);
        }
        let message = message
            .header(ContentType::TEXT_PLAIN)
            .body(body.to_owned())
            .map_err(|e| format!("the message cannot be built: {e}"))?;
        let response = self
            .transport
            .send(message)
            .await
            .map_err(|e| format!("SMTP: {e}"))?;
        Ok(format!("mailed {} ({})", to.join(", "), response.code()))
    }
}
