//! HTTP Digest authentication as SIP uses it (RFC 3261 §22, RFC 2617, RFC 7616, RFC 8760):
//! the answer a UAC gives to a `WWW-Authenticate` or `Proxy-Authenticate` challenge, and
//! the check a registrar or proxy makes of the `Authorization` it gets back.
//!
//! Pure functions over the parsed header views ([`Challenge`], [`Credentials`]); the
//! results are written into bounded strings, nothing is allocated. Algorithms: `MD5`,
//! `MD5-sess`, `SHA-256`, `SHA-256-sess` (RFC 8760 §2.1); `qop` `auth`, `auth-int`, or
//! none (RFC 2069 compatibility, RFC 2617 §3.2.2.1); `userhash` (RFC 7616 §3.4.4).
//! `SHA-512-256` is refused with [`AuthError::UnsupportedAlgorithm`].
//!
//! A UAC that gets a 401 or 407 answers with [`answer_challenge`] and sends the request
//! again with the header it returns, a CSeq one higher and the same Call-ID (RFC 3261
//! §22.2, §10.2.4 for REGISTER):
//!
//! ```
//! use sansip::auth::{answer_challenge, DigestInput};
//! use sansip::message::{Message, Method};
//!
//! let resp = Message::parse(
//!     b"SIP/2.0 401 Unauthorized\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1\r\n\
//!       From: <sip:alice@example.com>;tag=1\r\nTo: <sip:alice@example.com>;tag=2\r\n\
//!       Call-ID: r1\r\nCSeq: 1 REGISTER\r\n\
//!       WWW-Authenticate: Digest realm=\"example.com\", nonce=\"84f1c1ae6cbe\", qop=\"auth\"\r\n\
//!       Content-Length: 0\r\n\r\n",
//! )?;
//! let input = DigestInput {
//!     username: "alice",
//!     password: "secret",
//!     method: Method::Register,
//!     uri: "sip:example.com",
//!     cnonce: "0a4f113b",
//!     nonce_count: 1,
//!     body: b"",
//! };
//! let (name, value) = answer_challenge(&resp, &input)?;
//! assert_eq!(name, "Authorization");
//! assert!(value.starts_with("Digest username=\"alice\", realm=\"example.com\""));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! A server checks what comes back with [`verify`], given the password (or, with
//! [`verify_ha1`], the stored `H(username:realm:password)`); it must also check that the
//! nonce is one it issued and still accepts, which is its own state. The credentials
//! are the request's `Authorization` (or, at a proxy, `Proxy-Authorization`) value,
//! parsed with [`Credentials::parse`]; a request without them, or whose credentials
//! fail, gets the challenge (401 with `WWW-Authenticate`, or 407 with
//! `Proxy-Authenticate`; on an endpoint, `Endpoint::respond_with`):
//!
//! ```
//! use sansip::auth::verify;
//! use sansip::message::{Credentials, HeaderKind, Message, Method};
//! # use sansip::auth::{answer_challenge, DigestInput};
//! # let resp = Message::parse(
//! #     b"SIP/2.0 401 Unauthorized\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1\r\n\
//! #       From: <sip:alice@example.com>;tag=1\r\nTo: <sip:alice@example.com>;tag=2\r\n\
//! #       Call-ID: r1\r\nCSeq: 1 REGISTER\r\n\
//! #       WWW-Authenticate: Digest realm=\"example.com\", nonce=\"84f1c1ae6cbe\", qop=\"auth\"\r\n\
//! #       Content-Length: 0\r\n\r\n",
//! # )?;
//! # let input = DigestInput { username: "alice", password: "secret", method: Method::Register,
//! #     uri: "sip:example.com", cnonce: "0a4f113b", nonce_count: 1, body: b"" };
//! # let (_, answer) = answer_challenge(&resp, &input)?;
//! // The REGISTER sent again with the answer to the challenge above.
//! let again = format!(
//!     "REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK2\r\n\
//!      From: <sip:alice@example.com>;tag=1\r\nTo: <sip:alice@example.com>\r\n\
//!      Call-ID: r1\r\nCSeq: 2 REGISTER\r\nAuthorization: {answer}\r\n\
//!      Content-Length: 0\r\n\r\n"
//! );
//! let req = Message::parse(again.as_bytes())?;
//! let header = req.header(HeaderKind::Authorization).ok_or("no credentials: challenge")?;
//! let creds = Credentials::parse(header.value)?;
//! // The registrar's own checks (RFC 3261 §22.4): its realm, a nonce it issued.
//! assert_eq!((creds.realm(), creds.nonce()), (Some("example.com"), Some("84f1c1ae6cbe")));
//! assert_eq!(creds.username(), Some("alice")); // whose password to check against
//! let method = req.method().ok_or("a response")?;
//! assert_eq!(verify(&creds, method, "secret", req.body()), Ok(true));
//! assert_eq!(verify(&creds, method, "guess", req.body()), Ok(false)); // 401 again
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod hash;

use core::fmt;

use heapless::String;

use crate::message::{Algorithm, AuthScheme, Challenge, Credentials, HeaderKind, Message, Method};
use hash::Hasher;

/// Room for an `Authorization` value: the credentials echo the challenge's realm, nonce
/// and opaque, so a challenge with longer ones cannot be answered
/// ([`AuthError::Capacity`]).
pub const MAX_AUTHORIZATION: usize = 1024;

/// Why a challenge cannot be answered, or credentials cannot be checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum AuthError {
    /// The scheme is not Digest.
    NotDigest,
    /// The response carries no challenge (neither `WWW-Authenticate` nor
    /// `Proxy-Authenticate`), or it does not parse.
    NoChallenge,
    /// A parameter Digest requires is missing (`realm`, `nonce`; for [`verify`] also
    /// `username`, `uri`, `response`, and `cnonce`/`nc` with `qop`).
    MissingParam(&'static str),
    /// An algorithm this crate does not compute (`SHA-512-256`, or an unknown one).
    UnsupportedAlgorithm,
    /// The challenge offers `qop` values, none of them `auth` or `auth-int`.
    UnsupportedQop,
    /// An input this side gave cannot be written: an empty `cnonce` where one is needed,
    /// or a username, URI or cnonce with a control character.
    InvalidInput,
    /// The `Authorization` value would exceed [`MAX_AUTHORIZATION`].
    Capacity,
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthError::NotDigest => f.write_str("not a Digest challenge"),
            AuthError::NoChallenge => f.write_str("no usable challenge in the response"),
            AuthError::MissingParam(p) => write!(f, "missing Digest parameter `{p}`"),
            AuthError::UnsupportedAlgorithm => f.write_str("unsupported Digest algorithm"),
            AuthError::UnsupportedQop => f.write_str("no supported qop offered"),
            AuthError::InvalidInput => f.write_str("username, URI or cnonce cannot be written"),
            AuthError::Capacity => f.write_str("Authorization value too long"),
        }
    }
}

impl core::error::Error for AuthError {}

/// What a UAC needs, besides the challenge, to compute its credentials.
#[derive(Clone, Copy, Debug)]
pub struct DigestInput<'a> {
    /// The user name.
    pub username: &'a str,
    /// The password.
    pub password: &'a str,
    /// The method of the request being authorized (RFC 2617 §3.2.2.3 `A2`).
    pub method: Method<'a>,
    /// The `digest-uri`: the Request-URI of that request (RFC 3261 §22.4).
    pub uri: &'a str,
    /// A fresh client nonce (host randomness; RFC 7616 asks for at least 64 bits), used
    /// when the challenge has `qop` or a `-sess` algorithm. Written as a quoted string.
    pub cnonce: &'a str,
    /// How many requests this side has sent with this nonce, this one included (`nc`,
    /// from 1; RFC 2617 §3.2.2).
    pub nonce_count: u32,
    /// The request body, for `qop=auth-int`.
    pub body: &'a [u8],
}

/// The digest algorithm, resolved.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Algo {
    Md5,
    Sha256,
}

fn resolve(a: Option<Algorithm<'_>>) -> Result<(Algo, bool), AuthError> {
    // An absent algorithm means MD5 (RFC 2617 §3.2.1).
    match a.unwrap_or(Algorithm::Md5) {
        Algorithm::Md5 => Ok((Algo::Md5, false)),
        Algorithm::Md5Sess => Ok((Algo::Md5, true)),
        Algorithm::Sha256 => Ok((Algo::Sha256, false)),
        Algorithm::Sha256Sess => Ok((Algo::Sha256, true)),
        _ => Err(AuthError::UnsupportedAlgorithm),
    }
}

/// Which quality of protection the exchange uses.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Qop {
    /// RFC 2069: no qop, cnonce or nc.
    None,
    Auth,
    AuthInt,
}

impl Qop {
    fn as_str(self) -> &'static str {
        match self {
            Qop::None => "",
            Qop::Auth => "auth",
            Qop::AuthInt => "auth-int",
        }
    }
}

/// A hex digest (32 or 64 characters).
struct Hex {
    buf: [u8; 64],
    len: usize,
}

impl Hex {
    fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

/// `H(part ":" part ":" ...)`, each part given as it goes into the hash.
fn h(algo: Algo, parts: &[&[u8]]) -> Hex {
    let mut hasher = match algo {
        Algo::Md5 => Hasher::md5(),
        Algo::Sha256 => Hasher::sha256(),
    };
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            hasher.update(b":");
        }
        hasher.update(p);
    }
    let mut buf = [0u8; 64];
    let len = hasher.finish_hex(&mut buf);
    Hex { buf, len }
}

/// A quoted-string's content with its escapes (quoted-pair) removed, as the hash takes
/// it; at most 256 bytes are unescaped (longer values are rejected as too long).
fn unquote(s: &str) -> Result<heapless::Vec<u8, 256>, AuthError> {
    let mut out = heapless::Vec::new();
    let mut bytes = s.bytes();
    while let Some(b) = bytes.next() {
        let b = if b == b'\\' {
            bytes.next().unwrap_or(b)
        } else {
            b
        };
        out.push(b).map_err(|_| AuthError::Capacity)?;
    }
    Ok(out)
}

/// The nonce count as 8 hex digits (RFC 2617 §3.2.2 `nc-value`).
fn nc_hex(n: u32) -> [u8; 8] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = [0u8; 8];
    for (i, o) in out.iter_mut().enumerate() {
        *o = HEX[((n >> (28 - 4 * i)) & 0xf) as usize];
    }
    out
}

/// The request-digest of RFC 2617 §3.2.2.1 from its parts; `ha1` is
/// `H(username:realm:password)` before any `-sess` step.
#[allow(clippy::too_many_arguments)] // the RFC's inputs, one each
fn request_digest(
    algo: Algo,
    sess: bool,
    ha1: &[u8],
    nonce: &[u8],
    cnonce: &[u8],
    nc: &[u8],
    qop: Qop,
    method: &str,
    uri: &[u8],
    body: &[u8],
) -> Hex {
    let ha1 = if sess {
        h(algo, &[ha1, nonce, cnonce])
    } else {
        let mut buf = [0u8; 64];
        buf[..ha1.len()].copy_from_slice(ha1);
        Hex {
            buf,
            len: ha1.len(),
        }
    };
    let ha2 = match qop {
        Qop::AuthInt => {
            let hb = h(algo, &[body]);
            h(algo, &[method.as_bytes(), uri, hb.as_bytes()])
        }
        Qop::Auth | Qop::None => h(algo, &[method.as_bytes(), uri]),
    };
    match qop {
        Qop::None => h(algo, &[ha1.as_bytes(), nonce, ha2.as_bytes()]),
        Qop::Auth | Qop::AuthInt => h(
            algo,
            &[
                ha1.as_bytes(),
                nonce,
                nc,
                cnonce,
                qop.as_str().as_bytes(),
                ha2.as_bytes(),
            ],
        ),
    }
}

/// Append `s` as a quoted-string, escaping `"` and `\` (RFC 3261 §25.1).
fn push_quoted(out: &mut String<MAX_AUTHORIZATION>, s: &str) -> Result<(), AuthError> {
    let full = |_| AuthError::Capacity;
    out.push('"').map_err(full)?;
    for c in s.chars() {
        if c.is_control() {
            return Err(AuthError::InvalidInput);
        }
        if c == '"' || c == '\\' {
            out.push('\\').map_err(full)?;
        }
        out.push(c).map_err(full)?;
    }
    out.push('"').map_err(full)
}

/// A parameter value as it was received, quoted (a token is quoted on the way out).
fn push_echo(out: &mut String<MAX_AUTHORIZATION>, raw: &str) -> Result<(), AuthError> {
    let full = |_| AuthError::Capacity;
    if raw.starts_with('"') {
        out.push_str(raw).map_err(full)
    } else {
        out.push('"').map_err(full)?;
        out.push_str(raw).map_err(full)?;
        out.push('"').map_err(full)
    }
}

/// The credentials (`Authorization` or `Proxy-Authorization` value) answering
/// `challenge` (RFC 3261 §22.2, §22.3; RFC 2617 §3.2.2; RFC 7616 §3.4).
pub fn authorization(
    challenge: &Challenge<'_>,
    input: &DigestInput<'_>,
) -> Result<String<MAX_AUTHORIZATION>, AuthError> {
    let (algo, sess, qop) = answerable(challenge)?;
    let realm = challenge
        .params()
        .find("realm")
        .ok_or(AuthError::MissingParam("realm"))?;
    let nonce = challenge
        .params()
        .find("nonce")
        .ok_or(AuthError::MissingParam("nonce"))?;
    let uses_cnonce = qop != Qop::None || sess;
    if uses_cnonce && input.cnonce.is_empty() {
        return Err(AuthError::InvalidInput);
    }
    let realm_value = unquote(realm.value())?;
    let nonce_value = unquote(nonce.value())?;
    let ha1 = h(
        algo,
        &[
            input.username.as_bytes(),
            &realm_value,
            input.password.as_bytes(),
        ],
    );
    let nc = nc_hex(input.nonce_count);
    let response = request_digest(
        algo,
        sess,
        ha1.as_bytes(),
        &nonce_value,
        input.cnonce.as_bytes(),
        &nc,
        qop,
        input.method.as_str(),
        input.uri.as_bytes(),
        input.body,
    );
    let userhash = challenge.userhash() == Some(true);

    let full = |_| AuthError::Capacity;
    let mut out: String<MAX_AUTHORIZATION> = String::new();
    out.push_str("Digest username=").map_err(full)?;
    if userhash {
        // RFC 7616 §3.4.4: H(unq(username) ":" unq(realm)), as hex.
        let uh = h(algo, &[input.username.as_bytes(), &realm_value]);
        out.push('"').map_err(full)?;
        out.push_str(core::str::from_utf8(uh.as_bytes()).map_err(|_| AuthError::InvalidInput)?)
            .map_err(full)?;
        out.push('"').map_err(full)?;
    } else {
        push_quoted(&mut out, input.username)?;
    }
    out.push_str(", realm=").map_err(full)?;
    push_echo(&mut out, realm.raw)?;
    out.push_str(", nonce=").map_err(full)?;
    push_echo(&mut out, nonce.raw)?;
    out.push_str(", uri=").map_err(full)?;
    push_quoted(&mut out, input.uri)?;
    out.push_str(", response=\"").map_err(full)?;
    out.push_str(core::str::from_utf8(response.as_bytes()).map_err(|_| AuthError::InvalidInput)?)
        .map_err(full)?;
    out.push('"').map_err(full)?;
    if let Some(a) = challenge.algorithm() {
        out.push_str(", algorithm=").map_err(full)?;
        out.push_str(a.as_str()).map_err(full)?;
    }
    if uses_cnonce {
        out.push_str(", cnonce=").map_err(full)?;
        push_quoted(&mut out, input.cnonce)?;
    }
    if let Some(opaque) = challenge.params().find("opaque") {
        out.push_str(", opaque=").map_err(full)?;
        push_echo(&mut out, opaque.raw)?;
    }
    if qop != Qop::None {
        out.push_str(", qop=").map_err(full)?;
        out.push_str(qop.as_str()).map_err(full)?;
        out.push_str(", nc=").map_err(full)?;
        out.push_str(core::str::from_utf8(&nc).map_err(|_| AuthError::InvalidInput)?)
            .map_err(full)?;
    }
    if userhash {
        out.push_str(", userhash=true").map_err(full)?;
    }
    Ok(out)
}

/// Whether [`authorization`] can answer `challenge`: a Digest challenge with `realm` and
/// `nonce`, an algorithm this crate computes and a `qop` it offers that this crate uses
/// (or none). Nothing is computed; the user's input can still be refused
/// ([`AuthError::InvalidInput`], [`AuthError::Capacity`]).
pub fn can_answer(challenge: &Challenge<'_>) -> bool {
    answerable(challenge).is_ok()
}

/// The algorithm, `-sess` and qop that answer `challenge`, or why there are none.
fn answerable(challenge: &Challenge<'_>) -> Result<(Algo, bool, Qop), AuthError> {
    if !matches!(challenge.scheme(), AuthScheme::Digest) {
        return Err(AuthError::NotDigest);
    }
    for name in ["realm", "nonce"] {
        if challenge.params().find(name).is_none() {
            return Err(AuthError::MissingParam(name));
        }
    }
    let (algo, sess) = resolve(challenge.algorithm())?;
    // RFC 2617 §3.2.1: without qop, the RFC 2069 computation; with it, `auth` when
    // offered (it covers what SIP servers check), else `auth-int`.
    let qop = if challenge.params().find("qop").is_none() {
        Qop::None
    } else {
        let mut offered = challenge.qop_options().map(str::trim);
        let options = (offered.clone().any(|q| q.eq_ignore_ascii_case("auth")), {
            offered.any(|q| q.eq_ignore_ascii_case("auth-int"))
        });
        match options {
            (true, _) => Qop::Auth,
            (false, true) => Qop::AuthInt,
            (false, false) => return Err(AuthError::UnsupportedQop),
        }
    };
    Ok((algo, sess, qop))
}

/// The header a UAC adds to answer the challenge in a 401 or 407 `response`: its name
/// (`Authorization` for `WWW-Authenticate`, `Proxy-Authorization` for
/// `Proxy-Authenticate`, RFC 3261 §22.2, §22.3) and value. The first Digest challenge
/// this crate can answer is used.
pub fn answer_challenge(
    response: &Message<'_>,
    input: &DigestInput<'_>,
) -> Result<(&'static str, String<MAX_AUTHORIZATION>), AuthError> {
    let mut last = AuthError::NoChallenge;
    for (kind, answer) in [
        (HeaderKind::WwwAuthenticate, "Authorization"),
        (HeaderKind::ProxyAuthenticate, "Proxy-Authorization"),
    ] {
        for h in response.headers_of(kind) {
            let Ok(challenge) = Challenge::parse(h.value) else {
                continue;
            };
            match authorization(&challenge, input) {
                Ok(value) => return Ok((answer, value)),
                Err(e) => last = e,
            }
        }
    }
    Err(last)
}

/// Check Digest `credentials` a request carried, for a user whose password is
/// `password` (RFC 2617 §3.2.2, RFC 7616 §3.4): the `response` must be the one
/// computed from the credentials' own realm, nonce, cnonce, nc and qop with `method`
/// and `body`. `Ok(false)` for a wrong response. The caller still checks that the realm
/// is its own, the nonce one it issued and still accepts, the nc not seen before, and
/// the `uri` the request's (RFC 3261 §22.4). With `userhash=true` the username is a hash
/// only the server's user table can map: use [`verify_ha1`].
pub fn verify(
    credentials: &Credentials<'_>,
    method: Method<'_>,
    password: &str,
    body: &[u8],
) -> Result<bool, AuthError> {
    let (algo, _) = resolve(credentials.algorithm())?;
    if credentials
        .params()
        .find("userhash")
        .is_some_and(|u| u.value().eq_ignore_ascii_case("true"))
    {
        return Err(AuthError::InvalidInput);
    }
    let username = credentials
        .params()
        .find("username")
        .ok_or(AuthError::MissingParam("username"))?;
    let realm = credentials
        .params()
        .find("realm")
        .ok_or(AuthError::MissingParam("realm"))?;
    let ha1 = h(
        algo,
        &[
            &unquote(username.value())?,
            &unquote(realm.value())?,
            password.as_bytes(),
        ],
    );
    verify_ha1(credentials, method, ha1.as_bytes(), body)
}

/// [`verify`] with the stored `H(username:realm:password)` (hex, in the credentials'
/// algorithm) instead of the password, as registrars keep it.
/// [`AuthError::InvalidInput`] for an `ha1` longer than a SHA-256 hex digest.
pub fn verify_ha1(
    credentials: &Credentials<'_>,
    method: Method<'_>,
    ha1: &[u8],
    body: &[u8],
) -> Result<bool, AuthError> {
    if !matches!(credentials.scheme(), AuthScheme::Digest) {
        return Err(AuthError::NotDigest);
    }
    // A hex digest: 32 characters (MD5) or 64 (SHA-256).
    if ha1.len() > 64 {
        return Err(AuthError::InvalidInput);
    }
    let (algo, sess) = resolve(credentials.algorithm())?;
    let param = |name: &'static str| {
        credentials
            .params()
            .find(name)
            .ok_or(AuthError::MissingParam(name))
    };
    let nonce = unquote(param("nonce")?.value())?;
    let uri = unquote(param("uri")?.value())?;
    let response = param("response")?;
    let qop = match credentials.params().find("qop").map(|q| q.value()) {
        None => Qop::None,
        Some(q) if q.eq_ignore_ascii_case("auth") => Qop::Auth,
        Some(q) if q.eq_ignore_ascii_case("auth-int") => Qop::AuthInt,
        Some(_) => return Err(AuthError::UnsupportedQop),
    };
    let (cnonce, nc) = if qop != Qop::None || sess {
        (
            unquote(param("cnonce")?.value())?,
            unquote(credentials.params().find("nc").map_or("", |p| p.value()))?,
        )
    } else {
        (heapless::Vec::new(), heapless::Vec::new())
    };
    if qop != Qop::None && nc.is_empty() {
        return Err(AuthError::MissingParam("nc"));
    }
    let want = request_digest(
        algo,
        sess,
        ha1,
        &nonce,
        &cnonce,
        &nc,
        qop,
        method.as_str(),
        &uri,
        body,
    );
    let got = response.value().as_bytes();
    // Constant time over the expected length: the comparison reveals nothing about how
    // many leading characters were right.
    let want = want.as_bytes();
    let same = got.len() == want.len()
        && got
            .iter()
            .zip(want)
            .fold(0u8, |acc, (a, b)| acc | (a.to_ascii_lowercase() ^ b))
            == 0;
    Ok(same)
}
