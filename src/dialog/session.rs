//! The INVITE session usage (RFC 3261 §13–15) as a pure machine.

use core::fmt;
use core::time::Duration;

use super::state::{DialogState, MAX_TAG};
use super::timer::SessionInterval;
use crate::error::Capacity;
use crate::message::StatusCode;

/// Most dialogs (forks, RFC 3261 §13.2.2.4) one session tracks. A 2xx from a fork past
/// this bound is still ACKed and then BYEd.
pub const MAX_FORKS: usize = 4;
/// Most actions one step returns.
pub const MAX_SESSION_ACTIONS: usize = 8;

/// Timer values the session uses (RFC 3261 §17.1.1.1, §13.3.1.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Config {
    /// T1, the RTT estimate (500 ms by default).
    pub t1: Duration,
    /// T2, the cap of the 2xx retransmit interval (4 s by default).
    pub t2: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            t1: Duration::from_millis(500),
            t2: Duration::from_secs(4),
        }
    }
}

/// The session uses the same T1 and T2 as the endpoint's transactions.
impl From<&crate::transaction::Config> for Config {
    fn from(c: &crate::transaction::Config) -> Self {
        Config { t1: c.t1, t2: c.t2 }
    }
}

/// A tag (RFC 3261 §19.3) held by value, so that events and actions stay `Copy`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tag {
    bytes: [u8; MAX_TAG],
    len: u8,
}

impl Tag {
    /// The empty tag (a peer that sent none, RFC 3261 §12.1.1).
    pub const EMPTY: Tag = Tag {
        bytes: [0; MAX_TAG],
        len: 0,
    };

    /// A tag holding `s`; [`Capacity::String`] past [`MAX_TAG`] bytes.
    // Inlined: so the tag is built where its caller keeps it, not copied there.
    #[inline]
    pub fn new(s: &str) -> Result<Self, Capacity> {
        let mut t = Tag::EMPTY;
        let dst = t.bytes.get_mut(..s.len()).ok_or(Capacity::String)?;
        dst.copy_from_slice(s.as_bytes());
        t.len = s.len() as u8; // MAX_TAG < 256, checked by get_mut above.
        Ok(t)
    }

    /// [`new`](Self::new)'s tag, or the empty one past [`MAX_TAG`] bytes: returned bare,
    /// so that it is built where the caller keeps it (an `Ok` or `Some` around a tag is
    /// a copy of its 129 bytes when unwrapped).
    #[inline]
    #[cfg_attr(not(feature = "endpoint"), allow(dead_code))]
    pub(crate) fn new_or_empty(s: &str) -> Self {
        let mut t = Tag::EMPTY;
        if let Some(dst) = t.bytes.get_mut(..s.len()) {
            dst.copy_from_slice(s.as_bytes());
            t.len = s.len() as u8; // MAX_TAG < 256, checked by get_mut above.
        }
        t
    }

    /// The tag text.
    pub fn as_str(&self) -> &str {
        // Built from a `&str`, so always UTF-8.
        core::str::from_utf8(self.as_bytes()).unwrap_or("")
    }

    /// The tag's bytes: [`as_str`](Self::as_str)'s, without its UTF-8 pass.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or(&[])
    }

    /// Whether the tag is `s`: `as_str() == s`, compared as bytes (a tag is always
    /// UTF-8), which spares the UTF-8 pass of `as_str` on every lookup of a fork.
    #[cfg_attr(not(feature = "endpoint"), allow(dead_code))] // the endpoint's lookups
    pub(crate) fn is(&self, s: &str) -> bool {
        self.as_bytes() == s.as_bytes()
    }
}

impl fmt::Debug for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tag({:?})", self.as_str())
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for Tag {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "{=str}", self.as_str())
    }
}

#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for Tag {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        // A small alphabet so that sequences reuse tags (retransmissions, same fork).
        const ALPHABET: &[u8] = b"abcd";
        let len = u.int_in_range(0..=3u8)?;
        let mut t = Tag::EMPTY;
        for b in t.bytes.iter_mut().take(usize::from(len)) {
            *b = *u.choose(ALPHABET)?;
        }
        t.len = len;
        Ok(t)
    }
}

/// Which end of the INVITE this session is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Role {
    /// The caller: sent the INVITE and generated the Call-ID.
    Uac,
    /// The callee.
    Uas,
}

/// Why a session ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum EndReason {
    /// The INVITE got a 4xx–6xx final response (or the TU rejected it, UAS).
    Rejected(StatusCode),
    /// The INVITE got a 3xx: the targets are in the response's Contact.
    Redirected(StatusCode),
    /// The INVITE was cancelled (§9), or the TU gave up while a 2xx raced the CANCEL.
    Cancelled,
    /// The INVITE client transaction timed out with no final response.
    TimedOut,
    /// The 2xx was never ACKed within 64*T1 (§13.3.1.4).
    NoAck,
    /// This side sent BYE (§15.1.1).
    LocalBye,
    /// The peer sent BYE (§15.1.2).
    RemoteBye,
    /// A 481 or 408 to an in-dialog request (§12.2.1.2).
    DialogGone(StatusCode),
    /// The peer was to refresh the session and did not before it expired: this side
    /// sent BYE (RFC 4028 §10).
    SessionExpired,
}

/// Session state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum SessionState {
    /// UAC: INVITE sent, nothing received yet (a CANCEL must wait, §9.1).
    Calling,
    /// UAC: a provisional response arrived; UAS: INVITE received, not answered yet.
    Proceeding,
    /// UAS: 2xx sent, waiting for the ACK (§13.3.1.4).
    Accepted,
    /// A dialog is confirmed: the call is up.
    Confirmed,
    /// Over. Absorbing: nothing leaves this state.
    Terminated(EndReason),
}

/// Timers of the session itself (not of its transactions).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum SessionTimer {
    /// UAS 2xx retransmission: T1, doubling up to T2 (§13.3.1.4).
    Retransmit2xx,
    /// UAS wait for the ACK: 64*T1 (§13.3.1.4).
    AckTimeout,
    /// Back-off before retrying a re-INVITE that got 491 (§14.1).
    Glare,
    /// This side refreshes the session: half the session interval (RFC 4028 §10), then
    /// T2 at a time while a re-INVITE is in progress (see [`Notice::RefreshDue`]).
    Refresh,
    /// The peer refreshes the session: the interval minus `min(32 s, interval/3)`
    /// (RFC 4028 §10); then this side sends BYE.
    Expiry,
}

/// Which request a response answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum RequestKind {
    /// The initial INVITE.
    Invite,
    /// A re-INVITE within the dialog.
    ReInvite,
    /// A CANCEL.
    Cancel,
    /// A BYE.
    Bye,
}

/// What the host must put in a body (RFC 3264 offer/answer via RFC 3261 §13.2.1,
/// §13.3.1). The body itself is the host's business.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Sdp {
    /// No body.
    None,
    /// An offer.
    Offer,
    /// The answer to the outstanding offer.
    Answer,
}

/// Events fed to [`InviteSession::step`]. The host parses the message, matches it to
/// the session (Call-ID, tags, transaction) and passes the few facts the session needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Event {
    /// UAC: a response to this session's INVITE or re-INVITE (retransmissions and
    /// other forks included). `cseq` is its CSeq number; `body` whether it has one.
    Response {
        /// Status code.
        code: StatusCode,
        /// To tag (`None` if absent).
        to_tag: Option<Tag>,
        /// CSeq number.
        cseq: u32,
        /// Whether the response carries a body.
        body: bool,
    },
    /// The INVITE client transaction ended: Timer B or a transport error before a final
    /// response, or Timer M after a 2xx (RFC 6026: no more forks can answer).
    InviteTransactionEnded,
    /// UAS: an ACK for the 2xx (`cseq` is its CSeq number).
    Ack {
        /// CSeq number.
        cseq: u32,
        /// Whether it carries a body.
        body: bool,
    },
    /// UAS: a CANCEL matching this session's INVITE server transaction.
    Cancel,
    /// A re-INVITE received within the dialog.
    ReInvite {
        /// Whether it carries an offer.
        body: bool,
        /// Its CSeq number, which the ACK for its 2xx repeats (§13.2.2.4).
        cseq: u32,
    },
    /// A BYE received; `remote_tag` is its From tag.
    Bye {
        /// From tag of the BYE.
        remote_tag: Tag,
    },
    /// A session timer fired.
    Timer(SessionTimer),
    /// TU: cancel the INVITE (UAC).
    TuCancel,
    /// TU: end the call, whatever its state (CANCEL, BYE or reject).
    TuHangUp,
    /// TU: answer the pending INVITE or re-INVITE with 200 (UAS side of it).
    TuAnswer,
    /// TU: reject the pending INVITE or re-INVITE with this 3xx–6xx code.
    TuReject(StatusCode),
    /// The INVITE or re-INVITE this side has out got a 401 or 407, and the host sent it
    /// again with credentials as a new request (same Call-ID, From tag and body, a new
    /// branch) with CSeq number `cseq` (RFC 3261 §8.1.3.5, §22.2, §22.3). The session
    /// goes on with that request; the 401/407 itself is not fed. For the initial INVITE
    /// the session is back in Calling: the early dialogs of the challenged INVITE are
    /// over and a CANCEL waits for a provisional response to the new one (§9.1). Only
    /// when [`InviteSession::can_reoriginate`]; otherwise nothing changes.
    Reoriginated {
        /// CSeq number of the new request.
        cseq: u32,
    },
    /// The 2xx to a (re-)INVITE (or UPDATE) was sent or received and set this session
    /// timer (RFC 4028 §7.2, §9, from [`TimerConfig`](super::TimerConfig)), or none:
    /// (re)starts [`SessionTimer::Refresh`] or [`SessionTimer::Expiry`] (§10). Ignored
    /// before a 2xx and after the end.
    SessionExpires(Option<SessionInterval>),
    /// TU: send a re-INVITE with CSeq `cseq`. `random` is host randomness for the §14.1
    /// back-off should it get a 491.
    TuReInvite {
        /// CSeq number the host will use.
        cseq: u32,
        /// Whether it carries an offer.
        body: bool,
        /// Any random value; only used after a 491.
        random: u16,
    },
}

/// What the session tells its TU.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Notice {
    /// A provisional response with a new To tag created an early dialog (§12.1.2).
    EarlyDialog(Tag),
    /// The dialog with this remote tag is confirmed.
    Confirmed(Tag),
    /// A 3xx arrived: the targets are the Contacts of that response (§13.2.2.2).
    Redirect(StatusCode),
    /// A re-INVITE arrived; answer with [`Event::TuAnswer`] or [`Event::TuReject`].
    /// `Sdp::Answer` means it carried an offer the 2xx must answer.
    ReInviteReceived(Sdp),
    /// Our re-INVITE got a 2xx.
    ReInviteAccepted,
    /// Our re-INVITE failed with this code; the session is unchanged (§14.1).
    ReInviteFailed(StatusCode),
    /// The §14.1 back-off after a 491 is over: the re-INVITE may be sent again.
    RetryReInvite,
    /// This side is the refresher and half the session interval has passed: send a
    /// session refresh (a re-INVITE or UPDATE with Session-Expires, RFC 4028 §7.4, §10).
    /// Given only when a re-INVITE may be sent ([`InviteSession::can_reinvite`]); while
    /// one is in progress the session asks again every T2 until a 2xx restarts the
    /// timer or the re-INVITE may go.
    RefreshDue,
    /// The session ended.
    Terminated(EndReason),
}

/// What the host must do after a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Action {
    /// Send an ACK for the 2xx with CSeq `cseq` on the dialog with `remote_tag`
    /// ([`Dialog::ack`](super::Dialog::ack)), carrying `sdp`.
    SendAck {
        /// Dialog.
        remote_tag: Tag,
        /// CSeq number of the INVITE.
        cseq: u32,
        /// What the ACK carries.
        sdp: Sdp,
    },
    /// Send a BYE on the dialog with `remote_tag`, then forget that dialog.
    SendBye {
        /// Dialog.
        remote_tag: Tag,
    },
    /// Send a CANCEL for the INVITE ([`MessageBuilder::cancel_for`](crate::encode::MessageBuilder::cancel_for)).
    SendCancel,
    /// Send the re-INVITE the TU asked for.
    SendReInvite {
        /// What it carries.
        sdp: Sdp,
    },
    /// Send a response to a received request.
    Respond {
        /// Which request.
        to: RequestKind,
        /// Status code.
        code: StatusCode,
        /// What the response carries.
        sdp: Sdp,
    },
    /// Send the stored 2xx again (§13.3.1.4).
    Retransmit2xx,
    /// Start (or restart) a timer to fire after the duration.
    StartTimer(SessionTimer, Duration),
    /// Stop a timer.
    CancelTimer(SessionTimer),
    /// Tell the TU.
    Tu(Notice),
}

/// The result of a step: the new session and what to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionStep {
    /// The session after the event.
    pub session: InviteSession,
    /// Actions, in order.
    pub actions: heapless::Vec<Action, MAX_SESSION_ACTIONS>,
}

/// One fork: a dialog by remote tag.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Fork {
    tag: Tag,
    state: DialogState,
}

/// Which INVITE transaction of the dialog is open, besides the initial one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Pending {
    None,
    /// We sent a re-INVITE with this CSeq.
    Local {
        cseq: u32,
        offer: bool,
        random: u16,
    },
    /// We got a re-INVITE with this CSeq and have not answered it.
    Remote {
        offer: bool,
        cseq: u32,
    },
    /// We answered the re-INVITE with this CSeq with 2xx and wait for its ACK.
    RemoteAccepted {
        offer: bool,
        cseq: u32,
    },
    /// Waiting out the §14.1 back-off.
    Glare,
}

/// The §14.1 back-off after a 491 when the peer's re-INVITE came in during it (the
/// peer, not the Call-ID's owner, waits less and retries first): `pending` then follows
/// that re-INVITE, and this remembers the back-off.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Backoff {
    /// No back-off was interrupted.
    None,
    /// The Glare timer still runs.
    Running,
    /// It fired: [`Notice::RetryReInvite`] waits for the peer's re-INVITE to finish.
    Due,
}

/// An INVITE session (RFC 3261 §13–15): the dialogs its INVITE created and the state of
/// the call. A small `Copy` value; see the [module docs](super) for the host's duties.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct InviteSession {
    role: Role,
    state: SessionState,
    invite_cseq: u32,
    /// Whether the initial INVITE carried an offer.
    invite_offer: bool,
    forks: [Option<Fork>; MAX_FORKS],
    /// The confirmed dialog the call runs on.
    kept: Option<Tag>,
    /// UAC: the TU wants out (cancel or hang up) before the call is up.
    give_up: bool,
    /// UAC: the CANCEL has been sent.
    cancel_sent: bool,
    /// UAS: hang up as soon as the ACK arrives (§15: no BYE before it).
    bye_after_ack: bool,
    pending: Pending,
    /// A §14.1 back-off a received re-INVITE interrupted.
    backoff: Backoff,
    /// The CSeq of this side's last re-INVITE that went without an offer and was accepted:
    /// every copy of its 2xx carries the peer's offer, so every ACK carries the answer.
    offerless_accepted: Option<u32>,
    /// Current 2xx retransmission interval.
    retransmit: Duration,
    /// The session timer in force (RFC 4028), if any.
    interval: Option<SessionInterval>,
}

impl InviteSession {
    /// A UAC session for an INVITE sent with CSeq number `invite_cseq`; `offer` says
    /// whether it carried an SDP offer.
    pub fn uac(invite_cseq: u32, offer: bool) -> Self {
        Self::new(Role::Uac, SessionState::Calling, invite_cseq, offer, None)
    }

    /// A UAS session for a received INVITE with CSeq number `invite_cseq` and From tag
    /// `remote_tag`; `offer` says whether it carried an offer.
    pub fn uas(invite_cseq: u32, remote_tag: Tag, offer: bool) -> Self {
        let mut s = Self::new(
            Role::Uas,
            SessionState::Proceeding,
            invite_cseq,
            offer,
            Some(remote_tag),
        );
        s.forks[0] = Some(Fork {
            tag: remote_tag,
            state: DialogState::Early,
        });
        s
    }

    fn new(
        role: Role,
        state: SessionState,
        invite_cseq: u32,
        offer: bool,
        kept: Option<Tag>,
    ) -> Self {
        InviteSession {
            role,
            state,
            invite_cseq,
            invite_offer: offer,
            forks: [None; MAX_FORKS],
            kept,
            give_up: false,
            cancel_sent: false,
            bye_after_ack: false,
            pending: Pending::None,
            backoff: Backoff::None,
            offerless_accepted: None,
            retransmit: Duration::ZERO,
            interval: None,
        }
    }

    /// The role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The state.
    pub fn state(&self) -> SessionState {
        self.state
    }

    /// The CSeq number of the INVITE that started the session (or of the one that
    /// replaced it after a challenge).
    #[cfg(feature = "endpoint")]
    pub(crate) fn invite_cseq(&self) -> u32 {
        self.invite_cseq
    }

    /// Whether the TU gave up on the INVITE (a CANCEL sent or deferred, §9.1).
    #[cfg(feature = "endpoint")]
    pub(crate) fn gave_up(&self) -> bool {
        self.give_up
    }

    /// Whether the session is over.
    pub fn is_terminated(&self) -> bool {
        is_terminated(self.state)
    }

    /// The remote tag of the dialog the call runs on (UAC: the first 2xx's To tag).
    pub fn kept_dialog(&self) -> Option<Tag> {
        self.kept
    }

    /// Every dialog the session tracks: remote tag and state.
    pub fn dialogs(&self) -> impl Iterator<Item = (Tag, DialogState)> + '_ {
        self.forks.iter().flatten().map(|f| (f.tag, f.state))
    }

    /// The session timer in force (RFC 4028), as last set by
    /// [`Event::SessionExpires`].
    pub fn session_interval(&self) -> Option<SessionInterval> {
        self.interval
    }

    /// Whether the INVITE this side has out may be sent again with credentials after a
    /// 401 or 407 ([`Event::Reoriginated`]): a re-INVITE waiting for its final response,
    /// or the initial INVITE of a UAC that is still calling and has not given up (a
    /// CANCEL sent or deferred means the TU wants out, §9.1).
    pub fn can_reoriginate(&self) -> bool {
        can_reoriginate(self.pending, self.role, self.state, self.give_up)
    }

    /// Whether a re-INVITE may be sent now (confirmed, no INVITE transaction open, no
    /// §14.1 back-off running).
    pub fn can_reinvite(&self) -> bool {
        can_reinvite(self.state, self.pending, self.backoff)
    }

    /// The fields a step reads as they were before it changed them.
    fn before(&self) -> Before {
        // Every field named: a new one is either kept here or said to be left out.
        let InviteSession {
            role,
            state,
            invite_cseq,
            invite_offer,
            forks: _,
            // Read where it is: only `on_2xx` sets it, after its last read there.
            kept: _,
            give_up,
            cancel_sent,
            bye_after_ack,
            pending,
            backoff,
            offerless_accepted,
            retransmit,
            interval,
        } = self;
        Before {
            role: *role,
            state: *state,
            invite_cseq: *invite_cseq,
            invite_offer: *invite_offer,
            give_up: *give_up,
            cancel_sent: *cancel_sent,
            bye_after_ack: *bye_after_ack,
            pending: *pending,
            backoff: *backoff,
            offerless_accepted: *offerless_accepted,
            retransmit: *retransmit,
            interval: *interval,
        }
    }

    /// What a TU command can change of the session: its scalars and its forks' states.
    /// A TU command sets no kept dialog (only a 2xx does), and when it is one the
    /// endpoint may undo (`TuAnswer`, `TuReject`, `TuReInvite`) adds no fork and
    /// changes no fork's tag (only `terminate` touches forks, and only their states):
    /// so this is all `restore` needs, without copying tags (most of a session's 700
    /// bytes). Any other change of a TU command comes with an action.
    #[cfg_attr(not(feature = "endpoint"), allow(dead_code))] // the endpoint's TU commands
    pub(crate) fn snapshot(&self) -> Snapshot {
        // Every field named: a new one is either kept here or said to be left out.
        let InviteSession {
            role,
            state,
            invite_cseq,
            invite_offer,
            forks,
            kept: _,
            give_up,
            cancel_sent,
            bye_after_ack,
            pending,
            backoff,
            offerless_accepted,
            retransmit,
            interval,
        } = self;
        Snapshot {
            role: *role,
            state: *state,
            invite_cseq: *invite_cseq,
            invite_offer: *invite_offer,
            forks: forks.map(|f| f.map(|f| f.state)),
            give_up: *give_up,
            cancel_sent: *cancel_sent,
            bye_after_ack: *bye_after_ack,
            pending: *pending,
            backoff: *backoff,
            offerless_accepted: *offerless_accepted,
            retransmit: *retransmit,
            interval: *interval,
        }
    }

    /// Back to `snap`, taken of this session before a TU command the endpoint undoes.
    #[cfg_attr(not(feature = "endpoint"), allow(dead_code))] // the endpoint's TU commands
    pub(crate) fn restore(&mut self, snap: &Snapshot) {
        let Snapshot {
            role,
            state,
            invite_cseq,
            invite_offer,
            forks,
            give_up,
            cancel_sent,
            bye_after_ack,
            pending,
            backoff,
            offerless_accepted,
            retransmit,
            interval,
        } = *snap;
        self.role = role;
        self.state = state;
        self.invite_cseq = invite_cseq;
        self.invite_offer = invite_offer;
        self.give_up = give_up;
        self.cancel_sent = cancel_sent;
        self.bye_after_ack = bye_after_ack;
        self.pending = pending;
        self.backoff = backoff;
        self.offerless_accepted = offerless_accepted;
        self.retransmit = retransmit;
        self.interval = interval;
        for (f, s) in self.forks.iter_mut().zip(forks) {
            if let (Some(f), Some(s)) = (f, s) {
                f.state = s;
            }
        }
    }

    /// Feed one event. Never panics; events that do not apply produce no action.
    #[must_use]
    pub fn step(self, cfg: &Config, event: Event) -> SessionStep {
        let mut session = self;
        let mut actions = heapless::Vec::new();
        session.step_in_place(cfg, &event, &mut actions);
        SessionStep { session, actions }
    }

    /// [`step`](Self::step) on the session where it is, its actions appended to
    /// `actions`: a session with its forks' tags is several hundred bytes, and the
    /// endpoint steps one for every message of a call.
    pub(crate) fn step_in_place(
        &mut self,
        cfg: &Config,
        event: &Event,
        actions: &mut heapless::Vec<Action, MAX_SESSION_ACTIONS>,
    ) {
        Step {
            session: self,
            actions,
        }
        .run(cfg, event);
    }
}

fn is_terminated(state: SessionState) -> bool {
    matches!(state, SessionState::Terminated(_))
}

fn can_reoriginate(pending: Pending, role: Role, state: SessionState, give_up: bool) -> bool {
    matches!(pending, Pending::Local { .. })
        || (role == Role::Uac
            && matches!(state, SessionState::Calling | SessionState::Proceeding)
            && !give_up)
}

fn can_reinvite(state: SessionState, pending: Pending, backoff: Backoff) -> bool {
    state == SessionState::Confirmed && pending == Pending::None && backoff == Backoff::None
}

/// A session as a step found it, but its forks and kept tag: what the step reads of its
/// state before changing it, without copying tags (most of a session's 700 bytes).
#[derive(Clone, Copy)]
struct Before {
    role: Role,
    state: SessionState,
    invite_cseq: u32,
    invite_offer: bool,
    give_up: bool,
    cancel_sent: bool,
    bye_after_ack: bool,
    pending: Pending,
    backoff: Backoff,
    offerless_accepted: Option<u32>,
    retransmit: Duration,
    interval: Option<SessionInterval>,
}

/// A session's state but its tags: see [`InviteSession::snapshot`].
#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(feature = "endpoint"), allow(dead_code))] // the endpoint's TU commands
pub(crate) struct Snapshot {
    role: Role,
    state: SessionState,
    invite_cseq: u32,
    invite_offer: bool,
    forks: [Option<DialogState>; MAX_FORKS],
    give_up: bool,
    cancel_sent: bool,
    bye_after_ack: bool,
    pending: Pending,
    backoff: Backoff,
    offerless_accepted: Option<u32>,
    retransmit: Duration,
    interval: Option<SessionInterval>,
}

impl Before {
    fn is_terminated(&self) -> bool {
        is_terminated(self.state)
    }

    fn can_reoriginate(&self) -> bool {
        can_reoriginate(self.pending, self.role, self.state, self.give_up)
    }

    fn can_reinvite(&self) -> bool {
        can_reinvite(self.state, self.pending, self.backoff)
    }
}

/// Working state of one step.
struct Step<'a> {
    session: &'a mut InviteSession,
    actions: &'a mut heapless::Vec<Action, MAX_SESSION_ACTIONS>,
}

impl Step<'_> {
    fn emit(&mut self, a: Action) {
        // MAX_SESSION_ACTIONS covers the longest step (checked by tests); dropping a
        // trailing action here would be a bug, never triggered by input.
        let _ = self.actions.push(a);
    }

    fn run(&mut self, cfg: &Config, event: &Event) {
        let st = self.session.state;
        match *event {
            Event::Response {
                code,
                ref to_tag,
                cseq,
                body,
            } => self.on_response(code, to_tag.as_ref().unwrap_or(&Tag::EMPTY), cseq, body),
            Event::InviteTransactionEnded => match st {
                // §9.1: a deferred CANCEL is dropped when the transaction times out.
                SessionState::Calling | SessionState::Proceeding
                    if self.session.role == Role::Uac =>
                {
                    self.terminate(EndReason::TimedOut)
                }
                // RFC 6026 Timer M: forks that never answered are over.
                _ => self.end_early_forks(),
            },
            Event::Ack { cseq, body } => self.on_ack(cseq, body),
            Event::Cancel => self.on_cancel(),
            Event::ReInvite { body, cseq } => self.on_reinvite(body, cseq),
            Event::Bye { ref remote_tag } => self.on_bye(remote_tag),
            Event::Timer(t) => self.on_timer(cfg, t),
            Event::TuCancel if st == SessionState::Confirmed => {}
            Event::TuCancel | Event::TuHangUp => self.on_hang_up(),
            Event::TuAnswer => self.on_answer(cfg),
            Event::TuReject(code) => self.on_reject(code),
            Event::Reoriginated { cseq } => self.on_reoriginated(cseq),
            Event::SessionExpires(interval) => self.on_session_expires(interval),
            Event::TuReInvite { cseq, body, random } => {
                if self.session.can_reinvite() {
                    self.session.pending = Pending::Local {
                        cseq,
                        offer: body,
                        random,
                    };
                    self.emit(Action::SendReInvite { sdp: offer(body) });
                }
            }
        }
    }

    // `tag` borrowed from the event: a tag is some 130 bytes.
    fn on_response(&mut self, code: StatusCode, tag: &Tag, cseq: u32, body: bool) {
        // The UAS of the initial INVITE only gets responses to its own re-INVITEs, whose
        // CSeq numbers are in another space than the INVITE's.
        let initial = self.session.role == Role::Uac && cseq == self.session.invite_cseq;
        if code.is_success() {
            return self.on_2xx(tag, cseq, initial, body);
        }
        if self.session.is_terminated() {
            return;
        }
        let st = self.session.state;
        if initial && matches!(st, SessionState::Calling | SessionState::Proceeding) {
            if code.is_provisional() {
                self.session.state = SessionState::Proceeding;
                // §12.1.2: a 101–199 with a To tag creates an early dialog.
                if code.as_u16() > 100 && !tag.as_bytes().is_empty() && self.fork(tag).is_none() {
                    // A fork past MAX_FORKS gets no early dialog; its 2xx is still handled.
                    if self.add_fork(*tag, DialogState::Early) {
                        self.emit(Action::Tu(Notice::EarlyDialog(*tag)));
                    }
                }
                // §9.1: the CANCEL waited for this provisional response.
                if self.session.give_up && !self.session.cancel_sent {
                    self.session.cancel_sent = true;
                    self.emit(Action::SendCancel);
                }
                return;
            }
            // §13.2.2.3, §13.2.2.2: a 3xx–6xx ends every early dialog.
            let reason = if self.session.cancel_sent && code == StatusCode::REQUEST_TERMINATED {
                EndReason::Cancelled
            } else if code.effective().as_u16() / 100 == 3 {
                self.emit(Action::Tu(Notice::Redirect(code)));
                EndReason::Redirected(code)
            } else {
                EndReason::Rejected(code)
            };
            return self.terminate(reason);
        }
        if let Pending::Local {
            cseq: c, random, ..
        } = self.session.pending
            && c == cseq
            && code.is_final()
        {
            match code.as_u16() {
                // RFC 4028 §10: a session refresh (any re-INVITE while a session timer
                // runs) that got no answer ends the session with BYE, for the proxies
                // on the path.
                408 if self.session.interval.is_some() => {
                    self.bye_kept(EndReason::DialogGone(code))
                }
                // §12.2.1.2, §14.1: the peer lost the dialog or never answered.
                408 | 481 => self.terminate(EndReason::DialogGone(code)),
                491 => {
                    // §14.1: the owner of the Call-ID waits 2.1–4 s, the other 0–2 s,
                    // in units of 10 ms.
                    let ms = if self.session.role == Role::Uac {
                        2100 + u64::from(random % 191) * 10
                    } else {
                        u64::from(random % 201) * 10
                    };
                    self.session.pending = Pending::Glare;
                    self.emit(Action::StartTimer(
                        SessionTimer::Glare,
                        Duration::from_millis(ms),
                    ));
                    self.emit(Action::Tu(Notice::ReInviteFailed(code)));
                }
                _ => {
                    self.session.pending = Pending::None;
                    self.emit(Action::Tu(Notice::ReInviteFailed(code)));
                }
            }
        }
    }

    /// §8.1.3.5, §22.2: the challenged INVITE was sent again as a new transaction with
    /// CSeq `cseq`; its responses are the ones that count now.
    fn on_reoriginated(&mut self, cseq: u32) {
        let ses = self.session.before();
        if !ses.can_reoriginate() {
            return;
        }
        if let Pending::Local { offer, random, .. } = ses.pending {
            self.session.pending = Pending::Local {
                cseq,
                offer,
                random,
            };
            return;
        }
        // The challenge was the INVITE's final response (§13.2.2.3): the early dialogs it
        // had are over, and the new INVITE starts from Calling.
        self.session.invite_cseq = cseq;
        self.session.state = SessionState::Calling;
        self.session.forks = [None; MAX_FORKS];
    }

    /// UAC: every 2xx is ACKed (§13.2.2.4), whatever the state.
    fn on_2xx(&mut self, tag: &Tag, cseq: u32, initial: bool, body: bool) {
        let ses = self.session.before();
        // Offer in the 2xx (INVITE had none) → the ACK carries the answer (§13.2.1).
        let sdp = if initial {
            if !ses.invite_offer && body {
                Sdp::Answer
            } else {
                Sdp::None
            }
        } else {
            match ses.pending {
                Pending::Local {
                    offer: false,
                    cseq: c,
                    ..
                } if body && c == cseq => Sdp::Answer,
                _ if body && ses.offerless_accepted == Some(cseq) => Sdp::Answer,
                _ => Sdp::None,
            }
        };
        self.emit(Action::SendAck {
            remote_tag: *tag,
            cseq,
            sdp,
        });
        let known = self.fork(tag);
        if !initial {
            if let Pending::Local { cseq: c, offer, .. } = ses.pending
                && c == cseq
                && Some(*tag) == self.session.kept
            {
                if !offer {
                    self.session.offerless_accepted = Some(cseq);
                }
                self.session.pending = Pending::None;
                self.emit(Action::Tu(Notice::ReInviteAccepted));
            }
            return;
        }
        match (ses.state, known) {
            // A retransmission for a dialog already confirmed or already BYEd.
            (_, Some(state)) if state != DialogState::Early => {}
            (SessionState::Calling | SessionState::Proceeding, _) if !ses.give_up => {
                self.set_fork(tag, DialogState::Confirmed);
                self.session.kept = Some(*tag);
                self.session.state = SessionState::Confirmed;
                self.emit(Action::Tu(Notice::Confirmed(*tag)));
            }
            (SessionState::Calling | SessionState::Proceeding, _) => {
                // §9.1 / §15: the 2xx raced the CANCEL: ACK it, then BYE since the TU
                // gave up.
                self.set_fork(tag, DialogState::Terminated);
                self.emit(Action::SendBye { remote_tag: *tag });
                self.terminate(EndReason::Cancelled);
            }
            // §13.2.2.4: another fork answered after the call is up (or over): ACK, BYE.
            _ => {
                self.set_fork(tag, DialogState::Terminated);
                self.emit(Action::SendBye { remote_tag: *tag });
            }
        }
    }

    fn on_ack(&mut self, cseq: u32, _body: bool) {
        let ses = self.session.before();
        let acks_invite =
            ses.role == Role::Uas && ses.state == SessionState::Accepted && cseq == ses.invite_cseq;
        // §13.2.2.4: the ACK of a 2xx repeats its INVITE's CSeq number; a late copy of an
        // earlier INVITE's ACK acknowledges nothing now.
        let acks_reinvite = ses.state == SessionState::Confirmed
            && matches!(ses.pending, Pending::RemoteAccepted { cseq: c, .. } if c == cseq);
        if !(acks_invite || acks_reinvite) {
            return; // A retransmitted or stray ACK.
        }
        self.emit(Action::CancelTimer(SessionTimer::Retransmit2xx));
        self.emit(Action::CancelTimer(SessionTimer::AckTimeout));
        if acks_reinvite {
            // The TU hung up while this 2xx waited for its ACK: the BYE it deferred
            // goes out now (§15).
            if ses.bye_after_ack {
                self.session.pending = Pending::None;
                self.bye_kept(EndReason::LocalBye);
            } else {
                self.remote_reinvite_over();
            }
            return;
        }
        let tag = self.session.kept.unwrap_or(Tag::EMPTY);
        self.set_fork(&tag, DialogState::Confirmed);
        self.session.state = SessionState::Confirmed;
        self.emit(Action::Tu(Notice::Confirmed(tag)));
        if ses.bye_after_ack {
            self.bye_kept(EndReason::LocalBye);
        }
    }

    fn on_cancel(&mut self) {
        let ses = self.session.before();
        if ses.role == Role::Uac {
            // Nothing of ours to cancel (§9.2).
            return self.respond(
                RequestKind::Cancel,
                StatusCode::CALL_OR_TRANSACTION_DOES_NOT_EXIST,
            );
        }
        // §9.2: the host matched the CANCEL to our INVITE server transaction, so it gets
        // 200 even when the session is over (the INVITE was rejected, or a BYE crossed
        // it): "as long as the CANCEL matched an existing transaction".
        self.respond(RequestKind::Cancel, StatusCode::OK);
        if ses.state == SessionState::Proceeding {
            // §9.2: the INVITE is answered 487.
            self.respond(RequestKind::Invite, StatusCode::REQUEST_TERMINATED);
            self.terminate(EndReason::Cancelled);
        }
        // Otherwise the final response was sent already and the CANCEL has no effect.
    }

    fn on_reinvite(&mut self, body: bool, cseq: u32) {
        let ses = self.session.before();
        let code = match (ses.state, ses.pending) {
            (SessionState::Terminated(_), _) => StatusCode::CALL_OR_TRANSACTION_DOES_NOT_EXIST,
            // §14.2: our own INVITE is in progress (glare): the initial one (a caller's
            // early dialog) or a re-INVITE.
            (SessionState::Calling | SessionState::Proceeding, _) if ses.role == Role::Uac => {
                StatusCode::REQUEST_PENDING
            }
            (_, Pending::Local { .. }) => StatusCode::REQUEST_PENDING,
            (SessionState::Confirmed, Pending::None | Pending::Glare) => {
                // §14.1: the peer retried first; our own back-off goes on, and its end
                // is still announced (after this re-INVITE, if need be).
                if ses.pending == Pending::Glare {
                    self.session.backoff = Backoff::Running;
                }
                self.session.pending = Pending::Remote { offer: body, cseq };
                let sdp = if body { Sdp::Answer } else { Sdp::Offer };
                return self.emit(Action::Tu(Notice::ReInviteReceived(sdp)));
            }
            // §14.2: a second INVITE before the first one's final response.
            _ => StatusCode::SERVER_INTERNAL_ERROR,
        };
        self.respond(RequestKind::ReInvite, code);
    }

    fn on_bye(&mut self, tag: &Tag) {
        let ses = self.session.before();
        let ours = self.session.kept.as_ref() == Some(tag)
            || self
                .fork(tag)
                .is_some_and(|state| state != DialogState::Terminated);
        if ses.is_terminated() || !ours {
            return self.respond(
                RequestKind::Bye,
                StatusCode::CALL_OR_TRANSACTION_DOES_NOT_EXIST,
            );
        }
        self.respond(RequestKind::Bye, StatusCode::OK);
        // §15.1.2: a pending INVITE gets 487.
        if ses.role == Role::Uas && ses.state == SessionState::Proceeding {
            self.respond(RequestKind::Invite, StatusCode::REQUEST_TERMINATED);
        }
        // (A re-INVITE still pending gets 487 from `terminate`.)
        self.terminate(EndReason::RemoteBye);
    }

    fn on_timer(&mut self, cfg: &Config, t: SessionTimer) {
        let ses = self.session.before();
        let awaiting_ack = ses.state == SessionState::Accepted
            || matches!(ses.pending, Pending::RemoteAccepted { .. });
        match t {
            SessionTimer::Retransmit2xx if awaiting_ack && !ses.is_terminated() => {
                // §13.3.1.4: T1, 2*T1, ... capped at T2.
                let next = ses.retransmit.saturating_mul(2).min(cfg.t2);
                self.session.retransmit = next;
                self.emit(Action::Retransmit2xx);
                self.emit(Action::StartTimer(SessionTimer::Retransmit2xx, next));
            }
            SessionTimer::AckTimeout if awaiting_ack && !ses.is_terminated() => {
                // §13.3.1.4: no ACK in 64*T1: the session is over, send BYE.
                self.emit(Action::CancelTimer(SessionTimer::Retransmit2xx));
                self.bye_kept(EndReason::NoAck);
            }
            SessionTimer::Glare if ses.pending == Pending::Glare => {
                self.session.pending = Pending::None;
                self.emit(Action::Tu(Notice::RetryReInvite));
            }
            // RFC 4028 §10: time to refresh. The TU sends the re-INVITE or UPDATE; its 2xx
            // restarts the timer (`Event::SessionExpires`).
            SessionTimer::Refresh
                if !ses.is_terminated() && ses.interval.is_some_and(|i| i.local_refresh) =>
            {
                if ses.can_reinvite() {
                    self.emit(Action::Tu(Notice::RefreshDue));
                } else {
                    // An INVITE transaction is open (or the §14.1 back-off runs): its 2xx
                    // refreshes the session (`Event::SessionExpires` re-arms this timer),
                    // but it may fail, and only a 2xx refreshes. Ask again after T2 (at
                    // least a second, should the host's T2 be zero), well within the
                    // interval/6 (15 s or more) left before the peer's expiry.
                    let again = cfg.t2.max(Duration::from_secs(1));
                    self.emit(Action::StartTimer(SessionTimer::Refresh, again));
                }
            }
            // RFC 4028 §10: no refresh came in time: end the session with BYE.
            SessionTimer::Expiry
                if !ses.is_terminated() && ses.interval.is_some_and(|i| !i.local_refresh) =>
            {
                self.session.interval = None;
                self.bye_kept(EndReason::SessionExpired);
            }
            // The back-off a received re-INVITE interrupted is over: retry now, or once
            // that re-INVITE is (§14.1: one INVITE transaction at a time).
            SessionTimer::Glare if ses.backoff == Backoff::Running => {
                self.session.backoff = Backoff::Due;
                if ses.pending == Pending::None {
                    self.remote_reinvite_over();
                }
            }
            _ => {} // Stale timer.
        }
    }

    /// RFC 4028 §10: a 2xx sent or received (re)starts the session timer; one without
    /// Session-Expires stops it (§7.2).
    fn on_session_expires(&mut self, interval: Option<SessionInterval>) {
        let ses = self.session.before();
        if !matches!(ses.state, SessionState::Accepted | SessionState::Confirmed) {
            return;
        }
        // The other timer stops; restarting the same one replaces its deadline.
        if let Some(old) = ses.interval
            && interval.is_none_or(|new| armed_timer(new) != armed_timer(old))
        {
            self.emit(Action::CancelTimer(armed_timer(old)));
        }
        self.session.interval = interval;
        if let Some(i) = interval {
            let after = if i.local_refresh {
                i.refresh_after()
            } else {
                i.expire_after()
            };
            self.emit(Action::StartTimer(armed_timer(i), after));
        }
    }

    fn on_hang_up(&mut self) {
        let ses = self.session.before();
        match (ses.role, ses.state) {
            (_, SessionState::Terminated(_)) => {}
            // §9.1: no CANCEL before a provisional response; defer it.
            (Role::Uac, SessionState::Calling) => self.session.give_up = true,
            (Role::Uac, SessionState::Proceeding) => {
                self.session.give_up = true;
                if !ses.cancel_sent {
                    self.session.cancel_sent = true;
                    self.emit(Action::SendCancel);
                }
            }
            (Role::Uas, SessionState::Proceeding) => self.on_reject(StatusCode::DECLINE),
            // §15: the callee must not BYE before the ACK (or its timeout).
            (Role::Uas, SessionState::Accepted) => self.session.bye_after_ack = true,
            (Role::Uas, _) if matches!(ses.pending, Pending::RemoteAccepted { .. }) => {
                self.session.bye_after_ack = true
            }
            _ => self.bye_kept(EndReason::LocalBye),
        }
    }

    fn on_answer(&mut self, cfg: &Config) {
        let ses = self.session.before();
        let sdp = match (ses.state, ses.pending) {
            (SessionState::Proceeding, _) if ses.role == Role::Uas => {
                self.session.state = SessionState::Accepted;
                offer_or_answer(ses.invite_offer)
            }
            (SessionState::Confirmed, Pending::Remote { offer, cseq }) => {
                self.session.pending = Pending::RemoteAccepted { offer, cseq };
                offer_or_answer(offer)
            }
            _ => return,
        };
        let kind = if ses.state == SessionState::Confirmed {
            RequestKind::ReInvite
        } else {
            RequestKind::Invite
        };
        self.emit(Action::Respond {
            to: kind,
            code: StatusCode::OK,
            sdp,
        });
        // §13.3.1.4: the TU retransmits its 2xx until the ACK, for 64*T1 at most.
        self.session.retransmit = cfg.t1;
        self.emit(Action::StartTimer(SessionTimer::Retransmit2xx, cfg.t1));
        // Saturating: the host's T1 is input, and input never panics (DESIGN.md rule 1).
        self.emit(Action::StartTimer(
            SessionTimer::AckTimeout,
            cfg.t1.saturating_mul(64),
        ));
    }

    fn on_reject(&mut self, code: StatusCode) {
        if !(300..=699).contains(&code.as_u16()) {
            return;
        }
        let ses = self.session.before();
        match (ses.state, ses.pending) {
            (SessionState::Proceeding, _) if ses.role == Role::Uas => {
                self.respond(RequestKind::Invite, code);
                self.terminate(EndReason::Rejected(code));
            }
            // §14.2: a rejected re-INVITE leaves the session as it was.
            (SessionState::Confirmed, Pending::Remote { .. }) => {
                self.respond(RequestKind::ReInvite, code);
                self.remote_reinvite_over();
            }
            _ => {}
        }
    }

    /// The peer's re-INVITE is over (rejected, or its 2xx ACKed): no INVITE transaction
    /// is in progress, so a §14.1 retry that waited for it may go now.
    fn remote_reinvite_over(&mut self) {
        self.session.pending = Pending::None;
        if self.session.backoff == Backoff::Due {
            self.session.backoff = Backoff::None;
            self.emit(Action::Tu(Notice::RetryReInvite));
        }
    }

    fn respond(&mut self, to: RequestKind, code: StatusCode) {
        self.emit(Action::Respond {
            to,
            code,
            sdp: Sdp::None,
        });
    }

    fn bye_kept(&mut self, reason: EndReason) {
        if let Some(tag) = self.session.kept {
            self.set_fork(&tag, DialogState::Terminated);
            self.emit(Action::SendBye { remote_tag: tag });
        }
        self.terminate(reason);
    }

    /// Enter Terminated: every timer stops and every dialog ends with the session.
    fn terminate(&mut self, reason: EndReason) {
        let ses = self.session.before();
        if ses.is_terminated() {
            return;
        }
        // Every INVITE gets a final response (§17.2.1): a re-INVITE the TU has not
        // answered when the session ends gets 487 (§15.1.2), whoever ended it.
        if let Pending::Remote { .. } = ses.pending {
            self.respond(RequestKind::ReInvite, StatusCode::REQUEST_TERMINATED);
        }
        if ses.state == SessionState::Accepted
            || matches!(ses.pending, Pending::RemoteAccepted { .. })
        {
            self.emit(Action::CancelTimer(SessionTimer::Retransmit2xx));
            self.emit(Action::CancelTimer(SessionTimer::AckTimeout));
        }
        if ses.pending == Pending::Glare || ses.backoff == Backoff::Running {
            self.emit(Action::CancelTimer(SessionTimer::Glare));
        }
        if let Some(i) = ses.interval {
            self.emit(Action::CancelTimer(armed_timer(i)));
        }
        self.session.interval = None;
        self.session.backoff = Backoff::None;
        for f in self.session.forks.iter_mut().flatten() {
            f.state = DialogState::Terminated;
        }
        self.session.pending = Pending::None;
        self.session.state = SessionState::Terminated(reason);
        self.emit(Action::Tu(Notice::Terminated(reason)));
    }

    fn end_early_forks(&mut self) {
        for f in self.session.forks.iter_mut().flatten() {
            if f.state == DialogState::Early {
                f.state = DialogState::Terminated;
            }
        }
    }

    /// The state of the fork `tag`: by reference and only its state, as a tag is 129
    /// bytes.
    fn fork(&self, tag: &Tag) -> Option<DialogState> {
        self.session
            .forks
            .iter()
            .flatten()
            .find(|f| f.tag == *tag)
            .map(|f| f.state)
    }

    fn add_fork(&mut self, tag: Tag, state: DialogState) -> bool {
        match self.session.forks.iter_mut().find(|f| f.is_none()) {
            Some(slot) => {
                *slot = Some(Fork { tag, state });
                true
            }
            None => false,
        }
    }

    /// Update a fork's state, adding it if there is room. A confirmed dialog always gets
    /// a slot: it replaces a dialog that is over.
    fn set_fork(&mut self, tag: &Tag, state: DialogState) {
        if let Some(f) = self
            .session
            .forks
            .iter_mut()
            .flatten()
            .find(|f| f.tag == *tag)
        {
            f.state = state;
            return;
        }
        if self.add_fork(*tag, state) || state != DialogState::Confirmed {
            return;
        }
        let kept = self.session.kept;
        if let Some(slot) =
            self.session.forks.iter_mut().find(|f| {
                f.is_some_and(|f| f.state != DialogState::Confirmed && Some(f.tag) != kept)
            })
        {
            *slot = Some(Fork { tag: *tag, state });
        }
    }
}

/// The session timer an interval runs on: the refresh when this side refreshes, else the
/// expiry (RFC 4028 §10).
fn armed_timer(i: SessionInterval) -> SessionTimer {
    if i.local_refresh {
        SessionTimer::Refresh
    } else {
        SessionTimer::Expiry
    }
}

fn offer(body: bool) -> Sdp {
    if body { Sdp::Offer } else { Sdp::None }
}

/// What a 2xx to an INVITE carries: the answer to its offer, or an offer (§13.3.1).
fn offer_or_answer(request_had_offer: bool) -> Sdp {
    if request_had_offer {
        Sdp::Answer
    } else {
        Sdp::Offer
    }
}

#[cfg(test)]
mod tag_tests {
    use super::Tag;
    use crate::dialog::MAX_TAG;

    /// `new_or_empty` is `new(s).ok().unwrap_or(Tag::EMPTY)`, the expression it replaced,
    /// at every length around `MAX_TAG` and on non-ASCII text.
    #[test]
    fn new_or_empty_agrees_with_new() {
        let long = "x".repeat(MAX_TAG + 2);
        let accented = "\u{e9}".repeat(MAX_TAG / 2 + 1);
        for text in [long.as_str(), accented.as_str()] {
            for end in (0..=text.len()).filter(|&i| text.is_char_boundary(i)) {
                let s = &text[..end];
                assert_eq!(
                    Tag::new_or_empty(s),
                    Tag::new(s).ok().unwrap_or(Tag::EMPTY),
                    "{end}"
                );
            }
        }
    }

    /// `is` answers as the comparison of `as_str` it replaces, on every pair of short
    /// strings (empty, prefixes, case, non-ASCII).
    #[test]
    fn is_agrees_with_as_str() {
        let words = [
            "", "a", "A", "ab", "abc", "a1b2c3", "\u{e9}", "\u{e9}x", "ab ",
        ];
        for a in words {
            let t = Tag::new(a).unwrap(); // unwrap: far below MAX_TAG
            assert_eq!(t.as_bytes(), t.as_str().as_bytes());
            for b in words {
                assert_eq!(t.is(b), t.as_str() == b, "{a:?} {b:?}");
            }
        }
    }
}

#[cfg(test)]
mod snapshot_tests {
    use super::{Config, Event, InviteSession, SessionTimer, Tag};
    use crate::message::StatusCode;

    fn code(n: u16) -> StatusCode {
        StatusCode::new(n).unwrap() // unwrap: valid codes
    }

    /// The events the sessions below are driven through: two forks, re-INVITEs both
    /// ways, timers and the TU's commands.
    fn events() -> [Event; 16] {
        let (a, b) = (Tag::new("a").unwrap(), Tag::new("b").unwrap()); // unwrap: short
        [
            Event::Response {
                code: code(180),
                to_tag: Some(a),
                cseq: 1,
                body: false,
            },
            Event::Response {
                code: code(200),
                to_tag: Some(a),
                cseq: 1,
                body: true,
            },
            Event::Response {
                code: code(200),
                to_tag: Some(b),
                cseq: 1,
                body: false,
            },
            Event::Response {
                code: code(491),
                to_tag: Some(a),
                cseq: 2,
                body: false,
            },
            Event::Response {
                code: code(200),
                to_tag: Some(a),
                cseq: 2,
                body: true,
            },
            Event::Ack {
                cseq: 1,
                body: false,
            },
            Event::ReInvite {
                body: true,
                cseq: 5,
            },
            Event::Bye { remote_tag: a },
            Event::Timer(SessionTimer::Glare),
            Event::InviteTransactionEnded,
            Event::TuCancel,
            Event::TuHangUp,
            Event::TuAnswer,
            Event::TuReject(code(486)),
            Event::TuReInvite {
                cseq: 2,
                body: false,
                random: 7,
            },
            Event::Cancel,
        ]
    }

    /// `step_call`'s use of a snapshot answers as the whole session did: a TU command
    /// that gives no action left the session unchanged exactly when its snapshot is
    /// unchanged, and restoring after a retryable command gives the session back, in
    /// every session reached by up to four events from a UAC's and a UAS's start.
    #[test]
    fn snapshot_stands_for_the_session() {
        let cfg = Config::default();
        let events = events();
        let tu = [
            Event::TuCancel,
            Event::TuHangUp,
            Event::TuAnswer,
            Event::TuReject(code(486)),
            Event::TuReject(code(603)),
            Event::TuReInvite {
                cseq: 3,
                body: true,
                random: 1,
            },
        ];
        let mut level = std::vec![
            InviteSession::uac(1, true),
            InviteSession::uac(1, false),
            InviteSession::uas(1, Tag::new("r").unwrap(), true), // unwrap: short
        ];
        let mut checked = 0;
        for _ in 0..4 {
            let mut next = std::vec::Vec::new();
            for s in &level {
                for &e in &tu {
                    let snap = s.snapshot();
                    let mut after = *s;
                    let mut actions = heapless::Vec::new();
                    after.step_in_place(&cfg, &e, &mut actions);
                    if actions.is_empty() {
                        assert_eq!(snap == after.snapshot(), *s == after, "{s:?} {e:?}");
                    }
                    if !matches!(e, Event::TuCancel | Event::TuHangUp) {
                        after.restore(&snap);
                        assert_eq!(after, *s, "{e:?}");
                    }
                    checked += 1;
                }
                for &e in &events {
                    let mut t = *s;
                    let mut actions = heapless::Vec::new();
                    t.step_in_place(&cfg, &e, &mut actions);
                    if !next.contains(&t) {
                        next.push(t);
                    }
                }
            }
            level = next;
        }
        assert!(checked > 1000, "{checked}");
    }
}
