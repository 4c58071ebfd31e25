//! Network sources: syslog over UDP, TCP and TLS.
//!
//! Each listener hands [`Delivery`]s (a list of records from one peer) to the pipeline
//! over a bounded channel. TCP and TLS wait when the channel is full, which slows the
//! sender down through TCP flow control instead of dropping; UDP cannot wait, so a full
//! channel drops the datagram and counts it (`haechi_udp_dropped`).
//!
//! TCP framing follows RFC 6587 and is decided per frame: a frame that starts with a digit
//! is octet-counted (`LEN SP MSG`), any other is newline-terminated.

use crate::fair::{FairShare, Slot, source_key};
use crate::metrics::Metrics;
use crate::reader::ReadStats;
use crate::{Format, reader::Limits};
use haechi_event::Timestamp;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, BufReader};
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::{Semaphore, mpsc, oneshot};
use tokio_util::sync::CancellationToken;

/// One listener as configured (`[[listeners]]`).
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListenerConfig {
    /// A name for metrics and dead letters (`syslog-udp`, `fw-busan`, …).
    pub name: String,
    /// `udp`, `tcp` or `tls`.
    pub protocol: Protocol,
    /// Where to listen, e.g. `0.0.0.0:514`.
    pub address: SocketAddr,
    /// The tenant of everything this listener receives; without it the tenant comes
    /// from the `[tenants]` mapping of the sender's address or hostname.
    #[serde(default)]
    pub tenant: Option<String>,
    /// The record format (default `syslog`, which also reads CEF, LEEF and key=value
    /// payloads; `auto` guesses per record).
    #[serde(default = "default_format")]
    pub format: String,
    /// PEM certificate chain and private key (TLS only).
    #[serde(default)]
    pub tls_cert: Option<PathBuf>,
    #[serde(default)]
    pub tls_key: Option<PathBuf>,
}

fn default_format() -> String {
    "syslog".into()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Udp,
    Tcp,
    Tls,
}

/// Records from one peer, on their way to the pipeline.
pub struct Delivery {
    /// The listener (or `http`) that received them.
    pub listener: Arc<str>,
    /// The sender.
    pub peer: Option<SocketAddr>,
    /// The tenant fixed by the listener or the request; `None`: map from the sender.
    pub tenant: Option<Arc<str>>,
    pub format: Format,
    pub records: Vec<Vec<u8>>,
    pub received: Timestamp,
    /// Told the outcome once the records are durably stored (HTTP waits for it).
    pub ack: Option<oneshot::Sender<Result<ReadStats, String>>>,
    /// Its source's place in the queue ([`crate::fair`]), given back once processed.
    pub slot: Option<Slot>,
    /// The drill these records replay (`labels.drill` on every event, its alerts marked).
    pub drill: Option<Arc<str>>,
}

/// What every listener shares.
#[derive(Clone)]
pub struct ListenContext {
    pub sender: mpsc::Sender<Delivery>,
    pub metrics: Arc<Metrics>,
    pub limits: Limits,
    /// The most TCP/TLS connections open at once, over all listeners.
    pub connections: Arc<Semaphore>,
    /// Each source's share of the queue.
    pub fair: Arc<FairShare>,
    pub shutdown: CancellationToken,
}

/// Errors starting a listener (bad address, certificate files), said plainly.
#[derive(Debug, thiserror::Error)]
pub enum ListenError {
    #[error("listener {name}: cannot bind {address}: {source}")]
    Bind {
        name: String,
        address: SocketAddr,
        source: std::io::Error,
    },
    #[error("listener {name}: {reason}")]
    Config { name: String, reason: String },
}

/// Binds a listener and serves it until shutdown. Returns once bound (the serving task
/// runs in the background) with the bound address (useful with port 0).
pub async fn start(config: ListenerConfig, ctx: ListenContext) -> Result<SocketAddr, ListenError> {
    let format: Format =
        config
            .format
            .parse()
            .map_err(|e: crate::UnknownFormat| ListenError::Config {
                name: config.name.clone(),
                reason: e.to_string(),
            })?;
    let bind_err = |source| ListenError::Bind {
        name: config.name.clone(),
        address: config.address,
        source,
    };
    let name: Arc<str> = Arc::from(config.name.as_str());
    let tenant = config.tenant.as_deref().map(Arc::from);
    match config.protocol {
        Protocol::Udp => {
            let socket = UdpSocket::bind(config.address).await.map_err(bind_err)?;
            let local = socket.local_addr().map_err(bind_err)?;
            tokio::spawn(serve_udp(socket, name, tenant, format, ctx));
            Ok(local)
        }
        Protocol::Tcp | Protocol::Tls => {
            let tls = if config.protocol == Protocol::Tls {
                Some(tls_acceptor(&config)?)
            } else {
                None
            };
            let listener = TcpListener::bind(config.address).await.map_err(bind_err)?;
            let local = listener.local_addr().map_err(bind_err)?;
            tokio::spawn(serve_tcp(listener, tls, name, tenant, format, ctx));
            Ok(local)
        }
    }
}

fn tls_acceptor(config: &ListenerConfig) -> Result<tokio_rustls::TlsAcceptor, ListenError> {
    let err = |reason: String| ListenError::Config {
        name: config.name.clone(),
        reason,
    };
    let (Some(cert_path), Some(key_path)) = (&config.tls_cert, &config.tls_key) else {
        return Err(err(
            "a tls listener needs tls_cert and tls_key (PEM files)".into()
        ));
    };
    tls_acceptor_from_pem(cert_path, key_path).map_err(err)
}

/// A TLS acceptor (TLS 1.2 and 1.3, ring) for the certificate chain and private key in
/// two PEM files; the error says which file is wrong and how. The syslog TLS listeners
/// and the HTTP listener use it.
pub fn tls_acceptor_from_pem(
    cert_path: &std::path::Path,
    key_path: &std::path::Path,
) -> Result<tokio_rustls::TlsAcceptor, String> {
    let cert_file = std::fs::read(cert_path)
        .map_err(|e| format!("cannot read tls_cert {}: {e}", cert_path.display()))?;
    let key_file = std::fs::read(key_path)
        .map_err(|e| format!("cannot read tls_key {}: {e}", key_path.display()))?;
    let certs: Vec<_> = rustls_pemfile::certs(&mut cert_file.as_slice())
        .collect::<Result<_, _>>()
        .map_err(|e| format!("tls_cert {} is not PEM: {e}", cert_path.display()))?;
    if certs.is_empty() {
        return Err(format!(
            "tls_cert {} holds no certificate",
            cert_path.display()
        ));
    }
    let key = rustls_pemfile::private_key(&mut key_file.as_slice())
        .map_err(|e| format!("tls_key {} is not PEM: {e}", key_path.display()))?
        .ok_or_else(|| format!("tls_key {} holds no private key", key_path.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| format!("certificate and key do not fit together: {e}"))?;
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(server)))
}

async fn serve_udp(
    socket: UdpSocket,
    name: Arc<str>,
    tenant: Option<Arc<str>>,
    format: Format,
    ctx: ListenContext,
) {
    let mut buf = vec![0u8; 65_536];
    let label = Metrics::source(&name);
    loop {
        let (len, peer) = tokio::select! {
            _ = ctx.shutdown.cancelled() => return,
            r = socket.recv_from(&mut buf) => match r {
                Ok(x) => x,
                Err(e) => { tracing::warn!(listener = %name, error = %e, "udp receive failed"); continue; }
            },
        };
        ctx.metrics.records_received.get_or_create(&label).inc();
        let source = source_key(tenant.as_deref(), Some(peer.ip()));
        let slot = match source.as_deref().map(|s| ctx.fair.try_acquire(s, 1)) {
            Some(Err(_)) => {
                ctx.metrics.udp_dropped.get_or_create(&label).inc();
                continue;
            }
            Some(Ok(slot)) => slot,
            None => None,
        };
        let delivery = Delivery {
            listener: name.clone(),
            peer: Some(peer),
            tenant: tenant.clone(),
            format,
            records: vec![buf[..len].to_vec()],
            received: Timestamp::now(),
            ack: None,
            slot,
            drill: None,
        };
        match ctx.sender.try_send(delivery) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                ctx.metrics.udp_dropped.get_or_create(&label).inc();
            }
            Err(mpsc::error::TrySendError::Closed(_)) => return,
        }
    }
}

async fn serve_tcp(
    listener: TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    name: Arc<str>,
    tenant: Option<Arc<str>>,
    format: Format,
    ctx: ListenContext,
) {
    loop {
        let (stream, peer) = tokio::select! {
            _ = ctx.shutdown.cancelled() => return,
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => { tracing::warn!(listener = %name, error = %e, "accept failed"); continue; }
            },
        };
        let Ok(permit) = ctx.connections.clone().try_acquire_owned() else {
            tracing::warn!(listener = %name, %peer, "connection refused: the connection limit is reached");
            drop(stream);
            continue;
        };
        let (name, tenant, ctx, tls) = (name.clone(), tenant.clone(), ctx.clone(), tls.clone());
        tokio::spawn(async move {
            ctx.metrics.connections.inc();
            let result = match tls {
                Some(acceptor) => match acceptor.accept(stream).await {
                    Ok(s) => read_frames(s, peer, &name, tenant, format, &ctx).await,
                    Err(e) => Err(format!("TLS handshake failed: {e}")),
                },
                None => read_frames(stream, peer, &name, tenant, format, &ctx).await,
            };
            if let Err(e) = result {
                tracing::info!(listener = %name, %peer, error = %e, "connection closed");
            }
            ctx.metrics.connections.dec();
            drop(permit);
        });
    }
}

/// How long a connection may still deliver frames once shutdown began.
const SHUTDOWN_DRAIN: std::time::Duration = std::time::Duration::from_millis(500);

/// Reads RFC 6587 frames until EOF, handing them on in deliveries of whatever is buffered.
async fn read_frames<R: AsyncRead + Unpin>(
    stream: R,
    peer: SocketAddr,
    name: &Arc<str>,
    tenant: Option<Arc<str>>,
    format: Format,
    ctx: &ListenContext,
) -> Result<(), String> {
    let mut reader = BufReader::with_capacity(256 * 1024, stream);
    let label = Metrics::source(name);
    let max = ctx.limits.max_record_bytes;
    let mut frames: Vec<Vec<u8>> = Vec::new();
    let mut drain_until: Option<tokio::time::Instant> = None;
    loop {
        let frame = if ctx.shutdown.is_cancelled() {
            // Shutting down: take what is already buffered or arriving right now, so that
            // bytes the sender already wrote are not dropped, then close.
            let deadline =
                *drain_until.get_or_insert_with(|| tokio::time::Instant::now() + SHUTDOWN_DRAIN);
            match tokio::time::timeout_at(deadline, read_frame(&mut reader, max)).await {
                Ok(f) => f.map_err(|e| e.to_string())?,
                Err(_) => None,
            }
        } else {
            tokio::select! {
                _ = ctx.shutdown.cancelled() => continue,
                f = read_frame(&mut reader, max) => f.map_err(|e| e.to_string())?,
            }
        };
        let eof = frame.is_none();
        if let Some(f) = frame {
            if f.len() > max {
                ctx.metrics.oversized.get_or_create(&label).inc();
            }
            ctx.metrics.records_received.get_or_create(&label).inc();
            frames.push(f);
        }
        let flush = eof || reader.buffer().is_empty() || frames.len() >= ctx.limits.batch_size;
        if flush && !frames.is_empty() {
            let slot = take_slot(ctx, &label, tenant.as_deref(), peer, frames.len()).await;
            let delivery = Delivery {
                listener: name.clone(),
                peer: Some(peer),
                tenant: tenant.clone(),
                format,
                records: std::mem::take(&mut frames),
                received: Timestamp::now(),
                ack: None,
                slot,
                drill: None,
            };
            // Waiting here is the back-pressure: the sender's TCP window fills up.
            ctx.sender
                .send(delivery)
                .await
                .map_err(|_| "the pipeline has stopped".to_string())?;
        }
        if eof {
            return Ok(());
        }
    }
}

/// The sender's place in the queue: at once if its source has room, else after waiting
/// (counted), which holds this connection back alone.
async fn take_slot(
    ctx: &ListenContext,
    label: &crate::metrics::SourceLabel,
    tenant: Option<&str>,
    peer: SocketAddr,
    records: usize,
) -> Option<Slot> {
    let source = source_key(tenant, Some(peer.ip()))?;
    match ctx.fair.try_acquire(&source, records) {
        Ok(slot) => slot,
        Err(_) => {
            ctx.metrics.share_waits.get_or_create(label).inc();
            ctx.fair.acquire(&source, records).await
        }
    }
}

/// One frame, or `None` at a clean end of stream. A frame over `max` bytes is returned
/// cut to `max + 1` bytes (the rest is skipped), so the pipeline dead-letters it.
async fn read_frame<R: AsyncRead + Unpin>(
    reader: &mut BufReader<R>,
    max: usize,
) -> std::io::Result<Option<Vec<u8>>> {
    let first = loop {
        let buf = reader.fill_buf().await?;
        match buf.first() {
            None => return Ok(None),
            // Stray line ends between frames.
            Some(b'\n') | Some(b'\r') => reader.consume(1),
            Some(b) => break *b,
        }
    };
    if first.is_ascii_digit() {
        let mut digits = Vec::with_capacity(10);
        loop {
            let b = reader.read_u8().await?;
            if b == b' ' {
                break;
            }
            if !b.is_ascii_digit() || digits.len() >= 10 {
                // Not octet counting after all: the rest of the line is the frame.
                digits.push(b);
                let mut rest = Vec::new();
                read_line_capped(reader, &mut rest, max.saturating_sub(digits.len())).await?;
                digits.extend_from_slice(&rest);
                return Ok(Some(digits));
            }
            digits.push(b);
        }
        let len: usize = std::str::from_utf8(&digits)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let keep = len.min(max + 1);
        let mut frame = vec![0u8; keep];
        reader.read_exact(&mut frame).await?;
        let mut skip = (len - keep) as u64;
        while skip > 0 {
            let n = tokio::io::copy(&mut (&mut *reader).take(skip), &mut tokio::io::sink()).await?;
            if n == 0 {
                break;
            }
            skip -= n;
        }
        return Ok(Some(frame));
    }
    let mut frame = Vec::new();
    read_line_capped(reader, &mut frame, max).await?;
    Ok(Some(frame))
}

/// Reads up to and including `\n`, keeping at most `max + 1` bytes.
async fn read_line_capped<R: AsyncRead + Unpin>(
    reader: &mut BufReader<R>,
    out: &mut Vec<u8>,
    max: usize,
) -> std::io::Result<()> {
    loop {
        let buf = reader.fill_buf().await?;
        if buf.is_empty() {
            return Ok(());
        }
        let (chunk, done) = match memchr::memchr(b'\n', buf) {
            Some(i) => (&buf[..i], Some(i + 1)),
            None => (buf, None),
        };
        let room = (max + 1).saturating_sub(out.len());
        out.extend_from_slice(&chunk[..chunk.len().min(room)]);
        let used = done.unwrap_or(chunk.len());
        reader.consume(used);
        if done.is_some() {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    fn context(queue: usize, max_connections: usize) -> (ListenContext, mpsc::Receiver<Delivery>) {
        let (sender, receiver) = mpsc::channel(queue);
        let ctx = ListenContext {
            sender,
            metrics: Arc::new(Metrics::new()),
            limits: Limits {
                max_record_bytes: 1 << 16,
                batch_size: 64,
                ..Limits::default()
            },
            connections: Arc::new(Semaphore::new(max_connections)),
            // Shares off: these tests hold deliveries without processing them.
            fair: FairShare::new(0),
            shutdown: CancellationToken::new(),
        };
        (ctx, receiver)
    }

    fn listener(protocol: Protocol) -> ListenerConfig {
        ListenerConfig {
            name: "test".into(),
            protocol,
            address: "127.0.0.1:0".parse().unwrap(),
            tenant: Some("t".into()),
            format: "syslog".into(),
            tls_cert: None,
            tls_key: None,
        }
    }

    /// A full pipeline slows a TCP sender down instead of dropping: once the consumer
    /// catches up, every line sent has arrived.
    #[tokio::test]
    async fn tcp_back_pressure_loses_nothing() {
        let (ctx, mut receiver) = context(1, 8);
        let addr = start(listener(Protocol::Tcp), ctx.clone()).await.unwrap();
        // 23 MB: far more than loopback socket buffers and the reader buffer can hold.
        const LINES: usize = 100_000;
        let writer = tokio::spawn(async move {
            let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
            for i in 0..LINES {
                stream
                    .write_all(
                        format!(
                            "<13>Oct 11 22:14:15 host app: line {i} {}\n",
                            "x".repeat(200)
                        )
                        .as_bytes(),
                    )
                    .await
                    .unwrap();
            }
            stream.shutdown().await.unwrap();
        });
        // The consumer stalls while the sender is still writing: the queue (1) fills up.
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert!(
            !writer.is_finished(),
            "the sender is held back while nobody consumes"
        );
        let mut received = 0;
        while received < LINES {
            let d = tokio::time::timeout(std::time::Duration::from_secs(30), receiver.recv())
                .await
                .unwrap()
                .unwrap();
            received += d.records.len();
        }
        assert_eq!(received, LINES);
        writer.await.unwrap();
        ctx.shutdown.cancel();
    }

    /// UDP cannot wait: with the pipeline full, datagrams are dropped and counted.
    #[tokio::test]
    async fn udp_drops_are_counted_when_the_pipeline_is_full() {
        let (ctx, mut receiver) = context(1, 8);
        let addr = start(listener(Protocol::Udp), ctx.clone()).await.unwrap();
        let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        for i in 0..50 {
            socket
                .send_to(format!("<13>datagram {i}").as_bytes(), addr)
                .await
                .unwrap();
        }
        let mut dropped = 0;
        for _ in 0..200 {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            dropped = ctx
                .metrics
                .udp_dropped
                .get_or_create(&Metrics::source("test"))
                .get();
            let received = ctx
                .metrics
                .records_received
                .get_or_create(&Metrics::source("test"))
                .get();
            if received == 50 {
                break;
            }
        }
        assert!(dropped > 0, "datagrams beyond the queue are dropped");
        let mut delivered = 0;
        while let Ok(Some(_)) =
            tokio::time::timeout(std::time::Duration::from_millis(200), receiver.recv()).await
        {
            delivered += 1;
        }
        assert_eq!(
            delivered + dropped,
            50,
            "every datagram is either delivered or counted as dropped"
        );
        assert!(
            ctx.metrics
                .render()
                .contains("haechi_udp_dropped_total{source=\"test\"}")
        );
        ctx.shutdown.cancel();
    }

    /// Past the connection limit, new connections are closed at once.
    #[tokio::test]
    async fn connections_beyond_the_limit_are_refused() {
        let (ctx, _receiver) = context(16, 1);
        let addr = start(listener(Protocol::Tcp), ctx.clone()).await.unwrap();
        let _first = tokio::net::TcpStream::connect(addr).await.unwrap();
        for _ in 0..100 {
            if ctx.metrics.connections.get() == 1 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert_eq!(ctx.metrics.connections.get(), 1);
        let mut second = tokio::net::TcpStream::connect(addr).await.unwrap();
        let mut buf = [0u8; 1];
        let read = tokio::time::timeout(std::time::Duration::from_secs(5), second.read(&mut buf))
            .await
            .unwrap();
        assert!(
            matches!(read, Ok(0) | Err(_)),
            "the second connection is closed by the server"
        );
        ctx.shutdown.cancel();
    }

    async fn frames(input: &[u8], max: usize) -> Vec<Vec<u8>> {
        let mut r = BufReader::new(input);
        let mut out = Vec::new();
        while let Some(f) = read_frame(&mut r, max).await.unwrap() {
            out.push(f);
        }
        out
    }

    #[tokio::test]
    async fn octet_counting_and_newline_framing_mix() {
        let input = b"11 <13>hello\nx<14>line two\n\n5 abcde<15>three";
        let got = frames(input, 100).await;
        assert_eq!(
            got,
            vec![
                b"<13>hello\nx".to_vec(),
                b"<14>line two".to_vec(),
                b"abcde".to_vec(),
                b"<15>three".to_vec()
            ]
        );
    }

    #[tokio::test]
    async fn oversized_frames_are_cut_for_the_dead_letter_and_skipped() {
        let long = format!("<13>{}\n<14>next\n", "a".repeat(50));
        let got = frames(long.as_bytes(), 10).await;
        assert_eq!(got.len(), 2);
        assert_eq!(
            got[0].len(),
            11,
            "cut to max + 1 so the pipeline sees it is too long"
        );
        assert_eq!(got[1], b"<14>next");
        let counted = format!("60 {}<14>next\n", "b".repeat(60));
        let got = frames(counted.as_bytes(), 10).await;
        assert_eq!(
            got[1], b"<14>next",
            "the rest of an oversized counted frame is skipped"
        );
    }
}
