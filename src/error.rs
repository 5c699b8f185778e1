//! Error types shared by every layer.
//!
//! Each operation has its own small `Copy` error; the types here are the ones several
//! layers share: [`Capacity`] (a bound from the house rules was reached) and
//! [`ParseError`] (what went wrong while reading bytes, and at which byte offset).

use core::fmt;

/// A fixed bound was reached. Every bound in the crate is a named constant or a const
/// generic; exceeding one yields this error instead of truncating or allocating.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Capacity {
    /// The message is larger than [`Limits::max_message`](crate::message::Limits).
    MessageSize,
    /// More header lines than the header index holds.
    Headers,
    /// A Via branch longer than the key storage.
    Branch,
    /// A Via sent-by longer than the key storage.
    SentBy,
    /// A string (Call-ID, tag, URI) longer than the bounded storage meant for it.
    String,
    /// More routes than the route set holds.
    RouteSet,
    /// The transaction table is full.
    Transactions,
    /// The dialog table is full.
    Dialogs,
    /// An output queue (transmits, events) is full.
    Queue,
    /// A caller buffer is too small.
    Buffer,
    /// The registration table is full.
    Registrations,
    /// The subscription table is full.
    Subscriptions,
    /// The table of subscriptions served as notifier is full.
    Notifiers,
}

impl fmt::Display for Capacity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self {
            Capacity::MessageSize => "message larger than the configured limit",
            Capacity::Headers => "too many header lines",
            Capacity::Branch => "Via branch too long",
            Capacity::SentBy => "Via sent-by too long",
            Capacity::String => "string longer than its bounded storage",
            Capacity::RouteSet => "too many routes",
            Capacity::Transactions => "transaction table full",
            Capacity::Dialogs => "dialog table full",
            Capacity::Queue => "output queue full",
            Capacity::Buffer => "buffer too small",
            Capacity::Registrations => "registration table full",
            Capacity::Subscriptions => "subscription table full",
            Capacity::Notifiers => "notifier table full",
        };
        f.write_str(what)
    }
}

impl core::error::Error for Capacity {}

/// What was wrong with the input. Carried by [`ParseError`] with the byte offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// The input holds no message (empty, or only whitespace).
    Empty,
    /// A bound was reached (message size, header count).
    Capacity(Capacity),
    /// The start line is neither a Request-Line nor a Status-Line (RFC 3261 §7.1, §7.2).
    StartLine,
    /// The method is not a token (RFC 3261 §25.1).
    Method,
    /// The Request-URI is malformed (RFC 3261 §19.1, §25.1).
    RequestUri,
    /// The SIP-Version is malformed (RFC 3261 §7.1).
    Version,
    /// The Status-Code is not three digits in 100..=699 (RFC 3261 §7.2, §21).
    StatusCode,
    /// The Reason-Phrase holds a control character or invalid UTF-8.
    ReasonPhrase,
    /// A header name is not a token, or the colon is missing (RFC 3261 §7.3.1).
    HeaderName,
    /// A header value holds a bare CR, a bare LF or a control character.
    HeaderValue,
    /// The header section does not end with an empty line.
    HeadersUnterminated,
    /// Content-Length is not a number, is duplicated with different values, or too big.
    ContentLength,
    /// The body is shorter than Content-Length says (RFC 3261 §18.3).
    BodyTruncated,
    /// A stream message has no Content-Length (RFC 3261 §18.3, §20.14).
    ContentLengthRequired,
    /// A URI is malformed (RFC 3261 §19.1, §25.1).
    Uri,
    /// A Via value is malformed (RFC 3261 §20.42).
    Via,
    /// A name-addr / addr-spec value is malformed (RFC 3261 §20.10, §20.20, §20.39).
    NameAddr,
    /// A CSeq value is malformed (RFC 3261 §20.16).
    CSeq,
    /// A number is malformed or out of range.
    Number,
    /// A token, token list or parameter is malformed.
    Token,
    /// A quoted string is not closed or holds an invalid escape.
    QuotedString,
    /// An authentication challenge or credentials value is malformed (RFC 3261 §20.7, §20.44).
    Auth,
    /// A header that must be present is missing.
    MissingHeader,
    /// An RSeq or RAck value is malformed (RFC 3262 §7).
    Reliability,
    /// A header is malformed in a way the other kinds do not describe.
    Header,
}

impl fmt::Display for ParseErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self {
            ParseErrorKind::Empty => "no message",
            ParseErrorKind::Capacity(c) => return write!(f, "capacity: {c}"),
            ParseErrorKind::StartLine => "malformed start line",
            ParseErrorKind::Method => "malformed method",
            ParseErrorKind::RequestUri => "malformed Request-URI",
            ParseErrorKind::Version => "malformed SIP-Version",
            ParseErrorKind::StatusCode => "malformed status code",
            ParseErrorKind::ReasonPhrase => "malformed reason phrase",
            ParseErrorKind::HeaderName => "malformed header name",
            ParseErrorKind::HeaderValue => "malformed header value",
            ParseErrorKind::HeadersUnterminated => "header section not terminated",
            ParseErrorKind::ContentLength => "malformed Content-Length",
            ParseErrorKind::BodyTruncated => "body shorter than Content-Length",
            ParseErrorKind::ContentLengthRequired => "Content-Length required on streams",
            ParseErrorKind::Uri => "malformed URI",
            ParseErrorKind::Via => "malformed Via",
            ParseErrorKind::NameAddr => "malformed name-addr",
            ParseErrorKind::CSeq => "malformed CSeq",
            ParseErrorKind::Number => "malformed number",
            ParseErrorKind::Token => "malformed token or parameter",
            ParseErrorKind::QuotedString => "malformed quoted string",
            ParseErrorKind::Auth => "malformed authentication parameters",
            ParseErrorKind::MissingHeader => "missing header",
            ParseErrorKind::Reliability => "malformed RSeq or RAck",
            ParseErrorKind::Header => "malformed header",
        };
        f.write_str(what)
    }
}

/// A parse failure: what went wrong and the byte offset where it was found.
///
/// Offsets from [`Message`](crate::message::Message) accessors are relative to the start
/// of the message; offsets from a typed view's own `parse` are relative to the value given.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ParseError {
    /// What was wrong.
    pub kind: ParseErrorKind,
    /// Byte offset of the fault.
    pub offset: usize,
}

impl ParseError {
    /// A new error of `kind` at `offset`.
    pub const fn new(kind: ParseErrorKind, offset: usize) -> Self {
        ParseError { kind, offset }
    }

    /// The same error with its offset moved by `base` (a value's position in its message).
    #[must_use]
    pub const fn shifted(self, base: usize) -> Self {
        ParseError {
            kind: self.kind,
            offset: self.offset.saturating_add(base),
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.kind, self.offset)
    }
}

impl core::error::Error for ParseError {}
