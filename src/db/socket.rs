//! Finds the socket a new PostgreSQL connection uses, so the watchdog can cut it. libpq owns
//! the socket and diesel does not expose it; the kernel does: `/proc/self/fd` names each open
//! socket by inode, and `/proc/self/net/{tcp,tcp6}` give each one's remote port. The socket
//! that appears while a connection opens, connected to a port the URL names, is that
//! connection's; opens to one URL take turns, so two never see each other's socket. Elsewhere
//! than Linux, or when it cannot be told, nothing is found and calls rely on the TCP timeouts.

use std::collections::{HashMap, HashSet};
use std::os::fd::RawFd;
use std::sync::{Arc, Mutex};

/// One lock per URL, held while a connection to it opens.
static OPENING: Mutex<Option<HashMap<String, Arc<Mutex<()>>>>> = Mutex::new(None);

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs `open` (which connects to `url`, at one of `ports`) and returns its result with the
/// file descriptor of the socket it created, when exactly one can be told apart.
pub fn opened_with_socket<T, E>(
    url: &str,
    ports: &[u16],
    open: impl FnOnce() -> Result<T, E>,
) -> Result<(T, Option<RawFd>), E> {
    let turn = {
        let mut locks = lock(&OPENING);
        Arc::clone(
            locks
                .get_or_insert_with(HashMap::new)
                .entry(url.to_owned())
                .or_default(),
        )
    };
    let _turn = lock(&turn);
    let before = socket_fds();
    let value = open()?;
    let remote_ports: HashMap<u64, u16> = tcp_rows()
        .into_iter()
        .map(|row| (row.inode, row.remote_port))
        .collect();
    let mut ours = socket_fds()
        .into_iter()
        .filter(|entry| !before.contains(entry))
        .filter(|(_, inode)| remote_ports.get(inode).is_some_and(|p| ports.contains(p)));
    let fd = match (ours.next(), ours.next()) {
        (Some((fd, _)), None) => Some(fd),
        _ => None,
    };
    Ok((value, fd))
}

/// Every open socket as (descriptor, inode).
fn socket_fds() -> HashSet<(RawFd, u64)> {
    let Ok(entries) = std::fs::read_dir("/proc/self/fd") else {
        return HashSet::new();
    };
    entries
        .flatten()
        .filter_map(|entry| {
            let fd: RawFd = entry.file_name().to_str()?.parse().ok()?;
            let target = std::fs::read_link(entry.path()).ok()?;
            let inode = target
                .to_str()?
                .strip_prefix("socket:[")?
                .strip_suffix(']')?
                .parse()
                .ok()?;
            Some((fd, inode))
        })
        .collect()
}

struct TcpRow {
    remote_port: u16,
    inode: u64,
}

/// The rows of `/proc/self/net/tcp{,6}`.
fn tcp_rows() -> Vec<TcpRow> {
    ["/proc/self/net/tcp", "/proc/self/net/tcp6"]
        .iter()
        .filter_map(|path| std::fs::read_to_string(path).ok())
        .flat_map(|table| {
            table
                .lines()
                .skip(1)
                .filter_map(parse_tcp_row)
                .collect::<Vec<_>>()
        })
        .collect()
}

/// `sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ...`
fn parse_tcp_row(line: &str) -> Option<TcpRow> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    let remote_port = u16::from_str_radix(fields.get(2)?.rsplit(':').next()?, 16).ok()?;
    let inode = fields.get(9)?.parse().ok()?;
    Some(TcpRow { remote_port, inode })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tcp_row_gives_the_remote_port_and_inode() {
        let row = "   3: 0100007F:D2A4 0100007F:1F40 01 00000000:00000000 00:00000000 00000000     0        0 123456 1 0000000000000000 20 4 30 10 -1";
        let row = parse_tcp_row(row).unwrap_or_else(|| panic!("not parsed"));
        assert_eq!((row.remote_port, row.inode), (8000, 123456));
    }

    #[test]
    fn the_socket_of_a_new_client_connection_is_found() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
        let address = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
        let (client, fd) = opened_with_socket("test", &[address.port()], || {
            std::net::TcpStream::connect(address)
        })
        .unwrap_or_else(|e| panic!("{e}"));
        let (_accepted, _) = listener.accept().unwrap_or_else(|e| panic!("{e}"));
        use std::os::fd::AsRawFd;
        assert_eq!(fd, Some(client.as_raw_fd()));
    }
}
