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

/// Where a message goes once its size is known to fit: piece by piece, with a failure
/// (which the size check rules out) remembered rather than returned at every piece.
pub(crate) trait Out {
    /// Append `bytes`.
    fn put(&mut self, bytes: &[u8]);

    /// Append `n` in decimal.
    fn put_u32(&mut self, n: u32) {
        let (buf, start) = decimal(n);
        self.put(&buf[start..]);
    }

    /// Append `a` then `b` (most pieces of a message come in pairs with a short
    /// constant: a name and `: `, a value and CRLF).
    #[inline(always)]
    fn put2(&mut self, a: &[u8], b: &[u8]) {
        self.put(a);
        self.put(b);
    }

    /// Append `n` in decimal, then `tail` (a number and the space or CRLF after it).
    #[inline(always)]
    fn put_u32_then(&mut self, n: u32, tail: &[u8]) {
        self.put_u32(n);
        self.put(tail);
    }
}

impl Out for Counter {
    fn put(&mut self, bytes: &[u8]) {
        self.0 += bytes.len();
    }
}

/// Any [`Write`] sink as an [`Out`]: the first error is kept and nothing more written.
pub(crate) struct Sink<'w, W: Write + ?Sized> {
    pub(crate) out: &'w mut W,
    pub(crate) error: Option<BufferTooSmall>,
}

impl<W: Write + ?Sized> Out for Sink<'_, W> {
    fn put(&mut self, bytes: &[u8]) {
        if self.error.is_none()
            && let Err(e) = self.out.write_all(bytes)
        {
            self.error = Some(e);
        }
    }
}

/// A slice of exactly the message's size, written by index: no capacity bookkeeping per
/// piece, and short pieces copied in place rather than by a call to `memcpy`.
pub(crate) struct Cursor<'b> {
    /// What is still to be written.
    rest: &'b mut [u8],
    len: usize,
    /// A piece did not fit (the size was miscounted) and was dropped.
    pub(crate) short: bool,
}

impl<'b> Cursor<'b> {
    pub(crate) fn new(buf: &'b mut [u8]) -> Self {
        Cursor {
            len: buf.len(),
            rest: buf,
            short: false,
        }
    }

    /// Bytes written.
    pub(crate) fn written(&self) -> usize {
        self.len - self.rest.len()
    }

    /// The next `n` bytes to write, advancing past them; `None` (and `short`) if they do
    /// not fit. One comparison: the slice left shrinks from the front.
    #[inline(always)]
    fn take(&mut self, n: usize) -> Option<&'b mut [u8]> {
        if n > self.rest.len() {
            self.short = true;
            return None;
        }
        let (dst, rest) = core::mem::take(&mut self.rest).split_at_mut(n);
        self.rest = rest;
        Some(dst)
    }
}

impl Out for Cursor<'_> {
    #[inline(always)]
    fn put(&mut self, bytes: &[u8]) {
        if let Some(dst) = self.take(bytes.len()) {
            copy(dst, bytes);
        }
    }

    /// One bounds check for both pieces.
    #[inline(always)]
    fn put2(&mut self, a: &[u8], b: &[u8]) {
        if let Some(dst) = self.take(a.len() + b.len()) {
            let (da, db) = dst.split_at_mut(a.len());
            copy(da, a);
            copy(db, b);
        }
    }

    #[inline]
    fn put_u32(&mut self, mut n: u32) {
        let len = n.checked_ilog10().map_or(1, |d| d as usize + 1);
        if let Some(dst) = self.take(len) {
            for d in dst.iter_mut().rev() {
                *d = b'0' + (n % 10) as u8;
                n /= 10;
            }
        }
    }

    /// One bounds check for both, and the digits of a number under 100 (Max-Forwards,
    /// most CSeqs) counted by comparison.
    #[inline(always)]
    fn put_u32_then(&mut self, mut n: u32, tail: &[u8]) {
        let len = if n < 10 {
            1
        } else if n < 100 {
            2
        } else {
            n.checked_ilog10().map_or(1, |d| d as usize + 1)
        };
        if let Some(dst) = self.take(len + tail.len()) {
            let (digits, rest) = dst.split_at_mut(len.min(dst.len()));
            for d in digits.iter_mut().rev() {
                *d = b'0' + (n % 10) as u8;
                n /= 10;
            }
            copy(rest, tail);
        }
    }
}

/// `dst.copy_from_slice(src)` for slices of one length. Most pieces of a message are
/// at most 32 bytes long: they are copied by two overlapping moves each, not by a call
/// to `memcpy` that costs more than the copy.
#[inline(always)]
fn copy(dst: &mut [u8], src: &[u8]) {
    let n = src.len();
    // Callers pass equal lengths; saying so lets the compiler drop the bounds checks.
    if n != dst.len() {
        return;
    }
    if n >= 8 {
        if n <= 16 {
            dst[..8].copy_from_slice(&src[..8]);
            dst[n - 8..].copy_from_slice(&src[n - 8..]);
        } else if n <= 32 {
            // URIs, branches, tags and Call-IDs: two overlapping 16-byte moves.
            dst[..16].copy_from_slice(&src[..16]);
            dst[n - 16..].copy_from_slice(&src[n - 16..]);
        } else {
            dst.copy_from_slice(src);
        }
    } else if n >= 4 {
        dst[..4].copy_from_slice(&src[..4]);
        dst[n - 4..].copy_from_slice(&src[n - 4..]);
    } else if n > 0 {
        // One to three bytes: first, middle and last cover them all.
        dst[0] = src[0];
        dst[n / 2] = src[n / 2];
        dst[n - 1] = src[n - 1];
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

    /// Dotted-quad form (RFC 3986 §3.2.2 `IPv4address`). Each octet's digits pushed as
    /// they are worked out: going through [`decimal`]'s ten-byte buffer and loop cost
    /// a `received` or a transaction key tens of instructions.
    pub(crate) fn push_ipv4<const N: usize>(out: &mut String<N>, a: Ipv4Addr) -> fmt::Result {
        for (i, o) in a.octets().into_iter().enumerate() {
            if i > 0 {
                out.push('.').map_err(|_| fmt::Error)?;
            }
            if o >= 100 {
                push_digit(out, o / 100)?;
            }
            if o >= 10 {
                push_digit(out, o / 10 % 10)?;
            }
            push_digit(out, o % 10)?;
        }
        Ok(())
    }

    /// The digit `d` (0 to 9).
    #[inline(always)]
    fn push_digit<const N: usize>(out: &mut String<N>, d: u8) -> fmt::Result {
        out.push(char::from(b'0' + d)).map_err(|_| fmt::Error)
    }

    /// [`push_ipv4`] as it was, through [`decimal`]: the reference it is compared with.
    #[cfg(test)]
    pub(crate) fn push_ipv4_reference<const N: usize>(
        out: &mut String<N>,
        a: Ipv4Addr,
    ) -> fmt::Result {
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

    /// 16 lowercase hex digits. Made eight at a time in a word (every tag, branch and
    /// Call-ID has them) and pushed at once; without room for all sixteen, digit by
    /// digit as far as they fit, as before.
    pub(crate) fn push_hex64<const N: usize>(out: &mut String<N>, n: u64) -> fmt::Result {
        if N - out.len() < 16 {
            return push_hex64_digitwise(out, n);
        }
        let mut digits = [0u8; 16];
        digits[..8].copy_from_slice(&hex8(n >> 32).to_be_bytes());
        digits[8..].copy_from_slice(&hex8(n & 0xffff_ffff).to_be_bytes());
        // Hex digits are ASCII.
        let text = core::str::from_utf8(&digits).map_err(|_| fmt::Error)?;
        out.push_str(text).map_err(|_| fmt::Error)
    }

    /// The eight hex digits of the low 32 bits of `x`, most significant in the top byte.
    #[inline(always)]
    fn hex8(x: u64) -> u64 {
        const ONES: u64 = 0x0101_0101_0101_0101;
        // One nibble per byte: 0x12345678 becomes 0x0102030405060708.
        let x = (x | (x << 16)) & 0x0000_ffff_0000_ffff;
        let x = (x | (x << 8)) & 0x00ff_00ff_00ff_00ff;
        let x = (x | (x << 4)) & 0x0f0f_0f0f_0f0f_0f0f;
        // A byte of 10 or more reaches 16 with 6 added (no byte carries: at most 21).
        let letters = ((x + 6 * ONES) >> 4) & ONES;
        // '0' + d, and 'a' - '0' - 10 = 39 more for a letter.
        x + b'0' as u64 * ONES + 39 * letters
    }

    /// [`push_hex64`] a digit at a time: the reference it is compared with, and the
    /// way for a string without room for all sixteen.
    pub(crate) fn push_hex64_digitwise<const N: usize>(out: &mut String<N>, n: u64) -> fmt::Result {
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

    /// Every tag the endpoint makes (16 hex digits, `Endpoint::random_tag`) passes the
    /// writer's check, as the From of its requests is pushed trusting it.
    #[test]
    #[cfg(feature = "endpoint")]
    fn made_tags_pass_the_check() {
        use crate::encode::Value;
        let mut n = 0x0123_4567_89ab_cdef_u64;
        for _ in 0..10_000 {
            n = n
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            for m in [n, 0, u64::MAX, n >> 32] {
                let mut tag = heapless::String::<16>::new();
                text::push_hex64(&mut tag, m).unwrap();
                let value = Value::Tagged(b"<sip:a@b>", &tag);
                assert!(crate::encode::value_may_be_written(&value), "{tag}");
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(5000))]

        /// The dotted quad digit by digit equals the one through `decimal`, whatever is
        /// already in the string and however little room is left (then both fail and
        /// leave the same prefix).
        #[test]
        fn ipv4_as_reference(
            octets in proptest::array::uniform4(proptest::prop_oneof![
                0u8..=9, 10u8..=99, 100u8..=255, proptest::strategy::Just(0u8),
                proptest::strategy::Just(255u8),
            ]),
            prefix in 0usize..24,
        ) {
            let a = core::net::Ipv4Addr::from(octets);
            let mut new: heapless::String<24> = heapless::String::new();
            let mut old: heapless::String<24> = heapless::String::new();
            for _ in 0..prefix {
                new.push('x').unwrap();
                old.push('x').unwrap();
            }
            let n = text::push_ipv4(&mut new, a);
            let o = text::push_ipv4_reference(&mut old, a);
            proptest::prop_assert_eq!(n, o);
            proptest::prop_assert_eq!(new.as_str(), old.as_str());
            if n.is_ok() {
                let mut core_text: heapless::String<24> = heapless::String::new();
                fmt::Write::write_fmt(&mut core_text, format_args!("{a}")).unwrap();
                proptest::prop_assert_eq!(&new[prefix..], core_text.as_str());
            }
        }
    }

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
        // Through any sink, and by index.
        let mut v: heapless::Vec<u8, 32> = heapless::Vec::new();
        let mut sink = Sink {
            out: &mut v,
            error: None,
        };
        let mut buf = [0u8; 18];
        let mut cursor = Cursor::new(&mut buf);
        for n in [0, 7, 10, 4_294_967_295] {
            sink.put_u32(n);
            sink.put(b" ");
            cursor.put_u32(n);
            cursor.put(b" ");
        }
        assert!(sink.error.is_none() && !cursor.short);
        assert_eq!(&v[..], b"0 7 10 4294967295 ");
        assert_eq!(&buf, b"0 7 10 4294967295 ");
    }

    /// Pieces of every length up to 40 land where they belong, and one that does not
    /// fit is dropped and marks the cursor short.
    #[test]
    fn cursor_copies_every_length() {
        let src: std::vec::Vec<u8> = (1..=80).collect();
        for len in 0..=80 {
            let mut buf = [0u8; 83];
            let mut c = Cursor::new(&mut buf);
            c.put(b"<");
            c.put(&src[..len]);
            c.put(b">");
            assert_eq!(c.written(), len + 2);
            assert!(!c.short);
            assert_eq!(&buf[..len + 2], [&b"<"[..], &src[..len], b">"].concat());
            assert!(buf[len + 2..].iter().all(|&b| b == 0));
        }
        let mut buf = [0u8; 4];
        let mut c = Cursor::new(&mut buf);
        c.put(b"abc");
        c.put(b"de");
        assert!(c.short);
        assert_eq!(c.written(), 3);
        assert_eq!(&buf, b"abc\0");
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
        // The word-at-a-time digits are the digit-by-digit ones, for every nibble value
        // in every position and pseudo-random words; so is what a short string is left
        // holding, and the error.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for i in 0..4096u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let n = if i < 256 {
                (i % 16) << (4 * (i / 16))
            } else {
                x
            };
            let mut ours: heapless::String<17> = heapless::String::new();
            let mut reference: heapless::String<17> = heapless::String::new();
            ours.push('@').unwrap();
            reference.push('@').unwrap();
            text::push_hex64(&mut ours, n).unwrap();
            text::push_hex64_digitwise(&mut reference, n).unwrap();
            assert_eq!(ours, reference, "{n:x}");
            let mut short: heapless::String<9> = heapless::String::new();
            let mut short_reference: heapless::String<9> = heapless::String::new();
            assert_eq!(
                text::push_hex64(&mut short, n),
                text::push_hex64_digitwise(&mut short_reference, n)
            );
            assert_eq!(short, short_reference);
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
