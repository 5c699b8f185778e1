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
        b.push_response_headers(request, code, to_tag, None, None)?;
        Ok(b)
    }

    /// The headers [`response_to`](Self::response_to) gives a response with status
    /// `code`, pushed onto this builder (made by [`response`](Self::response)), when the
    /// caller knows whether the request's To has a tag (`to_has_tag`; the endpoint's
    /// checks parsed it), else `None`; `top_via_span`, if known, is where the top Via
    /// the checks parsed lies in the first Via value (start, end), which spares that
    /// value a second split. Fills the builder in place: it is some 1800 bytes, and
    /// returning it through a `Result` copied it twice.
    pub(crate) fn push_response_headers(
        &mut self,
        request: &Message<'a>,
        code: StatusCode,
        to_tag: &'a str,
        to_has_tag: Option<bool>,
        top_via_span: Option<(u16, u16)>,
    ) -> Result<(), BuildError> {
        if !request.is_request() {
            return Err(BuildError::NotARequest);
        }
        let b = self;
        // Values copied from a CRLF-framed message need no checking again.
        let copied = crlf_framed(request);
        let mut vias = 0;
        // Nearly every request has one Via line: found by the index, without a walk over
        // the headers after it for more.
        let (mut all, mut single) = if request.is_repeated(HeaderKind::Via) {
            (Some(request.values_of(HeaderKind::Via)), None)
        } else {
            (None, request.value_of(HeaderKind::Via))
        };
        while let Some(via) = match &mut all {
            Some(all) => all.next().map(|(via, _)| via),
            None => single.take().map(|(via, _)| via),
        } {
            if vias == 0 {
                // The top Via value gets a header line of its own, so that a server can
                // replace it (§18.2.1 `received`/`rport`) with `with_top_via`.
                let spanned = top_via_span.and_then(|(start, end)| {
                    let end = usize::from(end);
                    Some((via.get(usize::from(start)..end)?, after_first(via, end)))
                });
                let (first, rest) = spanned.unwrap_or_else(|| split_first_value(via));
                debug_assert_eq!((first, rest), split_first_value(via), "not the top Via");
                b.push_maybe_trusted("Via", Value::Raw(first), copied);
                if !rest.is_empty() {
                    b.push_maybe_trusted("Via", Value::Raw(rest), copied);
                }
            } else {
                b.push_maybe_trusted("Via", Value::Raw(via), copied);
            }
            vias += 1;
        }
        if vias == 0 {
            return Err(BuildError::MissingHeader(HeaderKind::Via));
        }
        let from = required(request, HeaderKind::From)?;
        b.push_maybe_trusted("From", Value::Raw(from), copied);
        let to = required(request, HeaderKind::To)?;
        if to_has_tag.unwrap_or_else(|| has_tag(to)) || code == StatusCode::TRYING {
            b.push_maybe_trusted("To", Value::Raw(to), copied);
        } else {
            // The tag is the caller's: checked unless it is a tag as the parser takes it.
            let tag_ok = !to_tag.is_empty() && lex::all_tag_bytes(to_tag.as_bytes());
            b.push_maybe_trusted("To", Value::Tagged(to, to_tag), copied && tag_ok);
        }
        let call_id = required(request, HeaderKind::CallId)?;
        b.push_maybe_trusted("Call-ID", Value::Raw(call_id), copied);
        let cseq = required(request, HeaderKind::CSeq)?;
        b.push_maybe_trusted("CSeq", Value::Raw(cseq), copied);
        if code == StatusCode::TRYING
            && let Some((ts, _)) = request.value_of(HeaderKind::Timestamp)
        {
            b.push_maybe_trusted("Timestamp", Value::Raw(ts), copied);
        }
        Ok(())
    }

    /// Replace the value of the first Via header (for a response: the top Via, with the
    /// `received` and `rport` a server adds, RFC 3261 §18.2.1, RFC 3581 §4). No effect if
    /// the first header is not a Via.
    #[must_use]
    pub fn with_top_via(mut self, top_via: &'a str) -> Self {
        self.replace_first("Via", Value::Text(top_via), false);
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
        let mut b = Self::derived(invite, Method::Ack, to, crlf_framed(response))?;
        let copied = crlf_framed(invite);
        for h in invite.headers().filter(|h| {
            matches!(
                h.kind,
                HeaderKind::Authorization | HeaderKind::ProxyAuthorization
            )
        }) {
            // The name as the request spelled it: a token, the parser's rule.
            b.push_maybe_trusted(h.name, Value::Raw(h.value), copied);
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
        Self::derived(request, Method::Cancel, to, crlf_framed(request))
    }

    /// `to_copied`: `to` comes from a CRLF-framed message (see [`crlf_framed`]).
    fn derived(
        request: &Message<'a>,
        method: Method<'a>,
        to: &'a [u8],
        to_copied: bool,
    ) -> Result<Self, BuildError> {
        let uri = request.request_uri_raw().ok_or(BuildError::NotARequest)?;
        let top_via = top_value(request, HeaderKind::Via)?;
        let (cseq, offset) = required_value(request, HeaderKind::CSeq)?;
        let number = cseq_number(cseq).map_err(|e| BuildError::Malformed(e.shifted(offset)))?;
        let copied = crlf_framed(request);
        let mut b = MessageBuilder::request_raw(method, uri);
        b.push_maybe_trusted("Via", Value::Raw(top_via), copied);
        b.push_trusted("Max-Forwards", Value::Number(70));
        let from = required(request, HeaderKind::From)?;
        b.push_maybe_trusted("From", Value::Raw(from), copied);
        b.push_maybe_trusted("To", Value::Raw(to), to_copied);
        let call_id = required(request, HeaderKind::CallId)?;
        b.push_maybe_trusted("Call-ID", Value::Raw(call_id), copied);
        // ACK and CANCEL are tokens.
        b.push_trusted("CSeq", Value::CSeq(number, method));
        for (route, _) in request.values_of(HeaderKind::Route) {
            b.push_maybe_trusted("Route", Value::Raw(route), copied);
        }
        if b.headers().len() == super::builder::MAX_BUILDER_HEADERS {
            return Err(BuildError::Capacity(crate::Capacity::Headers));
        }
        Ok(b)
    }
}

/// Whether `m` was framed with CRLF line ends. Its header values then hold a CR or LF
/// only in a line fold (CRLF then SP or HTAB): the parser refuses a bare CR, and a bare
/// LF in a CRLF message. So do the comma elements of a value, trimmed of white space
/// (the framing checks of the writer take exactly these). A bare-LF message's folds are
/// bare LFs, which the writer refuses: its values are checked as a host's are.
pub(crate) fn crlf_framed(m: &Message<'_>) -> bool {
    // The header section ends with the line end of its last line (or of the empty
    // line); a bare-LF message holds no CR in it.
    let head = m.body_offset();
    head >= 2 && m.as_bytes().get(head - 2) == Some(&b'\r')
}

/// The value and offset of the first header of `kind`: the value only, without the
/// name a [`Header`](crate::message::Header) spells out.
fn required_value<'a>(m: &Message<'a>, kind: HeaderKind) -> Result<(&'a [u8], usize), BuildError> {
    m.value_of(kind).ok_or(BuildError::MissingHeader(kind))
}

fn required<'a>(m: &Message<'a>, kind: HeaderKind) -> Result<&'a [u8], BuildError> {
    required_value(m, kind).map(|(value, _)| value)
}

/// The first comma element of the first header of `kind` (the top Via).
fn top_value<'a>(m: &Message<'a>, kind: HeaderKind) -> Result<&'a [u8], BuildError> {
    let (value, offset) = required_value(m, kind)?;
    match lex::CommaSeparated::new(value).next() {
        Some(Ok((_, v))) if !v.is_empty() => Ok(v),
        Some(Err(e)) => Err(BuildError::Malformed(e.shifted(offset))),
        _ => Err(BuildError::Malformed(ParseError::new(
            ParseErrorKind::Via,
            offset,
        ))),
    }
}

/// The first comma element of a header value and what follows its comma.
fn split_first_value(value: &[u8]) -> (&[u8], &[u8]) {
    let mut items = lex::CommaSeparated::new(value);
    match items.next() {
        Some(Ok((off, first))) => (first, after_first(value, off + first.len())),
        _ => (value, &[]),
    }
}

/// What follows the comma after the first element of `value`, which ends at `end`.
fn after_first(value: &[u8], end: usize) -> &[u8] {
    let rest = value[end..]
        .iter()
        .position(|&b| b == b',')
        .map_or(&[][..], |c| &value[end + c + 1..]);
    lex::trim(rest).1
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
    use crate::encode::EncodeError;

    /// What `b` writes, and the same with every header checked (nothing trusted).
    fn written_both_ways(b: &MessageBuilder<'_>) -> [Result<std::vec::Vec<u8>, EncodeError>; 2] {
        let mut checked = b.clone();
        checked.trust_nothing();
        [b, &checked].map(|b| {
            let mut out = std::vec![0u8; 4096];
            b.encode_into(&mut out).map(|n| out[..n].to_vec())
        })
    }

    /// Trust in copied values changes nothing: a bare-LF message's folded value is still
    /// refused, a CRLF one's written.
    #[test]
    fn copied_values_are_trusted_only_from_crlf_messages() {
        let crlf = b"BYE sip:a@h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\
            From: <sip:b@h>;tag=1\r\nTo: <sip:a@h>\r\nCall-ID: c\r\nCSeq: 2\r\n BYE\r\n\r\n";
        let lf = b"BYE sip:a@h SIP/2.0\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\n\
            From: <sip:b@h>;tag=1\nTo: <sip:a@h>\nCall-ID: c\nCSeq: 2\n BYE\n\n";
        for (bytes, framed) in [(&crlf[..], true), (&lf[..], false)] {
            let m = Message::parse(bytes).unwrap(); // unwrap: a valid message
            assert_eq!(crlf_framed(&m), framed);
            let b = MessageBuilder::response_to(&m, StatusCode::OK, "x").unwrap(); // unwrap: it has the headers
            let [trusted, checked] = written_both_ways(&b);
            assert_eq!(trusted, checked);
            // CSeq is header 4: Via, From, To, Call-ID, CSeq.
            assert_eq!(trusted.is_ok(), framed, "{trusted:?}");
            if !framed {
                assert_eq!(trusted, Err(EncodeError::InvalidHeader { index: 4 }));
            }
        }
    }

    /// On the corpus and its mutants, every response, ACK and CANCEL derived from a
    /// message writes the same bytes (or fails the same way) with the copied values
    /// trusted as with every value checked; `push_trusted` also asserts each trusted
    /// value passes the checks.
    #[test]
    #[ignore = "needs ../shared/corpus"]
    fn trusted_copies_write_what_checked_ones_do_on_the_corpus() {
        let (mut compared, mut written, mut differ) = (0, 0, 0);
        let inputs = crate::corpus_inputs::inputs();
        let messages: std::vec::Vec<_> = inputs
            .iter()
            .filter_map(|b| Message::parse(b).ok())
            .collect();
        let mut check = |b: Result<MessageBuilder<'_>, BuildError>| {
            let Ok(b) = b else { return };
            compared += 1;
            let [trusted, checked] = written_both_ways(&b);
            written += usize::from(trusted.is_ok());
            differ += usize::from(trusted != checked);
        };
        for (i, m) in messages.iter().enumerate() {
            if m.is_request() {
                for code in [StatusCode::TRYING, StatusCode::OK] {
                    check(MessageBuilder::response_to(m, code, "t&^1"));
                    check(MessageBuilder::response_to(m, code, "bad tag"));
                }
                check(MessageBuilder::cancel_for(m));
                // Any response of the corpus stands in for the INVITE's.
                if let Some(r) = messages[i..].iter().find(|r| !r.is_request()) {
                    check(MessageBuilder::ack_for(m, r));
                }
            }
        }
        let counts =
            std::format!("{compared} builders compared, {written} written, {differ} differ");
        assert!(compared > 10_000 && written > 5_000, "{counts}");
        assert_eq!(differ, 0, "{counts}");
    }

    /// The Via values a response gets as the walk over every header line gave them
    /// (the top value split off the first line), or `None` without a Via: the
    /// reference for the single-Via shortcut.
    fn vias_reference<'a>(request: &Message<'a>) -> Option<std::vec::Vec<&'a [u8]>> {
        let mut out = std::vec::Vec::new();
        for (i, (via, _)) in request.values_of(HeaderKind::Via).enumerate() {
            if i == 0 {
                let (first, rest) = split_first_value(via);
                out.push(first);
                if !rest.is_empty() {
                    out.push(rest);
                }
            } else {
                out.push(via);
            }
        }
        (!out.is_empty()).then_some(out)
    }

    /// The Via headers of `response_to(request)` and the reference's.
    fn vias_agree(request: &Message<'_>) {
        let got = MessageBuilder::response_to(request, StatusCode::OK, "t").map(|b| {
            b.headers()
                .iter()
                .filter(|(name, _)| *name == "Via")
                .map(|(_, v)| match v {
                    Value::Raw(v) => *v,
                    _ => unreachable!("a copied Via is raw"),
                })
                .collect::<std::vec::Vec<_>>()
        });
        match (vias_reference(request), got) {
            // A builder keeps its first MAX_BUILDER_HEADERS headers (and fails to write).
            (Some(want), Ok(got)) => {
                let kept = want.len().min(super::super::builder::MAX_BUILDER_HEADERS);
                assert_eq!(got, want[..kept]);
            }
            // Another header the response copies is missing or malformed.
            (Some(_), Err(e)) => assert_ne!(e, BuildError::MissingHeader(HeaderKind::Via)),
            (None, got) => assert_eq!(got, Err(BuildError::MissingHeader(HeaderKind::Via))),
        }
    }

    /// No, one and several Via lines, with one or two values each, among other headers.
    #[test]
    fn response_vias_agree_with_the_walk_over_every_line() {
        let lines = [
            "Via: SIP/2.0/UDP a;branch=z9hG4bK1\r\n",
            "v: SIP/2.0/TCP b:5060;branch=z9hG4bK2, SIP/2.0/UDP c\r\n",
            "Via: SIP/2.0/UDP d;received=1.2.3.4\r\n",
        ];
        let mut compared = 0;
        for mask in 0..64u32 {
            // Up to three Via lines, each before or after the From line.
            let mut head = std::string::String::from("INVITE sip:a@h SIP/2.0\r\n");
            let mut tail = std::string::String::new();
            for (k, line) in lines.iter().enumerate() {
                match (mask >> (2 * k)) & 3 {
                    0 => {}
                    1 | 3 => head.push_str(line),
                    _ => tail.push_str(line),
                }
            }
            let text = std::format!(
                "{head}From: <sip:b@h>;tag=1\r\n{tail}To: <sip:a@h>\r\nCall-ID: c\r\n\
                 CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"
            );
            let m = Message::parse(text.as_bytes()).unwrap(); // unwrap: a valid message
            vias_agree(&m);
            compared += 1;
        }
        assert_eq!(compared, 64);
    }

    #[test]
    #[ignore = "needs ../shared/corpus"]
    fn response_vias_agree_with_the_walk_on_the_corpus() {
        let mut compared = 0;
        for bytes in crate::corpus_inputs::inputs() {
            if let Ok(m) = Message::parse(&bytes)
                && m.is_request()
            {
                vias_agree(&m);
                compared += 1;
            }
        }
        assert!(compared > 1_000, "{compared}");
    }

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
