//! The one session description the endpoint writes itself: an answer that rejects
//! every media stream of an offer (RFC 3264 §6: a stream is rejected with port zero; the
//! answer has as many `m=` lines as the offer, in the same order, each with at least one
//! of the offered formats). It goes in the ACK of a 2xx whose offer the host did not
//! answer before the call ended: RFC 3261 §13.2.2.4 asks the UAC for a valid answer in
//! the ACK, then a BYE. Everything else about SDP is the host's.

use heapless::Vec;

use crate::message::Message;

/// Longest rejecting answer written; an offer with more streams than fit gets none.
pub(super) const MAX_REJECTION: usize = 512;

/// The answer rejecting every stream of the SDP offer `msg` carries; `None` when `msg`
/// carries no SDP (RFC 4566: `v=` first, `m=<media> <port> <proto> <fmt> ...`) or the
/// answer would not fit [`MAX_REJECTION`].
pub(super) fn rejecting_answer(msg: &Message<'_>) -> Option<Vec<u8, MAX_REJECTION>> {
    let sdp = msg.content_type()?.ok().is_some_and(|ct| {
        ct.media_type().eq_ignore_ascii_case("application")
            && ct.subtype().eq_ignore_ascii_case("sdp")
    });
    if !sdp {
        return None;
    }
    reject_all(msg.body())
}

/// [`rejecting_answer`] for the bytes of an SDP offer.
fn reject_all(offer: &[u8]) -> Option<Vec<u8, MAX_REJECTION>> {
    let text = core::str::from_utf8(offer).ok()?;
    let mut lines = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    if !lines.next()?.starts_with("v=") {
        return None;
    }
    let mut out = Vec::new();
    // The answerer's own origin and a null connection address: nothing is to be sent.
    out.extend_from_slice(b"v=0\r\no=- 0 0 IN IP4 0.0.0.0\r\ns=-\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\n")
        .ok()?;
    for m in lines.filter_map(|l| l.strip_prefix("m=")) {
        let mut fields = m.split(' ').filter(|f| !f.is_empty());
        let (media, _port, proto, format) = (
            fields.next()?,
            fields.next()?,
            fields.next()?,
            fields.next()?,
        );
        // Copied from the peer's body into ours: visible ASCII only.
        if ![media, proto, format]
            .iter()
            .all(|f| f.bytes().all(|b| b.is_ascii_graphic()))
        {
            return None;
        }
        for piece in [
            b"m=" as &[u8],
            media.as_bytes(),
            b" 0 ",
            proto.as_bytes(),
            b" ",
            format.as_bytes(),
            b"\r\n",
        ] {
            out.extend_from_slice(piece).ok()?;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::reject_all;

    #[test]
    fn every_stream_is_rejected_in_order() {
        let offer = b"v=0\r\no=bob 1 1 IN IP4 192.0.2.2\r\ns=-\r\nc=IN IP4 192.0.2.2\r\nt=0 0\r\n\
m=audio 49170 RTP/AVP 0 8 97\r\na=rtpmap:97 iLBC/8000\r\nm=video 51372 RTP/AVP 31 32\r\n\
m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n";
        let answer = reject_all(offer).unwrap();
        assert_eq!(
            core::str::from_utf8(&answer).unwrap(),
            "v=0\r\no=- 0 0 IN IP4 0.0.0.0\r\ns=-\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\n\
m=audio 0 RTP/AVP 0\r\nm=video 0 RTP/AVP 31\r\n\
m=application 0 UDP/DTLS/SCTP webrtc-datachannel\r\n"
        );
        // Bare LF line ends are read too; no stream, no m= line.
        let answer = reject_all(b"v=0\no=- 1 1 IN IP4 h\ns=-\nt=0 0\n").unwrap();
        assert!(!answer.windows(2).any(|w| w == b"m="));
    }

    #[test]
    fn what_is_not_sdp_or_too_big_gets_no_answer() {
        assert!(reject_all(b"").is_none());
        assert!(reject_all(b"hello\r\n").is_none());
        assert!(
            reject_all(b"v=0\r\nm=audio 1 RTP/AVP\r\n").is_none(),
            "no format"
        );
        assert!(reject_all(b"v=0\r\nm=audio 1 RTP/AVP \x01\r\n").is_none());
        assert!(reject_all(b"v=0\r\nm=aud\xffio 1 RTP/AVP 0\r\n").is_none());
        let mut many = b"v=0\r\n".to_vec();
        for _ in 0..40 {
            many.extend_from_slice(b"m=audio 5000 RTP/AVP 0\r\n");
        }
        assert!(reject_all(&many).is_none(), "past MAX_REJECTION");
    }
}
