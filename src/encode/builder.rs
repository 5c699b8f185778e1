//! Building messages into caller buffers (RFC 3261 §7, §8.1.1, §8.2.6).

use core::fmt;

use crate::error::{Capacity, ParseError};
use crate::message::{HeaderKind, Method, Refresher, StatusCode, lex};

use super::write::{BufferTooSmall, Counter, Cursor, Out, Sink, Write};

/// Most headers a [`MessageBuilder`] holds (Content-Length is added on top).
pub const MAX_BUILDER_HEADERS: usize = 24;

/// A header value to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value<'a> {
    /// Bytes written as they are (e.g. copied from a received message; folds allowed).
    Raw(&'a [u8]),
    /// Text written as it is.
    Text(&'a str),
    /// A decimal number (Max-Forwards, Expires, ...).
    Number(u32),
    /// `number SP method` (CSeq, RFC 3261 §20.16).
    CSeq(u32, Method<'a>),
    /// A value followed by `;tag=` and a tag (From/To, RFC 3261 §19.3). The tag is a
    /// token, or what the parser accepts as one from live traffic: visible ASCII but
    /// `"<>,;=` (some phones write `&` or `^`), so that a peer's tag can be written back.
    Tagged(&'a [u8], &'a str),
    /// A Via value `SIP/2.0/transport sent-by;branch=...[;rport]` (RFC 3261 §20.42,
    /// RFC 3581).
    Via(ViaValue<'a>),
    /// Methods separated by `, ` (Allow, RFC 3261 §20.5).
    Methods(&'a [Method<'a>]),
    /// Items separated by `, ` (Supported, Require, Unsupported, Accept, ...). Each item
    /// must be non-empty and hold no comma, CR or LF.
    Tokens(&'a [&'a str]),
    /// `delta-seconds [;refresher=uac|uas]` (Session-Expires, RFC 4028 §4).
    SessionExpires(u32, Option<Refresher>),
}

/// The parts of a Via value the crate writes for its own requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ViaValue<'a> {
    /// Transport token: `UDP`, `TCP`, `TLS`, `WS`, ...
    pub transport: &'a str,
    /// `host[:port]` where responses should go.
    pub sent_by: &'a str,
    /// Branch parameter, starting with `z9hG4bK` (RFC 3261 §8.1.1.7).
    pub branch: &'a str,
    /// Add an empty `rport` parameter to ask for symmetric response routing (RFC 3581).
    pub rport: bool,
}

/// Why a message could not be written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum EncodeError {
    /// The output buffer is too small; nothing was written.
    BufferTooSmall {
        /// Bytes the whole message needs.
        needed: usize,
    },
    /// More than [`MAX_BUILDER_HEADERS`] headers were added.
    Capacity(Capacity),
    /// Header number `index` (0-based, in insertion order) has a name that is not a
    /// token, is Content-Length (the builder writes that one), or has a value holding a CR or LF that is not a line fold (header injection).
    InvalidHeader {
        /// Position of the offending header.
        index: usize,
    },
    /// The start line holds a CR, LF or SP where it must not.
    InvalidStartLine,
    /// The message could not be derived from the one it answers.
    Derive(BuildError),
}

impl From<BufferTooSmall> for EncodeError {
    fn from(e: BufferTooSmall) -> Self {
        EncodeError::BufferTooSmall { needed: e.needed }
    }
}

impl From<BuildError> for EncodeError {
    fn from(e: BuildError) -> Self {
        EncodeError::Derive(e)
    }
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncodeError::BufferTooSmall { needed } => {
                write!(f, "buffer too small: {needed} bytes needed")
            }
            EncodeError::Capacity(c) => write!(f, "capacity: {c}"),
            EncodeError::InvalidHeader { index } => {
                write!(f, "header {index} has an invalid name or value")
            }
            EncodeError::InvalidStartLine => f.write_str("invalid start line"),
            EncodeError::Derive(e) => write!(f, "{e}"),
        }
    }
}

impl core::error::Error for EncodeError {}

/// Why a message could not be derived from another one (a response from a request, an
/// ACK or CANCEL from an INVITE).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum BuildError {
    /// A request was expected.
    NotARequest,
    /// A response was expected.
    NotAResponse,
    /// A header the derivation copies is missing.
    MissingHeader(crate::message::HeaderKind),
    /// A header the derivation reads is malformed.
    Malformed(ParseError),
    /// More headers than a builder holds.
    Capacity(Capacity),
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BuildError::NotARequest => f.write_str("not a request"),
            BuildError::NotAResponse => f.write_str("not a response"),
            BuildError::MissingHeader(k) => write!(f, "missing {k} header"),
            BuildError::Malformed(e) => write!(f, "malformed header: {e}"),
            BuildError::Capacity(c) => write!(f, "capacity: {c}"),
        }
    }
}

impl core::error::Error for BuildError {}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Start<'a> {
    Request { method: Method<'a>, uri: &'a [u8] },
    Response { code: StatusCode, reason: &'a str },
}

/// A message to be written: start line, headers in order, body. Content-Length is
/// always written, last, from the body's length (RFC 3261 §18.3 makes it mandatory on
/// streams and it costs a few bytes on datagrams).
///
/// Nothing is written until [`encode`](Self::encode): the size is computed first and a
/// sink that is too small is left untouched, with the size needed in the error.
///
/// ```
/// use sansip::encode::{MessageBuilder, Value, ViaValue};
/// use sansip::message::{Message, Method};
/// let via = ViaValue { transport: "UDP", sent_by: "192.0.2.1:5060", branch: "z9hG4bK74bf9", rport: true };
/// let req = MessageBuilder::request(Method::Options, "sip:bob@example.com")
///     .header("Via", Value::Via(via))
///     .header("Max-Forwards", Value::Number(70))
///     .header("From", Value::Tagged(b"<sip:alice@example.com>", "9fxced76sl"))
///     .header("To", Value::Text("<sip:bob@example.com>"))
///     .header("Call-ID", Value::Text("3848276298220188511@192.0.2.1"))
///     .header("CSeq", Value::CSeq(1, Method::Options));
/// let mut buf = [0u8; 512];
/// let n = req.encode_into(&mut buf)?;
/// let msg = Message::parse(&buf[..n])?;
/// assert_eq!(msg.method(), Some(Method::Options));
/// assert_eq!(msg.headers().count(), 7); // six headers + Content-Length
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
// In this order, the fields a new builder zeroes lie together before the headers: with
// the array between them, the compiler zeroed it all (a 1.8 KB memset per message).
#[derive(Clone, Debug)]
#[repr(C)]
pub struct MessageBuilder<'a> {
    start: Start<'a>,
    body: &'a [u8],
    overflow: bool,
    /// The reason phrase is the code's canonical one (`StatusCode::reason`), which
    /// passes the start line's check (`canonical_reasons_pass_the_check`): `check`
    /// does not scan it again.
    canonical_reason: bool,
    /// One bit per header index: headers the crate vouches for (a constant name and a
    /// value it made, or copied from a message the parser framed; see `push_trusted`),
    /// which [`encoded_len`](Self::encoded_len) counts without checking again.
    trusted: u32,
    /// One bit per header index: names that are constants of the crate (see
    /// `push_named`), which need no checking again; their values still do.
    named: u32,
    headers: heapless::Vec<(&'a str, Value<'a>), MAX_BUILDER_HEADERS>,
}

const _: () = assert!(MAX_BUILDER_HEADERS <= u32::BITS as usize);

impl<'a> MessageBuilder<'a> {
    /// A request `method uri SIP/2.0`.
    pub fn request(method: Method<'a>, uri: &'a str) -> Self {
        Self::request_raw(method, uri.as_bytes())
    }

    /// A request whose Request-URI is given as bytes (e.g. copied from a message).
    pub fn request_raw(method: Method<'a>, uri: &'a [u8]) -> Self {
        Self::with_start(Start::Request { method, uri })
    }

    /// A response `SIP/2.0 code reason`, with the code's canonical reason phrase.
    pub fn response(code: StatusCode) -> Self {
        let mut b = Self::with_start(Start::Response {
            code,
            reason: code.reason(),
        });
        b.canonical_reason = true;
        b
    }

    /// Make the start line `method uri SIP/2.0` (for a builder filled in place).
    pub(crate) fn set_request_line(&mut self, method: Method<'a>, uri: &'a str) {
        self.start = Start::Request {
            method,
            uri: uri.as_bytes(),
        };
    }

    fn with_start(start: Start<'a>) -> Self {
        MessageBuilder {
            start,
            headers: heapless::Vec::new(),
            trusted: 0,
            named: 0,
            body: &[],
            overflow: false,
            canonical_reason: false,
        }
    }

    /// Replace the reason phrase of a response (ignored for requests).
    #[must_use]
    pub fn reason(mut self, reason: &'a str) -> Self {
        if let Start::Response { reason: r, .. } = &mut self.start {
            *r = reason;
        }
        self.canonical_reason = false;
        self
    }

    /// Append a header. Past [`MAX_BUILDER_HEADERS`], [`encode`](Self::encode) fails
    /// with [`EncodeError::Capacity`].
    #[must_use]
    pub fn header(mut self, name: &'a str, value: Value<'a>) -> Self {
        self.push(name, value);
        self
    }

    /// Append a header in place (see [`header`](Self::header)).
    pub fn push(&mut self, name: &'a str, value: Value<'a>) {
        if self.headers.push((name, value)).is_err() {
            self.overflow = true;
        }
    }

    /// Append a header whose name and value the crate vouches for: the name a constant
    /// of the crate, the value one it made or copied from a message the parser framed
    /// with CRLF (see `derive::crlf_framed`), so that it passes the checks of
    /// [`encoded_len`](Self::encoded_len), which then only counts it. Never for a value
    /// a host handed in.
    pub(crate) fn push_trusted(&mut self, name: &'a str, value: Value<'a>) {
        debug_assert!(header_ok(name, &value), "untrustworthy {name}: {value:?}");
        let index = self.headers.len();
        self.push(name, value);
        if index < MAX_BUILDER_HEADERS {
            self.trusted |= 1 << index;
        }
    }

    /// Append a header whose name is a constant of the crate, a token other than
    /// Content-Length: only its value is checked when written.
    pub(crate) fn push_named(&mut self, name: &'static str, value: Value<'a>) {
        debug_assert!(name_ok(name), "{name}");
        let index = self.headers.len();
        self.push(name, value);
        if index < MAX_BUILDER_HEADERS {
            self.named |= 1 << index;
        }
    }

    /// [`push_trusted`](Self::push_trusted) when `vouched` (the caller knows the value
    /// passes the writer's check: `value_may_be_written`), else
    /// [`push_named`](Self::push_named).
    pub(crate) fn push_named_vouched(
        &mut self,
        name: &'static str,
        value: Value<'a>,
        vouched: bool,
    ) {
        if vouched {
            self.push_trusted(name, value);
        } else {
            self.push_named(name, value);
        }
    }

    /// [`push_trusted`](Self::push_trusted) when `trusted`, else [`push`](Self::push).
    pub(crate) fn push_maybe_trusted(&mut self, name: &'a str, value: Value<'a>, trusted: bool) {
        if trusted {
            self.push_trusted(name, value);
        } else {
            self.push(name, value);
        }
    }

    /// Check every header when written (for tests comparing with trust).
    #[cfg(test)]
    pub(crate) fn trust_nothing(&mut self) {
        self.trusted = 0;
        self.canonical_reason = false;
    }

    /// Replace the value of the first header if it is named `name`; `trusted` as for
    /// [`push_maybe_trusted`](Self::push_maybe_trusted).
    pub(crate) fn replace_first(&mut self, name: &str, value: Value<'a>, trusted: bool) {
        if let Some((n, v)) = self.headers.first_mut()
            && n.eq_ignore_ascii_case(name)
        {
            debug_assert!(
                !trusted || header_ok(n, &value),
                "untrustworthy {name}: {value:?}"
            );
            *v = value;
            self.trusted = self.trusted & !1 | u32::from(trusted);
        }
    }

    /// Set the body and its Content-Type.
    #[must_use]
    pub fn body(mut self, content_type: &'a str, body: &'a [u8]) -> Self {
        self.set_body(content_type, body);
        self
    }

    /// Set the body and its Content-Type in place (see [`body`](Self::body)); a builder
    /// holds up to [`MAX_BUILDER_HEADERS`] headers, so it is cheaper to change than to
    /// move.
    pub fn set_body(&mut self, content_type: &'a str, body: &'a [u8]) {
        self.push_named("Content-Type", Value::Text(content_type));
        self.body = body;
    }

    /// The headers added so far, in order.
    pub fn headers(&self) -> &[(&'a str, Value<'a>)] {
        &self.headers
    }

    /// Exact size of the encoded message.
    pub fn encoded_len(&self) -> Result<usize, EncodeError> {
        if self.overflow {
            return Err(EncodeError::Capacity(Capacity::Headers));
        }
        // Checked and counted in one pass, by arithmetic rather than by a dry run of the
        // writer: this runs before every write. The checks are the parser's rules
        // (RFC 3261 §7.1, §7.2).
        let start = match self.start {
            // "METHOD SP uri SP SIP/2.0 CRLF"
            Start::Request { method, uri } => {
                if !is_method(&method) || uri.is_empty() || !all_visible(uri) {
                    return Err(EncodeError::InvalidStartLine);
                }
                method.as_str().len() + 1 + uri.len() + 10
            }
            // "SIP/2.0 SP code SP reason CRLF"
            Start::Response { reason, .. } => {
                if !reason
                    .bytes()
                    .all(|b| (b >= b' ' && b != 0x7f) || b == b'\t')
                {
                    return Err(EncodeError::InvalidStartLine);
                }
                8 + 3 + 1 + reason.len() + 2
            }
        };
        let mut total = start;
        for (index, (name, value)) in self.headers.iter().enumerate() {
            let bit = 1 << index;
            if self.trusted & bit == 0
                && !(value_ok(value) && (self.named & bit != 0 || name_ok(name)))
            {
                return Err(EncodeError::InvalidHeader { index });
            }
            // "name: value CRLF"
            total += name.len() + 2 + value_len(value) + 2;
        }
        // "Content-Length: N CRLF CRLF body"
        let body =
            16 + digits(u32::try_from(self.body.len()).unwrap_or(u32::MAX)) + 4 + self.body.len();
        let total = total + body;
        debug_assert_eq!(total, {
            let mut c = Counter::default();
            self.emit(&mut c);
            c.0
        });
        Ok(total)
    }

    /// The checks of [`encoded_len`](Self::encoded_len), in its order, without the
    /// count: the headers the crate vouches for are skipped, not walked.
    #[cfg(feature = "endpoint")]
    fn check(&self) -> Result<(), EncodeError> {
        if self.overflow {
            return Err(EncodeError::Capacity(Capacity::Headers));
        }
        let start_ok = match self.start {
            Start::Request { method, uri } => {
                is_method(&method) && !uri.is_empty() && all_visible(uri)
            }
            Start::Response { reason, .. } => {
                self.canonical_reason
                    || reason
                        .bytes()
                        .all(|b| (b >= b' ' && b != 0x7f) || b == b'\t')
            }
        };
        if !start_ok {
            return Err(EncodeError::InvalidStartLine);
        }
        // At most MAX_BUILDER_HEADERS (< 32) headers.
        let mut untrusted = !self.trusted & ((1u64 << self.headers.len()) - 1) as u32;
        while untrusted != 0 {
            let index = untrusted.trailing_zeros() as usize;
            untrusted &= untrusted - 1;
            let bit = 1 << index;
            if let Some((name, value)) = self.headers.get(index)
                && !(value_ok(value) && (self.named & bit != 0 || name_ok(name)))
            {
                return Err(EncodeError::InvalidHeader { index });
            }
        }
        Ok(())
    }

    /// Write the message into `out`. Returns the bytes written; on error nothing was
    /// written.
    pub fn encode<W: Write + ?Sized>(&self, out: &mut W) -> Result<usize, EncodeError> {
        let needed = self.encoded_len()?;
        if out.remaining() < needed {
            return Err(EncodeError::BufferTooSmall { needed });
        }
        let mut sink = Sink { out, error: None };
        self.emit(&mut sink);
        match sink.error {
            Some(e) => Err(e.into()),
            None => Ok(needed),
        }
    }

    /// [`encode`](Self::encode) onto the end of `out`, by index into its new bytes.
    #[cfg(feature = "endpoint")]
    pub(crate) fn encode_appending<const N: usize>(
        &self,
        out: &mut heapless::Vec<u8, N>,
    ) -> Result<usize, EncodeError> {
        // Checked, then written once into the room left, and counted only when it does
        // not fit (for the size in the error).
        self.check()?;
        let old = out.len();
        match self.write_at(out, old) {
            Some(n) => Ok(n),
            None => Err(EncodeError::BufferTooSmall {
                needed: self.encoded_len()?,
            }),
        }
    }

    /// [`encode_appending`](Self::encode_appending) as it was: counted, then written.
    /// The reference the one-pass writer is compared with.
    #[cfg(all(test, feature = "endpoint"))]
    fn encode_appending_counted<const N: usize>(
        &self,
        out: &mut heapless::Vec<u8, N>,
    ) -> Result<usize, EncodeError> {
        let needed = self.encoded_len()?;
        let old = out.len();
        if N - old < needed {
            return Err(EncodeError::BufferTooSmall { needed });
        }
        self.emit_after(out, old, needed)
    }

    /// Replace what `out` holds with the message. Returns the bytes written; on error
    /// `out` keeps what it held (a stored response stays until its successor fits).
    /// The reference [`encode_replacing_stored`](Self::encode_replacing_stored) is
    /// compared with.
    #[cfg(all(test, feature = "endpoint"))]
    pub(crate) fn encode_replacing<const N: usize>(
        &self,
        out: &mut heapless::Vec<u8, N>,
    ) -> Result<usize, EncodeError> {
        // Written once after what `out` holds, then moved to its start: what it held
        // stays until its successor is known to fit. Without room after it, counted
        // first and written in its place.
        self.check()?;
        let old = out.len();
        if let Some(n) = self.write_at(out, old) {
            out.copy_within(old..old + n, 0);
            out.truncate(n);
            return Ok(n);
        }
        self.encode_replacing_counted(out)
    }

    /// [`encode_replacing`](Self::encode_replacing) counted, then written: the way
    /// when there is no room after the stored message, and the reference the
    /// one-pass writer is compared with.
    #[cfg(all(test, feature = "endpoint"))]
    fn encode_replacing_counted<const N: usize>(
        &self,
        out: &mut heapless::Vec<u8, N>,
    ) -> Result<usize, EncodeError> {
        let needed = self.encoded_len()?;
        if needed > N {
            return Err(EncodeError::BufferTooSmall { needed });
        }
        self.emit_after(out, 0, needed)
    }

    /// [`encode_replacing`](Self::encode_replacing) into a [`Stored`] buffer, the same
    /// result and the same bytes held after, without zeroing room zeroed before.
    #[cfg(feature = "endpoint")]
    pub(crate) fn encode_replacing_stored<const N: usize>(
        &self,
        out: &mut Stored<N>,
    ) -> Result<usize, EncodeError> {
        self.check()?;
        let old = out.len;
        if let Some(n) = self.write_stored_at(out, old) {
            // Nothing held (a new transaction's first response): written in place.
            if old != 0 {
                out.room.copy_within(old..old + n, 0);
            }
            out.len = n;
            return Ok(n);
        }
        // No room after what it holds: counted, then written in its place.
        let needed = self.encoded_len()?;
        if needed > N {
            return Err(EncodeError::BufferTooSmall { needed });
        }
        out.len = 0;
        if !out.zeroed_to(needed) {
            return Err(EncodeError::BufferTooSmall { needed });
        }
        let mut cursor = Cursor::new(&mut out.room[..needed]);
        self.emit_cursor(&mut cursor);
        if cursor.short || cursor.written() != needed {
            // A miscount (see `emit_after`): nothing held, as there.
            return Err(EncodeError::BufferTooSmall { needed });
        }
        out.len = needed;
        Ok(needed)
    }

    /// [`write_at`](Self::write_at) for a [`Stored`] buffer: into its room after `at`
    /// (its length), zeroing only room never zeroed; the bytes written (the length is
    /// the caller's to set) or `None` if they do not fit.
    #[cfg(feature = "endpoint")]
    fn write_stored_at<const N: usize>(&self, out: &mut Stored<N>, at: usize) -> Option<usize> {
        // The first KB at first, as `write_at`; all of it if the message did not fit.
        out.zeroed_to(at + (N - at).min(1024));
        loop {
            let mut cursor = Cursor::new(&mut out.room[at..]);
            self.emit_cursor(&mut cursor);
            let written = cursor.written();
            if !cursor.short {
                debug_assert_eq!(Ok(written), self.encoded_len());
                return Some(written);
            }
            if out.room.len() == N {
                return None;
            }
            out.zeroed_to(N);
        }
    }

    /// Write the message at `at == out.len()`, into all the room `out` has left; the
    /// bytes written, `out` ending after them, or `None` (and `out` as it was) if they
    /// do not fit.
    #[cfg(feature = "endpoint")]
    fn write_at<const N: usize>(&self, out: &mut heapless::Vec<u8, N>, at: usize) -> Option<usize> {
        debug_assert_eq!(out.len(), at);
        // The room as bytes to write by index: zeroed from a constant (see `emit_after`),
        // at first only its first KB (most messages are shorter; zeroing all of a large
        // room cost more than counting), all of it if the message did not fit there.
        const ZEROS: [u8; 1024] = [0; 1024];
        let first = (N - at).min(ZEROS.len());
        if out.extend_from_slice(&ZEROS[..first]).is_err() {
            return None;
        }
        loop {
            let mut cursor = Cursor::new(&mut out[at..]);
            self.emit_cursor(&mut cursor);
            let written = cursor.written();
            if !cursor.short {
                debug_assert_eq!(Ok(written), self.encoded_len());
                out.truncate(at + written);
                return Some(written);
            }
            if out.len() == N {
                out.truncate(at);
                return None;
            }
            while out.len() < N {
                let n = (N - out.len()).min(ZEROS.len());
                if out.extend_from_slice(&ZEROS[..n]).is_err() {
                    out.truncate(at);
                    return None;
                }
            }
        }
    }

    /// Write the `needed` bytes of the message after the first `keep` bytes of `out`,
    /// which has room for them.
    #[cfg(all(test, feature = "endpoint"))]
    fn emit_after<const N: usize>(
        &self,
        out: &mut heapless::Vec<u8, N>,
        keep: usize,
        needed: usize,
    ) -> Result<usize, EncodeError> {
        out.truncate(keep);
        // Room for the message, zeroed from a constant: heapless's `resize` pushes a
        // byte at a time, its `extend_from_slice` copies at once.
        const ZEROS: [u8; 1024] = [0; 1024];
        let mut left = needed;
        while left > 0 {
            let n = left.min(ZEROS.len());
            if out.extend_from_slice(&ZEROS[..n]).is_err() {
                out.truncate(keep);
                return Err(EncodeError::BufferTooSmall { needed });
            }
            left -= n;
        }
        let mut cursor = Cursor::new(&mut out[keep..]);
        self.emit(&mut cursor);
        if cursor.short || cursor.written() != needed {
            // A miscount, which the debug build's dry run after every count rules out:
            // nothing is sent, though a replaced message is gone.
            out.truncate(keep);
            return Err(EncodeError::BufferTooSmall { needed });
        }
        Ok(needed)
    }

    /// Write the message at the start of `buf`. Returns the bytes written; on error
    /// nothing was written.
    pub fn encode_into(&self, buf: &mut [u8]) -> Result<usize, EncodeError> {
        let needed = self.encoded_len()?;
        let Some(buf) = buf.get_mut(..needed) else {
            return Err(EncodeError::BufferTooSmall { needed });
        };
        let mut cursor = Cursor::new(buf);
        self.emit(&mut cursor);
        if cursor.short || cursor.written() != needed {
            return Err(EncodeError::BufferTooSmall { needed });
        }
        Ok(needed)
    }

    fn emit<O: Out>(&self, out: &mut O) {
        self.emit_body(out);
    }

    /// [`emit`](Self::emit) by index into a buffer, the way every message the endpoint
    /// sends is written: with the cursor a local of its own (not behind a reference),
    /// its position stays in registers rather than being stored at every piece.
    #[inline(never)]
    #[cfg_attr(not(feature = "endpoint"), allow(dead_code))] // the endpoint's sends
    fn emit_cursor(&self, cursor: &mut Cursor<'_>) {
        let mut local = core::mem::replace(cursor, Cursor::new(&mut []));
        self.emit_body(&mut local);
        *cursor = local;
    }

    #[inline(always)]
    fn emit_body<O: Out>(&self, out: &mut O) {
        // Pieces paired with the short constant after or before them: one bounds check
        // for each pair (see `Out::put2`).
        match self.start {
            Start::Request { method, uri } => {
                out.put2(method.as_str().as_bytes(), b" ");
                out.put2(uri, b" SIP/2.0\r\n");
            }
            Start::Response { code, reason } => {
                let c = code.as_u16();
                if (100..1000).contains(&c) {
                    // Three digits (a `StatusCode` is 100..=699) and the space after
                    // them, made in place: no digit count, one bounds check.
                    let digits = [
                        b'0' + (c / 100) as u8,
                        b'0' + (c / 10 % 10) as u8,
                        b'0' + (c % 10) as u8,
                        b' ',
                    ];
                    out.put2(b"SIP/2.0 ", &digits);
                } else {
                    out.put(b"SIP/2.0 ");
                    out.put_u32(u32::from(c));
                    out.put(b" ");
                }
                out.put2(reason.as_bytes(), b"\r\n");
            }
        }
        for (name, value) in &self.headers {
            out.put2(name.as_bytes(), b": ");
            emit_value_line(out, value);
        }
        let n = self.body.len();
        if n < 10 {
            // No body or a short one (most messages): the line and the blank line
            // after it as one piece, the digit set in place.
            let mut line = *b"Content-Length: 0\r\n\r\n";
            line[16] = b'0' + n as u8;
            out.put(&line);
        } else {
            out.put(b"Content-Length: ");
            // A body longer than u32::MAX cannot be built on any target this crate
            // serves.
            out.put_u32(u32::try_from(n).unwrap_or(u32::MAX));
            out.put(b"\r\n\r\n");
        }
        out.put(self.body);
    }
}

/// `value` and the CRLF that ends its header line.
#[inline(always)]
fn emit_value_line<O: Out>(out: &mut O, value: &Value<'_>) {
    const CRLF: &[u8] = b"\r\n";
    // Most values are text or bytes written as they are: tested first, before the
    // jump through the table of every kind.
    if let Value::Raw(b) = *value {
        out.put2(b, CRLF);
        return;
    }
    if let Value::Text(s) = *value {
        out.put2(s.as_bytes(), CRLF);
        return;
    }
    match *value {
        Value::Raw(b) => out.put2(b, CRLF),
        Value::Text(s) => out.put2(s.as_bytes(), CRLF),
        Value::Number(n) => out.put_u32_then(n, CRLF),
        Value::CSeq(n, m) => {
            out.put_u32_then(n, b" ");
            out.put2(m.as_str().as_bytes(), CRLF);
        }
        Value::Tagged(v, tag) => {
            out.put2(v, b";tag=");
            out.put2(tag.as_bytes(), CRLF);
        }
        Value::Via(v) => {
            out.put2(b"SIP/2.0/", v.transport.as_bytes());
            out.put2(b" ", v.sent_by.as_bytes());
            out.put2(b";branch=", v.branch.as_bytes());
            out.put(if v.rport { b";rport\r\n" } else { CRLF });
        }
        Value::Methods(ms) => {
            for (i, m) in ms.iter().enumerate() {
                if i > 0 {
                    out.put(b", ");
                }
                out.put(m.as_str().as_bytes());
            }
            out.put(CRLF);
        }
        Value::Tokens(ts) => {
            for (i, t) in ts.iter().enumerate() {
                if i > 0 {
                    out.put(b", ");
                }
                out.put(t.as_bytes());
            }
            out.put(CRLF);
        }
        Value::SessionExpires(n, r) => {
            out.put_u32(n);
            match r {
                Some(r) => {
                    out.put(b";refresher=");
                    out.put2(r.as_str().as_bytes(), CRLF);
                }
                None => out.put(CRLF),
            }
        }
    }
}

#[cfg(test)]
impl MessageBuilder<'_> {
    /// The writer as it was before pieces were paired (`Out::put2`): one `put` per
    /// piece. The reference the paired writer is compared with.
    fn emit_reference<O: Out>(&self, out: &mut O) {
        match self.start {
            Start::Request { method, uri } => {
                out.put(method.as_str().as_bytes());
                out.put(b" ");
                out.put(uri);
                out.put(b" SIP/2.0\r\n");
            }
            Start::Response { code, reason } => {
                out.put(b"SIP/2.0 ");
                out.put_u32(u32::from(code.as_u16()));
                out.put(b" ");
                out.put(reason.as_bytes());
                out.put(b"\r\n");
            }
        }
        for (name, value) in &self.headers {
            out.put(name.as_bytes());
            out.put(b": ");
            emit_value_reference(out, value);
            out.put(b"\r\n");
        }
        out.put(b"Content-Length: ");
        out.put_u32(u32::try_from(self.body.len()).unwrap_or(u32::MAX));
        out.put(b"\r\n\r\n");
        out.put(self.body);
    }

    /// The bytes of the paired writer and of the reference, each by index into a slice
    /// of the counted size (the path every message takes), and whether the writer
    /// filled it exactly.
    fn both_writers(&self) -> (std::vec::Vec<u8>, std::vec::Vec<u8>) {
        let mut c = Counter::default();
        self.emit(&mut c);
        let mut new = std::vec![0u8; c.0];
        let mut cursor = Cursor::new(&mut new);
        self.emit(&mut cursor);
        assert!(!cursor.short && cursor.written() == c.0, "miscounted");
        let mut old = std::vec![0u8; c.0];
        let mut cursor = Cursor::new(&mut old);
        self.emit_reference(&mut cursor);
        assert!(
            !cursor.short && cursor.written() == c.0,
            "reference miscounted"
        );
        (new, old)
    }

    /// The one-pass `encode_appending` and `encode_replacing` give what the counted
    /// ones give (result and bytes left in the buffer) into a buffer of `N` bytes
    /// holding `held` bytes already, for every `held` in `helds`.
    #[cfg(feature = "endpoint")]
    fn one_pass_agrees<const N: usize>(&self, helds: &[usize]) {
        for &held in helds.iter().filter(|&&h| h <= N) {
            let mut start: heapless::Vec<u8, N> = heapless::Vec::new();
            for i in 0..held {
                let _ = start.push(b'a' + (i % 26) as u8);
            }
            let (mut new, mut old) = (start.clone(), start.clone());
            assert_eq!(
                self.encode_appending(&mut new),
                self.encode_appending_counted(&mut old),
                "appending, {held} of {N} held"
            );
            assert_eq!(new, old, "appending, {held} of {N} held");
            let (mut new, mut old) = (start.clone(), start.clone());
            assert_eq!(
                self.encode_replacing(&mut new),
                self.encode_replacing_counted(&mut old),
                "replacing, {held} of {N} held"
            );
            assert_eq!(new, old, "replacing, {held} of {N} held");
            // Into a `Stored` buffer: fresh, and over room a longer message left.
            for stale in [0, held, N] {
                let mut stored = Stored::<N>::new();
                let _ = stored.extend_from_slice(&std::vec![b'z'; stale]);
                stored.clear();
                let _ = stored.extend_from_slice(&start[..]);
                assert_eq!(&stored[..], &start[..], "stored, {held} of {N} held");
                let mut old = start.clone();
                assert_eq!(
                    self.encode_replacing_stored(&mut stored),
                    self.encode_replacing(&mut old),
                    "stored, {held} of {N} held, {stale} stale"
                );
                assert_eq!(
                    &stored[..],
                    &old[..],
                    "stored, {held} of {N} held, {stale} stale"
                );
            }
        }
    }

    /// [`one_pass_agrees`](Self::one_pass_agrees) for buffers from too small to
    /// roomy, empty, part full and nearly full.
    #[cfg(feature = "endpoint")]
    fn one_pass_agrees_everywhere(&self) {
        let n = self.encoded_len().unwrap_or(100);
        let helds = [
            0,
            1,
            5,
            n.saturating_sub(1),
            n,
            n + 1,
            300,
            700,
            1000,
            1499,
            1500,
        ];
        self.one_pass_agrees::<16>(&helds);
        self.one_pass_agrees::<256>(&helds);
        self.one_pass_agrees::<1024>(&helds);
        self.one_pass_agrees::<1500>(&helds);
        self.one_pass_agrees::<2100>(&helds);
    }
}

/// A message buffer that keeps its own length: the room it has zeroed once is written
/// into again as it is (a `heapless::Vec` has no safe uninitialised room, so each
/// message written into one zeroed its room first).
#[cfg(feature = "endpoint")]
pub(crate) struct Stored<const N: usize> {
    /// The room zeroed or written so far (it only grows).
    room: heapless::Vec<u8, N>,
    /// The bytes held: `room[..len]`.
    len: usize,
}

#[cfg(feature = "endpoint")]
impl<const N: usize> Stored<N> {
    pub(crate) const fn new() -> Self {
        Stored {
            room: heapless::Vec::new(),
            len: 0,
        }
    }

    pub(crate) fn clear(&mut self) {
        self.len = 0;
    }

    /// Append `bytes`; `Err` (nothing appended) if they do not fit.
    pub(crate) fn extend_from_slice(&mut self, bytes: &[u8]) -> Result<(), ()> {
        let end = self.len + bytes.len();
        if end > N {
            return Err(());
        }
        // Over the room there is, then onto its end.
        let over = self.room.len().clamp(self.len, end) - self.len;
        self.room[self.len..self.len + over].copy_from_slice(&bytes[..over]);
        if self.room.extend_from_slice(&bytes[over..]).is_err() {
            return Err(());
        }
        self.len = end;
        Ok(())
    }

    /// Zero room up to `end` (at most `N`) where there is none; `false` if `end > N`.
    fn zeroed_to(&mut self, end: usize) -> bool {
        const ZEROS: [u8; 1024] = [0; 1024];
        if end > N {
            return false;
        }
        while self.room.len() < end {
            let n = (end - self.room.len()).min(ZEROS.len());
            // Fits: `end <= N`.
            let _ = self.room.extend_from_slice(&ZEROS[..n]);
        }
        true
    }
}

#[cfg(feature = "endpoint")]
impl<const N: usize> core::ops::Deref for Stored<N> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.room[..self.len]
    }
}

#[cfg(test)]
fn emit_value_reference<O: Out>(out: &mut O, value: &Value<'_>) {
    match *value {
        Value::Raw(b) => out.put(b),
        Value::Text(s) => out.put(s.as_bytes()),
        Value::Number(n) => out.put_u32(n),
        Value::CSeq(n, m) => {
            out.put_u32(n);
            out.put(b" ");
            out.put(m.as_str().as_bytes());
        }
        Value::Tagged(v, tag) => {
            out.put(v);
            out.put(b";tag=");
            out.put(tag.as_bytes());
        }
        Value::Via(v) => {
            out.put(b"SIP/2.0/");
            out.put(v.transport.as_bytes());
            out.put(b" ");
            out.put(v.sent_by.as_bytes());
            out.put(b";branch=");
            out.put(v.branch.as_bytes());
            if v.rport {
                out.put(b";rport");
            }
        }
        Value::Methods(ms) => {
            for (i, m) in ms.iter().enumerate() {
                if i > 0 {
                    out.put(b", ");
                }
                out.put(m.as_str().as_bytes());
            }
        }
        Value::Tokens(ts) => {
            for (i, t) in ts.iter().enumerate() {
                if i > 0 {
                    out.put(b", ");
                }
                out.put(t.as_bytes());
            }
        }
        Value::SessionExpires(n, r) => {
            out.put_u32(n);
            if let Some(r) = r {
                out.put(b";refresher=");
                out.put(r.as_str().as_bytes());
            }
        }
    }
}

/// A method is written as given: an extension method must be a token (RFC 3261
/// §25.1), or it could smuggle a line break into the message. A known method's name is
/// a constant token (`known_methods_are_tokens`): only an extension's is scanned.
fn is_method(m: &Method<'_>) -> bool {
    match m {
        Method::Extension(name) => is_token(name),
        _ => true,
    }
}

/// `lex::is_token_str`, four bytes a step.
fn is_token(s: &str) -> bool {
    !s.is_empty() && lex::long_token_end(s.as_bytes(), 0) == s.len()
}

/// Decimal digits of `n`.
fn digits(n: u32) -> usize {
    n.checked_ilog10().map_or(1, |d| d as usize + 1)
}

/// Whether header `name: value` may be written: the name a token and not
/// Content-Length (the builder writes that one from the body), the value unable to break
/// the message's framing or start another header.
fn header_ok(name: &str, value: &Value<'_>) -> bool {
    value_ok(value) && name_ok(name)
}

/// Whether `name` may be written (see [`header_ok`]).
fn name_ok(name: &str) -> bool {
    is_token(name) && !is_content_length(name)
}

/// Whether `value` may be written: for a value the caller keeps and writes again, checked
/// once (see `MessageBuilder::push_named_vouched`).
#[cfg(feature = "endpoint")]
pub(crate) fn value_may_be_written(value: &Value<'_>) -> bool {
    value_ok(value)
}

/// Whether `value` may be written (see [`header_ok`]).
#[inline(always)]
fn value_ok(value: &Value<'_>) -> bool {
    match *value {
        Value::Raw(b) => no_injection(b),
        Value::Text(t) => no_injection(t.as_bytes()),
        Value::Number(_) | Value::SessionExpires(..) => true,
        Value::CSeq(_, m) => is_method(&m),
        Value::Tagged(v, tag) => no_injection(v) && is_tag(tag),
        // sent-by is host[:port]: IPv6 brackets and the port colon, nothing that could
        // start a parameter or another value.
        Value::Via(v) => {
            is_token(v.transport)
                && !v.sent_by.is_empty()
                && v.sent_by.bytes().all(|b| {
                    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b':' | b'[' | b']')
                })
                && is_token(v.branch)
        }
        Value::Methods(ms) => ms.iter().all(is_method),
        Value::Tokens(ts) => ts
            .iter()
            .all(|t| !t.is_empty() && !t.contains([',', '\r', '\n'])),
    }
}

/// Bytes `emit_value` writes for `value`.
fn value_len(value: &Value<'_>) -> usize {
    // Items joined by ", ".
    let list = |count: usize, sum: usize| sum + 2 * count.saturating_sub(1);
    match *value {
        Value::Raw(b) => b.len(),
        Value::Text(t) => t.len(),
        Value::Number(n) => digits(n),
        Value::CSeq(n, m) => digits(n) + 1 + m.as_str().len(),
        Value::Tagged(v, tag) => v.len() + 5 + tag.len(),
        // "SIP/2.0/" transport SP sent-by ";branch=" branch [";rport"]
        Value::Via(v) => {
            8 + v.transport.len()
                + 1
                + v.sent_by.len()
                + 8
                + v.branch.len()
                + if v.rport { 6 } else { 0 }
        }
        Value::Methods(ms) => list(ms.len(), ms.iter().map(|m| m.as_str().len()).sum()),
        Value::Tokens(ts) => list(ts.len(), ts.iter().map(|t| t.len()).sum()),
        // ";refresher=" is 11 bytes, the value 3.
        Value::SessionExpires(n, r) => digits(n) + if r.is_some() { 14 } else { 0 },
    }
}

/// Whether `name` is Content-Length, full or compact (RFC 3261 §7.3.3).
fn is_content_length(name: &str) -> bool {
    match name.len() {
        1 => name.eq_ignore_ascii_case("l"),
        14 => HeaderKind::from_name(name.as_bytes()) == HeaderKind::ContentLength,
        _ => false,
    }
}

/// A tag as the parser accepts it (`lex`'s tag class): non-empty, visible ASCII but the
/// bytes that would end or quote the parameter (`"<>,;=`). RFC 3261 §25.1 makes it a
/// token; live traffic also writes `&`, `^`, `:`, and a dialog writes the peer's tag
/// back in every request (§12.2.1.1), so the writer takes what the parser took.
fn is_tag(t: &str) -> bool {
    // The parser's own class, by table, four bytes a step.
    !t.is_empty() && lex::all_tag_bytes(t.as_bytes())
}

/// A CR or LF is only allowed as part of a CRLF line fold (followed by SP or HTAB).
fn no_injection(b: &[u8]) -> bool {
    // Nearly every value holds no control byte at all: one pass settles it.
    if !has_control(b) {
        return true;
    }
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\r' => {
                if b.get(i + 1) != Some(&b'\n') || !matches!(b.get(i + 2), Some(b' ' | b'\t')) {
                    return false;
                }
                i += 3;
            }
            // A bare LF would break the CRLF framing the builder writes.
            b'\n' => return false,
            _ => i += 1,
        }
    }
    true
}

/// Whether every byte of `b` is visible ASCII (`!` to `~`), as a Request-URI's must be.
/// Eight bytes a step, as [`has_control`].
fn all_visible(b: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // A byte below `!`, or above `~` (adding 1 sets its high bit, or it was set).
    let bad =
        |w: u64| (w.wrapping_sub(ONES * 0x21) & !w | (w & !HIGH).wrapping_add(ONES) | w) & HIGH;
    if b.len() < 8 {
        return b.iter().all(|&c| c > b' ' && c < 0x7f);
    }
    or_words(b, bad) == 0
}

/// Whether `b` holds a byte below SP. Eight bytes a step: the SWAR test "some byte is
/// less than n" (exact for "any" when n <= 128), on every word and an overlapping last.
fn has_control(b: &[u8]) -> bool {
    const SP: u64 = 0x2020_2020_2020_2020;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let below = |w: u64| w.wrapping_sub(SP) & !w & HIGH;
    if b.len() < 8 {
        return b.iter().any(|&c| c < b' ');
    }
    or_words(b, below) != 0
}

/// The OR of `f` over words covering `b` (at least 8 bytes), for a test `f` exact on
/// each word alone: the first and last words (overlapping) up to 16 bytes, four up to
/// 32 (most values: no loop to set up), else every word and an overlapping last.
#[inline(always)]
fn or_words(b: &[u8], f: impl Fn(u64) -> u64) -> u64 {
    let word = |c: &[u8]| {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        u64::from_le_bytes(w)
    };
    let (Some(first), Some(last)) = (b.first_chunk::<8>(), b.last_chunk::<8>()) else {
        return 0;
    };
    let ends = f(u64::from_le_bytes(*first)) | f(u64::from_le_bytes(*last));
    let n = b.len();
    if n <= 16 {
        return ends;
    }
    if n <= 32 {
        // The second word and the one before the last cover the middle.
        return ends | f(word(&b[8..16])) | f(word(&b[n - 16..n - 8]));
    }
    let mut any = ends;
    for c in b.chunks_exact(8) {
        any |= f(word(c));
    }
    any
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every code's canonical reason phrase passes the start line's check, so that
    /// `check` may take it as checked; a reason set by the host is checked again.
    #[cfg(feature = "endpoint")]
    #[test]
    fn canonical_reasons_pass_the_check() {
        for n in 100..=699 {
            let Some(code) = StatusCode::new(n) else {
                continue;
            };
            let reason = code.reason();
            assert!(
                reason
                    .bytes()
                    .all(|b| (b >= b' ' && b != 0x7f) || b == b'\t'),
                "{n} {reason:?}"
            );
            let b = MessageBuilder::response(code);
            let mut unvouched = b.clone();
            unvouched.trust_nothing();
            assert_eq!(b.check(), unvouched.check(), "{n}");
            assert_eq!(b.check(), Ok(()), "{n}");
        }
        let b = MessageBuilder::response(StatusCode::OK).reason("O\rK");
        assert_eq!(b.check(), Err(EncodeError::InvalidStartLine));
        let b = MessageBuilder::response(StatusCode::OK).reason("Fine");
        assert_eq!(b.check(), Ok(()));
    }

    /// Every way of writing gives the same bytes: through a [`Write`] sink piece by piece,
    /// by index into a slice, and appended to or replacing a stored message; a sink one
    /// byte short is left untouched by each.
    #[test]
    fn every_sink_writes_the_same_bytes() {
        let via = ViaValue {
            transport: "UDP",
            sent_by: "[2001:db8::1]:5060",
            branch: "z9hG4bK-x.1",
            rport: true,
        };
        let methods = [Method::Invite, Method::Ack, Method::Bye];
        let mut b = MessageBuilder::request(Method::Invite, "sip:bob@example.com;transport=tcp")
            .header("Via", Value::Via(via))
            .header("Max-Forwards", Value::Number(70))
            .header("From", Value::Tagged(b"\"A\" <sip:a@h>", "t&^1"))
            .header("To", Value::Raw(b"<sip:b@h>\r\n\t;x=y"))
            .header("Call-ID", Value::Text("c@h"))
            .header("CSeq", Value::CSeq(4_294_967_295, Method::Invite))
            .header("Allow", Value::Methods(&methods))
            .header("Supported", Value::Tokens(&["timer", "100rel"]))
            .header(
                "Session-Expires",
                Value::SessionExpires(1800, Some(Refresher::Uac)),
            )
            .header("Min-SE", Value::Number(0))
            .body("application/sdp", b"v=0\r\n");
        b.push_trusted("Subject", Value::Text("a"));
        b.push_named("Expires", Value::Number(9));
        let n = b.encoded_len().unwrap(); // unwrap: every value is valid
        let mut piecewise: heapless::Vec<u8, 1024> = heapless::Vec::new();
        assert_eq!(b.encode(&mut piecewise), Ok(n));
        let mut slice = [0u8; 1024];
        assert_eq!(b.encode_into(&mut slice), Ok(n));
        assert_eq!(&slice[..n], &piecewise[..]);
        assert!(crate::message::Message::parse(&piecewise).is_ok());
        let mut short = [7u8; 1024];
        assert_eq!(
            b.encode_into(&mut short[..n - 1]),
            Err(EncodeError::BufferTooSmall { needed: n })
        );
        assert!(short.iter().all(|&x| x == 7));
        #[cfg(feature = "endpoint")]
        {
            let mut appended: heapless::Vec<u8, 1024> = heapless::Vec::new();
            appended.extend_from_slice(b"kept").unwrap(); // unwrap: room
            assert_eq!(b.encode_appending(&mut appended), Ok(n));
            assert_eq!(&appended[..4], b"kept");
            assert_eq!(&appended[4..], &piecewise[..]);
            let mut replaced: heapless::Vec<u8, 1024> = heapless::Vec::new();
            replaced.extend_from_slice(b"old").unwrap(); // unwrap: room
            assert_eq!(b.encode_replacing(&mut replaced), Ok(n));
            assert_eq!(&replaced[..], &piecewise[..]);
            // Too small: the stored bytes stay, nothing is appended.
            let mut small: heapless::Vec<u8, 64> = heapless::Vec::new();
            small.extend_from_slice(b"old").unwrap(); // unwrap: room
            assert!(b.encode_replacing(&mut small).is_err());
            assert!(b.encode_appending(&mut small).is_err());
            assert_eq!(&small[..], b"old");
        }
    }

    /// Numbers of every digit count, and each side of where the count is found by
    /// comparison, are written as the reference writes them.
    #[test]
    fn numbers_match_the_reference() {
        let mut ns: std::vec::Vec<u32> = (0..=1100).collect();
        ns.extend([9_999, 10_000, 99_999, 100_000, 4_294_967_294, u32::MAX]);
        ns.extend((0..32).map(|k| 1u32 << k));
        for n in ns {
            let mut b = MessageBuilder::request(Method::Bye, "sip:a@b");
            b.push("N", Value::Number(n));
            b.push("C", Value::CSeq(n, Method::Bye));
            b.push("E", Value::SessionExpires(n, Some(Refresher::Uac)));
            let (new, old) = b.both_writers();
            assert_eq!(new, old, "{n}");
        }
    }

    /// The status line of every code is the reference's (its digits made in place).
    #[test]
    fn every_status_line_matches_the_reference() {
        for n in 100..=699 {
            let Some(code) = StatusCode::new(n) else {
                continue;
            };
            for b in [
                MessageBuilder::response(code),
                MessageBuilder::response(code).reason(""),
            ] {
                let (new, old) = b.both_writers();
                assert_eq!(new, old, "{n}");
            }
        }
    }

    /// The paired writer writes the reference's bytes for every kind of value, with
    /// pieces of every length from empty to past the 16 bytes where copies change
    /// method.
    #[test]
    fn paired_writer_matches_the_reference() {
        let text: std::string::String = "abcdefghijklmnopqrstuvwxyz0123456789".into();
        let methods = [Method::Invite, Method::Ack, Method::Bye];
        let mut written = 0;
        for len in 0..text.len() {
            let t = &text[..len];
            let one = &text[..len.max(1)];
            let tokens = [one, t];
            for code in [StatusCode::TRYING, StatusCode::OK, StatusCode::RINGING] {
                let mut b = MessageBuilder::response(code).reason(t);
                b.push("X", Value::Raw(t.as_bytes()));
                b.push(one, Value::Text(t));
                b.push("N", Value::Number(len as u32 * 99_991));
                b.push("C", Value::CSeq(len as u32, Method::Options));
                b.push("T", Value::Tagged(t.as_bytes(), one));
                for rport in [false, true] {
                    b.push(
                        "Via",
                        Value::Via(ViaValue {
                            transport: one,
                            sent_by: one,
                            branch: one,
                            rport,
                        }),
                    );
                }
                b.push("A", Value::Methods(&methods[..len % 4]));
                b.push("S", Value::Tokens(&tokens[..len % 3]));
                b.push("E", Value::SessionExpires(len as u32, None));
                b.push("E", Value::SessionExpires(7, Some(Refresher::Uas)));
                b.set_body(one, t.as_bytes());
                let (new, old) = b.both_writers();
                assert_eq!(new, old, "length {len}");
                written += new.len();
                #[cfg(feature = "endpoint")]
                b.one_pass_agrees_everywhere();
            }
            let b = MessageBuilder::request(Method::Extension(one), one);
            let (new, old) = b.both_writers();
            assert_eq!(new, old, "request line of {len}");
        }
        assert!(written > 10_000);
    }

    /// The paired writer writes the reference's bytes for a response to, and a copy of,
    /// every corpus request, and a copy of every corpus response (each header copied
    /// raw, the body kept).
    #[test]
    #[ignore = "needs ../shared/corpus"]
    fn paired_writer_matches_the_reference_on_the_corpus() {
        let mut compared = 0;
        for bytes in crate::corpus_inputs::inputs() {
            let Ok(msg) = crate::message::Message::parse(&bytes) else {
                continue;
            };
            let mut copy = match (msg.method(), msg.request_uri_raw(), msg.status()) {
                (Some(m), Some(uri), _) => MessageBuilder::request_raw(m, uri),
                (_, _, Some(code)) => MessageBuilder::response(code),
                _ => continue,
            };
            for h in msg.headers() {
                copy.push(h.name, Value::Raw(h.value));
            }
            copy.set_body("application/sdp", msg.body());
            let (new, old) = copy.both_writers();
            assert_eq!(new, old);
            #[cfg(feature = "endpoint")]
            copy.one_pass_agrees_everywhere();
            compared += 1;
            if msg.is_request() {
                let mut b = MessageBuilder::response(StatusCode::OK);
                if b.push_response_headers(&msg, StatusCode::OK, "t1", None, None)
                    .is_ok()
                {
                    let (new, old) = b.both_writers();
                    assert_eq!(new, old);
                    #[cfg(feature = "endpoint")]
                    b.one_pass_agrees_everywhere();
                    compared += 1;
                }
            }
        }
        assert!(compared > 1000, "{compared}");
    }

    /// The one-pass writer fails as the counted one does, and leaves the buffer as it
    /// does: a bad start line, a bad header (the first of several, trusted ones
    /// skipped), too many headers, too little room.
    #[cfg(feature = "endpoint")]
    #[test]
    fn one_pass_writer_fails_as_the_counted_one() {
        let ok = || {
            let mut b = MessageBuilder::response(StatusCode::OK);
            b.push_trusted("Call-ID", Value::Text("a@b"));
            b.push("Subject", Value::Text("fine"));
            b
        };
        ok().one_pass_agrees_everywhere();
        ok().reason("bad\r\n").one_pass_agrees_everywhere();
        MessageBuilder::request(Method::Extension("B AD"), "sip:x").one_pass_agrees_everywhere();
        MessageBuilder::request(Method::Invite, "sip:x y").one_pass_agrees_everywhere();
        MessageBuilder::request(Method::Invite, "").one_pass_agrees_everywhere();
        let mut b = ok();
        b.push("X", Value::Text("a\r\nB: c"));
        b.push("Content-Length", Value::Number(3));
        b.one_pass_agrees_everywhere();
        let mut b = ok();
        b.push("Bad Name", Value::Text("v"));
        b.push_named("Y", Value::Raw(b"\n"));
        b.one_pass_agrees_everywhere();
        let mut b = ok();
        b.push_named("Y", Value::Tagged(b"<sip:a>", "t;x"));
        b.one_pass_agrees_everywhere();
        let mut b = ok();
        for _ in 0..MAX_BUILDER_HEADERS {
            b.push_trusted("Z", Value::Number(1));
        }
        assert_eq!(
            b.encoded_len(),
            Err(EncodeError::Capacity(Capacity::Headers))
        );
        b.one_pass_agrees_everywhere();
        let big = [b'x'; 1400];
        ok().body("a/b", &big).one_pass_agrees_everywhere();
        ok().body("a/b", &big[..700]).one_pass_agrees_everywhere();
    }

    /// Every known method's name is a token, so `is_method` need not scan it; an
    /// extension's is scanned.
    #[test]
    fn known_methods_are_tokens() {
        for m in Method::KNOWN {
            assert!(m.is_known() && is_token(m.as_str()), "{m:?}");
            assert!(is_method(&m));
            // So a known method's CSeq, and a number, may be pushed as trusted.
            assert!(value_ok(&Value::CSeq(u32::MAX, m)));
        }
        assert!(!value_ok(&Value::CSeq(1, Method::Extension("A B"))));
        assert!(
            [0, 70, u32::MAX]
                .iter()
                .all(|&n| value_ok(&Value::Number(n)))
        );
        assert!(is_method(&Method::Extension("FOO")));
        assert!(!is_method(&Method::Extension("FO O")));
        assert!(!is_method(&Method::Extension("")));
    }

    /// The word-at-a-time visible-ASCII test agrees with a byte loop, at every length
    /// and position; so does the token test with the lexer's.
    #[test]
    fn visible_scan_agrees_with_a_byte_loop() {
        for len in 0..40 {
            for at in 0..len {
                for c in 0..=255u8 {
                    // Visible bytes at both ends of the range around the one changed.
                    let mut v = [b'!', b'~', b'a', b'x'].repeat(10);
                    v[at] = c;
                    let s = &v[..len];
                    let old = s.iter().all(|&c| c > b' ' && c < 0x7f);
                    assert_eq!(all_visible(s), old, "{len} {at} {c}");
                    if let Ok(t) = core::str::from_utf8(s) {
                        assert_eq!(is_token(t), lex::is_token_str(s), "{len} {at} {c}");
                    }
                }
            }
        }
    }

    /// The word-at-a-time scan agrees with a byte loop, at every length and position.
    #[test]
    fn control_scan_agrees_with_a_byte_loop() {
        for len in 0..40 {
            for at in 0..len {
                for c in 0..=255u8 {
                    // Neighbours that borrow (SP, 0x80) or sit high (0xff).
                    let mut v = [b' ', 0x80, 0xff, b'x'].repeat(10);
                    v[at] = c;
                    let s = &v[..len];
                    assert_eq!(
                        has_control(s),
                        s.iter().any(|&c| c < b' '),
                        "{len} {at} {c}"
                    );
                }
            }
            assert!(!has_control(&[b'a'; 40][..len]));
        }
    }

    /// The tag check by the parser's table agrees with the predicate it replaced, on
    /// every byte (and so on every tag).
    #[test]
    fn tag_bytes_agree_with_the_predicate() {
        for b in 0..=255u8 {
            let old = b.is_ascii_graphic() && !matches!(b, b'"' | b'<' | b'>' | b',' | b';' | b'=');
            assert_eq!(lex::is_tag_byte(b), old, "{b}");
        }
        assert!(!is_tag("") && is_tag("a1&^:") && !is_tag("a;b"));
    }
}
