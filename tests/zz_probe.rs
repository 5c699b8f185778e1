use sansip::Instant;
use sansip::endpoint::{Endpoint, EndpointConfig, Request};
use sansip::message::Method;
type Ep = Endpoint<16, 8, 2048>;
fn a(s: &str) -> std::net::SocketAddr {
    s.parse().unwrap()
}
fn new(p: &str, seed: u64) -> Box<Ep> {
    Box::new(Endpoint::new(EndpointConfig::new(a(p), seed)))
}
fn drain(x: &mut Ep) -> Vec<Vec<u8>> {
    let mut b = vec![0u8; 9000];
    let mut v = vec![];
    while let Some(t) = x.poll_transmit(&mut b).unwrap() {
        v.push(t.bytes.to_vec())
    }
    v
}
#[test]
fn probe() {
    let mut e = new("127.0.0.1:5061", 1);
    let mut b = new("127.0.0.1:5062", 2);
    let now = Instant::ZERO;
    let to = a("127.0.0.1:5062");
    for h in [
        "Contact",
        "Call-ID",
        "CSeq",
        "Via",
        "From",
        "To",
        "Max-Forwards",
        "Content-Length",
        "Content-Type",
        "Expires",
        "Supported",
        "User-Agent",
        "Route",
    ] {
        let hs = [(h, "<sip:x@1.2.3.4>")];
        let r = e.invite(
            now,
            to,
            &Request {
                headers: &hs,
                ..Request::new(
                    Method::Invite,
                    "sip:bob@127.0.0.1:5062",
                    "<sip:a@x>",
                    "<sip:b@x>",
                )
            },
        );
        let out = drain(&mut e);
        let mut verdict = String::new();
        for d in &out {
            b.handle_datagram(now, a("127.0.0.1:5061"), d);
        }
        let evs: Vec<_> = std::iter::from_fn(|| b.poll_event()).collect();
        for d in drain(&mut b) {
            verdict.push_str(&String::from_utf8_lossy(
                &d[..d.iter().position(|&c| c == b'\r').unwrap()],
            ));
        }
        println!(
            "invite +{h}: {:?} sent {} b: {:?} {verdict}",
            r.map(|_| ()),
            out.len(),
            evs.len()
        );
    }
}
