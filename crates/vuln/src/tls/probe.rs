//! The probe's connections: one TCP connection per hello, each bounded in time and in
//! what the server may send, and a bound on connections per inspection.

use super::hello::{self, Flight, FlightReader};
use super::{Protocol, ProtocolReport, Suite, SuiteReport, TlsReport, cert};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

/// How an inspection runs.
#[derive(Clone, Debug)]
pub struct ProbeOptions {
    /// Connecting and each read.
    pub timeout: Duration,
    /// The most connections one inspection opens (the suites of every version, plus a few).
    pub max_connections: usize,
    /// Roots to trust besides Mozilla's (DER): an institution's private CA.
    pub extra_roots: Vec<Vec<u8>>,
}

impl Default for ProbeOptions {
    fn default() -> Self {
        ProbeOptions {
            timeout: Duration::from_secs(5),
            max_connections: 800,
            extra_roots: Vec::new(),
        }
    }
}

/// What the server did with one hello.
#[derive(Debug)]
enum Answer {
    Chose(hello::ServerHello, Option<Vec<Vec<u8>>>),
    Refused(String),
}

struct Prober {
    addr: SocketAddr,
    host: String,
    options: ProbeOptions,
    connections: usize,
    seed: u64,
}

impl Prober {
    fn random(&mut self) -> [u8; 32] {
        // Not a secret: a probe never completes a handshake. xorshift from the clock.
        let mut out = [0u8; 32];
        for chunk in out.chunks_mut(8) {
            self.seed ^= self.seed << 13;
            self.seed ^= self.seed >> 7;
            self.seed ^= self.seed << 17;
            chunk.copy_from_slice(&self.seed.to_le_bytes());
        }
        out
    }

    /// Sends one hello; with `want_certificates`, reads on to ServerHelloDone.
    fn ask(
        &mut self,
        version: Protocol,
        suites: &[u16],
        want_certificates: bool,
    ) -> Result<Answer, String> {
        if self.connections >= self.options.max_connections {
            return Err(format!(
                "stopped after {} connections (the limit of one inspection)",
                self.options.max_connections
            ));
        }
        self.connections += 1;
        let random = self.random();
        let record = hello::client_hello(version, suites, Some(&self.host), &random);
        let mut stream = TcpStream::connect_timeout(&self.addr, self.options.timeout)
            .map_err(|e| format!("{}: {e}", self.addr))?;
        stream
            .set_read_timeout(Some(self.options.timeout))
            .map_err(|e| e.to_string())?;
        stream
            .set_write_timeout(Some(self.options.timeout))
            .map_err(|e| e.to_string())?;
        let _ = stream.set_nodelay(true);
        if let Err(e) = stream.write_all(&record) {
            return Ok(Answer::Refused(format!("the hello could not be sent: {e}")));
        }
        let mut reader = FlightReader::new(256 * 1024);
        let mut buf = [0u8; 16 * 1024];
        let mut chosen: Option<hello::ServerHello> = None;
        let mut certificates = None;
        loop {
            let n = match stream.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if chosen.is_some() => {
                    // The hello was answered; the rest of the flight did not come.
                    let _ = e;
                    break;
                }
                Err(e) => return Ok(Answer::Refused(format!("no answer: {e}"))),
            };
            let flights = match reader.push(&buf[..n]) {
                Ok(f) => f,
                Err(e) => return Ok(Answer::Refused(e)),
            };
            for f in flights {
                match f {
                    Flight::Alert(_, description) if chosen.is_none() => {
                        return Ok(Answer::Refused(format!(
                            "alert {}",
                            alert_name(description)
                        )));
                    }
                    Flight::Alert(..) => {
                        return Ok(Answer::Chose(chosen.expect("checked"), certificates));
                    }
                    Flight::Message(hello::SERVER_HELLO, body) => {
                        let sh = hello::parse_server_hello(&body)?;
                        if !want_certificates || sh.version == Protocol::Tls13.wire() {
                            return Ok(Answer::Chose(sh, None));
                        }
                        chosen = Some(sh);
                    }
                    Flight::Message(hello::CERTIFICATE, body) => {
                        certificates = Some(hello::parse_certificates(&body)?);
                    }
                    Flight::Message(hello::SERVER_HELLO_DONE, _) => {
                        return Ok(Answer::Chose(
                            chosen.ok_or("ServerHelloDone before ServerHello")?,
                            certificates,
                        ));
                    }
                    Flight::Message(..) => {}
                }
            }
        }
        Ok(match chosen {
            Some(sh) => Answer::Chose(sh, certificates),
            None => Answer::Refused("the connection was closed".into()),
        })
    }

    /// Every suite `version` accepts, in the order the server picks them.
    /// With none, why the first hello was refused.
    fn enumerate(
        &mut self,
        version: Protocol,
    ) -> Result<(Vec<&'static Suite>, Option<String>), String> {
        let mut remaining: Vec<u16> = version.suites().map(|s| s.code).collect();
        let mut accepted = Vec::new();
        let mut refusal = None;
        while !remaining.is_empty() {
            match self.ask(version, &remaining, false)? {
                Answer::Chose(sh, _) if sh.version == version.wire() => {
                    let Some(pos) = remaining.iter().position(|c| *c == sh.suite) else {
                        refusal = Some(format!(
                            "the server chose suite {:#06x}, which was not offered",
                            sh.suite
                        ));
                        break;
                    };
                    remaining.remove(pos);
                    accepted.push(Suite::by_code(sh.suite).expect("offered suites are known"));
                }
                Answer::Chose(sh, _) => {
                    refusal = Some(format!(
                        "the server answered with version {:#06x}",
                        sh.version
                    ));
                    break;
                }
                Answer::Refused(why) => {
                    refusal = Some(why);
                    break;
                }
            }
        }
        Ok((accepted, refusal))
    }

    /// Whether the server keeps its own order: offered in reverse, does it still pick its
    /// first choice?
    fn server_order(
        &mut self,
        version: Protocol,
        accepted: &[&Suite],
    ) -> Result<Option<bool>, String> {
        if accepted.len() < 2 {
            return Ok(None);
        }
        let reversed: Vec<u16> = accepted.iter().rev().map(|s| s.code).collect();
        Ok(match self.ask(version, &reversed, false)? {
            Answer::Chose(sh, _) if sh.version == version.wire() => {
                Some(sh.suite == accepted[0].code)
            }
            _ => None,
        })
    }
}

fn alert_name(code: u8) -> String {
    let name = match code {
        0 => "close_notify",
        10 => "unexpected_message",
        20 => "bad_record_mac",
        40 => "handshake_failure",
        47 => "illegal_parameter",
        50 => "decode_error",
        70 => "protocol_version",
        71 => "insufficient_security",
        80 => "internal_error",
        86 => "inappropriate_fallback",
        109 => "missing_extension",
        112 => "unrecognized_name",
        _ => return format!("{code}"),
    };
    name.to_owned()
}

/// Inspects the TLS of `host:port` (`host` a name or an address; a name is sent as SNI).
pub fn inspect(host: &str, port: u16, options: &ProbeOptions) -> Result<TlsReport, String> {
    let addr = (host, port)
        .to_socket_addrs()
        .map_err(|e| format!("{host}:{port}: {e}"))?
        .next()
        .ok_or_else(|| format!("{host}:{port}: no address"))?;
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0x9E37_79B9_7F4A_7C15)
        | 1;
    let mut p = Prober {
        addr,
        host: host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned(),
        options: options.clone(),
        connections: 0,
        seed,
    };
    // The server must answer something at all before 190 suites × 5 versions are tried.
    TcpStream::connect_timeout(&addr, options.timeout)
        .map_err(|e| format!("{host}:{port}: {e}"))?;
    let mut protocols = Vec::new();
    let mut preferred: Option<&'static Suite> = None;
    for version in Protocol::ALL {
        let (accepted, refusal) = p.enumerate(version)?;
        let server_order = p.server_order(version, &accepted)?;
        if version != Protocol::Tls13 && !accepted.is_empty() {
            // What a TLS 1.2 client gets when the server imposes its order: its first
            // pick at the highest version below 1.3 (every TLS 1.3 suite is forward
            // secret). A server that follows the client's order gives modern clients
            // what they ask for first.
            preferred = (server_order == Some(true) || accepted.len() == 1).then_some(accepted[0]);
        }
        protocols.push(ProtocolReport {
            protocol: version,
            offered: !accepted.is_empty(),
            suites: accepted.iter().map(|s| SuiteReport::from(*s)).collect(),
            server_order,
            refused: if accepted.is_empty() { refusal } else { None },
        });
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let (chain, chain_error) = match read_chain(&mut p, &protocols) {
        Ok(chain) => match cert::analyse(&chain, &p.host, &options.extra_roots, now) {
            Ok(c) => (Some(c), None),
            Err(e) => (None, Some(e)),
        },
        Err(e) => (None, Some(e)),
    };
    let checks = super::judge(&protocols, chain.as_ref(), preferred);
    Ok(TlsReport {
        host: p.host.clone(),
        port,
        protocols,
        certificate: chain,
        certificate_error: chain_error,
        checks,
        connections: p.connections,
    })
}

/// The certificate chain: from the plaintext handshake of the highest version up to
/// TLS 1.2 the server accepts, else (a TLS 1.3-only server) through rustls.
fn read_chain(p: &mut Prober, protocols: &[ProtocolReport]) -> Result<Vec<Vec<u8>>, String> {
    let legacy = protocols
        .iter()
        .rev()
        .find(|r| r.offered && r.protocol != Protocol::Tls13);
    if let Some(r) = legacy {
        let codes: Vec<u16> = r
            .suites
            .iter()
            .filter_map(|s| u16::from_str_radix(s.code.trim_start_matches("0x"), 16).ok())
            .collect();
        if let Answer::Chose(_, Some(chain)) = p.ask(r.protocol, &codes, true)? {
            return Ok(chain);
        }
    }
    if protocols
        .iter()
        .any(|r| r.offered && r.protocol == Protocol::Tls13)
    {
        p.connections += 1;
        return chain_over_rustls(p.addr, &p.host, p.options.timeout);
    }
    Err("no certificate: no handshake offered one".into())
}

/// Records the chain a server presents, accepting it whatever it is (the judging is
/// [`cert::analyse`]'s); the handshake is abandoned right after.
#[derive(Debug)]
struct Recorder {
    chain: std::sync::Mutex<Vec<Vec<u8>>>,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl rustls::client::danger::ServerCertVerifier for Recorder {
    fn verify_server_cert(
        &self,
        end_entity: &rustls::pki_types::CertificateDer<'_>,
        intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _: &rustls::pki_types::ServerName<'_>,
        _: &[u8],
        _: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        let mut chain = vec![end_entity.to_vec()];
        chain.extend(intermediates.iter().map(|c| c.to_vec()));
        *self.chain.lock().unwrap_or_else(|e| e.into_inner()) = chain;
        // Stop here: nothing more is wanted from the server.
        Err(rustls::Error::General("chain recorded".into()))
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

fn chain_over_rustls(
    addr: SocketAddr,
    host: &str,
    timeout: Duration,
) -> Result<Vec<Vec<u8>>, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let recorder = Arc::new(Recorder {
        chain: std::sync::Mutex::new(Vec::new()),
        provider: provider.clone(),
    });
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(recorder.clone())
        .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from(host.to_owned())
        .map_err(|e| format!("{host}: {e}"))?;
    let mut conn =
        rustls::ClientConnection::new(Arc::new(config), name).map_err(|e| e.to_string())?;
    let mut tcp = TcpStream::connect_timeout(&addr, timeout).map_err(|e| format!("{addr}: {e}"))?;
    tcp.set_read_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    tcp.set_write_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    // The handshake ends with the recorder's refusal; its error is expected.
    let _ = conn.complete_io(&mut tcp);
    let chain = std::mem::take(&mut *recorder.chain.lock().unwrap_or_else(|e| e.into_inner()));
    if chain.is_empty() {
        return Err("the TLS 1.3 handshake did not reach the certificate".into());
    }
    Ok(chain)
}
