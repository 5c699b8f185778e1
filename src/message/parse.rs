//! The message parser: start line, header index, body (RFC 3261 §7, §18.3, §20.14) and
//! stream framing (RFC 3261 §18.3, RFC 5626 §3.5.1).
//!
//! One pass over the header section finds every line, checks line ends and header names,
//! and records each header's name and value position in a bounded index; typed views
//! parse values only when asked. Line ends are CRLF, or bare LF throughout (as the main
//! C stacks accept); a message that mixes them, or a CR not followed by LF, is refused.

use core::fmt;

use crate::error::{Capacity, ParseError, ParseErrorKind as K};

use super::header_name::{Header, HeaderKind};
use super::{Method, StatusCode, lex};

/// Capacity of the header index: the most header lines a [`Message`] can hold.
pub const MAX_HEADERS: usize = 64;

/// Default for [`Limits::max_message`]: the largest UDP payload.
pub const DEFAULT_MAX_MESSAGE: usize = 65_535;

/// Bounds applied while parsing. Exceeding one is a
/// [`ParseErrorKind::Capacity`](crate::ParseErrorKind::Capacity) error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest message (start line, headers and body) accepted, in bytes. Whatever the
    /// limit, the header section must end within the first 65,535 bytes (a
    /// [`Capacity::MessageSize`](crate::Capacity::MessageSize) error otherwise); only
    /// the body of a larger message may run beyond.
    pub max_message: usize,
    /// Most header lines accepted (at most [`MAX_HEADERS`]).
    pub max_headers: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message: DEFAULT_MAX_MESSAGE,
            max_headers: MAX_HEADERS,
        }
    }
}

/// The first line of a message (RFC 3261 §7.1, §7.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StartLine<'a> {
    /// `Method SP Request-URI SP SIP-Version`.
    Request {
        /// The method.
        method: Method<'a>,
        /// The Request-URI as received (parse it with
        /// [`Message::request_uri`](Message::request_uri)).
        uri: &'a [u8],
        /// The SIP-Version, e.g. `SIP/2.0`.
        version: &'a str,
    },
    /// `SIP-Version SP Status-Code SP Reason-Phrase`.
    Response {
        /// The SIP-Version, e.g. `SIP/2.0`.
        version: &'a str,
        /// The status code.
        code: StatusCode,
        /// The reason phrase (UTF-8, may be empty).
        reason: &'a str,
    },
}

/// The longest header section [`Message::parse_stream`] waits for: the last header value
/// may end at the index's bound (65,535), then its CRLF and the empty line.
const STREAM_HEAD_MAX: usize = u16::MAX as usize + 4;

/// Result of [`Message::parse_stream`]: what the bytes at the front of a stream hold.
// No heap to box into: the message is returned by value, as `Message::parse` does.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum Framed<'a> {
    /// Not enough bytes yet for a whole message; read more and call again.
    Incomplete {
        /// The length of the whole message (header section, body and any line ends
        /// skipped before it), once its header section is in and gave the Content-Length:
        /// the host can wait until it holds this many bytes rather than frame the same
        /// header section again on every read. `None` while the header section is
        /// still arriving.
        total: Option<usize>,
    },
    /// A whole message and the number of bytes it used.
    Message(Message<'a>, usize),
    /// An RFC 5626 §3.5.1 keep-alive and the number of bytes it used.
    KeepAlive(KeepAlive, usize),
}

/// An RFC 5626 §3.5.1 CRLF keep-alive seen between messages on a stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum KeepAlive {
    /// A double CRLF: the peer expects a pong.
    Ping,
    /// A single CRLF: the answer to a ping.
    Pong,
}

/// What `#[derive(Debug)]` gave before the `text` cache existed: the cache repeats the
/// bytes and says nothing new.
impl fmt::Debug for Message<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Message")
            .field("bytes", &self.bytes)
            .field("start", &self.start)
            .field("slots", &self.slots)
            .field("first", &self.first)
            .field("body_start", &self.body_start)
            .field("start_offset", &self.start_offset)
            .finish()
    }
}

/// A header line in the index: positions only, so an entry is 8 bytes and the whole
/// index of a [`Message`] about half a kilobyte (it is copied with the message). The
/// header section therefore ends within the first 64 KiB; the body may run beyond. The
/// name is the token run at `name_start`, found again when asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Slot {
    name_start: u16,
    value_start: u16,
    value_end: u16,
    kind: HeaderKind,
}

const NONE: u8 = u8::MAX;

/// A SIP message: a zero-copy view over the bytes it was parsed from.
///
/// ```
/// use sansip::message::{HeaderKind, Message, Method};
/// let bytes = b"OPTIONS sip:bob@example.com SIP/2.0\r\n\
///     Via: SIP/2.0/UDP pc33.example.com;branch=z9hG4bK776asdhds\r\n\
///     Max-Forwards: 70\r\n\
///     To: <sip:bob@example.com>\r\n\
///     From: Alice <sip:alice@example.com>;tag=1928301774\r\n\
///     Call-ID: a84b4c76e66710\r\n\
///     CSeq: 63104 OPTIONS\r\n\
///     Content-Length: 0\r\n\r\n";
/// let msg = Message::parse(bytes)?;
/// assert_eq!(msg.method(), Some(Method::Options));
/// assert_eq!(msg.header(HeaderKind::CallId).map(|h| h.value), Some(&b"a84b4c76e66710"[..]));
/// assert_eq!(msg.headers().count(), 7);
/// assert!(msg.body().is_empty());
/// # Ok::<(), sansip::ParseError>(())
/// ```
#[derive(Clone)]
pub struct Message<'a> {
    bytes: &'a [u8],
    start: StartLine<'a>,
    slots: heapless::Vec<Slot, MAX_HEADERS, u8>,
    /// Index of the first header of each known kind, `NONE` if absent: O(1) lookup.
    first: [u8; HeaderKind::COUNT],
    /// The named kinds that have more than one header, one bit each (`kind as u32 &
    /// 63`): most messages repeat none of the single-valued ones, which settles
    /// [`Message::first_conflicting`] without a pass over the index.
    repeated: u64,
    body_start: usize,
    /// Offset of the start line (after any leading CRLFs).
    start_offset: usize,
    /// The start line and header section as `&str`, when they are UTF-8 (nearly always:
    /// they are nearly always ASCII). Validated once in one pass, so that the typed views
    /// slice their `&str` parts out of it instead of each paying a UTF-8 pass of its own
    /// (whose fixed cost exceeds the per-byte one on short parts). It ends up to 15
    /// bytes short of the body (see [`text_end`]): a part there takes its own pass.
    text: Option<&'a str>,
}

impl<'a> Message<'a> {
    /// Parse one datagram with the default [`Limits`] (RFC 3261 §18.3: bytes beyond
    /// Content-Length are ignored; a body shorter than Content-Length is an error;
    /// without Content-Length the body runs to the end of the datagram).
    pub fn parse(bytes: &'a [u8]) -> Result<Self, ParseError> {
        Self::parse_with(bytes, &Limits::default())
    }

    /// Parse one datagram under `limits`.
    #[inline]
    pub fn parse_with(bytes: &'a [u8], limits: &Limits) -> Result<Self, ParseError> {
        let mut msg = Message::empty(bytes);
        msg.read_datagram(limits)?;
        Ok(msg)
    }

    /// [`Message::parse_with`] on an [`empty`](Message::empty) view of the datagram,
    /// filling it in place: the view is some 700 bytes, and the endpoint, which parses
    /// every datagram, saves the copy of it out of a `Result` this way.
    #[inline]
    pub(crate) fn read_datagram(&mut self, limits: &Limits) -> Result<(), ParseError> {
        let bytes = self.bytes;
        if bytes.len() > limits.max_message {
            return Err(ParseError::new(
                K::Capacity(Capacity::MessageSize),
                limits.max_message,
            ));
        }
        let msg = self;
        msg.read_head(limits, false)?;
        let available = bytes.len() - msg.body_start;
        let end = match msg.declared_content_length()? {
            Some(len) if len > available => {
                return Err(ParseError::new(K::BodyTruncated, bytes.len()));
            }
            Some(len) => msg.body_start + len,
            None => bytes.len(),
        };
        msg.bytes = &bytes[..end];
        Ok(())
    }

    /// Frame the next message on a stream transport (TCP, TLS, WebSocket).
    ///
    /// `bytes` holds what has been received and not yet consumed. Returns
    /// [`Framed::Incomplete`] until a whole message is present, then the message and how
    /// many bytes it used; CRLF keep-alives between messages are reported as such
    /// (RFC 5626 §3.5.1). Content-Length is mandatory on streams (RFC 3261 §18.3).
    /// A lone CRLF at the end of the buffer is read as a pong. Other line ends before a
    /// start line (bare LFs) are skipped with the message that follows, as in a
    /// datagram (RFC 3261 §7.5), and count in the bytes it used. A message that cannot fit
    /// is refused as soon as that is known, never waited for: a Content-Length taking it
    /// past [`Limits::max_message`], or a header section not ended within `max_message`
    /// bytes or within the first 64 KiB (the most the header index holds), is a
    /// [`Capacity::MessageSize`](crate::Capacity::MessageSize) error.
    ///
    /// ```
    /// use sansip::message::{Framed, KeepAlive, Limits, Message};
    /// let l = Limits::default();
    /// assert!(matches!(Message::parse_stream(b"\r\n\r\n", &l), Ok(Framed::KeepAlive(KeepAlive::Ping, 4))));
    /// let msg = b"SIP/2.0 200 OK\r\nContent-Length: 2\r\n\r\nhiNEXT";
    /// // The header section is in: the whole message is known to take 39 bytes.
    /// assert!(matches!(
    ///     Message::parse_stream(&msg[..37], &l),
    ///     Ok(Framed::Incomplete { total: Some(39) })
    /// ));
    /// assert!(matches!(
    ///     Message::parse_stream(&msg[..30], &l),
    ///     Ok(Framed::Incomplete { total: None })
    /// ));
    /// match Message::parse_stream(msg, &l) {
    ///     Ok(Framed::Message(m, used)) => { assert_eq!(m.body(), b"hi"); assert_eq!(used, 39); }
    ///     other => panic!("{other:?}"),
    /// }
    /// ```
    pub fn parse_stream(bytes: &'a [u8], limits: &Limits) -> Result<Framed<'a>, ParseError> {
        if bytes.starts_with(b"\r\n\r\n") {
            return Ok(Framed::KeepAlive(KeepAlive::Ping, 4));
        }
        if bytes.starts_with(b"\r\n") {
            // "\r\n\r" may be a ping cut short; anything else after the CRLF is a pong
            // followed by the next message.
            return Ok(if bytes == b"\r\n\r" {
                Framed::Incomplete { total: None }
            } else {
                Framed::KeepAlive(KeepAlive::Pong, 2)
            });
        }
        if bytes.is_empty() {
            return Ok(Framed::Incomplete { total: None });
        }
        // RFC 3261 §7.5: other line ends before the start line (bare LFs, which this
        // parser accepts as line ends, or a lone CR) are skipped with the message, as
        // `read_head` skips them in a datagram; the empty line that ends the header
        // section is looked for after them, not found among them.
        let lead = bytes
            .iter()
            .position(|&b| !matches!(b, b'\r' | b'\n'))
            .unwrap_or(bytes.len());
        let too_long = || {
            ParseError::new(
                K::Capacity(Capacity::MessageSize),
                limits.max_message.min(STREAM_HEAD_MAX),
            )
        };
        let Some(head_end) = find_head_end(&bytes[lead..]).map(|end| lead + end) else {
            // The header index holds 16-bit positions (see `Limits::max_message`): a
            // header section not ended by `STREAM_HEAD_MAX` can never be read, so it is
            // refused now rather than buffered up to a larger `max_message` first.
            if bytes.len() >= limits.max_message || bytes.len() > STREAM_HEAD_MAX {
                return Err(too_long());
            }
            return Ok(Framed::Incomplete { total: None });
        };
        // One that ends past it is refused too, though it arrived whole: the answer must
        // not depend on how the bytes arrived (a value whose trailing white space ran
        // past the bound would otherwise fit the index, and be taken only then).
        if head_end > STREAM_HEAD_MAX {
            return Err(too_long());
        }
        let mut msg = Message::empty(&bytes[..head_end]);
        msg.read_head(limits, false)?;
        let len = msg
            .declared_content_length()?
            .ok_or(ParseError::new(K::ContentLengthRequired, msg.body_start))?;
        let total = msg
            .body_start
            .checked_add(len)
            .ok_or(ParseError::new(K::ContentLength, 0))?;
        if total > limits.max_message {
            return Err(ParseError::new(
                K::Capacity(Capacity::MessageSize),
                limits.max_message,
            ));
        }
        if bytes.len() < total {
            return Ok(Framed::Incomplete { total: Some(total) });
        }
        msg.bytes = &bytes[..total];
        Ok(Framed::Message(msg, total))
    }

    /// An empty view over `bytes`, filled in by [`Message::read_head`]. Building the
    /// (large) value once in the caller's frame and filling it by reference avoids
    /// copying it out through each `Result`.
    #[inline(always)]
    pub(crate) fn empty(bytes: &'a [u8]) -> Self {
        Message {
            bytes,
            start: StartLine::Request {
                method: Method::Invite,
                uri: &[],
                version: "",
            },
            slots: heapless::Vec::new(),
            first: [NONE; HeaderKind::COUNT],
            repeated: 0,
            body_start: bytes.len(),
            start_offset: 0,
            text: None,
        }
    }

    /// Read the start line and header section of a request whose start line or body is
    /// broken, so that a UAS can still answer it with 400 (RFC 3261 §8.2, §18.3): the
    /// Request-Line only needs a method token and a space; Content-Length is not
    /// checked. `None` if even that much is missing or the header section is broken.
    pub fn salvage_request(bytes: &'a [u8], limits: &Limits) -> Option<Self> {
        if bytes.len() > limits.max_message {
            return None;
        }
        let mut msg = Message::empty(bytes);
        msg.read_head(limits, true).ok()?;
        msg.is_request().then_some(msg)
    }

    /// Read the start line and the header section into `self`; the body is everything
    /// after.
    fn read_head(&mut self, limits: &Limits, lenient: bool) -> Result<(), ParseError> {
        let bytes = self.bytes;
        // RFC 3261 §7.5: CRLFs before the start line are ignored.
        let mut pos = 0;
        while pos < bytes.len() && matches!(bytes[pos], b'\r' | b'\n') {
            pos += 1;
        }
        if pos == bytes.len() {
            return Err(ParseError::new(K::Empty, 0));
        }
        let (start, next, crlf) = match common_start_line(&bytes[pos..]) {
            // The line end `line_end` would find, and would take.
            Some((start, len)) if bytes[pos + len] == b'\n' => (start, pos + len + 1, false),
            Some((start, len)) if bytes.get(pos + len + 1) == Some(&b'\n') => {
                (start, pos + len + 2, true)
            }
            _ => {
                let (line_end, next, crlf) = line_end(bytes, pos, None)?;
                let line = &bytes[pos..line_end];
                let start = match parse_start_line(line, pos) {
                    Ok(start) => start,
                    Err(e) if lenient => lenient_request_line(line).ok_or(e)?,
                    Err(e) => return Err(e),
                };
                (start, next, crlf)
            }
        };
        self.start = start;
        self.start_offset = pos;
        let msg = self;
        let max_headers = limits.max_headers.min(MAX_HEADERS);
        pos = next;
        loop {
            // Nearly every line: a known name and a value on one line.
            pos = if crlf {
                msg.known_headers::<true>(bytes, pos, max_headers)
            } else {
                msg.known_headers::<false>(bytes, pos, max_headers)
            };
            if pos >= bytes.len() {
                // The input ended right after a complete header line, without the empty
                // line: tolerated as an empty body, as the main C stacks do (the RFC 5118
                // archive ships messages like that). A line cut short is still an error.
                msg.body_start = pos;
                break;
            }
            // The empty line ends the header section.
            if bytes[pos] == b'\n' && !crlf {
                msg.body_start = pos + 1;
                break;
            }
            if bytes[pos] == b'\r' {
                if crlf && bytes.get(pos + 1) == Some(&b'\n') {
                    msg.body_start = pos + 2;
                    break;
                }
                return Err(ParseError::new(K::HeaderValue, pos));
            }
            pos = msg.parse_header(bytes, pos, crlf, max_headers)?;
        }
        msg.text = core::str::from_utf8(&bytes[..text_end(bytes, msg.body_start)]).ok();
        Ok(())
    }

    /// `len` bytes at `offset` as `&str`, if the header section is UTF-8 (see `text`)
    /// and they lie in it on character boundaries.
    #[inline]
    pub(crate) fn text_at(&self, offset: usize, len: usize) -> Option<&'a str> {
        self.text?.get(offset..offset.checked_add(len)?)
    }

    /// `part`, a slice of this message's bytes, as `&str` (see [`Message::text_at`]).
    /// Its offset is found from the addresses, which is exact for any part however the
    /// start line was split (a salvaged Request-URI may follow more than one space).
    pub(crate) fn text_of(&self, part: &[u8]) -> Option<&'a str> {
        let offset = (part.as_ptr() as usize).checked_sub(self.bytes.as_ptr() as usize)?;
        self.text_at(offset, part.len())
    }

    /// [`Message::known_header`] on the lines from `pos` on while it reads them; returns
    /// where it stopped. Inline in `read_head` (once per line-end style): the call's
    /// prologue and arguments cost more than the loop's few extra spills there.
    #[inline(always)]
    fn known_headers<const CRLF: bool>(
        &mut self,
        bytes: &'a [u8],
        mut pos: usize,
        max: usize,
    ) -> usize {
        // Every position then fits the index (else `parse_header` refuses the line).
        if bytes.len() > usize::from(u16::MAX) {
            return pos;
        }
        let before = self.slots.len();
        while let Some(next) = self.known_header::<CRLF>(bytes, pos, max) {
            pos = next;
        }
        // A line that starts with SP or HTAB (never a known name: the loop stops there)
        // continues the one before, which `known_header` recorded without looking
        // ahead: it is taken back, for `parse_header` to read with its continuation.
        if bytes.get(pos).is_some_and(|&b| b == b' ' || b == b'\t') && self.slots.len() > before {
            return self.take_back_last();
        }
        pos
    }

    /// Take the last header out of the index and the lookup table, as if it had never
    /// been recorded; returns where its line starts.
    #[cold]
    #[inline(never)]
    fn take_back_last(&mut self) -> usize {
        let Some(slot) = self.slots.pop() else {
            return 0;
        };
        let kind = slot.kind;
        if kind != HeaderKind::Other {
            if usize::from(self.first[kind as usize]) == self.slots.len() {
                self.first[kind as usize] = NONE;
            } else if self.slots.iter().filter(|s| s.kind == kind).count() < 2 {
                self.repeated &= !(1u64 << (kind as u32 & 63));
            }
        }
        usize::from(slot.name_start)
    }

    /// [`Message::parse_header`] for the common line: a known name of at most 15 bytes
    /// right before the colon, and a value on one line that ends as `CRLF` says and
    /// fits the index. `None` for any other line (the empty one too), which
    /// `parse_header` then reads, or refuses, as before: nothing has changed then.
    ///
    /// Everything is read relative to `rest`, the bytes from `pos` on; its first 16
    /// bytes serve both the name and the search for the line end.
    #[inline(always)]
    fn known_header<const CRLF: bool>(
        &mut self,
        bytes: &'a [u8],
        pos: usize,
        max: usize,
    ) -> Option<usize> {
        let rest = bytes.get(pos..)?;
        let head = rest.first_chunk::<16>()?;
        let (w0, w1) = words(head);
        // The name: as `name_before_colon` finds it. A known name is a token run, so
        // this is what `parse_header` finds (see there).
        let (kind, colon) = match (colon_flags(w0), colon_flags(w1)) {
            (0, 0) => return None,
            (0, flags) => {
                let len = 8 + (flags.trailing_zeros() / 8) as usize;
                // The name's bytes and the colon's, nothing after.
                let w1 = w1 & through_lowest(flags);
                (HeaderKind::from_colon_words(w0, w1)?, len)
            }
            (flags, _) => {
                let len = (flags.trailing_zeros() / 8) as usize;
                let w0 = w0 & through_lowest(flags);
                (HeaderKind::from_colon_word(w0)?, len)
            }
        };
        // The line end: the first byte below 0x0E from the colon on, which the test
        // just below takes for the line end only if it is one. Neither the name nor the
        // colon has such a byte, so the first of the 16 lies after the colon. Any other
        // control there (a tab, say) leaves the line to `parse_header`.
        let at = match (below_0e(w0), below_0e(w1)) {
            (0, 0) => below_0e_after_16(rest)?,
            (0, f1) => 8 + (f1.trailing_zeros() / 8) as usize,
            (f0, _) => (f0.trailing_zeros() / 8) as usize,
        };
        // `line_end` of `parse_header`, every case it would refuse left to it.
        let next = if CRLF {
            if rest.get(at..at + 2)? != b"\r\n" {
                return None;
            }
            at + 2
        } else {
            if rest[at] != b'\n' {
                return None;
            }
            at + 1
        };
        // Whether the next line continues this one is settled when the loop stops there
        // (see `known_headers`).
        // `lex::trim` on the value between the colon and the line end: no CR or LF
        // there, so LWS is SP or HTAB. Nearly always one SP before and none after, and
        // a byte above SP is neither: one test a side. (`colon` < `at` < `rest.len()`;
        // a SP after the colon is before `at`.)
        let mut value_start = colon + 1;
        value_start += usize::from(rest[value_start] == b' ');
        let mut value_end = at;
        if rest[value_start] <= b' ' || rest[value_end - 1] <= b' ' {
            (value_start, value_end) = trim_value(rest, value_start, at);
        }
        // `pos + value_end` < `bytes.len()`, which `known_headers` checked fits in u16.
        if self.slots.len() >= max {
            return None;
        }
        self.record(Slot {
            name_start: pos as u16,
            value_start: (pos + value_start) as u16,
            value_end: (pos + value_end) as u16,
            kind,
        })
        .ok()?;
        Some(pos + next)
    }

    /// Add `slot` to the index and the lookup table; `Err` if the index is full.
    #[inline(always)]
    fn record(&mut self, slot: Slot) -> Result<(), Slot> {
        let index = self.slots.len();
        let kind = slot.kind;
        self.slots.push(slot)?;
        if kind != HeaderKind::Other {
            if self.first[kind as usize] == NONE {
                // `index` < MAX_HEADERS (64) fits in u8.
                self.first[kind as usize] = index as u8;
            } else {
                self.repeated |= 1u64 << (kind as u32 & 63);
            }
        }
        Ok(())
    }

    /// Parse one header (with its folded continuation lines) starting at `pos`; returns
    /// the position of the next line.
    fn parse_header(
        &mut self,
        bytes: &'a [u8],
        pos: usize,
        crlf: bool,
        max: usize,
    ) -> Result<usize, ParseError> {
        // `read_name`, written out.
        let (kind, value_start) = match name_before_colon(bytes, pos) {
            Some((kind, colon)) if kind != HeaderKind::Other => (kind, colon + 1),
            guess => header_name(bytes, pos, guess)?,
        };
        // The value runs over continuation lines (starting with SP or HTAB).
        let (mut end, mut next, _) = line_end(bytes, value_start, Some(crlf))?;
        while next < bytes.len() && matches!(bytes[next], b' ' | b'\t') {
            let (e, n, _) = line_end(bytes, next, Some(crlf))?;
            // A continuation line of only white space is still part of the value;
            // trimming below removes it.
            end = e;
            next = n;
        }
        // `lex::trim` in place: no slice to build, and the value rarely ends in LWS.
        let value_start = lex::skip_lws(&bytes[..end], value_start);
        let mut value_end = end;
        while value_end > value_start && lex::is_lws(bytes[value_end - 1]) {
            value_end -= 1;
        }
        if self.slots.len() >= max {
            return Err(ParseError::new(K::Capacity(Capacity::Headers), pos));
        }
        let index = self.slots.len();
        // pos < value_start <= value_end: if the last fits in u16, they all do.
        if value_end > usize::from(u16::MAX) {
            return Err(ParseError::new(K::Capacity(Capacity::MessageSize), pos));
        }
        let slot = Slot {
            name_start: pos as u16,
            value_start: value_start as u16,
            value_end: value_end as u16,
            kind,
        };
        if self.slots.push(slot).is_err() {
            return Err(ParseError::new(K::Capacity(Capacity::Headers), pos));
        }
        if kind != HeaderKind::Other {
            if self.first[kind as usize] == NONE {
                // `index` < MAX_HEADERS (64) fits in u8.
                self.first[kind as usize] = index as u8;
            } else {
                self.repeated |= 1u64 << (kind as u32 & 63);
            }
        }
        Ok(next)
    }

    /// Content-Length as declared: `None` if absent; an error if malformed or if two
    /// headers disagree (RFC 4475 §3.1.2.8 `mcl01`).
    fn declared_content_length(&self) -> Result<Option<usize>, ParseError> {
        let mut found: Option<u32> = None;
        for (value, offset) in self.values_of(HeaderKind::ContentLength) {
            let n = lex::parse_u32(value, offset)
                .map_err(|e| ParseError::new(K::ContentLength, e.offset))?;
            if found.is_some_and(|f| f != n) {
                return Err(ParseError::new(K::ContentLength, offset));
            }
            found = Some(n);
        }
        Ok(found.map(|n| n as usize))
    }

    /// The value and its offset, without building the name (typed accessors only need
    /// the value).
    fn value_at(&self, slot: &Slot) -> (&'a [u8], usize) {
        (
            &self.bytes[usize::from(slot.value_start)..usize::from(slot.value_end)],
            usize::from(slot.value_start),
        )
    }

    /// The value (and offset) of the first header of a named `kind`.
    #[inline]
    pub(crate) fn value_of(&self, kind: HeaderKind) -> Option<(&'a [u8], usize)> {
        if kind == HeaderKind::Other {
            return None;
        }
        let i = self.first[kind as usize];
        self.slots.get(usize::from(i)).map(|s| self.value_at(s))
    }

    fn header_at(&self, slot: &Slot) -> Header<'a> {
        let name_start = usize::from(slot.name_start);
        let name_end = lex::token_end(self.bytes, name_start);
        let name = &self.bytes[name_start..name_end];
        // Header names were checked to be tokens, which are ASCII. A message without the
        // `text` cache (a reattached one) nearly always spells a known name canonically.
        let name = match self.text_at(name_start, name.len()) {
            Some(name) => name,
            None if name == slot.kind.as_str().as_bytes() => slot.kind.as_str(),
            None => core::str::from_utf8(name).unwrap_or(""),
        };
        Header {
            kind: slot.kind,
            name,
            value: &self.bytes[usize::from(slot.value_start)..usize::from(slot.value_end)],
            offset: usize::from(slot.value_start),
        }
    }

    /// The start line.
    pub fn start_line(&self) -> &StartLine<'a> {
        &self.start
    }

    /// Whether this is a request.
    pub fn is_request(&self) -> bool {
        matches!(self.start, StartLine::Request { .. })
    }

    /// The method of a request; `None` for a response.
    pub fn method(&self) -> Option<Method<'a>> {
        match self.start {
            StartLine::Request { method, .. } => Some(method),
            StartLine::Response { .. } => None,
        }
    }

    /// The status code of a response; `None` for a request.
    pub fn status(&self) -> Option<StatusCode> {
        match self.start {
            StartLine::Response { code, .. } => Some(code),
            StartLine::Request { .. } => None,
        }
    }

    /// The SIP-Version of the start line.
    pub fn version(&self) -> &'a str {
        match self.start {
            StartLine::Request { version, .. } | StartLine::Response { version, .. } => version,
        }
    }

    /// The Request-URI as received; `None` for a response.
    pub fn request_uri_raw(&self) -> Option<&'a [u8]> {
        match self.start {
            StartLine::Request { uri, .. } => Some(uri),
            StartLine::Response { .. } => None,
        }
    }

    /// Byte offset of the Request-URI (0 for a response).
    pub(crate) fn request_uri_offset(&self) -> usize {
        match self.start {
            StartLine::Request { method, .. } => self.start_offset + method.as_str().len() + 1,
            StartLine::Response { .. } => 0,
        }
    }

    /// Every header line in order.
    pub fn headers(&self) -> impl ExactSizeIterator<Item = Header<'a>> + '_ {
        self.slots.iter().map(|s| self.header_at(s))
    }

    /// Number of header lines.
    pub fn header_count(&self) -> usize {
        self.slots.len()
    }

    /// The first header of `kind` (O(1) for every named kind). For
    /// [`HeaderKind::Other`] use [`Message::header_named`].
    pub fn header(&self, kind: HeaderKind) -> Option<Header<'a>> {
        if kind == HeaderKind::Other {
            return None;
        }
        let i = self.first[kind as usize];
        self.slots.get(usize::from(i)).map(|s| self.header_at(s))
    }

    /// Every header of `kind`, in order.
    pub fn headers_of(&self, kind: HeaderKind) -> impl Iterator<Item = Header<'a>> + '_ {
        let from = if kind == HeaderKind::Other {
            0
        } else {
            usize::from(self.first[kind as usize])
        };
        self.slots
            .iter()
            .skip(from)
            .filter(move |s| s.kind == kind)
            .map(|s| self.header_at(s))
    }

    /// Whether the message has a header of the named `kind` (false for
    /// [`HeaderKind::Other`]): one load, where the checks only need to know whether to
    /// read a list that most messages lack.
    #[inline]
    pub(crate) fn has(&self, kind: HeaderKind) -> bool {
        kind != HeaderKind::Other && self.first[kind as usize] != NONE
    }

    /// Whether the message has more than one header of the named `kind` (false for
    /// [`HeaderKind::Other`]): a list read whole from its first header line needs no
    /// pass over the index to learn that no other line follows.
    #[inline]
    pub(crate) fn is_repeated(&self, kind: HeaderKind) -> bool {
        kind != HeaderKind::Other && self.repeated & 1u64 << (kind as u32 & 63) != 0
    }

    /// The first of `kinds` (named kinds, in the order given) that has a later header
    /// whose value differs from its first one's (the same value twice is harmless, and
    /// seen in live traffic). One pass over the index for all the kinds.
    /// Inline, so that the answer for a message that repeats none of `kinds` (nearly
    /// every one) costs a test of one word, `wanted` folded from a constant list.
    #[inline]
    pub(crate) fn first_conflicting(&self, kinds: &[HeaderKind]) -> Option<HeaderKind> {
        const { assert!(HeaderKind::COUNT <= 64) };
        let wanted = kinds.iter().fold(0u64, |m, &k| m | 1u64 << (k as u32 & 63));
        // Only a kind with a second header can conflict.
        if self.repeated & wanted == 0 {
            return None;
        }
        self.first_conflicting_of(kinds, wanted)
    }

    /// [`Message::first_conflicting`] once some of `kinds` (bits `wanted`) repeat: the
    /// pass over the index.
    #[inline(never)]
    fn first_conflicting_of(&self, kinds: &[HeaderKind], wanted: u64) -> Option<HeaderKind> {
        let mut conflicting = 0u64;
        for (i, slot) in self.slots.iter().enumerate() {
            let bit = 1u64 << (slot.kind as u32 & 63);
            if slot.kind == HeaderKind::Other || wanted & bit == 0 {
                continue;
            }
            let first = usize::from(self.first[slot.kind as usize]);
            if first != i
                && let Some(f) = self.slots.get(first)
                && self.value_at(f).0 != self.value_at(slot).0
            {
                conflicting |= bit;
            }
        }
        if conflicting == 0 {
            return None;
        }
        kinds
            .iter()
            .copied()
            .find(|&k| conflicting & 1u64 << (k as u32 & 63) != 0)
    }

    /// The values (and offsets) of every header of a named `kind`, in order: what
    /// [`Message::headers_of`] gives without reading the names.
    pub(crate) fn values_of(
        &self,
        kind: HeaderKind,
    ) -> impl Iterator<Item = (&'a [u8], usize)> + '_ {
        let from = usize::from(self.first[kind as usize]);
        self.slots
            .iter()
            .skip(from)
            .filter(move |s| s.kind == kind)
            .map(|s| self.value_at(s))
    }

    /// The next header of `kind` at or after slot `*index`; advances `*index` past it.
    pub(crate) fn nth_of(&self, kind: HeaderKind, index: &mut usize) -> Option<(&'a [u8], usize)> {
        if *index == 0 && kind != HeaderKind::Other {
            *index = usize::from(self.first[kind as usize]);
        }
        let rel = self
            .slots
            .get(*index..)?
            .iter()
            .position(|s| s.kind == kind)?;
        let slot = &self.slots[*index + rel];
        *index += rel + 1;
        Some(self.value_at(slot))
    }

    /// Every header whose name equals `name`, case-insensitively (RFC 3261 §7.3.1). For a
    /// named kind this also finds its compact form.
    pub fn headers_named<'s>(&'s self, name: &'s str) -> impl Iterator<Item = Header<'a>> + 's {
        let kind = HeaderKind::from_name(name.as_bytes());
        self.headers().filter(move |h| {
            h.kind == kind && (kind != HeaderKind::Other || h.name.eq_ignore_ascii_case(name))
        })
    }

    /// The first header named `name` (see [`Message::headers_named`]).
    pub fn header_named(&self, name: &str) -> Option<Header<'a>> {
        self.headers_named(name).next()
    }

    /// The body (exactly Content-Length bytes when that header is present).
    pub fn body(&self) -> &'a [u8] {
        &self.bytes[self.body_start.min(self.bytes.len())..]
    }

    /// Byte offset of the body in the input.
    pub fn body_offset(&self) -> usize {
        self.body_start
    }

    /// The bytes of the whole message: start line, headers and body, without bytes that
    /// followed the body in the datagram or stream.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The header index without the borrow of the bytes, to keep next to a copy of them
    /// and get the message back with [`Message::reattach`] without parsing it again.
    #[cfg_attr(not(feature = "endpoint"), allow(dead_code))] // the endpoint's stored requests
    pub(crate) fn detach(&self) -> Detached {
        let mut out = Detached::empty();
        self.detach_into(&mut out);
        out
    }

    /// [`detach`](Self::detach) written over `out`: only the slots in use are copied,
    /// not the room of a whole index.
    #[cfg_attr(not(feature = "endpoint"), allow(dead_code))] // the endpoint's stored requests
    pub(crate) fn detach_into(&self, out: &mut Detached) {
        // Lengths fit: a start line ends within the header section (64 KiB).
        let start = match self.start {
            StartLine::Request {
                method,
                uri,
                version,
            } => StartSplit::Request {
                known: method.as_known(),
                method_len: method.as_str().len() as u32,
                uri_len: uri.len() as u32,
                version_len: version.len() as u32,
            },
            StartLine::Response {
                version,
                code,
                reason,
            } => StartSplit::Response {
                version_len: version.len() as u32,
                code,
                reason_len: reason.len() as u32,
            },
        };
        out.len = self.bytes.len();
        out.slots.clear();
        // Same capacity: they fit. (heapless's `clone_from` would copy all the room.)
        let _ = out.slots.extend_from_slice(&self.slots);
        out.first = self.first;
        out.repeated = self.repeated;
        out.body_start = self.body_start;
        out.start_offset = self.start_offset;
        out.start = start;
    }

    /// The message `index` was detached from, over `bytes`: a copy of the bytes it was
    /// parsed from (the start line is split where it was, not searched again). `None` if
    /// they cannot be that.
    #[cfg_attr(not(feature = "endpoint"), allow(dead_code))]
    pub(crate) fn reattach(bytes: &'a [u8], index: &Detached) -> Option<Self> {
        let mut msg = Message::empty(bytes);
        msg.reattach_into(index).then_some(msg)
    }

    /// [`reattach`](Self::reattach) on an [`empty`](Message::empty) view of the bytes,
    /// filled in place (see [`read_datagram`](Self::read_datagram)); `false` where that
    /// gives `None`, the view then unspecified.
    #[cfg_attr(not(feature = "endpoint"), allow(dead_code))]
    pub(crate) fn reattach_into(&mut self, index: &Detached) -> bool {
        self.reattach_parts(index).is_some()
    }

    fn reattach_parts(&mut self, index: &Detached) -> Option<()> {
        let bytes = self.bytes;
        if bytes.len() != index.len || index.body_start > bytes.len() {
            return None;
        }
        let line = bytes.get(index.start_offset..)?;
        let start = match index.start {
            StartSplit::Request {
                known,
                method_len,
                uri_len,
                version_len,
            } => {
                let (m, u, v) = (method_len as usize, uri_len as usize, version_len as usize);
                let name = line.get(..m)?;
                StartLine::Request {
                    method: match known {
                        // Stored with the bytes it was read from: the same name.
                        Some(k) => {
                            debug_assert_eq!(Method::from_bytes(name), Some(k));
                            k
                        }
                        None => Method::from_bytes(name)?,
                    },
                    uri: line.get(m + 1..m + 1 + u)?,
                    version: parse_version(line.get(m + u + 2..m + u + 2 + v)?, 0).ok()?,
                }
            }
            StartSplit::Response {
                version_len,
                code,
                reason_len,
            } => {
                let (v, r) = (version_len as usize, reason_len as usize);
                StartLine::Response {
                    version: parse_version(line.get(..v)?, 0).ok()?,
                    code,
                    // "version SP code SP reason"; an empty reason may lack its SP.
                    reason: match r {
                        0 => "",
                        _ => core::str::from_utf8(line.get(v + 5..v + 5 + r)?).ok()?,
                    },
                }
            }
        };
        // Values end in order, each within the header section: the last one settles it.
        if index
            .slots
            .last()
            .is_some_and(|slot| usize::from(slot.value_end) > index.body_start)
        {
            return None;
        }
        self.start = start;
        self.slots.clear();
        // Same capacity: they fit.
        let _ = self.slots.extend_from_slice(&index.slots);
        // Kept with the index, not found again by a pass over it.
        self.first = index.first;
        self.repeated = index.repeated;
        self.body_start = index.body_start;
        self.start_offset = index.start_offset;
        // Not validated again: a reattached message is read for a few headers only,
        // which then take their own UTF-8 passes.
        self.text = None;
        Some(())
    }
}

/// A [`Message`]'s header index without its bytes (see [`Message::detach`]).
#[derive(Clone, Debug)]
#[cfg_attr(not(feature = "endpoint"), allow(dead_code))]
pub(crate) struct Detached {
    len: usize,
    slots: heapless::Vec<Slot, MAX_HEADERS, u8>,
    first: [u8; HeaderKind::COUNT],
    repeated: u64,
    body_start: usize,
    start_offset: usize,
    start: StartSplit,
}

/// Where a start line's parts end, as lengths from its first byte.
#[derive(Clone, Copy, Debug)]
enum StartSplit {
    Request {
        /// The method when the crate knows it: not matched against the bytes again.
        known: Option<Method<'static>>,
        method_len: u32,
        uri_len: u32,
        version_len: u32,
    },
    Response {
        version_len: u32,
        code: StatusCode,
        reason_len: u32,
    },
}

impl Detached {
    /// The index of no message: [`Message::reattach`] refuses it for any bytes but empty ones,
    /// which no message is.
    #[cfg_attr(not(feature = "endpoint"), allow(dead_code))]
    pub(crate) const fn empty() -> Self {
        Detached {
            len: 0,
            slots: heapless::Vec::new(),
            first: [NONE; HeaderKind::COUNT],
            repeated: 0,
            body_start: 0,
            start_offset: 0,
            start: StartSplit::Request {
                known: None,
                method_len: 0,
                uri_len: 0,
                version_len: 0,
            },
        }
    }

    /// Whether this is [`Detached::empty`] (no message's index).
    #[cfg_attr(not(feature = "endpoint"), allow(dead_code))]
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// Where the `text` cache of a message whose body starts at `body_start` ends: the
/// last point before it that `core::str::from_utf8` reaches sixteen bytes a step from
/// the first 8-aligned byte. Beyond that it would go one byte at a time, some five
/// instructions a byte, over what is nearly always the empty line and the end of
/// Content-Length (read as bytes): a part that lies there takes its own UTF-8 pass.
#[inline(always)]
fn text_end(bytes: &[u8], body_start: usize) -> usize {
    // Bytes before the first 8-aligned one go one at a time whatever the length.
    let lead = bytes.as_ptr().addr().wrapping_neg() & 7;
    match body_start.checked_sub(lead) {
        Some(blocks) => lead + (blocks & !15),
        None => body_start,
    }
}

/// `lex::trim` of `bytes[start..end]`, which holds no CR or LF (so LWS is SP or
/// HTAB): the rare value with more white space around it than one SP before, out of
/// the line loop.
#[cold]
#[inline(never)]
fn trim_value(bytes: &[u8], mut start: usize, mut end: usize) -> (usize, usize) {
    while start < end && matches!(bytes[start], b' ' | b'\t') {
        start += 1;
    }
    while end > start && matches!(bytes[end - 1], b' ' | b'\t') {
        end -= 1;
    }
    (start, end)
}

/// The name of the header line at `pos` as `parse_header` reads it (written out there:
/// a call of this costs a few instructions a line): its kind and where its value starts
/// (after the colon), or the error [`header_name`] gives.
#[cfg(test)]
fn read_name(bytes: &[u8], pos: usize) -> Result<(HeaderKind, usize), ParseError> {
    match name_before_colon(bytes, pos) {
        Some((kind, colon)) if kind != HeaderKind::Other => Ok((kind, colon + 1)),
        guess => header_name(bytes, pos, guess),
    }
}

/// The name of the header line at `pos` read up to the first `:` of its first 24
/// bytes, found a word at a time: its kind and the colon's index. When the kind is a
/// named one, this is what [`header_name`] finds, for less: a known name is all letters
/// and `-` (token characters), so the token run ends exactly at the colon, with no
/// white space before it. `None` if no colon was found that way.
#[inline(always)]
fn name_before_colon(bytes: &[u8], pos: usize) -> Option<(HeaderKind, usize)> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // The longest known name has 19 bytes.
    let mut at = pos;
    while at < pos + 24 {
        let mut word = [0u8; 8];
        word.copy_from_slice(bytes.get(at..at + 8)?);
        let w = u64::from_le_bytes(word) ^ (ONES * u64::from(b':'));
        // The lowest flag marks the first `:` exactly (the classic zero-byte test).
        let flags = w.wrapping_sub(ONES) & !w & HIGH;
        if flags != 0 {
            let colon = at + (flags.trailing_zeros() / 8) as usize;
            return (colon > pos).then(|| (HeaderKind::from_name(&bytes[pos..colon]), colon));
        }
        at += 8;
    }
    None
}

/// The header name at `pos` as RFC 3261 §7.3.1 reads it, `header-name HCOLON`: its
/// kind and where the value starts (after the colon). `guess` is what
/// [`name_before_colon`] found, whose kind is kept if its name is the token run.
#[inline(never)] // the rare path: kept out of the loop over header lines
fn header_name(
    bytes: &[u8],
    pos: usize,
    guess: Option<(HeaderKind, usize)>,
) -> Result<(HeaderKind, usize), ParseError> {
    let mut i = pos;
    while i < bytes.len() && lex::is_token(bytes[i]) {
        i += 1;
    }
    let name_end = i;
    if name_end == pos {
        return Err(ParseError::new(K::HeaderName, pos));
    }
    // HCOLON = *( SP / HTAB ) ":" SWS.
    while i < bytes.len() && matches!(bytes[i], b' ' | b'\t') {
        i += 1;
    }
    if bytes.get(i) != Some(&b':') {
        return Err(ParseError::new(K::HeaderName, i));
    }
    let kind = match guess {
        Some((kind, colon)) if colon == name_end => kind,
        _ => HeaderKind::from_name(&bytes[pos..name_end]),
    };
    Ok((kind, i + 1))
}

/// The little-endian words of 16 bytes.
#[inline(always)]
fn words(b: &[u8; 16]) -> (u64, u64) {
    let (mut w0, mut w1) = ([0u8; 8], [0u8; 8]);
    w0.copy_from_slice(&b[..8]);
    w1.copy_from_slice(&b[8..]);
    (u64::from_le_bytes(w0), u64::from_le_bytes(w1))
}

/// Flags (0x80) on the bytes of `word` below 0x0E, the lowest exact (the classic
/// zero-byte test, shifted): where a CR or LF may be.
#[inline(always)]
fn below_0e(word: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    word.wrapping_sub(ONES * 0x0E) & !word & HIGH
}

/// Flags (0x80) on the bytes of `word` that may be `:`, 0 if none is (the classic
/// zero-byte test: its lowest flag is exact, the first `:`; higher ones are not).
#[inline(always)]
fn colon_flags(word: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let w = word ^ (ONES * u64::from(b':'));
    w.wrapping_sub(ONES) & !w & HIGH
}

/// The bytes of a word up to and including the one whose flag is the lowest of
/// `flags` (not 0): every bit up to that flag's.
#[inline(always)]
fn through_lowest(flags: u64) -> u64 {
    flags ^ flags.wrapping_sub(1)
}

/// End of the header section on a stream: the index after the empty line, if present.
fn find_head_end(bytes: &[u8]) -> Option<usize> {
    let mut i = 0;
    while let Some(rel) = bytes[i..].iter().position(|&b| b == b'\n') {
        let lf = i + rel;
        match bytes.get(lf + 1) {
            Some(b'\n') => return Some(lf + 2),
            Some(b'\r') if bytes.get(lf + 2) == Some(&b'\n') => return Some(lf + 3),
            _ => i = lf + 1,
        }
    }
    None
}

/// Find the end of the line starting at `from`: returns (end of content, start of next
/// line, whether it ended with CRLF). `mode` is the line-end style fixed by the start
/// line: `Some(true)` CRLF, `Some(false)` bare LF; a line that breaks it is an error.
#[inline(always)] // once per header line: the call and its `Result` cost more than the body
fn line_end(
    bytes: &[u8],
    from: usize,
    mode: Option<bool>,
) -> Result<(usize, usize, bool), ParseError> {
    let Some(at) = find_line_break(bytes, from) else {
        return Err(ParseError::new(K::HeadersUnterminated, bytes.len()));
    };
    let crlf = bytes[at] == b'\r';
    if crlf && bytes.get(at + 1) != Some(&b'\n') {
        // A CR not followed by LF.
        return Err(ParseError::new(K::HeaderValue, at));
    }
    if mode.is_some_and(|m| m != crlf) {
        // A bare LF in a CRLF message, or a CRLF in a bare-LF message.
        return Err(ParseError::new(K::HeaderValue, at));
    }
    Ok((at, if crlf { at + 2 } else { at + 1 }, crlf))
}

/// The first CR or LF at or after `from`. Scans sixteen bytes a step, then eight: a
/// word's bytes below 0x0E are flagged with the classic SWAR test, and only the lowest
/// flagged byte is looked at (the lowest flag is exact; tabs and other controls are
/// rare, and the scan goes on after one). The steps walk a shrinking slice, so that
/// each costs one length test.
#[inline(always)]
fn find_line_break(s: &[u8], from: usize) -> Option<usize> {
    let mut rest = s.get(from..)?;
    while let Some((pair, tail)) = rest.split_first_chunk::<16>() {
        let (a, b) = words(pair);
        let (fa, fb) = (below_0e(a), below_0e(b));
        if fa | fb == 0 {
            rest = tail;
            continue;
        }
        let j = if fa != 0 {
            (fa.trailing_zeros() / 8) as usize
        } else {
            8 + (fb.trailing_zeros() / 8) as usize
        };
        if matches!(pair[j], b'\r' | b'\n') {
            return Some(s.len() - rest.len() + j);
        }
        rest = &rest[j + 1..];
    }
    while let Some((chunk, tail)) = rest.split_first_chunk::<8>() {
        let flags = below_0e(u64::from_le_bytes(*chunk));
        if flags == 0 {
            rest = tail;
            continue;
        }
        let j = (flags.trailing_zeros() / 8) as usize;
        if matches!(chunk[j], b'\r' | b'\n') {
            return Some(s.len() - rest.len() + j);
        }
        rest = &rest[j + 1..];
    }
    rest.iter()
        .position(|&b| b == b'\r' || b == b'\n')
        .map(|p| s.len() - rest.len() + p)
}

/// The first byte below 0x0E (a CR, a LF, or another control) of `s` at or after 16,
/// for an `s` of 16 bytes or more: sixteen bytes a step (the lowest flag of each step
/// is exact), counted by index, one test each; then a byte at a time.
#[inline(always)]
fn below_0e_after_16(s: &[u8]) -> Option<usize> {
    let last = s.len().checked_sub(16)?;
    let mut from = 16;
    while from <= last {
        let Some(pair) = s[from..].first_chunk::<16>() else {
            break;
        };
        let (a, b) = words(pair);
        let (fa, fb) = (below_0e(a), below_0e(b));
        if fa | fb != 0 {
            return Some(
                from + if fa != 0 {
                    (fa.trailing_zeros() / 8) as usize
                } else {
                    8 + (fb.trailing_zeros() / 8) as usize
                },
            );
        }
        from += 16;
    }
    s.get(from..)?
        .iter()
        .position(|&b| b < 0x0E)
        .map(|p| from + p)
}

/// `SIP-Version = "SIP" "/" 1*DIGIT "." 1*DIGIT` (RFC 3261 §25.1), name case-insensitive.
/// Inline for the version every message this side of 2030 says; any other is read out
/// of line.
#[inline(always)]
fn parse_version(s: &[u8], offset: usize) -> Result<&str, ParseError> {
    if s == b"SIP/2.0" {
        return Ok("SIP/2.0");
    }
    parse_other_version(s, offset)
}

/// [`parse_version`] of a version other than `SIP/2.0`.
#[inline(never)]
fn parse_other_version(s: &[u8], offset: usize) -> Result<&str, ParseError> {
    let err = ParseError::new(K::Version, offset);
    if s.len() < 7 || !s[..4].eq_ignore_ascii_case(b"SIP/") {
        return Err(err);
    }
    let digits = &s[4..];
    let dot = digits.iter().position(|&b| b == b'.').ok_or(err)?;
    let (major, minor) = (&digits[..dot], &digits[dot + 1..]);
    if major.is_empty() || minor.is_empty() || !major.iter().chain(minor).all(u8::is_ascii_digit) {
        return Err(err);
    }
    lex::utf8(s, K::Version, offset)
}

/// Whether any byte of `s` is SP, a control, DEL or not ASCII: what a Request-URI must
/// not hold. Eight bytes at a time (the SWAR tests for "a byte below 0x21", "a byte with
/// the high bit" and "a byte equal to 0x7F", exact for "any").
fn has_space_control_or_non_ascii(s: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut words = s.chunks_exact(8);
    for chunk in &mut words {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let w = u64::from_le_bytes(word);
        let below_0x21 = w.wrapping_sub(ONES * 0x21) & !w & HIGH;
        let del = (w ^ (ONES * 0x7f)).wrapping_sub(ONES) & !(w ^ (ONES * 0x7f)) & HIGH;
        if below_0x21 | del | (w & HIGH) != 0 {
            return true;
        }
    }
    words.remainder().iter().any(|&b| b <= b' ' || b >= 0x7f)
}

/// [`parse_start_line`] for the lines nearly every message starts with, read from
/// `rest` (the start line and all that follows) without a search for the line end:
/// `SIP/2.0 `, a status code and its canonical reason phrase; or a known method of at
/// most 7 letters, a Request-URI and ` SIP/2.0`. Such a line holds no CR or LF, so
/// when one follows right after, the line ends there: then the value
/// `parse_start_line` gives for the line, and its length. `None` for any other line,
/// which `parse_start_line` then reads (or refuses) as before.
#[inline(always)]
fn common_start_line(rest: &[u8]) -> Option<(StartLine<'_>, usize)> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    /// `name` as a little-endian word, zero past its end.
    const fn word(name: &[u8]) -> u64 {
        let mut w = 0;
        let mut i = 0;
        while i < name.len() {
            w |= (name[i] as u64) << (8 * i);
            i += 1;
        }
        w
    }
    let w = u64::from_le_bytes(*rest.first_chunk::<8>()?);
    let (start, len) = if w == word(b"SIP/2.0 ") {
        // The canonical phrase holds no byte `parse_start_line` refuses (see
        // `canonical_reasons_pass_the_reason_check`), CR and LF among them.
        let [_, _, _, _, _, _, _, _, a, b, c, b' ', reason @ ..] = rest else {
            return None;
        };
        let digit = |d: u8| d.checked_sub(b'0').filter(|d| *d < 10).map(u16::from);
        let code = StatusCode::new(digit(*a)? * 100 + digit(*b)? * 10 + digit(*c)?)?;
        let canonical = code.reason();
        if !reason.starts_with(canonical.as_bytes()) {
            return None;
        }
        let start = StartLine::Response {
            version: "SIP/2.0",
            code,
            reason: canonical,
        };
        (start, 12 + canonical.len())
    } else {
        // The method: the bytes before the first SP, which the lowest flag marks
        // exactly.
        let x = w ^ (ONES * u64::from(b' '));
        let flags = x.wrapping_sub(ONES) & !x & HIGH;
        let sp = flags & flags.wrapping_neg();
        if sp == 0 {
            return None;
        }
        const INVITE: u64 = word(b"INVITE");
        const ACK: u64 = word(b"ACK");
        const BYE: u64 = word(b"BYE");
        const CANCEL: u64 = word(b"CANCEL");
        const OPTIONS: u64 = word(b"OPTIONS");
        const PRACK: u64 = word(b"PRACK");
        const UPDATE: u64 = word(b"UPDATE");
        const NOTIFY: u64 = word(b"NOTIFY");
        const REFER: u64 = word(b"REFER");
        const MESSAGE: u64 = word(b"MESSAGE");
        const INFO: u64 = word(b"INFO");
        const PUBLISH: u64 = word(b"PUBLISH");
        let method = match w & ((sp >> 7) - 1) {
            INVITE => Method::Invite,
            ACK => Method::Ack,
            BYE => Method::Bye,
            CANCEL => Method::Cancel,
            OPTIONS => Method::Options,
            PRACK => Method::Prack,
            UPDATE => Method::Update,
            NOTIFY => Method::Notify,
            REFER => Method::Refer,
            MESSAGE => Method::Message,
            INFO => Method::Info,
            PUBLISH => Method::Publish,
            _ => return None,
        };
        let len = (sp.trailing_zeros() / 8) as usize;
        // The URI runs to the first SP, control, DEL or non-ASCII byte, which must be
        // the SP of ` SIP/2.0`: `parse_start_line` then splits where this does.
        let after = rest.get(len + 1..)?;
        let uri_len = space_control_or_non_ascii(after)?;
        let (uri, version) = after.split_at_checked(uri_len)?;
        if uri.is_empty() || !version.starts_with(b" SIP/2.0") {
            return None;
        }
        let start = StartLine::Request {
            method,
            uri,
            version: "SIP/2.0",
        };
        (start, len + 1 + uri_len + 8)
    };
    matches!(rest.get(len), Some(b'\r' | b'\n')).then_some((start, len))
}

/// The first byte of `s` that is SP, a control, DEL or not ASCII: what a Request-URI
/// must not hold. Eight bytes at a time, each byte tested exactly (its low seven bits
/// added to, so that no carry crosses into the next).
#[inline(always)]
fn space_control_or_non_ascii(s: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut rest = s;
    while let Some((chunk, tail)) = rest.split_first_chunk::<8>() {
        let w = u64::from_le_bytes(*chunk);
        let low = w & !HIGH;
        // High bit: at least 0x7F (`+ 1`), or not ASCII; at least 0x21 (`+ 0x5F`).
        let from_7f = low.wrapping_add(ONES) | w;
        let from_21 = low.wrapping_add(ONES * 0x5F) | w;
        let flags = (from_7f | !from_21) & HIGH;
        if flags != 0 {
            return Some(s.len() - rest.len() + (flags.trailing_zeros() / 8) as usize);
        }
        rest = tail;
    }
    rest.iter()
        .position(|&b| b <= b' ' || b >= 0x7f)
        .map(|p| s.len() - rest.len() + p)
}

/// A Request-Line read as `method SP anything`, for [`Message::salvage_request`].
fn lenient_request_line(line: &[u8]) -> Option<StartLine<'_>> {
    let sp = line.iter().position(|&b| b == b' ')?;
    let method = Method::from_bytes(&line[..sp])?;
    let rest = lex::trim(&line[sp + 1..]).1;
    let uri = rest.split(|&b| b == b' ').next().unwrap_or(rest);
    Some(StartLine::Request {
        method,
        uri,
        version: "",
    })
}

fn parse_start_line(line: &[u8], base: usize) -> Result<StartLine<'_>, ParseError> {
    let sp1 = lex::find_byte(line, b' ').ok_or(ParseError::new(K::StartLine, base + line.len()))?;
    let first = &line[..sp1];
    let rest = &line[sp1 + 1..];
    if first.len() >= 4 && first[..4].eq_ignore_ascii_case(b"SIP/") {
        // Status-Line: the reason phrase may be empty and may hold UTF-8 (RFC 4475
        // `noreason`, `unreason`).
        let version = parse_version(first, base)?;
        let code_off = base + sp1 + 1;
        let code_end = rest.iter().position(|&b| b == b' ').unwrap_or(rest.len());
        let digits = &rest[..code_end];
        if digits.len() != 3 || !digits.iter().all(u8::is_ascii_digit) {
            return Err(ParseError::new(K::StatusCode, code_off));
        }
        let n = digits
            .iter()
            .fold(0u16, |n, &d| n * 10 + u16::from(d - b'0'));
        let code = StatusCode::new(n).ok_or(ParseError::new(K::StatusCode, code_off))?;
        let reason = rest.get(code_end + 1..).unwrap_or(&[]);
        let reason_off = code_off + code_end + 1;
        if let Some(bad) = reason
            .iter()
            .position(|&b| b < 0x20 && b != b'\t' || b == 0x7f)
        {
            return Err(ParseError::new(K::ReasonPhrase, reason_off + bad));
        }
        // The canonical phrase needs no UTF-8 pass.
        let reason = if reason == code.reason().as_bytes() {
            code.reason()
        } else {
            lex::utf8(reason, K::ReasonPhrase, reason_off)?
        };
        return Ok(StartLine::Response {
            version,
            code,
            reason,
        });
    }
    // Request-Line: exactly one SP between the three parts (RFC 3261 §7.1; RFC 4475
    // `lwsstart`, `trws` and `lwsruri` are refused).
    let method = Method::from_bytes(first).ok_or(ParseError::new(K::Method, base))?;
    let uri_off = base + sp1 + 1;
    let sp2 = lex::find_byte(rest, b' ').ok_or(ParseError::new(K::StartLine, base + line.len()))?;
    let uri = &rest[..sp2];
    if uri.is_empty() || has_space_control_or_non_ascii(uri) {
        return Err(ParseError::new(K::RequestUri, uri_off));
    }
    let version_bytes = &rest[sp2 + 1..];
    let version = parse_version(version_bytes, uri_off + sp2 + 1)?;
    Ok(StartLine::Request {
        method,
        uri,
        version,
    })
}

#[cfg(test)]
mod reference;

/// [`Message::read_head`] against the reader it replaced ([`reference::read_head`]):
/// the same result, error kind and offset included, and the same view, field by field.
#[cfg(test)]
mod read_head_tests {
    use std::vec::Vec;

    use super::*;

    /// The limits the comparisons run under: the default, and header counts that the
    /// inputs reach (the capacity error's offset is compared too).
    const LIMITS: [Limits; 4] = [
        Limits {
            max_message: DEFAULT_MAX_MESSAGE,
            max_headers: MAX_HEADERS,
        },
        Limits {
            max_message: DEFAULT_MAX_MESSAGE,
            max_headers: 0,
        },
        Limits {
            max_message: DEFAULT_MAX_MESSAGE,
            max_headers: 3,
        },
        Limits {
            max_message: DEFAULT_MAX_MESSAGE,
            max_headers: 7,
        },
    ];

    /// Whether both readers agree on `bytes` under every limit, lenient or not; counts
    /// the comparisons and the accepted inputs. The bytes are read at each offset from
    /// an 8-aligned address in turn (the `text` cache's end depends on it).
    fn agree(bytes: &[u8], compared: &mut usize, accepted: &mut usize) -> bool {
        let shift = *compared / (2 * LIMITS.len()) % 8;
        let mut room = std::vec![0u8; bytes.len() + 16];
        let lead = room.as_ptr().addr().wrapping_neg() & 7;
        let at = lead + shift;
        room[at..at + bytes.len()].copy_from_slice(bytes);
        let bytes = &room[at..at + bytes.len()];
        let mut same = true;
        for limits in &LIMITS {
            for lenient in [false, true] {
                let mut got = Message::empty(bytes);
                let mut want = Message::empty(bytes);
                let r = got.read_head(limits, lenient);
                let w = reference::read_head(&mut want, limits, lenient);
                *compared += 1;
                *accepted += usize::from(w.is_ok());
                same &= r == w
                    && got.start == want.start
                    && got.slots == want.slots
                    && got.first == want.first
                    && got.repeated == want.repeated
                    && got.body_start == want.body_start
                    && got.start_offset == want.start_offset
                    && text_agrees(bytes, w.is_ok(), &got, &want);
            }
        }
        same
    }

    /// The `text` cache: none after an error; else the reference's up to [`text_end`],
    /// which is at most 15 bytes short of the body.
    fn text_agrees(bytes: &[u8], ok: bool, got: &Message<'_>, want: &Message<'_>) -> bool {
        if !ok {
            return got.text.is_none() && want.text.is_none();
        }
        let end = text_end(bytes, want.body_start);
        end + 15 >= want.body_start
            && end <= want.body_start
            && got.text == core::str::from_utf8(&bytes[..end]).ok()
            && want.text.is_none_or(|w| got.text == w.get(..end))
    }

    /// Header lines that reach each branch of the fast path and its way out: every
    /// known name and compact form in three spellings, names that are not known or
    /// are cut at each length, white space around the colon and at the end of the
    /// value, folded values, odd line ends and bytes.
    fn lines() -> Vec<Vec<u8>> {
        let mut names: Vec<Vec<u8>> = Vec::new();
        for k in HeaderKind::NAMED {
            let name = k.as_str().as_bytes();
            names.push(name.to_vec());
            names.push(name.to_ascii_uppercase());
            names.push(name.to_ascii_lowercase());
            names.push(name[..name.len() - 1].to_vec());
            let mut longer = name.to_vec();
            longer.push(b'x');
            names.push(longer);
        }
        for c in b'a'..=b'z' {
            names.push(std::vec![c]);
            names.push(std::vec![c.to_ascii_uppercase()]);
        }
        for odd in [
            &b"X-Custom"[..],
            b"Call\rID",
            b"Vi\x00",
            b"Via\x00",
            b"\x00",
            b"T\xc3\xa9",
            b"Content_Length",
            b"",
        ] {
            names.push(odd.to_vec());
        }
        let mut out = Vec::new();
        for name in &names {
            for sep in [&b": "[..], b":", b" : ", b"\t:", b":\t ", b": \r\n "] {
                let mut line = name.clone();
                line.extend_from_slice(sep);
                line.extend_from_slice(b"value;x=1");
                out.push(line);
            }
        }
        for odd in [
            &b"Via: a  \t"[..],
            b"Via:",
            b"Via:  ",
            b"Via: a\r\n b",
            b"Via: a\r\n\tb",
            b"Via: a\r\n \r\n c",
            b"Via: a\rb",
            b"Via: a\nb",
            b"Via: a\x00b\x0bc\x0c",
            b"Via: \xc3\xa9",
            b"Via: \xff",
            b":value",
            b" Via: a",
        ] {
            out.push(odd.to_vec());
        }
        out
    }

    /// Messages of those lines under each start line and line end, with every
    /// prefix: the fast path reads up to 16 bytes ahead, so the ends of the input
    /// are where it and the reference could part.
    #[test]
    fn read_head_agrees_with_the_reference() {
        let starts: [&[u8]; 9] = [
            b"INVITE sip:bob@example.com SIP/2.0",
            b"SIP/2.0 200 OK",
            b"\r\nOPTIONS sip:a@b SIP/2.0",
            b"INVITE  sip:a@b  SIP/2.0",
            b"ACK sip:a@b;x=\xc3\xa9 SIP/2.0",
            b"SIP/2.0 486 Busy Here ",
            b"BYE sip:a@b SIP/2.0\r",
            b"SIP/2.0 180 Ringing\r",
            b"MESSAGE sip:a@b\tc SIP/2.0",
        ];
        let lines = lines();
        let (mut compared, mut accepted, mut differ) = (0, 0, 0);
        let mut first_differing = None;
        for (i, line) in lines.iter().enumerate() {
            for (j, eol) in [&b"\r\n"[..], b"\n"].into_iter().enumerate() {
                let start = starts[(i + j) % starts.len()];
                let mut msg = start.to_vec();
                for l in [
                    &b"Via: SIP/2.0/UDP h;branch=z9hG4bK1"[..],
                    line,
                    b"l: 0",
                    line,
                ] {
                    msg.extend_from_slice(eol);
                    msg.extend_from_slice(l);
                }
                msg.extend_from_slice(eol);
                msg.extend_from_slice(eol);
                msg.extend_from_slice(b"body");
                for end in 0..=msg.len() {
                    if !agree(&msg[..end], &mut compared, &mut accepted) {
                        differ += 1;
                        first_differing.get_or_insert_with(|| msg[..end].to_vec());
                    }
                }
            }
        }
        let counts = std::format!("{compared} compared, {accepted} accepted, {differ} differ");
        assert!(compared > 100_000 && accepted > 10_000, "{counts}");
        let first = first_differing.map(|m| std::string::String::from_utf8_lossy(&m).into_owned());
        assert_eq!(differ, 0, "{counts}; first: {first:?}");
    }

    /// Header names for the generated sections: known ones in their spellings, compact
    /// forms, unknown ones and odd ones (white space, no name, a control, 16 bytes and
    /// more before the colon).
    const GEN_NAMES: &[&str] = &[
        "Via",
        "v",
        "VIA",
        "From",
        "To",
        "t",
        "Call-ID",
        "CSeq",
        "Contact",
        "Max-Forwards",
        "Content-Length",
        "content-type",
        "User-Agent",
        "Accept-Encoding",
        "Proxy-Authorization",
        "Authentication-Info",
        "X-Custom",
        "X-Sixteen-Bytes-",
        "Via ",
        "",
        "Vi\x0b",
    ];

    /// Value bytes, biased to what the fast path looks at: SP and HTAB at either end,
    /// other controls in the middle, stray CR and LF, non-ASCII bytes.
    const GEN_VALUE_BYTES: &[u8] = b"aaaaaaaaaaaaaZ09;=@:<>.  \t\t\r\n\x00\x0b\x0c\x0d\xc3\xa9\xff";

    const GEN_STARTS: &[&[u8]] = &[
        b"INVITE sip:bob@example.com SIP/2.0",
        b"SIP/2.0 180 Ringing",
        b"ACK sip:a@b SIP/2.0",
        b"SIP/2.0 200 OK",
        b"SIP/2.0 200 OK ",
        b"BYE sip:a\x7f@b SIP/2.0",
    ];

    /// Line ends before each generated line: mostly the message's own (written here as
    /// CRLF), sometimes a fold, a bare LF or a bare CR.
    const GEN_EOLS: &[&[u8]] = &[b"\r\n", b"\r\n", b"\r\n", b"\n", b"\r\n ", b"\r"];

    fn gen_line() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
        use proptest::prelude::*;
        (
            proptest::sample::select(GEN_NAMES),
            proptest::sample::select(&[":", ": ", ":  ", " :", ":\t", ""][..]),
            proptest::collection::vec(proptest::sample::select(GEN_VALUE_BYTES), 0..72),
            proptest::sample::select(&["", " ", "\t", " \t "][..]),
        )
            .prop_map(|(name, sep, value, tail)| {
                [name.as_bytes(), sep.as_bytes(), &value, tail.as_bytes()].concat()
            })
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4096))]
        /// Generated header sections of long and short values under each start line
        /// and line end (folds and stray line ends included), and every prefix of
        /// each: the searches for the line end that run past the first 16 bytes.
        #[test]
        fn read_head_agrees_with_the_reference_on_generated_sections(
            start in proptest::sample::select(GEN_STARTS),
            lines in proptest::collection::vec(gen_line(), 0..6),
            eols in proptest::collection::vec(
                proptest::sample::select(GEN_EOLS),
                7,
            ),
            crlf in proptest::bool::ANY,
        ) {
            let main = if crlf { &b"\r\n"[..] } else { b"\n" };
            let mut msg = start.to_vec();
            for (line, eol) in lines.iter().zip(&eols) {
                // Mostly the message's own line end, sometimes another.
                msg.extend_from_slice(if eol == b"\r\n" { main } else { eol });
                msg.extend_from_slice(line);
            }
            msg.extend_from_slice(main);
            msg.extend_from_slice(main);
            msg.extend_from_slice(b"v=0");
            let (mut compared, mut accepted) = (0, 0);
            for end in (0..=msg.len()).rev() {
                proptest::prop_assert!(
                    agree(&msg[..end], &mut compared, &mut accepted),
                    "{:?}",
                    std::string::String::from_utf8_lossy(&msg[..end])
                );
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4096))]
        /// `find_line_break` against a byte search, from every start: controls other
        /// than CR and LF (which the word test flags too) at any place of any length.
        #[test]
        fn find_line_break_agrees_with_a_byte_search(
            s in proptest::collection::vec(
                proptest::sample::select(&b"aaaaaaaaaaaa \t\r\n\x00\x0b\x0c\x0d\x0e\xff"[..]),
                0..80,
            ),
        ) {
            for from in 0..=s.len() + 1 {
                let want = s
                    .get(from..)
                    .and_then(|t| t.iter().position(|&b| b == b'\r' || b == b'\n'))
                    .map(|p| from + p);
                proptest::prop_assert_eq!(find_line_break(&s, from), want, "from {}", from);
            }
            if s.len() >= 16 {
                let want = s[16..].iter().position(|&b| b < 0x0E).map(|p| 16 + p);
                proptest::prop_assert_eq!(below_0e_after_16(&s), want);
            }
        }
    }

    /// A header section past 64 KiB: the capacity error of the reference, at the
    /// same header.
    #[test]
    fn read_head_agrees_with_the_reference_past_64_kib() {
        let mut msg = b"MESSAGE sip:a@b SIP/2.0\r\n".to_vec();
        while msg.len() < 70_000 {
            msg.extend_from_slice(b"Subject: ");
            msg.extend(core::iter::repeat_n(b'x', 1000));
            msg.extend_from_slice(b"\r\n");
        }
        msg.extend_from_slice(b"\r\n");
        let limits = Limits {
            max_message: 100_000,
            max_headers: MAX_HEADERS,
        };
        let mut got = Message::empty(&msg);
        let mut want = Message::empty(&msg);
        let r = got.read_head(&limits, false);
        assert!(r.is_err());
        assert_eq!(r, reference::read_head(&mut want, &limits, false));
    }

    /// Every corpus message and mutant, and every prefix of one in 16 of them.
    #[test]
    #[ignore = "needs ../shared/corpus"]
    fn read_head_agrees_with_the_reference_on_the_corpus() {
        let (mut compared, mut accepted, mut differ) = (0, 0, 0);
        for (i, bytes) in crate::corpus_inputs::inputs().iter().enumerate() {
            differ += usize::from(!agree(bytes, &mut compared, &mut accepted));
            if i % 16 == 0 {
                for end in 0..bytes.len() {
                    differ += usize::from(!agree(&bytes[..end], &mut compared, &mut accepted));
                }
            }
        }
        let counts = std::format!("{compared} compared, {accepted} accepted, {differ} differ");
        assert!(compared > 1_000_000 && accepted > 100_000, "{counts}");
        assert_eq!(differ, 0, "{counts}");
    }
}

#[cfg(test)]
mod conflict_tests {
    use std::vec::Vec;

    use super::*;

    /// [`Message::first_conflicting`] without the `repeated` shortcut: the reference.
    fn reference(msg: &Message<'_>, kinds: &[HeaderKind]) -> Option<HeaderKind> {
        let wanted = kinds.iter().fold(0u64, |m, &k| m | 1u64 << (k as u32 & 63));
        let mut conflicting = 0u64;
        for (i, slot) in msg.slots.iter().enumerate() {
            let bit = 1u64 << (slot.kind as u32 & 63);
            if slot.kind == HeaderKind::Other || wanted & bit == 0 {
                continue;
            }
            let first = usize::from(msg.first[slot.kind as usize]);
            if first != i
                && let Some(f) = msg.slots.get(first)
                && msg.value_at(f).0 != msg.value_at(slot).0
            {
                conflicting |= bit;
            }
        }
        kinds
            .iter()
            .copied()
            .find(|&k| conflicting & 1u64 << (k as u32 & 63) != 0)
    }

    /// The answer with the shortcut is the reference's for the checks' kinds, all the
    /// kinds a message has, and each alone, on every parsed and reattached corpus
    /// message and mutant.
    #[test]
    #[ignore = "needs ../shared/corpus"]
    fn first_conflicting_agrees_with_the_full_pass_on_the_corpus() {
        let once = [
            HeaderKind::From,
            HeaderKind::To,
            HeaderKind::CallId,
            HeaderKind::CSeq,
            HeaderKind::MaxForwards,
            HeaderKind::ContentType,
        ];
        let limits = Limits::default();
        let (mut compared, mut conflicts, mut differ) = (0, 0, 0);
        for bytes in crate::corpus_inputs::inputs() {
            let Ok(msg) = Message::parse_with(&bytes, &limits) else {
                continue;
            };
            let copy: Vec<u8> = msg.as_bytes().to_vec();
            let back = Message::reattach(&copy, &msg.detach());
            // The lookup table comes back as the pass over the slots builds it.
            if let Some(back) = &back {
                let mut first = [NONE; HeaderKind::COUNT];
                let mut repeated = 0u64;
                for (i, slot) in back.slots.iter().enumerate() {
                    if slot.kind != HeaderKind::Other {
                        if first[slot.kind as usize] == NONE {
                            first[slot.kind as usize] = i as u8;
                        } else {
                            repeated |= 1u64 << (slot.kind as u32 & 63);
                        }
                    }
                }
                differ += usize::from((back.first, back.repeated) != (first, repeated));
            }
            for m in [Some(&msg), back.as_ref()].into_iter().flatten() {
                // Every kind the message has (an absent one cannot conflict), in
                // order and reversed, and each alone.
                let present: Vec<HeaderKind> = m
                    .slots
                    .iter()
                    .map(|s| s.kind)
                    .filter(|&k| k != HeaderKind::Other)
                    .collect();
                let reversed: Vec<HeaderKind> = present.iter().rev().copied().collect();
                let mut sets: Vec<&[HeaderKind]> = std::vec![&once[..], &present, &reversed];
                sets.extend(present.iter().map(core::slice::from_ref));
                for kinds in sets {
                    let got = m.first_conflicting(kinds);
                    differ += usize::from(got != reference(m, kinds));
                    conflicts += usize::from(got.is_some());
                    compared += 1;
                }
            }
        }
        let counts =
            std::format!("{compared} answers compared, {conflicts} conflicts, {differ} differ");
        assert!(compared > 100_000 && conflicts > 100, "{counts}");
        assert_eq!(differ, 0, "{counts}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// How `parse_header` read a header name before [`name_before_colon`]: the
    /// reference [`read_name`] is held to.
    fn read_name_reference(bytes: &[u8], pos: usize) -> Result<(HeaderKind, usize), ParseError> {
        let mut i = pos;
        while i < bytes.len() && lex::is_token(bytes[i]) {
            i += 1;
        }
        let name_len = i - pos;
        if name_len == 0 {
            return Err(ParseError::new(K::HeaderName, pos));
        }
        while i < bytes.len() && matches!(bytes[i], b' ' | b'\t') {
            i += 1;
        }
        if bytes.get(i) != Some(&b':') {
            return Err(ParseError::new(K::HeaderName, i));
        }
        Ok((HeaderKind::from_name(&bytes[pos..pos + name_len]), i + 1))
    }

    /// Every known name and compact form, in both cases, before each kind of end (a
    /// colon, white space then a colon, more name, a separator, a line end), at every
    /// distance from the end of the input.
    #[test]
    fn read_name_agrees_with_the_token_scan() {
        let mut names: std::vec::Vec<std::vec::Vec<u8>> = std::vec::Vec::new();
        for k in HeaderKind::NAMED {
            names.push(k.as_str().as_bytes().to_vec());
            names.push(k.as_str().to_ascii_uppercase().into_bytes());
        }
        for c in b'a'..=b'z' {
            names.push(std::vec![c]);
            names.push(std::vec![c.to_ascii_uppercase()]);
        }
        names.push(b"X-Custom-Header-Name-Too-Long-For-Words".to_vec());
        names.push(b"".to_vec());
        let ends: [&[u8]; 9] = [
            b":", b" :", b"\t :", b"x:", b";:", b"\r\n", b"", b": ", b"-:",
        ];
        let (mut compared, mut known) = (0, 0);
        for name in &names {
            for end in ends {
                for pad in 0..26 {
                    let mut line = std::vec![b'@'; 3];
                    line.extend_from_slice(name);
                    line.extend_from_slice(end);
                    line.extend(core::iter::repeat_n(b'a', pad));
                    let want = read_name_reference(&line, 3);
                    assert_eq!(read_name(&line, 3), want, "{line:?}");
                    compared += 1;
                    known += usize::from(want.is_ok_and(|(k, _)| k != HeaderKind::Other));
                }
            }
        }
        assert!(compared > 10_000 && known > 2_000, "{compared} {known}");
    }

    /// [`read_name`] at every offset of every corpus message and mutant.
    #[test]
    #[ignore = "needs ../shared/corpus"]
    fn read_name_agrees_with_the_token_scan_on_the_corpus() {
        let (mut compared, mut differ) = (0usize, 0usize);
        for bytes in crate::corpus_inputs::inputs() {
            for pos in 0..bytes.len() {
                differ += usize::from(read_name(&bytes, pos) != read_name_reference(&bytes, pos));
                compared += 1;
            }
        }
        assert!(compared > 1_000_000, "{compared}");
        assert_eq!(differ, 0, "{differ} of {compared} differ");
    }

    /// What `common_start_line` takes for granted: a canonical reason phrase, as
    /// `StatusCode::reason` gives it for every code, passes `parse_start_line`.
    #[test]
    fn canonical_reasons_pass_the_reason_check() {
        for n in 100..=699 {
            let code = StatusCode::new(n).unwrap();
            let line = std::format!("SIP/2.0 {n} {}", code.reason());
            let want = StartLine::Response {
                version: "SIP/2.0",
                code,
                reason: code.reason(),
            };
            assert_eq!(parse_start_line(line.as_bytes(), 0), Ok(want), "{line}");
            let rest = std::format!("{line}\r\n");
            let found = common_start_line(rest.as_bytes());
            assert_eq!(found, Some((want, line.len())), "{line}");
        }
    }

    /// `common_start_line` gives what `parse_start_line` gives, or leaves the line to
    /// it: every method, known or not, under each start, with odd URIs and versions.
    #[test]
    fn common_start_line_agrees_with_parse_start_line() {
        let mut lines: std::vec::Vec<std::vec::Vec<u8>> = std::vec::Vec::new();
        let methods: std::vec::Vec<&[u8]> = Method::KNOWN
            .iter()
            .map(|m| m.as_str().as_bytes())
            .chain([
                &b"invite"[..],
                b"INVITEX",
                b"INVIT",
                b"FOO",
                b"",
                b"SIP/2.0",
                b"A\x00",
            ])
            .collect();
        for m in &methods {
            for uri in [
                &b"sip:a@b"[..],
                b"",
                b"sip:a b",
                b"sip:\xc3\xa9",
                b"sip:a\x7f",
            ] {
                for version in [&b"SIP/2.0"[..], b"sip/2.0", b"SIP/2.01", b"", b"SIP/2.0 "] {
                    let mut line = m.to_vec();
                    line.push(b' ');
                    line.extend_from_slice(uri);
                    line.push(b' ');
                    line.extend_from_slice(version);
                    lines.push(line);
                }
            }
        }
        for status in [
            &b"SIP/2.0 200 OK"[..],
            b"SIP/2.0 200 OK ",
            b"SIP/2.0 200 Ok",
            b"SIP/2.0 200",
            b"SIP/2.0 200 ",
            b"SIP/2.0 099 x",
            b"SIP/2.0 700 x",
            b"SIP/2.0 2x0 OK",
            b"SIP/2.0 2000 OK",
            b"SIP/2.0  200 OK",
            b"SIP/2.0 299 Success",
            b"sip/2.0 200 OK",
            b"SIP/2.0 180 Ringing\x00",
        ] {
            lines.push(status.to_vec());
        }
        // Each prefix of each line, followed by what may come after one: the line is
        // found only where a line end follows, and is what `parse_start_line` reads
        // up to the first CR or LF.
        let mut common = 0;
        for line in &lines {
            for end in 0..=line.len() {
                for tail in [
                    &b"\r\nVia: x\r\n"[..],
                    b"\nVia: x\n",
                    b"\r",
                    b"",
                    b"x\r\n",
                    b" \r\n",
                    b"\rx",
                    b"\x00\r\n",
                ] {
                    let rest = [&line[..end], tail].concat();
                    if let Some((start, len)) = common_start_line(&rest) {
                        let at = rest.iter().position(|&b| b == b'\r' || b == b'\n');
                        assert_eq!(at, Some(len), "{rest:?}");
                        assert_eq!(parse_start_line(&rest[..len], 0), Ok(start), "{rest:?}");
                        common += 1;
                    }
                }
            }
        }
        assert!(common > 40, "{common}");
    }

    #[test]
    fn uri_byte_check_agrees_with_a_byte_search() {
        let bad = |b: u8| b <= b' ' || b >= 0x7f;
        for len in 0..20 {
            for at in 0..len {
                for b in 0..=255u8 {
                    let mut s = [b'a'; 20];
                    s[at] = b;
                    let s = &s[..len];
                    assert_eq!(has_space_control_or_non_ascii(s), s.iter().any(|&c| bad(c)));
                    let first = s.iter().position(|&c| bad(c));
                    assert_eq!(space_control_or_non_ascii(s), first, "{s:?}");
                }
            }
        }
    }

    /// Every typed view gives the same answer with the `text` cache as without it (the
    /// per-part UTF-8 passes), wherever the parts lie.
    #[test]
    fn the_text_cache_changes_no_view() {
        let messages: [&[u8]; 5] = [
            b"INVITE sip:bob@127.0.0.1:5062 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKf14;rport\r\n\
              v: SIP/2.0/TCP [::1]:5061 ; branch = z9hG4bKx2 ; received=10.0.0.1, SIP/2.0/UDP h\r\n\
              From: \"Al\xc3\xa9 \\\"A\\\"\" <sip:alice@127.0.0.1>;tag=405d\r\nt: Bob <sip:bob@b.example;lr>\r\n\
              Call-ID: c4fea@127.0.0.1\r\nCSeq: 1 INVITE\r\nm: <sip:x@[2001:db8::1]:5060>;q=0.5, sip:y@h;expires=60\r\n\
              Route: <sip:p1.example.com;lr>,<sip:p2@10.0.0.2:5070;transport=tcp?h=v>\r\n\
              Record-Route: <sips:rr@rr.example>\r\nSubject: \xc3\xa9\r\nContent-Length: 0\r\n\r\n",
            b"SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1;rport=5060;received=127.0.0.1\r\n\
              From: <sip:alice@127.0.0.1>;tag=1\r\nTo: <sip:bob@127.0.0.1>;tag=2\r\ni: c@h\r\nCSeq: 1 INVITE\r\n\
              Contact: *\r\nl: 0\r\n\r\n",
            b"SIP/2.0 200 Fine thanks\r\nVIA: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFROM: a <tel:+1-2;x=y>;tag=1\r\n\
              call-id: x\r\ncontent-length: 0\r\n\r\n",
            // Not UTF-8: no cache, every view takes its own pass.
            b"OPTIONS sip:a@b SIP/2.0\r\nFrom: \"\xe9\" <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: 1\r\n\r\n",
            // Not a valid start line; salvaged, the Request-URI follows two spaces.
            b"INVITE  sip:a@b  SIP/2.0\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:b@c>\r\nCall-ID: 1\r\n\r\n",
        ];
        for (i, bytes) in messages.iter().enumerate() {
            let m = Message::parse(bytes)
                .or_else(|_| Message::salvage_request(bytes, &Limits::default()).ok_or(()))
                .unwrap();
            assert_eq!(m.text.is_some(), i != 3, "{i}");
            let mut bare = m.clone();
            bare.text = None;
            // The cache cut short anywhere (it ends short of the body, see `text_end`):
            // the parts past its end take their own passes, to the same views.
            let whole = core::str::from_utf8(&bytes[..m.body_start]).ok();
            for cut in 0..=m.body_start {
                let mut short = m.clone();
                short.text = whole.and_then(|t| t.get(..cut));
                assert!(short.headers().eq(bare.headers()), "{i} {cut}");
                assert_eq!(short.request_uri(), bare.request_uri(), "{i} {cut}");
                assert_eq!(short.from(), bare.from(), "{i} {cut}");
                assert_eq!(short.to(), bare.to(), "{i} {cut}");
                assert_eq!(short.call_id(), bare.call_id(), "{i} {cut}");
                assert!(short.vias().eq(bare.vias()), "{i} {cut}");
                assert!(short.contacts().eq(bare.contacts()), "{i} {cut}");
                assert!(short.routes().eq(bare.routes()), "{i} {cut}");
                assert!(short.record_routes().eq(bare.record_routes()), "{i} {cut}");
            }
            assert!(m.headers().eq(bare.headers()), "{i}");
            assert_eq!(m.request_uri(), bare.request_uri(), "{i}");
            assert_eq!(m.from(), bare.from(), "{i}");
            assert_eq!(m.to(), bare.to(), "{i}");
            assert_eq!(m.call_id(), bare.call_id(), "{i}");
            assert!(m.vias().eq(bare.vias()), "{i}");
            assert!(m.contacts().eq(bare.contacts()), "{i}");
            assert!(m.routes().eq(bare.routes()), "{i}");
            assert!(m.record_routes().eq(bare.record_routes()), "{i}");
            assert!(
                m.vias()
                    .chain(m.routes().map(|_| m.top_via()))
                    .all(|v| v.is_ok())
            );
        }
        let m = Message::parse(messages[0]).unwrap();
        let from = m.from().unwrap();
        assert_eq!(from.display_name().unwrap().as_str(), "Al\u{e9} \\\"A\\\"");
        assert_eq!(
            m.request_uri().unwrap().unwrap().as_str(),
            "sip:bob@127.0.0.1:5062"
        );
        let salvaged = Message::salvage_request(messages[4], &Limits::default()).unwrap();
        assert_eq!(salvaged.request_uri().unwrap().unwrap().as_str(), "sip:a@b");
    }

    /// A canonical reason phrase is taken as the static one; any other is read as sent.
    #[test]
    fn reason_phrases() {
        for (line, reason) in [
            (&b"SIP/2.0 200 OK"[..], "OK"),
            (b"SIP/2.0 180 Ringing", "Ringing"),
            (b"SIP/2.0 180 ringing", "ringing"),
            (b"SIP/2.0 200 OK ", "OK "),
            (b"SIP/2.0 487 Request Terminated", "Request Terminated"),
            (b"SIP/2.0 299 OK", "OK"),
            (b"SIP/2.0 200 \xc3\xa9", "\u{e9}"),
        ] {
            match parse_start_line(line, 0).unwrap() {
                StartLine::Response { reason: r, .. } => assert_eq!(r, reason),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn detach_and_reattach_give_the_same_message() {
        let bytes = b"INVITE sip:bob@b.example SIP/2.0\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1\r\n\
            To: <sip:bob@b.example>\r\nf: <sip:a@a.example>;tag=1\r\nContent-Length: 2\r\n\r\nhiXX";
        let m = Message::parse(bytes).unwrap();
        let copy = m.as_bytes().to_vec();
        let back = Message::reattach(&copy, &m.detach()).unwrap();
        assert_eq!(back.start_line(), m.start_line());
        assert_eq!((back.first, back.repeated), (m.first, m.repeated));
        assert!(back.headers().eq(m.headers()));
        assert_eq!(back.body(), b"hi");
        assert_eq!(back.header(HeaderKind::From), m.header(HeaderKind::From));
        assert!(Message::reattach(&copy[..10], &m.detach()).is_none());
        assert!(Message::reattach(b"", &Detached::empty()).is_none());
        // A response, with bare-LF line ends.
        let bytes = b"SIP/2.0 180 Ringing\nCall-ID: x\nContent-Length: 0\n\n";
        let m = Message::parse(bytes).unwrap();
        let back = Message::reattach(bytes, &m.detach()).unwrap();
        assert_eq!(back.status(), Some(StatusCode::RINGING));
        assert_eq!(back.header(HeaderKind::CallId).unwrap().value, b"x");
        // Start lines are split where they were parsed: every shape comes back the same,
        // also from an index written over the previous one.
        let mut reused = m.detach();
        for line in [
            &b"SIP/2.0 200"[..],
            b"SIP/2.0 200 ",
            b"SIP/2.0 486  Busy  Here ",
            b"SIP/2.0 200 \xc3\xa9t\xc3\xa9",
            b"sip/2.0 404 Not Found",
            b"SIP/2.10 200 OK",
            b"!interesting-Method0123 sip:a@b SIP/2.0",
            b"OPTIONS sip:a@b;x=y?h=v sip/2.0",
        ] {
            let mut bytes = line.to_vec();
            bytes.extend_from_slice(b"\r\nCall-ID: x\r\nContent-Length: 0\r\n\r\n");
            let m = Message::parse(&bytes).unwrap();
            let copy = bytes.clone();
            let back = Message::reattach(&copy, &m.detach()).unwrap();
            assert_eq!(
                back.start_line(),
                m.start_line(),
                "{:?}",
                core::str::from_utf8(line)
            );
            m.detach_into(&mut reused);
            let again = Message::reattach(&copy, &reused).unwrap();
            assert_eq!(again.start_line(), m.start_line());
            assert!(again.headers().eq(m.headers()));
            assert_eq!((again.first, again.repeated), (m.first, m.repeated));
        }
    }
}

#[cfg(test)]
mod size_tests {
    use super::*;
    use crate::error::Capacity;

    const HEAD: &[u8] =
        b"MESSAGE sip:bob@b.example SIP/2.0\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1\r\n";

    fn limits() -> Limits {
        Limits {
            max_message: 200_000,
            ..Limits::default()
        }
    }

    #[test]
    fn a_body_may_run_past_64_kib() {
        let mut bytes = HEAD.to_vec();
        bytes.extend_from_slice(b"Content-Length: 100000\r\nX-Long-Header-Name-Kept: v\r\n\r\n");
        bytes.resize(bytes.len() + 100_000, b'x');
        let m = Message::parse_with(&bytes, &limits()).unwrap();
        assert_eq!(m.body().len(), 100_000);
        let h = m.headers().last().unwrap();
        assert_eq!((h.name, h.value), ("X-Long-Header-Name-Kept", &b"v"[..]));
    }

    #[test]
    fn a_header_section_past_64_kib_is_a_capacity_error() {
        let mut bytes = HEAD.to_vec();
        bytes.extend_from_slice(b"Subject: ");
        bytes.resize(bytes.len() + 70_000, b'x');
        bytes.extend_from_slice(b"\r\nContent-Length: 0\r\n\r\n");
        let e = Message::parse_with(&bytes, &limits()).unwrap_err();
        assert_eq!(e.kind, K::Capacity(Capacity::MessageSize));
        assert_eq!(e.offset, HEAD.len());
    }

    /// Around the 64 KiB bound: the first header whose value ends beyond it is refused,
    /// at its start (its name may start within the bound or not), and one that ends
    /// right at it is kept.
    #[test]
    fn the_capacity_error_is_at_the_first_header_that_ends_past_64_kib() {
        let max = usize::from(u16::MAX);
        for pad in max - 40..max + 10 {
            let mut bytes = HEAD.to_vec();
            bytes.extend_from_slice(b"Subject: ");
            bytes.resize(pad.max(bytes.len()), b'x');
            let subject_end = bytes.len();
            bytes.extend_from_slice(b"\r\nTo: <sip:b@b>\r\nContent-Length: 0\r\n\r\n");
            // Each header's start and value end, in order.
            let to = subject_end + 2;
            let to_end = to + b"To: <sip:b@b>".len();
            let cl = to_end + 2;
            let cl_end = cl + b"Content-Length: 0".len();
            let want = [(HEAD.len(), subject_end), (to, to_end), (cl, cl_end)]
                .into_iter()
                .find(|&(_, end)| end > max)
                .map_or(Ok(()), |(at, _)| Err(at));
            let got = Message::parse_with(&bytes, &limits());
            match (got, want) {
                (Ok(m), Ok(())) => assert_eq!(m.header_count(), 4, "{pad}"),
                (Err(e), Err(at)) => {
                    assert_eq!(e.kind, K::Capacity(Capacity::MessageSize), "{pad}");
                    assert_eq!(e.offset, at, "{pad}");
                }
                (got, want) => panic!("{pad}: {got:?} {want:?}"),
            }
        }
    }
}

#[cfg(test)]
mod footprint {
    #[test]
    fn a_message_view_is_about_half_a_kilobyte() {
        // 64 index entries of 8 bytes, the first-of-kind table and the start line.
        let size = core::mem::size_of::<super::Message<'static>>();
        assert!(size <= 700, "{size}");
    }
}
