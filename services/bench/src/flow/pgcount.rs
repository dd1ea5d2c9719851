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
//!
//! Each execution is also attributed to its SQL text (from the `Parse` of the statement its
//! `Bind` names, prepared statements included; or the `Query`), so the bench can say which
//! statements a referral costs.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{
        Arc, Mutex,
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
    /// Statements parsed (and planned) by the server: a `Query`, or a `Parse` (the extended
    /// protocol; a statement prepared once and run again is parsed once).
    pub parses: AtomicU64,
    pub connections: AtomicU64,
    /// Executions by SQL text (whitespace collapsed).
    pub by_sql: Mutex<HashMap<String, u64>>,
}

/// A snapshot of [`Counts`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counted {
    pub statements: u64,
    pub round_trips: u64,
    pub parses: u64,
    pub connections: u64,
}

impl Counts {
    /// Executions by SQL text so far.
    pub fn by_sql(&self) -> HashMap<String, u64> {
        self.by_sql
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn executed(&self, sql: &str) {
        *self
            .by_sql
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(sql.to_owned())
            .or_default() += 1;
    }

    pub fn snapshot(&self) -> Counted {
        Counted {
            statements: self.statements.load(Ordering::Relaxed),
            round_trips: self.round_trips.load(Ordering::Relaxed),
            parses: self.parses.load(Ordering::Relaxed),
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
    /// The body of the current message, kept for `Parse`, `Bind` and `Query`.
    body: Option<(u8, Vec<u8>)>,
    /// SQL by prepared statement name (`""`: the unnamed one).
    prepared: HashMap<String, String>,
    /// The SQL of the statement bound to the (unnamed) portal.
    bound: Option<String>,
}

/// The NUL-terminated strings at the start of a message body.
fn cstrings(body: &[u8], n: usize) -> Vec<String> {
    body.split(|b| *b == 0)
        .take(n)
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect()
}

/// SQL with its whitespace collapsed (one line).
fn one_line(sql: &str) -> String {
    sql.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl Frontend {
    fn feed(&mut self, mut bytes: &[u8], counts: &Counts) {
        while !bytes.is_empty() {
            if self.skip > 0 {
                let n = self.skip.min(bytes.len());
                if let Some((_, body)) = &mut self.body {
                    body.extend_from_slice(&bytes[..n]);
                }
                self.skip -= n;
                bytes = &bytes[n..];
                if self.skip == 0 {
                    self.message_done(counts);
                }
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
                        counts.parses.fetch_add(1, Ordering::Relaxed);
                    }
                    b'P' => {
                        counts.parses.fetch_add(1, Ordering::Relaxed);
                    }
                    b'E' => {
                        counts.statements.fetch_add(1, Ordering::Relaxed);
                        counts.executed(self.bound.as_deref().unwrap_or("(unknown)"));
                    }
                    b'S' => {
                        counts.round_trips.fetch_add(1, Ordering::Relaxed);
                    }
                    _ => {}
                }
                self.skip = len.saturating_sub(4);
                if matches!(kind, b'P' | b'B' | b'Q') {
                    self.body = Some((kind, Vec::with_capacity(self.skip)));
                    if self.skip == 0 {
                        self.message_done(counts);
                    }
                }
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

    /// A kept message body is complete: note what it prepares, binds or runs.
    fn message_done(&mut self, counts: &Counts) {
        let Some((kind, body)) = self.body.take() else {
            return;
        };
        match kind {
            b'P' => {
                let s = cstrings(&body, 2);
                if let [name, sql] = s.as_slice() {
                    self.prepared.insert(name.clone(), one_line(sql));
                }
            }
            b'B' => {
                let s = cstrings(&body, 2);
                self.bound = s.get(1).and_then(|name| self.prepared.get(name)).cloned();
            }
            b'Q' => {
                let s = cstrings(&body, 1);
                counts.executed(&one_line(s.first().map_or("", String::as_str)));
            }
            _ => {}
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
        // A named (cached) statement, prepared once and run twice.
        stream.extend(message(b'P', b"s1\0SELECT  2\n FROM x\0\0\0"));
        stream.extend(message(b'S', b""));
        for _ in 0..2 {
            stream.extend(message(b'B', b"\0s1\0\0\0\0\0\0\0"));
            stream.extend(message(b'E', b"\0\0\0\0\0"));
            stream.extend(message(b'S', b""));
        }
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
                (c.statements, c.round_trips, c.parses),
                (5, 6, 4),
                "read {chunk} bytes at a time"
            );
            let by_sql = counts.by_sql();
            assert_eq!(
                (
                    by_sql["BEGIN"],
                    by_sql["SELECT 1"],
                    by_sql["SELECT 2 FROM x"],
                    by_sql["COMMIT"]
                ),
                (1, 1, 2, 1),
                "{by_sql:?}"
            );
        }
    }
}
