//! Dialogs and the INVITE session (RFC 3261 §12–15), pure.
//!
//! Two pieces, both free of IO, clocks and allocation:
//!
//! - [`Dialog`]: one dialog's state (§12): [`DialogId`], [`DialogState`], local and
//!   remote CSeq, local and remote URI, remote target, route set, secure flag. It is
//!   created from messages ([`Dialog::uac`] from a 1xx-with-tag or 2xx, §12.1.2;
//!   [`Dialog::uas`] from the dialog-creating request, §12.1.1), checks requests
//!   ([`Dialog::on_request`], §12.2.2: 481 / 500), follows responses
//!   ([`Dialog::on_response`], §12.2.1.2: 481/408 end it, 2xx refresh the target) and
//!   builds in-dialog requests ([`Dialog::request`], [`Dialog::ack`], §12.2.1.1, loose
//!   and strict routing) as [`MessageBuilder`](crate::encode::MessageBuilder)s that
//!   borrow its strings. All strings live in bounded storage inside the value
//!   ([`MAX_CALL_ID`], [`MAX_TAG`], [`MAX_URI`], [`MAX_ROUTE_BYTES`], [`MAX_ROUTES`]);
//!   overflow is [`DialogError::Capacity`].
//! - [`InviteSession`]: the INVITE usage (§13–15) as a `Copy` machine,
//!   `step(self, &Config, Event) -> SessionStep`. It knows the forks of its INVITE by
//!   remote tag (at most [`MAX_FORKS`]) but holds no message data: the host keeps one
//!   [`Dialog`] per fork and carries out the [`Action`]s.
//! - Session timers (RFC 4028): [`TimerConfig`] negotiates the session interval and the
//!   refresher from a (re-)INVITE and its 2xx (§7, §9); the result, fed to the session
//!   as [`Event::SessionExpires`], arms the refresh or the expiry (§10).
//!
//! # Host duties
//!
//! - Parse each message, find the session (Call-ID, tags, transaction) and feed the
//!   facts as an [`Event`]: every response to the INVITE or a re-INVITE (retransmitted
//!   2xx included, which no transaction passes up after the first, RFC 6026), ACKs,
//!   CANCELs, re-INVITEs, BYEs, timer expiries and TU commands.
//! - Keep a [`Dialog`] per remote tag: create it on [`Notice::EarlyDialog`] /
//!   [`Notice::Confirmed`] with [`Dialog::uac`], update it with [`Dialog::on_response`],
//!   drop it after [`Action::SendBye`] or [`Notice::Terminated`]. Check every in-dialog
//!   request with [`Dialog::on_request`] first (481/500 per §12.2.2), and call
//!   [`Dialog::refresh_target`] when a received re-INVITE or UPDATE is answered 2xx.
//! - The ACK for a non-2xx final response belongs to the INVITE client transaction
//!   (§17.1.1.3), not to the session.
//! - Turn [`Action::StartTimer`] durations into deadlines and feed
//!   [`Event::Timer`] when they pass; restarting a timer replaces its deadline.
//! - Build and send what the actions say: ACK with [`Dialog::ack`] (new branch), BYE and
//!   re-INVITE with [`Dialog::request`], CANCEL with
//!   [`MessageBuilder::cancel_for`](crate::encode::MessageBuilder::cancel_for), responses
//!   with [`MessageBuilder::response_to`](crate::encode::MessageBuilder::response_to),
//!   putting the SDP [`Sdp`] asks for in the body. Keep the 2xx bytes for
//!   [`Action::Retransmit2xx`].
//! - Supply randomness: tags, branches, and the `random` of [`Event::TuReInvite`] for
//!   the §14.1 back-off.
//! - Answer a CANCEL that matches no transaction with 481 (§9.2) itself.
//!
//! # Example: a UAC from INVITE to BYE
//!
//! ```
//! use sansip::dialog::{Action, Config, Dialog, Event, InviteSession, Notice, SessionState, Tag};
//! use sansip::encode::{MessageBuilder, Value, ViaValue};
//! use sansip::message::{Message, Method, StatusCode};
//!
//! let via = |branch| ViaValue { transport: "UDP", sent_by: "192.0.2.1:5060", branch, rport: false };
//! // The INVITE, as the host sends it.
//! let mut invite_buf = [0u8; 1024];
//! let n = MessageBuilder::request(Method::Invite, "sip:bob@example.com")
//!     .header("Via", Value::Via(via("z9hG4bK1")))
//!     .header("Max-Forwards", Value::Number(70))
//!     .header("From", Value::Tagged(b"<sip:alice@example.com>", "a1"))
//!     .header("To", Value::Text("<sip:bob@example.com>"))
//!     .header("Call-ID", Value::Text("c1@192.0.2.1"))
//!     .header("CSeq", Value::CSeq(1, Method::Invite))
//!     .header("Contact", Value::Text("<sip:alice@192.0.2.1>"))
//!     .encode_into(&mut invite_buf)?;
//! let invite = Message::parse(&invite_buf[..n])?;
//! let cfg = Config::default();
//! let session = InviteSession::uac(1, false);
//!
//! // Bob's 200 OK, through one proxy that record-routes.
//! let mut ok_buf = [0u8; 1024];
//! let n = MessageBuilder::response_to(&invite, StatusCode::OK, "b7")?
//!     .header("Record-Route", Value::Text("<sip:p1.example.com;lr>"))
//!     .header("Contact", Value::Text("<sip:bob@192.0.2.9>"))
//!     .encode_into(&mut ok_buf)?;
//! let ok = Message::parse(&ok_buf[..n])?;
//! let to_tag = Tag::new(ok.to()?.tag().unwrap_or(""))?;
//! let step = session.step(&cfg, Event::Response {
//!     code: StatusCode::OK, to_tag: Some(to_tag), cseq: ok.cseq()?.seq(), body: false,
//! });
//! assert!(matches!(step.actions[0], Action::SendAck { cseq: 1, .. }));
//! assert_eq!(step.actions[1], Action::Tu(Notice::Confirmed(to_tag)));
//! let session = step.session;
//! assert_eq!(session.state(), SessionState::Confirmed);
//!
//! // The dialog (§12.1.2) and the ACK built from it (§13.2.2.4).
//! let mut dialog = Dialog::uac(&invite, &ok, false)?;
//! let mut buf = [0u8; 1024];
//! let n = dialog.ack(1, via("z9hG4bK2")).encode_into(&mut buf)?;
//! let ack = Message::parse(&buf[..n])?;
//! assert_eq!(ack.request_uri_raw(), Some(&b"sip:bob@192.0.2.9"[..]));
//! assert_eq!(ack.cseq()?.seq(), 1);
//! assert_eq!(ack.routes().next().unwrap()?.uri().as_str(), "sip:p1.example.com;lr");
//!
//! // Alice hangs up: BYE with CSeq 2.
//! let step = session.step(&cfg, Event::TuHangUp);
//! assert_eq!(step.actions[0], Action::SendBye { remote_tag: to_tag });
//! assert!(step.session.is_terminated());
//! let n = dialog.request(Method::Bye, via("z9hG4bK3"), None)?.encode_into(&mut buf)?;
//! let bye = Message::parse(&buf[..n])?;
//! assert_eq!(bye.cseq()?.seq(), 2);
//! assert_eq!(bye.to()?.tag(), Some("b7"));
//! assert_eq!(bye.from()?.tag(), Some("a1"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod session;
mod state;
mod timer;

pub use session::{
    Action, Config, EndReason, Event, InviteSession, MAX_FORKS, MAX_SESSION_ACTIONS, Notice,
    RequestKind, Role, Sdp, SessionState, SessionStep, SessionTimer, Tag,
};
pub use state::{
    Accepted, Dialog, DialogError, DialogId, DialogState, MAX_CALL_ID, MAX_ROUTE_BYTES, MAX_ROUTES,
    MAX_TAG, MAX_URI, Reject, ResponseEffect,
};
#[cfg(feature = "endpoint")]
pub(crate) use state::{contact_uri, is_plain_target, route_is_loose, strip_angles, target_into};
pub use timer::{
    MIN_SE_FLOOR, OPTION_TAG as TIMER_OPTION_TAG, SessionInterval, TimerConfig, TimerRequest,
    UasTimer,
};
