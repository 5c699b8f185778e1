//! The message layer never allocates: parsing, typed access and encoding are checked
//! with a counting global allocator.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use sansip::encode::MessageBuilder;
use sansip::message::{HeaderKind, Message, StatusCode};

struct Counting;

static ALLOCS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::SeqCst);
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
    let before = ALLOCS.load(Ordering::SeqCst);
    let mut total = 0;
    for _ in 0..100 {
        let m = Message::parse(INVITE).unwrap();
        total += m.headers().map(|h| h.value.len()).sum::<usize>();
        total += m.header(HeaderKind::CSeq).map_or(0, |h| h.value.len());
        let r = MessageBuilder::response_to(&m, StatusCode::OK, "tag1").unwrap();
        total += r.encode_into(&mut buf).unwrap();
    }
    let after = ALLOCS.load(Ordering::SeqCst);
    assert!(total > 0);
    assert_eq!(after - before, 0, "allocations on the message path");
}
