//! Transaction keys: which transaction a message belongs to (RFC 3261 §17.1.3, §17.2.3,
//! §8.2.2.2).
//!
//! Keys are owned, bounded values (`heapless::String` with the capacities below) usable as
//! map keys (`Clone + Eq + Hash`) in any table. They are built from plain components so that
//! they do not depend on the message parser; a component longer than its capacity is a
//! [`KeyError::Capacity`], never a truncation.
//!
//! - [`ClientKey`] (§17.1.3): branch of the top Via + CSeq method. A CANCEL shares the
//!   INVITE's branch but has its own key because its CSeq method differs.
//! - [`ServerKey`] (§17.2.3): branch + sent-by + method, for branches starting with
//!   [`MAGIC_COOKIE`]. An ACK's method is folded into INVITE so that the ACK for a non-2xx
//!   response finds the INVITE transaction; the ACK for a 2xx carries a new branch and finds
//!   none. CANCEL has its own key; [`ServerKey::cancelled_invite`] gives the INVITE's.
//! - [`LegacyKey`] (§17.2.3, RFC 2543 fallback): for branches without the magic cookie.
//! - [`MergeKey`] and [`merge_check`] (§8.2.2.2): merged requests answered with 482.
//!
//! Normalisation choices:
//! - Branches are compared byte for byte: a UA echoes them unchanged.
//! - The sent-by host is ASCII-lowercased into the key (domain names are case-insensitive,
//!   RFC 3261 §19.1.4; the same folds IPv6 hex digits). Other textual variants of one
//!   IPv6 address are not unified.
//! - A missing sent-by port is kept distinct from an explicit one: `host` and `host:5060`
//!   are different keys. A retransmission repeats the Via byte for byte, and the default
//!   port depends on the transport (5060 or 5061), so guessing one would only add risk.
//!
//! ```
//! use sansip::message::Method;
//! use sansip::transaction::ServerKey;
//!
//! let invite = ServerKey::new("z9hG4bK74bf9", "PC33.Atlanta.com", None, Method::Invite).unwrap();
//! let ack = ServerKey::new("z9hG4bK74bf9", "pc33.atlanta.com", None, Method::Ack).unwrap();
//! let cancel = ServerKey::new("z9hG4bK74bf9", "pc33.atlanta.com", None, Method::Cancel).unwrap();
//! assert_eq!(invite, ack); // ACK for a non-2xx joins the INVITE transaction
//! assert_ne!(invite, cancel); // CANCEL is its own transaction...
//! assert_eq!(cancel.cancelled_invite(), Some(invite)); // ...that targets this INVITE
//! ```

use core::fmt;

use crate::error::{Capacity, ParseError};
use crate::message::{CSeq, CallId, Host, Message, Method, NameAddr, Via};

pub use crate::message::MAGIC_COOKIE;
/// Capacity for a Via branch in a key.
pub const MAX_BRANCH: usize = 64;
/// Capacity for a Via sent-by host in a key.
pub const MAX_SENT_BY_HOST: usize = 64;
/// Capacity for a method token in a key.
pub const MAX_METHOD: usize = 16;
/// Capacity for a Call-ID in a key.
pub const MAX_CALL_ID: usize = 128;
/// Capacity for a From or To tag in a key.
pub const MAX_TAG: usize = 128;
/// Capacity for a Request-URI in a [`LegacyKey`].
pub const MAX_REQUEST_URI: usize = 128;
/// Capacity for the top Via value in a [`LegacyKey`].
pub const MAX_TOP_VIA: usize = 128;

/// Why a key could not be built.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum KeyError {
    /// The branch does not start with [`MAGIC_COOKIE`]: use a [`LegacyKey`] (§17.2.3).
    NotRfc3261Branch,
    /// A component is longer than its capacity ([`Capacity::Branch`], [`Capacity::SentBy`]
    /// or [`Capacity::String`]).
    Capacity(Capacity),
    /// A header the key is built from is missing or malformed (the `from_*` adapters).
    Malformed(ParseError),
    /// The message is a request where a response was expected, or the reverse.
    WrongKind,
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyError::NotRfc3261Branch => f.write_str("branch lacks the z9hG4bK magic cookie"),
            KeyError::Capacity(c) => write!(f, "key capacity: {c}"),
            KeyError::Malformed(e) => write!(f, "cannot build a key: {e}"),
            KeyError::WrongKind => f.write_str("request and response confused"),
        }
    }
}

impl core::error::Error for KeyError {}

impl From<Capacity> for KeyError {
    fn from(c: Capacity) -> Self {
        KeyError::Capacity(c)
    }
}

/// Whether `branch` is an RFC 3261 branch (starts with [`MAGIC_COOKIE`], §8.1.1.7), so that
/// server matching uses [`ServerKey`] rather than [`LegacyKey`].
pub fn is_rfc3261_branch(branch: &str) -> bool {
    branch.starts_with(MAGIC_COOKIE)
}

fn bounded<const N: usize>(s: &str, cap: Capacity) -> Result<heapless::String<N>, KeyError> {
    heapless::String::try_from(s).map_err(|_| KeyError::Capacity(cap))
}

/// `s` with ASCII letters in lower case: copied at once, then lowered in place (a push
/// per character cost a key a few hundred instructions).
fn lowercase<const N: usize>(s: &str, cap: Capacity) -> Result<heapless::String<N>, KeyError> {
    let mut out: heapless::String<N> = bounded(s, cap)?;
    out.make_ascii_lowercase();
    Ok(out)
}

/// [`lowercase`] a character at a time: the reference it is compared with.
#[cfg(test)]
fn lowercase_by_char<const N: usize>(
    s: &str,
    cap: Capacity,
) -> Result<heapless::String<N>, KeyError> {
    let mut out = heapless::String::new();
    for c in s.chars() {
        out.push(c.to_ascii_lowercase())
            .map_err(|_| KeyError::Capacity(cap))?;
    }
    Ok(out)
}

/// The method as stored in a key, with ACK folded into INVITE when `fold_ack`.
fn method_key(
    method: Method<'_>,
    fold_ack: bool,
) -> Result<heapless::String<MAX_METHOD>, KeyError> {
    let m = match method {
        Method::Ack if fold_ack => Method::Invite,
        m => m,
    };
    bounded(m.as_str(), Capacity::String)
}

/// A CANCEL key's method turned into the INVITE's (§9.2); `None` for any other method.
fn cancelled_method(method: &heapless::String<MAX_METHOD>) -> Option<heapless::String<MAX_METHOD>> {
    (method.as_str() == Method::Cancel.as_str())
        .then(|| method_key(Method::Invite, false).ok())
        .flatten()
}

/// Matches a response to its client transaction (§17.1.3): the top Via branch and the CSeq
/// method.
///
/// ```
/// use sansip::message::Method;
/// use sansip::transaction::ClientKey;
/// let sent = ClientKey::new("z9hG4bKnashds8", Method::Invite).unwrap();
/// let resp = ClientKey::new("z9hG4bKnashds8", Method::Invite).unwrap();
/// assert_eq!(sent, resp);
/// // The response to a CANCEL of that INVITE belongs to the CANCEL transaction.
/// assert_ne!(sent, ClientKey::new("z9hG4bKnashds8", Method::Cancel).unwrap());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ClientKey {
    branch: heapless::String<MAX_BRANCH>,
    method: heapless::String<MAX_METHOD>,
}

impl ClientKey {
    /// The key for a request sent with top Via `branch` and CSeq method `cseq_method`, or
    /// for a response carrying them.
    pub fn new(branch: &str, cseq_method: Method<'_>) -> Result<Self, KeyError> {
        Ok(ClientKey {
            branch: bounded(branch, Capacity::Branch)?,
            method: method_key(cseq_method, false)?,
        })
    }

    /// Whether [`new`](Self::new) makes a key of these (both within their capacities).
    #[cfg(feature = "endpoint")]
    pub(crate) fn fits(branch: &str, cseq_method: Method<'_>) -> bool {
        branch.len() <= MAX_BRANCH && cseq_method.as_str().len() <= MAX_METHOD
    }

    /// Whether this is the key [`new`](Self::new) makes of `branch` and `cseq_method`,
    /// without making that one.
    #[cfg(feature = "endpoint")]
    pub(crate) fn is(&self, branch: &str, cseq_method: Method<'_>) -> bool {
        self.branch.as_str() == branch && self.method.as_str() == cseq_method.as_str()
    }

    /// The branch.
    pub fn branch(&self) -> &str {
        &self.branch
    }

    /// The CSeq method.
    pub fn method(&self) -> Method<'_> {
        // The key was built from a valid method, so the token parses.
        Method::from_token(&self.method).unwrap_or(Method::Extension(&self.method))
    }
}

/// Matches a request to its server transaction (§17.2.3) when the branch carries the magic
/// cookie: branch, sent-by (host lowercased, port kept as given) and method, with ACK folded
/// into INVITE.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ServerKey {
    branch: heapless::String<MAX_BRANCH>,
    host: heapless::String<MAX_SENT_BY_HOST>,
    port: Option<u16>,
    method: heapless::String<MAX_METHOD>,
}

impl ServerKey {
    /// The key for a request whose top Via has `branch` and sent-by `sent_by_host`
    /// (`sent_by_port`), with request method `method`.
    ///
    /// Fails with [`KeyError::NotRfc3261Branch`] if `branch` lacks [`MAGIC_COOKIE`].
    pub fn new(
        branch: &str,
        sent_by_host: &str,
        sent_by_port: Option<u16>,
        method: Method<'_>,
    ) -> Result<Self, KeyError> {
        if !is_rfc3261_branch(branch) {
            return Err(KeyError::NotRfc3261Branch);
        }
        Ok(ServerKey {
            branch: bounded(branch, Capacity::Branch)?,
            host: lowercase(sent_by_host, Capacity::SentBy)?,
            port: sent_by_port,
            method: method_key(method, true)?,
        })
    }

    /// [`ServerKey::new`] with a branch known to be RFC 3261's and the host as
    /// [`key_host`] makes it (lowered already): the same key and errors, one copy of
    /// the host fewer.
    fn with_key_host(
        branch: &str,
        host: heapless::String<MAX_SENT_BY_HOST>,
        sent_by_port: Option<u16>,
        method: Method<'_>,
    ) -> Result<Self, KeyError> {
        debug_assert!(is_rfc3261_branch(branch));
        Ok(ServerKey {
            branch: bounded(branch, Capacity::Branch)?,
            host,
            port: sent_by_port,
            method: method_key(method, true)?,
        })
    }

    /// For a CANCEL's key, the key of the INVITE it cancels (§9.2: matched by the same
    /// rules, with method INVITE). `None` for any other method.
    pub fn cancelled_invite(&self) -> Option<ServerKey> {
        Some(ServerKey {
            method: cancelled_method(&self.method)?,
            ..self.clone()
        })
    }

    /// The branch.
    pub fn branch(&self) -> &str {
        &self.branch
    }

    /// The sent-by host, lowercased.
    pub fn sent_by_host(&self) -> &str {
        &self.host
    }

    /// The sent-by port, if the Via had one.
    pub fn sent_by_port(&self) -> Option<u16> {
        self.port
    }

    /// The method (INVITE for an ACK).
    pub fn method(&self) -> Method<'_> {
        Method::from_token(&self.method).unwrap_or(Method::Extension(&self.method))
    }
}

/// RFC 2543 fallback key (§17.2.3) for requests whose branch lacks the magic cookie:
/// Request-URI, To tag, From tag, Call-ID, CSeq number, top Via and method (ACK folded into
/// INVITE). The Request-URI and top Via are compared as given; the caller should pass the
/// same canonical text for a request and its retransmissions (they are byte-identical on the
/// wire).
///
/// The ACK for a non-2xx response carries the To tag of that response, which the INVITE
/// did not have: after sending the final response, index the transaction under
/// [`LegacyKey::for_ack`] as well.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct LegacyKey {
    request_uri: heapless::String<MAX_REQUEST_URI>,
    to_tag: heapless::String<MAX_TAG>,
    from_tag: heapless::String<MAX_TAG>,
    call_id: heapless::String<MAX_CALL_ID>,
    cseq: u32,
    top_via: heapless::String<MAX_TOP_VIA>,
    method: heapless::String<MAX_METHOD>,
}

impl LegacyKey {
    /// The key of a request. `to_tag` is `None` when the To header has no tag.
    pub fn new(
        request_uri: &str,
        to_tag: Option<&str>,
        from_tag: &str,
        call_id: &str,
        cseq_num: u32,
        top_via: &str,
        method: Method<'_>,
    ) -> Result<Self, KeyError> {
        Ok(LegacyKey {
            request_uri: bounded(request_uri, Capacity::String)?,
            to_tag: bounded(to_tag.unwrap_or(""), Capacity::String)?,
            from_tag: bounded(from_tag, Capacity::String)?,
            call_id: bounded(call_id, Capacity::String)?,
            cseq: cseq_num,
            top_via: bounded(top_via.trim(), Capacity::String)?,
            method: method_key(method, true)?,
        })
    }

    /// The key that the ACK for a final response sent with To tag `response_to_tag` will
    /// have: this INVITE key with the To tag replaced (§17.2.3: "the To tag of the ACK
    /// matches the To tag of the response sent by the server transaction").
    pub fn for_ack(&self, response_to_tag: &str) -> Result<Self, KeyError> {
        let mut k = self.clone();
        k.to_tag = bounded(response_to_tag, Capacity::String)?;
        Ok(k)
    }

    /// For a CANCEL's key, the key of the INVITE it cancels (§9.2: same Request-URI,
    /// tags, Call-ID, CSeq number and top Via, method INVITE). `None` for other methods.
    pub fn cancelled_invite(&self) -> Option<LegacyKey> {
        Some(LegacyKey {
            method: cancelled_method(&self.method)?,
            ..self.clone()
        })
    }

    /// The CSeq number.
    pub fn cseq(&self) -> u32 {
        self.cseq
    }

    /// The To tag in the key (empty if none).
    pub fn to_tag(&self) -> &str {
        &self.to_tag
    }
}

/// The fields §8.2.2.2 compares to detect a merged request: From tag, Call-ID, CSeq number
/// and method. Index ongoing server transactions by it next to their transaction key.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct MergeKey {
    from_tag: heapless::String<MAX_TAG>,
    call_id: heapless::String<MAX_CALL_ID>,
    cseq: u32,
    method: heapless::String<MAX_METHOD>,
}

impl MergeKey {
    /// The merge key of a request.
    pub fn new(
        from_tag: &str,
        call_id: &str,
        cseq_num: u32,
        cseq_method: Method<'_>,
    ) -> Result<Self, KeyError> {
        Ok(MergeKey {
            from_tag: bounded(from_tag, Capacity::String)?,
            call_id: bounded(call_id, Capacity::String)?,
            cseq: cseq_num,
            method: method_key(cseq_method, false)?,
        })
    }
}

/// What [`merge_check`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum MergeVerdict {
    /// Not a merged request: process it normally.
    NotMerged,
    /// A merged request (§8.2.2.2): answer 482 (Loop Detected).
    Merged,
}

/// §8.2.2.2: a request without a To tag whose [`MergeKey`] matches an ongoing transaction
/// (`ongoing`: the transaction key stored under that merge key) but whose own transaction
/// key differs (another branch: it arrived over a different path) is merged.
///
/// ```
/// use sansip::message::Method;
/// use sansip::transaction::{key::merge_check, MergeVerdict, ServerKey};
/// let first = ServerKey::new("z9hG4bK1", "proxy-a.example.com", None, Method::Invite).unwrap();
/// let fork = ServerKey::new("z9hG4bK2", "proxy-b.example.com", None, Method::Invite).unwrap();
/// assert_eq!(merge_check(false, &fork, Some(&first)), MergeVerdict::Merged);
/// assert_eq!(merge_check(false, &first, Some(&first)), MergeVerdict::NotMerged);
/// ```
pub fn merge_check<K: PartialEq>(
    has_to_tag: bool,
    request: &K,
    ongoing: Option<&K>,
) -> MergeVerdict {
    match ongoing {
        Some(existing) if !has_to_tag && existing != request => MergeVerdict::Merged,
        _ => MergeVerdict::NotMerged,
    }
}

/// The parts of each key as bytes, in order, for the endpoint's index hash: every part
/// that decides equality, so that equal keys give equal parts and unequal ones unequal
/// parts (an integer as its little-endian bytes, an absent port as no bytes).
#[cfg(feature = "endpoint")]
impl ClientKey {
    pub(crate) fn parts(&self) -> [&[u8]; 2] {
        [self.branch.as_bytes(), self.method.as_bytes()]
    }
}

#[cfg(feature = "endpoint")]
impl ServerKey {
    /// `port`: room for the port's bytes, which the parts borrow.
    pub(crate) fn parts<'k>(&'k self, port: &'k mut [u8; 2]) -> [&'k [u8]; 4] {
        let port: &[u8] = match self.port {
            Some(p) => {
                *port = p.to_le_bytes();
                port
            }
            None => &[],
        };
        [
            self.branch.as_bytes(),
            self.host.as_bytes(),
            port,
            self.method.as_bytes(),
        ]
    }
}

#[cfg(feature = "endpoint")]
impl LegacyKey {
    /// `cseq`: room for the CSeq number's bytes, which the parts borrow.
    pub(crate) fn parts<'k>(&'k self, cseq: &'k mut [u8; 4]) -> [&'k [u8]; 7] {
        *cseq = self.cseq.to_le_bytes();
        [
            self.request_uri.as_bytes(),
            self.to_tag.as_bytes(),
            self.from_tag.as_bytes(),
            self.call_id.as_bytes(),
            cseq,
            self.top_via.as_bytes(),
            self.method.as_bytes(),
        ]
    }
}

#[cfg(feature = "endpoint")]
impl MergeKey {
    /// `cseq`: room for the CSeq number's bytes, which the parts borrow.
    pub(crate) fn parts<'k>(&'k self, cseq: &'k mut [u8; 4]) -> [&'k [u8]; 4] {
        *cseq = self.cseq.to_le_bytes();
        [
            self.from_tag.as_bytes(),
            self.call_id.as_bytes(),
            cseq,
            self.method.as_bytes(),
        ]
    }
}

/// `src`'s text in `dst` (same capacity: it fits), without copying `dst`'s whole room.
#[cfg(feature = "endpoint")]
fn copy_text<const N: usize>(dst: &mut heapless::String<N>, src: &heapless::String<N>) {
    dst.clear();
    let _ = dst.push_str(src);
}

#[cfg(feature = "endpoint")]
impl RequestKey {
    /// Make `slot` hold a key equal to this one, copying only the text when it holds an
    /// RFC 3261 key already (a table slot reused: the key is some 700 bytes of room).
    pub(crate) fn store_in(&self, slot: &mut Option<RequestKey>) {
        match (slot.as_mut(), self) {
            (Some(RequestKey::Rfc3261(dst)), RequestKey::Rfc3261(src)) => {
                copy_text(&mut dst.branch, &src.branch);
                copy_text(&mut dst.host, &src.host);
                dst.port = src.port;
                copy_text(&mut dst.method, &src.method);
            }
            _ => *slot = Some(self.clone()),
        }
    }
}

#[cfg(feature = "endpoint")]
impl MergeKey {
    /// As [`RequestKey::store_in`]: `slot` made to hold a key equal to this one.
    pub(crate) fn store_in(&self, slot: &mut Option<MergeKey>) {
        match slot {
            Some(dst) => {
                copy_text(&mut dst.from_tag, &self.from_tag);
                copy_text(&mut dst.call_id, &self.call_id);
                dst.cseq = self.cseq;
                copy_text(&mut dst.method, &self.method);
            }
            None => *slot = Some(self.clone()),
        }
    }
}

impl From<ParseError> for KeyError {
    fn from(e: ParseError) -> Self {
        KeyError::Malformed(e)
    }
}

/// A sent-by host as key text: a domain as written, an address in its canonical form
/// (so two spellings of one IPv6 address give the same key).
fn host_text(host: &Host<'_>) -> Result<heapless::String<MAX_SENT_BY_HOST>, KeyError> {
    use core::fmt::Write as _;
    let mut out = heapless::String::new();
    let written = match host {
        Host::Domain(d) => out.push_str(d).map_err(|_| core::fmt::Error),
        // The common case, without formatting machinery.
        Host::Ipv4(a) => crate::encode::text::push_ipv4(&mut out, *a),
        Host::Ipv6(_) => write!(out, "{host}"),
    };
    written.map_err(|_| KeyError::Capacity(Capacity::SentBy))?;
    Ok(out)
}

/// `host` as a [`ServerKey`] holds it, what `lowercase(host_text(host))` gives, in one
/// copy: an IPv4 address is written in lower case already (digits and dots), a domain
/// lowered as it is copied. Errors as `host_text`'s.
fn key_host(host: &Host<'_>) -> Result<heapless::String<MAX_SENT_BY_HOST>, KeyError> {
    match host {
        Host::Ipv4(_) => host_text(host),
        Host::Domain(d) => lowercase(d, Capacity::SentBy),
        Host::Ipv6(_) => {
            let mut out = host_text(host)?;
            out.make_ascii_lowercase();
            Ok(out)
        }
    }
}

/// The key a request is matched with on the server side (§17.2.3): [`ServerKey`] when
/// the top Via branch has the magic cookie, else the RFC 2543 [`LegacyKey`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[allow(clippy::large_enum_variant)] // keys are stored by value in hosts' maps; no heap
pub enum RequestKey {
    /// RFC 3261 matching.
    Rfc3261(ServerKey),
    /// RFC 2543 fallback matching.
    Legacy(LegacyKey),
}

impl RequestKey {
    /// The key of a received request.
    ///
    /// ```
    /// use sansip::message::Message;
    /// use sansip::transaction::key::RequestKey;
    /// let invite = Message::parse(b"INVITE sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP pc.example.com:5060;branch=z9hG4bK77\r\n\
    ///     From: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n\r\n")?;
    /// let ack = Message::parse(b"ACK sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP PC.example.com:5060;branch=z9hG4bK77\r\n\
    ///     From: <sip:a@h>;tag=1\r\nTo: <sip:b@h>;tag=2\r\nCall-ID: c\r\nCSeq: 1 ACK\r\n\r\n")?;
    /// // The ACK for a non-2xx final response matches the INVITE transaction.
    /// assert_eq!(RequestKey::from_request(&invite)?, RequestKey::from_request(&ack)?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_request(msg: &Message<'_>) -> Result<Self, KeyError> {
        let via = msg.top_via()?;
        let branch = via.branch().unwrap_or("");
        if is_rfc3261_branch(branch) {
            return Self::from_parts(msg, &via, None, None, None, None);
        }
        let (to, from, call_id, cseq) = (msg.to()?, msg.from()?, msg.call_id()?, msg.cseq()?);
        Self::from_parts(
            msg,
            &via,
            Some(&to),
            Some(&from),
            Some(&call_id),
            Some(&cseq),
        )
    }

    /// The key of a received request whose top Via (and, for the RFC 2543 fallback, To,
    /// From, Call-ID and CSeq) the caller has parsed already; a header not given is
    /// parsed from `msg` if the fallback needs it.
    pub fn from_parts(
        msg: &Message<'_>,
        via: &Via<'_>,
        to: Option<&NameAddr<'_>>,
        from: Option<&NameAddr<'_>>,
        call_id: Option<&CallId<'_>>,
        cseq: Option<&CSeq<'_>>,
    ) -> Result<Self, KeyError> {
        let method = msg.method().ok_or(KeyError::WrongKind)?;
        let branch = via.branch().unwrap_or("");
        if is_rfc3261_branch(branch) {
            let sent_by = via.sent_by();
            let host = key_host(&sent_by.host)?;
            return Ok(RequestKey::Rfc3261(ServerKey::with_key_host(
                branch,
                host,
                sent_by.port,
                method,
            )?));
        }
        let top_via = msg
            .header(crate::message::HeaderKind::Via)
            .map_or(&[][..], |h| h.value);
        let top_via = crate::message::lex::CommaSeparated::new(top_via)
            .next()
            .and_then(Result::ok)
            .map_or(&[][..], |(_, v)| v);
        let (to, from, call_id, cseq) = match (to, from, call_id, cseq) {
            (Some(t), Some(f), Some(c), Some(s)) => (t.tag(), f.tag(), c.as_str(), s.seq()),
            _ => {
                let (t, f, c, s) = (msg.to()?, msg.from()?, msg.call_id()?, msg.cseq()?);
                return Self::from_parts(msg, via, Some(&t), Some(&f), Some(&c), Some(&s));
            }
        };
        let uri = msg.request_uri_raw().unwrap_or(&[]);
        Ok(RequestKey::Legacy(LegacyKey::new(
            core::str::from_utf8(uri).unwrap_or(""),
            to,
            from.unwrap_or(""),
            call_id,
            cseq,
            core::str::from_utf8(top_via).unwrap_or(""),
            method,
        )?))
    }
}

impl ClientKey {
    /// The key of a received response (§17.1.3): top Via branch and CSeq method.
    pub fn from_response(msg: &Message<'_>) -> Result<Self, KeyError> {
        if msg.is_request() {
            return Err(KeyError::WrongKind);
        }
        let via = msg.top_via()?;
        ClientKey::new(via.branch().unwrap_or(""), msg.cseq()?.method())
    }
}

impl MergeKey {
    /// The merge key of a received request (§8.2.2.2).
    pub fn from_request(msg: &Message<'_>) -> Result<Self, KeyError> {
        let cseq = msg.cseq()?;
        MergeKey::new(
            msg.from()?.tag().unwrap_or(""),
            msg.call_id()?.as_str(),
            cseq.seq(),
            cseq.method(),
        )
    }
}

#[cfg(all(test, feature = "endpoint"))]
mod store_tests {
    use super::*;

    /// Whatever a slot held, it ends up holding a key equal to the one stored.
    #[test]
    fn stored_keys_equal_the_original() {
        let server = |b: &str, h: &str, p| {
            RequestKey::Rfc3261(ServerKey::new(b, h, p, Method::Invite).unwrap())
        };
        let legacy = RequestKey::Legacy(
            LegacyKey::new(
                "sip:b@h",
                Some("t"),
                "f",
                "c",
                1,
                "SIP/2.0/UDP h",
                Method::Bye,
            )
            .unwrap(),
        );
        let keys = [
            server("z9hG4bKlonger-branch", "host.example", Some(5060)),
            server("z9hG4bKb", "h", None),
            legacy.clone(),
        ];
        for key in &keys {
            for held in [
                None,
                Some(keys[0].clone()),
                Some(keys[1].clone()),
                Some(legacy.clone()),
            ] {
                let mut slot = held;
                key.store_in(&mut slot);
                assert_eq!(slot.as_ref(), Some(key));
            }
        }
        let merge = |f: &str, n| MergeKey::new(f, "call", n, Method::Invite).unwrap();
        for key in [merge("a-long-from-tag", 1), merge("b", 2)] {
            for held in [
                None,
                Some(merge("a-long-from-tag", 1)),
                Some(merge("zz", 9)),
            ] {
                let mut slot = held;
                key.store_in(&mut slot);
                assert_eq!(slot, Some(key.clone()));
            }
        }
    }
}

#[cfg(test)]
mod lowercase_tests {
    use super::*;

    /// Lowering a copy in place gives what lowering a character at a time gave: the same
    /// text (non-ASCII left as it is) or the same error, at every length around the
    /// capacity, a multi-byte character across it included.
    #[test]
    fn lowering_in_place_matches_by_character() {
        let texts = [
            "",
            "a",
            "EXAMPLE.com",
            "Host-1.Example.COM",
            "[2001:DB8::A]",
            "ÄÖü.Ex",
            "xÉ",
        ];
        for t in texts {
            for cut in 0..=t.len() {
                let Some(s) = t.get(..cut) else { continue };
                let x = std::format!("{s}{s}{s}");
                for s in [s, x.as_str()] {
                    assert_eq!(
                        lowercase::<8>(s, Capacity::SentBy),
                        lowercase_by_char::<8>(s, Capacity::SentBy),
                        "{s:?}"
                    );
                    assert_eq!(
                        lowercase::<64>(s, Capacity::SentBy),
                        lowercase_by_char::<64>(s, Capacity::SentBy),
                        "{s:?}"
                    );
                }
            }
        }
    }
}

#[cfg(all(test, feature = "endpoint"))]
mod parts_tests {
    use super::*;

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(5000))]
        /// The server key made from the host in one copy (`key_host`) is the key
        /// `ServerKey::new` makes from the host's text, error for error: IPv4, IPv6 and
        /// domains in any case, around the host and branch capacities.
        #[test]
        fn key_host_as_new(
            which in 0usize..3,
            v4 in proptest::prelude::any::<[u8; 4]>(),
            v6 in proptest::prelude::any::<[u16; 8]>(),
            domain in "[a-zA-Z0-9.-]{0,70}",
            branch in "z9hG4bK[a-zA-Z0-9.]{0,62}",
            port in proptest::option::of(proptest::prelude::any::<u16>()),
            m in 0usize..3,
        ) {
            let host = match which {
                0 => Host::Ipv4(core::net::Ipv4Addr::from(v4)),
                1 => Host::Ipv6(core::net::Ipv6Addr::from(v6)),
                _ => Host::Domain(&domain),
            };
            let method = [Method::Invite, Method::Ack, Method::Bye][m];
            let old = host_text(&host).and_then(|t| ServerKey::new(&branch, &t, port, method));
            let new = key_host(&host).and_then(|h| ServerKey::with_key_host(&branch, h, port, method));
            proptest::prop_assert_eq!(new, old);
        }

        /// `fits` says exactly when `new` makes a key, and `is` is equality with the key
        /// `new` makes, for branches and methods around the capacities.
        #[test]
        fn parts_agree_with_the_key(
            branch in "[a-zA-Z0-9.]{0,70}",
            other in "[a-zA-Z0-9.]{0,70}",
            ext in "[A-Z]{1,20}",
            which in 0usize..6,
        ) {
            let methods = [Method::Invite, Method::Ack, Method::Bye, Method::Cancel,
                Method::Extension(&ext), Method::Extension("X")];
            let method = methods[which];
            let made = ClientKey::new(&branch, method);
            proptest::prop_assert_eq!(ClientKey::fits(&branch, method), made.is_ok());
            if let Ok(key) = made {
                proptest::prop_assert!(key.is(&branch, method));
                for m in methods {
                    let same = ClientKey::new(&other, m).is_ok_and(|k| k == key);
                    proptest::prop_assert_eq!(key.is(&other, m), same);
                    let same = ClientKey::new(&branch, m).is_ok_and(|k| k == key);
                    proptest::prop_assert_eq!(key.is(&branch, m), same);
                }
            }
        }
    }
}
