//! Typed access to the headers of a [`Message`]: each accessor finds the header in the
//! index and parses its value on the spot, reporting errors at their offset in the
//! message. Nothing is cached, so a view costs nothing until it is asked for.

use crate::error::{ParseError, ParseErrorKind};

use super::{
    CSeq, CallId, ContactValue, ContentLength, ContentType, Expires, HeaderKind, MaxForwards,
    Message, MinSe, NameAddr, RAck, RSeq, SessionExpires, TokenList, Uri, Via, lex,
};

/// Iterator over every value of a comma-separated header, across all its header lines
/// (RFC 3261 §7.3.1: `Via: a, b` and two `Via` lines are the same list). Yields each
/// value parsed, or the error at its offset in the message; an empty element is an error.
pub struct CommaValues<'m, 'a, T> {
    message: &'m Message<'a>,
    kind: HeaderKind,
    next_index: usize,
    current: Option<(usize, lex::CommaSeparated<'a>)>,
    parse: Parser<'a, T>,
}

/// How [`CommaValues`] parses an element: from its bytes, or (`Whole`, the crate's own
/// views) from its bytes and the same bytes as `&str` when the message has them (see
/// [`Message::text_at`]), which spares the view a UTF-8 pass. `Whole` first tries a fast
/// path on each whole header value (trimmed): a value it answers for is one element,
/// parsed as the element parser parses it, so the splitter need not scan it (see
/// [`Via::parse_plain_whole`]).
#[derive(Clone, Copy)]
enum Parser<'a, T> {
    Bytes(fn(&'a [u8]) -> Result<T, ParseError>),
    Whole(
        fn(&'a [u8], Option<&'a str>) -> Option<T>,
        fn(&'a [u8], Option<&'a str>) -> Result<T, ParseError>,
    ),
}

impl<'a, T> Iterator for CommaValues<'_, 'a, T> {
    type Item = Result<T, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some((base, items)) = &mut self.current {
                match items.next() {
                    Some(Ok((off, item))) => {
                        let at = *base + off;
                        if item.is_empty() {
                            return Some(Err(ParseError::new(ParseErrorKind::Header, at)));
                        }
                        let parsed = match self.parse {
                            Parser::Bytes(parse) => parse(item),
                            Parser::Whole(_, parse) => {
                                parse(item, self.message.text_at(at, item.len()))
                            }
                        };
                        return Some(parsed.map_err(|e| e.shifted(at)));
                    }
                    Some(Err(e)) => return Some(Err(e.shifted(*base))),
                    None => self.current = None,
                }
            }
            let (value, offset) = self.message.nth_of(self.kind, &mut self.next_index)?;
            if let Parser::Whole(plain, _) = self.parse {
                // As the splitter reads it: an empty value holds no element, else the
                // first is trimmed.
                let (off, item) = lex::trim(value);
                if item.is_empty() {
                    continue;
                }
                let at = offset + off;
                if let Some(parsed) = plain(item, self.message.text_at(at, item.len())) {
                    return Some(Ok(parsed));
                }
            }
            self.current = Some((offset, lex::CommaSeparated::new(value)));
        }
    }
}

impl<'a> Message<'a> {
    /// Every Via value, top first (RFC 3261 §20.42).
    pub fn vias(&self) -> CommaValues<'_, 'a, Via<'a>> {
        self.comma_values_whole(HeaderKind::Via, Via::parse_plain_whole, Via::parse_text)
    }

    /// The topmost Via value (RFC 3261 §8.2.6.2, §17.1.3, §17.2.3).
    pub fn top_via(&self) -> Result<Via<'a>, ParseError> {
        self.vias().next().unwrap_or(Err(self.missing()))
    }

    /// The Request-URI, parsed (RFC 3261 §19.1); `None` for a response.
    pub fn request_uri(&self) -> Option<Result<Uri<'a>, ParseError>> {
        let raw = self.request_uri_raw()?;
        // The error is rewritten where it lies, and its offset found only then: the
        // URI parsed is not copied into a second result.
        let mut uri = Uri::parse_text(raw, self.text_of(raw));
        if let Err(e) = &mut uri {
            *e = ParseError::new(ParseErrorKind::RequestUri, e.offset)
                .shifted(self.request_uri_offset());
        }
        Some(uri)
    }

    /// The scheme of the Request-URI as [`Message::request_uri`] gives it, or its error.
    /// The commonest Request-URI, `sip:user@host[:port]`, is only scanned: the check of
    /// every request needs no more, and no `Uri` is built and returned for it.
    pub(crate) fn request_uri_scheme(&self) -> Option<Result<&'a str, ParseError>> {
        let raw = self.request_uri_raw()?;
        if crate::message::uri::is_plain_sip(raw) {
            return Some(Ok("sip"));
        }
        Some(self.request_uri()?.map(|uri| uri.scheme()))
    }

    /// The From value (RFC 3261 §20.20).
    pub fn from(&self) -> Result<NameAddr<'a>, ParseError> {
        self.single_text(HeaderKind::From, NameAddr::parse_text)
    }

    /// The To value (RFC 3261 §20.39).
    pub fn to(&self) -> Result<NameAddr<'a>, ParseError> {
        self.single_text(HeaderKind::To, NameAddr::parse_text)
    }

    /// Every Contact value, `*` included (RFC 3261 §20.10).
    pub fn contacts(&self) -> CommaValues<'_, 'a, ContactValue<'a>> {
        self.comma_values_whole(
            HeaderKind::Contact,
            ContactValue::parse_plain_whole,
            ContactValue::parse_text,
        )
    }

    /// Every Route value, in order (RFC 3261 §20.34).
    pub fn routes(&self) -> CommaValues<'_, 'a, NameAddr<'a>> {
        self.comma_values_whole(
            HeaderKind::Route,
            NameAddr::parse_plain_whole,
            NameAddr::parse_text,
        )
    }

    /// Every Record-Route value, in order (RFC 3261 §20.30).
    pub fn record_routes(&self) -> CommaValues<'_, 'a, NameAddr<'a>> {
        self.comma_values_whole(
            HeaderKind::RecordRoute,
            NameAddr::parse_plain_whole,
            NameAddr::parse_text,
        )
    }

    /// The CSeq (RFC 3261 §20.16).
    pub fn cseq(&self) -> Result<CSeq<'a>, ParseError> {
        self.single(HeaderKind::CSeq, CSeq::parse)
    }

    /// The Call-ID (RFC 3261 §20.8).
    pub fn call_id(&self) -> Result<CallId<'a>, ParseError> {
        self.single_text(HeaderKind::CallId, CallId::parse_text)
    }

    /// Max-Forwards, if present (RFC 3261 §20.22).
    pub fn max_forwards(&self) -> Option<Result<MaxForwards, ParseError>> {
        self.optional(HeaderKind::MaxForwards, MaxForwards::parse)
    }

    /// Content-Length, if present (RFC 3261 §20.14).
    pub fn content_length(&self) -> Option<Result<ContentLength, ParseError>> {
        self.optional(HeaderKind::ContentLength, ContentLength::parse)
    }

    /// Content-Type, if present (RFC 3261 §20.15).
    pub fn content_type(&self) -> Option<Result<ContentType<'a>, ParseError>> {
        self.optional(HeaderKind::ContentType, ContentType::parse)
    }

    /// RSeq, if present: the number of a reliable provisional response (RFC 3262 §7.1).
    pub fn rseq(&self) -> Option<Result<RSeq, ParseError>> {
        self.optional(HeaderKind::RSeq, RSeq::parse)
    }

    /// RAck, if present: what a PRACK acknowledges (RFC 3262 §7.2).
    pub fn rack(&self) -> Option<Result<RAck<'a>, ParseError>> {
        self.optional(HeaderKind::RAck, RAck::parse)
    }

    /// Expires, if present (RFC 3261 §20.19).
    pub fn expires(&self) -> Option<Result<Expires, ParseError>> {
        self.optional(HeaderKind::Expires, Expires::parse)
    }

    /// Session-Expires (compact `x`), if present: the session interval and who refreshes
    /// (RFC 4028 §4).
    pub fn session_expires(&self) -> Option<Result<SessionExpires<'a>, ParseError>> {
        self.optional(HeaderKind::SessionExpires, SessionExpires::parse)
    }

    /// Min-SE, if present: the smallest session interval accepted (RFC 4028 §5).
    pub fn min_se(&self) -> Option<Result<MinSe<'a>, ParseError>> {
        self.optional(HeaderKind::MinSe, MinSe::parse)
    }

    /// Every option tag or token of every header of `kind` (Require, Supported,
    /// Proxy-Require, Unsupported, Allow, ...), with errors at their message offset.
    pub fn tokens(
        &self,
        kind: HeaderKind,
    ) -> impl Iterator<Item = Result<&'a str, ParseError>> + '_ {
        self.headers_of(kind)
            .flat_map(|h| TokenList::new(h.value).map(move |r| r.map_err(|e| e.shifted(h.offset))))
    }

    /// Values of every header of `kind`, comma lists split, each parsed with `parse`.
    /// This is how the typed list accessors are built; use it for extension headers.
    pub fn comma_values<T>(
        &self,
        kind: HeaderKind,
        parse: fn(&'a [u8]) -> Result<T, ParseError>,
    ) -> CommaValues<'_, 'a, T> {
        CommaValues {
            message: self,
            kind,
            next_index: 0,
            current: None,
            parse: Parser::Bytes(parse),
        }
    }

    /// [`Message::comma_values`] for a view that takes its element as `&str` too, with
    /// a fast path for whole values (see [`Parser`]).
    fn comma_values_whole<T>(
        &self,
        kind: HeaderKind,
        plain: fn(&'a [u8], Option<&'a str>) -> Option<T>,
        parse: fn(&'a [u8], Option<&'a str>) -> Result<T, ParseError>,
    ) -> CommaValues<'_, 'a, T> {
        CommaValues {
            message: self,
            kind,
            next_index: 0,
            current: None,
            parse: Parser::Whole(plain, parse),
        }
    }

    /// The only element of the list of `kind` when the message has one header of that
    /// kind and `plain` (a whole value fast path, see [`Parser`]) answers for its value,
    /// trimmed: then the list iterator built with `plain` yields exactly that element
    /// (it reads the same value the same way, and finds no further header). `None`
    /// otherwise, and the caller reads the list with the iterator. The checks read the
    /// top Via and the first Contact so, without the iterator's set-up and its pass
    /// over the index for a header that is not there.
    #[inline(always)]
    pub(crate) fn sole_plain<T>(
        &self,
        kind: HeaderKind,
        plain: fn(&'a [u8], Option<&'a str>) -> Option<T>,
    ) -> Option<T> {
        if self.is_repeated(kind) {
            return None;
        }
        let (value, offset) = self.value_of(kind)?;
        let (off, item) = lex::trim(value);
        if item.is_empty() {
            return None;
        }
        plain(item, self.text_at(offset + off, item.len()))
    }

    /// [`Message::sole_plain`] for the top Via, written into `out`: whether it was.
    pub(crate) fn sole_plain_via_into(&self, out: &mut Via<'a>) -> bool {
        if self.is_repeated(HeaderKind::Via) {
            return false;
        }
        let Some((value, offset)) = self.value_of(HeaderKind::Via) else {
            return false;
        };
        let (off, item) = lex::trim(value);
        !item.is_empty() && out.parse_plain_whole_into(item, self.text_at(offset + off, item.len()))
    }

    /// [`Message::from`] (`to`: [`Message::to`]) written into `out` (left as it was on
    /// an error).
    pub(crate) fn name_addr_into(
        &self,
        to: bool,
        out: &mut NameAddr<'a>,
    ) -> Result<(), ParseError> {
        let kind = if to { HeaderKind::To } else { HeaderKind::From };
        let (value, offset) = self.value_of(kind).ok_or(self.missing())?;
        out.parse_text_into(value, self.text_at(offset, value.len()))
            .map_err(|e| e.shifted(offset))
    }

    /// [`Message::single`] for a view that takes its value as `&str` too.
    #[inline(always)]
    fn single_text<T>(
        &self,
        kind: HeaderKind,
        parse: fn(&'a [u8], Option<&'a str>) -> Result<T, ParseError>,
    ) -> Result<T, ParseError> {
        let (value, offset) = self.value_of(kind).ok_or(self.missing())?;
        parse(value, self.text_at(offset, value.len())).map_err(|e| e.shifted(offset))
    }

    /// The first header of `kind`, parsed; `MissingHeader` if absent.
    fn single<T>(
        &self,
        kind: HeaderKind,
        parse: fn(&'a [u8]) -> Result<T, ParseError>,
    ) -> Result<T, ParseError> {
        let (value, offset) = self.value_of(kind).ok_or(self.missing())?;
        parse(value).map_err(|e| e.shifted(offset))
    }

    fn optional<T>(
        &self,
        kind: HeaderKind,
        parse: fn(&'a [u8]) -> Result<T, ParseError>,
    ) -> Option<Result<T, ParseError>> {
        let (value, offset) = self.value_of(kind)?;
        Some(parse(value).map_err(|e| e.shifted(offset)))
    }

    fn missing(&self) -> ParseError {
        ParseError::new(ParseErrorKind::MissingHeader, self.body_offset())
    }
}

#[cfg(test)]
mod tests {
    use std::vec::Vec;

    use super::*;

    /// `Message::request_uri` as it was, the error mapped by `map_err`.
    fn request_uri_reference<'a>(m: &Message<'a>) -> Option<Result<Uri<'a>, ParseError>> {
        let raw = m.request_uri_raw()?;
        let at = m.request_uri_offset();
        Some(
            Uri::parse_text(raw, m.text_of(raw))
                .map_err(|e| ParseError::new(ParseErrorKind::RequestUri, e.offset).shifted(at)),
        )
    }

    /// The Request-URI (value, or error kind and offset) is what it was, for every
    /// method length, well formed and malformed URIs, leading CRLFs and responses.
    #[test]
    fn request_uri_agrees_with_the_reference() {
        let limits = crate::message::Limits::default();
        let mut errors = 0;
        for method in ["INVITE", "ACK", "BYE", "OPTIONS", "FOO", "SUBSCRIBE"] {
            for uri in [
                "sip:b@example.com",
                "sips:b@[::1]:5061;transport=tls",
                "sip:b@ex ample.com",
                "sip:b@example.com:99999",
                "sip:%zz@h",
                "tel:+1-555",
                "x:",
                "sip:",
                "sip:b@h;a=\u{e9}",
                "sip:bob@127.0.0.1:5062",
                "sip:alice@127.0.0.1:5060;transport=udp",
                "sip:bob@host.example.com",
                "sip:b@1.2.3.256",
                "sip:b@h:65536",
                "SIP:b@h",
                "sips:b@h",
            ] {
                for lead in ["", "\r\n"] {
                    let text = std::format!(
                        "{lead}{method} {uri} SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\
                         Content-Length: 0\r\n\r\n"
                    );
                    let Ok(m) = Message::parse_with(text.as_bytes(), &limits) else {
                        continue;
                    };
                    let got = m.request_uri();
                    assert_eq!(got, request_uri_reference(&m), "{text}");
                    assert_eq!(
                        m.request_uri_scheme(),
                        got.map(|r| r.map(|uri| uri.scheme())),
                        "{text}"
                    );
                    errors += usize::from(matches!(got, Some(Err(_))));
                }
            }
        }
        assert!(errors > 10, "{errors}");
        let m = Message::parse(b"SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n").unwrap(); // unwrap: well formed
        assert_eq!(m.request_uri(), None);
    }

    /// Every Via, Contact, Route and Record-Route list (values, errors and their
    /// offsets) is what splitting every value and parsing each element gives (a whole
    /// value fast path that never answers), on the corpus and its mutants.
    #[test]
    #[ignore = "needs ../shared/corpus"]
    fn lists_agree_with_the_splitter_on_the_corpus_and_mutants() {
        let limits = crate::message::Limits::default();
        let (mut compared, mut values, mut differ) = (0, 0, 0);
        for bytes in crate::corpus_inputs::inputs() {
            let Ok(msg) = Message::parse_with(&bytes, &limits) else {
                continue;
            };
            let got: Vec<_> = msg.vias().collect();
            let want: Vec<_> = msg
                .comma_values_whole(HeaderKind::Via, |_, _| None, Via::parse_text)
                .collect();
            values += want.len();
            differ += usize::from(got != want);
            let got: Vec<_> = msg.contacts().collect();
            let want: Vec<_> = msg
                .comma_values_whole(HeaderKind::Contact, |_, _| None, ContactValue::parse_text)
                .collect();
            values += want.len();
            differ += usize::from(got != want);
            for (kind, list) in [
                (HeaderKind::Route, msg.routes()),
                (HeaderKind::RecordRoute, msg.record_routes()),
            ] {
                let got: Vec<_> = list.collect();
                let want: Vec<_> = msg
                    .comma_values_whole(kind, |_, _| None, NameAddr::parse_text)
                    .collect();
                values += want.len();
                differ += usize::from(got != want);
            }
            compared += 4;
        }
        let counts = std::format!("{compared} lists ({values} values) compared, {differ} differ");
        assert!(compared > 40_000 && values > 20_000, "{counts}");
        assert_eq!(differ, 0, "{counts}");
    }
}
