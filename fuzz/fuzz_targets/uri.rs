//! Arbitrary bytes as URIs and as a name-addr: nothing may panic; a URI is equivalent to
//! itself and equivalence is symmetric (RFC 3261 §19.1.4); the text a parsed URI keeps
//! parses again to an equivalent URI.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sansip::message::{NameAddr, Uri};

fn touch(u: &Uri<'_>) {
    if let Some(s) = u.as_sip() {
        for p in s.params() {
            let _ = p.name_is("lr");
        }
        for h in s.headers() {
            let _ = h.name_is("subject");
        }
        let _ = (s.user(), s.password(), s.host(), s.port(), s.transport());
        let _ = (s.user_param(), s.method(), s.ttl(), s.maddr(), s.lr());
        let _ = sansip::locate::plan(s);
    }
    if let Some(t) = u.as_tel() {
        let _ = (t.number(), t.is_global(), t.params().count());
    }
}

fuzz_target!(|data: &[u8]| {
    // Two URIs to compare: the input split at its first NUL, or the input with itself.
    let (a, b) = match data.iter().position(|&c| c == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, data),
    };
    let ua = Uri::parse(a);
    let ub = Uri::parse(b);
    if let Ok(u) = &ua {
        touch(u);
        assert!(u.equivalent(u), "not equivalent to itself: {:?}", u.as_str());
        let again = Uri::parse(u.as_str().as_bytes()).expect("a parsed URI's text parses");
        assert!(again.equivalent(u));
    }
    if let (Ok(x), Ok(y)) = (&ua, &ub) {
        assert_eq!(
            x.equivalent(y),
            y.equivalent(x),
            "asymmetric: {:?} {:?}",
            x.as_str(),
            y.as_str()
        );
    }
    if let Ok(na) = NameAddr::parse(data) {
        touch(na.uri());
        let _ = (na.display_name(), na.tag(), na.params().count());
    }
});
