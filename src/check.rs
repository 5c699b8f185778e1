//! The checks a UA applies to a message before anything else (RFC 3261 §8.1.3, §8.2,
//! §18.3), as pure functions over a [`Message`] and the UA's [`Capabilities`].
//!
//! A request that fails yields a [`Rejection`]: the status code the RFC names and the
//! [`Problem`] found; [`Rejection::write_response`] writes that response, with the
//! headers the RFC requires (Allow for 405/501, Unsupported for 420, Accept for 415).
//! A response that fails is discarded ([`Discard`]). [`classify`] does the whole job for
//! one received datagram, including input that does not parse.
//!
//! ```
//! use sansip::check::{self, Capabilities, Verdict};
//! use sansip::message::{Limits, StatusCode};
//! let bytes = b"INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\
//!     From: <sip:a@example.com>;tag=1\r\nTo: <sip:bob@example.com>\r\nCall-ID: c1\r\n\
//!     CSeq: 1 INVITE\r\nRequire: teleportation\r\nContent-Length: 0\r\n\r\n";
//! match check::classify(bytes, &Capabilities::DEFAULT, &Limits::default()) {
//!     Verdict::Respond(msg, rejection) => {
//!         assert_eq!(rejection.status, StatusCode::BAD_EXTENSION);
//!         let mut out = [0u8; 512];
//!         let n = rejection.write_response(&msg, &Capabilities::DEFAULT, "t1", &mut out).unwrap();
//!         let text = std::str::from_utf8(&out[..n]).unwrap();
//!         assert!(text.contains("\r\nUnsupported: teleportation\r\n"));
//!     }
//!     other => panic!("{other:?}"),
//! }
//! ```

use core::fmt;

use crate::encode::{EncodeError, MessageBuilder, Value};
use crate::error::{ParseError, ParseErrorKind};
use crate::message::{
    CSeq, CallId, ContactValue, ContentType, HeaderKind, Limits, Message, Method, NameAddr,
    StatusCode, TokenList, Via, lex,
};

/// Most option tags listed in one Unsupported header written by
/// [`Rejection::write_response`].
pub const MAX_UNSUPPORTED: usize = 16;

/// What a UA supports: the input of the §8.2 checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Capabilities<'c> {
    /// Methods the UA accepts (others known to the crate get 405, unknown ones 501).
    pub methods: &'c [Method<'c>],
    /// Request-URI schemes the UA serves (others get 416), lower case.
    pub schemes: &'c [&'c str],
    /// Option tags the UA supports (a Require naming another gets 420). With `100rel`,
    /// the endpoint (feature `endpoint`) uses reliable provisional responses (RFC 3262).
    pub extensions: &'c [&'c str],
    /// Body media types the UA understands, `type/subtype` (others get 415).
    pub body_types: &'c [&'c str],
}

impl Capabilities<'static> {
    /// Every method the crate knows, schemes `sip` and `sips`, no extensions, bodies
    /// `application/sdp` and `multipart/mixed`.
    pub const DEFAULT: Capabilities<'static> = Capabilities {
        methods: &Method::KNOWN,
        schemes: &["sip", "sips"],
        extensions: &[],
        body_types: &["application/sdp", "multipart/mixed"],
    };
}

impl Default for Capabilities<'static> {
    fn default() -> Self {
        Capabilities::DEFAULT
    }
}

impl Capabilities<'_> {
    fn supports_scheme(&self, scheme: &str) -> bool {
        // Schemes are a few bytes: compared byte by byte (`eq_fold`'s answer), not by a
        // call of `memcmp` for each.
        let scheme = scheme.as_bytes();
        self.schemes.iter().any(|s| {
            let s = s.as_bytes();
            s.len() == scheme.len()
                && (s.iter().zip(scheme).all(|(a, b)| a == b) || s.eq_ignore_ascii_case(scheme))
        })
    }

    fn supports_extension(&self, tag: &str) -> bool {
        self.extensions.iter().any(|e| e.eq_ignore_ascii_case(tag))
    }

    /// Whether `media_type/subtype` is one of the body types, compared as `split_slash`
    /// splits each (at its first `/`) and case-insensitively. `media_type` is a token,
    /// so holds no `/`: a type matches iff its byte after the `media_type` part is that
    /// first `/`, which spares the search for it.
    fn supports_body(&self, media_type: &str, subtype: &str) -> bool {
        let (ty, sub) = (media_type.as_bytes(), subtype.as_bytes());
        debug_assert!(!ty.contains(&b'/'));
        self.body_types.iter().any(|t| {
            let t = t.as_bytes();
            t.len() == ty.len() + 1 + sub.len()
                && t[ty.len()] == b'/'
                && eq_fold(&t[..ty.len()], ty)
                && eq_fold(&t[ty.len() + 1..], sub)
        })
    }

    /// Whether an Accept media range (`*/*`, `type/*`, `type/subtype`) admits a body
    /// type this UA can produce.
    fn accepts_range(&self, range: &str) -> bool {
        let Some((ty, sub)) = range.split_once('/') else {
            return false;
        };
        let (ty, sub) = (ty.trim(), sub.trim());
        self.body_types.iter().any(|t| {
            t.split_once('/').is_some_and(|(bt, bs)| {
                (ty == "*" || ty.eq_ignore_ascii_case(bt))
                    && (sub == "*" || sub.eq_ignore_ascii_case(bs))
            })
        })
    }
}

/// Whether a SIP-Version is `SIP/2.0` (case-insensitive, RFC 3261 §7.1): the spelling
/// every message writes is compared first, as a whole, before the byte-by-byte folding.
#[inline]
fn is_sip_2_0(version: &str) -> bool {
    eq_fold(version.as_bytes(), b"SIP/2.0")
}

/// `a` equals `b` ignoring ASCII case; the exact spelling (nearly always the one
/// received) is compared first, as a whole.
fn eq_fold(a: &[u8], b: &[u8]) -> bool {
    a == b || a.eq_ignore_ascii_case(b)
}

/// `t` split at its first `/`, as `str::split_once('/')` splits it: how
/// `supports_body` split the body types before it compared in place (the reference).
#[cfg(test)]
fn split_slash(t: &str) -> Option<(&[u8], &[u8])> {
    let b = t.as_bytes();
    let at = b.iter().position(|&c| c == b'/')?;
    Some((&b[..at], &b[at + 1..]))
}

/// The headers every request and response carries (RFC 3261 §8.1.1), as the checks
/// parsed them: the top Via, From, To, Call-ID and CSeq.
#[derive(Clone, Debug)]
pub struct CoreHeaders<'a> {
    /// The topmost Via value.
    pub top_via: Via<'a>,
    /// From.
    pub from: NameAddr<'a>,
    /// To.
    pub to: NameAddr<'a>,
    /// Call-ID.
    pub call_id: CallId<'a>,
    /// CSeq.
    pub cseq: CSeq<'a>,
}

/// What was wrong with a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Problem {
    /// The message did not parse (framing, start line or header syntax).
    Malformed(ParseError),
    /// The SIP-Version is not `SIP/2.0`.
    Version,
    /// A mandatory header is missing (RFC 3261 §8.1.1).
    MissingHeader(HeaderKind),
    /// A header that may appear once appears more than once.
    DuplicateHeader(HeaderKind),
    /// A header's value is malformed.
    MalformedHeader(HeaderKind, ParseError),
    /// The method is not one the crate knows (RFC 3261 §8.2.1).
    UnknownMethod,
    /// The method is known but not allowed here (RFC 3261 §8.2.1).
    MethodNotAllowed,
    /// The CSeq method differs from the request method (RFC 3261 §8.1.1.5).
    CSeqMethodMismatch,
    /// The Request-URI is malformed.
    RequestUri(ParseError),
    /// The Request-URI scheme is not served (RFC 3261 §8.2.2.1).
    UnsupportedScheme,
    /// Require names an unsupported extension (RFC 3261 §8.2.2.3).
    BadExtension,
    /// The body's type or encoding is not understood (RFC 3261 §8.2.3).
    UnsupportedMediaType,
    /// Accept admits no body type the UA can answer with (RFC 3261 §21.4.7).
    NotAcceptable,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Malformed(e) => write!(f, "{e}"),
            Problem::Version => f.write_str("SIP-Version is not SIP/2.0"),
            Problem::MissingHeader(k) => write!(f, "missing {k}"),
            Problem::DuplicateHeader(k) => write!(f, "more than one {k}"),
            Problem::MalformedHeader(k, e) => write!(f, "{k}: {e}"),
            Problem::UnknownMethod => f.write_str("unknown method"),
            Problem::MethodNotAllowed => f.write_str("method not allowed"),
            Problem::CSeqMethodMismatch => {
                f.write_str("CSeq method differs from the request method")
            }
            Problem::RequestUri(e) => write!(f, "Request-URI: {e}"),
            Problem::UnsupportedScheme => f.write_str("unsupported Request-URI scheme"),
            Problem::BadExtension => f.write_str("unsupported extension required"),
            Problem::UnsupportedMediaType => f.write_str("unsupported body type or encoding"),
            Problem::NotAcceptable => f.write_str("Accept admits no type this UA produces"),
        }
    }
}

/// A request the UAS answers with an error response instead of processing it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Rejection {
    /// The status code to answer with.
    pub status: StatusCode,
    /// What was wrong.
    pub problem: Problem,
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status,
            self.status.reason(),
            self.problem
        )
    }
}

impl core::error::Error for Rejection {}

impl Rejection {
    const fn new(status: StatusCode, problem: Problem) -> Self {
        Rejection { status, problem }
    }

    fn bad_request(problem: Problem) -> Self {
        Rejection::new(StatusCode::BAD_REQUEST, problem)
    }

    /// Write the response to `request` (RFC 3261 §8.2.6) into `out`, with the headers
    /// the rejection calls for: Allow (405, 501; §8.2.1, §20.5), Unsupported (420;
    /// §8.2.2.3), Accept (415; §8.2.3). `to_tag` is added to To if it has none.
    pub fn write_response(
        &self,
        request: &Message<'_>,
        caps: &Capabilities<'_>,
        to_tag: &str,
        out: &mut [u8],
    ) -> Result<usize, EncodeError> {
        let mut unsupported: heapless::Vec<&str, MAX_UNSUPPORTED> = heapless::Vec::new();
        let mut b = MessageBuilder::response_to(request, self.status, to_tag)?;
        match self.problem {
            Problem::UnknownMethod | Problem::MethodNotAllowed => {
                b.push("Allow", Value::Methods(caps.methods))
            }
            Problem::BadExtension => {
                for tag in request.tokens(HeaderKind::Require).filter_map(Result::ok) {
                    if !caps.supports_extension(tag) && !unsupported.contains(&tag) {
                        // More than MAX_UNSUPPORTED unknown tags: list the first ones.
                        let _ = unsupported.push(tag);
                    }
                }
                b.push("Unsupported", Value::Tokens(&unsupported));
            }
            Problem::UnsupportedMediaType => b.push("Accept", Value::Tokens(caps.body_types)),
            _ => {}
        }
        b.encode_into(out)
    }
}

/// Why a response is dropped instead of being passed on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Discard {
    /// The datagram did not parse, or a request too broken to answer.
    Malformed(ParseError),
    /// The SIP-Version is not `SIP/2.0`.
    Version,
    /// A response with more than one Via (RFC 3261 §8.1.3.3).
    MultipleVias,
    /// A mandatory header is missing, duplicated or malformed.
    Header(HeaderKind),
}

impl fmt::Display for Discard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Discard::Malformed(e) => write!(f, "{e}"),
            Discard::Version => f.write_str("SIP-Version is not SIP/2.0"),
            Discard::MultipleVias => f.write_str("response with more than one Via"),
            Discard::Header(k) => write!(f, "missing, duplicated or malformed {k}"),
        }
    }
}

impl core::error::Error for Discard {}

/// What a UA does with one received datagram.
#[derive(Clone, Debug)]
#[allow(clippy::large_enum_variant)] // no heap to box into; the message is a view
pub enum Verdict<'a> {
    /// Process it: a request that passed [`check_request`] or a response that passed
    /// [`check_response`].
    Accept(Message<'a>),
    /// Answer the request with the rejection's status (see [`Rejection::write_response`]).
    Respond(Message<'a>, Rejection),
    /// Drop it.
    Discard(Discard),
}

/// The checks of RFC 3261 §8.2 (and the syntax a UAS needs) on a parsed request, in the
/// RFC's order where it gives one: version (505), mandatory headers (400), method (501,
/// 405), CSeq method (400), Request-URI (400, 416), Require (420), body (415), Accept
/// (406 for INVITE).
pub fn check_request(msg: &Message<'_>, caps: &Capabilities<'_>) -> Result<(), Rejection> {
    check_request_core(msg, caps).map(drop)
}

/// [`check_request`], returning the core headers it parsed on the way so that the
/// caller does not parse them again.
pub fn check_request_core<'a>(
    msg: &Message<'a>,
    caps: &Capabilities<'_>,
) -> Result<CoreHeaders<'a>, Rejection> {
    let mut core = None;
    check_request_headers(msg, caps, &mut None, &mut core)?;
    // Written with every `Ok`.
    core.ok_or(Rejection::bad_request(Problem::MissingHeader(
        HeaderKind::Via,
    )))
}

/// What the checks of a request found (the tests' view of [`check_request_headers`]).
#[cfg(test)]
#[derive(Debug)]
pub(crate) struct Checked<'a> {
    /// The core headers.
    pub(crate) core: CoreHeaders<'a>,
    /// A request's first Contact URI: `None` when there is none or it is `*`.
    pub(crate) target: Option<&'a str>,
}

/// [`check_request_core`], giving also the URI of the first Contact (see
/// [`Checked::target`]): the remote target of a dialog the request makes, so that the
/// endpoint does not parse the Contact again.
#[cfg(test)]
pub(crate) fn check_request_target<'a>(
    msg: &Message<'a>,
    caps: &Capabilities<'_>,
) -> Result<Checked<'a>, Rejection> {
    let (mut target, mut core) = (None, None);
    check_request_headers(msg, caps, &mut target, &mut core)?;
    let core = core.ok_or(Rejection::bad_request(Problem::MissingHeader(
        HeaderKind::Via,
    )))?;
    Ok(Checked { core, target })
}

/// The checks of [`check_request`], writing the core headers into `core` (`Some` with
/// every `Ok`; on an error it holds nothing of use) and the URI of the first Contact
/// (see [`Checked::target`]) into `target`: the remote target of a dialog the request
/// makes, so that the endpoint does not parse the Contact again. The core headers are
/// parsed where the caller keeps them: returned, they were built aside and copied
/// (some 550 bytes).
pub(crate) fn check_request_headers<'a>(
    msg: &Message<'a>,
    caps: &Capabilities<'_>,
    target: &mut Option<&'a str>,
    core: &mut Option<CoreHeaders<'a>>,
) -> Result<(), Rejection> {
    start_line(msg)?;
    mandatory_headers(
        core,
        msg,
        target,
        Rejection::bad_request,
        true,
        |cseq, content_type, _| request_rules(msg, caps, cseq, content_type),
    )
}

/// The start line of a request: a method (the parser gives one to every request), and
/// SIP/2.0 (505).
fn start_line(msg: &Message<'_>) -> Result<(), Rejection> {
    if msg.method().is_none() {
        return Err(Rejection::bad_request(Problem::Malformed(ParseError::new(
            ParseErrorKind::StartLine,
            0,
        ))));
    }
    if !is_sip_2_0(msg.version()) {
        return Err(Rejection::new(
            StatusCode::VERSION_NOT_SUPPORTED,
            Problem::Version,
        ));
    }
    Ok(())
}

/// The checks of a request after its mandatory headers (`cseq` and `content_type`
/// as they parsed): method, CSeq method, Request-URI, Require, body, Accept.
fn request_rules(
    msg: &Message<'_>,
    caps: &Capabilities<'_>,
    cseq: &CSeq<'_>,
    content_type: Option<&ContentType<'_>>,
) -> Result<(), Rejection> {
    // `start_line` refused a request without a method.
    let Some(method) = msg.method() else {
        return Ok(());
    };
    // §8.2.1: method inspection.
    if !method.is_known() {
        return Err(Rejection::new(
            StatusCode::NOT_IMPLEMENTED,
            Problem::UnknownMethod,
        ));
    }
    if !caps.methods.contains(&method) {
        return Err(Rejection::new(
            StatusCode::METHOD_NOT_ALLOWED,
            Problem::MethodNotAllowed,
        ));
    }
    // §8.1.1.5: the CSeq method matches the request method. Mandatory headers parsed above.
    if cseq.method() != method {
        return Err(Rejection::bad_request(Problem::CSeqMethodMismatch));
    }
    // §8.2.2.1: Request-URI scheme.
    match msg.request_uri_scheme() {
        Some(Ok(scheme)) if !caps.supports_scheme(scheme) => {
            return Err(Rejection::new(
                StatusCode::UNSUPPORTED_URI_SCHEME,
                Problem::UnsupportedScheme,
            ));
        }
        Some(Err(e)) => return Err(Rejection::bad_request(Problem::RequestUri(e))),
        Some(Ok(_)) | None => {}
    }
    // §8.2.2.3: Require, not applied to ACK and CANCEL (and absent from most requests:
    // one index lookup, not a pass over the slots).
    if !matches!(method, Method::Ack | Method::Cancel) && msg.has(HeaderKind::Require) {
        for tag in msg.tokens(HeaderKind::Require) {
            let tag = tag.map_err(|e| {
                Rejection::bad_request(Problem::MalformedHeader(HeaderKind::Require, e))
            })?;
            if !caps.supports_extension(tag) {
                return Err(Rejection::new(
                    StatusCode::BAD_EXTENSION,
                    Problem::BadExtension,
                ));
            }
        }
    }
    // §8.2.3: content processing.
    if !msg.body().is_empty() {
        let unsupported = Rejection::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Problem::UnsupportedMediaType,
        );
        // A malformed Content-Type was refused with 400 by the mandatory checks.
        match content_type {
            Some(ct) if caps.supports_body(ct.media_type(), ct.subtype()) => {}
            _ => return Err(unsupported),
        }
        // Absent from most requests: one index lookup, not a pass over the slots.
        let codings = msg
            .has(HeaderKind::ContentEncoding)
            .then(|| msg.tokens(HeaderKind::ContentEncoding));
        for coding in codings.into_iter().flatten() {
            match coding {
                Ok(c) if c.eq_ignore_ascii_case("identity") => {}
                Ok(_) => return Err(unsupported),
                Err(e) => {
                    return Err(Rejection::bad_request(Problem::MalformedHeader(
                        HeaderKind::ContentEncoding,
                        e,
                    )));
                }
            }
        }
    }
    // An INVITE is answered with a session description: Accept must admit one.
    if method == Method::Invite && msg.has(HeaderKind::Accept) {
        let mut any = false;
        let mut acceptable = false;
        for h in msg.headers_of(HeaderKind::Accept) {
            for item in lex::CommaSeparated::new(h.value).flatten() {
                let range = item.1.split(|&b| b == b';').next().unwrap_or(&[]);
                if let Ok(range) = core::str::from_utf8(range) {
                    any |= !range.trim().is_empty();
                    acceptable |= caps.accepts_range(range);
                }
            }
        }
        // An empty Accept means "no body", which a UA that can answer without one obeys.
        if any && !acceptable {
            return Err(Rejection::new(
                StatusCode::NOT_ACCEPTABLE,
                Problem::NotAcceptable,
            ));
        }
    }
    Ok(())
}

/// The checks of RFC 3261 §8.1.3 on a parsed response: version, exactly one Via
/// (§8.1.3.3), the mandatory headers, and the Record-Route of one that may create a
/// dialog (101–299 to INVITE, SUBSCRIBE, REFER; §12.1.2).
pub fn check_response(msg: &Message<'_>) -> Result<(), Discard> {
    check_response_core(msg).map(drop)
}

/// [`check_response`], returning the core headers it parsed.
pub fn check_response_core<'a>(msg: &Message<'a>) -> Result<CoreHeaders<'a>, Discard> {
    let mut core = None;
    check_response_checked(msg, true, &mut core)?;
    // Written with every `Ok`.
    core.ok_or(Discard::Header(HeaderKind::Via))
}

/// [`check_response_core`], the core headers written into `core` (see
/// [`check_request_headers`]); the Record-Route of a response that may create a dialog
/// is checked if `dialog_rr` (the endpoint checks it itself, once it knows whether the
/// request was in a dialog).
pub(crate) fn check_response_checked<'a>(
    msg: &Message<'a>,
    dialog_rr: bool,
    core: &mut Option<CoreHeaders<'a>>,
) -> Result<(), Discard> {
    if msg.is_request() {
        return Err(Discard::Malformed(ParseError::new(
            ParseErrorKind::StartLine,
            0,
        )));
    }
    if !is_sip_2_0(msg.version()) {
        return Err(Discard::Version);
    }
    mandatory_headers(
        core,
        msg,
        &mut None,
        |problem| match problem {
            Problem::MissingHeader(k)
            | Problem::DuplicateHeader(k)
            | Problem::MalformedHeader(k, _) => Discard::Header(k),
            Problem::Malformed(e) => Discard::Malformed(e),
            _ => Discard::Header(HeaderKind::Other),
        },
        dialog_rr,
        // §8.1.3.3: exactly one Via.
        |_, _, vias| match vias {
            1 => Ok(()),
            _ => Err(Discard::MultipleVias),
        },
    )
}

/// Parse one datagram and decide what a UA does with it: the parse, then
/// [`check_request`] or [`check_response`]. A request that does not parse is still
/// answered with 400 when its headers are readable enough to build a response
/// (RFC 3261 §8.2, §18.3); anything else that does not parse is discarded.
pub fn classify<'a>(bytes: &'a [u8], caps: &Capabilities<'_>, limits: &Limits) -> Verdict<'a> {
    match Message::parse_with(bytes, limits) {
        Ok(msg) if msg.is_request() => match check_request(&msg, caps) {
            Ok(()) => Verdict::Accept(msg),
            Err(rejection) => Verdict::Respond(msg, rejection),
        },
        Ok(msg) => match check_response(&msg) {
            Ok(()) => Verdict::Accept(msg),
            Err(d) => Verdict::Discard(d),
        },
        Err(error) => match Message::salvage_request(bytes, limits) {
            Some(msg)
                if mandatory_headers(&mut None, &msg, &mut None, |p| p, true, |_, _, _| Ok(()))
                    .is_ok() =>
            {
                Verdict::Respond(msg, Rejection::bad_request(Problem::Malformed(error)))
            }
            _ => Verdict::Discard(Discard::Malformed(error)),
        },
    }
}

/// The headers a message holds once (RFC 3261 §7.3.1, §20): a second is a 400.
const ONCE: [HeaderKind; 6] = [
    HeaderKind::From,
    HeaderKind::To,
    HeaderKind::CallId,
    HeaderKind::CSeq,
    HeaderKind::MaxForwards,
    HeaderKind::ContentType,
];

/// A mandatory header `k` that failed to parse with `e`: missing, or malformed.
fn missing_or_malformed(k: HeaderKind, e: ParseError) -> Problem {
    if e.kind == ParseErrorKind::MissingHeader {
        Problem::MissingHeader(k)
    } else {
        Problem::MalformedHeader(k, e)
    }
}

/// Via, From, To, Call-ID and CSeq present and well formed, the single-valued ones
/// exactly once (RFC 3261 §8.1.1, §20); Max-Forwards, Content-Type, Contact, Route and
/// Record-Route well formed where present (in a response, if `dialog_rr` and it may create
/// a dialog, [`creates_dialog`]). Then `then`, the caller's further checks, on the
/// CSeq, Content-Type and number of Via values. Writes what it parsed into `out` (`Some`
/// with every `Ok`, `None` or as it was on an error), and a request's first Contact URI
/// into `target` (see [`Checked::target`]), so that the callers do not parse them
/// again; gives the problem as `fail` makes it the caller's error.
fn mandatory_headers<'a, E>(
    out: &mut Option<CoreHeaders<'a>>,
    msg: &Message<'a>,
    target: &mut Option<&'a str>,
    fail: impl Fn(Problem) -> E,
    dialog_rr: bool,
    then: impl FnOnce(&CSeq<'a>, Option<&ContentType<'a>>, usize) -> Result<(), E>,
) -> Result<(), E> {
    // Call-ID and CSeq are small and parsed first (nothing else depends on the order
    // but which error is reported, and with either malformed the path below reports
    // it). The result is then made in `out`, its Via, From and To parsed where it keeps
    // them: built aside, each was copied in, and the whole result again (some 550 bytes).
    let (Ok(call_id), Ok(cseq)) = (msg.call_id(), msg.cseq()) else {
        *out = Some(mandatory_headers_aside(msg, target, fail, dialog_rr, then)?);
        return Ok(());
    };
    let core = out.insert(CoreHeaders {
        top_via: Via::placeholder(),
        from: NameAddr::placeholder(),
        to: NameAddr::placeholder(),
        call_id,
        cseq,
    });
    let checked = mandatory_headers_into(core, msg, target, &fail, dialog_rr, then);
    if checked.is_err() {
        // Nothing half parsed is left behind.
        *out = None;
    }
    checked
}

/// [`mandatory_headers`] once Call-ID and CSeq parsed (into `core`): the top Via, From
/// and To parsed into `core`, then the other checks.
fn mandatory_headers_into<'a, E>(
    core: &mut CoreHeaders<'a>,
    msg: &Message<'a>,
    target: &mut Option<&'a str>,
    fail: &impl Fn(Problem) -> E,
    dialog_rr: bool,
    then: impl FnOnce(&CSeq<'a>, Option<&ContentType<'a>>, usize) -> Result<(), E>,
) -> Result<(), E> {
    if let Some(kind) = msg.first_conflicting(&ONCE) {
        return Err(fail(Problem::DuplicateHeader(kind)));
    }
    let malformed = |k| move |e| fail(Problem::MalformedHeader(k, e));
    let missing = |k: HeaderKind| move |e: ParseError| fail(missing_or_malformed(k, e));
    let mut vias = 1;
    if !msg.sole_plain_via_into(&mut core.top_via) {
        let mut all_vias = msg.vias();
        match all_vias.next() {
            Some(via) => core.top_via = via.map_err(malformed(HeaderKind::Via))?,
            None => return Err(fail(Problem::MissingHeader(HeaderKind::Via))),
        }
        for via in all_vias {
            via.map_err(malformed(HeaderKind::Via))?;
            vias += 1;
        }
    }
    msg.name_addr_into(false, &mut core.from)
        .map_err(missing(HeaderKind::From))?;
    msg.name_addr_into(true, &mut core.to)
        .map_err(missing(HeaderKind::To))?;
    other_headers(msg, target, fail, dialog_rr, then, &core.cseq, vias)
}

/// [`mandatory_headers`] with Call-ID or CSeq malformed or missing: each value parsed
/// aside, in the order whose first error is the one reported.
fn mandatory_headers_aside<'a, E>(
    msg: &Message<'a>,
    target: &mut Option<&'a str>,
    fail: impl Fn(Problem) -> E,
    dialog_rr: bool,
    then: impl FnOnce(&CSeq<'a>, Option<&ContentType<'a>>, usize) -> Result<(), E>,
) -> Result<CoreHeaders<'a>, E> {
    if let Some(kind) = msg.first_conflicting(&ONCE) {
        return Err(fail(Problem::DuplicateHeader(kind)));
    }
    let fail = &fail;
    let malformed = |k| move |e| fail(Problem::MalformedHeader(k, e));
    let missing = |k: HeaderKind| move |e: ParseError| fail(missing_or_malformed(k, e));
    // The top Via is kept; the others are only checked (and counted). Nearly every
    // message has one Via header holding one plain value: read directly.
    // The top Via, From and To stay where they were parsed until they are moved into
    // the result, once (each is some 150 bytes, and each move a copy).
    let mut top_via = msg.sole_plain(HeaderKind::Via, Via::parse_plain_whole);
    let mut vias = 1;
    if top_via.is_none() {
        let mut all_vias = msg.vias();
        match all_vias.next() {
            Some(via) => top_via = Some(via.map_err(malformed(HeaderKind::Via))?),
            None => return Err(fail(Problem::MissingHeader(HeaderKind::Via))),
        }
        for via in all_vias {
            via.map_err(malformed(HeaderKind::Via))?;
            vias += 1;
        }
    }
    let from = msg.from();
    let from = from.as_ref().map_err(|&e| missing(HeaderKind::From)(e))?;
    let to = msg.to();
    let to = to.as_ref().map_err(|&e| missing(HeaderKind::To)(e))?;
    let call_id = msg.call_id().map_err(missing(HeaderKind::CallId))?;
    let cseq = msg.cseq().map_err(missing(HeaderKind::CSeq))?;
    other_headers(msg, target, fail, dialog_rr, then, &cseq, vias)?;
    // Set above, or the function returned.
    let Some(top_via) = top_via else {
        return Err(fail(Problem::MissingHeader(HeaderKind::Via)));
    };
    Ok(CoreHeaders {
        top_via,
        from: *from,
        to: *to,
        call_id,
        cseq,
    })
}

/// The checks of [`mandatory_headers`] after Via, From, To, Call-ID and CSeq (`cseq`;
/// `vias` Via values), `then` last.
fn other_headers<'a, E>(
    msg: &Message<'a>,
    target: &mut Option<&'a str>,
    fail: impl Fn(Problem) -> E,
    dialog_rr: bool,
    then: impl FnOnce(&CSeq<'a>, Option<&ContentType<'a>>, usize) -> Result<(), E>,
    cseq: &CSeq<'a>,
    vias: usize,
) -> Result<(), E> {
    let fail = &fail;
    let malformed = |k| move |e| fail(Problem::MalformedHeader(k, e));
    if let Some(mf) = msg.max_forwards() {
        mf.map_err(malformed(HeaderKind::MaxForwards))?;
    }
    let content_type = match msg.content_type() {
        Some(ct) => Some(ct.map_err(malformed(HeaderKind::ContentType))?),
        None => None,
    };
    // The address lists matter to a UAS acting on a request (RFC 4475 §3.1.2.13); a UAC
    // reads a response's Contact and Record-Route only when it builds a dialog from it,
    // which checks them then.
    if msg.is_request() {
        // Absent (an ACK, a BYE), or one header holding one plain value (nearly every
        // other request): no iterator.
        if !msg.has(HeaderKind::Contact) {
        } else if let Some(first) =
            msg.sole_plain(HeaderKind::Contact, ContactValue::parse_plain_whole)
        {
            if let ContactValue::Addr(first) = first {
                *target = Some(first.uri().as_str());
            }
        } else {
            let mut contacts = msg.contacts();
            if let Some(ContactValue::Addr(first)) = contacts
                .next()
                .transpose()
                .map_err(malformed(HeaderKind::Contact))?
            {
                *target = Some(first.uri().as_str());
            }
            for c in contacts {
                c.map_err(malformed(HeaderKind::Contact))?;
            }
        }
        // Most requests have neither: one index lookup each, not an iterator's setup.
        if msg.has(HeaderKind::Route) {
            for r in msg.routes() {
                r.map_err(malformed(HeaderKind::Route))?;
            }
        }
        if msg.has(HeaderKind::RecordRoute) {
            for r in msg.record_routes() {
                r.map_err(malformed(HeaderKind::RecordRoute))?;
            }
        }
    } else if dialog_rr && creates_dialog(msg, cseq) {
        for r in msg.record_routes() {
            r.map_err(malformed(HeaderKind::RecordRoute))?;
        }
    }
    for kind in [HeaderKind::Require, HeaderKind::ProxyRequire] {
        // Absent from most messages: one index lookup, not a pass over the slots.
        if !msg.has(kind) {
            continue;
        }
        for (value, offset) in msg.values_of(kind) {
            for t in TokenList::new(value) {
                t.map_err(|e| fail(Problem::MalformedHeader(kind, e.shifted(offset))))?;
            }
        }
    }
    then(cseq, content_type.as_ref(), vias)
}

/// Whether the response `msg` (CSeq `cseq`) may create a dialog whose route set its
/// Record-Route gives (RFC 3261 §12.1.2, RFC 6665 §4.1.2.4): a 101–299 to INVITE,
/// SUBSCRIBE or REFER that has a Record-Route. A UAC could neither ACK nor end such a
/// 2xx if that header were malformed, so a malformed one makes the response malformed
/// (discarded, §18.1.2); it costs nothing when the header is absent.
pub(crate) fn creates_dialog(msg: &Message<'_>, cseq: &CSeq<'_>) -> bool {
    msg.has(HeaderKind::RecordRoute)
        && msg
            .status()
            .is_some_and(|c| (101..=299).contains(&c.as_u16()))
        && matches!(
            cseq.method(),
            Method::Invite | Method::Subscribe | Method::Refer
        )
}

/// The checks as they were before the Contact of a request was kept for the endpoint
/// (`main` at 830ebaa), the reference the corpus comparison below holds the checks to.
#[cfg(test)]
mod reference {
    use super::*;

    type Mandatory<'a> = (CoreHeaders<'a>, usize, Option<ContentType<'a>>);

    pub(super) fn check_request_core<'a>(
        msg: &Message<'a>,
        caps: &Capabilities<'_>,
    ) -> Result<CoreHeaders<'a>, Rejection> {
        let Some(method) = msg.method() else {
            return Err(Rejection::bad_request(Problem::Malformed(ParseError::new(
                ParseErrorKind::StartLine,
                0,
            ))));
        };
        if !msg.version().eq_ignore_ascii_case("SIP/2.0") {
            return Err(Rejection::new(
                StatusCode::VERSION_NOT_SUPPORTED,
                Problem::Version,
            ));
        }
        let (core, _, content_type) = mandatory_headers(msg).map_err(Rejection::bad_request)?;
        // §8.2.1: method inspection.
        if !method.is_known() {
            return Err(Rejection::new(
                StatusCode::NOT_IMPLEMENTED,
                Problem::UnknownMethod,
            ));
        }
        if !caps.methods.contains(&method) {
            return Err(Rejection::new(
                StatusCode::METHOD_NOT_ALLOWED,
                Problem::MethodNotAllowed,
            ));
        }
        // §8.1.1.5: the CSeq method matches the request method. Mandatory headers parsed above.
        if core.cseq.method() != method {
            return Err(Rejection::bad_request(Problem::CSeqMethodMismatch));
        }
        // §8.2.2.1: Request-URI scheme.
        match msg.request_uri() {
            Some(Ok(uri)) if !caps.supports_scheme(uri.scheme()) => {
                return Err(Rejection::new(
                    StatusCode::UNSUPPORTED_URI_SCHEME,
                    Problem::UnsupportedScheme,
                ));
            }
            Some(Err(e)) => return Err(Rejection::bad_request(Problem::RequestUri(e))),
            Some(Ok(_)) | None => {}
        }
        // §8.2.2.3: Require, not applied to ACK and CANCEL.
        if !matches!(method, Method::Ack | Method::Cancel) {
            for tag in msg.tokens(HeaderKind::Require) {
                let tag = tag.map_err(|e| {
                    Rejection::bad_request(Problem::MalformedHeader(HeaderKind::Require, e))
                })?;
                if !caps.supports_extension(tag) {
                    return Err(Rejection::new(
                        StatusCode::BAD_EXTENSION,
                        Problem::BadExtension,
                    ));
                }
            }
        }
        // §8.2.3: content processing.
        if !msg.body().is_empty() {
            let unsupported = Rejection::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                Problem::UnsupportedMediaType,
            );
            // A malformed Content-Type was refused with 400 by the mandatory checks.
            match content_type {
                Some(ct) if caps.supports_body(ct.media_type(), ct.subtype()) => {}
                _ => return Err(unsupported),
            }
            for coding in msg.tokens(HeaderKind::ContentEncoding) {
                match coding {
                    Ok(c) if c.eq_ignore_ascii_case("identity") => {}
                    Ok(_) => return Err(unsupported),
                    Err(e) => {
                        return Err(Rejection::bad_request(Problem::MalformedHeader(
                            HeaderKind::ContentEncoding,
                            e,
                        )));
                    }
                }
            }
        }
        // An INVITE is answered with a session description: Accept must admit one.
        if method == Method::Invite && msg.header(HeaderKind::Accept).is_some() {
            let mut any = false;
            let mut acceptable = false;
            for h in msg.headers_of(HeaderKind::Accept) {
                for item in lex::CommaSeparated::new(h.value).flatten() {
                    let range = item.1.split(|&b| b == b';').next().unwrap_or(&[]);
                    if let Ok(range) = core::str::from_utf8(range) {
                        any |= !range.trim().is_empty();
                        acceptable |= caps.accepts_range(range);
                    }
                }
            }
            // An empty Accept means "no body", which a UA that can answer without one obeys.
            if any && !acceptable {
                return Err(Rejection::new(
                    StatusCode::NOT_ACCEPTABLE,
                    Problem::NotAcceptable,
                ));
            }
        }
        Ok(core)
    }

    pub(super) fn check_response_core<'a>(msg: &Message<'a>) -> Result<CoreHeaders<'a>, Discard> {
        if msg.is_request() {
            return Err(Discard::Malformed(ParseError::new(
                ParseErrorKind::StartLine,
                0,
            )));
        }
        if !msg.version().eq_ignore_ascii_case("SIP/2.0") {
            return Err(Discard::Version);
        }
        let (core, vias, _) = mandatory_headers(msg).map_err(|problem| match problem {
            Problem::MissingHeader(k)
            | Problem::DuplicateHeader(k)
            | Problem::MalformedHeader(k, _) => Discard::Header(k),
            Problem::Malformed(e) => Discard::Malformed(e),
            _ => Discard::Header(HeaderKind::Other),
        })?;
        if vias > 1 {
            return Err(Discard::MultipleVias);
        }
        Ok(core)
    }

    pub(super) fn classify<'a>(
        bytes: &'a [u8],
        caps: &Capabilities<'_>,
        limits: &Limits,
    ) -> Verdict<'a> {
        match Message::parse_with(bytes, limits) {
            Ok(msg) if msg.is_request() => match check_request_core(&msg, caps).map(drop) {
                Ok(()) => Verdict::Accept(msg),
                Err(rejection) => Verdict::Respond(msg, rejection),
            },
            Ok(msg) => match check_response_core(&msg).map(drop) {
                Ok(()) => Verdict::Accept(msg),
                Err(d) => Verdict::Discard(d),
            },
            Err(error) => match Message::salvage_request(bytes, limits) {
                Some(msg) if mandatory_headers(&msg).is_ok() => {
                    Verdict::Respond(msg, Rejection::bad_request(Problem::Malformed(error)))
                }
                _ => Verdict::Discard(Discard::Malformed(error)),
            },
        }
    }

    fn mandatory_headers<'a>(msg: &Message<'a>) -> Result<Mandatory<'a>, Problem> {
        const ONCE: [HeaderKind; 6] = [
            HeaderKind::From,
            HeaderKind::To,
            HeaderKind::CallId,
            HeaderKind::CSeq,
            HeaderKind::MaxForwards,
            HeaderKind::ContentType,
        ];
        if let Some(kind) = msg.first_conflicting(&ONCE) {
            return Err(Problem::DuplicateHeader(kind));
        }
        let malformed = |k| move |e| Problem::MalformedHeader(k, e);
        let missing = |k: HeaderKind| {
            move |e: ParseError| {
                if e.kind == ParseErrorKind::MissingHeader {
                    Problem::MissingHeader(k)
                } else {
                    Problem::MalformedHeader(k, e)
                }
            }
        };
        // The top Via is kept; the others are only checked (and counted).
        let mut all_vias = msg.vias();
        let top_via = match all_vias.next() {
            Some(via) => via.map_err(malformed(HeaderKind::Via))?,
            None => return Err(Problem::MissingHeader(HeaderKind::Via)),
        };
        let mut vias = 1;
        for via in all_vias {
            via.map_err(malformed(HeaderKind::Via))?;
            vias += 1;
        }
        let from = msg.from().map_err(missing(HeaderKind::From))?;
        let to = msg.to().map_err(missing(HeaderKind::To))?;
        let call_id = msg.call_id().map_err(missing(HeaderKind::CallId))?;
        let cseq = msg.cseq().map_err(missing(HeaderKind::CSeq))?;
        if let Some(mf) = msg.max_forwards() {
            mf.map_err(malformed(HeaderKind::MaxForwards))?;
        }
        let content_type = match msg.content_type() {
            Some(ct) => Some(ct.map_err(malformed(HeaderKind::ContentType))?),
            None => None,
        };
        // The address lists matter to a UAS acting on a request (RFC 4475 §3.1.2.13); a UAC
        // reads a response's Contact and Record-Route only when it builds a dialog from it,
        // which checks them then.
        if msg.is_request() {
            for c in msg.contacts() {
                c.map_err(malformed(HeaderKind::Contact))?;
            }
            for r in msg.routes() {
                r.map_err(malformed(HeaderKind::Route))?;
            }
            for r in msg.record_routes() {
                r.map_err(malformed(HeaderKind::RecordRoute))?;
            }
        } else if creates_dialog(msg, &cseq) {
            // Added to both with the rule (not part of the rewrite this compares).
            for r in msg.record_routes() {
                r.map_err(malformed(HeaderKind::RecordRoute))?;
            }
        }
        for kind in [HeaderKind::Require, HeaderKind::ProxyRequire] {
            for (value, offset) in msg.values_of(kind) {
                for t in TokenList::new(value) {
                    t.map_err(|e| Problem::MalformedHeader(kind, e.shifted(offset)))?;
                }
            }
        }
        Ok((
            CoreHeaders {
                top_via,
                from,
                to,
                call_id,
                cseq,
            },
            vias,
            content_type,
        ))
    }
}

#[cfg(test)]
mod corpus_tests {
    use std::format;

    use super::*;

    /// The headers whose lists are read only when present (Route, Record-Route, Require,
    /// Proxy-Require, Content-Encoding), absent, well formed, unsupported and malformed,
    /// with and without a body: every answer is the reference's.
    #[test]
    fn optional_lists_agree_with_the_reference() {
        let limits = Limits::default();
        let caps = Capabilities::DEFAULT;
        let extras = [
            "",
            "Route: <sip:p1.example.com;lr>\r\n",
            "Route: <sip:p1 example>\r\n",
            "Record-Route: <sip:p2.example.com;lr>\r\n",
            "Record-Route: sip:a b\r\n",
            "Require: 100rel\r\n",
            "Require: foo\r\n",
            "Require: a b\r\n",
            "Proxy-Require: foo\r\n",
            "Proxy-Require: ,\r\n",
            "Content-Encoding: gzip\r\n",
            "Content-Encoding: identity\r\n",
            "Content-Encoding: a b\r\n",
        ];
        let (mut compared, mut refused) = (0, 0);
        for method in ["INVITE", "ACK", "OPTIONS"] {
            for a in extras {
                for b in extras {
                    for body in ["", "v=0\r\n"] {
                        let ct = if body.is_empty() {
                            ""
                        } else {
                            "Content-Type: application/sdp\r\n"
                        };
                        let text = format!(
                            "{method} sip:bob@example.com SIP/2.0\r\n\
                             Via: SIP/2.0/UDP h.example.com;branch=z9hG4bK1\r\n\
                             From: <sip:a@example.com>;tag=1\r\nTo: <sip:bob@example.com>\r\n\
                             Call-ID: c1\r\nCSeq: 1 {method}\r\nMax-Forwards: 70\r\n\
                             Contact: <sip:a@h.example.com>\r\n{a}{b}{ct}\
                             Content-Length: {}\r\n\r\n{body}",
                            body.len()
                        );
                        let bytes = text.as_bytes();
                        let verdict = format!("{:?}", classify(bytes, &caps, &limits));
                        let want = format!("{:?}", reference::classify(bytes, &caps, &limits));
                        assert_eq!(verdict, want, "{text}");
                        let msg = Message::parse_with(bytes, &limits).unwrap(); // unwrap: well formed
                        let new = check_request_target(&msg, &caps).map(|c| c.core);
                        let old = reference::check_request_core(&msg, &caps);
                        assert_eq!(format!("{new:?}"), format!("{old:?}"), "{text}");
                        refused += usize::from(old.is_err());
                        compared += 1;
                    }
                }
            }
        }
        assert!(
            compared > 1_000 && refused > 500,
            "{compared} compared, {refused} refused"
        );
    }

    /// Every accept/reject answer (with its status, problem, error kind and offset),
    /// every core header and Via count, and every `classify` verdict is the reference's,
    /// on the corpus and its mutants; the Contact URI kept for the endpoint is what
    /// the dialog layer would read.
    #[test]
    #[ignore = "needs ../shared/corpus"]
    fn checks_agree_with_the_reference_on_the_corpus_and_mutants() {
        let limits = Limits::default();
        let caps = Capabilities::DEFAULT;
        let (mut compared, mut differ, mut accepted) = (0, 0, 0);
        for bytes in crate::corpus_inputs::inputs() {
            compared += 1;
            let verdict = format!("{:?}", classify(&bytes, &caps, &limits));
            if verdict != format!("{:?}", reference::classify(&bytes, &caps, &limits)) {
                differ += 1;
                continue;
            }
            let Ok(msg) = Message::parse_with(&bytes, &limits) else {
                continue;
            };
            let same = if msg.is_request() {
                let new = check_request_target(&msg, &caps);
                let old = reference::check_request_core(&msg, &caps);
                #[cfg(feature = "endpoint")]
                if let Ok(Checked { target, .. }) = &new {
                    accepted += 1;
                    let read = crate::dialog::contact_uri(&msg);
                    if target.ok_or(crate::dialog::DialogError::MissingContact) != read {
                        differ += 1;
                    }
                }
                format!("{:?}", new.map(|c| c.core)) == format!("{old:?}")
            } else {
                let mut core = None;
                let new = check_response_checked(&msg, true, &mut core).map(|()| core);
                accepted += usize::from(new.is_ok());
                format!("{new:?}") == format!("{:?}", check_response_core(&msg).map(Some))
                    && format!("{new:?}")
                        == format!("{:?}", reference::check_response_core(&msg).map(Some))
            };
            differ += usize::from(!same);
        }
        let counts = format!("{compared} inputs compared, {accepted} accepted, {differ} differ");
        assert!(compared > 10_000 && accepted > 1_000, "{counts}");
        assert_eq!(differ, 0, "{counts}");
    }
}

#[cfg(test)]
mod generated_tests {
    use std::format;
    use std::string::String;
    use std::vec::Vec;

    use proptest::prelude::*;

    use super::*;

    /// Via values, well formed and not, biased to what the fast paths must refuse:
    /// LWS, comments, IPv6, the parameters the Via view reads (and duplicates of them),
    /// commas, quotes, empty values, bad bytes.
    const VIAS: &[&str] = &[
        "SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK2aae4b3f528edf75;rport",
        "SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK2aae4b3f528edf75;rport=5060;received=127.0.0.1",
        "SIP/2.0/TCP h.example.com;branch=z9hG4bK1",
        "SIP/2.0/UDP [::1]:5060;branch=z9hG4bK1;received=[::2]",
        "SIP/2.0/UDP 2001:db8::1;branch=z9hG4bK1",
        "SIP / 2.0 / UDP h ; branch = z9hG4bK1",
        "SIP/2.0/UDP h;branch=z9hG4bK1 (comment)",
        "SIP/2.0/UDP h;maddr=224.0.0.1;ttl=16;branch=z9hG4bK1",
        "SIP/2.0/UDP h;ttl=256",
        "SIP/2.0/UDP h;branch=a;branch=b;rport=1;rport",
        "SIP/2.0/UDP h;received=1.2.3.4.5",
        "SIP/2.0/UDP h;branch=\"q\"",
        "SIP/2.0/UDP a, SIP/2.0/TCP b;branch=z9hG4bK2",
        "SIP/2.0/UDP a,,SIP/2.0/UDP b",
        "SIP/2.0/UDP a,",
        "",
        " ",
        "SIP/2.0/UDP h;branch=z9hG4bK\u{e9}",
        "SIP/2.0/UDP h:99999",
        "SIP/2.0/UDP",
        "sip/2.0/udp H.EXAMPLE.COM:5060;BRANCH=z9hG4bKx;RPORT",
        "SIP/2.0/WSS h.invalid;branch=z9hG4bK3;x=\"a,b\"",
    ];

    /// Contact values, as `VIAS` for the Contact view.
    const CONTACTS: &[&str] = &[
        "<sip:sansip@127.0.0.1:5060>",
        "*",
        "<sip:a@h>, <sip:b@h>",
        "sip:a@h;expires=60",
        "\"x, y\" <sip:a@h>;q=0.5",
        "<sip:a b>",
        "",
        "<sip:a@h>,",
        "Bob <sips:b@[::1]:5061;transport=tls>",
        "<sip:a@h>;expires=\"x",
    ];

    /// From and To values, as `VIAS` for the name-addr view (read in place by the checks).
    const NAME_ADDRS: &[&str] = &[
        "<sip:a@example.com>;tag=2",
        "\"A, B\" <sip:a@example.com>;tag=3",
        "sip:b@example.com;tag=x",
        "Bob <sips:b@[::1]:5061>",
        "<sip:a b>",
        "<sip:a@h>;tag=\"q\"",
        "<sip:a@h>;tag=",
        "",
        "<sip:a@h>, <sip:b@h>",
        "tel:+1234;tag=9",
        "<sip:\u{e9}@h>",
    ];

    /// One header line of a generated message: a Via, a Contact, a From or To, or one
    /// of the others.
    fn line() -> impl Strategy<Value = String> {
        prop_oneof![
            2 => (prop::sample::select(NAME_ADDRS), prop::sample::select(&["From", "To", "f", "t"][..]))
                .prop_map(|(v, n)| format!("{n}: {v}\r\n")),
            3 => (prop::sample::select(VIAS), prop::sample::select(&["Via", "v", "VIA"][..]))
                .prop_map(|(v, n)| format!("{n}: {v}\r\n")),
            2 => (prop::sample::select(CONTACTS), prop::sample::select(&["Contact", "m"][..]))
                .prop_map(|(v, n)| format!("{n}: {v}\r\n")),
            3 => prop::sample::select(&[
                "From: <sip:a@example.com>;tag=1\r\n",
                "To: <sip:b@example.com>\r\n",
                "Call-ID: c2\r\n",
                "CSeq: 2 INVITE\r\n",
                "Max-Forwards: 70\r\n",
                "Max-Forwards: x\r\n",
                "Route: <sip:p@example.com;lr>\r\n",
                "Route: <sip:p1 example>\r\n",
                "Record-Route: <sip:p@example.com;lr>\r\n",
                "Record-Route: sip:a b\r\n",
                "Require: a b\r\n",
                "Proxy-Require: ,\r\n",
                "Content-Encoding: a b\r\n",
                "Require: 100rel\r\n",
                "Proxy-Require: x\r\n",
                "Content-Type: application/sdp\r\n",
                "Content-Type: text/plain\r\n",
                "Content-Encoding: gzip\r\n",
                "Content-Encoding: identity\r\n",
                "Accept: text/plain\r\n",
                "Accept: application/sdp\r\n",
            ][..])
            .prop_map(String::from),
        ]
    }

    /// A request or response: a start line, the core headers (each sometimes left
    /// out), generated lines among them, and a body or none.
    fn message() -> impl Strategy<Value = String> {
        (
            prop::sample::select(
                &[
                    "INVITE sip:b@example.com SIP/2.0",
                    "ACK sip:b@example.com SIP/2.0",
                    "BYE sip:b@example.com SIP/2.0",
                    "OPTIONS sip:b@example.com SIP/2.0",
                    "SIP/2.0 180 Ringing",
                    "SIP/2.0 200 OK",
                    "SIP/2.0 487 Request Terminated",
                ][..],
            ),
            prop::collection::vec(line(), 0..6),
            // Each core header kept nine times in ten: the later checks run often.
            prop::collection::vec(prop::bool::weighted(0.9), 5),
            prop::sample::select(&["", "v=0\r\n"][..]),
        )
            .prop_map(|(start, lines, keep, body)| {
                let method = start.split(' ').next().unwrap_or("INVITE"); // unwrap_or: never empty
                let method = if method == "SIP/2.0" {
                    "INVITE"
                } else {
                    method
                };
                let core = [
                    String::from("From: <sip:a@example.com>;tag=1\r\n"),
                    String::from("To: <sip:b@example.com>\r\n"),
                    String::from("Call-ID: c1\r\n"),
                    format!("CSeq: 1 {method}\r\n"),
                    String::from("Via: SIP/2.0/UDP h.example.com;branch=z9hG4bK1\r\n"),
                ];
                let mut text = format!("{start}\r\n");
                // The generated lines go before, among and after the core ones.
                let mut extra = lines.iter();
                for (line, keep) in core.iter().zip(keep) {
                    text.extend(extra.next().map(String::as_str));
                    if keep {
                        text.push_str(line);
                    }
                }
                text.extend(extra.map(String::as_str));
                text.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
                text
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]

        /// The checks (answer, problem, error offset, every core header, the Contact
        /// URI kept for the endpoint) are the reference's on generated messages.
        #[test]
        fn checks_agree_with_the_reference_on_generated_messages(text in message()) {
            let limits = Limits::default();
            let caps = Capabilities::DEFAULT;
            let bytes = text.as_bytes();
            prop_assert_eq!(
                format!("{:?}", classify(bytes, &caps, &limits)),
                format!("{:?}", reference::classify(bytes, &caps, &limits))
            );
            let Ok(msg) = Message::parse_with(bytes, &limits) else {
                return Ok(());
            };
            if msg.is_request() {
                let new = check_request_target(&msg, &caps);
                let old = reference::check_request_core(&msg, &caps);
                #[cfg(feature = "endpoint")]
                if let Ok(Checked { target, .. }) = &new {
                    let read = crate::dialog::contact_uri(&msg);
                    prop_assert_eq!(target.ok_or(crate::dialog::DialogError::MissingContact), read);
                }
                prop_assert_eq!(format!("{:?}", new.map(|c| c.core)), format!("{old:?}"));
            } else {
                for dialog_rr in [true, false] {
                    let mut core = None;
                    let new = check_response_checked(&msg, dialog_rr, &mut core).map(|()| core);
                    let old = reference::check_response_core(&msg).map(Some);
                    // Without `dialog_rr` only the Record-Route check may differ.
                    if dialog_rr || old.is_ok() {
                        prop_assert_eq!(format!("{new:?}"), format!("{old:?}"));
                    }
                }
            }
            // The lists the fast reads stand for, element by element.
            let vias: Vec<_> = msg.vias().collect();
            let contacts: Vec<_> = msg.contacts().collect();
            if let Some(via) = msg.sole_plain(HeaderKind::Via, Via::parse_plain_whole) {
                prop_assert_eq!(&vias[..], &[Ok(via)][..]);
            }
            // The reads in place the checks make: the views' answers, written where kept.
            let mut via = Via::placeholder();
            let plain = msg.sole_plain_via_into(&mut via);
            prop_assert_eq!(
                plain.then_some(via),
                msg.sole_plain(HeaderKind::Via, Via::parse_plain_whole)
            );
            for (to, want) in [(false, msg.from()), (true, msg.to())] {
                let mut into = NameAddr::placeholder();
                let got = msg.name_addr_into(to, &mut into).map(|()| into);
                prop_assert_eq!(got, want);
            }
            if let Some(c) = msg.sole_plain(HeaderKind::Contact, ContactValue::parse_plain_whole) {
                prop_assert_eq!(&contacts[..], &[Ok(c)][..]);
            }
        }
    }
}

#[cfg(test)]
mod split_tests {
    use super::{Capabilities, split_slash};

    /// `supports_body` as it was: each body type split at its first `/`.
    fn supports_body_reference(caps: &Capabilities<'_>, media_type: &str, subtype: &str) -> bool {
        caps.body_types.iter().any(|t| {
            split_slash(t).is_some_and(|(ty, sub)| {
                ty.eq_ignore_ascii_case(media_type.as_bytes())
                    && sub.eq_ignore_ascii_case(subtype.as_bytes())
            })
        })
    }

    /// Every type and subtype of up to three bytes over letters in both cases and `/`
    /// as the body type, against media types (tokens: no `/`) and subtypes over the
    /// same letters; and the default list against common types.
    #[test]
    fn supports_body_agrees_with_split_slash() {
        use std::vec::Vec;
        let strings: Vec<std::string::String> = crate::message::lex::strings_over(b"aA/b", 0..=5)
            .map(|s| std::string::String::from_utf8(s).unwrap()) // unwrap: ASCII
            .collect();
        let parts: Vec<&str> = strings
            .iter()
            .map(|s| s.as_str())
            .filter(|s| s.len() <= 2 && !s.contains('/'))
            .collect();
        let (mut compared, mut matched) = (0, 0);
        for t in &strings {
            let types = [t.as_str()];
            let caps = Capabilities {
                body_types: &types,
                ..Capabilities::DEFAULT
            };
            for ty in &parts {
                for sub in &strings[..strings.len().min(400)] {
                    let want = supports_body_reference(&caps, ty, sub);
                    assert_eq!(caps.supports_body(ty, sub), want, "{t:?} {ty:?} {sub:?}");
                    compared += 1;
                    matched += usize::from(want);
                }
            }
        }
        let caps = Capabilities::DEFAULT;
        for (ty, sub) in [
            ("application", "sdp"),
            ("Application", "SDP"),
            ("multipart", "mixed"),
            ("application", "sdpx"),
            ("applicatio", "n/sdp"),
            ("text", "plain"),
            ("", ""),
        ] {
            assert_eq!(
                caps.supports_body(ty, sub),
                supports_body_reference(&caps, ty, sub),
                "{ty} {sub}"
            );
        }
        assert!(
            compared > 100_000 && matched > 1_000,
            "{compared} {matched}"
        );
    }

    #[test]
    fn split_slash_agrees_with_split_once() {
        for t in [
            "application/sdp",
            "a/b/c",
            "/x",
            "x/",
            "/",
            "",
            "none",
            "\u{e9}/\u{e9}",
        ] {
            let want = t.split_once('/').map(|(a, b)| (a.as_bytes(), b.as_bytes()));
            assert_eq!(split_slash(t), want, "{t}");
        }
    }
}

#[cfg(test)]
mod scheme_tests {
    use super::{Capabilities, eq_fold};

    /// `supports_scheme` as it was: `eq_fold` against each scheme.
    fn supports_scheme_reference(caps: &Capabilities<'_>, scheme: &str) -> bool {
        caps.schemes
            .iter()
            .any(|s| eq_fold(s.as_bytes(), scheme.as_bytes()))
    }

    /// The byte-by-byte comparison agrees with the reference for every scheme list
    /// and scheme made of a few case-varied, truncated and extended spellings.
    #[test]
    fn supports_scheme_agrees_with_the_reference() {
        let words = [
            "",
            "s",
            "si",
            "sip",
            "SIP",
            "Sip",
            "sips",
            "SIPS",
            "sipx",
            "tel",
            "TEL",
            "im",
            "pres",
            "urn",
            "sip\u{e9}",
            "s\u{c9}p",
            "@ip",
            "`ip",
        ];
        let mut compared = 0;
        for a in words {
            for b in words {
                let schemes = [a, b];
                for n in 0..=2 {
                    let caps = Capabilities {
                        schemes: &schemes[..n],
                        ..Capabilities::DEFAULT
                    };
                    for scheme in words {
                        assert_eq!(
                            caps.supports_scheme(scheme),
                            supports_scheme_reference(&caps, scheme),
                            "{:?} {scheme:?}",
                            &schemes[..n]
                        );
                        compared += 1;
                    }
                }
            }
        }
        assert!(compared > 15_000, "{compared}");
    }
}
