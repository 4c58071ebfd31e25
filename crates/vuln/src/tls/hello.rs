//! The TLS wire format the probe needs, written by hand because the libraries that speak
//! TLS (rustls among them) refuse the legacy versions and suites a probe must ask for:
//! a ClientHello for any version from SSL 3.0 to TLS 1.3 with a chosen list of suites,
//! and the reading of the server's first flight (ServerHello, Certificate, alerts) from
//! the records. Nothing here completes a handshake: the probe learns what the server
//! picks and hangs up.

use super::Protocol;

/// Record content types.
const HANDSHAKE: u8 = 22;
const ALERT: u8 = 21;

/// Handshake message types.
const CLIENT_HELLO: u8 = 1;
pub const SERVER_HELLO: u8 = 2;
pub const CERTIFICATE: u8 = 11;
pub const SERVER_HELLO_DONE: u8 = 14;

/// TLS_EMPTY_RENEGOTIATION_INFO_SCSV: says the client supports secure renegotiation
/// (never TLS_FALLBACK_SCSV, which would make servers refuse lower versions on purpose).
const RENEGOTIATION_SCSV: u16 = 0x00FF;

/// SHA-256 of "HelloRetryRequest": a ServerHello with this random is TLS 1.3's retry.
pub const HELLO_RETRY_RANDOM: [u8; 32] = [
    0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
    0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
];

/// Groups offered: x25519, the NIST curves, x448 and the RFC 7919 finite-field groups.
const GROUPS: &[u16] = &[
    0x001D, 0x0017, 0x0018, 0x0019, 0x001E, 0x0100, 0x0101, 0x0102,
];

/// Signature schemes offered, SHA-1 and DSA included so that old servers answer.
const SIGNATURE_SCHEMES: &[u16] = &[
    0x0403, 0x0503, 0x0603, 0x0804, 0x0805, 0x0806, 0x0807, 0x0808, 0x0809, 0x080A, 0x080B, 0x0401,
    0x0501, 0x0601, 0x0201, 0x0203, 0x0202, 0x0402,
];

fn put_u16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_be_bytes());
}

fn put_u24(out: &mut Vec<u8>, v: usize) {
    out.extend_from_slice(&(v as u32).to_be_bytes()[1..]);
}

fn extension(out: &mut Vec<u8>, kind: u16, body: &[u8]) {
    put_u16(out, kind);
    put_u16(out, body.len() as u16);
    out.extend_from_slice(body);
}

fn u16_list(items: &[u16]) -> Vec<u8> {
    let mut b = Vec::with_capacity(2 + 2 * items.len());
    put_u16(&mut b, (2 * items.len()) as u16);
    for i in items {
        put_u16(&mut b, *i);
    }
    b
}

/// A ClientHello record offering `suites` at `version`; `host` goes into SNI when it is a
/// name (not an address). `random` fills the hello's random, the TLS 1.3 session id and
/// the x25519 key share (any 32 bytes are a valid x25519 public value).
pub fn client_hello(
    version: Protocol,
    suites: &[u16],
    host: Option<&str>,
    random: &[u8; 32],
) -> Vec<u8> {
    let tls13 = version == Protocol::Tls13;
    let mut body = Vec::with_capacity(512);
    // TLS 1.3 says 1.2 here and the real version in supported_versions.
    put_u16(&mut body, if tls13 { 0x0303 } else { version.wire() });
    body.extend_from_slice(random);
    if tls13 {
        body.push(32);
        body.extend_from_slice(random);
    } else {
        body.push(0);
    }
    let mut codes: Vec<u16> = suites.to_vec();
    if !tls13 {
        codes.push(RENEGOTIATION_SCSV);
    }
    body.extend_from_slice(&u16_list(&codes));
    body.extend_from_slice(&[1, 0]); // compression: null only
    if version != Protocol::Ssl3 {
        let mut ext = Vec::with_capacity(256);
        if let Some(h) = host.filter(|h| h.parse::<std::net::IpAddr>().is_err() && !h.is_empty()) {
            let name = h.as_bytes();
            let mut sni = Vec::with_capacity(name.len() + 5);
            put_u16(&mut sni, (name.len() + 3) as u16);
            sni.push(0);
            put_u16(&mut sni, name.len() as u16);
            sni.extend_from_slice(name);
            extension(&mut ext, 0x0000, &sni);
        }
        extension(&mut ext, 0x000A, &u16_list(GROUPS));
        extension(&mut ext, 0x000B, &[1, 0]); // EC point formats: uncompressed
        extension(&mut ext, 0x000D, &u16_list(SIGNATURE_SCHEMES));
        extension(&mut ext, 0x0017, &[]); // extended master secret
        extension(&mut ext, 0x0023, &[]); // session ticket
        if tls13 {
            extension(&mut ext, 0x002B, &[2, 0x03, 0x04]);
            let mut share = Vec::with_capacity(40);
            put_u16(&mut share, 36);
            put_u16(&mut share, 0x001D);
            put_u16(&mut share, 32);
            share.extend_from_slice(random);
            extension(&mut ext, 0x0033, &share);
            extension(&mut ext, 0x002D, &[1, 1]); // psk_dhe_ke
        }
        put_u16(&mut body, ext.len() as u16);
        body.extend_from_slice(&ext);
    }
    let mut handshake = Vec::with_capacity(body.len() + 4);
    handshake.push(CLIENT_HELLO);
    put_u24(&mut handshake, body.len());
    handshake.extend_from_slice(&body);
    let mut record = Vec::with_capacity(handshake.len() + 5);
    record.push(HANDSHAKE);
    // The record layer says at most TLS 1.0, as browsers do: some servers drop hellos
    // whose record version is higher than they know.
    put_u16(&mut record, version.wire().min(0x0301));
    put_u16(&mut record, handshake.len() as u16);
    record.extend_from_slice(&handshake);
    record
}

/// What the server's ServerHello says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerHello {
    /// The negotiated version (from supported_versions when present).
    pub version: u16,
    pub suite: u16,
    /// A TLS 1.3 HelloRetryRequest (the suite is chosen all the same).
    pub retry: bool,
}

/// Parses a ServerHello message body.
pub fn parse_server_hello(body: &[u8]) -> Result<ServerHello, String> {
    let mut r = Reader(body);
    let legacy = r.u16()?;
    let random = r.take(32)?;
    let retry = random == HELLO_RETRY_RANDOM;
    let sid = r.u8()? as usize;
    r.take(sid)?;
    let suite = r.u16()?;
    r.u8()?; // compression
    let mut version = legacy;
    if !r.0.is_empty() {
        let len = r.u16()? as usize;
        let mut ext = Reader(r.take(len)?);
        while !ext.0.is_empty() {
            let kind = ext.u16()?;
            let len = ext.u16()? as usize;
            let data = ext.take(len)?;
            if kind == 0x002B && data.len() == 2 {
                version = u16::from_be_bytes([data[0], data[1]]);
            }
        }
    }
    Ok(ServerHello {
        version,
        suite,
        retry,
    })
}

/// Parses a Certificate message body (TLS ≤ 1.2): the DER certificates, leaf first.
pub fn parse_certificates(body: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let mut r = Reader(body);
    let total = r.u24()?;
    let mut list = Reader(r.take(total)?);
    let mut out = Vec::new();
    while !list.0.is_empty() {
        let len = list.u24()?;
        out.push(list.take(len)?.to_vec());
    }
    Ok(out)
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if self.0.len() < n {
            return Err(format!(
                "truncated: {n} bytes wanted, {} left",
                self.0.len()
            ));
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Ok(a)
    }
    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, String> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }
    fn u24(&mut self) -> Result<usize, String> {
        let b = self.take(3)?;
        Ok(((b[0] as usize) << 16) | ((b[1] as usize) << 8) | b[2] as usize)
    }
}

/// One thing the server sent.
#[derive(Debug, PartialEq, Eq)]
pub enum Flight {
    /// A handshake message: type and body.
    Message(u8, Vec<u8>),
    /// An alert: level and description.
    Alert(u8, u8),
}

/// Reassembles handshake messages from records as they arrive (a message may span
/// records, a record may hold several). The buffer is bounded: a server cannot make the
/// probe hold more than `limit` bytes.
pub struct FlightReader {
    records: Vec<u8>,
    handshake: Vec<u8>,
    limit: usize,
}

impl FlightReader {
    pub fn new(limit: usize) -> FlightReader {
        FlightReader {
            records: Vec::new(),
            handshake: Vec::new(),
            limit,
        }
    }

    /// Adds bytes read from the socket and returns what became complete.
    pub fn push(&mut self, bytes: &[u8]) -> Result<Vec<Flight>, String> {
        if self.records.len() + bytes.len() + self.handshake.len() > self.limit {
            return Err(format!("the server sent more than {} bytes", self.limit));
        }
        self.records.extend_from_slice(bytes);
        let mut out = Vec::new();
        loop {
            if self.records.len() < 5 {
                break;
            }
            let kind = self.records[0];
            if kind & 0x80 != 0 {
                return Err("an SSL 2 record".into());
            }
            if self.records[1] != 3 {
                return Err(format!(
                    "not a TLS record (version byte {:#04x})",
                    self.records[1]
                ));
            }
            let len = u16::from_be_bytes([self.records[3], self.records[4]]) as usize;
            if len > 18_432 {
                return Err(format!("a record of {len} bytes"));
            }
            if self.records.len() < 5 + len {
                break;
            }
            let payload: Vec<u8> = self.records[5..5 + len].to_vec();
            self.records.drain(..5 + len);
            match kind {
                HANDSHAKE => {
                    self.handshake.extend_from_slice(&payload);
                    while self.handshake.len() >= 4 {
                        let mlen = ((self.handshake[1] as usize) << 16)
                            | ((self.handshake[2] as usize) << 8)
                            | self.handshake[3] as usize;
                        if self.handshake.len() < 4 + mlen {
                            break;
                        }
                        let body = self.handshake[4..4 + mlen].to_vec();
                        let t = self.handshake[0];
                        self.handshake.drain(..4 + mlen);
                        out.push(Flight::Message(t, body));
                    }
                }
                ALERT if payload.len() >= 2 => out.push(Flight::Alert(payload[0], payload[1])),
                // ChangeCipherSpec (TLS 1.3 compatibility) and encrypted records: skip.
                _ => {}
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tls12_hello_has_the_suites_the_scsv_and_sni() {
        let r = client_hello(
            Protocol::Tls12,
            &[0xC02F, 0x0035],
            Some("example.kr"),
            &[7; 32],
        );
        assert_eq!(&r[..3], &[22, 3, 1]);
        assert_eq!(u16::from_be_bytes([r[3], r[4]]) as usize, r.len() - 5);
        assert_eq!(r[5], CLIENT_HELLO);
        assert_eq!(&r[9..11], &[3, 3], "client_version TLS 1.2");
        // After the 32-byte random and an empty session id: 3 suites (with the SCSV).
        assert_eq!(&r[44..52], &[0, 6, 0xC0, 0x2F, 0x00, 0x35, 0x00, 0xFF]);
        assert!(r.windows(10).any(|w| w == b"example.kr"));
    }

    #[test]
    fn an_ssl3_hello_has_no_extensions_and_an_address_gets_no_sni() {
        let r = client_hello(Protocol::Ssl3, &[0x000A], Some("127.0.0.1"), &[1; 32]);
        assert_eq!(&r[1..3], &[3, 0]);
        // header 5 + 4, version 2, random 32, sid 1, suites 2+4, compression 2: no more.
        assert_eq!(r.len(), 5 + 4 + 2 + 32 + 1 + 6 + 2);
        let r = client_hello(Protocol::Tls12, &[0x000A], Some("127.0.0.1"), &[1; 32]);
        assert!(!r.windows(9).any(|w| w == b"127.0.0.1"));
    }

    #[test]
    fn server_hellos_are_read_with_their_negotiated_version() {
        let mut body = vec![3, 3];
        body.extend_from_slice(&HELLO_RETRY_RANDOM);
        body.push(0);
        body.extend_from_slice(&[0x13, 0x02, 0]);
        body.extend_from_slice(&[0, 6, 0x00, 0x2B, 0, 2, 3, 4]);
        assert_eq!(
            parse_server_hello(&body).unwrap(),
            ServerHello {
                version: 0x0304,
                suite: 0x1302,
                retry: true
            }
        );
        assert!(
            parse_server_hello(&body[..20])
                .unwrap_err()
                .contains("truncated")
        );
    }

    #[test]
    fn messages_spanning_records_are_reassembled_and_the_buffer_is_bounded() {
        let message = [SERVER_HELLO, 0, 0, 3, 9, 9, 9];
        let mut reader = FlightReader::new(1000);
        let first = [&[22, 3, 3, 0, 4][..], &message[..4]].concat();
        let second = [
            &[22, 3, 3, 0, 3][..],
            &message[4..],
            &[21, 3, 3, 0, 2, 2, 40][..],
        ]
        .concat();
        assert!(reader.push(&first).unwrap().is_empty());
        assert_eq!(
            reader.push(&second).unwrap(),
            vec![
                Flight::Message(SERVER_HELLO, vec![9, 9, 9]),
                Flight::Alert(2, 40)
            ]
        );
        let mut small = FlightReader::new(10);
        assert!(small.push(&[0; 11]).unwrap_err().contains("more than 10"));
        assert!(
            FlightReader::new(100)
                .push(b"HTTP/1.1 400")
                .unwrap_err()
                .contains("not a TLS record")
        );
    }
}
