//! The fake's HTTP/1.1 plumbing: a listener on 127.0.0.1 with an ephemeral
//! port, served by a tokio runtime on its own thread so both sync tests (which
//! run the `infra` binary) and async tests can use it. The accept loop is
//! bounded (`MAX_CONNECTIONS`) and stops when the `Server` is dropped; every
//! answer closes its connection. Only what reqwest sends is parsed: a request
//! line, headers and a Content-Length body.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use super::http1;

/// More than any test makes; the loop ends there even if never stopped.
pub const MAX_CONNECTIONS: usize = 20_000;

pub struct Request {
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    /// Names lower-cased.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

pub type Handler = Arc<dyn Fn(Request) -> Response + Send + Sync>;

pub struct Server {
    pub addr: std::net::SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    pub fn start(handler: Handler) -> Server {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("cloudflare-fake".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                    let mut conns = tokio::task::JoinSet::new();
                    for _ in 0..MAX_CONNECTIONS {
                        tokio::select! {
                            _ = &mut stopped => break,
                            accepted = listener.accept() => {
                                let Ok((stream, _)) = accepted else { break };
                                let h = handler.clone();
                                conns.spawn(serve(stream, h));
                            }
                        }
                        while conns.try_join_next().is_some() {}
                    }
                    conns.abort_all();
                });
            })
            .unwrap();
        Server {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn serve(mut stream: TcpStream, handler: Handler) {
    let mut buf = Vec::new();
    let Some(r) = http1::read_request(&mut stream, &mut buf, Duration::from_secs(10)).await else {
        return;
    };
    let Ok(url) = reqwest::Url::parse(&format!("http://fake{}", r.target)) else {
        return;
    };
    let req = Request {
        method: r.method.clone(),
        path: url.path().to_string(),
        query: url
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect(),
        body: r.body_text(),
        headers: r.headers,
    };
    let mut resp = handler(req);
    resp.headers
        .insert(0, ("content-type".into(), "application/json".into()));
    resp.headers.push(("connection".into(), "close".into()));
    let out = http1::response(
        resp.status,
        http1::reason(resp.status),
        &resp.headers,
        resp.body.as_bytes(),
    );
    let _ = stream.write_all(&out).await;
    let _ = stream.shutdown().await;
}
