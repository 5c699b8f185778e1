mod scripted_support;
use sansip::Instant;
use sansip::endpoint::{Request, Transport};
use sansip::message::{HeaderKind, Method};
use scripted_support::*;
fn invite_req() -> Request<'static> {
    Request::new(
        Method::Invite,
        "sip:bob@127.0.0.1:5070",
        "<sip:alice@127.0.0.1>",
        "<sip:bob@127.0.0.1>",
    )
}
fn show(out: &[(std::net::SocketAddr, Vec<u8>)]) {
    for (to, b) in out {
        let m = parse(b);
        println!(
            "  {to} {:?} {} routes {:?}",
            m.method(),
            m.cseq().unwrap(),
            m.headers_of(HeaderKind::Route)
                .map(|h| String::from_utf8_lossy(h.value).to_string())
                .collect::<Vec<_>>()
        );
    }
}
fn ok_text(invite: &[u8], rr: &str) -> Vec<u8> {
    let m = parse(invite);
    let h = |k| String::from_utf8(m.header(k).unwrap().value.to_vec()).unwrap();
    format!("SIP/2.0 200 OK\r\nVia: {}\r\n{rr}From: {}\r\nTo: {};tag=b1\r\nCall-ID: {}\r\nCSeq: {}\r\nContact: <sip:bob@127.0.0.1:5070>\r\nContent-Length: 0\r\n\r\n",
      h(HeaderKind::Via), h(HeaderKind::From), h(HeaderKind::To), h(HeaderKind::CallId), h(HeaderKind::CSeq)).into_bytes()
}
#[test]
fn probe() {
    for (n, bare) in [(2, true), (9, true), (17, false), (12, false)] {
        let mut ep = endpoint(Transport::Udp);
        let now = Instant::ZERO;
        let _call = ep.invite(now, addr(PEER), &invite_req()).unwrap();
        let invite = sent(&mut ep).pop().unwrap().1;
        let rr: String = (0..n)
            .map(|i| {
                if bare {
                    format!("Record-Route: sip:127.0.0.1:{};lr\r\n", 6000 + i)
                } else {
                    format!("Record-Route: <sip:127.0.0.1:{};lr>\r\n", 6000 + i)
                }
            })
            .collect();
        feed(&mut ep, now, &ok_text(&invite, &rr));
        println!("n {n} bare {bare}");
        show(&sent(&mut ep));
        println!(
            "{:?}",
            events(&mut ep)
                .iter()
                .filter(|e| !matches!(e, sansip::endpoint::Event::Response { .. }))
                .collect::<Vec<_>>()
        );
    }
    panic!();
}
