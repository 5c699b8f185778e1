//! Requests within a dialog too large to keep (RFC 3261 §12.1.2, §13.2.2.4).
//!
//! A [`Dialog`](crate::dialog::Dialog) holds its tags, URIs and route set in bounded
//! storage (`dialog::MAX_*`). A 2xx whose dialog does not fit (a long Record-Route set
//! through many proxies, a huge tag) must still be ACKed, and the call it answers can
//! then only be ended: the ACK and the BYE are written here straight from the INVITE
//! and the 2xx while both are at hand, bounded only by the message buffer.

use crate::dialog::{DialogError, is_plain_target, route_is_loose, strip_angles};
use crate::encode::{MAX_BUILDER_HEADERS, MessageBuilder, Value, ViaValue};
use crate::error::Capacity;
use crate::message::{ContactValue, HeaderKind, Message, Method};

/// Most Route headers an unkept dialog's request carries: what a builder holds beside
/// the eight other headers such a request has at most (Via, Max-Forwards, From, To,
/// Call-ID, CSeq, and the INVITE's credentials).
const MAX_UNKEPT_ROUTES: usize = MAX_BUILDER_HEADERS - 8;

/// Write onto `b` (a builder of no headers) the request `method` numbered `seq` within
/// the dialog the 2xx `ok` to `invite` creates, as [`Dialog`](crate::dialog::Dialog)
/// would write it (§12.2.1.1): Request-URI the 2xx's Contact (the INVITE's
/// Request-URI when that Contact is unusable, as for a kept dialog), Route the
/// Record-Route URIs last first, a strict first router taking the Request-URI. Gives
/// the URI of the first hop, where the request goes.
pub(crate) fn unkept_request<'a>(
    invite: &Message<'a>,
    ok: &Message<'a>,
    method: Method<'a>,
    seq: u32,
    via: ViaValue<'a>,
    b: &mut MessageBuilder<'a>,
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
    // The remote target: the Contact's URI, in the angle brackets it came in (a strict
    // router gets it as the last Route), unless it carries what a Request-URI may not
    // (§19.1.1: `method`, headers).
    let contact = match ok.contacts().next() {
        Some(Ok(ContactValue::Addr(na))) => {
            let uri = na.uri().as_str();
            is_plain_target(uri).then(|| (uri, angled_in(ok, uri)))
        }
        _ => None,
    };
    let (target, target_angled) = match contact {
        Some((uri, angled)) => (uri, angled),
        None => {
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
        b.push(
            "Route",
            Value::Text(target_angled.ok_or(DialogError::MissingContact)?),
        );
    }
    Ok(routes.first().map_or(target, |r| strip_angles(r)))
}

/// `uri`, a URI of `msg` written between `<` and `>` (a name-addr's), with them.
fn angled_in<'a>(msg: &Message<'a>, uri: &str) -> Option<&'a str> {
    let at = (uri.as_ptr() as usize).checked_sub(msg.as_bytes().as_ptr() as usize)?;
    let wide = msg.text_at(at.checked_sub(1)?, uri.len() + 2)?;
    (wide.starts_with('<') && wide.ends_with('>')).then_some(wide)
}
