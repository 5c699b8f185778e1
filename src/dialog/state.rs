//! The dialog itself (RFC 3261 §12): identity, sequence numbers, URIs, route set.

use core::fmt;

use heapless::String;

use crate::encode::{MessageBuilder, Value, ViaValue};
use crate::error::{Capacity, ParseError};
use crate::message::{CSeq, Message, Method, NameAddr, StatusCode, Uri};

/// Longest Call-ID a dialog stores (the transaction keys' bound,
/// [`transaction::key::MAX_CALL_ID`](crate::transaction::key::MAX_CALL_ID)).
pub const MAX_CALL_ID: usize = 128;
/// Longest tag a dialog stores. RFC 3261 §19.3 asks for 32 random bits, but tags in live
/// traffic are often UUIDs (36 characters) and reach 84: of the 1,443 tags in this
/// project's captured messages, 325 are longer than 32 and 65 longer than 64.
pub const MAX_TAG: usize = 128;
/// Longest URI (local, remote, remote target) a dialog stores, `<>` included.
pub const MAX_URI: usize = 256;
/// Bytes for the whole route set (every route URI, `<>` and one separator each).
pub const MAX_ROUTE_BYTES: usize = 512;
/// Most routes in a route set.
pub const MAX_ROUTES: usize = 8;

/// Largest CSeq number (RFC 3261 §8.1.1.5: below 2^31).
const CSEQ_MAX: u32 = (1 << 31) - 1;

/// Why a dialog could not be created or could not take a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum DialogError {
    /// A header the dialog needs is malformed or missing.
    Malformed(ParseError),
    /// The message cannot create a dialog: a request where a response was expected (or
    /// the reverse), a 100 or a non-2xx final response, or no To tag (RFC 3261 §12.1).
    NotDialogCreating,
    /// A dialog-creating message without a Contact (RFC 3261 §12.1.1, §12.1.2).
    MissingContact,
    /// The message belongs to another dialog (Call-ID or tags differ).
    NotThisDialog,
    /// A string or the route set does not fit the bounded storage.
    Capacity(Capacity),
    /// The local CSeq reached 2^31 - 1: no further request can be numbered
    /// (RFC 3261 §8.1.1.5).
    CSeqExhausted,
}

impl From<Capacity> for DialogError {
    fn from(c: Capacity) -> Self {
        DialogError::Capacity(c)
    }
}

impl From<ParseError> for DialogError {
    fn from(e: ParseError) -> Self {
        DialogError::Malformed(e)
    }
}

impl fmt::Display for DialogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DialogError::Malformed(e) => write!(f, "malformed header: {e}"),
            DialogError::NotDialogCreating => f.write_str("message does not create a dialog"),
            DialogError::MissingContact => f.write_str("dialog-creating message without Contact"),
            DialogError::NotThisDialog => f.write_str("message belongs to another dialog"),
            DialogError::Capacity(c) => write!(f, "capacity: {c}"),
            DialogError::CSeqExhausted => f.write_str("local CSeq exhausted"),
        }
    }
}

impl core::error::Error for DialogError {}

/// Dialog identifier (RFC 3261 §12): Call-ID, local tag, remote tag. The same dialog has
/// swapped tags at the two ends.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DialogId {
    call_id: String<MAX_CALL_ID>,
    local_tag: String<MAX_TAG>,
    remote_tag: String<MAX_TAG>,
}

impl DialogId {
    /// A dialog id from its three parts; [`Capacity::String`] if one is too long.
    pub fn new(call_id: &str, local_tag: &str, remote_tag: &str) -> Result<Self, Capacity> {
        Ok(DialogId {
            call_id: bounded(call_id)?,
            local_tag: bounded(local_tag)?,
            remote_tag: bounded(remote_tag)?,
        })
    }

    /// [`new`](Self::new) in place (unspecified on error).
    fn set(&mut self, call_id: &str, local_tag: &str, remote_tag: &str) -> Result<(), Capacity> {
        set_bounded(&mut self.call_id, call_id)?;
        set_bounded(&mut self.local_tag, local_tag)?;
        set_bounded(&mut self.remote_tag, remote_tag)
    }

    /// The Call-ID.
    pub fn call_id(&self) -> &str {
        &self.call_id
    }

    /// The local tag (From tag of our requests).
    pub fn local_tag(&self) -> &str {
        &self.local_tag
    }

    /// The remote tag (To tag of our requests).
    pub fn remote_tag(&self) -> &str {
        &self.remote_tag
    }

    /// Whether a request received by this side belongs to the dialog: same Call-ID, To
    /// tag = local tag, From tag = remote tag (RFC 3261 §12.2.2; a missing tag counts as
    /// empty, §12.1.1). Malformed headers do not match.
    pub fn matches_request(&self, req: &Message<'_>) -> bool {
        let (Ok(call_id), Ok(from), Ok(to)) = (req.call_id(), req.from(), req.to()) else {
            return false;
        };
        self.matches_request_parts(call_id.as_str(), &from, &to)
    }

    /// [`matches_request`](Self::matches_request) on headers already parsed.
    pub(crate) fn matches_request_parts(
        &self,
        call_id: &str,
        from: &NameAddr<'_>,
        to: &NameAddr<'_>,
    ) -> bool {
        call_id == self.call_id.as_str()
            && to.tag().unwrap_or("") == self.local_tag.as_str()
            && from.tag().unwrap_or("") == self.remote_tag.as_str()
    }

    /// Whether a response received by this side belongs to the dialog: same Call-ID,
    /// From tag = local tag, To tag = remote tag (RFC 3261 §12.1.2, §12.2.1.2).
    pub fn matches_response(&self, resp: &Message<'_>) -> bool {
        let (Ok(call_id), Ok(from), Ok(to)) = (resp.call_id(), resp.from(), resp.to()) else {
            return false;
        };
        call_id.as_str() == self.call_id.as_str()
            && from.tag().unwrap_or("") == self.local_tag.as_str()
            && to.tag().unwrap_or("") == self.remote_tag.as_str()
    }
}

/// Dialog state (RFC 3261 §12).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum DialogState {
    /// Created by a provisional response with a To tag (§12.1).
    Early,
    /// Created or confirmed by a 2xx (§12.1).
    Confirmed,
    /// Ended: BYE, a 481/408 to an in-dialog request (§12.2.1.2), or a failed INVITE.
    Terminated,
}

/// How the UAS answers a request it cannot take within the dialog (RFC 3261 §12.2.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Reject {
    /// The request does not belong to this dialog, or the dialog is over: 481.
    NoDialog,
    /// CSeq lower than (or equal to) the last one seen: 500.
    OutOfOrder,
    /// A header the check reads is malformed: 400.
    Malformed(ParseError),
}

impl Reject {
    /// The status code to answer with.
    pub fn status(&self) -> StatusCode {
        match self {
            Reject::NoDialog => StatusCode::CALL_OR_TRANSACTION_DOES_NOT_EXIST,
            Reject::OutOfOrder => StatusCode::SERVER_INTERNAL_ERROR,
            Reject::Malformed(_) => StatusCode::BAD_REQUEST,
        }
    }
}

/// A request accepted by [`Dialog::on_request`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Accepted {
    /// The request is a target refresh request (INVITE, UPDATE): call
    /// [`Dialog::refresh_target`] once it is answered with a 2xx.
    pub target_refresh: bool,
}

/// What a response did to the dialog ([`Dialog::on_response`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ResponseEffect {
    /// Nothing changed.
    None,
    /// An early dialog became confirmed (2xx to the INVITE, §12.1.2).
    Confirmed,
    /// The remote target was replaced from the Contact of a 2xx to a target refresh
    /// request (§12.2.1.2).
    TargetRefreshed,
    /// A 481 or 408 ended the dialog (§12.2.1.2).
    Terminated,
}

/// A dialog (RFC 3261 §12). Owns all its strings in bounded storage; `Clone`, no heap.
///
/// The local and remote URIs and the routes are stored enclosed in `<>` so that the
/// From, To and Route headers of in-dialog requests borrow them without copying.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dialog {
    id: DialogId,
    state: DialogState,
    local_seq: u32,
    remote_seq: Option<u32>,
    local_uri: String<MAX_URI>,
    remote_uri: String<MAX_URI>,
    remote_target: String<MAX_URI>,
    /// Route URIs, each `<uri>`, separated by one space (URIs never hold a space).
    route_set: String<MAX_ROUTE_BYTES>,
    secure: bool,
    /// Where the endpoint sends this dialog's requests, once worked out; emptied by every
    /// change of the route set or the remote target.
    hop: HopCache,
    /// The local tag is one the parser read (a UAC's, from its request's From), not one a
    /// caller handed in (a UAS's): see `build`.
    local_tag_parsed: TagParsed,
}

/// Whether a dialog's local tag was read by the parser. Derived from how the dialog
/// was made, not part of its value: it takes no part in comparing dialogs.
#[derive(Clone, Copy, Debug, Default)]
struct TagParsed(bool);

impl PartialEq for TagParsed {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for TagParsed {}

/// The endpoint's address for a dialog's first hop: `Some(None)` when that hop names
/// a domain (the call's peer serves). Only a cache of the route set and remote
/// target, so it takes no part in comparing dialogs.
#[derive(Clone, Copy, Debug, Default)]
#[cfg_attr(not(feature = "endpoint"), allow(dead_code))] // the endpoint's sends read it
pub(crate) struct HopCache(pub(crate) Option<Option<core::net::SocketAddr>>);

impl PartialEq for HopCache {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for HopCache {}

impl Dialog {
    /// The UAC's dialog from the `response` to its dialog-creating `request`
    /// (RFC 3261 §12.1.2): a 101–199 with a To tag gives an early dialog, a 2xx a
    /// confirmed one. The route set is the Record-Route of the response, reversed; the
    /// remote target is its Contact. `tls` says the request went over TLS; the dialog is
    /// secure when it did and the Request-URI is `sips`.
    pub fn uac(
        request: &Message<'_>,
        response: &Message<'_>,
        tls: bool,
    ) -> Result<Self, DialogError> {
        // Not dialog-creating is reported before any header error, as `uac_parts` would.
        if !request.is_request()
            || !response
                .status()
                .is_some_and(|c| (101..=299).contains(&c.as_u16()))
        {
            return Err(DialogError::NotDialogCreating);
        }
        Self::uac_parts(
            request,
            response,
            &response.to()?,
            response.call_id()?.as_str(),
            tls,
        )
    }

    /// [`uac`](Self::uac) with the response's To and Call-ID already parsed (the
    /// endpoint's checks did).
    pub(crate) fn uac_parts(
        request: &Message<'_>,
        response: &Message<'_>,
        to: &NameAddr<'_>,
        call_id: &str,
        tls: bool,
    ) -> Result<Self, DialogError> {
        Self::uac_parts_targeting(request, response, to, call_id, tls, false)
    }

    /// [`uac_parts`](Self::uac_parts), except for a 2xx whose Contact is missing,
    /// malformed or past [`MAX_URI`]: RFC 3261 §13.3.1.4 requires a usable one, but every
    /// 2xx is to be ACKed all the same (§13.2.2.4) and the call can be ended only with a
    /// BYE, so the remote target is the `request`'s Request-URI, where the INVITE itself
    /// went. A usable Contact is the remote target as usual.
    #[cfg(feature = "endpoint")]
    pub(crate) fn uac_or_request_target(
        request: &Message<'_>,
        response: &Message<'_>,
        to: &NameAddr<'_>,
        call_id: &str,
        tls: bool,
    ) -> Result<Self, DialogError> {
        let success = response.status().is_some_and(StatusCode::is_success);
        Self::uac_parts_targeting(request, response, to, call_id, tls, success)
    }

    /// [`uac_or_request_target`](Self::uac_or_request_target) reading the response's To
    /// and Call-ID itself.
    #[cfg(feature = "endpoint")]
    pub(crate) fn uac_or_request_target_of(
        request: &Message<'_>,
        response: &Message<'_>,
        tls: bool,
    ) -> Result<Self, DialogError> {
        let (to, call_id) = (response.to()?, response.call_id()?);
        Self::uac_or_request_target(request, response, &to, call_id.as_str(), tls)
    }

    /// [`uac_parts`](Self::uac_parts), falling back to the Request-URI as the remote
    /// target when `request_uri_fallback` and the Contact is not usable.
    fn uac_parts_targeting(
        request: &Message<'_>,
        response: &Message<'_>,
        to: &NameAddr<'_>,
        call_id: &str,
        tls: bool,
        request_uri_fallback: bool,
    ) -> Result<Self, DialogError> {
        let Some(uri) = request.request_uri() else {
            return Err(DialogError::NotDialogCreating);
        };
        // Not dialog-creating is reported before any header error.
        let state = uac_state(response, to)?;
        let from = request.from()?;
        let uri = uri?;
        let secure = tls && is_sips(&uri);
        Self::uac_with(
            response,
            state,
            to,
            call_id,
            &from,
            request.cseq()?.seq(),
            secure,
            request_uri_fallback.then(|| uri.as_str()),
        )
    }

    /// The UAC's dialog from a dialog-creating `response` alone, for a request sent
    /// outside TLS: the UAS copies From, Call-ID and CSeq from the request
    /// (RFC 3261 §8.2.6.2), so `from` (with the local tag) and `seq` are the request's,
    /// and the result equals [`uac`](Self::uac) without reading the request. The caller
    /// checks that the From tag and `seq` are its own. Never secure: only a request over
    /// TLS makes a secure dialog (§12.1.2).
    #[cfg(feature = "endpoint")]
    pub(crate) fn uac_from_response(
        response: &Message<'_>,
        from: &NameAddr<'_>,
        to: &NameAddr<'_>,
        call_id: &str,
        seq: u32,
    ) -> Result<Self, DialogError> {
        let mut d = Dialog::empty();
        Self::uac_from_response_into(&mut d, response, from, to, call_id, seq)?;
        Ok(d)
    }

    /// [`uac_from_response`](Self::uac_from_response) built in `out` (a dialog is some
    /// 1.7 kB: built where it is kept, it is not copied there); `out` is unspecified on
    /// error.
    #[cfg(feature = "endpoint")]
    pub(crate) fn uac_from_response_into(
        out: &mut Dialog,
        response: &Message<'_>,
        from: &NameAddr<'_>,
        to: &NameAddr<'_>,
        call_id: &str,
        seq: u32,
    ) -> Result<(), DialogError> {
        let state = uac_state(response, to)?;
        Self::uac_with_into(out, response, state, to, call_id, from, seq, false, None)
    }

    /// A dialog to build into: no id, no URIs, no routes.
    // Inlined: it only sets lengths, and so writes them where the dialog is kept rather
    // than building all 1.7 kB on the stack and copying them there.
    #[inline(always)]
    pub(crate) fn empty() -> Self {
        Dialog {
            id: DialogId {
                call_id: String::new(),
                local_tag: String::new(),
                remote_tag: String::new(),
            },
            state: DialogState::Early,
            local_seq: 0,
            remote_seq: None,
            local_uri: String::new(),
            remote_uri: String::new(),
            remote_target: String::new(),
            route_set: String::new(),
            secure: false,
            hop: HopCache(None),
            local_tag_parsed: TagParsed(false),
        }
    }

    /// The UAC's dialog in `state` from `response` (its To, Contact and Record-Route)
    /// and the request's `from` and CSeq number `seq` (§12.1.2); `fallback_target`, if
    /// any, is the remote target when the Contact is not usable.
    #[allow(clippy::too_many_arguments)] // the parts of the two messages, parsed once
    fn uac_with(
        response: &Message<'_>,
        state: DialogState,
        to: &NameAddr<'_>,
        call_id: &str,
        from: &NameAddr<'_>,
        seq: u32,
        secure: bool,
        fallback_target: Option<&str>,
    ) -> Result<Self, DialogError> {
        let mut d = Dialog::empty();
        Self::uac_with_into(
            &mut d,
            response,
            state,
            to,
            call_id,
            from,
            seq,
            secure,
            fallback_target,
        )?;
        Ok(d)
    }

    /// [`uac_with`](Self::uac_with) built in `out` (unspecified on error), with the
    /// same errors in the same order.
    #[allow(clippy::too_many_arguments)] // the parts of the two messages, parsed once
    fn uac_with_into(
        out: &mut Dialog,
        response: &Message<'_>,
        state: DialogState,
        to: &NameAddr<'_>,
        call_id: &str,
        from: &NameAddr<'_>,
        seq: u32,
        secure: bool,
        fallback_target: Option<&str>,
    ) -> Result<(), DialogError> {
        // `uac_state` let a 2xx without a To tag through: its tag is null (§12.1.2).
        let remote_tag = to.tag().unwrap_or("");
        out.hop = HopCache(None);
        let target =
            contact_uri(response).and_then(|uri| remote_target_into(&mut out.remote_target, uri));
        match (target, fallback_target) {
            (Ok(()), _) => {}
            (Err(_), Some(uri)) => angled_into(&mut out.remote_target, uri)?,
            (Err(e), None) => return Err(e),
        }
        out.id.set(call_id, from.tag().unwrap_or(""), remote_tag)?;
        // The request's From tag, as the parser read it.
        out.local_tag_parsed = TagParsed(true);
        out.state = state;
        out.local_seq = seq;
        out.remote_seq = None;
        angled_into(&mut out.local_uri, from.uri().as_str())?;
        angled_into(&mut out.remote_uri, to.uri().as_str())?;
        uac_route_set_into(&mut out.route_set, response)?;
        out.secure = secure;
        Ok(())
    }

    /// Confirm this early UAC dialog with the 2xx `response` from the same UAS (its To
    /// tag is this dialog's remote tag): the route set is recomputed from the 2xx's
    /// Record-Route and the remote target is its Contact (RFC 3261 §13.2.2.4,
    /// §12.1.2). The dialog ID, local URI and CSeq numbers stay: the result equals
    /// [`uac`](Self::uac) on the INVITE and the 2xx, without reading the INVITE again.
    /// On error the dialog is unchanged. A 2xx without a usable Contact keeps the early
    /// dialog's remote target, as [`uac_or_request_target`](Self::uac_or_request_target)
    /// falls back to one, so that the 2xx can still be ACKed.
    #[cfg(feature = "endpoint")]
    pub(crate) fn confirm_uac(&mut self, response: &Message<'_>) -> Result<(), DialogError> {
        // Each built once aside (the dialog stays as it was on error), then its text
        // copied in (a move would copy all of its room). Same capacities: they fit.
        let mut target = String::new();
        let contact = contact_name_addr(response);
        // Whether the Contact's URI is the target as it is: scanned once, here.
        let kept = contact
            .as_ref()
            .map_err(|e| *e)
            .and_then(|na| remote_target_plain_into(&mut target, na.uri().as_str()));
        let (target_ok, plain) = (kept.is_ok(), kept == Ok(true));
        let mut route_set = String::new();
        uac_route_set_into(&mut route_set, response)?;
        self.hop = HopCache(None);
        let routes_ok = set_bounded(&mut self.route_set, &route_set).is_ok();
        if target_ok && set_bounded(&mut self.remote_target, &target).is_ok() {
            // The ACK goes to the first hop: without routes, the Contact just parsed,
            // when kept as it is (`first_hop` checks the cache in debug builds).
            if let Ok(na) = &contact
                && routes_ok
                && route_set.is_empty()
                && plain
            {
                self.hop = HopCache(Some(crate::locate::address_of(na.uri())));
            }
        }
        self.state = DialogState::Confirmed;
        Ok(())
    }

    /// The UAS's dialog from a dialog-creating `request` (RFC 3261 §12.1.1), confirmed
    /// once the host sends a 2xx with `local_tag` in its To (early if it sends a 1xx
    /// first: call [`confirm`](Self::confirm) on the 2xx). The route set is the
    /// Record-Route of the request in order; the remote target its Contact. `tls` says
    /// the request arrived over TLS; secure when it did and the Request-URI is `sips`.
    pub fn uas(request: &Message<'_>, local_tag: &str, tls: bool) -> Result<Self, DialogError> {
        // A malformed Request-URI is an error here even when `uas_parts` need not read it.
        request
            .request_uri()
            .ok_or(DialogError::NotDialogCreating)??;
        Self::uas_parts(
            request,
            &request.from()?,
            &request.to()?,
            request.call_id()?.as_str(),
            request.cseq()?.seq(),
            contact_uri(request),
            local_tag,
            tls,
        )
    }

    /// [`uas`](Self::uas) with From, To, Call-ID, the CSeq number and the first
    /// Contact's URI (`target`, as [`contact_uri`] gives it) already read (the
    /// endpoint's checks did).
    #[allow(clippy::too_many_arguments)] // the parts the endpoint's checks already read
    pub(crate) fn uas_parts(
        request: &Message<'_>,
        from: &NameAddr<'_>,
        to: &NameAddr<'_>,
        call_id: &str,
        seq: u32,
        target: Result<&str, DialogError>,
        local_tag: &str,
        tls: bool,
    ) -> Result<Self, DialogError> {
        let mut d = Dialog::empty();
        Self::uas_parts_into(
            &mut d, request, from, to, call_id, seq, target, local_tag, tls,
        )?;
        Ok(d)
    }

    /// [`uas_parts`](Self::uas_parts) built in `out` (unspecified on error), with the
    /// same errors in the same order.
    #[allow(clippy::too_many_arguments)] // the parts the endpoint's checks already read
    pub(crate) fn uas_parts_into(
        out: &mut Dialog,
        request: &Message<'_>,
        from: &NameAddr<'_>,
        to: &NameAddr<'_>,
        call_id: &str,
        seq: u32,
        target: Result<&str, DialogError>,
        local_tag: &str,
        tls: bool,
    ) -> Result<(), DialogError> {
        out.hop = HopCache(None);
        // `local_tag` is the caller's: checked when written.
        out.local_tag_parsed = TagParsed(false);
        // Only a request over TLS can make a secure dialog (§12.1.1); the checks already
        // parsed the Request-URI, so it is read again only then.
        if request.request_uri_raw().is_none() {
            return Err(DialogError::NotDialogCreating);
        }
        let secure = tls
            && request
                .request_uri()
                .transpose()?
                .is_some_and(|u| is_sips(&u));
        out.route_set.clear();
        for (i, rr) in request.record_routes().enumerate() {
            if i == MAX_ROUTES {
                return Err(Capacity::RouteSet.into());
            }
            push_route(&mut out.route_set, rr?.uri(), i == 0)?;
        }
        out.id.set(call_id, local_tag, from.tag().unwrap_or(""))?;
        out.state = DialogState::Early;
        out.local_seq = 0;
        out.remote_seq = Some(seq);
        angled_into(&mut out.local_uri, to.uri().as_str())?;
        angled_into(&mut out.remote_uri, from.uri().as_str())?;
        remote_target_into(&mut out.remote_target, target?)?;
        out.secure = secure;
        Ok(())
    }

    /// The dialog id.
    pub fn id(&self) -> &DialogId {
        &self.id
    }

    /// The state.
    pub fn state(&self) -> DialogState {
        self.state
    }

    /// Local CSeq number: the last one used (0 before the UAS sends a request).
    pub fn local_seq(&self) -> u32 {
        self.local_seq
    }

    /// Remote CSeq number: the last one received, if any.
    pub fn remote_seq(&self) -> Option<u32> {
        self.remote_seq
    }

    /// Local URI (From of our requests).
    pub fn local_uri(&self) -> &str {
        strip_angles(&self.local_uri)
    }

    /// Remote URI (To of our requests).
    pub fn remote_uri(&self) -> &str {
        strip_angles(&self.remote_uri)
    }

    /// Remote target (Contact of the peer).
    pub fn remote_target(&self) -> &str {
        strip_angles(&self.remote_target)
    }

    /// The cached address of the first hop ([`HopCache`]).
    #[cfg_attr(not(feature = "endpoint"), allow(dead_code))] // the endpoint's sends
    pub(crate) fn hop(&self) -> HopCache {
        self.hop
    }

    /// Keep `hop` as the address of the first hop, until the route set or remote
    /// target changes.
    #[cfg_attr(not(feature = "endpoint"), allow(dead_code))] // the endpoint's sends
    pub(crate) fn set_hop(&mut self, hop: Option<core::net::SocketAddr>) {
        self.hop = HopCache(Some(hop));
    }

    /// The route set, in the order Route headers are written. When the first route is a
    /// strict router its `method` parameter and headers are already removed (they are not
    /// allowed in a Request-URI, RFC 3261 §19.1.1), since it only serves as one.
    pub fn route_set(&self) -> impl Iterator<Item = &str> + '_ {
        self.route_set
            .split(' ')
            .filter(|r| !r.is_empty())
            .map(strip_angles)
    }

    /// Whether the dialog is secure (SIPS over TLS, RFC 3261 §12.1).
    pub fn is_secure(&self) -> bool {
        self.secure
    }

    /// Confirm an early dialog (the UAS sent its 2xx).
    pub fn confirm(&mut self) {
        if self.state == DialogState::Early {
            self.state = DialogState::Confirmed;
        }
    }

    /// End the dialog (BYE sent or received, failed INVITE).
    pub fn terminate(&mut self) {
        self.state = DialogState::Terminated;
    }

    /// UAS processing of a request received within the dialog (RFC 3261 §12.2.2):
    /// 481 if it belongs elsewhere or the dialog is over, 500 if its CSeq is not above the
    /// remote CSeq; otherwise the remote CSeq is updated. ACK and CANCEL are not checked
    /// against the CSeq order (ACK reuses the INVITE's number; CANCEL is hop by hop).
    pub fn on_request(&mut self, req: &Message<'_>) -> Result<Accepted, Reject> {
        if self.state == DialogState::Terminated || !self.id.matches_request(req) {
            return Err(Reject::NoDialog);
        }
        let cseq = req.cseq().map_err(Reject::Malformed)?;
        self.on_request_cseq(&cseq)
    }

    /// Set the local CSeq number (a subscriber's dialog made from a NOTIFY continues the
    /// SUBSCRIBE's numbering, RFC 6665 §4.1.2.4).
    #[cfg(feature = "endpoint")]
    pub(crate) fn set_local_seq(&mut self, seq: u32) {
        self.local_seq = seq;
    }

    /// Set the remote CSeq number (an early dialog confirmed by a 2xx keeps the numbers
    /// its requests used, RFC 3261 §12.2.2).
    #[cfg(feature = "endpoint")]
    pub(crate) fn set_remote_seq(&mut self, seq: Option<u32>) {
        self.remote_seq = seq;
    }

    /// [`on_request`](Self::on_request) on headers already parsed.
    #[cfg(feature = "endpoint")]
    pub(crate) fn on_request_parts(
        &mut self,
        call_id: &str,
        from: &NameAddr<'_>,
        to: &NameAddr<'_>,
        cseq: &CSeq<'_>,
    ) -> Result<Accepted, Reject> {
        if self.state == DialogState::Terminated
            || !self.id.matches_request_parts(call_id, from, to)
        {
            return Err(Reject::NoDialog);
        }
        self.on_request_cseq(cseq)
    }

    fn on_request_cseq(&mut self, cseq: &CSeq<'_>) -> Result<Accepted, Reject> {
        let method = cseq.method();
        if !matches!(method, Method::Ack | Method::Cancel) {
            if self.remote_seq.is_some_and(|r| cseq.seq() <= r) {
                return Err(Reject::OutOfOrder);
            }
            self.remote_seq = Some(cseq.seq());
        }
        Ok(Accepted {
            target_refresh: matches!(method, Method::Invite | Method::Update),
        })
    }

    /// Replace the remote target with the Contact of a target refresh `msg` (a re-INVITE or
    /// UPDATE this side accepted, or the 2xx to one it sent; RFC 3261 §12.2, RFC 6141
    /// §3.4: a failed refresh changes nothing). A message without Contact changes nothing.
    pub fn refresh_target(&mut self, msg: &Message<'_>) -> Result<(), DialogError> {
        match remote_target_of(msg) {
            Ok(target) => {
                self.remote_target = target;
                self.hop = HopCache(None);
                Ok(())
            }
            Err(DialogError::MissingContact) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// UAC processing of a response to a request this side sent within the dialog
    /// (RFC 3261 §12.1.2, §12.2.1.2): a 2xx to the INVITE confirms an early dialog; a
    /// 2xx to a target refresh request (INVITE, UPDATE) refreshes the remote target; a
    /// 481 or 408 ends the dialog.
    pub fn on_response(&mut self, resp: &Message<'_>) -> Result<ResponseEffect, DialogError> {
        if !self.id.matches_response(resp) {
            return Err(DialogError::NotThisDialog);
        }
        let code = resp.status().ok_or(DialogError::NotDialogCreating)?;
        let method = resp.cseq()?.method();
        if self.state == DialogState::Terminated {
            return Ok(ResponseEffect::None);
        }
        // §12.2.1.2: the peer has no dialog (481) or did not answer (408).
        if matches!(code.as_u16(), 408 | 481) {
            self.state = DialogState::Terminated;
            return Ok(ResponseEffect::Terminated);
        }
        if !code.is_success() || !matches!(method, Method::Invite | Method::Update) {
            return Ok(ResponseEffect::None);
        }
        self.refresh_target(resp)?;
        if self.state == DialogState::Early && method == Method::Invite {
            self.state = DialogState::Confirmed;
            return Ok(ResponseEffect::Confirmed);
        }
        Ok(ResponseEffect::TargetRefreshed)
    }

    /// A request within the dialog (RFC 3261 §12.2.1.1): the local CSeq is incremented
    /// (for every method but ACK and CANCEL), Request-URI and Route follow the route set
    /// (loose routing when the first route has `lr`, strict routing otherwise), From is
    /// the local URI with the local tag, To the remote URI with the remote tag, then
    /// Call-ID, CSeq, Max-Forwards 70, and Contact if the host gives one (required for
    /// target refresh requests). The Via is the host's, with a fresh branch.
    ///
    /// For the ACK of a 2xx use [`ack`](Self::ack); CANCEL is built from the request
    /// it cancels ([`MessageBuilder::cancel_for`]).
    pub fn request<'a>(
        &'a mut self,
        method: Method<'a>,
        via: ViaValue<'a>,
        contact: Option<&'a str>,
    ) -> Result<MessageBuilder<'a>, DialogError> {
        let mut b = MessageBuilder::request(method, "");
        self.request_into(&mut b, method, via, contact)?;
        Ok(b)
    }

    /// [`request`](Self::request) onto `b`, a builder of no headers (its start line is
    /// replaced): the builder is some 1800 bytes, and the endpoint saves copying it out
    /// of a `Result` this way. `b` is unchanged on error.
    pub(crate) fn request_into<'a>(
        &'a mut self,
        b: &mut MessageBuilder<'a>,
        method: Method<'a>,
        via: ViaValue<'a>,
        contact: Option<&'a str>,
    ) -> Result<(), DialogError> {
        if !matches!(method, Method::Ack | Method::Cancel) {
            // §8.1.1.5: CSeq numbers stay below 2^31.
            if self.local_seq >= CSEQ_MAX {
                return Err(DialogError::CSeqExhausted);
            }
            self.local_seq += 1;
        }
        let seq = self.local_seq;
        self.build(b, method, seq, via, contact);
        Ok(())
    }

    /// The ACK for a 2xx to the INVITE whose CSeq number was `invite_seq` (RFC 3261
    /// §13.2.2.4: same CSeq number, method ACK, built like any in-dialog request).
    /// `invite_seq` must be a valid CSeq number (below 2^31), as the INVITE's was.
    pub fn ack<'a>(&'a self, invite_seq: u32, via: ViaValue<'a>) -> MessageBuilder<'a> {
        let mut b = MessageBuilder::request(Method::Ack, "");
        self.ack_into(&mut b, invite_seq, via);
        b
    }

    /// [`ack`](Self::ack) onto `b`, a builder of no headers (see
    /// [`request_into`](Self::request_into)).
    pub(crate) fn ack_into<'a>(
        &'a self,
        b: &mut MessageBuilder<'a>,
        invite_seq: u32,
        via: ViaValue<'a>,
    ) {
        self.build(b, Method::Ack, invite_seq, via, None);
    }

    /// The request line and headers of an in-dialog request, onto `b`, a builder of no
    /// headers (its start line is replaced).
    fn build<'a>(
        &'a self,
        b: &mut MessageBuilder<'a>,
        method: Method<'a>,
        seq: u32,
        via: ViaValue<'a>,
        contact: Option<&'a str>,
    ) {
        let mut routes = self.route_set.split(' ').filter(|r| !r.is_empty());
        let first = routes.clone().next();
        let strict = first.is_some_and(|r| !route_is_loose(strip_angles(r)));
        // §12.2.1.1: a strict router takes the Request-URI; the remote target goes last.
        let request_uri = match first {
            Some(r) if strict => {
                routes.next();
                strip_angles(r)
            }
            _ => strip_angles(&self.remote_target),
        };
        b.set_request_line(method, request_uri);
        b.push_named("Via", Value::Via(via));
        // A number and a known method's CSeq always pass the writer's check
        // (`known_methods_are_tokens`): pushed as trusted.
        b.push_trusted("Max-Forwards", Value::Number(70));
        // From and To pass the writer's check as they are (`dialog_headers_pass_the_check`):
        // each URI is one the parser read (no control byte, so nothing to break the
        // framing: `Uri::parse`) in `<>`, and the remote tag, and a UAC's local tag, are
        // tags the parser read (`lex`'s tag class, which `is_tag` tests). A UAS's local
        // tag is the caller's: checked when written.
        let from = tagged(&self.local_uri, &self.id.local_tag);
        b.push_named_vouched("From", from, self.local_tag_parsed.0);
        b.push_trusted("To", tagged(&self.remote_uri, &self.id.remote_tag));
        b.push_named("Call-ID", Value::Text(&self.id.call_id));
        b.push_named_vouched("CSeq", Value::CSeq(seq, method), method.is_known());
        for r in routes {
            b.push_named("Route", Value::Text(r));
        }
        if strict {
            b.push_named("Route", Value::Text(&self.remote_target));
        }
        if let Some(c) = contact {
            b.push_named("Contact", Value::Text(c));
        }
    }
}

/// `uri;tag=t`, or the bare URI for an RFC 2543 peer that sent no tag (§12.1.1, §12.1.2:
/// a missing tag is an empty one).
fn tagged<'a>(uri: &'a str, tag: &'a str) -> Value<'a> {
    if tag.is_empty() {
        Value::Text(uri)
    } else {
        Value::Tagged(uri.as_bytes(), tag)
    }
}

fn bounded<const N: usize>(s: &str) -> Result<String<N>, Capacity> {
    let mut out = String::new();
    out.push_str(s).map_err(|_| Capacity::String)?;
    Ok(out)
}

/// `s` in `out`, replacing what it held.
fn set_bounded<const N: usize>(out: &mut String<N>, s: &str) -> Result<(), Capacity> {
    out.clear();
    out.push_str(s).map_err(|_| Capacity::String)
}

/// `<uri>` in `out`, replacing what it held (unspecified on error).
fn angled_into(out: &mut String<MAX_URI>, uri: &str) -> Result<(), Capacity> {
    out.clear();
    let ok = out.push('<').is_ok() && out.push_str(uri).is_ok() && out.push('>').is_ok();
    if ok { Ok(()) } else { Err(Capacity::String) }
}

pub(crate) fn strip_angles(s: &str) -> &str {
    s.strip_prefix('<')
        .and_then(|s| s.strip_suffix('>'))
        .unwrap_or(s)
}

fn is_sips(uri: &Uri<'_>) -> bool {
    uri.as_sip().is_some_and(|u| u.is_secure())
}

pub(crate) fn route_is_loose(uri: &str) -> bool {
    match Uri::parse_text(uri.as_bytes(), Some(uri)) {
        Ok(Uri::Sip(u)) => u.lr(),
        // A non-SIP route cannot be a strict router we could put in a Request-URI.
        _ => true,
    }
}

/// Append one route as `<uri>`. The first route, when it is a strict router, is stored
/// without its `method` parameter and URI headers, since it will only ever be used as a
/// Request-URI (RFC 3261 §12.2.1.1, §19.1.1 table 1).
fn push_route(
    set: &mut String<MAX_ROUTE_BYTES>,
    uri: &Uri<'_>,
    first: bool,
) -> Result<(), Capacity> {
    let full = Capacity::RouteSet;
    if !set.is_empty() {
        set.push(' ').map_err(|_| full)?;
    }
    set.push('<').map_err(|_| full)?;
    match uri {
        Uri::Sip(sip) if first && !sip.lr() => {
            let raw = sip.as_str();
            let params_at = raw.len()
                - sip.headers_str().len()
                - usize::from(!sip.headers_str().is_empty())
                - sip.params_str().len();
            set.push_str(raw.get(..params_at).unwrap_or(raw))
                .map_err(|_| full)?;
            for p in sip.params().filter(|p| !p.name_is("method")) {
                set.push(';').map_err(|_| full)?;
                set.push_str(p.name).map_err(|_| full)?;
                if let Some(v) = p.value {
                    set.push('=').map_err(|_| full)?;
                    set.push_str(v).map_err(|_| full)?;
                }
            }
        }
        other => set.push_str(other.as_str()).map_err(|_| full)?,
    }
    set.push('>').map_err(|_| full)
}

/// The state of the UAC's dialog a response makes (§12.1.2): early for 101–199 with a To
/// tag, confirmed for 2xx; otherwise it makes none. A 2xx without a To tag comes from an
/// RFC 2543 peer, and its tag is "considered to have a value of null" (§12.1.2): the UAC
/// must take it, or could neither ACK nor BYE the call. An early dialog needs the tag to
/// tell forks apart.
fn uac_state(response: &Message<'_>, to: &NameAddr<'_>) -> Result<DialogState, DialogError> {
    match response.status().map(|c| c.as_u16()) {
        Some(101..=199) if to.tag().is_some() => Ok(DialogState::Early),
        Some(200..=299) => Ok(DialogState::Confirmed),
        _ => Err(DialogError::NotDialogCreating),
    }
}

/// A UAC's route set: the response's Record-Route URIs, last first (RFC 3261 §12.1.2).
/// Written in `route_set`, replacing what it held (unspecified on error).
fn uac_route_set_into(
    route_set: &mut String<MAX_ROUTE_BYTES>,
    response: &Message<'_>,
) -> Result<(), DialogError> {
    route_set.clear();
    let mut routes: heapless::Vec<NameAddr<'_>, MAX_ROUTES> = heapless::Vec::new();
    for rr in response.record_routes() {
        routes.push(rr?).map_err(|_| Capacity::RouteSet)?;
    }
    for (i, rr) in routes.iter().rev().enumerate() {
        push_route(route_set, rr.uri(), i == 0)?;
    }
    Ok(())
}

/// The URI of the first Contact (RFC 3261 §12.1.1, §12.1.2).
pub(crate) fn contact_uri<'a>(msg: &Message<'a>) -> Result<&'a str, DialogError> {
    use crate::message::ContactValue;
    match msg.contacts().next() {
        Some(Ok(ContactValue::Addr(na))) => Ok(na.uri().as_str()),
        Some(Ok(_)) | None => Err(DialogError::MissingContact),
        Some(Err(e)) => Err(e.into()),
    }
}

/// [`contact_uri`] as parsed: its URI is read again for the first hop.
#[cfg(feature = "endpoint")]
fn contact_name_addr<'a>(msg: &Message<'a>) -> Result<NameAddr<'a>, DialogError> {
    use crate::message::ContactValue;
    match msg.contacts().next() {
        Some(Ok(ContactValue::Addr(na))) => Ok(na),
        Some(Ok(_)) | None => Err(DialogError::MissingContact),
        Some(Err(e)) => Err(e.into()),
    }
}

/// The remote target the first Contact of `msg` gives (RFC 3261 §12.1.1, §12.1.2): see
/// [`target_of`].
fn remote_target_of(msg: &Message<'_>) -> Result<String<MAX_URI>, DialogError> {
    let mut out = String::new();
    remote_target_into(&mut out, contact_uri(msg)?)?;
    Ok(out)
}

/// Whether the Contact URI `uri` is a remote target as it is: it holds no `?`, no
/// `;method` and no `%` (an escaped name such as `%6Dethod` is still `method`), checked
/// in one pass (RFC 3261 §19.1.1).
pub(crate) fn is_plain_target(uri: &str) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    // The high bit of each zero byte of `w`, exactly (no borrow between bytes).
    let zeros = |w: u64| !(((w & LOW7) + LOW7) | w | LOW7);
    let b = uri.as_bytes();
    let method_after = |i: usize| {
        b.get(i + 1..i + 7)
            .is_some_and(|w| w.eq_ignore_ascii_case(b"method"))
    };
    // Eight bytes a step: a `?` or `%` settles it, each `;` is looked at.
    let mut words = b.chunks_exact(8);
    let mut at = 0;
    for chunk in &mut words {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let w = u64::from_le_bytes(word);
        if zeros(w ^ (ONES * u64::from(b'?'))) | zeros(w ^ (ONES * u64::from(b'%'))) != 0 {
            return false;
        }
        let mut semis = zeros(w ^ (ONES * u64::from(b';')));
        while semis != 0 {
            if method_after(at + semis.trailing_zeros() as usize / 8) {
                return false;
            }
            semis &= semis - 1;
        }
        at += 8;
    }
    !words
        .remainder()
        .iter()
        .enumerate()
        .any(|(i, &c)| c == b'?' || c == b'%' || (c == b';' && method_after(at + i)))
}

/// [`is_plain_target`] a byte at a time: the reference it is compared with.
#[cfg(test)]
fn is_plain_target_bytewise(uri: &str) -> bool {
    let b = uri.as_bytes();
    !b.iter().enumerate().any(|(i, &c)| {
        c == b'?'
            || c == b'%'
            || (c == b';'
                && b.get(i + 1..i + 7)
                    .is_some_and(|w| w.eq_ignore_ascii_case(b"method")))
    })
}

/// The remote target a Contact URI `uri` (as the parser validated it) gives, in angle
/// brackets: the URI without a `method` parameter or `?headers`, which a Request-URI may
/// not carry (RFC 3261 §19.1.1, the table's Req.-URI column). A Contact seldom has
/// either, so its text is usually kept as it is, without parsing it again.
/// Written in `out`, replacing what it held (unspecified on error).
fn remote_target_into(out: &mut String<MAX_URI>, uri: &str) -> Result<(), DialogError> {
    remote_target_plain_into(out, uri).map(|_| ())
}

/// [`remote_target_into`], saying whether `uri` was kept as it is ([`is_plain_target`]),
/// so that the caller need not scan it again.
fn remote_target_plain_into(out: &mut String<MAX_URI>, uri: &str) -> Result<bool, DialogError> {
    if is_plain_target(uri) {
        angled_into(out, uri)?;
        return Ok(true);
    }
    out.clear();
    target_into(uri, out).map(|()| false)
}

/// [`remote_target_into`] appended to `out`, whatever its size: the endpoint writes the
/// target of a dialog too large to keep into a larger one, after the routes before it.
pub(crate) fn target_into<const N: usize>(
    uri: &str,
    out: &mut String<N>,
) -> Result<(), DialogError> {
    let b = uri.as_bytes();
    let parsed = Uri::parse_text(b, Some(uri))?;
    let kept = match parsed.as_sip() {
        Some(sip) => {
            let (params_start, params_end) = sip.params_span();
            (params_end < uri.len() || sip.param("method").is_some()).then_some((sip, params_start))
        }
        None => None,
    };
    let mut ok = out.push('<').is_ok();
    match kept {
        // The URI as it is (`?headers` of a non-SIP URI are its own business).
        None => ok &= out.push_str(uri).is_ok(),
        Some((sip, params_start)) => {
            ok &= out.push_str(uri.get(..params_start).unwrap_or(uri)).is_ok();
            for p in sip.params().filter(|p| !p.name_is("method")) {
                ok &= out.push(';').is_ok() && out.push_str(p.name).is_ok();
                if let Some(v) = p.value {
                    ok &= out.push('=').is_ok() && out.push_str(v).is_ok();
                }
            }
        }
    }
    if ok && out.push('>').is_ok() {
        Ok(())
    } else {
        Err(Capacity::String.into())
    }
}

/// The dialog constructors as they were before they built in place (each part made
/// apart, then moved into a new dialog): the reference the in-place ones are compared
/// with.
#[cfg(all(test, feature = "endpoint"))]
mod reference {
    use super::*;

    fn angled(uri: &str) -> Result<String<MAX_URI>, Capacity> {
        let mut out = String::new();
        let ok = out.push('<').is_ok() && out.push_str(uri).is_ok() && out.push('>').is_ok();
        if ok { Ok(out) } else { Err(Capacity::String) }
    }

    fn uac_route_set(response: &Message<'_>) -> Result<String<MAX_ROUTE_BYTES>, DialogError> {
        let mut route_set = String::new();
        let mut routes: heapless::Vec<NameAddr<'_>, MAX_ROUTES> = heapless::Vec::new();
        for rr in response.record_routes() {
            routes.push(rr?).map_err(|_| Capacity::RouteSet)?;
        }
        for (i, rr) in routes.iter().rev().enumerate() {
            push_route(&mut route_set, rr.uri(), i == 0)?;
        }
        Ok(route_set)
    }

    fn target_of(uri: &str) -> Result<String<MAX_URI>, DialogError> {
        let b = uri.as_bytes();
        let suspect = b.iter().enumerate().any(|(i, &c)| {
            c == b'?'
                || c == b'%'
                || (c == b';'
                    && b.get(i + 1..i + 7)
                        .is_some_and(|w| w.eq_ignore_ascii_case(b"method")))
        });
        if !suspect {
            return Ok(angled(uri)?);
        }
        let parsed = Uri::parse_text(b, Some(uri))?;
        let Some(sip) = parsed.as_sip() else {
            return Ok(angled(uri)?);
        };
        let (params_start, params_end) = sip.params_span();
        if params_end >= uri.len() && sip.param("method").is_none() {
            return Ok(angled(uri)?);
        }
        let mut out = String::new();
        let mut ok =
            out.push('<').is_ok() && out.push_str(uri.get(..params_start).unwrap_or(uri)).is_ok();
        for p in sip.params().filter(|p| !p.name_is("method")) {
            ok &= out.push(';').is_ok() && out.push_str(p.name).is_ok();
            if let Some(v) = p.value {
                ok &= out.push('=').is_ok() && out.push_str(v).is_ok();
            }
        }
        if ok && out.push('>').is_ok() {
            Ok(out)
        } else {
            Err(Capacity::String.into())
        }
    }

    fn remote_target_of(msg: &Message<'_>) -> Result<String<MAX_URI>, DialogError> {
        target_of(contact_uri(msg)?)
    }

    pub(super) fn uac_from_response(
        response: &Message<'_>,
        from: &NameAddr<'_>,
        to: &NameAddr<'_>,
        call_id: &str,
        seq: u32,
    ) -> Result<Dialog, DialogError> {
        let state = uac_state(response, to)?;
        // A 2xx without a To tag makes a dialog with a null remote tag (§12.1.2): a rule
        // added to both with `uac_state`, not part of the rewrite this compares.
        let remote_tag = to.tag().unwrap_or("");
        let remote_target = remote_target_of(response)?;
        Ok(Dialog {
            id: DialogId::new(call_id, from.tag().unwrap_or(""), remote_tag)?,
            state,
            local_seq: seq,
            remote_seq: None,
            local_uri: angled(from.uri().as_str())?,
            remote_uri: angled(to.uri().as_str())?,
            remote_target,
            route_set: uac_route_set(response)?,
            secure: false,
            hop: HopCache(None),
            local_tag_parsed: TagParsed(true),
        })
    }

    pub(super) fn confirm_uac(d: &mut Dialog, response: &Message<'_>) -> Result<(), DialogError> {
        let remote_target = remote_target_of(response).unwrap_or_else(|_| d.remote_target.clone());
        d.route_set = uac_route_set(response)?;
        d.remote_target = remote_target;
        d.hop = HopCache(None);
        d.state = DialogState::Confirmed;
        Ok(())
    }

    pub(super) fn uas(
        request: &Message<'_>,
        local_tag: &str,
        tls: bool,
    ) -> Result<Dialog, DialogError> {
        request
            .request_uri()
            .ok_or(DialogError::NotDialogCreating)??;
        let (from, to) = (request.from()?, request.to()?);
        let (call_id, seq) = (request.call_id()?, request.cseq()?.seq());
        let target = contact_uri(request);
        let secure = tls
            && request
                .request_uri()
                .transpose()?
                .is_some_and(|u| is_sips(&u));
        let mut route_set = String::new();
        for (i, rr) in request.record_routes().enumerate() {
            if i == MAX_ROUTES {
                return Err(Capacity::RouteSet.into());
            }
            push_route(&mut route_set, rr?.uri(), i == 0)?;
        }
        Ok(Dialog {
            id: DialogId::new(call_id.as_str(), local_tag, from.tag().unwrap_or(""))?,
            state: DialogState::Early,
            local_seq: 0,
            remote_seq: Some(seq),
            local_uri: angled(to.uri().as_str())?,
            remote_uri: angled(from.uri().as_str())?,
            remote_target: target_of(target?)?,
            route_set,
            secure,
            hop: HopCache(None),
            local_tag_parsed: TagParsed(false),
        })
    }
}

#[cfg(all(test, feature = "endpoint"))]
mod tests {
    use super::*;

    fn encode(b: &MessageBuilder<'_>) -> std::vec::Vec<u8> {
        let mut buf = [0u8; 1500];
        let n = b.encode_into(&mut buf).unwrap();
        buf[..n].to_vec()
    }

    fn response(code: u16, rr: &[&str], contact: &str) -> std::vec::Vec<u8> {
        let mut b = MessageBuilder::response(StatusCode::new(code).unwrap())
            .header("Via", Value::Text("SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1"))
            .header("From", Value::Text("<sip:alice@a.example>;tag=a1"))
            .header("To", Value::Text("<sip:bob@b.example>;tag=b1"))
            .header("Call-ID", Value::Text("c1@a.example"))
            .header("CSeq", Value::Text("1 INVITE"));
        for r in rr {
            b.push("Record-Route", Value::Text(r));
        }
        encode(&b.header("Contact", Value::Text(contact)))
    }

    /// An early dialog confirmed by its 2xx is the dialog the INVITE and the 2xx make:
    /// the 2xx's route set and Contact replace the provisional response's.
    #[test]
    fn confirm_uac_equals_a_dialog_made_from_the_2xx() {
        let via = ViaValue {
            transport: "UDP",
            sent_by: "192.0.2.1",
            branch: "z9hG4bK1",
            rport: false,
        };
        let invite = encode(
            &MessageBuilder::request(Method::Invite, "sip:bob@b.example")
                .header("Via", Value::Via(via))
                .header("From", Value::Text("<sip:alice@a.example>;tag=a1"))
                .header("To", Value::Text("<sip:bob@b.example>"))
                .header("Call-ID", Value::Text("c1@a.example"))
                .header("CSeq", Value::Text("1 INVITE"))
                .header("Contact", Value::Text("<sip:alice@192.0.2.1>")),
        );
        let ringing = response(180, &["<sip:p1.example;lr>"], "<sip:bob@192.0.2.9>");
        let ok = response(
            200,
            &["<sip:p2.example;lr>", "<sip:p1.example;lr>"],
            "<sip:bob@192.0.2.10>",
        );
        let inv = Message::parse(&invite).unwrap();
        let mut early = Dialog::uac(&inv, &Message::parse(&ringing).unwrap(), false).unwrap();
        assert_eq!(early.state(), DialogState::Early);
        let ok = Message::parse(&ok).unwrap();
        early.confirm_uac(&ok).unwrap();
        assert_eq!(early, Dialog::uac(&inv, &ok, false).unwrap());
        assert_eq!(early.remote_target(), "sip:bob@192.0.2.10");
        assert_eq!(early.route_set().count(), 2);
    }

    /// A response that echoes the request's From and CSeq makes the dialog the request
    /// and the response make together, early or confirmed.
    #[test]
    fn uac_from_response_equals_a_dialog_made_from_the_request() {
        let invite = encode(
            &MessageBuilder::request(Method::Invite, "sip:bob@b.example")
                .header("Via", Value::Text("SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1"))
                .header("From", Value::Text("\"A\" <sip:alice@a.example>;tag=a1"))
                .header("To", Value::Text("<sip:bob@b.example>"))
                .header("Call-ID", Value::Text("c1@a.example"))
                .header("CSeq", Value::Text("1 INVITE")),
        );
        let inv = Message::parse(&invite).unwrap();
        for (code, state) in [(180, DialogState::Early), (200, DialogState::Confirmed)] {
            let bytes = response(
                code,
                &["<sip:p2.example;lr>", "<sip:p1.example>"],
                "<sip:b@h>",
            );
            let resp = Message::parse(&bytes).unwrap();
            let made = Dialog::uac_from_response(
                &resp,
                &resp.from().unwrap(),
                &resp.to().unwrap(),
                "c1@a.example",
                1,
            )
            .unwrap();
            assert_eq!(made.state(), state);
            assert_eq!(made, Dialog::uac(&inv, &resp, false).unwrap());
        }
        // Not dialog-creating: no To tag, or a final non-2xx.
        let resp_bytes = response(486, &[], "<sip:b@h>");
        let resp = Message::parse(&resp_bytes).unwrap();
        let (from, to) = (resp.from().unwrap(), resp.to().unwrap());
        assert_eq!(
            Dialog::uac_from_response(&resp, &from, &to, "c1@a.example", 1),
            Err(DialogError::NotDialogCreating)
        );
    }

    /// A dialog full of another call's parts, to build into.
    fn dirty() -> Dialog {
        let bytes = response(
            180,
            &["<sip:p9.example;lr>", "<sip:p8.example;lr>"],
            "<sip:other@198.51.100.7:5070;transport=tcp>",
        );
        let resp = Message::parse(&bytes).unwrap();
        let (from, to) = (resp.from().unwrap(), resp.to().unwrap());
        let mut d = Dialog::uac_from_response(&resp, &from, &to, "another-call", 9).unwrap();
        d.set_remote_seq(Some(77));
        // A first hop kept, which building over the dialog must forget.
        d.set_hop(None);
        d
    }

    /// The dialogs one message makes, each way: built fresh, built over a dialog in use,
    /// and by the reference; and the confirmation of an early dialog by it.
    fn compare_constructors(msg: &Message<'_>) -> bool {
        let mut same = true;
        if msg.is_request() {
            for tls in [false, true] {
                let fresh = Dialog::uas(msg, "lt1", tls);
                same &= fresh == reference::uas(msg, "lt1", tls);
                if let (Ok(from), Ok(to), Ok(call_id), Ok(cseq)) =
                    (msg.from(), msg.to(), msg.call_id(), msg.cseq())
                {
                    let mut d = dirty();
                    let into = Dialog::uas_parts_into(
                        &mut d,
                        msg,
                        &from,
                        &to,
                        call_id.as_str(),
                        cseq.seq(),
                        contact_uri(msg),
                        "lt1",
                        tls,
                    );
                    if msg.request_uri().is_some_and(|u| u.is_ok()) {
                        same &= into.is_err() || d.hop().0.is_none();
                        same &= into.map(|()| d) == fresh;
                    }
                }
            }
        } else if let (Ok(from), Ok(to)) = (msg.from(), msg.to()) {
            let fresh = Dialog::uac_from_response(msg, &from, &to, "c1", 3);
            same &= fresh == reference::uac_from_response(msg, &from, &to, "c1", 3);
            let mut d = dirty();
            let into = Dialog::uac_from_response_into(&mut d, msg, &from, &to, "c1", 3);
            same &= into.is_err() || d.hop().0.is_none();
            same &= into.map(|()| d) == fresh;
            let (mut new, mut old) = (dirty(), dirty());
            let confirmed = new.confirm_uac(msg);
            same &= confirmed == reference::confirm_uac(&mut old, msg) && new == old;
            // A confirmed dialog forgets its first hop, or keeps the one its route set
            // and target give; one left unchanged keeps it.
            same &= match (confirmed.is_ok(), new.hop().0) {
                (true, None) => true,
                (true, Some(hop)) => hop == fresh_hop(&new),
                (false, hop) => hop.is_some(),
            };
        }
        same
    }

    /// The first hop of `d` worked out from its text, as the endpoint does without a cache.
    fn fresh_hop(d: &Dialog) -> Option<core::net::SocketAddr> {
        let t = d.route_set().next().unwrap_or(d.remote_target());
        let t = t.trim_start_matches('<').trim_end_matches('>');
        crate::locate::address_of(&Uri::parse_text(t.as_bytes(), Some(t)).ok()?)
    }

    /// A confirmed dialog without routes keeps the first hop its Contact gives.
    #[test]
    fn a_confirmed_dialog_keeps_its_first_hop() {
        let mut d = dirty();
        let ok = response(200, &[], "<sip:b@192.0.2.99:5070>");
        d.confirm_uac(&Message::parse(&ok).unwrap()).unwrap();
        let hop = "192.0.2.99:5070".parse().ok();
        assert_eq!(d.hop().0, Some(hop));
        assert_eq!(fresh_hop(&d), hop);
    }

    /// A target refresh forgets the kept first hop; one without Contact keeps it.
    #[test]
    fn a_target_refresh_forgets_the_first_hop() {
        let mut d = dirty();
        let bare = response(200, &[], "");
        d.refresh_target(&Message::parse(&bare).unwrap()).unwrap();
        assert_eq!(d.hop().0, Some(None));
        let moved = response(200, &[], "<sip:b@192.0.2.99>");
        d.refresh_target(&Message::parse(&moved).unwrap()).unwrap();
        assert_eq!(d.hop().0, None);
        assert_eq!(d.remote_target(), "sip:b@192.0.2.99");
    }

    /// The in-place constructors make what the reference made, also over a dialog in
    /// use, with the same errors.
    #[test]
    fn dialogs_built_in_place_equal_the_reference() {
        let invite = |rr: &str, contact: &str| {
            let mut b = MessageBuilder::request(Method::Invite, "sips:bob@b.example")
                .header("Via", Value::Text("SIP/2.0/TLS 192.0.2.1;branch=z9hG4bK1"))
                .header("From", Value::Text("<sip:alice@a.example>;tag=a1"))
                .header("To", Value::Text("<sip:bob@b.example>"))
                .header("Call-ID", Value::Text("c1@a.example"))
                .header("CSeq", Value::Text("4 INVITE"));
            if !rr.is_empty() {
                b.push("Record-Route", Value::Text(rr));
            }
            if !contact.is_empty() {
                b.push("Contact", Value::Text(contact));
            }
            encode(&b)
        };
        let long = std::format!("<sip:{}@h>", "x".repeat(300));
        let messages = [
            invite("<sip:p1.example;lr>", "<sip:a@192.0.2.1;method=INVITE?x=y>"),
            invite("<sip:p1.example>", "<sip:a@192.0.2.1>"),
            invite("", ""),
            invite("", &long),
            response(
                180,
                &["<sip:p2.example;lr>", "<sip:p1.example>"],
                "<sip:b@h>",
            ),
            response(200, &[], "<sip:b@h;method=BYE>"),
            response(200, &[], ""),
            response(183, &[], &long),
            response(486, &[], "<sip:b@h>"),
        ];
        for bytes in &messages {
            let msg = Message::parse(bytes).unwrap();
            assert!(
                compare_constructors(&msg),
                "{}",
                std::string::String::from_utf8_lossy(bytes)
            );
        }
    }

    /// The word-at-a-time plain-target test agrees with the byte loop: each of the
    /// bytes that matter (and `;method` in either case, whole or cut short) at every
    /// position of strings of every length up to past three words, and every corpus
    /// message's text.
    #[test]
    fn plain_target_scan_agrees_with_the_byte_loop() {
        let pieces: [&str; 9] = [
            "?",
            "%",
            ";",
            ";method",
            ";METHOD",
            ";metho",
            ";Method=x",
            "x",
            "\u{e9}",
        ];
        let mut compared = 0;
        for len in 0..28 {
            for at in 0..=len {
                for p in pieces {
                    for q in pieces {
                        let mut s: std::string::String = "sip:bob@host:5060;transport=udp"
                            .chars()
                            .cycle()
                            .take(len)
                            .collect();
                        s.insert_str(at.min(s.len()), p);
                        s.push_str(q);
                        assert_eq!(is_plain_target(&s), is_plain_target_bytewise(&s), "{s:?}");
                        compared += 1;
                    }
                }
            }
        }
        assert!(compared > 10_000);
    }

    #[test]
    #[ignore = "needs ../shared/corpus"]
    fn plain_target_scan_agrees_with_the_byte_loop_on_the_corpus() {
        for bytes in crate::corpus_inputs::inputs() {
            let text = std::string::String::from_utf8_lossy(&bytes);
            for start in 0..text.len().min(64) {
                let Some(s) = text.get(start..) else { continue };
                assert_eq!(is_plain_target(s), is_plain_target_bytewise(s), "{s:?}");
            }
        }
    }

    #[test]
    #[ignore = "needs ../shared/corpus"]
    fn dialogs_built_in_place_equal_the_reference_on_the_corpus_and_mutants() {
        let (mut compared, mut differ) = (0, 0);
        for bytes in crate::corpus_inputs::inputs() {
            let Ok(msg) = Message::parse(&bytes) else {
                continue;
            };
            compared += 1;
            differ += usize::from(!compare_constructors(&msg));
        }
        assert_eq!(differ, 0, "{differ} of {compared} messages differ");
    }

    /// The From and To of a dialog's requests pass the writer's check as they are, for
    /// every dialog the constructors accept: the requests check alike with and without
    /// the headers the dialog vouches for (and `push_trusted` asserts each in debug
    /// builds). The pieces cross the URI, tag and Call-ID rules, with line folds and
    /// both framings (a bare-LF message's values are no safer than a host's).
    fn requests_check_as_untrusted(d: &mut Dialog) {
        let via = ViaValue {
            transport: "UDP",
            sent_by: "192.0.2.1",
            branch: "z9hG4bK1",
            rport: false,
        };
        let agree = |b: &MessageBuilder<'_>| {
            let mut untrusted = b.clone();
            untrusted.trust_nothing();
            assert_eq!(b.encoded_len(), untrusted.encoded_len(), "{b:?}");
        };
        agree(&d.ack(1, via));
        if let Ok(b) = d.request(Method::Bye, via, None) {
            agree(&b);
        }
    }

    const ADDRESSES: &[&str] = &[
        "<sip:alice@a.example>",
        "sip:bob@b.example",
        "\"A b\" <sip:a%41b@[2001:db8::1]:5060;x=y?h=v>",
        "<sips:c@192.0.2.4:5061>",
        "<tel:+1-555-0100;phone-context=x>",
        "<urn:service:sos>",
        "<http://x.example/a?b=c>",
        "<mailto:a@b.example>",
        "<sip:a@b\tc>",
        "<sip:a@b\r\n c>",
        "<sip:a@b\x01>",
        "<sip:a@b\n c>",
        "<sip:a\u{e9}@b>",
        "<sip:a@b>\r\n ",
        "<>",
        "<x:\r\n >",
    ];
    const TAGS: &[&str] = &[
        "",
        ";tag=a1",
        ";tag=0123456789abcdef",
        ";tag=a&^:~!*'`+%",
        ";TAG=x",
        ";tag=",
        ";tag=\"q\"",
        ";tag=a;tag=b",
        ";tag=a b",
        ";tag=a\r\n b",
        ";tag=a\x01",
        ";tag=\u{e9}",
        ";x=y;tag=z",
        ";tag=a\nb",
    ];
    const CALL_IDS: &[&str] = &["c1@a.example", "c1", "a b", "a\r\n b", "x@y@z", "\u{e9}"];
    const LOCAL_TAGS: &[&str] = &[
        "lt1", "", "a;b", "a\r\nb", "a\r\n b", "x y", "\"", "a\nb", "&^~`", "a,b", "\t",
    ];

    fn piece(
        set: &'static [&'static str],
    ) -> impl proptest::strategy::Strategy<Value = &'static str> {
        proptest::sample::select(set)
    }

    /// Dialogs made from an INVITE and its 2xx with these pieces (UAC, then UAS with
    /// `local_tag`), each checked by [`requests_check_as_untrusted`]: how many.
    fn check_dialogs_of(
        [from, from_tag, to, to_tag, call_id, local_tag]: [&str; 6],
        lf: bool,
    ) -> usize {
        let nl = if lf { "\n" } else { "\r\n" };
        let head = |start: &str, to_tag: &str| {
            std::format!(
                "{start}{nl}Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1{nl}\
                 From: {from}{from_tag}{nl}To: {to}{to_tag}{nl}Call-ID: {call_id}{nl}\
                 CSeq: 1 INVITE{nl}Contact: <sip:x@192.0.2.9>{nl}Content-Length: 0{nl}{nl}"
            )
        };
        let invite = head("INVITE sip:bob@b.example SIP/2.0", "");
        let ok = head("SIP/2.0 200 OK", to_tag);
        let (Ok(inv), Ok(ok)) = (
            Message::parse(invite.as_bytes()),
            Message::parse(ok.as_bytes()),
        ) else {
            return 0;
        };
        let mut made = 0;
        if let Ok(mut d) = Dialog::uac(&inv, &ok, false) {
            requests_check_as_untrusted(&mut d);
            made += 1;
        }
        if let Ok(mut d) = Dialog::uas(&inv, local_tag, false) {
            requests_check_as_untrusted(&mut d);
            made += 1;
        }
        made
    }

    /// Every address and tag on both sides, in both framings.
    #[test]
    fn dialog_headers_pass_the_check_exhaustively() {
        let mut made = 0;
        for from in ADDRESSES {
            for to in ADDRESSES {
                for tag in TAGS {
                    for (i, lf) in [false, true].into_iter().enumerate() {
                        let local = LOCAL_TAGS[(made + i) % LOCAL_TAGS.len()];
                        made += check_dialogs_of([from, tag, to, tag, "c1@a.example", local], lf);
                    }
                }
            }
        }
        assert!(made > 1000, "{made}");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4096))]
        #[test]
        fn dialog_headers_pass_the_check(
            from in piece(ADDRESSES),
            from_tag in piece(TAGS),
            to in piece(ADDRESSES),
            to_tag in piece(TAGS),
            call_id in piece(CALL_IDS),
            local_tag in piece(LOCAL_TAGS),
            lf in proptest::bool::ANY,
        ) {
            check_dialogs_of([from, from_tag, to, to_tag, call_id, local_tag], lf);
        }
    }
}
