//! The Content-Type header value (RFC 3261 §20.15, §25.1 `media-type`).

use super::{check_params, token_at};
use crate::error::{ParseError, ParseErrorKind};
use crate::message::lex::{self, Params, RawParam};

/// A Content-Type value: `m-type SLASH m-subtype *( SEMI m-parameter )`.
///
/// ```
/// use sansip::message::ContentType;
/// let ct = ContentType::parse(b"multipart/mixed ; boundary=\"b 1\"").unwrap();
/// assert!(ct.is("Multipart", "MIXED"));
/// assert_eq!(ct.param("boundary").unwrap().value, Some(&b"\"b 1\""[..]));
/// assert!(ContentType::parse(b"application").is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContentType<'a> {
    media_type: &'a str,
    subtype: &'a str,
    params: &'a [u8],
    params_at: usize,
}

impl<'a> ContentType<'a> {
    /// Parse a Content-Type value (`SLASH` allows LWS around `/`).
    pub fn parse(value: &'a [u8]) -> Result<Self, ParseError> {
        // The Content-Type of nearly every INVITE and its 2xx, whole: one comparison. The
        // type and subtype are the static strings the token reader gives for them.
        if value == b"application/sdp" {
            return Ok(ContentType {
                media_type: "application",
                subtype: "sdp",
                params: &value[15..],
                params_at: 15,
            });
        }
        Self::parse_general(value)
    }

    /// Any Content-Type value (see [`ContentType::parse`]).
    fn parse_general(value: &'a [u8]) -> Result<Self, ParseError> {
        let kind = ParseErrorKind::Header;
        let s = value;
        let (media_type, i) = token_at(s, lex::skip_lws(s, 0), kind)?;
        let i = lex::skip_lws(s, i);
        if s.get(i) != Some(&b'/') {
            return Err(ParseError::new(kind, i));
        }
        let (subtype, end) = token_at(s, lex::skip_lws(s, i + 1), kind)?;
        check_params(s, end, kind, |_| Ok(()))?;
        Ok(ContentType {
            media_type,
            subtype,
            params: s.get(end..).unwrap_or_default(),
            params_at: end,
        })
    }

    /// The type (`application` in `application/sdp`), case as received.
    pub fn media_type(&self) -> &'a str {
        self.media_type
    }

    /// The subtype (`sdp` in `application/sdp`), case as received.
    pub fn subtype(&self) -> &'a str {
        self.subtype
    }

    /// Whether this is `media_type/subtype`, compared case-insensitively (RFC 2045 §5.1).
    pub fn is(&self, media_type: &str, subtype: &str) -> bool {
        self.media_type.eq_ignore_ascii_case(media_type)
            && self.subtype.eq_ignore_ascii_case(subtype)
    }

    /// Every parameter, in order (checked by `parse`: no errors).
    pub fn params(&self) -> Params<'a> {
        Params::new(self.params, self.params_at)
    }

    /// The first parameter named `name` (case-insensitive); a quoted value keeps its
    /// quotes (see [`lex::unquote`]).
    pub fn param(&self, name: &str) -> Option<RawParam<'a>> {
        self.params().find(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `ContentType::parse` gives what the general parser alone gives (the fast path for
    /// `application/sdp` answers for nothing else), on values around that one.
    #[test]
    fn content_type_agrees_with_the_general_parser() {
        let values: [&[u8]; 12] = [
            b"application/sdp",
            b"application/sdp;charset=utf-8",
            b"application/sdp ",
            b" application/sdp",
            b"application / sdp",
            b"Application/SDP",
            b"application/sdpx",
            b"application/sd",
            b"applicatio/sdp",
            b"application/",
            b"text/plain",
            b"",
        ];
        for v in values {
            let got = ContentType::parse(v);
            assert_eq!(got, ContentType::parse_general(v), "{v:?}");
            if let Ok(ct) = got {
                let want = ContentType::parse_general(v).unwrap(); // unwrap: agreed above
                assert_eq!((ct.params, ct.params_at), (want.params, want.params_at));
            }
        }
        // Every one-byte change of the common value.
        let base = *b"application/sdp";
        for at in 0..base.len() {
            for c in *b" ;/=a\t,P" {
                let mut v = base;
                v[at] = c;
                assert_eq!(
                    ContentType::parse(&v),
                    ContentType::parse_general(&v),
                    "{v:?}"
                );
            }
        }
    }

    #[test]
    #[ignore = "needs ../shared/corpus"]
    fn content_type_agrees_with_the_general_parser_on_the_corpus() {
        let limits = crate::message::Limits::default();
        let (mut compared, mut differ) = (0, 0);
        for bytes in crate::corpus_inputs::inputs() {
            let Ok(msg) = crate::message::Message::parse_with(&bytes, &limits) else {
                continue;
            };
            for (value, _) in msg.values_of(crate::message::HeaderKind::ContentType) {
                compared += 1;
                differ +=
                    usize::from(ContentType::parse(value) != ContentType::parse_general(value));
            }
        }
        assert!(compared > 2_000, "{compared}");
        assert_eq!(differ, 0, "{compared} compared");
    }
}
