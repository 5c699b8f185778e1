//! Typed access to the headers of a [`Message`]: each accessor finds the header in the
//! index and parses its value on the spot, reporting errors at their offset in the
//! message. Nothing is cached, so a view costs nothing until it is asked for.

use crate::error::{ParseError, ParseErrorKind};

use super::{
    CSeq, CallId, ContactValue, ContentLength, ContentType, Expires, HeaderKind, MaxForwards,
    Message, NameAddr, RAck, RSeq, TokenList, Uri, Via, lex,
};

/// Iterator over every value of a comma-separated header, across all its header lines
/// (RFC 3261 §7.3.1: `Via: a, b` and two `Via` lines are the same list). Yields each
/// value parsed, or the error at its offset in the message; an empty element is an error.
pub struct CommaValues<'m, 'a, T> {
    message: &'m Message<'a>,
    kind: HeaderKind,
    next_index: usize,
    current: Option<(usize, lex::CommaSeparated<'a>)>,
    parse: fn(&'a [u8]) -> Result<T, ParseError>,
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
                        return Some((self.parse)(item).map_err(|e| e.shifted(at)));
                    }
                    Some(Err(e)) => return Some(Err(e.shifted(*base))),
                    None => self.current = None,
                }
            }
            let (value, offset) = self.message.nth_of(self.kind, &mut self.next_index)?;
            self.current = Some((offset, lex::CommaSeparated::new(value)));
        }
    }
}

impl<'a> Message<'a> {
    /// Every Via value, top first (RFC 3261 §20.42).
    pub fn vias(&self) -> CommaValues<'_, 'a, Via<'a>> {
        self.comma_values(HeaderKind::Via, Via::parse)
    }

    /// The topmost Via value (RFC 3261 §8.2.6.2, §17.1.3, §17.2.3).
    pub fn top_via(&self) -> Result<Via<'a>, ParseError> {
        self.vias().next().unwrap_or(Err(self.missing()))
    }

    /// The Request-URI, parsed (RFC 3261 §19.1); `None` for a response.
    pub fn request_uri(&self) -> Option<Result<Uri<'a>, ParseError>> {
        let raw = self.request_uri_raw()?;
        let at = self.request_uri_offset();
        Some(
            Uri::parse(raw)
                .map_err(|e| ParseError::new(ParseErrorKind::RequestUri, e.offset).shifted(at)),
        )
    }

    /// The From value (RFC 3261 §20.20).
    pub fn from(&self) -> Result<NameAddr<'a>, ParseError> {
        self.single(HeaderKind::From, NameAddr::parse)
    }

    /// The To value (RFC 3261 §20.39).
    pub fn to(&self) -> Result<NameAddr<'a>, ParseError> {
        self.single(HeaderKind::To, NameAddr::parse)
    }

    /// Every Contact value, `*` included (RFC 3261 §20.10).
    pub fn contacts(&self) -> CommaValues<'_, 'a, ContactValue<'a>> {
        self.comma_values(HeaderKind::Contact, ContactValue::parse)
    }

    /// Every Route value, in order (RFC 3261 §20.34).
    pub fn routes(&self) -> CommaValues<'_, 'a, NameAddr<'a>> {
        self.comma_values(HeaderKind::Route, NameAddr::parse)
    }

    /// Every Record-Route value, in order (RFC 3261 §20.30).
    pub fn record_routes(&self) -> CommaValues<'_, 'a, NameAddr<'a>> {
        self.comma_values(HeaderKind::RecordRoute, NameAddr::parse)
    }

    /// The CSeq (RFC 3261 §20.16).
    pub fn cseq(&self) -> Result<CSeq<'a>, ParseError> {
        self.single(HeaderKind::CSeq, CSeq::parse)
    }

    /// The Call-ID (RFC 3261 §20.8).
    pub fn call_id(&self) -> Result<CallId<'a>, ParseError> {
        self.single(HeaderKind::CallId, CallId::parse)
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
            parse,
        }
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
