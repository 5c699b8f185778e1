//! Digest credentials the endpoint keeps (RFC 3261 §22): the user's name and password
//! for the calls it places and its subscriptions ([`DigestCredentials`]), the last
//! challenge of each realm and kind it was given (a UAS's or registrar's
//! `WWW-Authenticate`, a proxy's `Proxy-Authenticate`; up to [`MAX_REALMS`] realms of
//! each) with how often each was answered, the rules for answering a 401 or 407, and the
//! request sent again with the answers.

use core::fmt;

use heapless::String;

use super::{
    Bytes, CSEQ_LIMIT, CallEntry, CallHandle, Endpoint, Event, Machine, SendError, TxHandle, text,
};
use crate::auth::{self, DigestInput, MAX_AUTHORIZATION};
use crate::dialog::{self, Dialog};
use crate::encode::{MessageBuilder, Value, ViaValue};
use crate::error::Capacity;
use crate::message::{
    Challenge, Credentials, Header, HeaderKind, Limits, Message, Method, Refresher,
};
use crate::time::Instant;
use crate::transaction::ClientKey;

/// Longest user name or password a call or subscription keeps
/// ([`DigestCredentials`]); a longer one is refused with
/// [`SendError::Capacity`]`(`[`Capacity::String`]`)`.
pub const MAX_CREDENTIAL: usize = 64;

/// Longest challenge (`WWW-Authenticate` or `Proxy-Authenticate` value) kept and
/// answered; a longer one is not answered.
const MAX_CHALLENGE: usize = 512;

/// Realms of one kind (`WWW-Authenticate` or `Proxy-Authenticate`) whose challenges are
/// kept, and answered together on every later request: two proxies on the path that
/// both authenticate, each challenging in turn (RFC 3261 §22.3), or the UASs whose 401s
/// a forking proxy gathered into one response (§16.7 step 7). A challenge of a further
/// realm takes the place of the one kept longest.
pub const MAX_REALMS: usize = 2;

/// Challenges answered in a row for one request before its credentials are taken as
/// refused: a proxy's for each realm and then the UAS's (§22.3). A realm that challenges
/// the credentials it was just given refuses them at once (§22.1). A registration's
/// limit, the same.
const MAX_CHALLENGES: u8 = crate::register::MAX_AUTH_TRIES;
const _: () = assert!(MAX_CHALLENGES as usize == MAX_REALMS + 1);
/// Requests sent again (answering a challenge) that a call or subscription remembers as
/// such while they wait for their final response: more than it usually has out at once
/// (a re-INVITE or UPDATE, an INFO, a BYE). A challenge to a further request while that
/// many are out is not answered (the request fails with it): forgetting one of them
/// would have its own challenge read as one to an original request, answered again.
const RETRIES_KEPT: usize = 4;
/// Stale-nonce challenges answered in a row for one request (RFC 2617 §3.2.1): a server
/// that keeps saying `stale=true` would otherwise be asked for ever.
const MAX_STALE: u8 = crate::register::MAX_STALE_TRIES;

/// A user name and password to answer Digest challenges with (RFC 3261 §22.2, §22.3), the
/// same pair as [`Binding::username`](super::Binding) and
/// [`Binding::password`](super::Binding) of a registration. Give it with a call
/// ([`Request::credentials`](super::Request)) or a subscription
/// ([`Subscribe::credentials`](super::Subscribe)): a 401 or 407 is then answered by
/// sending the request again with `Authorization` or `Proxy-Authorization`. Each is at
/// most [`MAX_CREDENTIAL`] bytes. `Debug` does not show the password.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct DigestCredentials<'a> {
    /// The user name, e.g. `alice` (or `anonymous` with an empty password, §22.2).
    pub username: &'a str,
    /// The password of `username`.
    pub password: &'a str,
    /// The one realm these credentials answer (RFC 3261 §22.1: the realm names the
    /// protection domain the password belongs to), or `None` (or an empty realm) to
    /// answer whichever realm challenges. Naming it keeps the password's digest away from any other UAS or proxy
    /// on the path, which could otherwise try passwords against it offline.
    pub realm: Option<&'a str>,
}

impl<'a> DigestCredentials<'a> {
    /// `username` and `password`, answering any realm.
    pub const fn new(username: &'a str, password: &'a str) -> Self {
        DigestCredentials {
            username,
            password,
            realm: None,
        }
    }

    /// The same credentials, answering only challenges of `realm` (the `realm` parameter
    /// of `WWW-Authenticate` or `Proxy-Authenticate`, compared exactly). An empty `realm`
    /// answers any realm, as `None` does.
    ///
    /// ```
    /// use sansip::endpoint::DigestCredentials;
    ///
    /// let c = DigestCredentials::new("alice", "secret").in_realm("atlanta.example.com");
    /// assert_eq!(c.realm, Some("atlanta.example.com"));
    /// ```
    pub const fn in_realm(self, realm: &'a str) -> Self {
        DigestCredentials {
            realm: Some(realm),
            ..self
        }
    }
}

impl fmt::Debug for DigestCredentials<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A password has no business in logs.
        f.debug_struct("DigestCredentials")
            .field("username", &self.username)
            .field("password", &"<hidden>")
            .field("realm", &self.realm)
            .finish()
    }
}

/// The credentials one request carries: (`Authorization` or `Proxy-Authorization`,
/// value), at most one of each per realm kept.
pub(super) type Answers =
    heapless::Vec<(&'static str, String<MAX_AUTHORIZATION>), { 2 * MAX_REALMS }>;

/// A challenge kept, and how many requests answered it (its nonce count).
struct Kept {
    challenge: String<MAX_CHALLENGE>,
    nc: u32,
}

/// The challenges of one kind kept, oldest first, one per realm.
type Realms = heapless::Vec<Kept, MAX_REALMS>;

/// The last challenge of each realm and kind (up to [`MAX_REALMS`] of each), and how many
/// requests answered each. §22.3: the credentials for a realm go on every later request
/// with the same Call-ID; §22.2: a UA reuses the credentials of a UAS or registrar on its
/// next requests to it.
pub(super) struct Challenges {
    /// The only realm whose challenges are kept and answered; empty for any.
    realm: String<MAX_CREDENTIAL>,
    www: Realms,
    proxy: Realms,
}

impl Challenges {
    /// No challenge yet; only those of `realm` (any when `None`) will be kept.
    /// [`Capacity::String`] when `realm` is longer than [`MAX_CREDENTIAL`].
    pub(super) fn new(realm: Option<&str>) -> Result<Self, SendError> {
        Ok(Challenges {
            realm: text_of(realm.unwrap_or(""))?,
            www: Realms::new(),
            proxy: Realms::new(),
        })
    }

    /// The same realm restriction, with no challenge kept.
    pub(super) fn none_kept(&self) -> Self {
        Challenges {
            realm: self.realm.clone(),
            www: Realms::new(),
            proxy: Realms::new(),
        }
    }

    /// Whether any challenge is kept.
    fn any(&self) -> bool {
        !self.www.is_empty() || !self.proxy.is_empty()
    }

    /// The only realm answered; empty for any.
    pub(super) fn realm(&self) -> &str {
        &self.realm
    }

    /// Keep the challenges in `resp` that this crate can answer, the first of each realm
    /// and at most [`MAX_REALMS`] of each kind, each in place of the one kept for its
    /// realm (its nonce count starts again) or else of the one kept longest. Realms
    /// `resp` does not challenge keep their challenges.
    pub(super) fn keep(&mut self, resp: &Message<'_>) {
        for (kind, kept) in [
            (HeaderKind::WwwAuthenticate, &mut self.www),
            (HeaderKind::ProxyAuthenticate, &mut self.proxy),
        ] {
            let mut taken: heapless::Vec<&str, MAX_REALMS> = heapless::Vec::new();
            for v in answerable(resp, kind, &self.realm) {
                let realm = realm_of(v);
                if taken.iter().any(|t| realm_of(t) == realm) {
                    continue;
                }
                if taken.push(v).is_err() {
                    break;
                }
                if let Some(i) = kept.iter().position(|k| realm_of(&k.challenge) == realm) {
                    kept.remove(i);
                }
                // One too long to keep is not answered, and its realm's old nonce no
                // longer counts (it was removed above).
                let Ok(challenge) = String::try_from(v) else {
                    continue;
                };
                if kept.is_full() {
                    kept.remove(0);
                }
                // Room was made above.
                let _ = kept.push(Kept { challenge, nc: 0 });
            }
        }
    }

    /// Answer every kept challenge for a request (`method` to `uri` with `body`), each
    /// with its next nonce count (RFC 2617 §3.2.2). A kept challenge that cannot be
    /// answered (the user's input cannot be written) is left out.
    pub(super) fn answer(
        &mut self,
        username: &str,
        password: &str,
        method: Method<'_>,
        uri: &str,
        cnonce: &str,
        body: &[u8],
    ) -> Answers {
        let mut answers = Answers::new();
        let www = self.www.iter_mut().map(|k| ("Authorization", k));
        let proxy = self.proxy.iter_mut().map(|k| ("Proxy-Authorization", k));
        for (name, Kept { challenge, nc }) in www.chain(proxy) {
            *nc = nc.saturating_add(1);
            let input = DigestInput {
                username,
                password,
                method,
                uri,
                cnonce,
                nonce_count: *nc,
                body,
            };
            let value = Challenge::parse(challenge.as_bytes())
                .ok()
                .and_then(|c| auth::authorization(&c, &input).ok());
            if let Some(value) = value {
                // Room for every kept challenge by construction.
                let _ = answers.push((name, value));
            }
        }
        answers
    }
}

/// The realm a challenge names (`None` without one, or when it does not parse).
fn realm_of(challenge: &str) -> Option<&str> {
    Challenge::parse(challenge.as_bytes())
        .ok()
        .and_then(|c| c.realm())
}

/// `s` kept as a credential text; [`Capacity::String`] past [`MAX_CREDENTIAL`] bytes.
fn text_of(s: &str) -> Result<String<MAX_CREDENTIAL>, SendError> {
    String::try_from(s).map_err(|_| SendError::Capacity(Capacity::String))
}

/// The values of the challenges of `kind` in `resp` this crate can answer, in order:
/// those of `realm` only, unless it is empty.
fn answerable<'m>(
    resp: &'m Message<'_>,
    kind: HeaderKind,
    realm: &'m str,
) -> impl Iterator<Item = &'m str> + 'm {
    resp.headers_of(kind).filter_map(move |h| {
        let c = Challenge::parse(h.value).ok()?;
        if !auth::can_answer(&c) || !(realm.is_empty() || c.realm() == Some(realm)) {
            return None;
        }
        core::str::from_utf8(h.value).ok()
    })
}

/// A request sent again answering a challenge, and the challenges its chain (the
/// original request and each request sent again) answered.
#[derive(Clone, Copy)]
struct Retried {
    tx: Option<TxHandle>,
    answered: u8,
    stale_answered: u8,
}

impl Retried {
    const NONE: Retried = Retried {
        tx: None,
        answered: 0,
        stale_answered: 0,
    };
}

/// What a call or subscription keeps to answer challenges: the user's credentials, the
/// challenges, and how many challenges the request being retried has had in a row.
pub(super) struct Auth {
    username: String<MAX_CREDENTIAL>,
    password: String<MAX_CREDENTIAL>,
    challenges: Challenges,
    /// The requests sent again, each answering a challenge (or a 422), with the
    /// challenges their chain answered so far: a challenge to one of them continues its
    /// count, a challenge to any other request starts a new one (two requests of a call
    /// challenged at once keep counts of their own). Only their credentials can be
    /// refused: an original request carries the kept credentials of an earlier
    /// challenge (§22.3), which a server whose nonce has expired challenges again, often
    /// without `stale`; that challenge is answered. Each stays until the request sent
    /// again for it takes its place, or, once it has its final response, another's.
    retries: [Option<Retried>; RETRIES_KEPT],
    /// The challenge last taken: the request challenged, the place in `retries` of the
    /// request answering it, and its chain's counts.
    taken: Option<(TxHandle, usize, Retried)>,
    /// The key of the record the call's last answered re-INVITE lingers as (RFC 6026
    /// Accepted), where that re-INVITE is kept for the credentials of its ACK.
    pub(super) lingering_reinvite: Option<ClientKey>,
    /// The host took the credentials away: no challenge is answered, but the ACKs of
    /// INVITEs sent with them still carry them (§22.1).
    withdrawn: bool,
}

impl Auth {
    /// Keep `credentials`; [`Capacity::String`] past [`MAX_CREDENTIAL`] bytes.
    pub(super) fn new(credentials: &DigestCredentials<'_>) -> Result<Self, SendError> {
        Ok(Auth {
            username: text_of(credentials.username)?,
            password: text_of(credentials.password)?,
            challenges: Challenges::new(credentials.realm)?,
            retries: [None; RETRIES_KEPT],
            taken: None,
            lingering_reinvite: None,
            withdrawn: false,
        })
    }

    /// The same credentials (and realm), with no challenge yet: for a subscription a
    /// forked SUBSCRIBE installed at another notifier, whose challenges are its own.
    pub(super) fn without_challenges(&self) -> Self {
        Auth {
            username: self.username.clone(),
            password: self.password.clone(),
            challenges: self.challenges.none_kept(),
            retries: [None; RETRIES_KEPT],
            taken: None,
            lingering_reinvite: None,
            withdrawn: false,
        }
    }

    /// What a call keeps once the host took these credentials away: nothing to answer
    /// challenges with, only what the ACKs of INVITEs sent with them need (§22.1).
    pub(super) fn withdrawn(&self) -> Self {
        // The ACKs copy the INVITE's credential headers: the password is not kept.
        Auth {
            username: String::new(),
            password: String::new(),
            withdrawn: true,
            lingering_reinvite: self.lingering_reinvite.clone(),
            ..self.without_challenges()
        }
    }

    /// Whether these credentials answer challenges (not [`withdrawn`](Self::withdrawn)).
    pub(super) fn answers(&self) -> bool {
        !self.withdrawn
    }

    /// Whether the 401/407 `response` to `request` (sent as `tx`) is to be answered by
    /// sending the request again with credentials; if so its challenges are kept. No
    /// when it has no challenge this crate can answer; when `request` answered a
    /// challenge and this one challenges a realm whose credentials it carried without
    /// saying the nonce was stale (§22.1: "A UAC MUST NOT re-attempt requests with the
    /// credentials that have just been rejected"; the kept credentials an original
    /// request carries meet a new nonce, and are not refused); when this request's chain
    /// answered [`MAX_CHALLENGES`] challenges (or [`MAX_STALE`] stale ones) already; or
    /// when `request` is an original one and [`RETRIES_KEPT`] requests answering
    /// challenges still wait for their final response (`waiting`: whether a transaction
    /// does).
    pub(super) fn take_challenge(
        &mut self,
        tx: TxHandle,
        request: &Message<'_>,
        response: &Message<'_>,
        waiting: impl Fn(TxHandle) -> bool,
    ) -> bool {
        let slot = self.slot_of(tx);
        let chain = slot.and_then(|i| self.retries[i]);
        if self.withdrawn || (chain.is_some() && refused(request, response, &self.challenges.realm))
        {
            return false;
        }
        // The request answering it takes its chain's place; an original request's, a
        // free one.
        let Some(slot) = slot.or_else(|| self.free_slot(&waiting)) else {
            return false;
        };
        let mut any = false;
        let mut all_stale = true;
        for kind in [HeaderKind::WwwAuthenticate, HeaderKind::ProxyAuthenticate] {
            for value in answerable(response, kind, &self.challenges.realm) {
                let Ok(c) = Challenge::parse(value.as_bytes()) else {
                    continue;
                };
                any = true;
                all_stale &= c.stale() == Some(true);
            }
        }
        if !any {
            return false;
        }
        let mut counts = chain.unwrap_or(Retried::NONE);
        if all_stale {
            if counts.stale_answered >= MAX_STALE {
                return false;
            }
            counts.stale_answered += 1;
        } else {
            if counts.answered >= MAX_CHALLENGES {
                return false;
            }
            counts.answered += 1;
        }
        self.taken = Some((tx, slot, counts));
        self.challenges.keep(response);
        true
    }

    /// Where request `tx` is in `retries`, if it is one sent again.
    fn slot_of(&self, tx: TxHandle) -> Option<usize> {
        self.retries
            .iter()
            .position(|r| r.is_some_and(|r| r.tx == Some(tx)))
    }

    /// A place in `retries` whose request no longer waits for its final response (so
    /// cannot be challenged again), if any.
    fn free_slot(&self, waiting: impl Fn(TxHandle) -> bool) -> Option<usize> {
        self.retries
            .iter()
            .position(|r| r.and_then(|r| r.tx).is_none_or(|t| !waiting(t)))
    }

    /// The challenged request `tx` was sent again as `retry` (`waiting`: as for
    /// [`take_challenge`](Self::take_challenge)). Sent again for another reason (a
    /// 422), a request sent again stays one, with its chain's counts; an original
    /// request becomes one if there is room.
    pub(super) fn reoriginated(
        &mut self,
        tx: TxHandle,
        retry: TxHandle,
        waiting: impl Fn(TxHandle) -> bool,
    ) {
        let (slot, counts) = match self.taken.take() {
            Some((challenged, slot, counts)) if challenged == tx => (Some(slot), counts),
            _ => match self.slot_of(tx) {
                Some(i) => (Some(i), self.retries[i].unwrap_or(Retried::NONE)),
                None => (self.free_slot(waiting), Retried::NONE),
            },
        };
        if let Some(slot) = slot {
            self.retries[slot] = Some(Retried {
                tx: Some(retry),
                ..counts
            });
        }
    }

    /// The challenged `request` (sent as `tx`, answered by `response`) written again
    /// for a new transaction: Via `via`, CSeq number `next`, and the answers to the
    /// challenges kept, with `cnonce` (RFC 3261 §8.1.3.5, §22.2). `None` when it is not to
    /// be sent again ([`take_challenge`](Self::take_challenge)) or cannot be written.
    pub(super) fn retry<const MSG: usize>(
        &mut self,
        tx: TxHandle,
        request: &Message<'_>,
        response: &Message<'_>,
        (via, next): (ViaValue<'_>, u32),
        cnonce: &str,
        waiting: impl Fn(TxHandle) -> bool,
    ) -> Option<Bytes<MSG>> {
        // §8.1.1.5: CSeq numbers stay below 2^31.
        if next > CSEQ_LIMIT || !self.take_challenge(tx, request, response, waiting) {
            return None;
        }
        let answers = self.answer(request, cnonce);
        let mut bytes = Bytes::<MSG>::new();
        if answers.is_empty() || rewrite(request, Some((via, next)), &answers, &mut bytes).is_err()
        {
            return None;
        }
        Some(bytes)
    }

    /// Whether there is a challenge to answer on the next request.
    pub(super) fn has_challenges(&self) -> bool {
        self.challenges.any()
    }

    /// The answers to the kept challenges for `request` (its method, Request-URI and
    /// body), with `cnonce`.
    pub(super) fn answer(&mut self, request: &Message<'_>, cnonce: &str) -> Answers {
        let (Some(method), Some(uri)) = (
            request.method(),
            request
                .request_uri_raw()
                .and_then(|u| core::str::from_utf8(u).ok()),
        ) else {
            return Answers::new();
        };
        self.challenges.answer(
            &self.username,
            &self.password,
            method,
            uri,
            cnonce,
            request.body(),
        )
    }
}

/// Whether the 401/407 `response` refuses credentials `request` carried: it challenges,
/// without `stale`, a realm `request` had credentials of the same kind for (RFC 3261
/// §22.1: "A UAC MUST NOT re-attempt requests with the credentials that have just been
/// rejected"). Only challenges of `realm` count, unless it is empty. A UAS's
/// `WWW-Authenticate` rejects the `Authorization` it was given, not the
/// `Proxy-Authorization` a proxy took (§22.3), and the other way round: a proxy and the
/// UAS or registrar behind it often share a realm, and the UAS's first challenge after
/// the proxy's was answered is no refusal.
pub(super) fn refused(request: &Message<'_>, response: &Message<'_>, realm: &str) -> bool {
    [
        (HeaderKind::WwwAuthenticate, HeaderKind::Authorization),
        (
            HeaderKind::ProxyAuthenticate,
            HeaderKind::ProxyAuthorization,
        ),
    ]
    .into_iter()
    .any(|(challenge, answer)| {
        answerable(response, challenge, realm)
            .filter_map(|v| Challenge::parse(v.as_bytes()).ok())
            .any(|c| {
                c.stale() != Some(true) && c.realm().is_some_and(|r| carried(request, answer, r))
            })
    })
}

/// Whether `request` carries credentials of `kind` (`Authorization` or
/// `Proxy-Authorization`) for `realm`.
fn carried(request: &Message<'_>, kind: HeaderKind, realm: &str) -> bool {
    request
        .headers_of(kind)
        .filter_map(|h| Credentials::parse(h.value).ok())
        .any(|c| c.realm() == Some(realm))
}

/// `request` written again with `answers` in place of the credentials it carried, and,
/// for a new request (RFC 3261 §8.1.3.5: a new transaction with the same Call-ID, To,
/// From and body, the CSeq one higher), the Via `via` and CSeq number `cseq`. Everything
/// else (start line, other headers, body) is copied as it is.
pub(super) fn rewrite<const MSG: usize>(
    request: &Message<'_>,
    new: Option<(ViaValue<'_>, u32)>,
    answers: &Answers,
    out: &mut Bytes<MSG>,
) -> Result<(), SendError> {
    let edit = Rewrite {
        new,
        answers: Some(answers),
        ..Rewrite::default()
    };
    rewrite_request(request, &edit, out)
}

/// What [`rewrite_request`] changes in a request it writes again.
#[derive(Default)]
pub(super) struct Rewrite<'a> {
    /// The Via and CSeq number of a new transaction (RFC 3261 §8.1.3.5).
    pub(super) new: Option<(ViaValue<'a>, u32)>,
    /// Credentials in place of those the request carried; `None` keeps them.
    pub(super) answers: Option<&'a Answers>,
    /// An `Expires` value in place of the request's (after a 423, RFC 3261 §10.2.8, RFC
    /// 6665 §4.1.2.1).
    pub(super) expires: Option<&'a str>,
    /// A session interval and refresher in place of the Session-Expires, with Min-SE at
    /// the interval (after a 422, RFC 4028 §7.4).
    pub(super) session: Option<(u32, Option<Refresher>)>,
}

/// `request` written again into `out` with the changes of `edit`; everything else (start
/// line, other headers, body) is copied as it is.
pub(super) fn rewrite_request<const MSG: usize>(
    request: &Message<'_>,
    edit: &Rewrite<'_>,
    out: &mut Bytes<MSG>,
) -> Result<(), SendError> {
    let method = request.method().ok_or(SendError::InvalidState)?;
    let uri = request.request_uri_raw().ok_or(SendError::InvalidState)?;
    let mut b = MessageBuilder::request_raw(method, uri);
    let mut content_type = None;
    let mut min_se = false;
    for h in request.headers() {
        match (h.kind, edit.new, edit.session) {
            // Written by the builder.
            (HeaderKind::ContentLength, ..) => {}
            // Written from the answers.
            (HeaderKind::Authorization | HeaderKind::ProxyAuthorization, ..)
                if edit.answers.is_some() => {}
            (HeaderKind::ContentType, ..) => content_type = Some(h.value),
            // The endpoint's requests carry one Via, its own.
            (HeaderKind::Via, Some((via, _)), _) => b.push(h.name, Value::Via(via)),
            (HeaderKind::CSeq, Some((_, cseq)), _) => b.push(h.name, Value::CSeq(cseq, method)),
            (HeaderKind::Expires, ..) if edit.expires.is_some() => {
                b.push(h.name, Value::Text(edit.expires.unwrap_or_default()));
            }
            (HeaderKind::SessionExpires, _, Some((interval, refresher))) => {
                b.push(h.name, Value::SessionExpires(interval, refresher));
            }
            (HeaderKind::MinSe, _, Some((interval, _))) => {
                min_se = true;
                b.push(h.name, Value::Number(interval));
            }
            _ => b.push(h.name, Value::Raw(h.value)),
        }
    }
    if let (Some((interval, _)), false) = (edit.session, min_se) {
        b.push("Min-SE", Value::Number(interval));
    }
    for (name, value) in edit.answers.into_iter().flatten() {
        b.push(name, Value::Text(value));
    }
    match content_type {
        Some(ct) => {
            let ct = core::str::from_utf8(ct).map_err(|_| SendError::InvalidState)?;
            b.set_body(ct, request.body());
        }
        // The endpoint writes a Content-Type with every body.
        None if !request.body().is_empty() => return Err(SendError::InvalidState),
        None => {}
    }
    out.clear();
    b.encode_appending(out)?;
    Ok(())
}

/// The `Authorization` and `Proxy-Authorization` headers of `request`, in order.
pub(super) fn credentials_of<'m, 'a>(
    request: &'m Message<'a>,
) -> impl Iterator<Item = Header<'a>> + 'm {
    // O(1) for a request without any (the usual case): both kinds are indexed.
    let any = request.header(HeaderKind::Authorization).is_some()
        || request.header(HeaderKind::ProxyAuthorization).is_some();
    request.headers().filter(move |h| {
        any && matches!(
            h.kind,
            HeaderKind::Authorization | HeaderKind::ProxyAuthorization
        )
    })
}

/// [`Auth`] of the calls placed with credentials, by call slot: a call's entry is the one
/// whose generation is its handle's. It outlives the call until the slot's next call, so
/// that a BYE sent as the call ended can still be answered.
pub(super) struct CallAuths<const N: usize> {
    slots: [Option<(u32, Auth)>; N],
}

impl<const N: usize> CallAuths<N> {
    pub(super) fn new() -> Self {
        CallAuths {
            slots: core::array::from_fn(|_| None),
        }
    }

    /// The credentials of `call`, if it was placed with some (the handle may no longer
    /// resolve in the call table).
    pub(super) fn get_mut(&mut self, call: CallHandle) -> Option<&mut Auth> {
        match self.slots.get_mut(usize::from(call.0.index))? {
            Some((generation, auth)) if *generation == call.0.generation => Some(auth),
            _ => None,
        }
    }

    /// The credentials of `call` (see [`get_mut`](Self::get_mut)).
    pub(super) fn get(&self, call: CallHandle) -> Option<&Auth> {
        match self.slots.get(usize::from(call.0.index))? {
            Some((generation, auth)) if *generation == call.0.generation => Some(auth),
            _ => None,
        }
    }

    /// Whether `call` was placed with credentials.
    pub(super) fn contains(&self, call: CallHandle) -> bool {
        matches!(
            self.slots.get(usize::from(call.0.index)),
            Some(Some((generation, _))) if *generation == call.0.generation
        )
    }

    /// Give the call in `call`'s slot these credentials (or none).
    pub(super) fn set(&mut self, call: CallHandle, auth: Option<Auth>) {
        if let Some(slot) = self.slots.get_mut(usize::from(call.0.index)) {
            *slot = auth.map(|a| (call.0.generation, a));
        }
    }
}

/// Replace `bytes` (a request) with the same request carrying the answers to `auth`'s
/// challenges, if it has any. Best effort: a request that cannot carry them (too big for
/// its buffer, too many headers) goes without, as it would without credentials; if it
/// is challenged, the answer to that is the same request and fails the same way.
pub(super) fn authorize<const MSG: usize>(auth: &mut Auth, bytes: &mut Bytes<MSG>, cnonce: &str) {
    if !auth.has_challenges() {
        return;
    }
    let mut out = Bytes::<MSG>::new();
    let rewritten = match Message::parse(bytes) {
        Ok(request) => {
            let answers = auth.answer(&request, cnonce);
            !answers.is_empty() && rewrite(&request, None, &answers, &mut out).is_ok()
        }
        Err(_) => false,
    };
    if rewritten {
        *bytes = out;
    }
}

/// Which request of a call a challenge is for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Challenged {
    /// The initial INVITE.
    Invite,
    /// This side's re-INVITE.
    ReInvite,
    /// Another request of the call, its dialog, or another fork's (BYE, INFO, ...).
    InDialog,
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
    /// A fresh client nonce: 64 random bits (RFC 7616 §3.4 asks for at least 64).
    pub(super) fn cnonce(&mut self) -> String<16> {
        let mut cnonce = String::new();
        let _ = text::push_hex64(&mut cnonce, self.next_random()); // fits exactly
        cnonce
    }

    /// The INVITE (initial or re-INVITE) of `call` (`c`) with CSeq number `cseq`, while
    /// its client transaction lives, if the call was placed with credentials: its ACK
    /// duplicates the INVITE's credentials (§22.1). A call without them is left as it
    /// always was (no INVITE read back for its ACK).
    #[inline] // a call without credentials only tests for them
    pub(super) fn sent_invite(
        &self,
        call: CallHandle,
        c: &CallEntry<MSG>,
        cseq: u32,
    ) -> Option<Message<'_>> {
        if !self.call_auths.contains(call) {
            return None;
        }
        match c.reinvite {
            Some((tx, seq)) if seq == cseq => self.sent_reinvite(call, tx, cseq),
            // The initial INVITE, also once its transaction lingers (RFC 6026 Accepted).
            _ => self.uac_invite_message(c),
        }
    }

    /// The re-INVITE `tx` (CSeq number `cseq`) of `call`: kept by its transaction, or by
    /// the record it lingers as once answered (RFC 6026 Accepted).
    #[inline(never)]
    fn sent_reinvite(&self, call: CallHandle, tx: TxHandle, cseq: u32) -> Option<Message<'_>> {
        if let Some(e) = self.txs.get(tx.0) {
            return e.stored_request(&Limits::default());
        }
        let key = self.call_auths.get(call)?.lingering_reinvite.as_ref()?;
        let found = self.linger.find(&self.linger.probe_client(key)?)?;
        Message::parse(super::split_trailer(found.response).0)
            .ok()
            .filter(|m| m.cseq().is_ok_and(|c| c.seq() == cseq))
    }

    /// Add the answers to the challenges `call` was given to a request of the call about
    /// to be sent (§22.3: with the same Call-ID; §22.2: to the same UAS).
    pub(super) fn authorize_in_call(&mut self, call: CallHandle, bytes: &mut Bytes<MSG>) {
        // Nothing drawn from the generator for a call without challenges.
        if !self
            .call_auths
            .get_mut(call)
            .is_some_and(|a| a.has_challenges())
        {
            return;
        }
        let cnonce = self.cnonce();
        if let Some(auth) = self.call_auths.get_mut(call) {
            authorize(auth, bytes, &cnonce);
        }
    }

    /// A 401 or 407 `resp` to client transaction `tx` of a call: if the call was placed
    /// with credentials and the challenge is one to answer ([`Auth::take_challenge`]),
    /// send the request again with them (RFC 3261 §8.1.3.5: a new transaction with the
    /// same Call-ID, From and To, the CSeq one higher; §22.2, §22.3) and carry on the
    /// call with it. Whether it was sent; if not, the response is handled as without
    /// credentials (the call fails with it, or the request does).
    #[inline(never)] // rare (a 401 or 407); out of `tx_to_tu`'s frame
    pub(super) fn answer_call_challenge(
        &mut self,
        now: Instant,
        tx: TxHandle,
        resp: &Message<'_>,
    ) -> bool {
        // Without credentials nothing is drawn from the generator: the endpoint behaves
        // exactly as it did before credentials existed.
        let Some(call) = self.txs.get(tx.0).and_then(|e| e.call) else {
            return false;
        };
        if !self.call_auths.get(call).is_some_and(Auth::answers) {
            return false;
        }
        let (branch, sent_by) = self.via_parts();
        let via = self.via(&branch, &sent_by);
        let cnonce = self.cnonce();
        let Some(e) = self.txs.get(tx.0) else {
            return false;
        };
        let peer = e.peer;
        let invite = match e.machine {
            Machine::ClientInvite(_) => true,
            Machine::ClientNonInvite(_) => false,
            _ => return false,
        };
        let Some(request) = e.stored_request(&Limits::default()) else {
            return false;
        };
        let (Some(method), Ok(cseq)) = (request.method(), request.cseq()) else {
            return false;
        };
        // §22.1: a CANCEL cannot be challenged, so it is never sent again.
        if method == Method::Cancel {
            return false;
        }
        let live = self.calls.get(call.0);
        let kind = match live {
            Some(c) if invite && c.uac_invite == Some(tx) => Challenged::Invite,
            Some(c) if invite && c.reinvite.is_some_and(|(t, _)| t == tx) => Challenged::ReInvite,
            // An INVITE the call no longer waits for.
            _ if invite => return false,
            _ => Challenged::InDialog,
        };
        if invite && !live.is_some_and(|c| c.session.can_reoriginate()) {
            return false;
        }
        // Within the call's own dialog the CSeq goes on from the dialog's; the initial
        // INVITE, a request in another fork's dialog and one that outlived its call go
        // on from their own (§8.1.3.5, §12.2.1.1).
        let to_tag = request.to().ok().and_then(|t| t.tag());
        // Owned: the stored request is not borrowed past the new transaction.
        let fork_tag = to_tag.and_then(|t| crate::dialog::Tag::new(t).ok());
        let own_seq = live
            .and_then(|c| c.dialog.as_ref())
            .filter(|d| kind != Challenged::Invite && to_tag == Some(d.id().remote_tag()))
            .map(Dialog::local_seq);
        let next = own_seq.unwrap_or(0).max(cseq.seq()).saturating_add(1);
        let txs = &self.txs;
        let Some(auth) = self.call_auths.get_mut(call) else {
            return false;
        };
        let waiting = |t: TxHandle| txs.get(t.0).is_some_and(|e| e.machine.awaits_final());
        let Some(bytes) = auth.retry::<MSG>(tx, &request, resp, (via, next), &cnonce, waiting)
        else {
            return false;
        };
        let Ok(key) = ClientKey::new(&branch, method) else {
            return false;
        };
        let Ok(retry) = self.start_client_tx(now, peer, &bytes, key, invite) else {
            return false;
        };
        self.hand_over(call, tx, retry);
        if let Some(c) = self.calls.get_mut(call.0) {
            if own_seq.is_some()
                && let Some(d) = c.dialog.as_mut()
            {
                d.set_local_seq(next);
            }
            // A request in a fork's early dialog (a PRACK) numbers that fork's next ones.
            if let Some(f) = fork_tag.and_then(|t| c.forks.iter_mut().find(|f| f.tag == t)) {
                f.local_seq = f.local_seq.max(next);
            }
            match kind {
                Challenged::Invite => {
                    c.uac_invite = Some(retry);
                    c.invite_tx = retry;
                    // The challenge ended the early dialog a provisional response may
                    // have made (§13.2.2.3); the new INVITE makes its own, with its own
                    // reliable provisional responses (RFC 3262 §4).
                    c.forks.clear();
                    if c.dialog.take().is_some() {
                        self.call_index.remove(call.0.index);
                    }
                }
                Challenged::ReInvite => c.reinvite = Some((retry, next)),
                Challenged::InDialog => {
                    if c.pending_tx == Some(tx) {
                        c.pending_tx = Some(retry);
                    }
                    // A PRACK sent again is still the PRACK: a 481 to it ends no dialog.
                    if c.prack_tx == Some(tx) {
                        c.prack_tx = Some(retry);
                    }
                }
            }
        }
        if kind != Challenged::InDialog {
            let _ = self.step_call(now, call, &dialog::Event::Reoriginated { cseq: next }, None);
        }
        self.push_event(Event::Reoriginated { tx, retry });
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fork's subscription keeps the user's credentials and realm but none of the
    /// first notifier's challenges (their nonces and counts are that notifier's).
    #[test]
    fn a_fork_keeps_the_credentials_not_the_challenges() {
        let creds = DigestCredentials::new("alice", "secret").in_realm("atlanta.example.com");
        let mut auth = Auth::new(&creds).unwrap(); // unwrap: short strings
        let challenge = String::try_from("Digest realm=\"atlanta.example.com\"");
        let _ = auth.challenges.www.push(Kept {
            challenge: challenge.unwrap(), // unwrap: short
            nc: 3,
        });
        let handle = |index| {
            TxHandle(super::super::table::RawHandle {
                index,
                generation: 1,
            })
        };
        auth.reoriginated(handle(2), handle(3), |_| true);
        assert!(auth.retries.iter().any(Option::is_some));
        assert!(auth.has_challenges());
        let fork = auth.without_challenges();
        assert!(!fork.has_challenges());
        assert!(fork.challenges.www.is_empty());
        assert!(fork.retries.iter().all(Option::is_none));
        assert_eq!(
            (fork.username.as_str(), fork.password.as_str()),
            ("alice", "secret")
        );
        assert_eq!(fork.challenges.realm(), "atlanta.example.com");
    }
}
