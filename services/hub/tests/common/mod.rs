//! The real `hub` binary started by the tests as a platform team would start it: a process
//! that says where it listens, and commands run to their end. Shared by the process tests
//! (`process.rs`, `migrate.rs`); each uses a part of it.
#![allow(dead_code)]

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::Duration,
};

use hub_testkit::TestDb;

/// A `hub` process; killed when dropped.
pub struct Hub {
    pub child: Child,
    /// `http://127.0.0.1:<port>` as the binary printed it.
    pub url: String,
    /// Every line the process wrote to stderr so far.
    stderr: Arc<Mutex<Vec<String>>>,
}

impl Hub {
    /// `hub serve --port 0` on a fresh SQLite directory, with `env` on top; waits until it
    /// says where it listens.
    pub fn serve(db: &TestDb, env: &[(&str, &str)]) -> Self {
        Self::start(&["serve", "--port", "0"], db.url(), env)
    }

    /// `hub <args>` on the database `database_url`, with `env` on top; waits (60 s at most)
    /// until its JSON log says where it listens (message `listening`, `url`).
    pub fn start(args: &[&str], database_url: &str, env: &[(&str, &str)]) -> Self {
        Self::start_within(args, database_url, env, Duration::from_secs(60))
    }

    /// [`Hub::start`], waiting at most `within`.
    pub fn start_within(
        args: &[&str],
        database_url: &str,
        env: &[(&str, &str)],
        within: Duration,
    ) -> Self {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_hub"));
        cmd.args(args)
            .env("HUB__DATABASE__URL", database_url)
            .env("HUB__TELEMETRY__LOG_FILTER", "info")
            .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("start hub");
        let stderr: Arc<Mutex<Vec<String>>> = Arc::default();
        let (tx, rx) = std::sync::mpsc::channel();
        let lines = BufReader::new(child.stderr.take().unwrap());
        let log = stderr.clone();
        std::thread::spawn(move || {
            for line in lines.lines().map_while(Result::ok) {
                if let Ok(json) = serde_json::from_str::<serde_json::Value>(&line)
                    && json["message"] == "listening"
                {
                    let _ = tx.send(json["url"].as_str().unwrap_or_default().to_owned());
                }
                log.lock().unwrap().push(line);
            }
        });
        let url = match rx.recv_timeout(within) {
            Ok(url) => url,
            Err(_) => {
                let _ = child.kill();
                let status = child.wait().expect("wait");
                panic!(
                    "hub did not start ({status}):\n{}",
                    stderr.lock().unwrap().join("\n")
                );
            }
        };
        Self { child, url, stderr }
    }

    pub fn log(&self) -> String {
        self.stderr.lock().unwrap().join("\n")
    }

    /// Every line of its log, each parsed as JSON (panics at a line that is not).
    pub fn json_log(&self) -> Vec<serde_json::Value> {
        self.stderr
            .lock()
            .unwrap()
            .iter()
            .map(|l| {
                serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}"))
            })
            .collect()
    }
}

impl Drop for Hub {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `hub <args>` on the database `database_url`, with `env` on top, to its end (at most
/// 60 s): exit code, stdout, stderr.
pub fn run_to_end(
    database_url: &str,
    args: &[&str],
    env: &[(&str, &str)],
) -> (Option<i32>, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hub"))
        .args(args)
        .env("HUB__DATABASE__URL", database_url)
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start hub");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while child.try_wait().expect("try_wait").is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("hub {args:?} is still running after 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().expect("output");
    let text = |b: Vec<u8>| String::from_utf8_lossy(&b).into_owned();
    (out.status.code(), text(out.stdout), text(out.stderr))
}

/// Asserts that `hub <args>` with `env` refuses to start: exit 1 and one line on stderr that
/// contains every one of `says`.
pub fn assert_refused(database_url: &str, args: &[&str], env: &[(&str, &str)], says: &[&str]) {
    let (code, _, stderr) = run_to_end(database_url, args, env);
    assert_eq!(code, Some(1), "{args:?} {env:?}: {stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one clear line, got: {stderr}");
    for s in says {
        assert!(
            lines[0].contains(s),
            "{args:?} {env:?}: {:?} lacks {s:?}",
            lines[0]
        );
    }
}
