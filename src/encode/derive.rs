//! Messages RFC 3261 derives from other messages: the response to a request (§8.2.6),
//! the ACK for a non-2xx final response (§17.1.1.3) and CANCEL (§9.1).

use crate::error::{ParseError, ParseErrorKind};
use crate::message::{HeaderKind, Message, Method, StatusCode, lex};

use super::builder::{BuildError, MessageBuilder, Value};

impl<'a> MessageBuilder<'a> {
    /// The response to `request` with `code` (RFC 3261 §8.2.6.2): copies every Via (in
    /// order), From, To, Call-ID and CSeq; adds `;tag=to_tag` to To when it has no tag
    /// (a 100 Trying gets no tag, §8.2.6.2), and copies Timestamp into a 100 (§8.2.6.1).
    ///
    /// ```
    /// use sansip::encode::MessageBuilder;
    /// use sansip::message::{HeaderKind, Message, StatusCode};
    /// let req = Message::parse(b"BYE sip:a@h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\
    ///     From: <sip:b@h>;tag=1\r\nTo: <sip:a@h>\r\nCall-ID: c\r\nCSeq: 2 BYE\r\n\r\n")?;
    /// let resp = MessageBuilder::response_to(&req, StatusCode::OK, "xyz")?;
    /// let mut buf = [0u8; 256];
    /// let n = resp.encode_into(&mut buf)?;
    /// let m = Message::parse(&buf[..n])?;
    /// assert_eq!(m.header(HeaderKind::To).unwrap().value, b"<sip:a@h>;tag=xyz");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn response_to(
        request: &Message<'a>,
        code: StatusCode,
        to_tag: &'a str,
    ) -> Result<Self, BuildError> {
        let mut b = MessageBuilder::response(code);
        b.push_response_headers(request, code, to_tag, None)?;
        Ok(b)
    }

    /// The headers [`response_to`](Self::response_to) gives a response with status
    /// `code`, pushed onto this builder (made by [`response`](Self::response)), when the
    /// caller knows whether the request's To has a tag (`to_has_tag`; the endpoint's
    /// checks parsed it), else `None`. Fills the builder in place: it is some 1800
    /// bytes, and returning it through a `Result` copied it twice.
    pub(crate) fn push_response_headers(
        &mut self,
        request: &Message<'a>,
        code: StatusCode,
        to_tag: &'a str,
        to_has_tag: Option<bool>,
    ) -> Result<(), BuildError> {
        if !request.is_request() {
            return Err(BuildError::NotARequest);
        }
        let b = self;
        let mut vias = 0;
        for (via, _) in request.values_of(HeaderKind::Via) {
            if vias == 0 {
                // The top Via value gets a header line of its own, so that a server can
                // replace it (§18.2.1 `received`/`rport`) with `with_top_via`.
                let (first, rest) = split_first_value(via);
                b.push("Via", Value::Raw(first));
                if !rest.is_empty() {
                    b.push("Via", Value::Raw(rest));
                }
            } else {
                b.push("Via", Value::Raw(via));
            }
            vias += 1;
        }
        if vias == 0 {
            return Err(BuildError::MissingHeader(HeaderKind::Via));
        }
        b.push("From", Value::Raw(required(request, HeaderKind::From)?));
        let to = required(request, HeaderKind::To)?;
        if to_has_tag.unwrap_or_else(|| has_tag(to)) || code == StatusCode::TRYING {
            b.push("To", Value::Raw(to));
        } else {
            b.push("To", Value::Tagged(to, to_tag));
        }
        b.push(
            "Call-ID",
            Value::Raw(required(request, HeaderKind::CallId)?),
        );
        b.push("CSeq", Value::Raw(required(request, HeaderKind::CSeq)?));
        if code == StatusCode::TRYING
            && let Some(ts) = request.header(HeaderKind::Timestamp)
        {
            b.push("Timestamp", Value::Raw(ts.value));
        }
        Ok(())
    }

    /// Replace the value of the first Via header (for a response: the top Via, with the
    /// `received` and `rport` a server adds, RFC 3261 §18.2.1, RFC 3581 §4). No effect if
    /// the first header is not a Via.
    #[must_use]
    pub fn with_top_via(mut self, top_via: &'a str) -> Self {
        self.replace_first("Via", Value::Text(top_via));
        self
    }

    /// The ACK for a non-2xx final `response` to `invite` (RFC 3261 §17.1.1.3):
    /// Request-URI, Call-ID, From and the top Via of the INVITE, To of the response, the
    /// INVITE's CSeq number with method ACK, the INVITE's Route headers, and its
    /// Authorization and Proxy-Authorization values (§22.1: an ACK cannot be challenged,
    /// so it carries the credentials of the INVITE it acknowledges).
    pub fn ack_for(invite: &Message<'a>, response: &Message<'a>) -> Result<Self, BuildError> {
        if response.is_request() {
            return Err(BuildError::NotAResponse);
        }
        let to = required(response, HeaderKind::To)?;
        let mut b = Self::derived(invite, Method::Ack, to)?;
        for h in invite.headers().filter(|h| {
            matches!(
                h.kind,
                HeaderKind::Authorization | HeaderKind::ProxyAuthorization
            )
        }) {
            b.push(h.name, Value::Raw(h.value));
        }
        if b.headers().len() == super::builder::MAX_BUILDER_HEADERS {
            return Err(BuildError::Capacity(crate::Capacity::Headers));
        }
        Ok(b)
    }

    /// The CANCEL for `request` (RFC 3261 §9.1): same Request-URI, Call-ID, From, To,
    /// CSeq number and top Via (same branch) as the request, method CANCEL, and the
    /// request's Route headers.
    pub fn cancel_for(request: &Message<'a>) -> Result<Self, BuildError> {
        let to = required(request, HeaderKind::To)?;
        Self::derived(request, Method::Cancel, to)
    }

    fn derived(
        request: &Message<'a>,
        method: Method<'a>,
        to: &'a [u8],
    ) -> Result<Self, BuildError> {
        let uri = request.request_uri_raw().ok_or(BuildError::NotARequest)?;
        let top_via = top_value(request, HeaderKind::Via)?;
        let cseq = required_header(request, HeaderKind::CSeq)?;
        let number =
            cseq_number(cseq.value).map_err(|e| BuildError::Malformed(e.shifted(cseq.offset)))?;
        let mut b = MessageBuilder::request_raw(method, uri);
        b.push("Via", Value::Raw(top_via));
        b.push("Max-Forwards", Value::Number(70));
        b.push("From", Value::Raw(required(request, HeaderKind::From)?));
        b.push("To", Value::Raw(to));
        b.push(
            "Call-ID",
            Value::Raw(required(request, HeaderKind::CallId)?),
        );
        b.push("CSeq", Value::CSeq(number, method));
        for route in request.headers_of(HeaderKind::Route) {
            b.push("Route", Value::Raw(route.value));
        }
        if b.headers().len() == super::builder::MAX_BUILDER_HEADERS {
            return Err(BuildError::Capacity(crate::Capacity::Headers));
        }
        Ok(b)
    }
}

fn required_header<'a>(
    m: &Message<'a>,
    kind: HeaderKind,
) -> Result<crate::message::Header<'a>, BuildError> {
    m.header(kind).ok_or(BuildError::MissingHeader(kind))
}

fn required<'a>(m: &Message<'a>, kind: HeaderKind) -> Result<&'a [u8], BuildError> {
    required_header(m, kind).map(|h| h.value)
}

/// The first comma element of the first header of `kind` (the top Via).
fn top_value<'a>(m: &Message<'a>, kind: HeaderKind) -> Result<&'a [u8], BuildError> {
    let h = required_header(m, kind)?;
    match lex::CommaSeparated::new(h.value).next() {
        Some(Ok((_, v))) if !v.is_empty() => Ok(v),
        Some(Err(e)) => Err(BuildError::Malformed(e.shifted(h.offset))),
        _ => Err(BuildError::Malformed(ParseError::new(
            ParseErrorKind::Via,
            h.offset,
        ))),
    }
}

/// The first comma element of a header value and what follows its comma.
fn split_first_value(value: &[u8]) -> (&[u8], &[u8]) {
    let mut items = lex::CommaSeparated::new(value);
    match items.next() {
        Some(Ok((off, first))) => {
            let end = off + first.len();
            let rest = value[end..]
                .iter()
                .position(|&b| b == b',')
                .map_or(&[][..], |c| &value[end + c + 1..]);
            (first, lex::trim(rest).1)
        }
        _ => (value, &[]),
    }
}

/// The sequence number of a CSeq value (RFC 3261 §20.16).
fn cseq_number(value: &[u8]) -> Result<u32, ParseError> {
    let end = value
        .iter()
        .position(|&b| !b.is_ascii_digit())
        .unwrap_or(value.len());
    lex::parse_u32(&value[..end], 0).map_err(|e| ParseError::new(ParseErrorKind::CSeq, e.offset))
}

/// Whether a From/To value carries a `tag` header parameter. Header parameters follow
/// the `>` of a name-addr, or the URI of a bare addr-spec (RFC 3261 §20.10). A quoted
/// display name may hold `<`, `>` or `;`, and so may a quoted parameter value after the
/// name-addr (§25.1): the name-addr ends at the first `>` after its unquoted `<`.
pub(crate) fn has_tag(value: &[u8]) -> bool {
    let mut params_from = value.len();
    let mut quoted = false;
    let mut i = 0;
    while i < value.len() {
        match value[i] {
            b'\\' if quoted => i += 1,
            b'"' => quoted = !quoted,
            b'<' if !quoted => {
                params_from = value[i..]
                    .iter()
                    .position(|&b| b == b'>')
                    .map_or(value.len(), |gt| i + gt + 1);
                break;
            }
            b';' if !quoted => {
                params_from = i;
                break;
            }
            _ => {}
        }
        i += 1;
    }
    lex::Params::new(&value[params_from..], 0)
        .find("tag")
        .is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags() {
        assert!(has_tag(b"<sip:a@b>;tag=1"));
        assert!(has_tag(b"sip:a@b;TAG=1"));
        assert!(!has_tag(b"<sip:a@b;tag=1>"));
        assert!(!has_tag(b"\"x>\" <sip:a@b>"));
    }

    /// RFC 3261 §25.1: a generic-param value may be a quoted-string, which may hold `>`;
    /// the header's tag before it is still its tag (§8.2.6.2, §12.2.2).
    #[test]
    fn a_quoted_param_after_the_name_addr_hides_no_tag() {
        assert!(has_tag(b"<sip:a@b>;tag=1;x=\"p>q\""));
        assert!(has_tag(b"\"B\" <sip:a@b>;x=\"p>q\";tag=1"));
        assert!(!has_tag(b"<sip:a@b>;x=\"p>q;tag=1\""));
    }
}
