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

/// Decimal digits of `n` without formatting machinery.
pub(crate) fn write_u32<W: Write + ?Sized>(out: &mut W, n: u32) -> Result<(), BufferTooSmall> {
    let mut buf = [0u8; 10];
    let mut i = buf.len();
    let mut n = n;
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.write_all(&buf[i..])
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
}
