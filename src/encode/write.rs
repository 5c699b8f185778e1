//! The output sink: caller-owned buffers, never an allocation the caller did not choose.

use core::fmt;

/// The output did not fit. `needed` is the total size the whole message needs, so the
/// caller can retry with a buffer at least that large. Nothing was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct BufferTooSmall {
    /// Bytes the message needs.
    pub needed: usize,
}

impl fmt::Display for BufferTooSmall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "buffer too small: {} bytes needed", self.needed)
    }
}

impl core::error::Error for BufferTooSmall {}

/// A byte sink the encoders write into.
///
/// Encoders first compute the exact size, check [`Write::remaining`], and only then
/// write, so a sink that is too small is left untouched.
///
/// Implemented for `&mut [u8]` (advances the slice, like `std::io::Write`),
/// `heapless::Vec<u8, N>`, and with feature `alloc` for `Vec<u8>`.
pub trait Write {
    /// Bytes that can still be written (`usize::MAX` when the sink grows).
    fn remaining(&self) -> usize;

    /// Append `bytes`. Fails, writing nothing, if they do not fit.
    fn write_all(&mut self, bytes: &[u8]) -> Result<(), BufferTooSmall>;
}

impl Write for &mut [u8] {
    fn remaining(&self) -> usize {
        self.len()
    }

    fn write_all(&mut self, bytes: &[u8]) -> Result<(), BufferTooSmall> {
        if bytes.len() > self.len() {
            return Err(BufferTooSmall {
                needed: bytes.len(),
            });
        }
        let (head, tail) = core::mem::take(self).split_at_mut(bytes.len());
        head.copy_from_slice(bytes);
        *self = tail;
        Ok(())
    }
}

impl<const N: usize> Write for heapless::Vec<u8, N> {
    fn remaining(&self) -> usize {
        N - self.len()
    }

    fn write_all(&mut self, bytes: &[u8]) -> Result<(), BufferTooSmall> {
        self.extend_from_slice(bytes).map_err(|_| BufferTooSmall {
            needed: bytes.len(),
        })
    }
}

#[cfg(feature = "alloc")]
impl Write for alloc::vec::Vec<u8> {
    fn remaining(&self) -> usize {
        usize::MAX
    }

    fn write_all(&mut self, bytes: &[u8]) -> Result<(), BufferTooSmall> {
        self.extend_from_slice(bytes);
        Ok(())
    }
}

/// A sink that only counts: the first pass of every encoder.
#[derive(Default)]
pub(crate) struct Counter(pub usize);

impl Write for Counter {
    fn remaining(&self) -> usize {
        usize::MAX
    }

    fn write_all(&mut self, bytes: &[u8]) -> Result<(), BufferTooSmall> {
        self.0 += bytes.len();
        Ok(())
    }
}

/// The decimal digits of `n`: they are `buf[start..]` of the returned `(buf, start)`.
fn decimal(mut n: u32) -> ([u8; 10], usize) {
    let mut buf = [0u8; 10];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return (buf, i);
        }
    }
}

/// Decimal digits of `n` without formatting machinery.
pub(crate) fn write_u32<W: Write + ?Sized>(out: &mut W, n: u32) -> Result<(), BufferTooSmall> {
    let (buf, start) = decimal(n);
    out.write_all(&buf[start..])
}

/// Address and number text appended to a `heapless::String` without `core::fmt`: the
/// endpoint writes sent-by, `received`, `rport`, tags and Call-IDs for every message, and
/// formatting machinery (dynamic dispatch, padding logic) cost it about 8 % of a call.
#[cfg_attr(not(feature = "endpoint"), allow(dead_code))] // the endpoint writes most of these
pub(crate) mod text {
    use core::fmt;
    use core::net::{IpAddr, Ipv4Addr, SocketAddr};
    use heapless::String;

    fn push_digits<const N: usize>(out: &mut String<N>, n: u32) -> fmt::Result {
        let (buf, start) = super::decimal(n);
        for &d in &buf[start..] {
            out.push(char::from(d)).map_err(|_| fmt::Error)?;
        }
        Ok(())
    }

    /// `n` in decimal.
    pub(crate) fn push_u32<const N: usize>(out: &mut String<N>, n: u32) -> fmt::Result {
        push_digits(out, n)
    }

    /// Dotted-quad form (RFC 3986 §3.2.2 `IPv4address`).
    pub(crate) fn push_ipv4<const N: usize>(out: &mut String<N>, a: Ipv4Addr) -> fmt::Result {
        for (i, o) in a.octets().into_iter().enumerate() {
            if i > 0 {
                out.push('.').map_err(|_| fmt::Error)?;
            }
            push_digits(out, u32::from(o))?;
        }
        Ok(())
    }

    /// An address as a URI host or `received` value wants it: IPv4 dotted, IPv6 in the
    /// RFC 5952 text form (core's, rare enough to keep its formatter), without brackets.
    pub(crate) fn push_ip<const N: usize>(out: &mut String<N>, a: IpAddr) -> fmt::Result {
        match a {
            IpAddr::V4(a) => push_ipv4(out, a),
            IpAddr::V6(a) => fmt::Write::write_fmt(out, format_args!("{a}")),
        }
    }

    /// `host:port`, an IPv6 host in brackets (RFC 3261 §25.1 `hostport`).
    pub(crate) fn push_socket_addr<const N: usize>(
        out: &mut String<N>,
        a: SocketAddr,
    ) -> fmt::Result {
        match a {
            SocketAddr::V4(a) => push_ipv4(out, *a.ip())?,
            SocketAddr::V6(a) => fmt::Write::write_fmt(out, format_args!("[{}]", a.ip()))?,
        }
        out.push(':').map_err(|_| fmt::Error)?;
        push_digits(out, u32::from(a.port()))
    }

    /// 16 lowercase hex digits.
    pub(crate) fn push_hex64<const N: usize>(out: &mut String<N>, n: u64) -> fmt::Result {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        for shift in (0..16).rev() {
            let d = HEX[((n >> (shift * 4)) & 0xf) as usize];
            out.push(char::from(d)).map_err(|_| fmt::Error)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slice_sink_advances_and_refuses_overflow() {
        let mut buf = [0u8; 5];
        let mut w: &mut [u8] = &mut buf;
        w.write_all(b"abc").unwrap();
        assert_eq!(w.remaining(), 2);
        assert_eq!(w.write_all(b"xyz"), Err(BufferTooSmall { needed: 3 }));
        w.write_all(b"de").unwrap();
        assert_eq!(&buf, b"abcde");
    }

    #[test]
    fn numbers() {
        let mut v: heapless::Vec<u8, 32> = heapless::Vec::new();
        for n in [0, 7, 10, 4_294_967_295] {
            write_u32(&mut v, n).unwrap();
            v.write_all(b" ").unwrap();
        }
        assert_eq!(&v[..], b"0 7 10 4294967295 ");
    }

    #[test]
    fn text_matches_core_formatting() {
        use core::fmt::Write as _;
        use core::net::{IpAddr, SocketAddr};
        let addrs: [SocketAddr; 5] = [
            "0.0.0.0:0".parse().unwrap(),
            "127.0.0.1:5060".parse().unwrap(),
            "255.255.255.255:65535".parse().unwrap(),
            "10.20.3.199:7".parse().unwrap(),
            "[2001:db8::1]:5061".parse().unwrap(),
        ];
        for a in addrs {
            let mut ours: heapless::String<64> = heapless::String::new();
            let mut core: heapless::String<64> = heapless::String::new();
            text::push_socket_addr(&mut ours, a).unwrap();
            write!(core, "{a}").unwrap();
            assert_eq!(ours, core);
            ours.clear();
            core.clear();
            text::push_ip(&mut ours, a.ip()).unwrap();
            write!(core, "{}", a.ip()).unwrap();
            assert_eq!(ours, core);
        }
        for n in [0u64, 1, 0xdead_beef, u64::MAX, 0x0123_4567_89ab_cdef] {
            let mut ours: heapless::String<16> = heapless::String::new();
            let mut core: heapless::String<16> = heapless::String::new();
            text::push_hex64(&mut ours, n).unwrap();
            write!(core, "{n:016x}").unwrap();
            assert_eq!(ours, core);
        }
        let mut small: heapless::String<8> = heapless::String::new();
        let ip: IpAddr = "192.168.100.200".parse().unwrap();
        assert!(
            text::push_ip(&mut small, ip).is_err(),
            "capacity is reported"
        );
        let mut n: heapless::String<10> = heapless::String::new();
        text::push_u32(&mut n, u32::MAX).unwrap();
        assert_eq!(n, "4294967295");
    }
}
