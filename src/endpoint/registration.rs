//! Registrations kept by the endpoint (RFC 3261 §10.2): the [`register`](crate::register)
//! machine driven with REGISTER client transactions, Digest answers from
//! [`auth`](crate::auth), and a refresh timer.

use core::net::SocketAddr;

use heapless::String;

use super::digest::{Challenges, MAX_REALMS};
use super::table::{RawHandle, Table};
use super::{Endpoint, Event, Request, SendError, TxHandle, text};
use crate::error::Capacity;
use crate::message::{
    Challenge, ContactValue, HeaderKind, Message, Method, RetryAfter, StatusCode,
};
use crate::register::{self, Action, Notice, Registration};
use crate::time::{Duration, Instant};

/// Most registrations (accounts of a UA) an endpoint keeps at a time by default: the
/// default of its `REGS` parameter ([`Endpoint`](super::Endpoint)).
pub const MAX_REGISTRATIONS: usize = 4;
/// Longest registrar URI, address of record, user name or password a registration keeps.
pub const MAX_REGISTRATION_TEXT: usize = 128;

/// A registration of this endpoint. Generation-checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RegistrationHandle(pub(super) RawHandle);

/// What [`Endpoint::register`] registers.
#[derive(Clone, Copy, Debug)]
pub struct Binding<'a> {
    /// The registrar's Request-URI: its domain, no user part (§10.2), e.g.
    /// `sip:example.com` (with its scheme: a bare `example.com` is refused,
    /// [`SendError::Encode`]).
    pub registrar: &'a str,
    /// The address of record, written as To and From (§10.2), e.g.
    /// `<sip:alice@example.com>`.
    pub aor: &'a str,
    /// Seconds asked for (the registrar may grant less, §10.2.1.1).
    pub expires: u32,
    /// Digest credentials for a registrar that challenges (§22.2); empty when none.
    pub username: &'a str,
    /// The password of `username`.
    pub password: &'a str,
    /// The one realm the credentials answer, or `None` (or an empty realm) for any realm
    /// that challenges (as
    /// [`DigestCredentials::realm`](super::DigestCredentials::realm)).
    pub realm: Option<&'a str>,
}

type Text = String<MAX_REGISTRATION_TEXT>;

pub(super) struct RegEntry {
    machine: Registration,
    /// Where the REGISTERs go.
    to: SocketAddr,
    registrar: Text,
    aor: Text,
    username: Text,
    password: Text,
    /// One Call-ID and From tag for every REGISTER of the registration (§10.2).
    call_id: String<64>,
    from_tag: String<16>,
    /// The REGISTER out, if any.
    tx: Option<TxHandle>,
    refresh_at: Option<Instant>,
    /// The last registrar and proxy challenges, answered on every REGISTER after them.
    challenges: Challenges,
}

pub(super) type Registrations<const N: usize> = Table<RegEntry, N>;

fn text(s: &str) -> Result<Text, SendError> {
    String::try_from(s).map_err(|_| SendError::Capacity(Capacity::String))
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
    /// Register this endpoint's Contact for `binding.aor` with the registrar at `to`,
    /// and keep it registered (RFC 3261 §10.2): a 401/407 is answered with Digest
    /// credentials (once per request, again for a `stale` nonce), a 423 with the
    /// registrar's `Min-Expires`, and the binding is refreshed a tenth of its lifetime
    /// before it expires. [`Event::Registered`] reports each success,
    /// [`Event::RegistrationFailed`] the end of a registration that failed (then its
    /// handle no longer resolves), or, with [`EndpointConfig::registration_retry`](super::EndpointConfig::registration_retry), a
    /// failure that may pass [`Event::RegistrationRetrying`] (the registration goes on).
    /// Every REGISTER also gives the usual [`Event::Response`]s.
    ///
    /// The `expires` of [`Event::Registered`] is what the registrar's 2xx granted
    /// this endpoint's Contact (RFC 3261 §10.2.4, §10.3 step 8): the `expires`
    /// parameter of that Contact in the 2xx, else the 2xx's `Expires` header, else
    /// what `binding.expires` asked. A registrar written on this endpoint answers the
    /// REGISTER ([`Event::IncomingRequest`]) with
    /// [`respond_with`](Endpoint::respond_with) and
    /// `Contact: <uri>;expires=N` (the Contact the REGISTER carried); it challenges
    /// with a 401 and `WWW-Authenticate` and checks the answer with
    /// [`auth::verify`](crate::auth::verify).
    ///
    /// Errors (nothing sent, nothing kept): [`SendError::Capacity`] if `REGS` are kept
    /// already or a text of `binding` is longer than [`MAX_REGISTRATION_TEXT`];
    /// [`SendError::Encode`] for a registrar URI without its scheme or otherwise not
    /// writable; the errors of [`Endpoint::send_request`] for a full `TX` table.
    pub fn register(
        &mut self,
        now: Instant,
        to: SocketAddr,
        binding: &Binding<'_>,
    ) -> Result<RegistrationHandle, SendError> {
        let call_id = self.new_call_id();
        let from_tag = self.random_tag();
        let (machine, actions) = Registration::new(binding.expires);
        let machine = match self.config.registration_retry {
            Some(retry) => machine.with_retry(retry),
            None => machine,
        };
        let entry = RegEntry {
            machine,
            to,
            registrar: text(binding.registrar)?,
            aor: text(binding.aor)?,
            username: text(binding.username)?,
            password: text(binding.password)?,
            call_id,
            from_tag,
            tx: None,
            refresh_at: None,
            challenges: Challenges::new(binding.realm)?,
        };
        let reg = self
            .regs
            .insert(entry)
            .map(RegistrationHandle)
            .ok_or(SendError::Capacity(Capacity::Registrations))?;
        // The first REGISTER: a failure to send it is this call's error, not an event.
        for action in actions {
            if let Action::Send {
                cseq,
                expires,
                authorize,
            } = action
                && let Err(e) = self.send_register(now, reg, cseq, expires, authorize, None)
            {
                self.regs.remove(reg.0);
                return Err(e);
            }
        }
        Ok(reg)
    }

    /// Remove the binding (`Expires: 0`, §10.2.2). [`Event::Unregistered`] follows the
    /// registrar's 2xx; the handle then no longer resolves.
    pub fn unregister(&mut self, now: Instant, reg: RegistrationHandle) -> Result<(), SendError> {
        self.step_reg(now, reg, register::Event::Unregister, None)
    }

    /// Where a registration is, while the endpoint keeps it.
    pub fn registration_state(&self, reg: RegistrationHandle) -> Option<register::State> {
        self.regs.get(reg.0).map(|r| r.machine.state())
    }

    /// Registrations kept now.
    pub fn registration_count(&self) -> usize {
        self.regs.len()
    }

    fn step_reg(
        &mut self,
        now: Instant,
        reg: RegistrationHandle,
        event: register::Event,
        response: Option<&Message<'_>>,
    ) -> Result<(), SendError> {
        let r = self.regs.get_mut(reg.0).ok_or(SendError::UnknownHandle)?;
        let step = r.machine.step(event);
        r.machine = step.registration;
        self.run_reg_actions(now, reg, &step.actions, response)
    }

    fn run_reg_actions(
        &mut self,
        now: Instant,
        reg: RegistrationHandle,
        actions: &[Action],
        response: Option<&Message<'_>>,
    ) -> Result<(), SendError> {
        let mut result = Ok(());
        // The wait before a REGISTER that failed goes again, once drawn.
        let mut waited = None;
        for &action in actions {
            match action {
                Action::Send {
                    cseq,
                    expires,
                    authorize,
                } => {
                    let sent = self.send_register(now, reg, cseq, expires, authorize, response);
                    if let Err(e) = sent {
                        // Nothing went out (no challenge this crate can answer, or no
                        // room): the registration cannot go on.
                        result = Err(e);
                        self.regs.remove(reg.0);
                        let status = response
                            .and_then(Message::status)
                            .filter(|c| !c.is_success())
                            .unwrap_or(StatusCode::SERVER_INTERNAL_ERROR);
                        self.push_event(Event::RegistrationFailed { reg, status });
                        return result;
                    }
                }
                Action::StartRefresh(after) => {
                    let retrying = self
                        .regs
                        .get(reg.0)
                        .is_some_and(|r| r.machine.state() == register::State::Retrying);
                    let after = if retrying {
                        let wait = self.retry_wait(after, response);
                        waited = Some(wait);
                        wait
                    } else {
                        after
                    };
                    if let Some(r) = self.regs.get_mut(reg.0) {
                        r.refresh_at = Some(now.saturating_add(after));
                        // The next REGISTER answers challenges anew, as the machine counts
                        // them: a registrar back from an outage no longer knows the nonces
                        // it gave, and its fresh challenge (without `stale`) to credentials
                        // built on an old one would read as a refusal (§22.1).
                        if retrying {
                            r.challenges = r.challenges.none_kept();
                        }
                    }
                }
                Action::CancelRefresh => {
                    if let Some(r) = self.regs.get_mut(reg.0) {
                        r.refresh_at = None;
                    }
                }
                Action::Notify(Notice::Registered { expires }) => {
                    self.push_event(Event::Registered { reg, expires })
                }
                Action::Notify(Notice::Unregistered) => {
                    self.regs.remove(reg.0);
                    self.push_event(Event::Unregistered { reg });
                }
                Action::Notify(Notice::Retrying { status, after }) => {
                    let after = waited.unwrap_or(after);
                    self.push_event(Event::RegistrationRetrying { reg, status, after });
                }
                Action::Notify(Notice::Failed(status)) => {
                    self.regs.remove(reg.0);
                    self.push_event(Event::RegistrationFailed { reg, status });
                }
            }
        }
        result
    }

    fn send_register(
        &mut self,
        now: Instant,
        reg: RegistrationHandle,
        cseq: u32,
        expires: u32,
        authorize: bool,
        response: Option<&Message<'_>>,
    ) -> Result<(), SendError> {
        let cnonce = self.cnonce();
        let mut expires_text: String<10> = String::new();
        let _ = text::push_u32(&mut expires_text, expires);
        // The last challenge of each kind is kept and answered on every later REGISTER,
        // with the next nonce count (§22.3: the credentials of each realm go on every
        // request; a proxy with single-use nonces then only asks for the proxy's again).
        if let (Some(resp), Some(r)) = (response, self.regs.get_mut(reg.0)) {
            r.challenges.keep(resp);
        }
        // Copies: the request is sent through `&mut self`. Registrations are rare.
        let r = self.regs.get_mut(reg.0).ok_or(SendError::UnknownHandle)?;
        let (to, registrar, aor) = (r.to, r.registrar.clone(), r.aor.clone());
        let (call_id, from_tag) = (r.call_id.clone(), r.from_tag.clone());
        let answers = r.challenges.answer(
            &r.username,
            &r.password,
            Method::Register,
            &registrar,
            &cnonce,
            b"",
        );
        // §22.2: a challenge this crate cannot answer ends the registration here.
        if authorize && answers.is_empty() {
            return Err(SendError::InvalidState);
        }
        // Expires and an answer for every challenge kept (up to MAX_REALMS of each kind):
        // with room for two only, the third answer was dropped and its realm challenged
        // again (§22.3: the credentials of each realm go on the request).
        let mut headers: heapless::Vec<(&str, &str), { 1 + 2 * MAX_REALMS }> = heapless::Vec::new();
        let _ = headers.push(("Expires", &expires_text));
        for (name, value) in &answers {
            let _ = headers.push((name, value.as_str()));
        }
        let req = Request {
            headers: &headers,
            call_id: Some(&call_id),
            from_tag: Some(&from_tag),
            cseq,
            ..Request::new(Method::Register, &registrar, &aor, &aor)
        };
        let tx = self.start_request(now, to, &req, &mut String::new())?;
        if let Some(r) = self.regs.get_mut(reg.0) {
            r.tx = Some(tx);
        }
        Ok(())
    }

    /// How long a registration waits before it registers again after a failure (RFC 5626
    /// §4.5): a random 50 to 100 % of the machine's wait time `most`, and not before the
    /// failed response's Retry-After (RFC 3261 §21.5.4, §20.33).
    fn retry_wait(&mut self, most: Duration, response: Option<&Message<'_>>) -> Duration {
        let ms = u64::try_from(most.as_millis()).unwrap_or(u64::MAX);
        let half = ms / 2;
        let drawn = half + self.next_random() % (ms - half + 1);
        let retry_after = response
            .and_then(|m| m.header(HeaderKind::RetryAfter))
            .and_then(|h| RetryAfter::parse(h.value).ok())
            .map_or(0, |r| u64::from(r.seconds()) * 1000);
        Duration::from_millis(drawn.max(retry_after))
    }

    /// The registration whose REGISTER is `tx`.
    fn registration_of(&self, tx: TxHandle) -> Option<RegistrationHandle> {
        self.regs
            .iter()
            .find(|(_, r)| r.tx == Some(tx))
            .map(|(h, _)| RegistrationHandle(h))
    }

    /// A final response (or none: a timeout) to a client transaction: if it is a
    /// registration's REGISTER, its machine takes it.
    pub(super) fn registration_response(
        &mut self,
        now: Instant,
        tx: TxHandle,
        response: Option<&Message<'_>>,
    ) {
        let Some(reg) = self.registration_of(tx) else {
            return;
        };
        if let Some(r) = self.regs.get_mut(reg.0) {
            r.tx = None;
        }
        // Only a challenge can refuse credentials: the REGISTER is read for nothing else.
        let realm = self.regs.get(reg.0).map_or("", |r| r.challenges.realm());
        let refused = response.is_some_and(|m| {
            m.status().is_some_and(|c| matches!(c.as_u16(), 401 | 407))
                && self
                    .txs
                    .get(tx.0)
                    .and_then(|e| e.stored_request(&crate::message::Limits::default()))
                    .is_some_and(|req| super::digest::refused(&req, m, realm))
        });
        let event = match response.and_then(|m| m.status().map(|c| (m, c))) {
            Some((m, code)) => register::Event::Response {
                code,
                expires: self.granted_expires(m),
                // Min-Expires is delta-seconds, as Expires is (§20.23).
                min_expires: m
                    .header(HeaderKind::MinExpires)
                    .and_then(|h| crate::message::Expires::parse(h.value).ok())
                    .map(|e| e.0),
                stale: stale(m),
                refused,
            },
            None => register::Event::Timeout,
        };
        let _ = self.step_reg(now, reg, event, response);
    }

    /// §10.2.4: the expiry of this endpoint's Contact in a 2xx to REGISTER (its
    /// `expires` parameter), else the `Expires` header.
    fn granted_expires(&self, m: &Message<'_>) -> Option<u32> {
        // The REGISTER carried the SIP or the SIPS Contact (§8.1.1.8), as its
        // Request-URI was.
        let ours = [false, true].map(|sips| {
            self.contacts
                .get(sips)
                .trim_start_matches('<')
                .split('>')
                .next()
                .and_then(|u| crate::message::Uri::parse(u.as_bytes()).ok())
        });
        // §10.3 step 8: the registrar lists every binding; ours is the one whose URI is
        // equivalent to our Contact's (§19.1.4: case, escapes, and parameters such as
        // `ob` that only one side has do not matter).
        let from_contact = m.contacts().find_map(|c| match c {
            Ok(ContactValue::Addr(na))
                if ours.iter().flatten().any(|ours| na.uri().equivalent(ours)) =>
            {
                na.expires()
            }
            _ => None,
        });
        from_contact.or_else(|| m.expires().and_then(Result::ok).map(|e| e.0))
    }

    /// The earliest refresh due.
    pub(super) fn next_refresh(&self) -> Option<Instant> {
        self.regs.iter().filter_map(|(_, r)| r.refresh_at).min()
    }

    /// Refresh the registrations due at `now`.
    pub(super) fn fire_refreshes(&mut self, now: Instant) {
        let due: heapless::Vec<RawHandle, REGS> = self
            .regs
            .iter()
            .filter(|(_, r)| r.refresh_at.is_some_and(|t| t <= now))
            .map(|(h, _)| h)
            .collect();
        for h in due {
            if let Some(r) = self.regs.get_mut(h) {
                r.refresh_at = None;
            }
            let _ = self.step_reg(now, RegistrationHandle(h), register::Event::Refresh, None);
        }
    }
}

/// Whether a 401/407 says the nonce of the credentials was stale (RFC 2617 §3.2.1).
fn stale(m: &Message<'_>) -> bool {
    [HeaderKind::WwwAuthenticate, HeaderKind::ProxyAuthenticate]
        .into_iter()
        .flat_map(|k| m.headers_of(k))
        .filter_map(|h| Challenge::parse(h.value).ok())
        .any(|c| c.stale() == Some(true))
}
