#![allow(dead_code)]
//! HTTP/1.1 framing shared by the loopback fakes and stubs (the Cloudflare and
//! Proxmox fakes, the model-backend stub): read one request (request line,
//! headers, a Content-Length body; what follows stays in the buffer for a
//! keep-alive connection), and write one response. Only what reqwest sends is
//! understood. Every read is bounded in time and the head in size, so a client
//! that stops talking never holds a test.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};

/// The largest request head accepted.
const MAX_HEAD: usize = 1 << 20;

#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    /// As sent: path and query.
    pub target: String,
    /// Names lower-cased, in the order sent.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn path(&self) -> &str {
        self.target.split_once('?').map_or(&self.target, |(p, _)| p)
    }

    /// The raw query string (empty without one).
    pub fn query(&self) -> &str {
        self.target.split_once('?').map_or("", |(_, q)| q)
    }

    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// The next request on `s`; `buf` carries bytes already read past the previous
/// one. `None` at EOF, after `timeout` without a byte, or on a malformed head.
pub async fn read_request<S: AsyncRead + Unpin>(
    s: &mut S,
    buf: &mut Vec<u8>,
    timeout: Duration,
) -> Option<Request> {
    let mut chunk = [0u8; 16384];
    let end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        if buf.len() > MAX_HEAD {
            return None;
        }
        let n = read(s, &mut chunk, timeout).await?;
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let (method, target) = (first.next()?.to_string(), first.next()?.to_string());
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    while buf.len() < end + 4 + length {
        let n = read(s, &mut chunk, timeout).await?;
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = buf[end + 4..end + 4 + length].to_vec();
    buf.drain(..end + 4 + length);
    Some(Request {
        method,
        target,
        headers,
        body,
    })
}

/// One read of at least a byte, bounded by `timeout`.
async fn read<S: AsyncRead + Unpin>(
    s: &mut S,
    chunk: &mut [u8],
    timeout: Duration,
) -> Option<usize> {
    match tokio::time::timeout(timeout, s.read(chunk)).await {
        Ok(Ok(n)) if n > 0 => Some(n),
        _ => None,
    }
}

/// A whole response: status line, `Content-Length`, the given headers, body.
pub fn response(status: u16, reason: &str, headers: &[(String, String)], body: &[u8]) -> Vec<u8> {
    let mut head = format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (n, v) in headers {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let mut out = head.into_bytes();
    out.extend_from_slice(body);
    out
}

/// The standard reason phrase of the statuses the fakes send.
pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        529 => "Overloaded",
        _ => "Status",
    }
}
