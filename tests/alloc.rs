//! The message layer never allocates: parsing, typed access and encoding are checked
//! with a counting global allocator.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use sansip::encode::MessageBuilder;
use sansip::message::{HeaderKind, Message, StatusCode};

struct Counting;

std::thread_local! {
    // Per thread, so that tests running in parallel do not count each other's
    // allocations. A const-initialised `Cell` never allocates on access.
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
}

fn allocations() -> usize {
    ALLOCS.with(Cell::get)
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: forwards to the system allocator with the caller's layout.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `alloc` above with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const INVITE: &[u8] = include_bytes!("../examples/messages/invite.sip");

#[test]
fn parse_and_encode_do_not_allocate() {
    let mut buf = [0u8; 2048];
    let before = allocations();
    let mut total = 0;
    for _ in 0..100 {
        let m = Message::parse(INVITE).unwrap();
        total += m.headers().map(|h| h.value.len()).sum::<usize>();
        total += m.header(HeaderKind::CSeq).map_or(0, |h| h.value.len());
        let r = MessageBuilder::response_to(&m, StatusCode::OK, "tag1").unwrap();
        total += r.encode_into(&mut buf).unwrap();
    }
    let after = allocations();
    assert!(total > 0);
    assert_eq!(after - before, 0, "allocations on the message path");
}

/// Whole calls between two endpoints, after a warm-up call: not one allocation, also
/// while the callee keeps finished transactions as lingering records (their store is
/// allocated once, in `Endpoint::new`).
#[test]
fn endpoint_calls_do_not_allocate() {
    use sansip::Instant;
    use sansip::endpoint::{Endpoint, EndpointConfig, Event, Request};
    use sansip::message::Method;
    use std::net::SocketAddr;

    type Ep = Endpoint<32, 8, 1500>;
    let a_addr: SocketAddr = "127.0.0.1:5060".parse().unwrap();
    let b_addr: SocketAddr = "127.0.0.1:5062".parse().unwrap();
    let mut a: Box<Ep> = Box::new(Endpoint::new(EndpointConfig::new(a_addr, 1)));
    let mut b: Box<Ep> = Box::new(Endpoint::new(EndpointConfig {
        linger_records: 64,
        linger_bytes: 64 * 1024,
        ..EndpointConfig::new(b_addr, 2)
    }));
    let mut buf = vec![0u8; 2048];
    let req = Request {
        body: Some(("application/sdp", b"v=0\r\n")),
        ..Request::new(
            Method::Invite,
            "sip:bob@127.0.0.1:5062",
            "<sip:alice@127.0.0.1>",
            "<sip:bob@127.0.0.1>",
        )
    };
    let mut run_call = |now_ms: u64, count: &mut usize| {
        let now = Instant::from_millis(now_ms);
        let call = a.invite(now, b_addr, &req).unwrap();
        let mut hung_up = false;
        loop {
            let mut moved = false;
            while let Some(t) = a.poll_transmit(&mut buf).unwrap() {
                let n = t.bytes.len();
                b.handle_datagram(now, a_addr, &buf[..n]);
                moved = true;
                *count += 1;
            }
            while let Some(t) = b.poll_transmit(&mut buf).unwrap() {
                let n = t.bytes.len();
                a.handle_datagram(now, b_addr, &buf[..n]);
                moved = true;
                *count += 1;
            }
            while let Some(e) = b.poll_event() {
                if let Event::IncomingRequest { tx, call: Some(_) } = e {
                    b.respond(now, tx, StatusCode::RINGING, None).unwrap();
                    b.respond(
                        now,
                        tx,
                        StatusCode::OK,
                        Some(("application/sdp", b"v=0\r\n")),
                    )
                    .unwrap();
                }
            }
            while let Some(e) = a.poll_event() {
                if let Event::CallEstablished { .. } = e {
                    a.hangup(now, call).unwrap();
                    hung_up = true;
                    moved = true;
                }
            }
            if !moved {
                break;
            }
        }
        assert!(hung_up);
        assert_eq!(
            b.lingering_count(),
            2,
            "the callee's INVITE and BYE transactions"
        );
        // Let every transaction timer run out.
        let later = Instant::from_millis(now_ms + 40_000);
        a.handle_timeout(later);
        b.handle_timeout(later);
        while a.poll_transmit(&mut buf).unwrap().is_some() {}
        while b.poll_transmit(&mut buf).unwrap().is_some() {}
        while a.poll_event().is_some() || b.poll_event().is_some() {}
        assert_eq!(b.transaction_count(), 0);
    };
    let mut messages = 0;
    run_call(0, &mut messages);
    let before = allocations();
    for i in 1..=20 {
        run_call(i * 100_000, &mut messages);
    }
    let after = allocations();
    assert!(messages >= 21 * 6, "{messages} messages");
    assert_eq!(after - before, 0, "allocations in steady-state calls");
}
