//! Transaction key matching (RFC 3261 §17.1.3, §17.2.3, §8.2.2.2, RFC 2543 fallback).

use std::collections::HashMap;

use sansip::Capacity;
use sansip::message::Method;
use sansip::transaction::key::{
    MAX_BRANCH, MAX_CALL_ID, MAX_METHOD, MAX_SENT_BY_HOST, is_rfc3261_branch, merge_check,
};
use sansip::transaction::{
    BRANCH_LEN, ClientKey, KeyError, LegacyKey, MergeKey, MergeVerdict, ServerKey, generate_branch,
};

const BRANCH: &str = "z9hG4bK776asdhds";

fn server(branch: &str, host: &str, port: Option<u16>, m: Method<'_>) -> ServerKey {
    ServerKey::new(branch, host, port, m).unwrap()
}

/// §17.2.3: a retransmitted request produces the same key and finds its transaction.
#[test]
fn server_retransmission_matches() {
    let mut table = HashMap::new();
    table.insert(
        server(BRANCH, "pc33.atlanta.com", Some(5060), Method::Invite),
        "tx1",
    );
    let again = server(BRANCH, "pc33.atlanta.com", Some(5060), Method::Invite);
    assert_eq!(table.get(&again), Some(&"tx1"));
    // Any differing component is another transaction.
    for other in [
        server(
            "z9hG4bK776asdhdt",
            "pc33.atlanta.com",
            Some(5060),
            Method::Invite,
        ),
        server(BRANCH, "pc34.atlanta.com", Some(5060), Method::Invite),
        server(BRANCH, "pc33.atlanta.com", Some(5070), Method::Invite),
        server(BRANCH, "pc33.atlanta.com", Some(5060), Method::Bye),
    ] {
        assert_eq!(table.get(&other), None, "{other:?}");
    }
}

/// The sent-by host is case-insensitive (lowercased into the key); a missing port stays
/// distinct from an explicit 5060 (documented choice).
#[test]
fn server_sent_by_normalisation() {
    let a = server(BRANCH, "PC33.Atlanta.COM", None, Method::Options);
    assert_eq!(a, server(BRANCH, "pc33.atlanta.com", None, Method::Options));
    assert_eq!(a.sent_by_host(), "pc33.atlanta.com");
    assert_eq!(a.sent_by_port(), None);
    assert_ne!(
        a,
        server(BRANCH, "pc33.atlanta.com", Some(5060), Method::Options)
    );
    assert_eq!(
        server(BRANCH, "[2001:DB8::1]", Some(5060), Method::Options),
        server(BRANCH, "[2001:db8::1]", Some(5060), Method::Options)
    );
    // Branches compare byte for byte.
    assert_ne!(
        a,
        server(
            "z9hG4bK776ASDHDS",
            "pc33.atlanta.com",
            None,
            Method::Options
        )
    );
}

/// §17.2.3, §9.2: CANCEL has its own server transaction, which names the INVITE it cancels.
#[test]
fn cancel_and_invite_are_distinct() {
    let invite = server(BRANCH, "pc33.atlanta.com", None, Method::Invite);
    let cancel = server(BRANCH, "pc33.atlanta.com", None, Method::Cancel);
    assert_ne!(invite, cancel);
    assert_eq!(cancel.method(), Method::Cancel);
    assert_eq!(cancel.cancelled_invite().as_ref(), Some(&invite));
    assert_eq!(invite.cancelled_invite(), None);
    // §17.1.3: client side too: the CANCEL's response is not the INVITE's.
    let ci = ClientKey::new(BRANCH, Method::Invite).unwrap();
    let cc = ClientKey::new(BRANCH, Method::Cancel).unwrap();
    assert_ne!(ci, cc);
    assert_eq!(cc.method(), Method::Cancel);
    assert_eq!(ci.branch(), BRANCH);
}

/// §17.2.3: the ACK for a non-2xx reuses the INVITE's branch and matches its server
/// transaction; the ACK for a 2xx has a new branch and matches none (§17.1.1.3, §13.2.2.4).
#[test]
fn ack_matching() {
    let mut table = HashMap::new();
    let invite = server(BRANCH, "client.biloxi.com", Some(5060), Method::Invite);
    table.insert(invite.clone(), "invite-tx");
    let ack_non2xx = server(BRANCH, "client.biloxi.com", Some(5060), Method::Ack);
    assert_eq!(ack_non2xx, invite);
    assert_eq!(ack_non2xx.method(), Method::Invite);
    assert_eq!(table.get(&ack_non2xx), Some(&"invite-tx"));
    let ack_2xx = server(
        "z9hG4bKnew2xxack",
        "client.biloxi.com",
        Some(5060),
        Method::Ack,
    );
    assert_eq!(table.get(&ack_2xx), None);
}

/// §17.1.3: a response matches the client transaction with its branch and CSeq method.
#[test]
fn client_response_matching() {
    let mut table = HashMap::new();
    table.insert(ClientKey::new(BRANCH, Method::Register).unwrap(), 1);
    table.insert(ClientKey::new("z9hG4bKother", Method::Register).unwrap(), 2);
    assert_eq!(
        table.get(&ClientKey::new(BRANCH, Method::Register).unwrap()),
        Some(&1)
    );
    assert_eq!(
        table.get(&ClientKey::new(BRANCH, Method::Options).unwrap()),
        None
    );
    assert_eq!(
        table.get(&ClientKey::new("z9hG4bKother", Method::Register).unwrap()),
        Some(&2)
    );
    // Extension methods work too.
    let e = ClientKey::new(BRANCH, Method::Extension("FOO")).unwrap();
    assert_eq!(e.method(), Method::Extension("FOO"));
}

/// RFC 4475 §3.4.1 `inv2543` (no branch, no From tag): the RFC 3261 key is refused and the
/// §17.2.3 RFC 2543 fallback matches retransmissions and the ACK.
#[test]
fn rfc2543_inv2543() {
    // Components copied by hand from the message:
    //   INVITE sip:UserB@example.com SIP/2.0
    //   Via: SIP/2.0/UDP iftgw.example.com
    //   From: <sip:+13035551111@ift.client.example.net;user=phone>
    //   To: sip:+16505552222@ss1.example.net;user=phone
    //   Call-ID: inv2543.1717@ift.client.example.com
    //   CSeq: 56 INVITE
    let uri = "sip:UserB@example.com";
    let via = "SIP/2.0/UDP iftgw.example.com";
    let call_id = "inv2543.1717@ift.client.example.com";
    let branch = ""; // no branch parameter at all
    assert!(!is_rfc3261_branch(branch));
    assert_eq!(
        ServerKey::new(branch, "iftgw.example.com", None, Method::Invite),
        Err(KeyError::NotRfc3261Branch)
    );
    let key = |to_tag, cseq, via: &str, m| {
        LegacyKey::new(uri, to_tag, "", call_id, cseq, via, m).unwrap()
    };
    let invite = key(None, 56, via, Method::Invite);
    assert_eq!(invite.cseq(), 56);
    let mut table = HashMap::new();
    table.insert(invite.clone(), "tx");
    // Retransmission (surrounding whitespace in the Via value does not matter).
    assert_eq!(
        table.get(&key(
            None,
            56,
            " SIP/2.0/UDP iftgw.example.com ",
            Method::Invite
        )),
        Some(&"tx")
    );
    // The server sent 486 with To tag "a48s": index the ACK key too.
    let ack_key = invite.for_ack("a48s").unwrap();
    assert_eq!(ack_key.to_tag(), "a48s");
    table.insert(ack_key, "tx");
    assert_eq!(
        table.get(&key(Some("a48s"), 56, via, Method::Ack)),
        Some(&"tx")
    );
    // An ACK with another To tag, another CSeq or another Via is not this transaction.
    assert_eq!(table.get(&key(Some("zzzz"), 56, via, Method::Ack)), None);
    assert_eq!(table.get(&key(Some("a48s"), 57, via, Method::Ack)), None);
    assert_eq!(
        table.get(&key(
            Some("a48s"),
            56,
            "SIP/2.0/UDP other.example.com",
            Method::Ack
        )),
        None
    );
    // CANCEL (same CSeq number) is its own transaction.
    assert_eq!(table.get(&key(None, 56, via, Method::Cancel)), None);
}

/// §8.2.2.2: same From tag, Call-ID and CSeq but another branch → 482.
#[test]
fn merged_request_is_detected() {
    let mk = |n| {
        MergeKey::new(
            "9fxced76sl",
            "3848276298220188511@atlanta.example.com",
            n,
            Method::Invite,
        )
        .unwrap()
    };
    let mut ongoing: HashMap<MergeKey, ServerKey> = HashMap::new();
    let via_a = server(
        "z9hG4bK-path-a",
        "proxy-a.example.com",
        None,
        Method::Invite,
    );
    ongoing.insert(mk(1), via_a.clone());
    // The same request arriving over a second path (forked upstream, merged here).
    let via_b = server(
        "z9hG4bK-path-b",
        "proxy-b.example.com",
        None,
        Method::Invite,
    );
    assert_eq!(
        merge_check(false, &via_b, ongoing.get(&mk(1))),
        MergeVerdict::Merged
    );
    // A retransmission of the first is not merged.
    assert_eq!(
        merge_check(false, &via_a, ongoing.get(&mk(1))),
        MergeVerdict::NotMerged
    );
    // In-dialog requests (To tag present) are never merged by this rule.
    assert_eq!(
        merge_check(true, &via_b, ongoing.get(&mk(1))),
        MergeVerdict::NotMerged
    );
    // A new CSeq, or a different method, is a new request.
    assert_eq!(
        merge_check(false, &via_b, ongoing.get(&mk(2))),
        MergeVerdict::NotMerged
    );
    let cancel = MergeKey::new(
        "9fxced76sl",
        "3848276298220188511@atlanta.example.com",
        1,
        Method::Cancel,
    )
    .unwrap();
    assert!(!ongoing.contains_key(&cancel));
}

/// Overflow is a typed error, never a truncation; the exact capacities fit.
#[test]
fn capacity_overflow_is_typed() {
    let long = |n| "z9hG4bK".to_string() + &"x".repeat(n - 7);
    assert!(ServerKey::new(&long(MAX_BRANCH), "h", None, Method::Invite).is_ok());
    assert_eq!(
        ServerKey::new(&long(MAX_BRANCH + 1), "h", None, Method::Invite),
        Err(KeyError::Capacity(Capacity::Branch))
    );
    assert_eq!(
        ClientKey::new(&long(MAX_BRANCH + 1), Method::Invite),
        Err(KeyError::Capacity(Capacity::Branch))
    );
    assert!(ServerKey::new(BRANCH, &"h".repeat(MAX_SENT_BY_HOST), None, Method::Invite).is_ok());
    assert_eq!(
        ServerKey::new(
            BRANCH,
            &"h".repeat(MAX_SENT_BY_HOST + 1),
            None,
            Method::Invite
        ),
        Err(KeyError::Capacity(Capacity::SentBy))
    );
    let method = "M".repeat(MAX_METHOD + 1);
    assert_eq!(
        ClientKey::new(BRANCH, Method::Extension(&method)),
        Err(KeyError::Capacity(Capacity::String))
    );
    assert_eq!(
        MergeKey::new("t", &"c".repeat(MAX_CALL_ID + 1), 1, Method::Invite),
        Err(KeyError::Capacity(Capacity::String))
    );
    assert_eq!(
        LegacyKey::new(
            "sip:a@b",
            None,
            "",
            &"c".repeat(MAX_CALL_ID + 1),
            1,
            "v",
            Method::Invite
        ),
        Err(KeyError::Capacity(Capacity::String))
    );
    assert_eq!(
        KeyError::Capacity(Capacity::Branch).to_string(),
        "key capacity: Via branch too long"
    );
    assert_eq!(
        KeyError::NotRfc3261Branch.to_string(),
        "branch lacks the z9hG4bK magic cookie"
    );
}

/// §8.1.1.7: generated branches carry the cookie and all 64 bits of host randomness.
#[test]
fn generated_branches() {
    let a = generate_branch(0);
    let b = generate_branch(u64::MAX);
    assert_eq!(a.as_str(), "z9hG4bK0000000000000000");
    assert_eq!(b.as_str(), "z9hG4bKffffffffffffffff");
    assert_eq!(a.len(), BRANCH_LEN);
    assert!(is_rfc3261_branch(&a));
    assert_ne!(generate_branch(1), generate_branch(1 << 32));
    assert!(ServerKey::new(&b, "h", None, Method::Invite).is_ok());
}
