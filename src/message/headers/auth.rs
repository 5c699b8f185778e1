//! Authentication header values: WWW-Authenticate / Proxy-Authenticate challenges and
//! Authorization / Proxy-Authorization credentials (RFC 3261 §20.7, §20.27, §20.28,
//! §20.44, §22.4; RFC 2617 §3.2; RFC 7616; RFC 8760).

use core::fmt;

use crate::error::{ParseError, ParseErrorKind};
use crate::message::lex;

const KIND: ParseErrorKind = ParseErrorKind::Auth;

/// The authentication scheme (RFC 3261 §25.1 `auth-scheme`), compared case-insensitively.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum AuthScheme<'a> {
    /// `Digest` (RFC 3261 §22.4, RFC 2617, RFC 8760).
    Digest,
    /// Any other scheme token, case as received (RFC 4475 §3.3.7).
    Other(&'a str),
}

impl<'a> AuthScheme<'a> {
    /// The scheme named by `t`.
    pub fn from_token(t: &'a str) -> Self {
        if t.eq_ignore_ascii_case("Digest") {
            AuthScheme::Digest
        } else {
            AuthScheme::Other(t)
        }
    }

    /// The scheme name (`Digest`, or the token as received).
    pub fn as_str(&self) -> &'a str {
        match *self {
            AuthScheme::Digest => "Digest",
            AuthScheme::Other(s) => s,
        }
    }
}

/// A digest algorithm (RFC 3261 §25.1 `algorithm`, RFC 8760 §2.1), compared
/// case-insensitively. An absent `algorithm` means MD5 (RFC 2617 §3.2.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Algorithm<'a> {
    /// `MD5`.
    Md5,
    /// `MD5-sess`.
    Md5Sess,
    /// `SHA-256` (RFC 8760).
    Sha256,
    /// `SHA-256-sess` (RFC 8760).
    Sha256Sess,
    /// `SHA-512-256` (RFC 8760).
    Sha512_256,
    /// `SHA-512-256-sess` (RFC 8760).
    Sha512_256Sess,
    /// Any other algorithm, as received.
    Other(&'a str),
}

impl<'a> Algorithm<'a> {
    /// The algorithm named by `t`.
    pub fn from_token(t: &'a str) -> Self {
        const KNOWN: [(&str, Algorithm<'static>); 6] = [
            ("MD5", Algorithm::Md5),
            ("MD5-sess", Algorithm::Md5Sess),
            ("SHA-256", Algorithm::Sha256),
            ("SHA-256-sess", Algorithm::Sha256Sess),
            ("SHA-512-256", Algorithm::Sha512_256),
            ("SHA-512-256-sess", Algorithm::Sha512_256Sess),
        ];
        KNOWN
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(t))
            .map_or(Algorithm::Other(t), |&(_, a)| a)
    }

    /// The canonical name (RFC 8760 §2.1), or the token as received.
    pub fn as_str(&self) -> &'a str {
        match *self {
            Algorithm::Md5 => "MD5",
            Algorithm::Md5Sess => "MD5-sess",
            Algorithm::Sha256 => "SHA-256",
            Algorithm::Sha256Sess => "SHA-256-sess",
            Algorithm::Sha512_256 => "SHA-512-256",
            Algorithm::Sha512_256Sess => "SHA-512-256-sess",
            Algorithm::Other(s) => s,
        }
    }
}

impl fmt::Display for Algorithm<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One `auth-param` (RFC 3261 §25.1): `name EQUAL ( token / quoted-string )`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AuthParam<'a> {
    /// The name, case as received (names compare case-insensitively).
    pub name: &'a str,
    /// The raw value: a token, or a quoted string with its quotes.
    pub raw: &'a str,
    /// Offset of the name in the header value.
    pub offset: usize,
}

impl<'a> AuthParam<'a> {
    /// Whether the value is a quoted string.
    pub fn is_quoted(&self) -> bool {
        self.raw.starts_with('"')
    }

    /// The value without its quotes; escapes (quoted-pair) are left in place.
    pub fn value(&self) -> &'a str {
        if self.is_quoted() && self.raw.len() >= 2 {
            self.raw.get(1..self.raw.len() - 1).unwrap_or(self.raw)
        } else {
            self.raw
        }
    }
}

/// Iterator over comma-separated `auth-param`s. Built by [`Challenge::params`] and
/// [`Credentials::params`], which have checked them all, so it yields no errors there.
#[derive(Clone, Debug)]
pub struct AuthParams<'a> {
    s: &'a str,
    pos: usize,
    first: bool,
    done: bool,
}

impl<'a> AuthParams<'a> {
    /// Iterate the auth-params in `s` (offsets are relative to `s`), starting at `start`.
    pub fn new(s: &'a str, start: usize) -> Self {
        AuthParams {
            s,
            pos: start,
            first: true,
            done: false,
        }
    }

    /// The first parameter named `name` (case-insensitive). Malformed input ends the search.
    pub fn find(self, name: &str) -> Option<AuthParam<'a>> {
        self.map_while(Result::ok)
            .find(|p| p.name.eq_ignore_ascii_case(name))
    }

    fn fail(&mut self, e: ParseError) -> Option<Result<AuthParam<'a>, ParseError>> {
        self.done = true;
        Some(Err(e))
    }
}

impl<'a> Iterator for AuthParams<'a> {
    type Item = Result<AuthParam<'a>, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let b = self.s.as_bytes();
        let mut i = lex::skip_lws(b, self.pos);
        if !self.first && i < b.len() {
            // `COMMA = SWS "," SWS` between params.
            if b[i] != b',' {
                return self.fail(ParseError::new(KIND, i));
            }
            i = lex::skip_lws(b, i + 1);
            if i >= b.len() {
                return self.fail(ParseError::new(KIND, i));
            }
        }
        if i >= b.len() {
            self.done = true;
            return None;
        }
        self.first = false;
        let name_end = lex::token_end(b, i);
        if name_end == i {
            return self.fail(ParseError::new(KIND, i));
        }
        let eq = lex::skip_lws(b, name_end);
        if b.get(eq) != Some(&b'=') {
            return self.fail(ParseError::new(KIND, eq));
        }
        let v = lex::skip_lws(b, eq + 1);
        let end = if b.get(v) == Some(&b'"') {
            match lex::quoted_end(b, v) {
                Ok(end) => end,
                Err(e) => return self.fail(e),
            }
        } else {
            // A token; liberal: any run without LWS, comma or quote (some clients send
            // an unquoted `uri`).
            let mut j = v;
            while j < b.len() && !lex::is_lws(b[j]) && !matches!(b[j], b',' | b'"') {
                j += 1;
            }
            j
        };
        if end == v {
            return self.fail(ParseError::new(KIND, v));
        }
        // The slice bounds sit next to ASCII bytes, so `get` always succeeds.
        let (Some(name), Some(raw)) = (self.s.get(i..name_end), self.s.get(v..end)) else {
            return self.fail(ParseError::new(KIND, i));
        };
        self.pos = end;
        Some(Ok(AuthParam {
            name,
            raw,
            offset: i,
        }))
    }
}

/// The parts common to challenges and credentials.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Auth<'a> {
    scheme: AuthScheme<'a>,
    /// The whole value as `&str` (checked UTF-8 once).
    s: &'a str,
    /// Where the auth-params start.
    params_at: usize,
    /// RFC 7235 `token68` form (`Bearer abc==`), for schemes other than Digest.
    token68: Option<&'a str>,
}

impl<'a> Auth<'a> {
    /// `auth-scheme LWS auth-param *(COMMA auth-param)`, or `auth-scheme LWS token68`.
    /// `check` sees every parameter in the same pass.
    fn parse(
        value: &'a [u8],
        mut check: impl FnMut(AuthScheme<'a>, &AuthParam<'a>) -> Result<(), ParseError>,
    ) -> Result<Self, ParseError> {
        let s = lex::utf8(value, KIND, 0)?;
        let b = value;
        let start = lex::skip_lws(b, 0);
        let end = lex::token_end(b, start);
        let scheme = lex::token_str(b.get(start..end).unwrap_or_default(), KIND, start)?;
        let scheme = AuthScheme::from_token(scheme);
        let params_at = lex::skip_lws(b, end);
        if params_at == end && end < b.len() {
            return Err(ParseError::new(KIND, end));
        }
        if scheme != AuthScheme::Digest
            && let Some(t) = token68(s, params_at)
        {
            return Ok(Auth {
                scheme,
                s,
                params_at: b.len(),
                token68: Some(t),
            });
        }
        for p in AuthParams::new(s, params_at) {
            check(scheme, &p?)?;
        }
        Ok(Auth {
            scheme,
            s,
            params_at,
            token68: None,
        })
    }

    fn params(&self) -> AuthParams<'a> {
        AuthParams::new(self.s, self.params_at)
    }

    fn get(&self, name: &str) -> Option<&'a str> {
        self.params().find(name).map(|p| p.value())
    }
}

/// `token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="` (RFC 7235
/// §2.1) filling the rest of `s` from `at` (trailing LWS allowed).
fn token68(s: &str, at: usize) -> Option<&str> {
    let (_, t) = lex::trim(s.as_bytes().get(at..)?);
    let body = t.iter().position(|&b| b == b'=').unwrap_or(t.len());
    let ok = body > 0
        && t.iter().take(body).all(|&b| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/')
        })
        && t.iter().skip(body).all(|&b| b == b'=');
    if !ok {
        return None;
    }
    core::str::from_utf8(t).ok()
}

/// A challenge (RFC 3261 §20.27 Proxy-Authenticate, §20.44 WWW-Authenticate; RFC 2617
/// §3.2.1). `parse` takes the **whole** header value: the parameters of one challenge
/// are themselves comma-separated, so the value must not be split with
/// [`lex::CommaSeparated`].
///
/// ```
/// use sansip::message::{Algorithm, AuthScheme, Challenge};
/// let c = Challenge::parse(b"Digest realm=\"atlanta.com\", domain=\"sip:ss1.carrier.com\",
///  qop=\"auth,auth-int\", nonce=\"f84f1cec41e6cbe5aea9c8e88d359\", opaque=\"\", stale=FALSE,
///  algorithm=SHA-256").unwrap();
/// assert_eq!(c.scheme(), AuthScheme::Digest);
/// assert_eq!(c.realm(), Some("atlanta.com"));
/// assert_eq!(c.algorithm(), Some(Algorithm::Sha256));
/// assert_eq!(c.qop_options().collect::<Vec<_>>(), ["auth", "auth-int"]);
/// assert_eq!(c.stale(), Some(false));
/// assert_eq!(c.opaque(), Some(""));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge<'a>(Auth<'a>);

impl<'a> Challenge<'a> {
    /// Parse a whole WWW-Authenticate / Proxy-Authenticate value.
    pub fn parse(value: &'a [u8]) -> Result<Self, ParseError> {
        Auth::parse(value, |_, _| Ok(())).map(Challenge)
    }

    /// The scheme.
    pub fn scheme(&self) -> AuthScheme<'a> {
        self.0.scheme
    }

    /// Every auth-param, in order (checked by `parse`: no errors).
    pub fn params(&self) -> AuthParams<'a> {
        self.0.params()
    }

    /// The unquoted value of the first parameter named `name` (case-insensitive).
    pub fn param(&self, name: &str) -> Option<&'a str> {
        self.0.get(name)
    }

    /// The `token68` of a non-Digest scheme (RFC 7235 §2.1), if the value has that form.
    pub fn token68(&self) -> Option<&'a str> {
        self.0.token68
    }

    /// `realm` (RFC 2617 §3.2.1).
    pub fn realm(&self) -> Option<&'a str> {
        self.0.get("realm")
    }

    /// `nonce`.
    pub fn nonce(&self) -> Option<&'a str> {
        self.0.get("nonce")
    }

    /// `opaque`.
    pub fn opaque(&self) -> Option<&'a str> {
        self.0.get("opaque")
    }

    /// `domain`: a space-separated list of URIs, as received.
    pub fn domain(&self) -> Option<&'a str> {
        self.0.get("domain")
    }

    /// `algorithm`; `None` when absent (which means MD5, RFC 2617 §3.2.1).
    pub fn algorithm(&self) -> Option<Algorithm<'a>> {
        self.0.get("algorithm").map(Algorithm::from_token)
    }

    /// `stale`: `true` only for a case-insensitive `true` (RFC 2617 §3.2.1).
    pub fn stale(&self) -> Option<bool> {
        self.0.get("stale").map(|v| v.eq_ignore_ascii_case("true"))
    }

    /// The tokens of the quoted `qop` list (`auth`, `auth-int`); empty when absent.
    pub fn qop_options(&self) -> QopOptions<'a> {
        QopOptions(self.0.get("qop").unwrap_or("").split(','))
    }

    /// `userhash` (RFC 7616 §3.3, RFC 8760): `true` for a case-insensitive `true`.
    pub fn userhash(&self) -> Option<bool> {
        self.0
            .get("userhash")
            .map(|v| v.eq_ignore_ascii_case("true"))
    }
}

/// Iterator over the options of a challenge's `qop` (RFC 2617 §3.2.1 `qop-options`):
/// the comma-separated tokens inside the quotes, trimmed; empty items are skipped.
#[derive(Clone, Debug)]
pub struct QopOptions<'a>(core::str::Split<'a, char>);

impl<'a> Iterator for QopOptions<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        loop {
            let item = self
                .0
                .next()?
                .trim_matches(|c| matches!(c, ' ' | '\t' | '\r' | '\n'));
            if !item.is_empty() {
                return Some(item);
            }
        }
    }
}

/// Credentials (RFC 3261 §20.7 Authorization, §20.28 Proxy-Authorization; RFC 2617
/// §3.2.2). `parse` takes the whole header value.
///
/// ```
/// use sansip::message::{AuthScheme, Credentials};
/// let c = Credentials::parse(b"Digest username=\"bob\", realm=\"biloxi.com\", nonce=\"dcd98b\",
///  uri=\"sip:bob@biloxi.com\", qop=auth, nc=0000000a, cnonce=\"0a4f113b\",
///  response=\"6629fae49393a05397450978507c4ef1\", opaque=\"5ccc069c\"").unwrap();
/// assert_eq!(c.scheme(), AuthScheme::Digest);
/// assert_eq!(c.username(), Some("bob"));
/// assert_eq!(c.nc(), Some(10));
/// assert_eq!(c.qop(), Some("auth"));
/// assert!(Credentials::parse(b"NoOneKnowsThisScheme opaque-data=here").is_ok());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credentials<'a> {
    auth: Auth<'a>,
    nc: Option<u32>,
}

impl<'a> Credentials<'a> {
    /// Parse a whole Authorization / Proxy-Authorization value. A Digest `nc` must be
    /// exactly 8 hex digits (RFC 2617 §3.2.2 `nc-value`).
    pub fn parse(value: &'a [u8]) -> Result<Self, ParseError> {
        let mut nc = None;
        let auth = Auth::parse(value, |scheme, p| {
            if scheme == AuthScheme::Digest && p.name.eq_ignore_ascii_case("nc") {
                let v = p.value().as_bytes();
                if v.len() != 8 {
                    return Err(ParseError::new(KIND, p.offset));
                }
                let n = v.iter().try_fold(0u32, |n, &b| {
                    let d = char::from(b).to_digit(16)?;
                    Some((n << 4) | d)
                });
                let n = n.ok_or(ParseError::new(KIND, p.offset))?;
                nc.get_or_insert(n);
            }
            Ok(())
        })?;
        Ok(Credentials { auth, nc })
    }

    /// The scheme.
    pub fn scheme(&self) -> AuthScheme<'a> {
        self.auth.scheme
    }

    /// Every auth-param, in order (checked by `parse`: no errors).
    pub fn params(&self) -> AuthParams<'a> {
        self.auth.params()
    }

    /// The unquoted value of the first parameter named `name` (case-insensitive).
    pub fn param(&self, name: &str) -> Option<&'a str> {
        self.auth.get(name)
    }

    /// The `token68` of a non-Digest scheme (RFC 7235 §2.1), if the value has that form.
    pub fn token68(&self) -> Option<&'a str> {
        self.auth.token68
    }

    /// `username` (escapes kept).
    pub fn username(&self) -> Option<&'a str> {
        self.auth.get("username")
    }

    /// `realm`.
    pub fn realm(&self) -> Option<&'a str> {
        self.auth.get("realm")
    }

    /// `nonce`.
    pub fn nonce(&self) -> Option<&'a str> {
        self.auth.get("nonce")
    }

    /// `uri` (the digest-uri).
    pub fn uri(&self) -> Option<&'a str> {
        self.auth.get("uri")
    }

    /// `response` (the request digest, hex).
    pub fn response(&self) -> Option<&'a str> {
        self.auth.get("response")
    }

    /// `algorithm`; `None` when absent (which means MD5).
    pub fn algorithm(&self) -> Option<Algorithm<'a>> {
        self.auth.get("algorithm").map(Algorithm::from_token)
    }

    /// `cnonce`.
    pub fn cnonce(&self) -> Option<&'a str> {
        self.auth.get("cnonce")
    }

    /// `opaque`.
    pub fn opaque(&self) -> Option<&'a str> {
        self.auth.get("opaque")
    }

    /// `qop` (a token; quotes some clients add are removed).
    pub fn qop(&self) -> Option<&'a str> {
        self.auth.get("qop")
    }

    /// `nc`, the nonce count (8 hex digits, checked by `parse`).
    pub fn nc(&self) -> Option<u32> {
        self.nc
    }

    /// `userhash` (RFC 7616 §3.4): `true` for a case-insensitive `true`.
    pub fn userhash(&self) -> Option<bool> {
        self.auth
            .get("userhash")
            .map(|v| v.eq_ignore_ascii_case("true"))
    }
}
