//! The sockets of the `uas` and `uac` examples: UDP, or TCP with the host's share of
//! RFC 3261 §18 for a stream transport. The endpoint never sees a socket: it takes whole
//! messages (`handle_datagram`) and gives messages with a destination (`poll_transmit`).
//! Over TCP this host frames the byte stream into messages (`Message::parse_stream`,
//! Content-Length, RFC 3261 §18.3), answers RFC 5626 keep-alive pings, sends each message
//! on the connection it has with the destination (a response goes back on the
//! connection its request came on, §18.2.2, since its destination is that connection's
//! peer), and opens a connection to a destination it has none with (§18.1.1).

use std::collections::VecDeque;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use sansip::message::{Framed, KeepAlive, Limits, Message};

/// Most bytes a TCP connection buffers without a whole message in them: a peer sending
/// more is cut off (bad input must not grow memory without bound).
const MAX_PENDING: usize = 256 * 1024;

/// One open TCP connection and the bytes read from it not yet framed.
pub struct Conn {
    stream: TcpStream,
    peer: SocketAddr,
    pending: Vec<u8>,
    /// The length of the message at the front of `pending`, once its header section has
    /// been framed: until that many bytes are held, framing again would only re-read it.
    awaiting: usize,
}

/// The examples' transport.
pub enum Net {
    /// One UDP socket; `blocking` is its current mode, so that it is switched only when
    /// it has to be (one system call each).
    Udp { socket: UdpSocket, blocking: bool },
    /// A TCP listener and the connections, accepted or opened.
    Tcp {
        listener: TcpListener,
        conns: Vec<Conn>,
        /// Messages framed and not handed out yet.
        ready: VecDeque<(SocketAddr, Vec<u8>)>,
    },
}

impl Net {
    /// Bind `addr`, over TCP when `tcp`.
    pub fn bind(addr: SocketAddr, tcp: bool) -> Result<Self, String> {
        if tcp {
            let listener = TcpListener::bind(addr).map_err(|e| format!("bind {addr}: {e}"))?;
            listener
                .set_nonblocking(true)
                .map_err(|e| format!("set_nonblocking: {e}"))?;
            Ok(Net::Tcp {
                listener,
                conns: Vec::new(),
                ready: VecDeque::new(),
            })
        } else {
            let socket = UdpSocket::bind(addr).map_err(|e| format!("bind {addr}: {e}"))?;
            Ok(Net::Udp {
                socket,
                blocking: true,
            })
        }
    }

    /// The address bound.
    pub fn local_addr(&self) -> Result<SocketAddr, String> {
        match self {
            Net::Udp { socket, .. } => socket.local_addr(),
            Net::Tcp { listener, .. } => listener.local_addr(),
        }
        .map_err(|e| format!("local address: {e}"))
    }

    /// Whether this is a stream transport (TCP), where a failed send is the host's to
    /// report (`Endpoint::handle_send_error`).
    pub fn is_stream(&self) -> bool {
        matches!(self, Net::Tcp { .. })
    }

    /// Send one message to `to`. A failure is not the host's to fix (UDP is lossy; a TCP
    /// peer that went away is the transaction's timeout), so it is only reported.
    pub fn send(&mut self, to: SocketAddr, bytes: &[u8]) -> Result<(), String> {
        match self {
            Net::Udp { socket, .. } => socket
                .send_to(bytes, to)
                .map(drop)
                .map_err(|e| format!("send to {to}: {e}")),
            Net::Tcp { conns, .. } => {
                let i = match conns.iter().position(|c| c.peer == to) {
                    Some(i) => i,
                    None => {
                        let stream = TcpStream::connect_timeout(&to, Duration::from_secs(2))
                            .map_err(|e| format!("connect to {to}: {e}"))?;
                        stream
                            .set_nonblocking(true)
                            .map_err(|e| format!("set_nonblocking: {e}"))?;
                        let _ = stream.set_nodelay(true);
                        conns.push(Conn {
                            stream,
                            peer: to,
                            pending: Vec::new(),
                            awaiting: 0,
                        });
                        conns.len() - 1
                    }
                };
                let sent = write_all(&mut conns[i].stream, bytes);
                if sent.is_err() {
                    conns.swap_remove(i);
                }
                sent.map_err(|e| format!("send to {to}: {e}"))
            }
        }
    }

    /// The next message received into `buf`, with its source: waiting at most `wait`
    /// for it (`None`: take only what is there already). Over TCP the source is the
    /// connection's peer.
    pub fn recv(&mut self, buf: &mut [u8], wait: Option<Duration>) -> Option<(usize, SocketAddr)> {
        match self {
            Net::Udp { socket, blocking } => {
                match wait {
                    Some(w) => {
                        if !*blocking {
                            socket.set_nonblocking(false).ok()?;
                            *blocking = true;
                        }
                        socket
                            .set_read_timeout(Some(w.max(Duration::from_millis(1))))
                            .ok()?;
                    }
                    None if *blocking => {
                        socket.set_nonblocking(true).ok()?;
                        *blocking = false;
                    }
                    None => {}
                }
                // Timeout, would-block, or an ICMP error from an earlier send: nothing.
                socket.recv_from(buf).ok()
            }
            Net::Tcp {
                listener,
                conns,
                ready,
            } => {
                let deadline = wait.map(|w| Instant::now() + w);
                loop {
                    if let Some((from, msg)) = ready.pop_front() {
                        let n = msg.len().min(buf.len());
                        buf[..n].copy_from_slice(&msg[..n]);
                        return Some((n, from));
                    }
                    poll_tcp(listener, conns, ready);
                    if !ready.is_empty() {
                        continue;
                    }
                    match deadline {
                        Some(d) if Instant::now() < d => {
                            std::thread::sleep(Duration::from_millis(1))
                        }
                        _ => return None,
                    }
                }
            }
        }
    }
}

/// Write all of `bytes` to a non-blocking stream, waiting out a full send buffer.
fn write_all(stream: &mut TcpStream, mut bytes: &[u8]) -> std::io::Result<()> {
    let give_up = Instant::now() + Duration::from_secs(2);
    while !bytes.is_empty() {
        match stream.write(bytes) {
            Ok(0) => return Err(ErrorKind::WriteZero.into()),
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e.kind() == ErrorKind::WouldBlock && Instant::now() < give_up => {
                std::thread::sleep(Duration::from_micros(200));
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Accept new connections, read what every connection has, and frame whole messages
/// into `ready`. A connection that closed, failed, or sent what cannot be framed is
/// dropped (§18.3: a stream without Content-Length cannot be resynchronised).
fn poll_tcp(
    listener: &TcpListener,
    conns: &mut Vec<Conn>,
    ready: &mut VecDeque<(SocketAddr, Vec<u8>)>,
) {
    while let Ok((stream, peer)) = listener.accept() {
        if stream.set_nonblocking(true).is_ok() {
            let _ = stream.set_nodelay(true);
            conns.push(Conn {
                stream,
                peer,
                pending: Vec::new(),
                awaiting: 0,
            });
        }
    }
    let mut chunk = [0u8; 16 * 1024];
    let limits = Limits::default();
    // Each chunk read is framed at once, so that the bytes kept unframed stay within
    // MAX_PENDING however fast the peer sends.
    conns.retain_mut(|c| {
        loop {
            match c.stream.read(&mut chunk) {
                Ok(0) => return false,
                Ok(n) => c.pending.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => return true,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(_) => return false,
            }
            if !frame(c, &limits, ready) || c.pending.len() > MAX_PENDING {
                return false;
            }
        }
    });
}

/// Move every whole message of `c.pending` to `ready` and answer its keep-alive pings;
/// `false` when the stream cannot be framed (or a pong cannot be written).
fn frame(c: &mut Conn, limits: &Limits, ready: &mut VecDeque<(SocketAddr, Vec<u8>)>) -> bool {
    if c.pending.len() < c.awaiting {
        return true;
    }
    c.awaiting = 0;
    let mut used_all = 0;
    loop {
        match Message::parse_stream(&c.pending[used_all..], limits) {
            Ok(Framed::Message(_, used)) => {
                ready.push_back((c.peer, c.pending[used_all..used_all + used].to_vec()));
                used_all += used;
            }
            Ok(Framed::KeepAlive(kind, used)) => {
                // RFC 5626 §3.5.1: a ping (CRLF CRLF) is answered with a pong (CRLF).
                if kind == KeepAlive::Ping && write_all(&mut c.stream, b"\r\n").is_err() {
                    return false;
                }
                used_all += used;
            }
            Ok(Framed::Incomplete { total }) => {
                c.awaiting = total.unwrap_or(0);
                break;
            }
            Err(_) => return false,
        }
    }
    c.pending.drain(..used_all);
    true
}
