//! A TCP proxy in front of the real PostgreSQL that injects the faults a production database
//! shows: stopped (connections refused), reset (every connection cut) and silent (the network
//! path accepts and acknowledges bytes but nothing comes back: a partition behind a middlebox,
//! or a frozen server). Plain threads, so it keeps working whatever the test's runtime does.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Fault {
    /// Bytes flow both ways.
    None = 0,
    /// Existing connections are cut and new ones refused, as when the server is stopped.
    Stopped = 1,
    /// Existing connections are cut and new ones accepted, then cut at once.
    Reset = 2,
    /// Connections stay open and are accepted, bytes are acknowledged, nothing comes back.
    Silent = 3,
}

impl Fault {
    fn from_u8(v: u8) -> Self {
        match v {
            1 => Self::Stopped,
            2 => Self::Reset,
            3 => Self::Silent,
            _ => Self::None,
        }
    }
}

struct State {
    fault: AtomicU8,
    /// Bumped when connections are to be cut: pumps that started under another epoch stop.
    epoch: AtomicU8,
    stop: AtomicBool,
    upstream: SocketAddr,
    port: u16,
    open: Mutex<Vec<TcpStream>>,
}

pub struct FaultProxy {
    pub port: u16,
    state: Arc<State>,
}

impl FaultProxy {
    /// Starts a proxy on a free loopback port forwarding to `upstream`.
    pub fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("proxy: {e}"));
        let port = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("proxy: {e}"))
            .port();
        let state = Arc::new(State {
            fault: AtomicU8::new(Fault::None as u8),
            epoch: AtomicU8::new(0),
            stop: AtomicBool::new(false),
            upstream,
            port,
            open: Mutex::new(Vec::new()),
        });
        let accept_state = Arc::clone(&state);
        thread::spawn(move || accept_loop(listener, &accept_state));
        Self { port, state }
    }

    pub fn set(&self, fault: Fault) {
        self.state.fault.store(fault as u8, Ordering::SeqCst);
        if matches!(fault, Fault::Stopped | Fault::Reset) {
            self.state.epoch.fetch_add(1, Ordering::SeqCst);
            let mut open = self.state.open.lock().unwrap_or_else(|e| e.into_inner());
            for stream in open.drain(..) {
                let _ = stream.shutdown(Shutdown::Both);
            }
        }
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.state.stop.store(true, Ordering::SeqCst);
    }
}

fn accept_loop(listener: TcpListener, state: &Arc<State>) {
    let mut listener = listener.set_nonblocking(true).map(|()| listener).ok();
    while !state.stop.load(Ordering::SeqCst) {
        let fault = Fault::from_u8(state.fault.load(Ordering::SeqCst));
        if fault == Fault::Stopped {
            // Nobody listens: connections are refused, as by a stopped server.
            listener = None;
            thread::sleep(Duration::from_millis(5));
            continue;
        }
        let Some(open) = listener.as_ref() else {
            listener = TcpListener::bind(("127.0.0.1", state.port))
                .and_then(|l| l.set_nonblocking(true).map(|()| l))
                .ok();
            thread::sleep(Duration::from_millis(5));
            continue;
        };
        let client = match open.accept() {
            Ok((client, _)) => client,
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                thread::sleep(Duration::from_millis(5));
                continue;
            }
            Err(_) => continue,
        };
        if fault == Fault::Reset {
            let _ = client.shutdown(Shutdown::Both);
            continue;
        }
        let Ok(server) = TcpStream::connect_timeout(&state.upstream, Duration::from_secs(2)) else {
            continue;
        };
        let _ = client.set_nodelay(true);
        let _ = server.set_nodelay(true);
        relay(client, server, Arc::clone(state));
    }
}

fn relay(client: TcpStream, server: TcpStream, state: Arc<State>) {
    let epoch = state.epoch.load(Ordering::SeqCst);
    if let (Ok(c), Ok(s)) = (client.try_clone(), server.try_clone()) {
        let mut open = state.open.lock().unwrap_or_else(|e| e.into_inner());
        open.push(c);
        open.push(s);
    }
    for (from, to) in [
        (client.try_clone(), server.try_clone()),
        (Ok(server), Ok(client)),
    ] {
        let (Ok(from), Ok(to)) = (from, to) else {
            continue;
        };
        let state = Arc::clone(&state);
        thread::spawn(move || pump(from, to, &state, epoch));
    }
}

/// Copies `from` to `to`. While the fault is `Silent` it stops reading: the kernel still
/// acknowledges what arrives (into its buffer) but nothing goes on, and after the fault
/// everything flows again, as after a healed partition. Stops when the connection is cut.
fn pump(mut from: TcpStream, mut to: TcpStream, state: &State, epoch: u8) {
    let _ = from.set_read_timeout(Some(Duration::from_millis(20)));
    let mut buf = [0u8; 16384];
    loop {
        if state.stop.load(Ordering::SeqCst) || state.epoch.load(Ordering::SeqCst) != epoch {
            break;
        }
        if Fault::from_u8(state.fault.load(Ordering::SeqCst)) == Fault::Silent {
            // Notice a peer that closed meanwhile, without reading its data.
            let mut probe = [0u8; 1];
            if matches!(from.peek(&mut probe), Ok(0)) {
                break;
            }
            thread::sleep(Duration::from_millis(20));
            continue;
        }
        match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => break,
        }
    }
    let _ = from.shutdown(Shutdown::Both);
    let _ = to.shutdown(Shutdown::Both);
}
