//! A fault-injecting HTTP proxy on 127.0.0.1 in front of a real server, for
//! "the API misbehaves" tests. Each request is read whole, matched against a
//! script of rules (method + path substring, used a number of times) and then
//! passed upstream, answered with an injected 500/429, or left hanging (closed
//! after a bounded time). Every answer closes the connection, so each request is
//! one connection and one log entry. Connections are bounded; the proxy and
//! every thread it started stop when it is dropped.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// At most this many connections over the proxy's life (a runaway client fails instead of looping).
const MAX_CONNECTIONS: usize = 2_000;

#[derive(Clone)]
pub enum Fault {
    Pass,
    /// 500 with a JSON error body (PowerDNS's error shape).
    Status500,
    /// 429 with `Retry-After: 1`.
    Status429,
    /// Read the request, never answer; close after this long.
    Hang(Duration),
    /// Forward the request, drop the answer, hang (the change happened, the client never hears).
    LoseAnswer(Duration),
    /// Forward and answer, then run this (e.g. kill the server).
    PassThen(Arc<dyn Fn() + Send + Sync>),
}

impl Fault {
    fn name(&self) -> &'static str {
        match self {
            Fault::Pass => "pass",
            Fault::Status500 => "500",
            Fault::Status429 => "429",
            Fault::Hang(_) => "hang",
            Fault::LoseAnswer(_) => "lose-answer",
            Fault::PassThen(_) => "pass-then",
        }
    }
}

struct Rule {
    method: &'static str,
    path_contains: &'static str,
    times: usize,
    fault: Fault,
}

/// One request the proxy saw: method, path, what it did.
#[derive(Debug, Clone, PartialEq)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub fault: &'static str,
}

#[derive(Default)]
struct Shared {
    rules: Mutex<Vec<Rule>>,
    seen: Mutex<Vec<Seen>>,
    stop: AtomicBool,
    connections: AtomicUsize,
}

pub struct FaultProxy {
    pub port: u16,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
}

impl FaultProxy {
    /// Listen on a free port, forwarding to 127.0.0.1:upstream.
    pub fn start(upstream: u16) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let shared = Arc::new(Shared::default());
        let sh = shared.clone();
        let accept = std::thread::spawn(move || {
            let mut workers = Vec::new();
            while !sh.stop.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        if sh.connections.fetch_add(1, Ordering::SeqCst) >= MAX_CONNECTIONS {
                            continue; // dropped: the client sees a closed connection
                        }
                        let sh = sh.clone();
                        workers.push(std::thread::spawn(move || serve(stream, upstream, &sh)));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
            for w in workers {
                let _ = w.join();
            }
        });
        FaultProxy {
            port,
            shared,
            accept: Some(accept),
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The next `times` requests of `method` whose path contains `path_contains` get `fault`.
    pub fn on(
        &self,
        method: &'static str,
        path_contains: &'static str,
        times: usize,
        fault: Fault,
    ) {
        self.shared.rules.lock().unwrap().push(Rule {
            method,
            path_contains,
            times,
            fault,
        });
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.shared.seen.lock().unwrap().clone()
    }

    /// What was done to requests of `method`, in order.
    pub fn faults_for(&self, method: &str) -> Vec<&'static str> {
        self.seen()
            .into_iter()
            .filter(|s| s.method == method)
            .map(|s| s.fault)
            .collect()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Some(a) = self.accept.take() {
            let _ = a.join();
        }
    }
}

fn pick(shared: &Shared, method: &str, path: &str) -> Fault {
    let mut rules = shared.rules.lock().unwrap();
    for r in rules.iter_mut() {
        if r.times > 0 && r.method == method && path.contains(r.path_contains) {
            r.times -= 1;
            return r.fault.clone();
        }
    }
    Fault::Pass
}

/// Read one HTTP request (headers + Content-Length body); None on EOF/timeout.
fn read_request(s: &mut TcpStream) -> Option<Vec<u8>> {
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            while buf.len() < end + 4 + len {
                let n = s.read(&mut chunk).ok()?;
                if n == 0 {
                    return None;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            return Some(buf);
        }
        let n = s.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// The request with `Connection: close`, so the upstream answer ends at EOF.
fn closing(req: &[u8]) -> Vec<u8> {
    let end = req.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&req[..end]);
    let mut out: String = head
        .lines()
        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
        .map(|l| format!("{l}\r\n"))
        .collect();
    out.push_str("Connection: close\r\n\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(&req[end + 4..]);
    bytes
}

fn forward(req: &[u8], upstream: u16) -> Option<Vec<u8>> {
    let mut up =
        TcpStream::connect_timeout(&([127, 0, 0, 1], upstream).into(), Duration::from_secs(2))
            .ok()?;
    up.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
    up.write_all(&closing(req)).ok()?;
    let mut answer = Vec::new();
    up.read_to_end(&mut answer).ok()?;
    Some(answer)
}

fn hang(shared: &Shared, d: Duration) {
    let until = Instant::now() + d;
    while Instant::now() < until && !shared.stop.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn canned(status: &str, extra: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{extra}Connection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn serve(mut client: TcpStream, upstream: u16, shared: &Shared) {
    let Some(req) = read_request(&mut client) else {
        return;
    };
    let line = String::from_utf8_lossy(&req[..req.iter().position(|&b| b == b'\r').unwrap_or(0)])
        .to_string();
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let path = parts.next().unwrap_or("").to_string();
    let fault = pick(shared, &method, &path);
    shared.seen.lock().unwrap().push(Seen {
        method,
        path,
        fault: fault.name(),
    });
    let answer = match &fault {
        Fault::Status500 => Some(canned(
            "500 Internal Server Error",
            "",
            r#"{"error": "injected fault: internal error"}"#,
        )),
        Fault::Status429 => Some(canned(
            "429 Too Many Requests",
            "Retry-After: 1\r\n",
            r#"{"error": "injected fault: slow down"}"#,
        )),
        Fault::Hang(d) => {
            hang(shared, *d);
            None
        }
        Fault::LoseAnswer(d) => {
            let _ = forward(&req, upstream);
            hang(shared, *d);
            None
        }
        Fault::Pass | Fault::PassThen(_) => forward(&req, upstream),
    };
    if let Some(a) = answer {
        let _ = client.write_all(&a);
        let _ = client.flush();
    }
    let _ = client.shutdown(std::net::Shutdown::Both);
    if let Fault::PassThen(then) = fault {
        then();
    }
}
