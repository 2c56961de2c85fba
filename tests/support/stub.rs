#![allow(dead_code)]
//! A scripted HTTP/1.1 server on 127.0.0.1 for the model backend tests. It
//! binds an ephemeral port (so parallel tests never clash), answers exactly
//! the replies it was given, in order, records every request, then stops
//! accepting. Dropping the `Stub` aborts its task, so a test that fails early
//! leaves nothing running. Only what the backends send is parsed: a request
//! line, headers and a Content-Length body; every answer closes its connection.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

use super::http1;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// One scripted answer.
#[derive(Clone, Debug)]
pub enum Reply {
    Json {
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
    },
    /// Read the request, then say nothing until the test ends (bounded: 30 s).
    Silence,
}

impl Reply {
    pub fn ok(body: Value) -> Reply {
        Reply::status(200, body)
    }

    pub fn status(status: u16, body: Value) -> Reply {
        Reply::Json {
            status,
            headers: vec![],
            body: body.to_string(),
        }
    }

    pub fn raw(status: u16, body: &str) -> Reply {
        Reply::Json {
            status,
            headers: vec![],
            body: body.to_string(),
        }
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Reply {
        if let Reply::Json { headers, .. } = &mut self {
            headers.push((name.to_string(), value.to_string()));
        }
        self
    }
}

/// A request as the server saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub path: String,
    /// Names lower-cased, in the order sent.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("the request body is JSON")
    }
}

pub struct Stub {
    pub url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    task: JoinHandle<()>,
}

impl Stub {
    pub async fn start(replies: Vec<Reply>) -> Stub {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = seen.clone();
        // Bounded: one connection per scripted reply, then no more accepts.
        // Connections are served one at a time in this task, so aborting it
        // stops everything, and a retry can never overtake its predecessor.
        let task = tokio::spawn(async move {
            for reply in replies {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                serve(stream, reply, &record).await;
            }
        });
        Stub { url, seen, task }
    }

    pub fn requests(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for Stub {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(mut stream: TcpStream, reply: Reply, seen: &Mutex<Vec<Seen>>) {
    let mut buf = Vec::new();
    let Some(r) = http1::read_request(&mut stream, &mut buf, Duration::from_secs(10)).await else {
        return;
    };
    seen.lock().unwrap().push(Seen {
        method: r.method.clone(),
        path: r.target.clone(),
        body: r.body_text(),
        headers: r.headers,
    });
    match reply {
        Reply::Silence => tokio::time::sleep(Duration::from_secs(30)).await,
        Reply::Json {
            status,
            mut headers,
            body,
        } => {
            headers.insert(0, ("content-type".into(), "application/json".into()));
            headers.push(("connection".into(), "close".into()));
            let out = http1::response(status, http1::reason(status), &headers, body.as_bytes());
            let _ = stream.write_all(&out).await;
            let _ = stream.shutdown().await;
        }
    }
}
