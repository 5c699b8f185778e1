//! Requests within a dialog too large to keep (RFC 3261 §12.1.2, §13.2.2.4).
//!
//! A [`Dialog`](crate::dialog::Dialog) holds its tags, URIs and route set in bounded
//! storage (`dialog::MAX_*`). A 2xx whose dialog does not fit (a long Record-Route set
//! through many proxies, a huge tag) must still be ACKed, and the call it answers can
//! then only be ended: the ACK and the BYE are written here straight from the INVITE
//! and the 2xx while both are at hand, within bounds of their own (`MAX_UNKEPT_*`) far
//! past a `Dialog`'s, and the message buffer.

use crate::dialog::{DialogError, is_plain_target, route_is_loose, strip_angles, target_into};
use crate::encode::{MAX_BUILDER_HEADERS, MessageBuilder, Value, ViaValue};
use crate::error::Capacity;
use crate::message::{ContactValue, HeaderKind, MAX_HEADERS, Message, Method};

/// Most Route headers an unkept dialog's request carries: what a builder holds beside
/// the eight other headers such a request has at most (Via, Max-Forwards, From, To,
/// Call-ID, CSeq, and the INVITE's credentials). Values past them share the last one.
const MAX_UNKEPT_ROUTE_HEADERS: usize = MAX_BUILDER_HEADERS - 8;

/// Most Record-Route values of a 2xx an unkept dialog routes along.
const MAX_UNKEPT_ROUTES: usize = MAX_HEADERS;

/// Room for the Route values of an unkept dialog's request, in angle brackets and
/// separated by `, `.
const MAX_UNKEPT_ROUTE_BYTES: usize = 2048;

/// Room for a Request-URI that the messages hold in no usable form (a Contact or strict
/// router with what a Request-URI may not carry, RFC 3261 §19.1.1).
const MAX_UNKEPT_URI: usize = 1024;

/// What the requests of an unkept dialog are written with beside the two messages.
pub(crate) struct Scratch {
    /// The Request-URI, in angle brackets, when written here.
    uri: heapless::String<MAX_UNKEPT_URI>,
    /// The Route values, separated by `, ` (a URI holds no space).
    routes: heapless::String<MAX_UNKEPT_ROUTE_BYTES>,
}

impl Scratch {
    pub(crate) const fn new() -> Self {
        Scratch {
            uri: heapless::String::new(),
            routes: heapless::String::new(),
        }
    }
}

/// Write onto `b` (a builder of no headers) the request `method` numbered `seq` within
/// the dialog the 2xx `ok` to `invite` creates, as [`Dialog`](crate::dialog::Dialog)
/// would write it (§12.2.1.1): Request-URI the 2xx's Contact (the INVITE's
/// Request-URI when that Contact is unusable, as for a kept dialog), Route the
/// Record-Route URIs last first, a strict first router taking the Request-URI. Gives
/// the URI of the first hop, where the request goes. `scratch` holds what the messages
/// do not hold as written (angle brackets, a URI stripped for a Request-URI).
pub(crate) fn unkept_request<'m: 's, 's>(
    invite: &Message<'m>,
    ok: &Message<'m>,
    method: Method<'s>,
    seq: u32,
    via: ViaValue<'s>,
    b: &mut MessageBuilder<'s>,
    scratch: &'s mut Scratch,
) -> Result<&'s str, DialogError> {
    let header = |m: &Message<'m>, kind| {
        m.value_of(kind)
            .map(|(value, _)| value)
            .ok_or(DialogError::NotDialogCreating)
    };
    let (from, to, call_id) = (
        header(invite, HeaderKind::From)?,
        header(ok, HeaderKind::To)?,
        header(ok, HeaderKind::CallId)?,
    );
    let full = DialogError::Capacity(Capacity::RouteSet);
    let mut routes: heapless::Vec<&'m str, MAX_UNKEPT_ROUTES> = heapless::Vec::new();
    for rr in ok.record_routes() {
        routes.push(rr?.uri().as_str()).map_err(|_| full)?;
    }
    routes.reverse();
    // The remote target (§12.1.2): the Contact's URI without what a Request-URI may not
    // carry (§19.1.1: `method`, headers); with no usable Contact, the INVITE's
    // Request-URI, as for a kept dialog.
    let contact = match ok.contacts().next() {
        Some(Ok(ContactValue::Addr(na))) => Some(na.uri().as_str()),
        _ => None,
    };
    let (target, plain) = match contact {
        Some(uri) => (uri, is_plain_target(uri)),
        None => {
            let uri = invite
                .request_uri_raw()
                .and_then(|u| invite.text_of(u))
                .ok_or(DialogError::MissingContact)?;
            (uri, true)
        }
    };
    let strict = routes.first().is_some_and(|r| !route_is_loose(r));
    let Scratch {
        uri: uri_text,
        routes: route_text,
    } = scratch;
    uri_text.clear();
    route_text.clear();
    // The Route values, written first: a strict router's set ends with the remote target.
    let rest = if strict { &routes[1..] } else { &routes[..] };
    // `, <uri>` (no separator first).
    let push_angled = |out: &mut heapless::String<MAX_UNKEPT_ROUTE_BYTES>, uri: &str| {
        let sep = if out.is_empty() { "" } else { ", " };
        let written = out.push_str(sep).is_ok()
            && out.push('<').is_ok()
            && out.push_str(uri).is_ok()
            && out.push('>').is_ok();
        if written { Ok(()) } else { Err(full) }
    };
    for r in rest {
        push_angled(route_text, r)?;
    }
    if strict {
        // The remote target last, stripped if need be.
        if plain {
            push_angled(route_text, target)?;
        } else {
            if !route_text.is_empty() {
                route_text.push_str(", ").map_err(|_| full)?;
            }
            target_into(target, route_text)?;
        }
    }
    // The Request-URI: the strict router's or the remote target, stripped if need be
    // (§19.1.1), as a kept dialog writes it.
    let (request_uri, as_is) = match routes.first() {
        Some(&first) if strict => (first, is_plain_target(first)),
        _ => (target, plain),
    };
    let request_uri: &'s str = if as_is {
        request_uri
    } else {
        target_into(request_uri, uri_text)?;
        strip_angles(uri_text.as_str())
    };
    b.set_request_line(method, request_uri);
    b.push("Via", Value::Via(via));
    b.push("Max-Forwards", Value::Number(70));
    b.push("From", Value::Raw(from));
    b.push("To", Value::Raw(to));
    b.push("Call-ID", Value::Raw(call_id));
    b.push("CSeq", Value::CSeq(seq, method));
    // One header per value while there is room; the last header holds the rest
    // (§7.3.1: a list may be split across headers or joined in one).
    let route_text: &'s str = route_text.as_str();
    let mut left = route_text;
    for _ in 1..MAX_UNKEPT_ROUTE_HEADERS {
        let Some((value, more)) = left.split_once(", ") else {
            break;
        };
        b.push("Route", Value::Text(value));
        left = more;
    }
    if !left.is_empty() {
        b.push("Route", Value::Text(left));
    }
    // Where the request goes: the first route, or the Request-URI.
    Ok(routes
        .first()
        .filter(|_| !strict)
        .copied()
        .unwrap_or(request_uri))
}

#[cfg(test)]
mod tests {
    use std::format;
    use std::string::String;
    use std::vec::Vec;

    use super::*;
    use crate::dialog::Dialog;
    use crate::message::StatusCode;

    const VIA: ViaValue<'static> = ViaValue {
        transport: "UDP",
        sent_by: "127.0.0.1:5062",
        branch: "z9hG4bKunkept",
        rport: false,
    };

    fn encode(b: &MessageBuilder<'_>) -> Vec<u8> {
        let mut out = [0u8; 4096];
        let n = b.encode_into(&mut out).unwrap();
        out[..n].to_vec()
    }

    /// What a request within a dialog says (§12.2.1.1): Request-URI, Route values, the
    /// URIs and tags of From and To (the unkept writer copies their display names too),
    /// Call-ID, CSeq.
    fn summary(bytes: &[u8]) -> (String, Vec<String>, [String; 6]) {
        let m = Message::parse(bytes).unwrap();
        let text = |b: &[u8]| String::from_utf8(b.to_vec()).unwrap();
        let value = |k| text(m.header(k).unwrap().value);
        let (from, to) = (m.from().unwrap(), m.to().unwrap());
        (
            text(m.request_uri_raw().unwrap()),
            m.headers_of(HeaderKind::Route)
                .map(|h| text(h.value))
                .collect(),
            [
                from.uri().as_str().into(),
                from.tag().unwrap_or("").into(),
                to.uri().as_str().into(),
                to.tag().unwrap_or("").into(),
                value(HeaderKind::CallId),
                value(HeaderKind::CSeq),
            ],
        )
    }

    /// For every dialog a `Dialog` keeps, the unkept writer writes the same ACK and BYE
    /// as the dialog: loose and strict first routes (bare ones too), 0 to 8 routes, Contacts with and
    /// without parameters, one a Request-URI may not carry (`method`), and none.
    #[test]
    fn unkept_requests_match_the_kept_dialogs() {
        let invite = b"INVITE sip:bob@127.0.0.1:5070 SIP/2.0\r\n\
            Via: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bKinv\r\n\
            Max-Forwards: 70\r\n\
            From: \"Alice\" <sip:alice@127.0.0.1>;tag=a1\r\n\
            To: <sip:bob@127.0.0.1>\r\n\
            Call-ID: unkept@127.0.0.1\r\n\
            CSeq: 7 INVITE\r\n\
            Contact: <sip:alice@127.0.0.1:5062>\r\n\
            Content-Length: 0\r\n\r\n";
        let inv = Message::parse(invite).unwrap();
        let contacts = [
            Some("<sip:bob@127.0.0.1:5070>"),
            Some("\"Bob\" <sip:bob@127.0.0.1:5070;transport=udp;ob>;expires=60"),
            Some("<sip:bob@127.0.0.9:5070;method=INVITE;lr>"),
            Some("<sip:bob@127.0.0.8:5070?Subject=x>"),
            None,
        ];
        let mut compared = 0;
        // The first route loose, strict, strict with what a Request-URI may not carry,
        // or every route a bare addr-spec (whose `;lr` is a header parameter).
        for routes in 0..=8usize {
            for strict in ["", ";x=y", ";method=INVITE?h=v", "bare"] {
                for contact in contacts {
                    let rr: Vec<String> = (0..routes)
                        .map(|i| match strict {
                            "bare" => format!("sip:10.0.0.{i}:5060;lr"),
                            // The last Record-Route is the first route.
                            _ if i + 1 == routes && !strict.is_empty() => {
                                format!("<sip:10.0.0.{i}:5060{strict}>")
                            }
                            _ => format!("<sip:10.0.0.{i}:5060;x=y;lr>"),
                        })
                        .collect();
                    // The 2xx built from a parse of its own: the builder's lifetime is
                    // the routes'.
                    let inv_here = Message::parse(invite).unwrap();
                    let mut ok =
                        MessageBuilder::response_to(&inv_here, StatusCode::OK, "b1").unwrap();
                    for r in &rr {
                        ok.push("Record-Route", Value::Text(r));
                    }
                    if let Some(c) = contact {
                        ok.push("Contact", Value::Text(c));
                    }
                    let ok_bytes = encode(&ok);
                    let ok = Message::parse(&ok_bytes).unwrap();
                    let mut d = Dialog::uac_or_request_target_of(&inv, &ok, false).unwrap();
                    d.confirm();
                    let kept_ack = encode(&d.ack(7, VIA));
                    let kept_bye = encode(&d.request(Method::Bye, VIA, None).unwrap());
                    let (mut s1, mut s2) = (Scratch::new(), Scratch::new());
                    let mut ack = MessageBuilder::request(Method::Ack, "");
                    let hop =
                        unkept_request(&inv, &ok, Method::Ack, 7, VIA, &mut ack, &mut s1).unwrap();
                    let mut bye = MessageBuilder::request(Method::Bye, "");
                    unkept_request(&inv, &ok, Method::Bye, 8, VIA, &mut bye, &mut s2).unwrap();
                    let case = format!("{routes} routes, strict {strict}, {contact:?}");
                    assert_eq!(summary(&encode(&ack)), summary(&kept_ack), "{case}");
                    assert_eq!(summary(&encode(&bye)), summary(&kept_bye), "{case}");
                    let first = d.route_set().next().unwrap_or(d.remote_target());
                    assert_eq!(hop, strip_angles(first), "{case}");
                    compared += 1;
                }
            }
        }
        assert_eq!(compared, 9 * 4 * 5);
    }
}
