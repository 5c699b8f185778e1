//! Deterministic simulation: endpoints over a seeded virtual link that drops,
//! duplicates, delays and reorders datagrams, with virtual time that jumps to the next
//! delivery, timer or scripted user action. Same seed, same run.
//!
//! For each seed, a caller places many calls to two callees. Every call either
//! completes (INVITE, 180, 200, ACK, BYE, 200) or fails the way RFC 3261 prescribes
//! (the INVITE transaction times out after 64*T1, the 2xx is never ACKed, ...), and when
//! every timer has run out all transaction and call tables are empty again.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};
use std::net::SocketAddr;

use sansip::Instant;
use sansip::check::Capabilities;
use sansip::dialog::EndReason;
use sansip::endpoint::{CallHandle, Endpoint, EndpointConfig, Event, Request, TxHandle};
use sansip::message::{Method, StatusCode};

type Ep = Endpoint<1536, 256, 1024>;

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn percent(&mut self, p: u32) -> bool {
        self.next() % 100 < u64::from(p)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[derive(Clone, Copy)]
struct Link {
    loss: u32,
    duplicate: u32,
    max_delay_ms: u64,
}

/// Something scheduled in virtual time.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Job {
    /// Deliver datagram number `n` (index into the in-flight store).
    Deliver(usize),
    /// The caller places call number `i`.
    Place(usize),
    /// Callee `ep` answers its INVITE transaction with 200.
    Answer(usize, TxHandle),
    /// The caller hangs up.
    HangUp(CallHandle),
    /// The caller sends a re-INVITE (a new offer, RFC 3261 §14.1).
    ReInvite(CallHandle),
    /// A callee's host hangs up a call that has been up too long: the media timeout a
    /// real host runs, since RFC 3261 alone never notices a lost BYE.
    MediaTimeout(usize, CallHandle),
}

struct Sim {
    eps: Vec<Box<Ep>>,
    addrs: Vec<SocketAddr>,
    now: Instant,
    rng: Rng,
    link: Link,
    jobs: BinaryHeap<Reverse<(u64, u64, Job)>>,
    seq: u64,
    in_flight: Vec<Option<(usize, usize, Vec<u8>)>>,
    /// Caller's calls: handle → (callee index, time placed).
    placed: BTreeMap<CallHandle, (usize, Instant)>,
    outcomes: Vec<(EndReason, u64)>,
    callee_outcomes: Vec<EndReason>,
    established: usize,
    callee_calls: Vec<CallHandle>,
    /// Transactions that timed out or failed to send, over all endpoints.
    timeouts: usize,
    /// re-INVITEs the caller sent.
    reinvites: usize,
    /// Late-offer ACKs the caller sent with its answer.
    late_offers: usize,
    /// Calls whose re-INVITE went without an offer (and those re-INVITEs), how many of
    /// them were answered 2xx, and how many got the caller's answer in their ACK.
    offerless: BTreeSet<CallHandle>,
    offerless_txs: BTreeMap<TxHandle, CallHandle>,
    /// Calls the caller hung up: a 2xx to their re-INVITE is ACKed without an answer.
    hung_up: BTreeSet<CallHandle>,
    offerless_accepted: usize,
    reinvite_answers: usize,
    /// Reliable provisional responses the second callee saw acknowledged.
    pracked: usize,
}

impl Sim {
    fn new(seed: u64, link: Link) -> Self {
        let addrs: Vec<SocketAddr> = ["127.0.0.1:5060", "127.0.0.2:5060", "127.0.0.3:5070"]
            .iter()
            .map(|a| a.parse().unwrap())
            .collect();
        let eps = addrs
            .iter()
            .enumerate()
            .map(|(i, a)| {
                // Odd seeds keep finished server transactions as lingering records,
                // even seeds as table entries: both must end empty.
                let linger = if seed % 2 == 1 { 4_096 } else { 0 };
                // The caller and the second callee support reliable provisional responses
                // (RFC 3262): calls to that callee PRACK their 180 over the lossy link.
                let capabilities = if i == 1 {
                    Capabilities::DEFAULT
                } else {
                    Capabilities {
                        extensions: &["100rel"],
                        ..Capabilities::DEFAULT
                    }
                };
                Box::new(Endpoint::new(EndpointConfig {
                    linger_records: linger,
                    linger_bytes: linger * 512,
                    capabilities,
                    ..EndpointConfig::new(*a, seed.wrapping_mul(7919).wrapping_add(i as u64))
                }))
            })
            .collect();
        Sim {
            eps,
            addrs,
            now: Instant::ZERO,
            rng: Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1),
            link,
            jobs: BinaryHeap::new(),
            seq: 0,
            in_flight: Vec::new(),
            placed: BTreeMap::new(),
            outcomes: Vec::new(),
            callee_outcomes: Vec::new(),
            established: 0,
            callee_calls: Vec::new(),
            timeouts: 0,
            reinvites: 0,
            late_offers: 0,
            offerless: BTreeSet::new(),
            offerless_txs: BTreeMap::new(),
            hung_up: BTreeSet::new(),
            offerless_accepted: 0,
            reinvite_answers: 0,
            pracked: 0,
        }
    }

    fn schedule(&mut self, at: u64, job: Job) {
        self.seq += 1;
        self.jobs.push(Reverse((at, self.seq, job)));
    }

    fn index_of(&self, a: SocketAddr) -> usize {
        self.addrs
            .iter()
            .position(|x| *x == a)
            .expect("destination is one of the endpoints")
    }

    /// Move every queued output of endpoint `i` onto the link and handle its events.
    fn drain(&mut self, i: usize) {
        let mut buf = vec![0u8; 65_535];
        while let Some(t) = self.eps[i].poll_transmit(&mut buf).unwrap() {
            let to = self.index_of(t.destination);
            let copies = if self.rng.percent(self.link.loss) {
                0
            } else if self.rng.percent(self.link.duplicate) {
                2
            } else {
                1
            };
            for _ in 0..copies {
                let delay = 1 + self.rng.below(self.link.max_delay_ms);
                self.in_flight.push(Some((i, to, t.bytes.to_vec())));
                let n = self.in_flight.len() - 1;
                self.schedule(self.now.as_millis() + delay, Job::Deliver(n));
            }
        }
        while let Some(e) = self.eps[i].poll_event() {
            self.on_event(i, e);
        }
    }

    fn on_event(&mut self, i: usize, e: Event) {
        let now = self.now.as_millis();
        match (i, e) {
            (0, Event::CallEstablished { call }) => {
                self.established += 1;
                let talk = 200 + self.rng.below(800);
                // Every other call also changes its session half-way.
                if self.rng.percent(50) {
                    self.schedule(now + 100 + talk / 2, Job::ReInvite(call));
                }
                self.schedule(now + talk, Job::HangUp(call));
            }
            // Late offer (in the INVITE or a re-INVITE): the caller answers the offer of
            // the 2xx at once.
            (0, Event::AnswerNeeded { call }) => {
                self.eps[0]
                    .ack_with_answer(call, ("application/sdp", b"v=0\r\n"))
                    .unwrap();
                if self.offerless.remove(&call) {
                    self.reinvite_answers += 1;
                } else {
                    self.late_offers += 1;
                }
            }
            (0, Event::Response { tx, status, .. }) if status.is_final() => {
                if status.is_success()
                    && let Some(call) = self.offerless_txs.remove(&tx)
                    && !self.hung_up.contains(&call)
                {
                    self.offerless_accepted += 1;
                }
                // The callee never refuses a call: a failure is a timeout (408), a lost
                // dialog (481), a cancelled INVITE (487), or a re-INVITE that came before
                // the callee had its ACK or out of order (500, §14.2, §12.2.2).
                assert!(
                    status.as_u16() < 300 || matches!(status.as_u16(), 408 | 481 | 487 | 500),
                    "caller got {status} at {now} ms"
                );
            }
            (0, Event::CallTerminated { call, reason }) => {
                let placed = self
                    .placed
                    .remove(&call)
                    .expect("a call the caller placed")
                    .1;
                self.outcomes.push((reason, now - placed.as_millis()));
            }
            (
                _,
                Event::IncomingRequest {
                    tx,
                    call: Some(call),
                },
            ) if i > 0 => {
                self.callee_calls.push(call);
                let ep = &mut self.eps[i];
                if ep.request(tx).map(|r| r.method()) == Some(Some(Method::Invite)) {
                    ep.respond(self.now, tx, StatusCode::RINGING, None).unwrap();
                    let delay = 50 + self.rng.below(300);
                    self.schedule(now + delay, Job::Answer(i, tx));
                }
            }
            (_, Event::CallEstablished { call }) if i > 0 => {
                self.schedule(now + 120_000, Job::MediaTimeout(i, call))
            }
            (_, Event::CallTerminated { reason, .. }) if i > 0 => self.callee_outcomes.push(reason),
            (2, Event::ProvisionalAcknowledged { .. }) => self.pracked += 1,
            (_, Event::Capacity(c)) => panic!("endpoint {i} ran out of {c:?} at {now} ms"),
            (_, Event::TimedOut { .. } | Event::TransportError { .. }) => self.timeouts += 1,
            _ => {}
        }
    }

    fn run(&mut self, calls: usize, gap_ms: u64) {
        for c in 0..calls {
            self.schedule(c as u64 * gap_ms, Job::Place(c));
        }
        loop {
            let next_timer = self
                .eps
                .iter()
                .filter_map(|e| e.poll_timeout())
                .min()
                .map(|t| t.as_millis());
            let next_job = self.jobs.peek().map(|Reverse((t, _, _))| *t);
            let at = match (next_timer, next_job) {
                (Some(t), Some(j)) => t.min(j),
                (Some(t), None) => t,
                (None, Some(j)) => j,
                (None, None) => break,
            };
            self.now = Instant::from_millis(at.max(self.now.as_millis()));
            if next_job == Some(at) {
                let Reverse((_, _, job)) = self.jobs.pop().unwrap();
                self.do_job(job);
            } else {
                for i in 0..self.eps.len() {
                    self.eps[i].handle_timeout(self.now);
                    self.drain(i);
                }
            }
        }
    }

    fn do_job(&mut self, job: Job) {
        match job {
            Job::Deliver(n) => {
                let (from, to, bytes) = self.in_flight[n].take().unwrap();
                let from_addr = self.addrs[from];
                self.eps[to].handle_datagram(self.now, from_addr, &bytes);
                self.drain(to);
            }
            Job::Place(c) => {
                let callee = 1 + c % 2;
                let uri = format!("sip:user{c}@{}", self.addrs[callee]);
                // One call in four is a late offer (no SDP in the INVITE).
                let late = c % 4 == 3;
                let req = Request {
                    body: (!late).then_some(("application/sdp", b"v=0\r\n".as_slice())),
                    ..Request::new(
                        Method::Invite,
                        &uri,
                        "<sip:caller@127.0.0.1>",
                        "<sip:callee@example.com>",
                    )
                };
                let call = self.eps[0]
                    .invite(self.now, self.addrs[callee], &req)
                    .expect("tables sized for the load");
                self.placed.insert(call, (callee, self.now));
                self.drain(0);
            }
            Job::Answer(i, tx) => {
                // The caller may have given up (CANCEL) or the call failed: then the
                // transaction is gone or no longer answerable.
                let _ = self.eps[i].respond(
                    self.now,
                    tx,
                    StatusCode::OK,
                    Some(("application/sdp", b"v=0\r\n")),
                );
                self.drain(i);
            }
            Job::MediaTimeout(i, call) => {
                // Usually the call ended long ago and the handle no longer resolves.
                let _ = self.eps[i].hangup(self.now, call);
                self.drain(i);
            }
            Job::HangUp(call) => {
                self.hung_up.insert(call);
                self.offerless.remove(&call);
                let _ = self.eps[0].hangup(self.now, call);
                self.drain(0);
            }
            Job::ReInvite(call) => {
                // The call may have ended meanwhile, or the previous one is still open.
                // Every other re-INVITE goes without an offer (RFC 3264 §4).
                let offerless = self.reinvites % 2 == 1;
                let sent = if offerless {
                    self.eps[0].reinvite_without_offer(self.now, call, &[])
                } else {
                    self.eps[0].reinvite(self.now, call, &[], ("application/sdp", b"v=0\r\n"))
                };
                if let Ok(tx) = sent {
                    self.reinvites += 1;
                    if offerless {
                        self.offerless.insert(call);
                        self.offerless_txs.insert(tx, call);
                    }
                }
                self.drain(0);
            }
        }
    }
}

/// Run one seed and check the RFC's promises. Returns (completed, failed).
fn check_seed(seed: u64, calls: usize, link: Link) -> (usize, usize) {
    let mut sim = Sim::new(seed, link);
    sim.run(calls, 40);
    let t1x64 = 64 * 500;
    let left: Vec<_> = sim
        .placed
        .keys()
        .map(|c| sim.eps[0].call_state(*c))
        .collect();
    assert!(
        sim.placed.is_empty(),
        "seed {seed}: calls never ended: {:?} in {left:?}",
        sim.placed
    );
    assert_eq!(sim.outcomes.len(), calls, "seed {seed}");
    // Each offer-less re-INVITE answered 2xx asked for the caller's answer once, however
    // often its 2xx came.
    assert_eq!(
        sim.reinvite_answers, sim.offerless_accepted,
        "seed {seed}: offer-less re-INVITEs"
    );
    let mut completed = 0;
    let mut failed = 0;
    for (reason, took) in &sim.outcomes {
        match reason {
            EndReason::LocalBye => completed += 1,
            // §17.1.1.2: Timer B fires 64*T1 after the INVITE.
            EndReason::TimedOut => {
                assert!(
                    *took >= t1x64,
                    "seed {seed}: INVITE timed out after {took} ms"
                );
                failed += 1;
            }
            // §12.2.1.2: the BYE timed out (408) or found no dialog (481) because the
            // callee hung up after 64*T1 without the ACK (§13.3.1.4).
            EndReason::DialogGone(code) if matches!(code.as_u16(), 408 | 481) => failed += 1,
            // The callee gave up on the ACK and sent BYE (§13.3.1.4).
            EndReason::RemoteBye => failed += 1,
            // Ringing and no final response for over 3 minutes: the caller CANCELs
            // (the UAC's Timer C guard), and §9.1 gives the INVITE 64*T1 more.
            EndReason::Cancelled => {
                assert!(*took >= 180_000, "seed {seed}: gave up after {took} ms");
                failed += 1;
            }
            other => panic!("seed {seed}: unexpected end {other:?}"),
        }
    }
    for reason in &sim.callee_outcomes {
        assert!(
            matches!(
                reason,
                EndReason::RemoteBye
                    | EndReason::NoAck
                    | EndReason::Cancelled
                    // The media timeout, when the caller's BYE was lost every time.
                    | EndReason::LocalBye
                    | EndReason::DialogGone(_)
            ),
            "seed {seed}: callee ended with {reason:?}"
        );
    }
    // Every timer has run out: nothing may be left behind.
    for (i, ep) in sim.eps.iter().enumerate() {
        assert_eq!(
            (ep.transaction_count(), ep.call_count()),
            (0, 0),
            "seed {seed}: endpoint {i} leaked; callee calls: {:?}",
            sim.callee_calls
                .iter()
                .map(|c| ep.call_state(*c))
                .collect::<Vec<_>>()
        );
    }
    (completed, failed)
}

fn run_in_big_stack<F: FnOnce() + Send + 'static>(f: F) {
    // The endpoints are built on the stack before boxing: give the thread room.
    std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn perfect_link_every_call_completes() {
    run_in_big_stack(|| {
        let link = Link {
            loss: 0,
            duplicate: 0,
            max_delay_ms: 5,
        };
        assert_eq!(check_seed(1, 40, link), (40, 0));
        // Nothing dropped, refused, unmatched or timed out on a perfect link.
        let mut sim = Sim::new(1, link);
        sim.run(40, 40);
        assert_eq!(sim.timeouts, 0);
        assert!(sim.reinvites >= 10, "{} re-INVITEs", sim.reinvites);
        assert_eq!(sim.late_offers, 10, "one call in four");
        // Each offer-less re-INVITE answered 2xx asked for the caller's answer once (a
        // hang-up may cut one short: 487).
        assert!(sim.offerless_accepted >= 3, "{}", sim.offerless_accepted);
        assert_eq!(sim.reinvite_answers, sim.offerless_accepted);
        // The calls to the second callee with an offer (one in four: late-offer calls,
        // all to that callee, do not offer 100rel) had their 180 PRACKed once, unless
        // the link's jitter let the 2xx overtake it (a 1xx after the 2xx is dropped).
        assert!((5..=10).contains(&sim.pracked), "{} PRACKed", sim.pracked);
        for ep in &sim.eps {
            assert_eq!(ep.stats(), sansip::endpoint::Stats::default());
        }
    });
}

/// 50 seeds at 30 % loss with duplicates and reordering: calls complete unless the
/// RFC's own timers give up, and those failures are rare.
#[test]
fn lossy_link_fifty_seeds() {
    run_in_big_stack(|| {
        let link = Link {
            loss: 30,
            duplicate: 10,
            max_delay_ms: 80,
        };
        let (mut completed, mut failed) = (0, 0);
        for seed in 1..=50 {
            let (c, f) = check_seed(seed, 200, link);
            completed += c;
            failed += f;
        }
        eprintln!("30% loss: {completed} calls completed, {failed} failed as the RFC prescribes");
        assert_eq!(completed + failed, 50 * 200);
        // Seven INVITE sends all lost is 0.3^7: a few failures in 10,000 calls at most.
        assert!(
            failed * 100 <= completed,
            "{failed} failures against {completed} completions"
        );
    });
}

/// At 75 % loss many calls fail: each failure must be an RFC timeout, and nothing
/// may leak.
#[test]
fn heavy_loss_fails_only_by_rfc_timers() {
    run_in_big_stack(|| {
        let link = Link {
            loss: 75,
            duplicate: 10,
            max_delay_ms: 80,
        };
        let (mut completed, mut failed) = (0, 0);
        for seed in 1..=10 {
            let (c, f) = check_seed(seed, 20, link);
            completed += c;
            failed += f;
        }
        eprintln!("75% loss: {completed} completed, {failed} failed");
        assert!(failed > 0 && completed > 0, "{completed} / {failed}");
    });
}

/// More seeds for as long as the budget allows (run by .ci/run with --include-ignored).
#[test]
#[ignore = "soak: many seeds, bounded to about a minute"]
fn soak_many_seeds() {
    run_in_big_stack(|| {
        let start = std::time::Instant::now();
        let link = Link {
            loss: 30,
            duplicate: 10,
            max_delay_ms: 120,
        };
        let mut seeds = 0;
        let mut seed = 1000;
        while start.elapsed() < std::time::Duration::from_secs(60) {
            check_seed(seed, 60, link);
            seed += 1;
            seeds += 1;
        }
        eprintln!("soak: {seeds} seeds");
        assert!(seeds > 0);
    });
}

#[test]
fn same_seed_same_run() {
    run_in_big_stack(|| {
        let link = Link {
            loss: 30,
            duplicate: 10,
            max_delay_ms: 80,
        };
        let a = {
            let mut s = Sim::new(9, link);
            s.run(20, 40);
            s.outcomes.clone()
        };
        let b = {
            let mut s = Sim::new(9, link);
            s.run(20, 40);
            s.outcomes.clone()
        };
        assert_eq!(a, b);
    });
}
