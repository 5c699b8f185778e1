//! Subscriptions kept by the endpoint, subscriber side (RFC 6665 §4.1): the
//! [`subscription`](crate::subscription) machine driven with SUBSCRIBE client
//! transactions, the subscription's dialog (from the 2xx, or from a NOTIFY that came
//! first, §4.1.2.4), NOTIFYs routed to it, and one timer; with [`Subscribe::forks`], a
//! subscription of its own for each further notifier a forked SUBSCRIBE reached (§5.4.9).

use core::net::SocketAddr;

use heapless::String;

use super::digest::{Answers, Auth, DigestCredentials, Rewrite, authorize, rewrite_request};
use super::table::{HashKey, RawHandle, Table, hash_parts};
use super::{Bytes, Endpoint, Event, KeyHashes, Request, SendError, TxHandle, text};
use crate::check::CoreHeaders;
use crate::dialog::Dialog;
use crate::encode::Value;
use crate::error::Capacity;
use crate::message::{HeaderKind, Limits, Message, Method, SubState, SubscriptionState};
use crate::subscription::{self, Action, Notice, NotifyState, Subscription};
use crate::time::Instant;
use crate::transaction::{ClientKey, key::RequestKey};

/// Most subscriptions an endpoint keeps at a time by default: the default of its `SUBS`
/// parameter ([`Endpoint`](super::Endpoint)).
pub const MAX_SUBSCRIPTIONS: usize = 8;
/// Longest `Event` value a subscription keeps (package, template, `id`).
pub const MAX_EVENT: usize = 64;

/// A subscription of this endpoint. Generation-checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SubscriptionHandle(pub(super) RawHandle);

/// What [`Endpoint::subscribe`] subscribes to.
#[derive(Clone, Copy, Debug)]
pub struct Subscribe<'a> {
    /// The Request-URI: the resource, e.g. `sip:bob@example.com`.
    pub uri: &'a str,
    /// From (without tag), e.g. `<sip:alice@example.com>`.
    pub from: &'a str,
    /// To, e.g. `<sip:bob@example.com>`.
    pub to: &'a str,
    /// The `Event` value: the package and an optional `id`, e.g. `presence`,
    /// `message-summary`, `dialog;id=7` (RFC 6665 §8.2.1).
    pub event: &'a str,
    /// Duration asked for, seconds.
    pub expires: u32,
    /// `Accept`, if the package needs one (e.g. `application/pidf+xml`).
    pub accept: Option<&'a str>,
    /// The user's Digest credentials, `None` for none. A SUBSCRIBE of the subscription
    /// (the first, a refresh, or `Expires: 0`) that gets a 401 or 407 is then sent again
    /// answering the challenge (RFC 3261 §22.2, §22.3; [`Event::Reoriginated`]) instead
    /// of failing, and later SUBSCRIBEs carry the answers to the last challenge of each
    /// kind. Each challenge is answered once, as for a call
    /// ([`Request::credentials`](super::Request)). At most
    /// [`MAX_CREDENTIAL`](super::MAX_CREDENTIAL) bytes each ([`SendError::Capacity`]).
    pub credentials: Option<DigestCredentials<'a>>,
    /// Keep a subscription per notifier when the SUBSCRIBE forks (RFC 6665 §4.1.2.4,
    /// §5.4.9): a NOTIFY matching this subscription but for its notifier's tag (its From
    /// tag differs from the dialog's remote tag) makes a new subscription, with its own
    /// dialog, refreshes and handle ([`Event::SubscriptionForked`], then the NOTIFY's
    /// events under the new handle). Only for packages that allow several subscriptions
    /// from one SUBSCRIBE (presence does, RFC 3856 §4.1); when off (the default) such a
    /// NOTIFY gets 481, as §5.4.9 says for the others. A fork past
    /// the endpoint's `SUBS` ([`MAX_SUBSCRIPTIONS`] by default) gets 481 too, with
    /// [`Event::Capacity`].
    pub forks: bool,
}

impl<'a> Subscribe<'a> {
    /// A subscription to `event` at `uri` for `expires` seconds, with no `Accept` and no
    /// credentials; set those fields with struct update syntax (`..Subscribe::new(...)`),
    /// which keeps code compiling when fields are added.
    pub fn new(uri: &'a str, from: &'a str, to: &'a str, event: &'a str, expires: u32) -> Self {
        Subscribe {
            uri,
            from,
            to,
            event,
            expires,
            accept: None,
            credentials: None,
            forks: false,
        }
    }
}

pub(super) struct SubEntry {
    machine: Subscription,
    /// Where the first SUBSCRIBE went (and others go while there is no dialog).
    to: SocketAddr,
    event: String<MAX_EVENT>,
    /// The first SUBSCRIBE's Call-ID and From tag: a NOTIFY is matched by them (and its
    /// `Event`) before the dialog exists.
    call_id: String<64>,
    from_tag: String<16>,
    dialog: Option<Dialog>,
    /// The SUBSCRIBE out, if any.
    tx: Option<TxHandle>,
    timer_at: Option<Instant>,
    /// The CSeq number of the last SUBSCRIBE sent outside the dialog (the first, or it
    /// sent again with credentials): a dialog a NOTIFY makes goes on from it.
    cseq: u32,
    /// The user's credentials and the challenges given, if any.
    auth: Option<Auth>,
    /// The notifier's `Min-Expires` from a 423 (RFC 6665 §4.1.2.1): no SUBSCRIBE of the
    /// subscription asks for less (but `Expires: 0`).
    min_expires: u32,
    /// When the subscription expires, as the last 2xx or NOTIFY `expires` said: past it,
    /// refreshes that failed leave nothing valid (RFC 6665 §4.1.2.2).
    expires_at: Option<Instant>,
    /// Another notifier's NOTIFY makes a new subscription ([`Subscribe::forks`]).
    forks: bool,
}

pub(super) type Subscriptions<const N: usize> = Table<SubEntry, N>;

/// How many ended dialogs of subscriptions keeping forks are remembered.
const ENDED_FORKS: usize = 2 * MAX_SUBSCRIPTIONS;
/// The domain of [`EndedForks`]' hashes (the endpoint's tables use 1 to 6).
const ENDED_FORK_HASH: u8 = 7;

/// The dialogs of subscriptions keeping forks ([`Subscribe::forks`]) that ended, by a
/// hash of Call-ID, local and remote tag, the oldest forgotten first: a later NOTIFY of
/// one is for a subscription that no longer exists (481, RFC 6665 §4.1.3, RFC 3261
/// §12.2.2), not another notifier's first NOTIFY, which would bring back a subscription
/// the host was told had ended.
#[derive(Default)]
pub(super) struct EndedForks {
    ids: [u64; ENDED_FORKS],
    next: usize,
}

impl EndedForks {
    /// The endpoint's keyed hash of the dialog's id, never 0 (an empty slot).
    fn id(key: HashKey, call_id: &str, local_tag: &str, remote_tag: &str) -> u64 {
        let parts = [call_id, local_tag, remote_tag].map(str::as_bytes);
        hash_parts(key, ENDED_FORK_HASH, &parts) | 1
    }

    fn push(&mut self, id: u64) {
        if let Some(slot) = self.ids.get_mut(self.next) {
            *slot = id;
        }
        self.next = (self.next + 1) % ENDED_FORKS;
    }

    fn contains(&self, id: u64) -> bool {
        self.ids.contains(&id)
    }
}

impl SubEntry {
    /// When the subscription is given up, while it is pending or active (unsubscribing
    /// and subscribing have the machine's own 64*T1 wait): `grace` (T4, the time a
    /// message may still be in the network) after it expires, so that the notifier's
    /// terminating NOTIFY sent at the expiry (§4.2.2) still finds it.
    fn live_until(&self, grace: core::time::Duration) -> Option<Instant> {
        matches!(
            self.machine.state(),
            subscription::State::Pending | subscription::State::Active
        )
        .then_some(self.expires_at)
        .flatten()
        .map(|t| t.saturating_add(grace))
    }
}

fn secs(s: u32) -> core::time::Duration {
    core::time::Duration::from_secs(u64::from(s))
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
    /// Subscribe to an event package at `to` (RFC 6665 §4.1): a SUBSCRIBE with
    /// `Event`, `Expires` and this endpoint's Contact. Each NOTIFY of the subscription is
    /// an [`Event::Notify`]: read it with [`Endpoint::request`] and answer it with
    /// [`Endpoint::respond`] (200; RFC 6665 §4.1.3). The endpoint follows its
    /// `Subscription-State` ([`Event::SubscriptionActive`], [`Event::SubscriptionPending`]),
    /// refreshes the subscription a tenth of its duration before it expires, and reports
    /// [`Event::SubscriptionTerminated`] when it ends (then the handle no longer
    /// resolves). The SUBSCRIBE's responses also give the usual [`Event::Response`]s.
    ///
    /// A NOTIFY passes the request checks of [`check`](crate::check) like any request:
    /// list the package's body types (`application/pidf+xml`,
    /// `application/simple-message-summary`, ...) in the capabilities of
    /// [`EndpointConfig`](super::EndpointConfig), or its NOTIFYs get 415.
    ///
    /// [`SendError::Capacity`] if `SUBS` are kept already or `event` is
    /// longer than [`MAX_EVENT`].
    pub fn subscribe(
        &mut self,
        now: Instant,
        to: SocketAddr,
        sub: &Subscribe<'_>,
    ) -> Result<SubscriptionHandle, SendError> {
        if self.subs.len() >= SUBS {
            return Err(SendError::Capacity(Capacity::Subscriptions));
        }
        let event: String<MAX_EVENT> =
            String::try_from(sub.event).map_err(|_| SendError::Capacity(Capacity::String))?;
        let auth = sub.credentials.as_ref().map(Auth::new).transpose()?;
        let mut expires: String<10> = String::new();
        let _ = text::push_u32(&mut expires, sub.expires);
        let mut headers: heapless::Vec<(&str, &str), 3> = heapless::Vec::new();
        let _ = headers.push(("Event", sub.event));
        let _ = headers.push(("Expires", &expires));
        if let Some(accept) = sub.accept {
            let _ = headers.push(("Accept", accept));
        }
        // The Call-ID and From tag are kept: NOTIFYs are matched by them.
        let call_id: String<64> = self.new_call_id();
        let from_tag = self.random_tag();
        let req = Request {
            headers: &headers,
            call_id: Some(&call_id),
            from_tag: Some(&from_tag),
            ..Request::new(Method::Subscribe, sub.uri, sub.from, sub.to)
        };
        let tx = self.start_request(now, to, &req, &mut String::new())?;
        let entry = SubEntry {
            machine: Subscription::new(sub.expires),
            to,
            event,
            call_id,
            from_tag,
            dialog: None,
            tx: Some(tx),
            timer_at: None,
            cseq: 1,
            auth,
            min_expires: 0,
            expires_at: None,
            forks: sub.forks,
        };
        // Room was checked above.
        self.subs
            .insert(entry)
            .map(SubscriptionHandle)
            .ok_or(SendError::Capacity(Capacity::Subscriptions))
    }

    /// End a subscription (`Expires: 0`, RFC 6665 §4.1.2.3);
    /// [`Event::SubscriptionTerminated`] follows the terminating NOTIFY (or 64*T1). If
    /// the SUBSCRIBE cannot be sent, the error says so and the subscription is gone.
    pub fn unsubscribe(&mut self, now: Instant, sub: SubscriptionHandle) -> Result<(), SendError> {
        self.step_sub_as(now, sub, subscription::Event::Unsubscribe, true)
    }

    /// Where a subscription is, while the endpoint keeps it.
    pub fn subscription_state(&self, sub: SubscriptionHandle) -> Option<subscription::State> {
        self.subs.get(sub.0).map(|s| s.machine.state())
    }

    /// Subscriptions kept now.
    pub fn subscription_count(&self) -> usize {
        self.subs.len()
    }

    fn step_sub(
        &mut self,
        now: Instant,
        sub: SubscriptionHandle,
        event: subscription::Event,
    ) -> Result<(), SendError> {
        self.step_sub_as(now, sub, event, false)
    }

    /// Step the machine and carry out its actions. A SUBSCRIBE that cannot be sent ends
    /// the subscription: for a TU `command` the error says so, else an event does.
    fn step_sub_as(
        &mut self,
        now: Instant,
        sub: SubscriptionHandle,
        event: subscription::Event,
        command: bool,
    ) -> Result<(), SendError> {
        let t1x64 = self.config.timers.t1_x64();
        let s = self.subs.get_mut(sub.0).ok_or(SendError::UnknownHandle)?;
        let step = s.machine.step(t1x64, event);
        s.machine = step.subscription;
        for action in step.actions {
            match action {
                Action::Send { expires } => {
                    if let Err(e) = self.send_subscribe(now, sub, expires) {
                        // Nothing went out: the subscription cannot go on.
                        if command {
                            self.remove_sub(sub);
                        } else {
                            self.end_sub(
                                sub,
                                subscription::Ended::Rejected(
                                    crate::message::StatusCode::SERVER_INTERNAL_ERROR,
                                ),
                            );
                        }
                        return Err(e);
                    }
                }
                Action::StartTimer(after) => {
                    if let Some(s) = self.subs.get_mut(sub.0) {
                        s.timer_at = Some(now.saturating_add(after));
                    }
                }
                Action::CancelTimer => {
                    if let Some(s) = self.subs.get_mut(sub.0) {
                        s.timer_at = None;
                    }
                }
                Action::Notify(Notice::Active { expires }) => {
                    self.push_event(Event::SubscriptionActive { sub, expires })
                }
                Action::Notify(Notice::Pending) => {
                    self.push_event(Event::SubscriptionPending { sub })
                }
                Action::Notify(Notice::Terminated(why)) => self.end_sub(sub, why),
            }
        }
        Ok(())
    }

    fn end_sub(&mut self, sub: SubscriptionHandle, why: subscription::Ended) {
        if self.remove_sub(sub) {
            self.push_event(Event::SubscriptionTerminated { sub, reason: why });
        }
    }

    /// Remove subscription `sub`; whether it was there. The dialog of one keeping forks
    /// is remembered as ended ([`EndedForks`]).
    fn remove_sub(&mut self, sub: SubscriptionHandle) -> bool {
        let Some(s) = self.subs.remove(sub.0) else {
            return false;
        };
        if let Some(d) = s.dialog.as_ref().filter(|_| s.forks) {
            let id = EndedForks::id(self.hash_key, &s.call_id, &s.from_tag, d.id().remote_tag());
            self.ended_forks.push(id);
        }
        true
    }

    /// A SUBSCRIBE within the subscription's dialog (a refresh, or `Expires: 0`).
    fn send_subscribe(
        &mut self,
        now: Instant,
        sub: SubscriptionHandle,
        expires: u32,
    ) -> Result<(), SendError> {
        let (branch, sent_by) = self.via_parts();
        let via = self.via(&branch, &sent_by);
        let s = self.subs.get(sub.0).ok_or(SendError::UnknownHandle)?;
        // Never less than the notifier's Min-Expires (but `Expires: 0`).
        let expires = if expires == 0 {
            0
        } else {
            expires.max(s.min_expires)
        };
        let mut expires_text: String<10> = String::new();
        let _ = text::push_u32(&mut expires_text, expires);
        let mut bytes = Bytes::<MSG>::new();
        let s = self.subs.get_mut(sub.0).ok_or(SendError::UnknownHandle)?;
        let d = s.dialog.as_mut().ok_or(SendError::InvalidState)?;
        let dest = super::dialog_destination(d, s.to);
        let mut b = d
            .request(Method::Subscribe, via, Some(self.contacts.for_dialog(d)))
            .map_err(|_| SendError::InvalidState)?;
        b.push("Event", Value::Text(&s.event));
        b.push("Expires", Value::Text(&expires_text));
        b.encode_appending(&mut bytes)?;
        drop(b);
        // §22.3, §22.2: the challenges the subscription was given are answered again.
        self.authorize_in_subscription(sub, &mut bytes);
        let key = ClientKey::new(&branch, Method::Subscribe)
            .map_err(|_| SendError::Capacity(Capacity::Branch))?;
        let tx = self.start_client_tx(now, dest, &bytes, key, false)?;
        if let Some(s) = self.subs.get_mut(sub.0) {
            s.tx = Some(tx);
        }
        Ok(())
    }

    /// Send the SUBSCRIBE `tx` again after its 423 `resp`, asking for the notifier's
    /// `Min-Expires`: within the dialog for a refresh, else the first SUBSCRIBE again
    /// (a new transaction: same Call-ID, From tag and To, the CSeq one higher). `false`
    /// (the 423 ends the request as before) without a usable `Min-Expires`, or when the
    /// SUBSCRIBE already asked for at least that much.
    fn subscribe_longer(
        &mut self,
        now: Instant,
        sub: SubscriptionHandle,
        tx: TxHandle,
        resp: &Message<'_>,
    ) -> bool {
        let Some(min) = resp
            .header(HeaderKind::MinExpires)
            .and_then(|h| crate::message::Expires::parse(h.value).ok())
            .map(|e| e.0)
        else {
            return false;
        };
        let has_dialog = self.subs.get(sub.0).is_some_and(|s| s.dialog.is_some());
        // Outside the dialog the SUBSCRIBE is written again, on a new branch.
        let new_via = (!has_dialog).then(|| self.via_parts());
        let Some(e) = self.txs.get(tx.0) else {
            return false;
        };
        let peer = e.peer;
        let Some(request) = e.stored_request(&Limits::default()) else {
            return false;
        };
        let asked = request.expires().and_then(Result::ok).map_or(0, |e| e.0);
        // `Expires: 0` is not lengthened; nor is a request that asked for enough.
        if asked == 0 || asked >= min {
            return false;
        }
        if let Some(s) = self.subs.get_mut(sub.0) {
            s.min_expires = s.min_expires.max(min);
        }
        let Some((branch, sent_by)) = new_via else {
            return self.send_subscribe(now, sub, min).is_ok();
        };
        let Ok(cseq) = request.cseq() else {
            return false;
        };
        let next = cseq.seq().saturating_add(1);
        let mut expires_text: String<10> = String::new();
        let _ = text::push_u32(&mut expires_text, min);
        let mut bytes = Bytes::<MSG>::new();
        let via = self.via(&branch, &sent_by);
        if next > super::CSEQ_LIMIT
            || rewrite_request(
                &request,
                &Rewrite {
                    new: Some((via, next)),
                    answers: Some(&Answers::new()),
                    expires: Some(&expires_text),
                    session: None,
                },
                &mut bytes,
            )
            .is_err()
        {
            return false;
        }
        // §22.3: the challenges the subscription was given are answered again.
        self.authorize_in_subscription(sub, &mut bytes);
        self.resend_subscribe(now, sub, peer, bytes, &branch, next)
            .is_some()
    }

    /// Start the client transaction of a SUBSCRIBE written again (`bytes`, on `branch`,
    /// CSeq number `next`) in place of one that was answered 401/407/423: the
    /// subscription waits for its answer, and its numbering goes on from `next`.
    fn resend_subscribe(
        &mut self,
        now: Instant,
        sub: SubscriptionHandle,
        peer: SocketAddr,
        bytes: Bytes<MSG>,
        branch: &str,
        next: u32,
    ) -> Option<TxHandle> {
        let key = ClientKey::new(branch, Method::Subscribe).ok()?;
        let retry = self.start_client_tx(now, peer, &bytes, key, false).ok()?;
        if let Some(s) = self.subs.get_mut(sub.0) {
            s.tx = Some(retry);
            match s.dialog.as_mut() {
                Some(d) => d.set_local_seq(next),
                // A NOTIFY that makes the dialog continues this numbering.
                None => s.cseq = next,
            }
        }
        Some(retry)
    }

    /// The subscription whose SUBSCRIBE is `tx`.
    fn subscription_of(&self, tx: TxHandle) -> Option<SubscriptionHandle> {
        self.subs
            .iter()
            .find(|(_, s)| s.tx == Some(tx))
            .map(|(h, _)| SubscriptionHandle(h))
    }

    /// A final response (or none: a timeout) to a client transaction: if it is a
    /// subscription's SUBSCRIBE, its machine takes it; a 2xx gives a subscription its
    /// dialog if no NOTIFY gave it one first.
    pub(super) fn subscription_response(
        &mut self,
        now: Instant,
        tx: TxHandle,
        response: Option<(&Message<'_>, &CoreHeaders<'_>)>,
    ) {
        let Some(sub) = self.subscription_of(tx) else {
            return;
        };
        // §8.1.3.5, §22.2, §22.3: a subscription given credentials answers a challenge
        // by sending its SUBSCRIBE again; the machine waits on for that one's answer.
        if let Some((m, _)) = response
            && m.status().is_some_and(|c| matches!(c.as_u16(), 401 | 407))
            && self.answer_subscription_challenge(now, sub, tx, m)
        {
            return;
        }
        // RFC 6665 §4.1.2.1 (as RFC 3261 §10.2.8 for REGISTER): a 423 says how long to
        // ask for at least; the SUBSCRIBE goes again asking for that.
        if let Some((m, _)) = response
            && m.status().is_some_and(|c| c.as_u16() == 423)
            && self.subscribe_longer(now, sub, tx, m)
        {
            return;
        }
        if let Some(s) = self.subs.get_mut(sub.0) {
            s.tx = None;
        }
        let event = match response {
            Some((m, core)) => {
                let code = match m.status() {
                    Some(c) => c,
                    None => return,
                };
                // RFC 6665 §3.1: a 2xx to an in-dialog SUBSCRIBE refreshes the target; a
                // 2xx of another dialog (a fork's, after a NOTIFY made this one) does not.
                if code.is_success()
                    && let Some(d) = self.subs.get_mut(sub.0).and_then(|s| s.dialog.as_mut())
                    && d.id().matches_response(m)
                {
                    let _ = d.refresh_target(m);
                }
                // A 2xx without a To tag makes none: SUBSCRIBE is not RFC 2543's, whose
                // null tag (RFC 3261 §12.1.2) no NOTIFY carries; the first NOTIFY makes it.
                if code.is_success()
                    && core.to.tag().is_some()
                    && self.subs.get(sub.0).is_some_and(|s| s.dialog.is_none())
                {
                    let tls = self.over_tls();
                    let made = self
                        .txs
                        .get(tx.0)
                        .and_then(|e| e.stored_request(&Limits::default()))
                        .and_then(|req| {
                            Dialog::uac_parts(&req, m, &core.to, core.call_id.as_str(), tls).ok()
                        });
                    if let (Some(mut d), Some(s)) = (made, self.subs.get_mut(sub.0)) {
                        d.confirm();
                        s.dialog = Some(d);
                    }
                }
                let expires = m.expires().and_then(Result::ok).map(|e| e.0);
                if code.is_success()
                    && let (Some(e), Some(s)) = (expires, self.subs.get_mut(sub.0))
                {
                    s.expires_at = Some(now.saturating_add(secs(e)));
                }
                subscription::Event::Response { code, expires }
            }
            None => subscription::Event::Timeout,
        };
        let _ = self.step_sub(now, sub, event);
    }

    /// The subscription a NOTIFY belongs to (RFC 6665 §4.4.1): its Call-ID and To tag
    /// are the SUBSCRIBE's Call-ID and From tag, its From tag is the dialog's remote tag
    /// once there is a dialog, and its `Event` names the same package and `id`.
    pub(super) fn subscription_for(
        &self,
        msg: &Message<'_>,
        core: &CoreHeaders<'_>,
    ) -> Option<SubscriptionHandle> {
        let event = msg
            .header(HeaderKind::Event)
            .and_then(|h| crate::message::Event::parse(h.value).ok())?;
        let local_tag = core.to.tag()?;
        let remote_tag = core.from.tag().unwrap_or("");
        let ours = |s: &SubEntry| {
            let event_ours = crate::message::Event::parse(s.event.as_bytes()).ok();
            s.call_id.as_str() == core.call_id.as_str()
                && s.from_tag.as_str() == local_tag
                && event_ours.is_some_and(|o| {
                    o.event_type().eq_ignore_ascii_case(event.event_type()) && o.id() == event.id()
                })
        };
        let same_dialog = |s: &SubEntry| {
            s.dialog
                .as_ref()
                .is_none_or(|d| d.id().remote_tag() == remote_tag)
        };
        // Its own subscription first; else, another notifier's first NOTIFY for a
        // subscription that keeps forks (`on_notify` makes the fork).
        self.subs
            .iter()
            .find(|(_, s)| ours(s) && same_dialog(s))
            .or_else(|| {
                // A dialog of the SUBSCRIBE that ended makes no fork (`EndedForks`).
                let ended =
                    EndedForks::id(self.hash_key, core.call_id.as_str(), local_tag, remote_tag);
                if self.ended_forks.contains(ended) {
                    return None;
                }
                // Nor does a notifier's first NOTIFY once the host ended the
                // subscription (`Unsubscribing`): it gets 481, which ends the notifier's
                // side (§4.2.2), rather than a fork the host must end too.
                self.subs.iter().find(|(_, s)| {
                    s.forks
                        && ours(s)
                        && !matches!(
                            s.machine.state(),
                            subscription::State::Unsubscribing | subscription::State::Terminated
                        )
                })
            })
            .map(|(h, _)| SubscriptionHandle(h))
    }

    /// A NOTIFY for subscription `parent` from another notifier than the one of its
    /// dialog (RFC 6665 §4.1.2.4): a new subscription for it, without a dialog yet (the
    /// NOTIFY makes it as a first NOTIFY would) and numbering its requests on from the
    /// SUBSCRIBE's CSeq; with `true`, new. `parent` itself when its dialog is this
    /// notifier's, or none is made yet. `None` when the table is full
    /// ([`Event::Capacity`]).
    fn fork_for(
        &mut self,
        parent: SubscriptionHandle,
        core: &CoreHeaders<'_>,
    ) -> Option<(SubscriptionHandle, bool)> {
        let p = self.subs.get(parent.0)?;
        let remote_tag = core.from.tag().unwrap_or("");
        if p.dialog
            .as_ref()
            .is_none_or(|d| d.id().remote_tag() == remote_tag)
        {
            return Some((parent, false));
        }
        if self.subs.len() >= SUBS {
            self.push_event(Event::Capacity(Capacity::Subscriptions));
            return None;
        }
        let entry = SubEntry {
            machine: Subscription::forked(p.machine.asked()),
            to: p.to,
            event: p.event.clone(),
            call_id: p.call_id.clone(),
            from_tag: p.from_tag.clone(),
            dialog: None,
            tx: None,
            timer_at: None,
            cseq: p.cseq,
            // The user's credentials, not the other notifier's challenges.
            auth: p.auth.as_ref().map(Auth::without_challenges),
            min_expires: p.min_expires,
            expires_at: None,
            forks: true,
        };
        Some((SubscriptionHandle(self.subs.insert(entry)?), true))
    }

    /// A NOTIFY of subscription `sub` ([`subscription_for`](Self::subscription_for)): it
    /// gets its server transaction, the subscription's dialog checks it (and is made from
    /// it when no 2xx came yet), the host gets [`Event::Notify`] and the machine its
    /// `Subscription-State`.
    pub(super) fn on_notify(
        &mut self,
        now: Instant,
        from: SocketAddr,
        msg: &Message<'_>,
        key: &RequestKey,
        core: &CoreHeaders<'_>,
        sub: SubscriptionHandle,
    ) {
        let Some(tx) = self.new_server_tx(now, from, msg, core, key, None, KeyHashes::default())
        else {
            return;
        };
        let state = msg
            .header(HeaderKind::SubscriptionState)
            .and_then(|h| SubscriptionState::parse(h.value).ok());
        let Some(state) = state else {
            // RFC 6665 §8.2.3: Subscription-State is mandatory in a NOTIFY; a NOTIFY
            // without one makes no dialog and changes nothing.
            self.stats.rejected += 1;
            let _ = self.send_response(now, tx, crate::message::StatusCode::BAD_REQUEST);
            return;
        };
        // §4.1.2.4, §5.4.9: another notifier's NOTIFY, for a subscription keeping forks.
        let parent = sub;
        let Some((sub, forked)) = self.fork_for(sub, core) else {
            self.stats.rejected += 1;
            let _ = self.send_response(
                now,
                tx,
                crate::message::StatusCode::CALL_OR_TRANSACTION_DOES_NOT_EXIST,
            );
            return;
        };
        // §4.1.2.4: a NOTIFY before the 2xx makes the dialog (as its UAS would).
        let first_seq = self
            .subs
            .get(sub.0)
            .and_then(|s| s.dialog.is_none().then_some(s.cseq));
        if let Some(subscribe_seq) = first_seq {
            let made = Dialog::uas_parts(
                msg,
                &core.from,
                &core.to,
                core.call_id.as_str(),
                core.cseq.seq(),
                crate::dialog::contact_uri(msg),
                core.to.tag().unwrap_or(""),
                self.over_tls(),
            );
            match (made, self.subs.get_mut(sub.0)) {
                (Ok(mut d), Some(s)) => {
                    // Ours go on from the SUBSCRIBE's CSeq.
                    d.set_local_seq(subscribe_seq);
                    d.confirm();
                    s.dialog = Some(d);
                }
                _ => {
                    // A fork this NOTIFY would have made is not kept.
                    if forked {
                        self.subs.remove(sub.0);
                    }
                    let _ = self.send_response(now, tx, crate::message::StatusCode::BAD_REQUEST);
                    return;
                }
            }
        } else {
            let verdict = self
                .subs
                .get_mut(sub.0)
                .and_then(|s| s.dialog.as_mut())
                .map(|d| {
                    d.on_request_parts(core.call_id.as_str(), &core.from, &core.to, &core.cseq)
                });
            if let Some(Err(reject)) = verdict {
                self.stats.rejected += 1;
                let _ = self.send_response(now, tx, reject.status());
                return;
            }
            // RFC 6665 §3.2: a NOTIFY is a target refresh request (RFC 3261 §12.2).
            if let Some(d) = self.subs.get_mut(sub.0).and_then(|s| s.dialog.as_mut()) {
                let _ = d.refresh_target(msg);
            }
        }
        if forked {
            self.push_event(Event::SubscriptionForked { sub, of: parent });
        }
        self.push_event(Event::Notify { sub, tx });
        if let (Some(e), Some(s)) = (state.expires(), self.subs.get_mut(sub.0)) {
            s.expires_at = Some(now.saturating_add(secs(e)));
        }
        let event = subscription::Event::Notify {
            state: match state.state() {
                SubState::Active => NotifyState::Active,
                SubState::Terminated => NotifyState::Terminated,
                SubState::Pending | SubState::Other(_) => NotifyState::Pending,
            },
            expires: state.expires(),
            retry_after: state.retry_after(),
        };
        let _ = self.step_sub(now, sub, event);
    }

    /// The earliest subscription timer due.
    pub(super) fn next_sub_timer(&self) -> Option<Instant> {
        let grace = self.config.timers.t4;
        self.subs
            .iter()
            .flat_map(|(_, s)| [s.timer_at, s.live_until(grace)])
            .flatten()
            .min()
    }

    /// Fire the subscription timers due at `now`.
    pub(super) fn fire_sub_timers(&mut self, now: Instant) {
        let due: heapless::Vec<RawHandle, SUBS> = self
            .subs
            .iter()
            .filter(|(_, s)| s.timer_at.is_some_and(|t| t <= now))
            .map(|(h, _)| h)
            .collect();
        for h in due {
            if let Some(s) = self.subs.get_mut(h) {
                s.timer_at = None;
            }
            let _ = self.step_sub(now, SubscriptionHandle(h), subscription::Event::Timer);
        }
        // RFC 6665 §4.1.2.2: a subscription whose refreshes failed is valid until it
        // expires, and over then (as a refresh that timed out).
        let grace = self.config.timers.t4;
        let expired: heapless::Vec<RawHandle, SUBS> = self
            .subs
            .iter()
            .filter(|(_, s)| s.live_until(grace).is_some_and(|t| t <= now))
            .map(|(h, _)| h)
            .collect();
        for h in expired {
            self.end_sub(
                SubscriptionHandle(h),
                subscription::Ended::Rejected(crate::message::StatusCode::REQUEST_TIMEOUT),
            );
        }
    }

    /// Add the answers to the challenges subscription `sub` was given to one of its
    /// SUBSCRIBEs about to be sent.
    fn authorize_in_subscription(&mut self, sub: SubscriptionHandle, bytes: &mut Bytes<MSG>) {
        // Nothing drawn from the generator for a subscription without challenges.
        if !self
            .subs
            .get(sub.0)
            .and_then(|s| s.auth.as_ref())
            .is_some_and(Auth::has_challenges)
        {
            return;
        }
        let cnonce = self.cnonce();
        if let Some(auth) = self.subs.get_mut(sub.0).and_then(|s| s.auth.as_mut()) {
            authorize(auth, bytes, &cnonce);
        }
    }

    /// A 401 or 407 `resp` to SUBSCRIBE `tx` of subscription `sub`: as
    /// [`answer_call_challenge`](Self::answer_call_challenge), for a subscription given
    /// credentials. Whether the SUBSCRIBE was sent again (then the machine does not see
    /// the 401/407: its SUBSCRIBE is still out).
    fn answer_subscription_challenge(
        &mut self,
        now: Instant,
        sub: SubscriptionHandle,
        tx: TxHandle,
        resp: &Message<'_>,
    ) -> bool {
        if self.subs.get(sub.0).is_none_or(|s| s.auth.is_none()) {
            return false;
        }
        let (branch, sent_by) = self.via_parts();
        let via = self.via(&branch, &sent_by);
        let cnonce = self.cnonce();
        let Some(e) = self.txs.get(tx.0) else {
            return false;
        };
        let peer = e.peer;
        let Some(request) = e.stored_request(&Limits::default()) else {
            return false;
        };
        let Ok(cseq) = request.cseq() else {
            return false;
        };
        let txs = &self.txs;
        let waiting = |t: TxHandle| txs.get(t.0).is_some_and(|e| e.machine.awaits_final());
        let Some(s) = self.subs.get_mut(sub.0) else {
            return false;
        };
        // In the subscription's dialog the CSeq goes on from the dialog's (§12.2.1.1).
        let own_seq = s.dialog.as_ref().map(Dialog::local_seq);
        let next = own_seq.unwrap_or(0).max(cseq.seq()).saturating_add(1);
        let Some(auth) = s.auth.as_mut() else {
            return false;
        };
        let Some(bytes) = auth.retry::<MSG>(tx, &request, resp, (via, next), &cnonce, waiting)
        else {
            return false;
        };
        let Some(retry) = self.resend_subscribe(now, sub, peer, bytes, &branch, next) else {
            return false;
        };
        let txs = &self.txs;
        if let Some(auth) = self.subs.get_mut(sub.0).and_then(|s| s.auth.as_mut()) {
            auth.reoriginated(tx, retry, |t| {
                txs.get(t.0).is_some_and(|e| e.machine.awaits_final())
            });
        }
        self.push_event(Event::Reoriginated { tx, retry });
        true
    }
}
