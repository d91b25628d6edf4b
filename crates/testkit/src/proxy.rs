//! A fault-injecting TCP proxy between the S3 client and the server: one fault per incoming
//! connection, taken from a queue (then `Pass`).

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// What happens to one client connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Forward both ways.
    Pass,
    /// Wait, then forward.
    Delay(Duration),
    /// Accept and close at once (the client sees a reset / empty reply).
    Close,
    /// Forward the request; once the server has answered, forward only this many response
    /// bytes and close: the server did the work, the client never learns it.
    CutResponse(usize),
    /// Forward only this many request bytes, then reset the connection.
    CutRequest(usize),
    /// Answer with this HTTP status and S3 error code without contacting the server.
    Respond(u16, &'static str),
}

/// A running proxy.
pub struct Proxy {
    addr: SocketAddr,
    faults: Arc<Mutex<VecDeque<Fault>>>,
    default: Arc<Mutex<Fault>>,
    connections: Arc<AtomicUsize>,
}

impl Proxy {
    /// Starts a proxy to `upstream` on a free port of 127.0.0.1.
    pub fn start(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let addr = listener.local_addr().unwrap();
        let faults: Arc<Mutex<VecDeque<Fault>>> = Arc::default();
        let default = Arc::new(Mutex::new(Fault::Pass));
        let connections = Arc::new(AtomicUsize::new(0));
        let (f, d, c) = (Arc::clone(&faults), Arc::clone(&default), Arc::clone(&connections));
        thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                c.fetch_add(1, Ordering::SeqCst);
                let fault = f.lock().unwrap().pop_front().unwrap_or(*d.lock().unwrap());
                thread::spawn(move || {
                    let _ = handle(client, upstream, fault);
                });
            }
        });
        Proxy { addr, faults, default, connections }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Queues faults for the next connections.
    pub fn push(&self, faults: impl IntoIterator<Item = Fault>) {
        self.faults.lock().unwrap().extend(faults);
    }

    /// The fault for connections once the queue is empty.
    pub fn set_default(&self, fault: Fault) {
        *self.default.lock().unwrap() = fault;
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

fn pipe(mut from: TcpStream, mut to: TcpStream) {
    let _ = io::copy(&mut from, &mut to);
    let _ = to.shutdown(Shutdown::Write);
}

/// Reads one request head and its Content-Length body.
fn drain_request(client: &mut TcpStream) -> io::Result<()> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if client.read(&mut byte)? == 0 {
            return Ok(());
        }
        head.push(byte[0]);
    }
    let text = String::from_utf8_lossy(&head).to_ascii_lowercase();
    let len: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    io::copy(&mut client.take(len), &mut io::sink())?;
    Ok(())
}

fn handle(mut client: TcpStream, upstream: SocketAddr, fault: Fault) -> io::Result<()> {
    match fault {
        Fault::Close => {
            drop(client);
            Ok(())
        }
        Fault::Respond(status, code) => {
            drain_request(&mut client)?;
            let body = format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code>\
                 <Message>injected by the test proxy</Message></Error>"
            );
            write!(
                client,
                "HTTP/1.1 {status} Injected\r\nContent-Type: application/xml\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n{body}",
                body.len()
            )?;
            client.flush()?;
            let _ = client.shutdown(Shutdown::Both);
            Ok(())
        }
        Fault::Pass | Fault::Delay(_) => {
            if let Fault::Delay(d) = fault {
                thread::sleep(d);
            }
            let server = TcpStream::connect(upstream)?;
            let (c2, s2) = (client.try_clone()?, server.try_clone()?);
            let up = thread::spawn(move || pipe(c2, s2));
            pipe(server, client);
            let _ = up.join();
            Ok(())
        }
        Fault::CutRequest(n) => {
            let mut server = TcpStream::connect(upstream)?;
            let mut buf = vec![0u8; 64 * 1024];
            let mut sent = 0;
            while sent < n {
                let k = client.read(&mut buf[..(n - sent).min(64 * 1024)])?;
                if k == 0 {
                    break;
                }
                server.write_all(&buf[..k])?;
                sent += k;
            }
            let _ = server.shutdown(Shutdown::Both);
            let _ = client.shutdown(Shutdown::Both);
            Ok(())
        }
        Fault::CutResponse(n) => {
            let mut server = TcpStream::connect(upstream)?;
            let (c2, s2) = (client.try_clone()?, server.try_clone()?);
            thread::spawn(move || pipe(c2, s2));
            // the first response bytes prove the server handled the request
            let mut buf = vec![0u8; 64 * 1024];
            let mut sent = 0;
            loop {
                let k = server.read(&mut buf)?;
                if k == 0 {
                    break;
                }
                let take = k.min(n - sent);
                client.write_all(&buf[..take])?;
                sent += take;
                if sent >= n {
                    break;
                }
            }
            let _ = client.shutdown(Shutdown::Both);
            let _ = server.shutdown(Shutdown::Both);
            Ok(())
        }
    }
}
