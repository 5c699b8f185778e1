//! Header names (RFC 3261 §7.3, §20) and the header index entry.

use core::fmt;

/// A key that tells the known header names apart in O(1): length, first, middle and
/// last byte, letters folded to lower case. Two known names with the same key would
/// share a slot of [`SLOTS`], which the build rejects.
const fn name_key(s: &[u8]) -> u32 {
    if s.is_empty() || s.len() > 255 {
        return 0;
    }
    // `| 0x20` lower-cases letters; it also maps a few other bytes onto others (`\r`
    // onto `-`), which only makes a non-name pick a candidate that `eq_lower` refuses.
    let first = (s[0] | 0x20) as u32;
    let middle = (s[s.len() / 2] | 0x20) as u32;
    let last = (s[s.len() - 1] | 0x20) as u32;
    s.len() as u32 | first << 8 | middle << 16 | last << 24
}

macro_rules! header_kinds {
    ($( $variant:ident => $name:literal, $lower:literal, $doc:literal; )*) => {
        /// A header field name the crate recognises, with compact forms (RFC 3261 §7.3.3)
        /// folded to their full names. Anything else is [`HeaderKind::Other`].
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[cfg_attr(feature = "defmt", derive(defmt::Format))]
        #[non_exhaustive]
        #[repr(u8)]
        pub enum HeaderKind {
            $( #[doc = $doc] $variant, )*
            /// Any header the crate does not name.
            Other,
        }

        impl HeaderKind {
            /// Number of variants, `Other` included.
            pub(crate) const COUNT: usize = [$(HeaderKind::$variant,)* HeaderKind::Other].len();

            /// Every named kind, in declaration order (`NAMED[k as usize] == k`).
            pub(crate) const NAMED: [HeaderKind; Self::COUNT - 1] = [$(HeaderKind::$variant,)*];

            /// The canonical (full) name.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( HeaderKind::$variant => $name, )*
                    HeaderKind::Other => "",
                }
            }

            /// The full name in lower case, what [`HeaderKind::from_name`] compares with.
            const fn lower(self) -> &'static [u8] {
                match self {
                    $( HeaderKind::$variant => $lower, )*
                    HeaderKind::Other => b"",
                }
            }

            /// The kind named by a full name, compared case-insensitively
            /// (RFC 3261 §7.3.1), or by a compact form (RFC 3261 §7.3.3).
            pub fn from_name(name: &[u8]) -> HeaderKind {
                if name.len() == 1 {
                    return Self::from_compact(name[0].to_ascii_lowercase());
                }
                // The key's slot holds the one candidate (a name that matches a
                // known one has its key, so lands in its slot); a case-insensitive
                // comparison confirms it.
                let (kind, lower) = SLOTS[slot(name_key(name))];
                if eq_lower(name, lower) { kind } else { HeaderKind::Other }
            }
        }
    };
}

/// The multiplier of [`slot`], found by trying odd numbers until the known names'
/// keys fell into distinct slots (the build checks it, see [`SLOTS`]).
const SLOT_MUL: u32 = 0x50c5_9c71;

/// The slot of a name key: the top byte of a multiplicative hash.
#[inline]
const fn slot(key: u32) -> usize {
    (key.wrapping_mul(SLOT_MUL) >> 24) as usize
}

/// The known name whose key hashes to each slot, with its lower-case spelling; an empty
/// slot holds `Other` and an empty name, which no name of two bytes or more equals. A
/// lookup here replaces the binary search a `match` over the 58 keys compiled to.
const SLOTS: [(HeaderKind, &[u8]); 256] = {
    let mut t: [(HeaderKind, &[u8]); 256] = [(HeaderKind::Other, b""); 256];
    let mut i = 0;
    while i < HeaderKind::NAMED.len() {
        let kind = HeaderKind::NAMED[i];
        let s = slot(name_key(kind.lower()));
        assert!(
            t[s].1.is_empty(),
            "two header names share a slot: change SLOT_MUL"
        );
        t[s] = (kind, kind.lower());
        i += 1;
    }
    t
};

header_kinds! {
    Accept => "Accept", b"accept", "Accept (RFC 3261 §20.1).";
    AcceptContact => "Accept-Contact", b"accept-contact", "Accept-Contact (RFC 3841), compact `a`.";
    AcceptEncoding => "Accept-Encoding", b"accept-encoding", "Accept-Encoding (RFC 3261 §20.2).";
    AcceptLanguage => "Accept-Language", b"accept-language", "Accept-Language (RFC 3261 §20.3).";
    AlertInfo => "Alert-Info", b"alert-info", "Alert-Info (RFC 3261 §20.4).";
    Allow => "Allow", b"allow", "Allow (RFC 3261 §20.5).";
    AllowEvents => "Allow-Events", b"allow-events", "Allow-Events (RFC 6665), compact `u`.";
    AuthenticationInfo => "Authentication-Info", b"authentication-info", "Authentication-Info (RFC 3261 §20.6).";
    Authorization => "Authorization", b"authorization", "Authorization (RFC 3261 §20.7).";
    CallId => "Call-ID", b"call-id", "Call-ID (RFC 3261 §20.8), compact `i`.";
    CallInfo => "Call-Info", b"call-info", "Call-Info (RFC 3261 §20.9).";
    Contact => "Contact", b"contact", "Contact (RFC 3261 §20.10), compact `m`.";
    ContentDisposition => "Content-Disposition", b"content-disposition", "Content-Disposition (RFC 3261 §20.11).";
    ContentEncoding => "Content-Encoding", b"content-encoding", "Content-Encoding (RFC 3261 §20.12), compact `e`.";
    ContentLanguage => "Content-Language", b"content-language", "Content-Language (RFC 3261 §20.13).";
    ContentLength => "Content-Length", b"content-length", "Content-Length (RFC 3261 §20.14), compact `l`.";
    ContentType => "Content-Type", b"content-type", "Content-Type (RFC 3261 §20.15), compact `c`.";
    CSeq => "CSeq", b"cseq", "CSeq (RFC 3261 §20.16).";
    Date => "Date", b"date", "Date (RFC 3261 §20.17).";
    ErrorInfo => "Error-Info", b"error-info", "Error-Info (RFC 3261 §20.18).";
    Event => "Event", b"event", "Event (RFC 6665), compact `o`.";
    Expires => "Expires", b"expires", "Expires (RFC 3261 §20.19).";
    From => "From", b"from", "From (RFC 3261 §20.20), compact `f`.";
    Identity => "Identity", b"identity", "Identity (RFC 8224), compact `y`.";
    IdentityInfo => "Identity-Info", b"identity-info", "Identity-Info (RFC 4474), compact `n`.";
    InReplyTo => "In-Reply-To", b"in-reply-to", "In-Reply-To (RFC 3261 §20.21).";
    MaxForwards => "Max-Forwards", b"max-forwards", "Max-Forwards (RFC 3261 §20.22).";
    MimeVersion => "MIME-Version", b"mime-version", "MIME-Version (RFC 3261 §20.24).";
    MinExpires => "Min-Expires", b"min-expires", "Min-Expires (RFC 3261 §20.23).";
    MinSe => "Min-SE", b"min-se", "Min-SE (RFC 4028 §5).";
    Organization => "Organization", b"organization", "Organization (RFC 3261 §20.25).";
    Priority => "Priority", b"priority", "Priority (RFC 3261 §20.26).";
    ProxyAuthenticate => "Proxy-Authenticate", b"proxy-authenticate", "Proxy-Authenticate (RFC 3261 §20.27).";
    ProxyAuthorization => "Proxy-Authorization", b"proxy-authorization", "Proxy-Authorization (RFC 3261 §20.28).";
    ProxyRequire => "Proxy-Require", b"proxy-require", "Proxy-Require (RFC 3261 §20.29).";
    RAck => "RAck", b"rack", "RAck (RFC 3262).";
    RecordRoute => "Record-Route", b"record-route", "Record-Route (RFC 3261 §20.30).";
    ReferTo => "Refer-To", b"refer-to", "Refer-To (RFC 3515), compact `r`.";
    ReferredBy => "Referred-By", b"referred-by", "Referred-By (RFC 3892), compact `b`.";
    RejectContact => "Reject-Contact", b"reject-contact", "Reject-Contact (RFC 3841), compact `j`.";
    ReplyTo => "Reply-To", b"reply-to", "Reply-To (RFC 3261 §20.31).";
    RequestDisposition => "Request-Disposition", b"request-disposition", "Request-Disposition (RFC 3841), compact `d`.";
    Require => "Require", b"require", "Require (RFC 3261 §20.32).";
    RetryAfter => "Retry-After", b"retry-after", "Retry-After (RFC 3261 §20.33).";
    Route => "Route", b"route", "Route (RFC 3261 §20.34).";
    RSeq => "RSeq", b"rseq", "RSeq (RFC 3262).";
    Server => "Server", b"server", "Server (RFC 3261 §20.35).";
    SessionExpires => "Session-Expires", b"session-expires", "Session-Expires (RFC 4028), compact `x`.";
    Subject => "Subject", b"subject", "Subject (RFC 3261 §20.36), compact `s`.";
    SubscriptionState => "Subscription-State", b"subscription-state", "Subscription-State (RFC 6665).";
    Supported => "Supported", b"supported", "Supported (RFC 3261 §20.37), compact `k`.";
    Timestamp => "Timestamp", b"timestamp", "Timestamp (RFC 3261 §20.38).";
    To => "To", b"to", "To (RFC 3261 §20.39), compact `t`.";
    Unsupported => "Unsupported", b"unsupported", "Unsupported (RFC 3261 §20.40).";
    UserAgent => "User-Agent", b"user-agent", "User-Agent (RFC 3261 §20.41).";
    Via => "Via", b"via", "Via (RFC 3261 §20.42), compact `v`.";
    Warning => "Warning", b"warning", "Warning (RFC 3261 §20.43).";
    WwwAuthenticate => "WWW-Authenticate", b"www-authenticate", "WWW-Authenticate (RFC 3261 §20.44).";
}

/// `name == lower` ignoring ASCII case, where `lower` holds only lower-case letters
/// and `-` (every known header name does). Branch-free so it vectorises: a letter
/// matches with bit 0x20 forced on (which folds exactly its two cases together), a
/// `-` must match exactly.
///
/// Names of four bytes or more are compared a word at a time (overlapping words cover
/// the tail): the bit arithmetic never carries from one byte into the next.
fn eq_lower(name: &[u8], lower: &[u8]) -> bool {
    let n = name.len();
    if n != lower.len() {
        return false;
    }
    if n >= 8 {
        let word = |s: &[u8], at: usize| {
            let mut w = [0u8; 8];
            w.copy_from_slice(&s[at..at + 8]);
            u64::from_le_bytes(w)
        };
        let diff = |at: usize| {
            let (b, l) = (word(name, at), word(lower, at));
            (b | ((l & 0x4040_4040_4040_4040) >> 1)) ^ l
        };
        // Known names have at most 19 bytes: two words, or three.
        let mut acc = diff(0) | diff(n - 8);
        let mut at = 8;
        while at + 8 < n {
            acc |= diff(at);
            at += 8;
        }
        acc == 0
    } else if n >= 4 {
        let word = |s: &[u8], at: usize| {
            let mut w = [0u8; 4];
            w.copy_from_slice(&s[at..at + 4]);
            u32::from_le_bytes(w)
        };
        let diff = |at: usize| {
            let (b, l) = (word(name, at), word(lower, at));
            (b | ((l & 0x4040_4040) >> 1)) ^ l
        };
        diff(0) | diff(n - 4) == 0
    } else {
        name.iter()
            .zip(lower)
            .fold(0u8, |diff, (&b, &l)| diff | ((b | ((l & 0x40) >> 1)) ^ l))
            == 0
    }
}

/// A known name of at most 15 bytes, or a compact form, followed by its colon, as
/// [`HeaderKind::from_colon_words`] compares it: lower case, as two little-endian words
/// zero past the colon. The colon makes the length part of the comparison.
#[derive(Clone, Copy)]
struct Short {
    lower: [u64; 2],
    /// [`fold`] of `lower`, computed once: 0x20 on each letter.
    fold: [u64; 2],
}

/// 0x20 in every byte: `| LOWER` lower-cases the letters of a word (see [`name_key`]).
const LOWER: u64 = 0x2020_2020_2020_2020;

/// The multiplier of [`short_slot`], found by trying multipliers until the short names'
/// keys fell into distinct slots (the build checks it, see [`SHORT`]).
const SHORT_MUL: u64 = 0x0dc3_a8d6_9048_3c6d;

/// The slot of a name and its colon given as in [`HeaderKind::from_colon_words`]: the
/// top byte of a multiplicative hash of both words, letters folded to one case (the
/// second word's to upper case, so that a short name's, 0, stays 0).
#[inline(always)]
const fn short_slot(w0: u64, w1: u64) -> usize {
    (((w0 | LOWER) ^ (w1 & !LOWER).rotate_left(29)).wrapping_mul(SHORT_MUL) >> 56) as usize
}

/// The words of `lower` followed by a colon, zero past it.
const fn colon_words(lower: &[u8]) -> [u64; 2] {
    let mut words = [0u64; 2];
    let mut j = 0;
    while j <= lower.len() {
        let b = if j < lower.len() { lower[j] } else { b':' };
        words[j / 8] |= (b as u64) << (8 * (j % 8));
        j += 1;
    }
    words
}

/// Every compact form and every known name of at most 15 bytes (49 of the 58), with
/// its colon, in the slot its words hash to: one table, no index into another. An
/// empty slot holds zeros, which no name with its colon equals.
const SHORT: [Short; 256] = {
    let none = Short {
        lower: [0; 2],
        fold: [0; 2],
    };
    let mut t = [none; 256];
    let mut i = 0;
    while i < SHORT_KINDS.len() {
        let kind = SHORT_KINDS[i];
        if !matches!(kind, HeaderKind::Other) {
            let lower = short_words(i, kind);
            let s = short_slot(lower[0], lower[1]);
            assert!(
                t[s].lower[0] == 0,
                "two short names share a slot: change SHORT_MUL"
            );
            t[s] = Short {
                lower,
                fold: [fold(lower[0]), fold(lower[1])],
            };
        }
        i += 1;
    }
    t
};

/// The kinds [`SHORT`] holds, in no particular order: the compact forms (`Other` for a
/// letter that is none), then the named kinds (`Other` for a name too long).
const SHORT_KINDS: [HeaderKind; 26 + HeaderKind::NAMED.len()] = {
    let mut t = [HeaderKind::Other; 26 + HeaderKind::NAMED.len()];
    let mut c = 0;
    while c < 26 {
        t[c] = HeaderKind::from_compact(b'a' + c as u8);
        c += 1;
    }
    let mut i = 0;
    while i < HeaderKind::NAMED.len() {
        let kind = HeaderKind::NAMED[i];
        if kind.lower().len() <= 15 {
            t[26 + i] = kind;
        }
        i += 1;
    }
    t
};

/// The words of entry `i` of [`SHORT_KINDS`] with its colon: its letter, or its full
/// name.
const fn short_words(i: usize, kind: HeaderKind) -> [u64; 2] {
    if i < 26 {
        [(b'a' + i as u8) as u64 | (b':' as u64) << 8, 0]
    } else {
        colon_words(kind.lower())
    }
}

/// The kind of each slot of [`SHORT`] (`Other` for an empty one).
const SHORT_KIND: [HeaderKind; 256] = {
    let mut t = [HeaderKind::Other; 256];
    let mut i = 0;
    while i < SHORT_KINDS.len() {
        let kind = SHORT_KINDS[i];
        if !matches!(kind, HeaderKind::Other) {
            let lower = short_words(i, kind);
            t[short_slot(lower[0], lower[1])] = kind;
        }
        i += 1;
    }
    t
};

/// What [`eq_lower`] ORs into a word of a name before comparing it with `lower`, a word
/// of a known one: bit 0x20 on the bytes that are letters, so that both cases match.
const fn fold(lower: u64) -> u64 {
    (lower & 0x4040_4040_4040_4040) >> 1
}

impl HeaderKind {
    /// [`HeaderKind::from_name`] of the name before the first colon of a header line's
    /// first 16 bytes, given as their little-endian words `w0` (bytes 0..8) and `w1`
    /// (8..16) with every byte past the colon zero and the colon kept: for the parser,
    /// which has the words in hand. One hash and one comparison of two words, as
    /// [`eq_lower`] does (with the fold precomputed); the colon in both sides makes
    /// names of other lengths, and names with NUL bytes that would read as the zero
    /// padding, differ. `None` for any other name (an empty one too: a colon first),
    /// never `Some(Other)`.
    #[inline(always)]
    pub(crate) fn from_colon_words(w0: u64, w1: u64) -> Option<HeaderKind> {
        let slot = short_slot(w0, w1);
        let e = &SHORT[slot];
        (((w0 | e.fold[0]) ^ e.lower[0]) | ((w1 | e.fold[1]) ^ e.lower[1]) == 0)
            .then(|| SHORT_KIND[slot])
    }

    /// [`HeaderKind::from_colon_words`] of a colon among the first 8 bytes (`w1` 0): an
    /// entry that matches the first word then has a second word of 0 too, as only an
    /// entry with its colon in the same place can match the first word.
    #[inline(always)]
    pub(crate) fn from_colon_word(w0: u64) -> Option<HeaderKind> {
        let slot = short_slot(w0, 0);
        let e = &SHORT[slot];
        (w0 | e.fold[0] == e.lower[0]).then(|| SHORT_KIND[slot])
    }

    /// Compact forms of RFC 3261 §7.3.3 and the extension RFCs (IANA SIP header
    /// registry), given the lower-cased letter.
    const fn from_compact(c: u8) -> HeaderKind {
        match c {
            b'a' => HeaderKind::AcceptContact,
            b'b' => HeaderKind::ReferredBy,
            b'c' => HeaderKind::ContentType,
            b'd' => HeaderKind::RequestDisposition,
            b'e' => HeaderKind::ContentEncoding,
            b'f' => HeaderKind::From,
            b'i' => HeaderKind::CallId,
            b'j' => HeaderKind::RejectContact,
            b'k' => HeaderKind::Supported,
            b'l' => HeaderKind::ContentLength,
            b'm' => HeaderKind::Contact,
            b'n' => HeaderKind::IdentityInfo,
            b'o' => HeaderKind::Event,
            b'r' => HeaderKind::ReferTo,
            b's' => HeaderKind::Subject,
            b't' => HeaderKind::To,
            b'u' => HeaderKind::AllowEvents,
            b'v' => HeaderKind::Via,
            b'x' => HeaderKind::SessionExpires,
            b'y' => HeaderKind::Identity,
            _ => HeaderKind::Other,
        }
    }
}

impl fmt::Display for HeaderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One header line of a [`Message`](super::Message): its name as received, the kind
/// that name denotes, and the raw value (leading and trailing LWS removed; line folds
/// kept in place, see [`lex`](super::lex)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header<'a> {
    /// The kind (compact forms folded).
    pub kind: HeaderKind,
    /// The name exactly as received.
    pub name: &'a str,
    /// The value, without the surrounding LWS.
    pub value: &'a [u8],
    /// Byte offset of the value in the message.
    pub offset: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_compact_forms() {
        assert_eq!(HeaderKind::from_name(b"v"), HeaderKind::Via);
        assert_eq!(HeaderKind::from_name(b"V"), HeaderKind::Via);
        assert_eq!(HeaderKind::from_name(b"cAlL-iD"), HeaderKind::CallId);
        assert_eq!(HeaderKind::from_name(b"i"), HeaderKind::CallId);
        assert_eq!(HeaderKind::from_name(b"X-Custom"), HeaderKind::Other);
        assert_eq!(HeaderKind::from_name(b"q"), HeaderKind::Other);
        assert_eq!(HeaderKind::from_name(&[b'a'; 100]), HeaderKind::Other);
        assert_eq!(HeaderKind::WwwAuthenticate.as_str(), "WWW-Authenticate");
        // Case folding applies to letters only: `\r` | 0x20 is `-`, `{` is `[` | 0x20.
        assert_eq!(HeaderKind::from_name(b"Call\rID"), HeaderKind::Other);
        assert_eq!(
            HeaderKind::from_name(b"CONTENT-LENGTH"),
            HeaderKind::ContentLength
        );
        assert_eq!(HeaderKind::from_name(b"Content_Length"), HeaderKind::Other);
        assert_eq!(HeaderKind::from_name(b"Vi\x01"), HeaderKind::Other);
        const { assert!(HeaderKind::COUNT < 255) };
    }

    #[test]
    fn from_name_agrees_with_a_linear_search() {
        let reference = |name: &[u8]| {
            if name.len() == 1 {
                return HeaderKind::from_compact(name[0].to_ascii_lowercase());
            }
            HeaderKind::NAMED
                .iter()
                .copied()
                .find(|k| {
                    name.len() == k.lower().len()
                        && name.iter().zip(k.lower()).all(|(&b, &l)| {
                            b == l || (l.is_ascii_lowercase() && b == l.to_ascii_uppercase())
                        })
                })
                .unwrap_or(HeaderKind::Other)
        };
        // Every known name, in upper case too, with each byte replaced by bytes that
        // keep or break its key, and cut or extended by one byte.
        let mut found = 0;
        for kind in HeaderKind::NAMED {
            let lower = kind.lower();
            let mut name = [0u8; 32];
            for upper in [false, true] {
                for (d, &l) in name.iter_mut().zip(lower) {
                    *d = if upper { l.to_ascii_uppercase() } else { l };
                }
                let n = lower.len();
                for len in [n - 1, n, n + 1] {
                    assert_eq!(HeaderKind::from_name(&name[..len]), reference(&name[..len]));
                }
                for at in 0..n {
                    let keep = name[at];
                    for b in *b"-aAzZ0_\r\x00\xff" {
                        name[at] = b;
                        let got = HeaderKind::from_name(&name[..n]);
                        assert_eq!(got, reference(&name[..n]), "{:?}", &name[..n]);
                        found += usize::from(got != HeaderKind::Other);
                    }
                    name[at] = keep;
                }
            }
        }
        assert!(found > 100, "{found}");
        // Short strings over the letters of the names.
        let alphabet = b"acdeiklnoprstv-";
        for s in crate::message::lex::strings_over(alphabet, 2..=4) {
            let s = &s[..];
            assert_eq!(HeaderKind::from_name(s), reference(s), "{s:?}");
        }
    }

    /// [`HeaderKind::from_colon_words`] (and `from_colon_word`) is
    /// [`HeaderKind::from_name`] on every name of 0 to 15 bytes before its colon: the
    /// known ones and compact forms in any case, with each byte replaced (by bytes that
    /// fold onto a letter, a NUL that reads as padding, a colon, a byte with the high
    /// bit), cut or extended, and short strings over the names' letters.
    #[test]
    fn from_name_words_agrees_with_from_name() {
        let words = |name: &[u8]| {
            let mut b = [0u8; 16];
            b[..name.len()].copy_from_slice(name);
            b[name.len()] = b':';
            let w = |at: usize| {
                let mut w = [0u8; 8];
                w.copy_from_slice(&b[at..at + 8]);
                u64::from_le_bytes(w)
            };
            let got = HeaderKind::from_colon_words(w(0), w(8));
            assert_ne!(got, Some(HeaderKind::Other), "{name:?}");
            let got = got.unwrap_or(HeaderKind::Other);
            if name.len() < 8 {
                let one = HeaderKind::from_colon_word(w(0)).unwrap_or(HeaderKind::Other);
                assert_eq!(one, got, "{name:?}");
            }
            got
        };
        let mut names: std::vec::Vec<std::vec::Vec<u8>> = std::vec::Vec::new();
        for kind in HeaderKind::NAMED {
            for spelling in [kind.as_str().as_bytes(), kind.lower()] {
                let upper = spelling.to_ascii_uppercase();
                for name in [spelling, &upper[..]] {
                    for len in [name.len() - 1, name.len(), name.len() + 1] {
                        let mut n = name.to_vec();
                        n.resize(len, b'x');
                        names.push(n);
                    }
                    for at in 0..name.len() {
                        for b in *b"-aAzZ0_\r\x00\xff@[`{:" {
                            let mut n = name.to_vec();
                            n[at] = b;
                            names.push(n);
                        }
                    }
                }
            }
        }
        names.extend(crate::message::lex::strings_over(b"acdeiklnoprstv-", 1..=4));
        names.extend((0..=255u8).map(|b| std::vec![b]));
        let (mut compared, mut known) = (0, 0);
        names.push(std::vec::Vec::new());
        // The parser masks the name up to its first colon: a name with a colon in it
        // is never looked up whole.
        for name in names.iter().filter(|n| n.len() <= 15 && !n.contains(&b':')) {
            let want = if name.is_empty() {
                HeaderKind::Other
            } else {
                HeaderKind::from_name(name)
            };
            assert_eq!(words(name), want, "{name:?}");
            compared += 1;
            known += usize::from(want != HeaderKind::Other);
        }
        assert!(compared > 50_000 && known > 500, "{compared} {known}");
    }

    #[test]
    fn eq_lower_agrees_with_a_byte_comparison() {
        // Every known name with each byte replaced by every other byte value.
        let reference = |name: &[u8], lower: &[u8]| {
            name.len() == lower.len()
                && name.iter().zip(lower).all(|(&b, &l)| {
                    b == l || (l.is_ascii_lowercase() && b == l.to_ascii_uppercase())
                })
        };
        for kind in HeaderKind::NAMED {
            let lower = kind.lower();
            assert!(eq_lower(lower, lower) && eq_lower(kind.as_str().as_bytes(), lower));
            assert_eq!(HeaderKind::from_name(kind.as_str().as_bytes()), kind);
            let mut name = [0u8; 32];
            name[..lower.len()].copy_from_slice(lower);
            for at in 0..lower.len() {
                for b in 0..=255u8 {
                    name[at] = b;
                    let name = &name[..lower.len()];
                    assert_eq!(eq_lower(name, lower), reference(name, lower), "{name:?}");
                }
                name[at] = lower[at];
            }
            assert!(!eq_lower(&name[..lower.len() - 1], lower));
        }
    }
}
