//! Requests within a dialog too large to keep (RFC 3261 §12.1.2, §13.2.2.4).
//!
//! A [`Dialog`](crate::dialog::Dialog) holds its tags, URIs and route set in bounded
//! storage (`dialog::MAX_*`). A 2xx whose dialog does not fit (a long Record-Route set
//! through many proxies, a huge tag) must still be ACKed, and the call it answers can
//! then only be ended: the ACK and the BYE are written here straight from the INVITE
//! and the 2xx while both are at hand, bounded only by the message buffer.

use crate::dialog::{DialogError, is_plain_target, route_is_loose, strip_angles, target_into};
use crate::encode::{MAX_BUILDER_HEADERS, MessageBuilder, Value, ViaValue};
use crate::error::Capacity;
use crate::message::{ContactValue, HeaderKind, Message, Method};

/// Most Route headers an unkept dialog's request carries: what a builder holds beside
/// the eight other headers such a request has at most (Via, Max-Forwards, From, To,
/// Call-ID, CSeq, and the INVITE's credentials).
const MAX_UNKEPT_ROUTES: usize = MAX_BUILDER_HEADERS - 8;

/// Room for the remote target in angle brackets when it is written as the last Route
/// (after a strict router) and the message has it in none (the INVITE's Request-URI).
pub(crate) type AngledTarget = heapless::String<1024>;

/// Write onto `b` (a builder of no headers) the request `method` numbered `seq` within
/// the dialog the 2xx `ok` to `invite` creates, as [`Dialog`](crate::dialog::Dialog)
/// would write it (§12.2.1.1): Request-URI the 2xx's Contact (the INVITE's
/// Request-URI when that Contact is unusable, as for a kept dialog), Route the
/// Record-Route URIs last first, a strict first router taking the Request-URI. Gives
/// the URI of the first hop, where the request goes. `scratch` holds the remote target
/// in angle brackets when the message has it in none.
pub(crate) fn unkept_request<'a>(
    invite: &Message<'a>,
    ok: &Message<'a>,
    method: Method<'a>,
    seq: u32,
    via: ViaValue<'a>,
    b: &mut MessageBuilder<'a>,
    scratch: &'a mut AngledTarget,
) -> Result<&'a str, DialogError> {
    let header = |m: &Message<'a>, kind| {
        m.header(kind)
            .map(|h| h.value)
            .ok_or(DialogError::NotDialogCreating)
    };
    let (from, to, call_id) = (
        header(invite, HeaderKind::From)?,
        header(ok, HeaderKind::To)?,
        header(ok, HeaderKind::CallId)?,
    );
    let mut routes: heapless::Vec<&'a str, MAX_UNKEPT_ROUTES> = heapless::Vec::new();
    for rr in ok.record_routes() {
        let rr = rr?;
        let uri = angled_in(ok, rr.uri().as_str()).ok_or(DialogError::NotDialogCreating)?;
        routes
            .push(uri)
            .map_err(|_| DialogError::Capacity(Capacity::RouteSet))?;
    }
    routes.reverse();
    // The remote target (§12.1.2): the Contact's URI, in the angle brackets it came in
    // (a strict router gets it as the last Route); without what a Request-URI may not
    // carry (§19.1.1: `method`, headers), written into `scratch`; or, with no usable
    // Contact, the INVITE's Request-URI, as for a kept dialog.
    let mut scratch = Some(scratch);
    let contact = match ok.contacts().next() {
        Some(Ok(ContactValue::Addr(na))) => Some(na.uri().as_str()),
        _ => None,
    };
    let written = match (contact, scratch.take()) {
        (Some(uri), Some(out)) if !is_plain_target(uri) => {
            target_into(uri, out).ok().map(|()| &*out)
        }
        (_, out) => {
            scratch = out;
            None
        }
    };
    let (target, target_angled) = match (contact, written) {
        (_, Some(angled)) => (strip_angles(angled.as_str()), Some(angled.as_str())),
        (Some(uri), None) if is_plain_target(uri) => (uri, angled_in(ok, uri)),
        _ => {
            let uri = invite
                .request_uri_raw()
                .and_then(|u| invite.text_of(u))
                .ok_or(DialogError::MissingContact)?;
            (uri, None)
        }
    };
    let strict = routes
        .first()
        .is_some_and(|r| !route_is_loose(strip_angles(r)));
    let (request_uri, rest) = match routes.split_first() {
        Some((first, rest)) if strict => (strip_angles(first), rest),
        _ => (target, &routes[..]),
    };
    b.set_request_line(method, request_uri);
    b.push("Via", Value::Via(via));
    b.push("Max-Forwards", Value::Number(70));
    b.push("From", Value::Raw(from));
    b.push("To", Value::Raw(to));
    b.push("Call-ID", Value::Raw(call_id));
    b.push("CSeq", Value::CSeq(seq, method));
    for r in rest {
        b.push("Route", Value::Text(r));
    }
    if strict {
        // The remote target as the last Route needs its angle brackets.
        let angled = match (target_angled, scratch) {
            (Some(t), _) => t,
            (None, None) => return Err(DialogError::Capacity(Capacity::String)),
            (None, Some(scratch)) => {
                scratch.clear();
                let full = DialogError::Capacity(Capacity::String);
                scratch.push('<').map_err(|_| full)?;
                scratch.push_str(target).map_err(|_| full)?;
                scratch.push('>').map_err(|_| full)?;
                scratch.as_str()
            }
        };
        b.push("Route", Value::Text(angled));
    }
    Ok(routes.first().map_or(target, |r| strip_angles(r)))
}

/// `uri`, a URI of `msg` written between `<` and `>` (a name-addr's), with them.
fn angled_in<'a>(msg: &Message<'a>, uri: &str) -> Option<&'a str> {
    let at = (uri.as_ptr() as usize).checked_sub(msg.as_bytes().as_ptr() as usize)?;
    let wide = msg.text_at(at.checked_sub(1)?, uri.len() + 2)?;
    (wide.starts_with('<') && wide.ends_with('>')).then_some(wide)
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
    /// as the dialog: loose and strict first routes, 0 to 8 routes, Contacts with and
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
        for routes in 0..=8usize {
            for strict in [false, true] {
                for contact in contacts {
                    let rr: Vec<String> = (0..routes)
                        .map(|i| {
                            // The last Record-Route is the first route.
                            let lr = if strict && i + 1 == routes { "" } else { ";lr" };
                            format!("<sip:10.0.0.{i}:5060;x=y{lr}>")
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
                    let (mut s1, mut s2) = (AngledTarget::new(), AngledTarget::new());
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
        assert_eq!(compared, 9 * 2 * 5);
    }
}
