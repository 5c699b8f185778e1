//! Subscriptions kept by the endpoint, notifier side (RFC 6665 §4.2): the
//! [`notifier`](crate::notifier) machine driven with the SUBSCRIBE server transactions
//! (the first one accepted by the host, the refreshes and `Expires: 0` answered by the
//! endpoint), the subscription's dialog (this side is its UAS, RFC 3261 §12.1.1), NOTIFY
//! client transactions within it, one at a time, and the expiry timer.

use core::net::SocketAddr;

use heapless::String;

use super::table::{RawHandle, Table};
use super::{
    Bytes, Endpoint, Event, KeyHashes, MAX_CONTENT_TYPE, MAX_EVENT, SendError, TxHandle, text,
};
use crate::check::CoreHeaders;
use crate::dialog::{Dialog, DialogError};
use crate::encode::Value;
use crate::error::Capacity;
use crate::message::{HeaderKind, Message, Method, StatusCode};
use crate::notifier::{self, Action, Answer, Authorization, Ended, Notice, Notifier, Reason};
use crate::time::Instant;
use crate::transaction::{ClientKey, key::RequestKey};

/// Most subscriptions an endpoint serves as notifier at a time by default: the default of
/// its `NOTIFIERS` parameter ([`Endpoint`](super::Endpoint)). Each keeps its dialog and
/// the resource state last given (up to `MSG` bytes).
pub const MAX_NOTIFIERS: usize = 8;

/// The shortest subscription [`Accept::new`] accepts, seconds (refreshes asking for
/// less get 423 with `Min-Expires`, RFC 6665 §4.2.1.4).
pub const DEFAULT_MIN_EXPIRES: u32 = 60;

/// A subscription this endpoint serves as notifier. Generation-checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct NotifierHandle(pub(super) RawHandle);

/// How [`Endpoint::accept_subscription`] accepts a SUBSCRIBE.
///
/// ```
/// use sansip::endpoint::Accept;
/// use sansip::notifier::Authorization;
/// let accept = Accept {
///     body: Some(("application/pidf+xml", b"<presence/>".as_slice())),
///     ..Accept::new(3600)
/// };
/// assert_eq!(accept.authorization, Authorization::Active);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Accept<'a> {
    /// The longest duration granted, seconds; also the duration of a SUBSCRIBE without
    /// `Expires` (the package's default, RFC 6665 §4.2.1.1). A SUBSCRIBE asking for less
    /// gets what it asked for (never more, §4.2.1.1).
    pub expires: u32,
    /// The shortest duration accepted (but 0), seconds: a SUBSCRIBE asking for less gets
    /// 423 with `Min-Expires` (§4.2.1.1, §4.2.1.4). Taken as `expires` when above it.
    pub min_expires: u32,
    /// Whether the subscriber is authorized yet (`active`) or not (`pending`,
    /// §4.2.1.3); [`Endpoint::notify`] changes it.
    pub authorization: Authorization,
    /// The resource state (Content-Type, bytes) the first NOTIFY carries, if any.
    pub body: Option<(&'a str, &'a [u8])>,
}

impl Accept<'_> {
    /// Grant up to `expires` seconds, at least [`DEFAULT_MIN_EXPIRES`], active at
    /// once, with no body yet.
    pub fn new(expires: u32) -> Self {
        Accept {
            expires,
            min_expires: DEFAULT_MIN_EXPIRES,
            authorization: Authorization::Active,
            body: None,
        }
    }
}

pub(super) struct NotifierEntry<const MSG: usize> {
    machine: Notifier,
    /// This side is the dialog's UAS (RFC 3261 §12.1.1).
    dialog: Dialog,
    /// Where the SUBSCRIBE came from: NOTIFYs go there when the dialog's target or
    /// first route is not an IP literal.
    peer: SocketAddr,
    /// The NOTIFYs' `Event`: the SUBSCRIBE's event type and `id` (RFC 6665 §8.2.1).
    event: String<MAX_EVENT>,
    /// The resource state the TU gave last, and its Content-Type (empty: none).
    content_type: String<MAX_CONTENT_TYPE>,
    body: Bytes<MSG>,
    /// The NOTIFY out, if any.
    notify_tx: Option<TxHandle>,
    /// When the subscription expires.
    expires_at: Option<Instant>,
}

pub(super) type Notifiers<const MSG: usize, const N: usize> = Table<NotifierEntry<MSG>, N>;

/// Where a machine step comes from: a TU command (errors go back to the host, the
/// handle may not be known to it yet) or the network and timers (failures become events).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Cause {
    Command,
    Input,
}

impl<
    const TX: usize,
    const CALLS: usize,
    const MSG: usize,
    const QUEUE: usize,
    const SUBS: usize,
    const NOTIFIERS: usize,
    const REGS: usize,
> Endpoint<TX, CALLS, MSG, QUEUE, SUBS, NOTIFIERS, REGS>
{
    /// Accept the SUBSCRIBE of server transaction `tx` (from [`Event::IncomingRequest`],
    /// outside any dialog) as a subscription this endpoint serves (RFC 6665 §4.2.1.1):
    /// the endpoint answers 200 with `Expires` (the duration granted: what the
    /// SUBSCRIBE asked for, at most `accept.expires`), its Contact and a To tag, which
    /// makes the dialog (this side its UAS, RFC 3261 §12.1.1), and at once sends the
    /// first NOTIFY (§4.2.1.2) with `Subscription-State` `active` or `pending` and
    /// `accept.body`. A SUBSCRIBE with `Expires: 0` is a fetch (§4.4.3): 200, one NOTIFY
    /// `terminated` with the state, then [`Event::NotifierTerminated`].
    ///
    /// From then on the endpoint answers the subscriber's refreshes itself (200 with
    /// `Expires`, or 423 below `accept.min_expires`) and follows each with a NOTIFY
    /// ([`Event::NotifierRefreshed`]), ends the subscription on `Expires: 0` or expiry
    /// (a last NOTIFY, `terminated;reason=timeout`), sends the NOTIFYs one at a time
    /// (a change while one is out goes in the next, after its final response, §4.2.2),
    /// and ends it when a NOTIFY gets 481 or no answer. [`Event::NotifierTerminated`]
    /// says when it is over; the NOTIFYs' responses also give the usual
    /// [`Event::Response`]s. To refuse a SUBSCRIBE, answer it with
    /// [`Endpoint::respond`] (489 for an unknown package, 403, ...) instead.
    ///
    /// Errors (nothing sent, nothing kept, unless said): [`SendError::InvalidState`] if
    /// `tx` is not an unanswered SUBSCRIBE outside a dialog, has no `Event` or no
    /// Contact, or a malformed `Expires`; [`SendError::Capacity`] with
    /// [`Capacity::Notifiers`] when `NOTIFIERS` are kept already (answer 503
    /// yourself), [`Capacity::Transactions`] without room for the NOTIFY, or another
    /// bound (an `Event` longer than [`MAX_EVENT`], a body over `MSG` bytes);
    /// [`SendError::IntervalTooBrief`] when the SUBSCRIBE asked for less than
    /// `min_expires`: the endpoint answered it 423 with `Min-Expires`. If the first
    /// NOTIFY cannot be written (its headers and body over `MSG` bytes) the 200 is out
    /// but the subscription is dropped and the error says why.
    ///
    /// ```
    /// # use sansip::endpoint::{Accept, Endpoint, EndpointConfig, Event};
    /// # use sansip::message::HeaderKind;
    /// # use sansip::Instant;
    /// # let mut ep: Box<Endpoint> = Box::new(Endpoint::new(EndpointConfig::new("127.0.0.1:5060".parse()?, 1)));
    /// # let now = Instant::ZERO;
    /// # let subscribe = b"SUBSCRIBE sip:bob@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKs1\r\n\
    /// # Max-Forwards: 70\r\nFrom: <sip:alice@127.0.0.1>;tag=a1\r\nTo: <sip:bob@127.0.0.1>\r\nCall-ID: s1\r\n\
    /// # CSeq: 1 SUBSCRIBE\r\nContact: <sip:alice@127.0.0.1:5070>\r\nEvent: presence\r\nExpires: 600\r\nContent-Length: 0\r\n\r\n";
    /// # ep.handle_datagram(now, "127.0.0.1:5070".parse()?, subscribe);
    /// while let Some(event) = ep.poll_event() {
    ///     if let Event::IncomingRequest { tx, call: None } = event {
    ///         let event = ep.request(tx).and_then(|m| m.header(HeaderKind::Event).map(|h| h.value.to_vec()));
    ///         if event.as_deref() == Some(b"presence") {
    ///             let body = ("application/pidf+xml", b"<presence/>".as_slice());
    ///             let n = ep.accept_subscription(now, tx, &Accept { body: Some(body), ..Accept::new(3600) })?;
    ///             assert_eq!(ep.notifier_count(), 1);
    /// #           let _ = n;
    ///         }
    ///     }
    /// }
    /// # assert_eq!(ep.notifier_count(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn accept_subscription(
        &mut self,
        now: Instant,
        tx: TxHandle,
        accept: &Accept<'_>,
    ) -> Result<NotifierHandle, SendError> {
        let e = self.txs.get(tx.0).ok_or(SendError::UnknownHandle)?;
        if !e.machine.can_respond() || e.call.is_some() {
            return Err(SendError::InvalidState);
        }
        let to_tag = e.to_tag.text();
        let req = e
            .stored_request(&self.config.limits)
            .ok_or(SendError::InvalidState)?;
        if req.method() != Some(Method::Subscribe) || req.to().ok().and_then(|t| t.tag()).is_some()
        {
            return Err(SendError::InvalidState);
        }
        if self.notifiers.len() >= NOTIFIERS {
            return Err(SendError::Capacity(Capacity::Notifiers));
        }
        let event = event_value(&req)?;
        let asked = match req.expires() {
            None => None,
            Some(Ok(e)) => Some(e.0),
            Some(Err(_)) => return Err(SendError::InvalidState),
        };
        let (content_type, body) = state_copy(accept.body)?;
        let mut dialog = Dialog::uas(&req, &to_tag, self.over_tls()).map_err(|e| match e {
            DialogError::Capacity(c) => SendError::Capacity(c),
            _ => SendError::InvalidState,
        })?;
        // Confirmed by the 2xx sent below (RFC 3261 §12.1.1).
        dialog.confirm();
        let peer = e.peer;
        let step =
            Notifier::new(accept.expires, accept.min_expires).step(notifier::Event::Accept {
                expires: asked,
                authorization: accept.authorization,
            });
        if let Some(Action::Respond(Answer::IntervalTooBrief { min_expires })) =
            step.actions.first().copied()
        {
            self.answer(now, tx, Answer::IntervalTooBrief { min_expires })?;
            return Err(SendError::IntervalTooBrief { min_expires });
        }
        // The NOTIFY needs a transaction: fail before answering rather than after.
        if self.txs.len() >= TX {
            return Err(SendError::Capacity(Capacity::Transactions));
        }
        let entry = NotifierEntry {
            machine: step.notifier,
            dialog,
            peer,
            event,
            content_type,
            body,
            notify_tx: None,
            expires_at: None,
        };
        let n = self
            .notifiers
            .insert(entry)
            .map(NotifierHandle)
            .ok_or(SendError::Capacity(Capacity::Notifiers))?;
        self.run_notifier(now, n, &step.actions, Some(tx), Cause::Command)?;
        Ok(n)
    }

    /// The resource state (or the subscriber's authorization) of subscription `n`
    /// changed: a NOTIFY with `Subscription-State` `active` or `pending` (as
    /// `authorization` says, RFC 6665 §4.2.1.3) and `body` (Content-Type, bytes; `None`
    /// keeps the body given last) goes out now, or, while a NOTIFY is out, after its
    /// final response: back-to-back changes give one NOTIFY with the latest state
    /// (§4.2.2). [`SendError::InvalidState`] once the subscription is ending,
    /// [`SendError::Capacity`] for a body over `MSG` bytes (nothing changes). If the
    /// NOTIFY cannot be sent (its headers and body over `MSG` bytes, a full table), the
    /// error says so and the subscription is gone; when that happens to a NOTIFY sent
    /// later (after the one out), [`Event::NotifierTerminated`] says so with
    /// [`Ended::NotifyFailed`] (408), as for a NOTIFY without answer.
    pub fn notify(
        &mut self,
        now: Instant,
        n: NotifierHandle,
        authorization: Authorization,
        body: Option<(&str, &[u8])>,
    ) -> Result<(), SendError> {
        let e = self.notifiers.get(n.0).ok_or(SendError::UnknownHandle)?;
        if !matches!(
            e.machine.state(),
            notifier::State::Pending | notifier::State::Active
        ) {
            return Err(SendError::InvalidState);
        }
        if body.is_some() {
            let (content_type, bytes) = state_copy(body)?;
            if let Some(e) = self.notifiers.get_mut(n.0) {
                e.content_type = content_type;
                e.body = bytes;
            }
        }
        self.step_notifier(
            now,
            n,
            notifier::Event::Change(authorization),
            None,
            Cause::Command,
        )
    }

    /// End subscription `n` (RFC 6665 §4.2.2): a last NOTIFY,
    /// `terminated;reason=reason` (with `retry-after` if given; it carries no body), after
    /// the one out if any; [`Event::NotifierTerminated`] follows its final response.
    /// [`SendError::InvalidState`] if it is ending already; if the NOTIFY cannot be
    /// sent, the error says so and the subscription is gone.
    pub fn terminate_subscription(
        &mut self,
        now: Instant,
        n: NotifierHandle,
        reason: Reason,
        retry_after: Option<u32>,
    ) -> Result<(), SendError> {
        let e = self.notifiers.get(n.0).ok_or(SendError::UnknownHandle)?;
        if !matches!(
            e.machine.state(),
            notifier::State::Pending | notifier::State::Active
        ) {
            return Err(SendError::InvalidState);
        }
        self.step_notifier(
            now,
            n,
            notifier::Event::Terminate {
                reason,
                retry_after,
            },
            None,
            Cause::Command,
        )
    }

    /// Where a subscription this endpoint serves is, while it keeps it.
    pub fn notifier_state(&self, n: NotifierHandle) -> Option<notifier::State> {
        self.notifiers.get(n.0).map(|e| e.machine.state())
    }

    /// The dialog of a subscription this endpoint serves.
    pub fn notifier_dialog(&self, n: NotifierHandle) -> Option<&Dialog> {
        self.notifiers.get(n.0).map(|e| &e.dialog)
    }

    /// Subscriptions served now.
    pub fn notifier_count(&self) -> usize {
        self.notifiers.len()
    }

    /// Step the machine of `n` and carry out its actions (`tx`: the SUBSCRIBE that
    /// caused the step, if one did).
    fn step_notifier(
        &mut self,
        now: Instant,
        n: NotifierHandle,
        event: notifier::Event,
        tx: Option<TxHandle>,
        cause: Cause,
    ) -> Result<(), SendError> {
        let e = self
            .notifiers
            .get_mut(n.0)
            .ok_or(SendError::UnknownHandle)?;
        let step = e.machine.step(event);
        e.machine = step.notifier;
        self.run_notifier(now, n, &step.actions, tx, cause)
    }

    fn run_notifier(
        &mut self,
        now: Instant,
        n: NotifierHandle,
        actions: &[Action],
        tx: Option<TxHandle>,
        cause: Cause,
    ) -> Result<(), SendError> {
        for &action in actions {
            match action {
                Action::Respond(answer) => {
                    if let Some(tx) = tx {
                        let sent = self.answer(now, tx, answer);
                        if sent.is_err() && cause == Cause::Command {
                            // The first SUBSCRIBE could not be answered: nothing is made.
                            self.notifiers.remove(n.0);
                            return sent;
                        }
                    }
                }
                Action::Send(notify) => {
                    if let Err(e) = self.send_notify(now, n, notify) {
                        if cause == Cause::Command {
                            self.notifiers.remove(n.0);
                            return Err(e);
                        }
                        // As if it went out and got no answer (the machine's Timeout).
                        return self.step_notifier(now, n, notifier::Event::Timeout, None, cause);
                    }
                }
                Action::StartTimer(after) => {
                    if let Some(e) = self.notifiers.get_mut(n.0) {
                        e.expires_at = Some(now.saturating_add(after));
                    }
                }
                Action::CancelTimer => {
                    if let Some(e) = self.notifiers.get_mut(n.0) {
                        e.expires_at = None;
                    }
                }
                Action::Tell(Notice::Refreshed { expires }) => {
                    self.push_event(Event::NotifierRefreshed {
                        notifier: n,
                        expires,
                    })
                }
                Action::Tell(Notice::Terminated(reason)) => {
                    if self.notifiers.remove(n.0).is_some() {
                        self.push_event(Event::NotifierTerminated {
                            notifier: n,
                            reason,
                        });
                    }
                }
            }
        }
        Ok(())
    }

    /// Answer a SUBSCRIBE of a subscription: 200 with `Expires` and this endpoint's
    /// Contact (it makes or refreshes the dialog's target, RFC 6665 §3.1), 423 with
    /// `Min-Expires` (RFC 3261 §20.23), or 481.
    fn answer(&mut self, now: Instant, tx: TxHandle, answer: Answer) -> Result<(), SendError> {
        let mut number: String<10> = String::new();
        // §12.1.1: a SIPS Contact in the answer to a SUBSCRIBE for a SIPS URI.
        let sips = self
            .txs
            .get(tx.0)
            .and_then(|e| e.stored_request(&self.config.limits))
            .and_then(|m| m.request_uri_raw().map(super::sips_bytes))
            .unwrap_or(false);
        let contact: String<{ super::MAX_CONTACT }> =
            String::try_from(self.contacts.get(sips)).unwrap_or_default();
        match answer {
            Answer::Accepted { expires } => {
                let _ = text::push_u32(&mut number, expires);
                let headers = [("Expires", number.as_str()), ("Contact", contact.as_str())];
                self.respond_with(now, tx, StatusCode::OK, &headers, None)
            }
            Answer::IntervalTooBrief { min_expires } => {
                let _ = text::push_u32(&mut number, min_expires);
                let headers = [("Min-Expires", number.as_str())];
                self.respond_with(now, tx, answer.status(), &headers, None)
            }
            Answer::NoSubscription => self.respond_with(now, tx, answer.status(), &[], None),
        }
    }

    /// A NOTIFY within the dialog of `n` (RFC 3261 §12.2.1.1: CSeq, Request-URI and
    /// Route from the dialog; RFC 6665 §8.1.2: `Event`, `Subscription-State`, Contact).
    fn send_notify(
        &mut self,
        now: Instant,
        n: NotifierHandle,
        notify: notifier::Notify,
    ) -> Result<(), SendError> {
        let (branch, sent_by) = self.via_parts();
        let via = self.via(&branch, &sent_by);
        let e = self
            .notifiers
            .get_mut(n.0)
            .ok_or(SendError::UnknownHandle)?;
        // §4.2.2: `expires` is the time left, rounded up to whole seconds.
        let left_ms = e
            .expires_at
            .map_or(0, |t| t.saturating_duration_since(now).as_millis());
        let left = u32::try_from(left_ms.div_ceil(1000)).unwrap_or(u32::MAX);
        let mut state: String<64> = String::new();
        // Fits: the longest is `terminated;reason=deactivated;retry-after=4294967295`.
        let _ = notify.write_state(&mut state, left);
        // A last NOTIFY the TU caused carries no state (it may withdraw what the
        // subscriber could see); one after an unsubscription or expiry carries the state.
        let by_tu = notify.is_final() && matches!(e.machine.ending(), Some(Ended::ByTu { .. }));
        let with_body = !e.body.is_empty() && !by_tu;
        let dest = super::dialog_destination(&e.dialog, e.peer);
        let mut bytes = Bytes::<MSG>::new();
        let mut b = e
            .dialog
            .request(
                Method::Notify,
                via,
                Some(self.contacts.for_dialog(&e.dialog)),
            )
            .map_err(|_| SendError::InvalidState)?;
        b.push("Event", Value::Text(&e.event));
        b.push("Subscription-State", Value::Text(&state));
        if with_body {
            b.set_body(&e.content_type, &e.body);
        }
        b.encode_appending(&mut bytes)?;
        drop(b);
        let key = ClientKey::new(&branch, Method::Notify)
            .map_err(|_| SendError::Capacity(Capacity::Branch))?;
        let tx = self.start_client_tx(now, dest, &bytes, key, false)?;
        if let Some(e) = self.notifiers.get_mut(n.0) {
            e.notify_tx = Some(tx);
        }
        Ok(())
    }

    /// A final response (or none: a timeout) to a client transaction: if it is a
    /// subscription's NOTIFY, its machine takes it. A 2xx refreshes the dialog's remote
    /// target (a NOTIFY is a target refresh request, RFC 6665 §3.2).
    pub(super) fn notifier_response(
        &mut self,
        now: Instant,
        tx: TxHandle,
        response: Option<&Message<'_>>,
    ) {
        let found = self
            .notifiers
            .iter()
            .find(|(_, e)| e.notify_tx == Some(tx))
            .map(|(h, _)| NotifierHandle(h));
        let Some(n) = found else {
            return;
        };
        let event = match response.and_then(|m| m.status().map(|c| (m, c))) {
            Some((m, code)) => {
                if let Some(e) = self.notifiers.get_mut(n.0) {
                    e.notify_tx = None;
                    if code.is_success() {
                        let _ = e.dialog.refresh_target(m);
                    }
                }
                notifier::Event::Response(code)
            }
            None => {
                if let Some(e) = self.notifiers.get_mut(n.0) {
                    e.notify_tx = None;
                }
                notifier::Event::Timeout
            }
        };
        let _ = self.step_notifier(now, n, event, None, Cause::Input);
    }

    /// The subscription an in-dialog SUBSCRIBE refreshes or ends (RFC 6665 §4.2.1.4):
    /// its dialog id (Call-ID, To tag = local tag, From tag = remote tag) and its
    /// `Event` (type and `id`, §8.2.1) are the subscription's.
    pub(super) fn notifier_for(
        &self,
        msg: &Message<'_>,
        core: &CoreHeaders<'_>,
    ) -> Option<NotifierHandle> {
        if msg.method() != Some(Method::Subscribe) {
            return None;
        }
        let local_tag = core.to.tag()?;
        let remote_tag = core.from.tag().unwrap_or("");
        let event = msg
            .header(HeaderKind::Event)
            .and_then(|h| crate::message::Event::parse(h.value).ok())?;
        self.notifiers
            .iter()
            .find(|(_, e)| {
                let id = e.dialog.id();
                let ours = crate::message::Event::parse(e.event.as_bytes()).ok();
                id.call_id() == core.call_id.as_str()
                    && id.local_tag() == local_tag
                    && id.remote_tag() == remote_tag
                    && ours.is_some_and(|o| {
                        o.event_type().eq_ignore_ascii_case(event.event_type())
                            && o.id() == event.id()
                    })
            })
            .map(|(h, _)| NotifierHandle(h))
    }

    /// A SUBSCRIBE within the dialog of subscription `n`
    /// ([`notifier_for`](Self::notifier_for)): it gets its server transaction, the
    /// dialog checks its CSeq (RFC 3261 §12.2.2), its Contact refreshes the target when
    /// it is accepted (RFC 6665 §3.1), and the machine answers it and sends what
    /// follows.
    pub(super) fn on_resubscribe(
        &mut self,
        now: Instant,
        from: SocketAddr,
        msg: &Message<'_>,
        key: &RequestKey,
        core: &CoreHeaders<'_>,
        n: NotifierHandle,
    ) {
        let Some(tx) = self.new_server_tx(now, from, msg, core, key, None, KeyHashes::default())
        else {
            return;
        };
        let expires = match msg.expires() {
            None => None,
            Some(Ok(e)) => Some(e.0),
            Some(Err(_)) => {
                self.stats.rejected += 1;
                let _ = self.send_response(now, tx, StatusCode::BAD_REQUEST);
                return;
            }
        };
        let verdict = self.notifiers.get_mut(n.0).map(|e| {
            e.dialog
                .on_request_parts(core.call_id.as_str(), &core.from, &core.to, &core.cseq)
        });
        if let Some(Err(reject)) = verdict {
            self.stats.rejected += 1;
            let _ = self.send_response(now, tx, reject.status());
            return;
        }
        let event = match expires {
            Some(0) => notifier::Event::Unsubscribe,
            _ => notifier::Event::Refresh { expires },
        };
        // Only a SUBSCRIBE the subscription accepts refreshes the target (RFC 3261
        // §12.2.2; one refused, 423 or 481, changes nothing). The machine is a value:
        // asking it first costs nothing.
        if let Some(e) = self.notifiers.get_mut(n.0)
            && matches!(
                e.machine.step(event).actions.first(),
                Some(Action::Respond(Answer::Accepted { .. }))
            )
        {
            let _ = e.dialog.refresh_target(msg);
        }
        let _ = self.step_notifier(now, n, event, Some(tx), Cause::Input);
        // Whatever happened, the SUBSCRIBE gets a final response.
        if self.txs.get(tx.0).is_some_and(|e| e.machine.can_respond()) {
            self.stats.rejected += 1;
            let _ = self.send_response(now, tx, StatusCode::CALL_OR_TRANSACTION_DOES_NOT_EXIST);
        }
    }

    /// The earliest expiry due.
    pub(super) fn next_notifier_timer(&self) -> Option<Instant> {
        self.notifiers
            .iter()
            .filter_map(|(_, e)| e.expires_at)
            .min()
    }

    /// Expire the subscriptions due at `now` (RFC 6665 §4.2.1.4).
    pub(super) fn fire_notifier_timers(&mut self, now: Instant) {
        let due: heapless::Vec<RawHandle, NOTIFIERS> = self
            .notifiers
            .iter()
            .filter(|(_, e)| e.expires_at.is_some_and(|t| t <= now))
            .map(|(h, _)| h)
            .collect();
        for h in due {
            if let Some(e) = self.notifiers.get_mut(h) {
                e.expires_at = None;
            }
            let _ = self.step_notifier(
                now,
                NotifierHandle(h),
                notifier::Event::Timer,
                None,
                Cause::Input,
            );
        }
    }
}

/// The `Event` value a subscription's NOTIFYs carry: the SUBSCRIBE's event type and
/// `id` (RFC 6665 §8.2.1; other parameters are the SUBSCRIBE's business).
fn event_value(req: &Message<'_>) -> Result<String<MAX_EVENT>, SendError> {
    let event = req
        .header(HeaderKind::Event)
        .and_then(|h| crate::message::Event::parse(h.value).ok())
        .ok_or(SendError::InvalidState)?;
    let mut value: String<MAX_EVENT> = String::new();
    let too_long = SendError::Capacity(Capacity::String);
    value.push_str(event.event_type()).map_err(|_| too_long)?;
    if let Some(id) = event.id() {
        value.push_str(";id=").map_err(|_| too_long)?;
        value.push_str(id).map_err(|_| too_long)?;
    }
    Ok(value)
}

/// The TU's resource state copied into a subscription's bounded storage.
fn state_copy<const MSG: usize>(
    body: Option<(&str, &[u8])>,
) -> Result<(String<MAX_CONTENT_TYPE>, Bytes<MSG>), SendError> {
    let too_big = SendError::Capacity(Capacity::Buffer);
    match body {
        Some((ct, b)) => Ok((
            String::try_from(ct).map_err(|_| too_big)?,
            Bytes::from_slice(b).map_err(|_| too_big)?,
        )),
        None => Ok((String::new(), Bytes::new())),
    }
}
