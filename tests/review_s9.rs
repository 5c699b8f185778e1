//! Review s9: forked subscriptions, a re-INVITE lingering for Timer M, no second BYE for
//! a BYEd 2xx, and a re-INVITE following a 422 (RFC 4028 §7.4).

mod scripted_support;

use sansip::Instant;
use sansip::dialog::TimerConfig;
use sansip::endpoint::{DigestCredentials, Endpoint, EndpointConfig, Request};
use sansip::message::{HeaderKind, Message, Method};
use scripted_support::*;

const CONTACT: &str = "<sip:bob@127.0.0.1:5070>";
const SDP: &[u8] = b"v=0\r\n";

fn value<'a>(m: &Message<'a>, k: HeaderKind) -> Option<&'a str> {
    m.header(k).map(|h| std::str::from_utf8(h.value).unwrap())
}

/// The `nc` of a request's Proxy-Authorization.
fn nc(bytes: &[u8]) -> Option<String> {
    let m = parse(bytes);
    let v = value(&m, HeaderKind::ProxyAuthorization)?;
    let at = v.find("nc=")? + 3;
    Some(v[at..at + 8].to_string())
}

/// RFC 4028 §7.4 with RFC 3261 §22.4 (RFC 2617 §3.2.2): the re-INVITE sent again after
/// a 422 is a new request, so its credentials count it (`nc` one higher, a new
/// `cnonce`); a copy of the refused one's `nc` is what a replay looks like, and a
/// server that checks it challenges the retry. The initial INVITE the same.
#[test]
fn a_request_sent_again_after_422_counts_its_credentials_anew() {
    let challenge = "Digest realm=\"proxy.test\", nonce=\"p-1\", qop=\"auth\"";
    for reinvite in [false, true] {
        let mut ep: Box<Ep> = Box::new(Endpoint::new(EndpointConfig {
            session_timer: Some(TimerConfig {
                session_expires: 120,
                min_se: 90,
            }),
            ..EndpointConfig::new(addr(LOCAL), 7)
        }));
        let now = Instant::ZERO;
        let req = Request {
            body: Some(("application/sdp", SDP)),
            credentials: Some(DigestCredentials::new("alice", "wonderland")),
            ..Request::new(
                Method::Invite,
                CALLEE,
                "<sip:alice@127.0.0.1>",
                "<sip:bob@127.0.0.1>",
            )
        };
        let call = ep.invite(now, addr(PEER), &req).unwrap();
        let invite = sent(&mut ep).pop().unwrap().1;
        feed(
            &mut ep,
            now,
            &response_to(
                &invite,
                407,
                "p",
                &[("Proxy-Authenticate", challenge)],
                None,
            ),
        );
        let out = sent(&mut ep);
        assert_eq!(methods(&out), ["ACK", "INVITE"]);
        let mut refused = out[1].1.clone();
        if reinvite {
            let headers = [
                ("Contact", CONTACT),
                ("Session-Expires", "120;refresher=uac"),
                ("Require", "timer"),
            ];
            feed(
                &mut ep,
                now,
                &response_to(&refused, 200, "b1", &headers, Some(SDP)),
            );
            assert_eq!(methods(&sent(&mut ep)), ["ACK"]);
            events(&mut ep);
            ep.reinvite(now, call, &[], ("application/sdp", SDP))
                .unwrap();
            refused = sent(&mut ep).pop().unwrap().1;
        }
        assert!(nc(&refused).is_some());
        let tag = if reinvite { "b1" } else { "p2" };
        feed(
            &mut ep,
            now,
            &response_to(&refused, 422, tag, &[("Min-SE", "1800")], None),
        );
        let out = sent(&mut ep);
        assert_eq!(methods(&out), ["ACK", "INVITE"], "re-INVITE {reinvite}");
        let again = &out[1].1;
        let se = value(&parse(again), HeaderKind::SessionExpires).unwrap();
        assert!(se.starts_with("1800"), "{se}");
        let (before, after) = (nc(&refused).unwrap(), nc(again).unwrap());
        assert!(
            u32::from_str_radix(&after, 16).unwrap() > u32::from_str_radix(&before, 16).unwrap(),
            "re-INVITE {reinvite}: nc {before} then {after}"
        );
    }
}
