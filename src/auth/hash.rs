//! MD5 (RFC 1321) and SHA-256 (FIPS 180-4), the digest algorithms of RFC 2617 and RFC 8760,
//! as small streaming hashers: no allocation, no tables beyond the round constants.
//!
//! MD5 is broken for collision resistance; Digest authentication still names it and most
//! SIP servers still send it, which is the only reason it is here.

/// A streaming hasher over one of the two algorithms.
#[derive(Clone)]
pub(crate) enum Hasher {
    Md5(Md5),
    Sha256(Sha256),
}

impl Hasher {
    pub(crate) fn md5() -> Self {
        Hasher::Md5(Md5::new())
    }

    pub(crate) fn sha256() -> Self {
        Hasher::Sha256(Sha256::new())
    }

    pub(crate) fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Md5(h) => h.block.update(data, &mut h.state),
            Hasher::Sha256(h) => h.block.update(data, &mut h.state),
        }
    }

    /// The digest as lowercase hex in `out`; returns the hex length (32 or 64).
    pub(crate) fn finish_hex(self, out: &mut [u8; 64]) -> usize {
        let mut raw = [0u8; 32];
        let n = match self {
            Hasher::Md5(h) => {
                raw[..16].copy_from_slice(&h.finish());
                16
            }
            Hasher::Sha256(h) => {
                raw.copy_from_slice(&h.finish());
                32
            }
        };
        const HEX: &[u8; 16] = b"0123456789abcdef";
        for (i, b) in raw[..n].iter().enumerate() {
            out[2 * i] = HEX[usize::from(b >> 4)];
            out[2 * i + 1] = HEX[usize::from(b & 0xf)];
        }
        2 * n
    }
}

/// The 64-byte block buffer and length counter both algorithms share (Merkle–Damgård).
#[derive(Clone)]
struct Blocks<S> {
    buf: [u8; 64],
    len: usize,
    total: u64,
    compress: fn(&mut S, &[u8; 64]),
}

impl<S> Blocks<S> {
    const fn new(compress: fn(&mut S, &[u8; 64])) -> Self {
        Blocks {
            buf: [0; 64],
            len: 0,
            total: 0,
            compress,
        }
    }

    fn update(&mut self, mut data: &[u8], state: &mut S) {
        self.total = self.total.wrapping_add(data.len() as u64);
        if self.len > 0 {
            let take = (64 - self.len).min(data.len());
            self.buf[self.len..self.len + take].copy_from_slice(&data[..take]);
            self.len += take;
            data = &data[take..];
            if self.len < 64 {
                return;
            }
            let block = self.buf;
            (self.compress)(state, &block);
            self.len = 0;
        }
        let mut chunks = data.chunks_exact(64);
        for c in &mut chunks {
            let mut block = [0u8; 64];
            block.copy_from_slice(c);
            (self.compress)(state, &block);
        }
        let rest = chunks.remainder();
        self.buf[..rest.len()].copy_from_slice(rest);
        self.len = rest.len();
    }

    /// Pad with 0x80, zeros and the bit length (little- or big-endian) and compress.
    fn pad(&mut self, state: &mut S, big_endian: bool) {
        let bits = self.total.wrapping_mul(8);
        let len = if big_endian {
            bits.to_be_bytes()
        } else {
            bits.to_le_bytes()
        };
        let mut tail = [0u8; 72];
        tail[0] = 0x80;
        // Room so that the length ends a block: 1..=64 padding bytes, then 8.
        let pad = if self.len < 56 {
            56 - self.len
        } else {
            120 - self.len
        };
        tail[pad..pad + 8].copy_from_slice(&len);
        let total = self.total;
        self.update(&tail[..pad + 8], state);
        self.total = total;
    }
}

/// MD5 (RFC 1321).
#[derive(Clone)]
pub(crate) struct Md5 {
    state: [u32; 4],
    block: Blocks<[u32; 4]>,
}

/// Per-round shift amounts and the sine-derived constants of RFC 1321 §3.4.
const MD5_S: [u32; 64] = [
    7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9,
    14, 20, 5, 9, 14, 20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10, 15,
    21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
];
const MD5_K: [u32; 64] = [
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
];

fn md5_compress(state: &mut [u32; 4], block: &[u8; 64]) {
    let mut m = [0u32; 16];
    for (i, w) in m.iter_mut().enumerate() {
        *w = u32::from_le_bytes([
            block[4 * i],
            block[4 * i + 1],
            block[4 * i + 2],
            block[4 * i + 3],
        ]);
    }
    let [mut a, mut b, mut c, mut d] = *state;
    for i in 0..64 {
        let (f, g) = match i / 16 {
            0 => ((b & c) | (!b & d), i),
            1 => ((d & b) | (!d & c), (5 * i + 1) % 16),
            2 => (b ^ c ^ d, (3 * i + 5) % 16),
            _ => (c ^ (b | !d), (7 * i) % 16),
        };
        let t = a
            .wrapping_add(f)
            .wrapping_add(MD5_K[i])
            .wrapping_add(m[g])
            .rotate_left(MD5_S[i]);
        a = d;
        d = c;
        c = b;
        b = b.wrapping_add(t);
    }
    for (s, v) in state.iter_mut().zip([a, b, c, d]) {
        *s = s.wrapping_add(v);
    }
}

impl Md5 {
    pub(crate) fn new() -> Self {
        Md5 {
            state: [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476],
            block: Blocks::new(md5_compress),
        }
    }

    fn finish(mut self) -> [u8; 16] {
        self.block.pad(&mut self.state, false);
        let mut out = [0u8; 16];
        for (i, w) in self.state.iter().enumerate() {
            out[4 * i..4 * i + 4].copy_from_slice(&w.to_le_bytes());
        }
        out
    }
}

/// SHA-256 (FIPS 180-4 §6.2).
#[derive(Clone)]
pub(crate) struct Sha256 {
    state: [u32; 8],
    block: Blocks<[u32; 8]>,
}

/// The first 32 bits of the fractional parts of the cube roots of the first 64 primes.
const SHA256_K: [u32; 64] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

fn sha256_compress(state: &mut [u32; 8], block: &[u8; 64]) {
    let mut w = [0u32; 64];
    for i in 0..16 {
        w[i] = u32::from_be_bytes([
            block[4 * i],
            block[4 * i + 1],
            block[4 * i + 2],
            block[4 * i + 3],
        ]);
    }
    for i in 16..64 {
        let s0 = w[i - 15].rotate_right(7) ^ w[i - 15].rotate_right(18) ^ (w[i - 15] >> 3);
        let s1 = w[i - 2].rotate_right(17) ^ w[i - 2].rotate_right(19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16]
            .wrapping_add(s0)
            .wrapping_add(w[i - 7])
            .wrapping_add(s1);
    }
    let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut h] = *state;
    for i in 0..64 {
        let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
        let ch = (e & f) ^ (!e & g);
        let t1 = h
            .wrapping_add(s1)
            .wrapping_add(ch)
            .wrapping_add(SHA256_K[i])
            .wrapping_add(w[i]);
        let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
        let maj = (a & b) ^ (a & c) ^ (b & c);
        let t2 = s0.wrapping_add(maj);
        h = g;
        g = f;
        f = e;
        e = d.wrapping_add(t1);
        d = c;
        c = b;
        b = a;
        a = t1.wrapping_add(t2);
    }
    for (s, v) in state.iter_mut().zip([a, b, c, d, e, f, g, h]) {
        *s = s.wrapping_add(v);
    }
}

impl Sha256 {
    pub(crate) fn new() -> Self {
        Sha256 {
            state: [
                0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
                0x5be0cd19,
            ],
            block: Blocks::new(sha256_compress),
        }
    }

    fn finish(mut self) -> [u8; 32] {
        self.block.pad(&mut self.state, true);
        let mut out = [0u8; 32];
        for (i, w) in self.state.iter().enumerate() {
            out[4 * i..4 * i + 4].copy_from_slice(&w.to_be_bytes());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(mut h: Hasher, parts: &[&[u8]]) -> heapless::String<64> {
        for p in parts {
            h.update(p);
        }
        let mut out = [0u8; 64];
        let n = h.finish_hex(&mut out);
        heapless::String::try_from(core::str::from_utf8(&out[..n]).unwrap()).unwrap()
    }

    #[test]
    fn md5_rfc1321_test_suite() {
        // RFC 1321 appendix A.5.
        let cases: [(&str, &str); 7] = [
            ("", "d41d8cd98f00b204e9800998ecf8427e"),
            ("a", "0cc175b9c0f1b6a831c399e269772661"),
            ("abc", "900150983cd24fb0d6963f7d28e17f72"),
            ("message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
            (
                "abcdefghijklmnopqrstuvwxyz",
                "c3fcd3d76192e4007dfb496cca67e13b",
            ),
            (
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
                "d174ab98d277d9f5a5611c2c9f419d9f",
            ),
            (
                "12345678901234567890123456789012345678901234567890123456789012345678901234567890",
                "57edf4a22be3c955ac49da2e2107b67a",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(hex(Hasher::md5(), &[input.as_bytes()]), want, "{input:?}");
        }
    }

    #[test]
    fn sha256_fips_examples() {
        // FIPS 180-2 appendix B.1, B.2, and one million 'a' (B.3).
        assert_eq!(
            hex(Hasher::sha256(), &[b"abc"]),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            hex(
                Hasher::sha256(),
                &[b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"]
            ),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        );
        let mut h = Hasher::sha256();
        for _ in 0..1000 {
            h.update(&[b'a'; 1000]);
        }
        assert_eq!(
            hex(h, &[]),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
        );
        assert_eq!(
            hex(Hasher::sha256(), &[b""]),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn split_updates_give_the_same_digest() {
        // Every split point of a 130-byte input, around both block boundaries.
        let data: heapless::Vec<u8, 130> = (0..130u8).collect();
        for new in [Hasher::md5 as fn() -> Hasher, Hasher::sha256] {
            let whole = hex(new(), &[&data]);
            for cut in 0..=data.len() {
                assert_eq!(
                    hex(new(), &[&data[..cut], &data[cut..]]),
                    whole,
                    "cut {cut}"
                );
            }
        }
    }
}
