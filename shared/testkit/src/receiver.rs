//! A tiny HTTP/1.1 receiver on 127.0.0.1:0 that records every request (webhook endpoints).

use std::{
    collections::HashMap,
    future::Future,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use serde_json::Value;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    /// When its head had arrived.
    pub at: Instant,
    pub path: String,
    /// Header names in lower case.
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

impl Received {
    /// The body as JSON (panics if it is not).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }

    /// The `type` of the JSON body (empty if none).
    pub fn kind(&self) -> String {
        self.json()["type"].as_str().unwrap_or_default().to_owned()
    }
}

type Behaviour = Arc<dyn Fn(&str, usize) -> (u16, Duration) + Send + Sync>;

/// Records every request, then answers as `behave(path, nth request to that path)` says:
/// (status, delay before answering).
pub struct Receiver {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    pub log: Arc<Mutex<Vec<Received>>>,
    behave: Arc<Mutex<Behaviour>>,
}

impl Receiver {
    /// A receiver answering as `behave` says.
    pub async fn start<F>(behave: F) -> Self
    where
        F: Fn(&str, usize) -> (u16, Duration) + Send + Sync + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let base = format!("http://{}", listener.local_addr().unwrap());
        let log: Arc<Mutex<Vec<Received>>> = Arc::default();
        let behave: Arc<Mutex<Behaviour>> = Arc::new(Mutex::new(Arc::new(behave)));
        let (l, b) = (log.clone(), behave.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut sock, _)) = listener.accept().await else {
                    continue;
                };
                let (log, behave) = (l.clone(), b.clone());
                tokio::spawn(async move {
                    let Some(req) = read_request(&mut sock).await else {
                        return;
                    };
                    let nth = {
                        let mut log = log.lock().unwrap();
                        let nth = log.iter().filter(|r| r.path == req.path).count();
                        log.push(req.clone());
                        nth
                    };
                    let f = behave.lock().unwrap().clone();
                    let (status, delay) = f(&req.path, nth);
                    tokio::time::sleep(delay).await;
                    let reply = format!(
                        "HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                    );
                    let _ = sock.write_all(reply.as_bytes()).await;
                    let _ = sock.shutdown().await;
                });
            }
        });
        Self { base, log, behave }
    }

    /// A receiver answering every request at once with 204.
    pub async fn accepting() -> Self {
        Self::start(|_, _| (204, Duration::ZERO)).await
    }

    /// Answers from now on as `behave(path, nth)` says.
    pub fn set(&self, behave: impl Fn(&str, usize) -> (u16, Duration) + Send + Sync + 'static) {
        *self.behave.lock().unwrap() = Arc::new(behave);
    }

    /// The URL of the path `/<name>`.
    pub fn url(&self, name: &str) -> String {
        format!("{}/{name}", self.base)
    }

    /// The requests to `path` (`/<name>`), in the order they came.
    pub fn requests(&self, path: &str) -> Vec<Received> {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.path == path)
            .cloned()
            .collect()
    }

    /// The requests to [`Receiver::url`]`(name)` whose JSON body is of type `kind`.
    pub fn of(&self, name: &str, kind: &str) -> Vec<Received> {
        let path = format!("/{name}");
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.path == path && r.kind() == kind)
            .cloned()
            .collect()
    }

    /// Waits (up to 10 s) until [`Receiver::url`]`(name)` has received `n` requests of type
    /// `kind`; returns them.
    pub async fn wait(&self, name: &str, kind: &str, n: usize) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let got = self.of(name, kind);
            if got.len() >= n {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "{name} got {} × {kind}, expected {n}",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

async fn read_request(sock: &mut TcpStream) -> Option<Received> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let n = sock.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let at = Instant::now();
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let path = lines.next()?.split(' ').nth(1)?.to_owned();
    let headers: HashMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let len: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end..].to_vec();
    while body.len() < len {
        let n = sock.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some(Received {
        at,
        path,
        headers,
        body,
    })
}

/// Polls `check` until it returns `Some` or `timeout` passes (then panics, naming `what`).
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
