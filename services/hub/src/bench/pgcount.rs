//! `hub bench --count-statements`: a proxy between one service and PostgreSQL that counts
//! what the service asks of the server, independently of how busy the machine is.
//!
//! It reads the frontend side of the PostgreSQL wire protocol (v3) as it forwards it: a
//! simple `Query` message is one statement and one round trip; in the extended protocol
//! (what libpq's `PQexecParams` / `PQexecPrepared` send: Parse, Bind, Describe, Execute,
//! Sync) each `Execute` is a statement and each `Sync` a round trip. `BEGIN` and `COMMIT`
//! count as statements. The server's answers are passed through untouched. The proxy adds a
//! hop on the loopback, so latencies measured with it on are not comparable with those
//! measured without.

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
};

use anyhow::Context as _;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};

/// What the services behind one proxy sent so far.
#[derive(Debug, Default)]
pub struct Counts {
    pub statements: AtomicU64,
    pub round_trips: AtomicU64,
    pub connections: AtomicU64,
}

/// A snapshot of [`Counts`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counted {
    pub statements: u64,
    pub round_trips: u64,
    pub connections: u64,
}

impl Counts {
    pub fn snapshot(&self) -> Counted {
        Counted {
            statements: self.statements.load(Ordering::Relaxed),
            round_trips: self.round_trips.load(Ordering::Relaxed),
            connections: self.connections.load(Ordering::Relaxed),
        }
    }
}

/// A running proxy: connect to `addr` instead of the server.
pub struct Proxy {
    pub addr: SocketAddr,
    pub counts: Arc<Counts>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts a proxy on 127.0.0.1 to the PostgreSQL server at `upstream` (`host:port`).
pub async fn start(upstream: String) -> anyhow::Result<Proxy> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let counts = Arc::new(Counts::default());
    let c = counts.clone();
    let task = tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let (upstream, counts) = (upstream.clone(), c.clone());
            tokio::spawn(async move {
                if let Err(e) = relay(client, &upstream, &counts).await {
                    tracing::debug!(error = %e, "statement-counting proxy connection ended");
                }
            });
        }
    });
    Ok(Proxy { addr, counts, task })
}

async fn relay(client: TcpStream, upstream: &str, counts: &Counts) -> anyhow::Result<()> {
    let server = TcpStream::connect(upstream)
        .await
        .with_context(|| format!("connecting to PostgreSQL at {upstream}"))?;
    client.set_nodelay(true)?;
    server.set_nodelay(true)?;
    counts.connections.fetch_add(1, Ordering::Relaxed);
    let (mut from_client, mut to_client) = client.into_split();
    let (mut from_server, mut to_server) = server.into_split();
    let answers = tokio::spawn(async move {
        let _ = tokio::io::copy(&mut from_server, &mut to_client).await;
        let _ = to_client.shutdown().await;
    });
    let mut parser = Frontend::default();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = from_client.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        parser.feed(&buf[..n], counts);
        to_server.write_all(&buf[..n]).await?;
    }
    let _ = to_server.shutdown().await;
    let _ = answers.await;
    Ok(())
}

/// SSLRequest and GSSENCRequest: answered with one byte, then the startup message follows.
const SSL_REQUEST: u32 = 80_877_103;
const GSSENC_REQUEST: u32 = 80_877_104;

/// The frontend message stream, parsed incrementally: before the startup message, messages
/// have no type byte; after it, each is a type byte and a length (which counts itself).
#[derive(Default)]
struct Frontend {
    started: bool,
    /// Bytes of the current message's header read so far.
    header: Vec<u8>,
    /// Bytes of the current message's body still to skip.
    skip: usize,
}

impl Frontend {
    fn feed(&mut self, mut bytes: &[u8], counts: &Counts) {
        while !bytes.is_empty() {
            if self.skip > 0 {
                let n = self.skip.min(bytes.len());
                self.skip -= n;
                bytes = &bytes[n..];
                continue;
            }
            let header_len = if self.started { 5 } else { 8 };
            let n = (header_len - self.header.len()).min(bytes.len());
            self.header.extend_from_slice(&bytes[..n]);
            bytes = &bytes[n..];
            if self.header.len() < header_len {
                break;
            }
            if self.started {
                let kind = self.header[0];
                let len = u32::from_be_bytes([
                    self.header[1],
                    self.header[2],
                    self.header[3],
                    self.header[4],
                ]) as usize;
                match kind {
                    b'Q' => {
                        counts.statements.fetch_add(1, Ordering::Relaxed);
                        counts.round_trips.fetch_add(1, Ordering::Relaxed);
                    }
                    b'E' => {
                        counts.statements.fetch_add(1, Ordering::Relaxed);
                    }
                    b'S' => {
                        counts.round_trips.fetch_add(1, Ordering::Relaxed);
                    }
                    _ => {}
                }
                self.skip = len.saturating_sub(4);
            } else {
                let len = u32::from_be_bytes([
                    self.header[0],
                    self.header[1],
                    self.header[2],
                    self.header[3],
                ]) as usize;
                let code = u32::from_be_bytes([
                    self.header[4],
                    self.header[5],
                    self.header[6],
                    self.header[7],
                ]);
                if code != SSL_REQUEST && code != GSSENC_REQUEST {
                    self.started = true;
                }
                self.skip = len.saturating_sub(8);
            }
            self.header.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(kind: u8, body: &[u8]) -> Vec<u8> {
        let mut m = vec![kind];
        m.extend_from_slice(&(body.len() as u32 + 4).to_be_bytes());
        m.extend_from_slice(body);
        m
    }

    #[test]
    fn counts_statements_and_round_trips_across_reads() {
        let mut stream = Vec::new();
        // SSLRequest, then a startup message with parameters.
        stream.extend_from_slice(&8u32.to_be_bytes());
        stream.extend_from_slice(&SSL_REQUEST.to_be_bytes());
        let params = b"user\0postgres\0\0";
        stream.extend_from_slice(&(8 + params.len() as u32).to_be_bytes());
        stream.extend_from_slice(&196_608u32.to_be_bytes());
        stream.extend_from_slice(params);
        // BEGIN (simple), an extended query, COMMIT (simple).
        stream.extend(message(b'Q', b"BEGIN\0"));
        stream.extend(message(b'P', b"\0SELECT 1\0\0\0"));
        stream.extend(message(b'B', &[0; 10]));
        stream.extend(message(b'D', b"P\0"));
        stream.extend(message(b'E', b"\0\0\0\0\0"));
        stream.extend(message(b'S', b""));
        stream.extend(message(b'Q', b"COMMIT\0"));
        // 'E' and 'Q' bytes inside bodies are not counted, whatever the read boundaries.
        for chunk in [1, 3, 7, stream.len()] {
            let counts = Counts::default();
            let mut parser = Frontend::default();
            for part in stream.chunks(chunk) {
                parser.feed(part, &counts);
            }
            let c = counts.snapshot();
            assert_eq!(
                (c.statements, c.round_trips),
                (3, 3),
                "read {chunk} bytes at a time"
            );
        }
    }
}
