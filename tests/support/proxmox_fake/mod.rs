//! A contract-faithful Proxmox VE API on 127.0.0.1 for the provider tests.
//!
//! HTTPS with a self-signed certificate made at start (`openssl req`), so the
//! provider's certificate pinning is exercised for real. Every request is checked
//! against the official API description (see `schema.rs` for exactly what) and
//! its `Authorization: PVEAPIToken=USER@REALM!TOKENID=SECRET` header; a violation
//! is answered like PVE does (400 "Parameter verification failed." with `errors`,
//! 501 for unknown paths, 401 "No ticket" without credentials) and recorded, and
//! `assert_clean` fails the test on any. Every reply uses PVE's envelope and is
//! checked against the endpoint's `returns` schema (a mismatch is the fake's bug,
//! recorded the same way). State lives in `World`; faults are switches on it
//! (`World::denied`, `fail_next_task`) or queued here (`Fault`).
//!
//! Files: `http.rs` (TLS, framing, the request pipeline), `schema.rs` (the
//! contract and its checks), `world.rs` (the node's state and tasks), `api.rs`
//! (what each endpoint does). The accept loop runs on its own runtime thread, stops after `MAX_CONNECTIONS`
//! or when the `FakePve` is dropped; each connection has read timeouts.
#![allow(dead_code)]

pub mod api;
mod http;
#[path = "../http1.rs"]
mod http1;
pub mod schema;
pub mod world;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use schema::Schema;
#[allow(unused_imports)]
pub use world::{Kind, World, TEMPLATE};

const MAX_CONNECTIONS: usize = 5_000;
pub const TOKEN_ID: &str = "root@pam!infra";
pub const TOKEN_SECRET: &str = "5f0c1b2e-0000-4000-8000-0123456789ab";

/// The full token as a user writes it into the secret: `USER@REALM!TOKENID=SECRET`.
pub fn token() -> String {
    format!("{TOKEN_ID}={TOKEN_SECRET}")
}

#[derive(Clone, Debug)]
pub struct Options {
    /// "9.1" or "8.4": which contract to validate against.
    pub version: &'static str,
    pub node: &'static str,
    /// PVE delays unauthorised replies by 3 s; 0 in tests unless a test says otherwise.
    pub unauthorized_delay: Duration,
    /// Before PVE 8.3 error bodies had no `message`: the reason phrase is all there is.
    pub pre_8_3_errors: bool,
    /// Send integers as strings (older releases' `vmid`, plugins' fields).
    pub ints_as_strings: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            version: "9.1",
            node: "pve1",
            unauthorized_delay: Duration::ZERO,
            pre_8_3_errors: false,
            ints_as_strings: false,
        }
    }
}

/// Something that goes wrong on purpose.
#[derive(Clone, Debug)]
pub enum Fault {
    /// A reverse proxy in front of PVE answers 429 to the next `count` requests
    /// (of `method` and with `path` in the URL, if given), with `Retry-After`.
    Proxy429 {
        count: u32,
        retry_after: u32,
        method: Option<&'static str>,
        path: Option<&'static str>,
    },
    /// The next request of `method` whose path contains `path` dies with 500.
    Die {
        method: &'static str,
        path: &'static str,
        message: String,
    },
}

/// A request as the fake saw it (path template, e.g. `/nodes/{node}/lxc/{vmid}`).
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub template: String,
    pub params: BTreeMap<String, String>,
    pub status: u16,
}

pub struct Shared {
    pub world: World,
    pub opts: Options,
    pub token_valid: bool,
    pub faults: Vec<Fault>,
    pub violations: Vec<String>,
    pub seen: Vec<Seen>,
}

pub struct FakePve {
    pub port: u16,
    /// SHA-256 of the certificate, `AA:BB:…`.
    pub fingerprint: String,
    shared: Arc<Mutex<Shared>>,
    schema: Arc<Schema>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

impl FakePve {
    pub fn start() -> FakePve {
        FakePve::start_with(Options::default())
    }

    pub fn start_with(opts: Options) -> FakePve {
        let schema = Arc::new(Schema::load(opts.version));
        let dir = tempfile::tempdir().unwrap();
        let (certs, key, fingerprint) = http::self_signed(dir.path());
        let config = tokio_rustls::rustls::ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .expect("server TLS config");
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let shared = Arc::new(Mutex::new(Shared {
            world: World::new(opts.node),
            opts,
            token_valid: true,
            faults: Vec::new(),
            violations: Vec::new(),
            seen: Vec::new(),
        }));
        let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
        let (sh, sc) = (shared.clone(), schema.clone());
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                for _ in 0..MAX_CONNECTIONS {
                    let conn = tokio::select! {
                        _ = &mut stopped => break,
                        c = listener.accept() => c,
                    };
                    let Ok((tcp, _)) = conn else { continue };
                    let (acceptor, sh, sc) = (acceptor.clone(), sh.clone(), sc.clone());
                    tokio::spawn(async move {
                        let Ok(Ok(tls)) =
                            tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp))
                                .await
                        else {
                            return;
                        };
                        http::serve(tls, sh, sc).await;
                    });
                }
            });
            rt.shutdown_timeout(Duration::from_secs(1));
        });
        FakePve {
            port,
            fingerprint,
            shared,
            schema,
            stop: Some(stop),
            thread: Some(thread),
            _dir: dir,
        }
    }

    pub fn endpoint(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    /// Look at or change the node's state (drift, faults, privileges).
    pub fn world<R>(&self, f: impl FnOnce(&mut World) -> R) -> R {
        f(&mut self.shared.lock().unwrap().world)
    }

    pub fn fault(&self, f: Fault) {
        self.shared.lock().unwrap().faults.push(f);
    }

    /// The token stops working (expired or revoked).
    pub fn revoke_token(&self) {
        self.shared.lock().unwrap().token_valid = false;
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.shared.lock().unwrap().seen.clone()
    }

    pub fn violations(&self) -> Vec<String> {
        self.shared.lock().unwrap().violations.clone()
    }

    /// Formats the checker met but does not check (honesty, not failure).
    pub fn unchecked_formats(&self) -> Vec<String> {
        self.schema
            .unchecked_formats
            .lock()
            .unwrap()
            .iter()
            .cloned()
            .collect()
    }

    /// No request broke the contract and no reply broke the `returns` schema.
    pub fn assert_clean(&self) {
        let v = self.violations();
        assert!(v.is_empty(), "contract violations:\n  {}", v.join("\n  "));
    }
}

impl Drop for FakePve {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
