//! Table tests for the four transaction machines, one per figure of RFC 3261 §17 as
//! amended by RFC 6026, plus virtual-time tests of the retransmission schedules.

use core::time::Duration;

use sansip::message::StatusCode;
use sansip::transaction::{
    Action, ClientInvite, ClientNonInvite, Config, InvalidState, Machine, Reliability,
    ServerInvite, ServerNonInvite, State, Step, TimerId, TuSignal, client_invite as ci,
    client_non_invite as cn, server_invite as si, server_non_invite as sn,
};

use Action::{
    CancelTimer, SendAck, SendRequest, SendResponse, SendTrying, StartTimer, Terminated, ToTu,
};
use Reliability::{Reliable, Unreliable};
use TimerId::*;

fn sc(n: u16) -> StatusCode {
    StatusCode::new(n).unwrap()
}
fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}
fn prov(n: u16) -> Action {
    ToTu(TuSignal::Provisional(sc(n)))
}
fn fin(n: u16) -> Action {
    ToTu(TuSignal::Final(sc(n)))
}

/// One input of a table row: a network/timer event, or a TU response (server machines).
#[derive(Debug, Clone, Copy)]
enum In<E> {
    Ev(E),
    Tu(u16),
}

/// Applies an input; clients have no TU commands.
trait Drive: Machine + core::fmt::Debug {
    fn tu(self, cfg: &Config, code: StatusCode) -> Result<Step<Self>, InvalidState>;
    fn input(self, cfg: &Config, i: In<Self::Event>) -> Result<Step<Self>, InvalidState> {
        match i {
            In::Ev(e) => Ok(self.step(cfg, e)),
            In::Tu(n) => self.tu(cfg, sc(n)),
        }
    }
}
impl Drive for ClientInvite {
    fn tu(self, _: &Config, response: StatusCode) -> Result<Step<Self>, InvalidState> {
        Err(InvalidState {
            state: self.state(),
            response,
        })
    }
}
impl Drive for ClientNonInvite {
    fn tu(self, _: &Config, response: StatusCode) -> Result<Step<Self>, InvalidState> {
        Err(InvalidState {
            state: self.state(),
            response,
        })
    }
}
impl Drive for ServerInvite {
    fn tu(self, cfg: &Config, code: StatusCode) -> Result<Step<Self>, InvalidState> {
        self.respond(cfg, code)
    }
}
impl Drive for ServerNonInvite {
    fn tu(self, cfg: &Config, code: StatusCode) -> Result<Step<Self>, InvalidState> {
        self.respond(cfg, code)
    }
}

/// `steps!(start_step; input => State [actions];  input => Err(State); ...)`: checks the
/// start actions, then each row's resulting state and exact action list. `Err(State)` rows
/// expect a refused TU command and an unchanged machine.
macro_rules! steps {
    ($start:expr, [$($sa:expr),* $(,)?]; $($rest:tt)*) => {{
        let cfg = Config::default();
        let s = $start;
        assert_eq!(s.actions.as_slice(), &[$($sa),*] as &[Action], "start");
        #[allow(unused_mut)]
        let mut m = s.state;
        steps!(@rows m, cfg; $($rest)*);
        m
    }};
    (@rows $m:ident, $cfg:ident; ) => {};
    (@rows $m:ident, $cfg:ident; $i:expr => Err($st:ident); $($rest:tt)*) => {
        let before = $m;
        let i = $i;
        let r = Drive::input($m, &$cfg, i);
        assert_eq!(r.unwrap_err().state, State::$st, "row {:?}", i);
        assert_eq!(before.state(), State::$st);
        steps!(@rows $m, $cfg; $($rest)*);
    };
    (@rows $m:ident, $cfg:ident; $i:expr => $st:ident [$($a:expr),* $(,)?]; $($rest:tt)*) => {
        let i = $i;
        let s = Drive::input($m, &$cfg, i).expect("TU command refused");
        assert_eq!(s.actions.as_slice(), &[$($a),*] as &[Action], "row {:?} from {:?}", i, $m);
        assert_eq!(s.state.state(), State::$st, "row {:?}", i);
        $m = s.state;
        steps!(@rows $m, $cfg; $($rest)*);
    };
}

// ---------------------------------------------------------------------------------------
// Figure 5: client INVITE (§17.1.1.2, RFC 6026 §8.4)

fn ci_rsp(n: u16) -> In<ci::Event> {
    In::Ev(ci::Event::Response(sc(n)))
}
fn ci_t(t: TimerId) -> In<ci::Event> {
    In::Ev(ci::Event::Timer(t))
}
const CI_TERR: In<ci::Event> = In::Ev(ci::Event::TransportError);

/// §17.1.1.2 + RFC 6026 §8.4: Calling → Proceeding → Accepted → Terminated over UDP.
#[test]
fn fig5_unreliable_1xx_2xx_accepted_timer_m() {
    let cfg = Config::default();
    steps!(ClientInvite::start(&cfg, Unreliable),
        [SendRequest, StartTimer(A, ms(500)), StartTimer(B, ms(32_000))];
        ci_t(A) => Calling [SendRequest, StartTimer(A, ms(1_000))];
        ci_t(D) => Calling [];
        ci_rsp(100) => Proceeding [CancelTimer(A), CancelTimer(B), prov(100)];
        ci_t(A) => Proceeding []; // cancelled: stale firing absorbed
        ci_t(B) => Proceeding [];
        ci_rsp(180) => Proceeding [prov(180)];
        ci_rsp(200) => Accepted [fin(200), StartTimer(M, ms(32_000))];
        ci_rsp(200) => Accepted [fin(200)]; // RFC 6026: retransmitted 2xx goes to the TU
        ci_rsp(299) => Accepted [fin(299)]; // another fork's 2xx too
        ci_rsp(183) => Accepted [];
        ci_rsp(486) => Accepted [];
        CI_TERR => Accepted [];
        ci_t(M) => Terminated [Terminated];
        ci_rsp(200) => Terminated [];
        ci_t(M) => Terminated [];
    );
}

/// §17.1.1.2: 2xx straight from Calling, reliable transport (no Timer A).
#[test]
fn fig5_reliable_2xx_from_calling() {
    let cfg = Config::default();
    steps!(ClientInvite::start(&cfg, Reliable),
        [SendRequest, StartTimer(B, ms(32_000))];
        ci_t(A) => Calling [];
        ci_rsp(200) => Accepted [CancelTimer(B), fin(200), StartTimer(M, ms(32_000))];
        ci_t(M) => Terminated [Terminated];
    );
}

/// §17.1.1.2: 300-699 in Calling over UDP → ACK, pass up, Completed, Timer D = 32 s;
/// retransmitted finals are re-ACKed but not passed up.
#[test]
fn fig5_unreliable_non2xx_from_calling_timer_d() {
    let cfg = Config::default();
    steps!(ClientInvite::start(&cfg, Unreliable),
        [SendRequest, StartTimer(A, ms(500)), StartTimer(B, ms(32_000))];
        ci_rsp(486) => Completed [CancelTimer(A), CancelTimer(B), SendAck, fin(486), StartTimer(D, ms(32_000))];
        ci_rsp(486) => Completed [SendAck];
        ci_rsp(180) => Completed [];
        ci_rsp(200) => Completed [];
        ci_t(A) => Completed [];
        ci_t(D) => Terminated [Terminated];
        ci_rsp(486) => Terminated [];
    );
}

/// §17.1.1.2: 300-699 in Proceeding; every class 3-6.
#[test]
fn fig5_unreliable_non2xx_from_proceeding() {
    let cfg = Config::default();
    for code in [300, 302, 401, 404, 487, 500, 503, 600, 603, 699] {
        steps!(ClientInvite::start(&cfg, Unreliable),
            [SendRequest, StartTimer(A, ms(500)), StartTimer(B, ms(32_000))];
            ci_rsp(180) => Proceeding [CancelTimer(A), CancelTimer(B), prov(180)];
            ci_rsp(code) => Completed [SendAck, fin(code), StartTimer(D, ms(32_000))];
            ci_rsp(code) => Completed [SendAck];
            ci_t(D) => Terminated [Terminated];
        );
    }
}

/// §17.1.1.2: Timer D is zero on reliable transports: terminate at once after the ACK.
#[test]
fn fig5_reliable_non2xx_terminates_at_once() {
    let cfg = Config::default();
    steps!(ClientInvite::start(&cfg, Reliable),
        [SendRequest, StartTimer(B, ms(32_000))];
        ci_rsp(100) => Proceeding [CancelTimer(B), prov(100)];
        ci_rsp(404) => Terminated [SendAck, fin(404), Terminated];
    );
}

/// §17.1.1.2: Timer B in Calling → timeout to the TU.
#[test]
fn fig5_timer_b_timeout() {
    let cfg = Config::default();
    steps!(ClientInvite::start(&cfg, Unreliable),
        [SendRequest, StartTimer(A, ms(500)), StartTimer(B, ms(32_000))];
        ci_t(B) => Terminated [ToTu(TuSignal::Timeout), Terminated];
        ci_t(A) => Terminated [];
    );
}

/// §17.1.1.2: transport errors in Calling, Proceeding and Completed end the transaction.
#[test]
fn fig5_transport_errors() {
    let cfg = Config::default();
    let te = [ToTu(TuSignal::TransportError), Terminated];
    let s = ClientInvite::start(&cfg, Unreliable)
        .state
        .step(&cfg, ci::Event::TransportError);
    assert_eq!(s.actions.as_slice(), &te);
    let p = ClientInvite::start(&cfg, Reliable)
        .state
        .step(&cfg, ci::Event::Response(sc(180)))
        .state;
    assert_eq!(
        p.step(&cfg, ci::Event::TransportError).actions.as_slice(),
        &te
    );
    let c = ClientInvite::start(&cfg, Unreliable)
        .state
        .step(&cfg, ci::Event::Response(sc(500)))
        .state;
    assert_eq!(c.state(), State::Completed);
    let s = c.step(&cfg, ci::Event::TransportError);
    assert_eq!(s.actions.as_slice(), &te);
    assert_eq!(s.state.state(), State::Terminated);
}

// ---------------------------------------------------------------------------------------
// Figure 6: client non-INVITE (§17.1.2.2)

fn cn_rsp(n: u16) -> In<cn::Event> {
    In::Ev(cn::Event::Response(sc(n)))
}
fn cn_t(t: TimerId) -> In<cn::Event> {
    In::Ev(cn::Event::Timer(t))
}

/// §17.1.2.2: Trying → Proceeding → Completed → Terminated over UDP.
#[test]
fn fig6_unreliable_full_path() {
    let cfg = Config::default();
    steps!(ClientNonInvite::start(&cfg, Unreliable),
        [SendRequest, StartTimer(E, ms(500)), StartTimer(F, ms(32_000))];
        cn_t(E) => Trying [SendRequest, StartTimer(E, ms(1_000))];
        cn_t(E) => Trying [SendRequest, StartTimer(E, ms(2_000))];
        cn_t(K) => Trying [];
        cn_rsp(100) => Proceeding [prov(100)];
        cn_t(E) => Proceeding [SendRequest, StartTimer(E, ms(4_000))];
        cn_rsp(183) => Proceeding [prov(183)];
        cn_rsp(202) => Completed [CancelTimer(E), CancelTimer(F), fin(202), StartTimer(K, ms(5_000))];
        cn_rsp(202) => Completed []; // exactly one final reaches the TU
        cn_rsp(100) => Completed [];
        cn_t(E) => Completed [];
        cn_t(F) => Completed [];
        In::Ev(cn::Event::TransportError) => Completed [];
        cn_t(K) => Terminated [Terminated];
        cn_rsp(200) => Terminated [];
    );
}

/// §17.1.2.2: final straight from Trying; reliable: no E, K zero → terminate at once.
#[test]
fn fig6_reliable_final_from_trying() {
    let cfg = Config::default();
    steps!(ClientNonInvite::start(&cfg, Reliable),
        [SendRequest, StartTimer(F, ms(32_000))];
        cn_t(E) => Trying [];
        cn_rsp(404) => Terminated [CancelTimer(F), fin(404), Terminated];
    );
}

/// §17.1.2.2: final from Proceeding over a reliable transport.
#[test]
fn fig6_reliable_final_from_proceeding() {
    let cfg = Config::default();
    steps!(ClientNonInvite::start(&cfg, Reliable),
        [SendRequest, StartTimer(F, ms(32_000))];
        cn_rsp(180) => Proceeding [prov(180)];
        cn_rsp(603) => Terminated [CancelTimer(F), fin(603), Terminated];
    );
}

/// §17.1.2.2: Timer F in Trying and in Proceeding; transport error in both.
#[test]
fn fig6_timer_f_and_transport_error() {
    let cfg = Config::default();
    steps!(ClientNonInvite::start(&cfg, Unreliable),
        [SendRequest, StartTimer(E, ms(500)), StartTimer(F, ms(32_000))];
        cn_t(F) => Terminated [ToTu(TuSignal::Timeout), Terminated];
    );
    steps!(ClientNonInvite::start(&cfg, Unreliable),
        [SendRequest, StartTimer(E, ms(500)), StartTimer(F, ms(32_000))];
        cn_rsp(100) => Proceeding [prov(100)];
        cn_t(F) => Terminated [ToTu(TuSignal::Timeout), Terminated];
    );
    steps!(ClientNonInvite::start(&cfg, Reliable),
        [SendRequest, StartTimer(F, ms(32_000))];
        In::Ev(cn::Event::TransportError) => Terminated [ToTu(TuSignal::TransportError), Terminated];
    );
    steps!(ClientNonInvite::start(&cfg, Unreliable),
        [SendRequest, StartTimer(E, ms(500)), StartTimer(F, ms(32_000))];
        cn_rsp(100) => Proceeding [prov(100)];
        In::Ev(cn::Event::TransportError) => Terminated [ToTu(TuSignal::TransportError), Terminated];
    );
}

// ---------------------------------------------------------------------------------------
// Figure 7: server INVITE (§17.2.1, RFC 6026 §8.5-8.7)

fn si_t(t: TimerId) -> In<si::Event> {
    In::Ev(si::Event::Timer(t))
}
const SI_REQ: In<si::Event> = In::Ev(si::Event::Request);
const SI_ACK: In<si::Event> = In::Ev(si::Event::Ack);
const SI_TERR: In<si::Event> = In::Ev(si::Event::TransportError);

/// §17.2.1 over UDP: 100 Trying after 200 ms, 1xx, 300-699 → Completed with G and H,
/// ACK → Confirmed with I = T4, I → Terminated.
#[test]
fn fig7_unreliable_non2xx_path() {
    let cfg = Config::default();
    steps!(ServerInvite::start(&cfg, Unreliable),
        [StartTimer(Trying, ms(200))];
        SI_REQ => Proceeding []; // no provisional to resend yet
        SI_ACK => Proceeding [];
        si_t(Trying) => Proceeding [SendTrying];
        si_t(Trying) => Proceeding [];
        SI_REQ => Proceeding [SendResponse];
        In::Tu(180) => Proceeding [SendResponse];
        SI_REQ => Proceeding [SendResponse];
        In::Tu(486) => Completed [SendResponse, StartTimer(G, ms(500)), StartTimer(H, ms(32_000))];
        In::Tu(200) => Err(Completed);
        In::Tu(180) => Err(Completed);
        SI_REQ => Completed [SendResponse];
        si_t(G) => Completed [SendResponse, StartTimer(G, ms(1_000))];
        si_t(G) => Completed [SendResponse, StartTimer(G, ms(2_000))];
        si_t(L) => Completed [];
        SI_ACK => Confirmed [CancelTimer(G), CancelTimer(H), StartTimer(I, ms(5_000))];
        SI_ACK => Confirmed [];
        SI_REQ => Confirmed [];
        si_t(G) => Confirmed [];
        si_t(H) => Confirmed [];
        SI_TERR => Confirmed [];
        In::Tu(200) => Err(Confirmed);
        si_t(I) => Terminated [Terminated];
        SI_ACK => Terminated [];
        In::Tu(500) => Err(Terminated);
    );
}

/// §17.2.1: the TU answers within 200 ms: the Trying timer is cancelled, no 100 from us.
/// Reliable: no G, and I is zero → terminate on the ACK.
#[test]
fn fig7_reliable_non2xx_path() {
    let cfg = Config::default();
    steps!(ServerInvite::start(&cfg, Reliable),
        [StartTimer(Trying, ms(200))];
        In::Tu(500) => Completed [CancelTimer(Trying), SendResponse, StartTimer(H, ms(32_000))];
        si_t(Trying) => Completed [];
        si_t(G) => Completed [];
        SI_ACK => Terminated [CancelTimer(H), Terminated];
    );
}

/// RFC 6026 §8.5-8.7: 2xx → Accepted with L = 64*T1; INVITE retransmits absorbed; ACK to
/// the TU; further 2xx sent; 1xx / non-2xx refused; L → Terminated.
#[test]
fn fig7_2xx_accepted_timer_l() {
    let cfg = Config::default();
    for r in [Unreliable, Reliable] {
        steps!(ServerInvite::start(&cfg, r),
            [StartTimer(Trying, ms(200))];
            In::Tu(100) => Proceeding [CancelTimer(Trying), SendResponse];
            In::Tu(200) => Accepted [SendResponse, StartTimer(L, ms(32_000))];
            SI_REQ => Accepted [];
            SI_ACK => Accepted [ToTu(TuSignal::Ack)];
            In::Tu(200) => Accepted [SendResponse];
            In::Tu(180) => Err(Accepted);
            In::Tu(486) => Err(Accepted);
            SI_TERR => Accepted [ToTu(TuSignal::TransportError)];
            si_t(G) => Accepted [];
            si_t(L) => Terminated [Terminated];
            SI_ACK => Terminated [];
            In::Tu(200) => Err(Terminated);
        );
    }
}

/// §17.2.1: Timer H fires (no ACK): timeout to the TU.
#[test]
fn fig7_timer_h_timeout() {
    let cfg = Config::default();
    steps!(ServerInvite::start(&cfg, Unreliable),
        [StartTimer(Trying, ms(200))];
        In::Tu(404) => Completed [CancelTimer(Trying), SendResponse, StartTimer(G, ms(500)), StartTimer(H, ms(32_000))];
        si_t(H) => Terminated [ToTu(TuSignal::Timeout), Terminated];
        si_t(G) => Terminated [];
    );
}

/// §17.2.4: transport errors in Proceeding and Completed end the transaction.
#[test]
fn fig7_transport_errors() {
    let cfg = Config::default();
    steps!(ServerInvite::start(&cfg, Unreliable),
        [StartTimer(Trying, ms(200))];
        SI_TERR => Terminated [ToTu(TuSignal::TransportError), Terminated];
    );
    steps!(ServerInvite::start(&cfg, Unreliable),
        [StartTimer(Trying, ms(200))];
        In::Tu(603) => Completed [CancelTimer(Trying), SendResponse, StartTimer(G, ms(500)), StartTimer(H, ms(32_000))];
        SI_TERR => Terminated [ToTu(TuSignal::TransportError), Terminated];
    );
}

// ---------------------------------------------------------------------------------------
// Figure 8: server non-INVITE (§17.2.2)

const SN_REQ: In<sn::Event> = In::Ev(sn::Event::Request);
const SN_TERR: In<sn::Event> = In::Ev(sn::Event::TransportError);
fn sn_t(t: TimerId) -> In<sn::Event> {
    In::Ev(sn::Event::Timer(t))
}

/// §17.2.2 over UDP: Trying → Proceeding → Completed (J = 64*T1) → Terminated.
#[test]
fn fig8_unreliable_full_path() {
    let cfg = Config::default();
    steps!(ServerNonInvite::start(&cfg, Unreliable),
        [];
        SN_REQ => Trying [];
        SN_TERR => Trying [];
        sn_t(J) => Trying [];
        In::Tu(100) => Proceeding [SendResponse];
        SN_REQ => Proceeding [SendResponse];
        In::Tu(180) => Proceeding [SendResponse];
        In::Tu(200) => Completed [SendResponse, StartTimer(J, ms(32_000))];
        SN_REQ => Completed [SendResponse];
        In::Tu(200) => Err(Completed);
        In::Tu(100) => Err(Completed);
        sn_t(J) => Terminated [Terminated];
        SN_REQ => Terminated [];
        In::Tu(200) => Err(Terminated);
    );
}

/// §17.2.2: final straight from Trying; J is zero on reliable transports.
#[test]
fn fig8_reliable_final_terminates_at_once() {
    let cfg = Config::default();
    steps!(ServerNonInvite::start(&cfg, Reliable),
        [];
        In::Tu(404) => Terminated [SendResponse, Terminated];
    );
    steps!(ServerNonInvite::start(&cfg, Unreliable),
        [];
        In::Tu(404) => Completed [SendResponse, StartTimer(J, ms(32_000))];
    );
}

/// §17.2.2/§17.2.4: transport error in Proceeding and Completed.
#[test]
fn fig8_transport_errors() {
    let cfg = Config::default();
    steps!(ServerNonInvite::start(&cfg, Unreliable),
        [];
        In::Tu(100) => Proceeding [SendResponse];
        SN_TERR => Terminated [ToTu(TuSignal::TransportError), Terminated];
    );
    steps!(ServerNonInvite::start(&cfg, Unreliable),
        [];
        In::Tu(500) => Completed [SendResponse, StartTimer(J, ms(32_000))];
        SN_TERR => Terminated [ToTu(TuSignal::TransportError), Terminated];
    );
}

// ---------------------------------------------------------------------------------------
// Virtual-time retransmission schedules

/// A tiny timer wheel: StartTimer/CancelTimer become deadlines; `fire` jumps to the
/// earliest one.
#[derive(Default)]
struct Wheel {
    now: Duration,
    timers: Vec<(Duration, TimerId)>,
    sends: Vec<Duration>,
    tu: Vec<(Duration, TuSignal)>,
    terminated: Option<Duration>,
}

impl Wheel {
    fn apply(&mut self, actions: &[Action]) {
        for a in actions {
            match *a {
                SendRequest | SendResponse => self.sends.push(self.now),
                StartTimer(id, d) => {
                    self.timers.retain(|t| t.1 != id);
                    self.timers.push((self.now + d, id));
                }
                CancelTimer(id) => self.timers.retain(|t| t.1 != id),
                ToTu(s) => self.tu.push((self.now, s)),
                Terminated => {
                    self.terminated = Some(self.now);
                    self.timers.clear();
                }
                _ => {}
            }
        }
    }
    /// Pops the earliest timer at or before `until`, advancing the clock to it.
    fn fire(&mut self, until: Duration) -> Option<TimerId> {
        let (i, &(at, id)) = self.timers.iter().enumerate().min_by_key(|(_, t)| t.0)?;
        if at > until {
            return None;
        }
        self.timers.remove(i);
        self.now = at;
        Some(id)
    }
    fn secs(v: &[Duration]) -> Vec<f64> {
        v.iter().map(|d| d.as_secs_f64()).collect()
    }
}

/// §17.1.1.2: Timer A doubles without cap: INVITE retransmitted at 0.5, 1.5, 3.5, 7.5,
/// 15.5, 31.5 s; Timer B times out at 32 s (T1 = 500 ms).
#[test]
fn schedule_timer_a_and_b() {
    let cfg = Config::default();
    let mut w = Wheel::default();
    let s = ClientInvite::start(&cfg, Unreliable);
    w.apply(&s.actions);
    let mut m = s.state;
    while let Some(id) = w.fire(Duration::MAX) {
        let s = m.step(&cfg, ci::Event::Timer(id));
        w.apply(&s.actions);
        m = s.state;
    }
    assert_eq!(Wheel::secs(&w.sends), [0.0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5]);
    assert_eq!(w.tu, [(ms(32_000), TuSignal::Timeout)]);
    assert_eq!(w.terminated, Some(ms(32_000)));
}

/// §17.1.2.2: Timer E in Trying doubles and caps at T2: 0.5, 1.5, 3.5, 7.5, 11.5, ...
/// 31.5 s; Timer F times out at 32 s.
#[test]
fn schedule_timer_e_trying() {
    let cfg = Config::default();
    let mut w = Wheel::default();
    let s = ClientNonInvite::start(&cfg, Unreliable);
    w.apply(&s.actions);
    let mut m = s.state;
    while let Some(id) = w.fire(Duration::MAX) {
        let s = m.step(&cfg, cn::Event::Timer(id));
        w.apply(&s.actions);
        m = s.state;
    }
    assert_eq!(
        Wheel::secs(&w.sends),
        [0.0, 0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5]
    );
    assert_eq!(w.tu, [(ms(32_000), TuSignal::Timeout)]);
    assert_eq!(m.state(), State::Terminated);
}

/// §17.1.2.2: after a 1xx, Timer E is reset to T2 each time it fires: the pending E
/// (1.5 s) fires, then every 4 s; the final stops it.
#[test]
fn schedule_timer_e_proceeding() {
    let cfg = Config::default();
    let mut w = Wheel::default();
    let s = ClientNonInvite::start(&cfg, Unreliable);
    w.apply(&s.actions);
    let mut m = s.state;
    let feed = |w: &mut Wheel, m: &mut ClientNonInvite, ev| {
        let s = m.step(&cfg, ev);
        w.apply(&s.actions);
        *m = s.state;
    };
    while let Some(id) = w.fire(ms(600)) {
        feed(&mut w, &mut m, cn::Event::Timer(id));
    }
    w.now = ms(600);
    feed(&mut w, &mut m, cn::Event::Response(sc(100)));
    while let Some(id) = w.fire(ms(20_000)) {
        feed(&mut w, &mut m, cn::Event::Timer(id));
    }
    w.now = ms(20_000);
    feed(&mut w, &mut m, cn::Event::Response(sc(200)));
    assert_eq!(Wheel::secs(&w.sends), [0.0, 0.5, 1.5, 5.5, 9.5, 13.5, 17.5]);
    assert_eq!(w.timers, [(ms(25_000), K)]);
    while let Some(id) = w.fire(Duration::MAX) {
        feed(&mut w, &mut m, cn::Event::Timer(id));
    }
    assert_eq!(w.terminated, Some(ms(25_000)));
    assert_eq!(
        w.tu,
        [
            (ms(600), TuSignal::Provisional(sc(100))),
            (ms(20_000), TuSignal::Final(sc(200)))
        ]
    );
}

/// §17.2.1: Timer G doubles to T2: the 486 is resent at 0.5, 1.5, 3.5, 7.5, 11.5, ...
/// 31.5 s; Timer H gives up at 32 s.
#[test]
fn schedule_timer_g_and_h() {
    let cfg = Config::default();
    let mut w = Wheel::default();
    let s = ServerInvite::start(&cfg, Unreliable);
    w.apply(&s.actions);
    let s = s.state.respond(&cfg, sc(486)).unwrap();
    w.apply(&s.actions);
    let mut m = s.state;
    while let Some(id) = w.fire(Duration::MAX) {
        let s = m.step(&cfg, si::Event::Timer(id));
        w.apply(&s.actions);
        m = s.state;
    }
    assert_eq!(
        Wheel::secs(&w.sends),
        [0.0, 0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5]
    );
    assert_eq!(w.tu, [(ms(32_000), TuSignal::Timeout)]);
}

/// Config is honoured: T1 = 100 ms, T2 = 300 ms gives E at 0.1, 0.3, 0.6, 0.9, ... and F
/// at 6.4 s.
#[test]
fn schedule_custom_config() {
    let cfg = Config {
        t1: ms(100),
        t2: ms(300),
        t4: ms(1_000),
    };
    let mut w = Wheel::default();
    let s = ClientNonInvite::start(&cfg, Unreliable);
    w.apply(&s.actions);
    let mut m = s.state;
    while let Some(id) = w.fire(Duration::MAX) {
        let s = m.step(&cfg, cn::Event::Timer(id));
        w.apply(&s.actions);
        m = s.state;
    }
    let sends: Vec<u128> = w.sends.iter().map(|d| d.as_millis()).collect();
    assert_eq!(&sends[..5], [0, 100, 300, 600, 900]);
    assert_eq!(sends.len(), 1 + 2 + (6_400 - 300) / 300);
    assert_eq!(w.terminated, Some(ms(6_400)));
}

/// Each machine is tiny: well under the 32-byte budget.
#[test]
fn machine_sizes() {
    let sizes = [
        ("ClientInvite", size_of::<ClientInvite>()),
        ("ClientNonInvite", size_of::<ClientNonInvite>()),
        ("ServerInvite", size_of::<ServerInvite>()),
        ("ServerNonInvite", size_of::<ServerNonInvite>()),
    ];
    for (name, size) in sizes {
        println!("size_of::<{name}>() = {size}");
        assert!(size <= 32, "{name} is {size} bytes");
    }
    println!("size_of::<Action>() = {}", size_of::<Action>());
    println!(
        "size_of::<Step<ClientInvite>>() = {}",
        size_of::<Step<ClientInvite>>()
    );
}
