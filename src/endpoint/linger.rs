//! Compact records for transactions that only wait out Timer J, Timer L or Timer M.
//!
//! After its final response, a non-INVITE server transaction over UDP lives on for
//! 64*T1 (Timer J, RFC 3261 §17.2.2) only to answer a retransmitted request with that
//! response again; an INVITE server transaction whose 2xx has been acknowledged waits
//! out Timer L (RFC 6026 §7.1, 64*T1) only to absorb retransmitted INVITEs. Both must
//! also still count for merged-request detection (RFC 3261 §8.2.2.2). Kept as full
//! transaction entries (request and response buffers, timers, a handle), they cap a
//! UAS at `table size / 64*T1` calls per second: 65,000 entries hold about 1,000 calls
//! per second.
//!
//! A client INVITE transaction in Accepted (RFC 6026 §7.2, Timer M, 64*T1) likewise only
//! waits for 2xx responses from other forks, to ACK and BYE them: it keeps its INVITE,
//! from which their dialogs are built, and the call it belongs to. A re-INVITE in
//! Accepted only waits for its 2xx again, to ACK it: it keeps the same.
//!
//! Here such a transaction becomes a record: its key and merge key (as the bytes their
//! `Hash` implementations write, which determine them, after a byte that tells server
//! keys from client keys), its peer, its call and its last response (a client's: its
//! INVITE), appended to a byte ring. Every record waits the same 64*T1 from a monotonic `now`, so
//! records expire first in, first out: no timers, no per-record handles, no
//! fragmentation. Two open-addressing indexes find a record by key or merge key.
//!
//! The storage is allocated once, when the endpoint is made, so it needs the `alloc`
//! feature; without it the store has no room and every transaction stays a full entry.

use core::hash::Hash;
#[cfg(feature = "alloc")]
use core::hash::Hasher;
use core::net::SocketAddr;

use super::CallHandle;
use crate::time::Instant;
use crate::transaction::{ClientKey, MergeKey, key::RequestKey};

use super::table::HashKey;

/// Room for the bytes one key writes through `Hash` (the largest, an RFC 2543 key, is a
/// little over 500).
#[cfg(feature = "alloc")]
const KEY_BYTES: usize = 768;

/// A key's `Hash` output, kept as bytes: equal keys write equal bytes, and every field
/// writes a self-delimiting form (strings end with 0xFF, which UTF-8 never holds), so
/// unequal keys write unequal bytes.
#[cfg(feature = "alloc")]
struct KeyBytes(heapless::Vec<u8, KEY_BYTES>, bool);

#[cfg(feature = "alloc")]
impl Hasher for KeyBytes {
    fn finish(&self) -> u64 {
        0
    }

    fn write(&mut self, bytes: &[u8]) {
        if self.0.extend_from_slice(bytes).is_err() {
            self.1 = true;
        }
    }
}

/// Which kind of key a record is found by: a server transaction's (RFC 3261 §17.2.3) or
/// a client transaction's (§17.1.3). Written first, so that the two never compare equal.
#[derive(Clone, Copy)]
#[repr(u8)]
enum Kind {
    Server = 1,
    Client = 2,
}

#[cfg(feature = "alloc")]
impl KeyBytes {
    fn new() -> Self {
        KeyBytes(heapless::Vec::new(), false)
    }
}

/// The bytes of `key` in `out`, replacing what it held; `false` if they do not fit.
/// Written where they are used: a `KeyBytes` returned would be copied whole.
#[cfg(feature = "alloc")]
fn write_key<K: Hash>(out: &mut KeyBytes, kind: Kind, key: &K) -> bool {
    out.0.clear();
    out.1 = false;
    out.write(&[kind as u8]);
    key.hash(out);
    !out.1
}

#[cfg(all(test, feature = "alloc"))]
fn key_bytes<K: Hash>(kind: Kind, key: &K) -> Option<KeyBytes> {
    let mut k = KeyBytes::new();
    write_key(&mut k, kind, key).then_some(k)
}

#[cfg(feature = "alloc")]
fn hash32(key: HashKey, bytes: &[u8]) -> u32 {
    let mut h = key.hasher();
    h.write(bytes);
    let h = h.finish();
    // Zero marks an empty index slot.
    ((h >> 32) as u32 ^ h as u32).max(1)
}

/// Where the bytes of one record are, and what the record stands for.
#[cfg(feature = "alloc")]
#[derive(Clone, Copy, Debug)]
struct Record {
    deadline: Instant,
    peer: SocketAddr,
    call: Option<CallHandle>,
    /// Logical offset of the record's bytes: key, merge key, response.
    start: u64,
    key_len: u16,
    merge_len: u16,
    response_len: u16,
    key_hash: u32,
    merge_hash: u32,
}

#[cfg(feature = "alloc")]
impl Record {
    fn len(&self) -> u64 {
        u64::from(self.key_len) + u64::from(self.merge_len) + u64::from(self.response_len)
    }
}

/// Open addressing with linear probing: `(hash, seq)` pairs, hash 0 = empty.
#[cfg(feature = "alloc")]
struct Index {
    slots: alloc::vec::Vec<(u32, u32)>,
}

#[cfg(feature = "alloc")]
impl Index {
    fn new(records: usize) -> Self {
        // At most half full, so probe runs stay short.
        let size = (records.max(1) * 2).next_power_of_two();
        Index {
            slots: alloc::vec![(0, 0); size],
        }
    }

    fn mask(&self) -> usize {
        self.slots.len() - 1
    }

    fn insert(&mut self, hash: u32, seq: u32) {
        let mask = self.mask();
        let mut i = hash as usize & mask;
        while self.slots[i].0 != 0 {
            i = (i + 1) & mask;
        }
        self.slots[i] = (hash, seq);
    }

    /// Sequence numbers stored under `hash`.
    fn candidates(&self, hash: u32) -> impl Iterator<Item = u32> + '_ {
        let mask = self.mask();
        let start = hash as usize & mask;
        (0..self.slots.len())
            .map(move |n| self.slots[(start + n) & mask])
            .take_while(|&(h, _)| h != 0)
            .filter(move |&(h, _)| h == hash)
            .map(|(_, seq)| seq)
    }

    /// Remove `(hash, seq)`, shifting later entries of the probe run back so that no
    /// tombstones accumulate.
    fn remove(&mut self, hash: u32, seq: u32) {
        let mask = self.mask();
        let mut i = hash as usize & mask;
        loop {
            match self.slots[i] {
                (0, _) => return,
                (h, s) if h == hash && s == seq => break,
                _ => i = (i + 1) & mask,
            }
        }
        let mut hole = i;
        let mut j = i;
        loop {
            j = (j + 1) & mask;
            let (h, _) = self.slots[j];
            if h == 0 {
                break;
            }
            let home = h as usize & mask;
            // Move j into the hole unless its home lies cyclically in (hole, j].
            let stays = if hole <= j {
                hole < home && home <= j
            } else {
                hole < home || home <= j
            };
            if !stays {
                self.slots[hole] = self.slots[j];
                hole = j;
            }
        }
        self.slots[hole] = (0, 0);
    }
}

/// The store of lingering transactions (see the module docs).
pub(crate) struct Linger {
    #[cfg(feature = "alloc")]
    ring: alloc::vec::Vec<u8>,
    #[cfg(feature = "alloc")]
    records: alloc::collections::VecDeque<Record>,
    #[cfg(feature = "alloc")]
    capacity: usize,
    /// Sequence number of the oldest record.
    #[cfg(feature = "alloc")]
    first_seq: u32,
    /// Logical end of the newest record's bytes.
    #[cfg(feature = "alloc")]
    tail: u64,
    #[cfg(feature = "alloc")]
    by_key: Index,
    #[cfg(feature = "alloc")]
    by_merge: Index,
    /// The key of both indexes' hash (see `HashKey`).
    #[cfg(feature = "alloc")]
    key: HashKey,
    /// Room for a record's key and merge key as they are written: made (and zeroed)
    /// once, since a `KeyBytes` made fresh is zeroed each time.
    #[cfg(feature = "alloc")]
    scratch: alloc::boxed::Box<(KeyBytes, KeyBytes)>,
}

/// A lingering transaction found by its key.
pub(crate) struct Found<'a> {
    /// Where its responses went (server), where its request went (client).
    pub(crate) peer: SocketAddr,
    /// Server: its last response; empty for an INVITE transaction, whose 2xx the session
    /// sent. Client: its INVITE.
    pub(crate) response: &'a [u8],
    /// The call it belongs to (client INVITE).
    pub(crate) call: Option<CallHandle>,
}

impl Linger {
    /// Room for `records` records in `bytes` bytes (both 0: lingering is off), indexed
    /// by a hash keyed with `key`.
    #[cfg(feature = "alloc")]
    pub(crate) fn new(records: usize, bytes: usize, key: HashKey) -> Self {
        let records = records.min(u32::MAX as usize / 2);
        let bytes = if records == 0 { 0 } else { bytes };
        Linger {
            ring: alloc::vec![0; bytes],
            records: alloc::collections::VecDeque::with_capacity(records),
            capacity: records,
            first_seq: 0,
            tail: 0,
            by_key: Index::new(if bytes == 0 { 0 } else { records }),
            by_merge: Index::new(if bytes == 0 { 0 } else { records }),
            key,
            scratch: alloc::boxed::Box::new((KeyBytes::new(), KeyBytes::new())),
        }
    }

    /// Without `alloc` there is no storage: lingering is off.
    #[cfg(not(feature = "alloc"))]
    pub(crate) fn new(_records: usize, _bytes: usize, _key: HashKey) -> Self {
        Linger {}
    }

    /// Number of records.
    pub(crate) fn len(&self) -> usize {
        #[cfg(feature = "alloc")]
        return self.records.len();
        #[cfg(not(feature = "alloc"))]
        0
    }

    /// When the oldest record expires.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        #[cfg(feature = "alloc")]
        return self.records.front().map(|r| r.deadline);
        #[cfg(not(feature = "alloc"))]
        None
    }

    /// Drop every record whose deadline has passed.
    pub(crate) fn expire(&mut self, now: Instant) {
        #[cfg(feature = "alloc")]
        while let Some(r) = self.records.front().copied() {
            if r.deadline > now {
                break;
            }
            self.by_key.remove(r.key_hash, self.first_seq);
            if r.merge_len > 0 {
                self.by_merge.remove(r.merge_hash, self.first_seq);
            }
            self.records.pop_front();
            self.first_seq = self.first_seq.wrapping_add(1);
        }
        #[cfg(not(feature = "alloc"))]
        let _ = now;
    }

    /// Store a transaction; `false` (and nothing stored) if there is no room, in which
    /// case the caller keeps the full transaction. A `deadline` earlier than the newest
    /// record's is moved up to it, so that records stay in expiry order: an INVITE whose
    /// ACK came late waits out its Timer L a little longer (never beyond 64*T1 from the
    /// newest record), which only absorbs retransmissions longer.
    pub(crate) fn push(
        &mut self,
        deadline: Instant,
        key: &RequestKey,
        merge: Option<&MergeKey>,
        peer: SocketAddr,
        response: &[u8],
    ) -> bool {
        self.push_record(
            deadline,
            Kind::Server,
            key,
            merge,
            peer,
            (response, &[], 0),
            None,
        )
    }

    /// Store a client transaction: for a call's INVITE in Accepted its `invite` and
    /// `trailer` then `room` bytes `0xFF` (room the endpoint writes into later,
    /// [`Linger::payload_mut`]; filled in the ring, not in a buffer copied there), where
    /// it went, and its call; `false` (nothing stored) if there is no room. Deadlines as
    /// for [`push`](Self::push).
    pub(crate) fn push_client(
        &mut self,
        deadline: Instant,
        key: &ClientKey,
        peer: SocketAddr,
        (invite, trailer, room): (&[u8], &[u8], usize),
        call: Option<CallHandle>,
    ) -> bool {
        self.push_record(
            deadline,
            Kind::Client,
            key,
            None,
            peer,
            (invite, trailer, room),
            call,
        )
    }

    /// The stored bytes (`invite` then `trailer`) of client transaction `key`, to write
    /// into in place.
    pub(crate) fn payload_mut(&mut self, key: &ClientKey) -> Option<&mut [u8]> {
        #[cfg(feature = "alloc")]
        {
            let probe = self.probe_kind(Kind::Client, key)?;
            let seq = self.by_key.candidates(probe.hash).find(|&seq| {
                self.record(seq).is_some_and(|r| {
                    self.bytes(r).get(..usize::from(r.key_len)) == Some(&probe.bytes.0[..])
                })
            })?;
            let r = *self.record(seq)?;
            let size = self.ring.len() as u64;
            let at = (r.start % size) as usize + usize::from(r.key_len) + usize::from(r.merge_len);
            self.ring.get_mut(at..at + usize::from(r.response_len))
        }
        #[cfg(not(feature = "alloc"))]
        {
            let _ = key;
            None
        }
    }

    #[allow(clippy::too_many_arguments)] // one private constructor for every kind
    fn push_record<K: Hash>(
        &mut self,
        deadline: Instant,
        kind: Kind,
        key: &K,
        merge: Option<&MergeKey>,
        peer: SocketAddr,
        (response, trailer, room): (&[u8], &[u8], usize),
        call: Option<CallHandle>,
    ) -> bool {
        #[cfg(feature = "alloc")]
        {
            let (k, m) = &mut *self.scratch;
            if !write_key(k, kind, key) {
                return false;
            }
            if let Some(merge) = merge
                && !write_key(m, Kind::Server, merge)
            {
                return false;
            }
            let (k, m) = &*self.scratch;
            let m_bytes: &[u8] = if merge.is_some() { &m.0 } else { &[] };
            let (Ok(response_len), Ok(merge_len)) = (
                u16::try_from(response.len() + trailer.len() + room),
                u16::try_from(m_bytes.len()),
            ) else {
                return false;
            };
            if self.records.len() >= self.capacity {
                return false;
            }
            let deadline = self
                .records
                .back()
                .map_or(deadline, |r| r.deadline.max(deadline));
            let record_len =
                (k.0.len() + m_bytes.len() + response.len() + trailer.len() + room) as u64;
            let Some(start) = self.place(record_len) else {
                return false;
            };
            let mut at = (start % self.ring.len() as u64) as usize;
            for part in [&k.0[..], m_bytes, response, trailer] {
                self.ring[at..at + part.len()].copy_from_slice(part);
                at += part.len();
            }
            self.ring[at..at + room].fill(0xFF);
            let seq = self.first_seq.wrapping_add(self.records.len() as u32);
            let r = Record {
                deadline,
                peer,
                call,
                start,
                key_len: k.0.len() as u16,
                merge_len,
                response_len,
                key_hash: hash32(self.key, &k.0),
                merge_hash: if m_bytes.is_empty() {
                    0
                } else {
                    hash32(self.key, m_bytes)
                },
            };
            self.by_key.insert(r.key_hash, seq);
            if r.merge_len > 0 {
                self.by_merge.insert(r.merge_hash, seq);
            }
            self.records.push_back(r);
            self.tail = start + record_len;
            true
        }
        #[cfg(not(feature = "alloc"))]
        {
            let _ = (
                deadline, kind, key, merge, peer, response, trailer, room, call,
            );
            false
        }
    }

    /// The logical offset where `len` contiguous bytes fit after the newest record
    /// without overwriting the oldest, skipping the ring's end if they would straddle it.
    #[cfg(feature = "alloc")]
    fn place(&self, len: u64) -> Option<u64> {
        let size = self.ring.len() as u64;
        if len > size {
            return None;
        }
        let head = self.records.front().map_or(self.tail, |r| r.start);
        let mut start = self.tail;
        if start % size + len > size {
            start += size - start % size;
        }
        (start + len - head <= size).then_some(start)
    }

    #[cfg(feature = "alloc")]
    fn record(&self, seq: u32) -> Option<&Record> {
        self.records.get(seq.wrapping_sub(self.first_seq) as usize)
    }

    #[cfg(feature = "alloc")]
    fn bytes(&self, r: &Record) -> &[u8] {
        let at = (r.start % self.ring.len() as u64) as usize;
        &self.ring[at..at + r.len() as usize]
    }

    /// `key` as the records hold it, for [`Linger::find`] and [`Linger::is_merged`];
    /// `None` when there is no record to look at.
    pub(crate) fn probe(&self, key: &RequestKey) -> Option<Probe> {
        self.probe_kind(Kind::Server, key)
    }

    /// A client transaction's `key` as the records hold it (see [`Linger::probe`]).
    pub(crate) fn probe_client(&self, key: &ClientKey) -> Option<Probe> {
        self.probe_kind(Kind::Client, key)
    }

    fn probe_kind<K: Hash>(&self, kind: Kind, key: &K) -> Option<Probe> {
        #[cfg(feature = "alloc")]
        {
            if self.records.is_empty() {
                return None;
            }
            let mut probe = Probe {
                bytes: KeyBytes::new(),
                hash: 0,
            };
            if !write_key(&mut probe.bytes, kind, key) {
                return None;
            }
            probe.hash = hash32(self.key, &probe.bytes.0);
            Some(probe)
        }
        #[cfg(not(feature = "alloc"))]
        {
            let _ = (kind, key);
            None
        }
    }

    /// The lingering transaction with the probed key.
    pub(crate) fn find(&self, key: &Probe) -> Option<Found<'_>> {
        #[cfg(feature = "alloc")]
        {
            self.by_key.candidates(key.hash).find_map(|seq| {
                let r = self.record(seq)?;
                let bytes = self.bytes(r);
                let (key_part, rest) = bytes.split_at(usize::from(r.key_len));
                (key_part == &key.bytes.0[..]).then(|| Found {
                    peer: r.peer,
                    response: &rest[usize::from(r.merge_len)..],
                    call: r.call,
                })
            })
        }
        #[cfg(not(feature = "alloc"))]
        {
            let _ = key;
            None
        }
    }

    /// Whether a record has merge key `merge` but a transaction key other than the
    /// probed one (RFC 3261 §8.2.2.2).
    pub(crate) fn is_merged(&self, merge: &MergeKey, key: &Probe) -> bool {
        #[cfg(feature = "alloc")]
        {
            let mut m = KeyBytes::new();
            if !write_key(&mut m, Kind::Server, merge) {
                return false;
            }
            self.by_merge.candidates(hash32(self.key, &m.0)).any(|seq| {
                self.record(seq).is_some_and(|r| {
                    let bytes = self.bytes(r);
                    let (key_part, rest) = bytes.split_at(usize::from(r.key_len));
                    rest[..usize::from(r.merge_len)] == m.0[..] && key_part != &key.bytes.0[..]
                })
            })
        }
        #[cfg(not(feature = "alloc"))]
        {
            let _ = (merge, key);
            false
        }
    }
}

/// A request key serialized and hashed once, for the lookups of one request.
pub(crate) struct Probe {
    #[cfg(feature = "alloc")]
    bytes: KeyBytes,
    #[cfg(feature = "alloc")]
    hash: u32,
}

#[cfg(all(test, feature = "alloc"))]
mod tests {
    use super::*;
    use crate::message::Method;
    use crate::transaction::ServerKey;

    fn key(branch: &str) -> RequestKey {
        RequestKey::Rfc3261(ServerKey::new(branch, "host", Some(5060), Method::Bye).unwrap())
    }

    impl Linger {
        fn find_key(&self, k: &RequestKey) -> Option<Found<'_>> {
            self.find(&self.probe(k)?)
        }

        fn merged_key(&self, m: &MergeKey, k: &RequestKey) -> bool {
            self.probe(k).is_some_and(|p| self.is_merged(m, &p))
        }
    }

    fn peer() -> SocketAddr {
        "127.0.0.1:5060".parse().unwrap()
    }

    /// A client record's payload is its invite, its trailer, then `room` bytes 0xFF:
    /// what the endpoint stored before as one trailer buffer padded with 0xFF.
    #[cfg(feature = "alloc")]
    #[test]
    fn client_record_room_is_filled_with_ff() {
        let mut l = Linger::new(4, 4096, HashKey(1, 2));
        for (i, (invite, trailer, room)) in [
            (&b"INVITE"[..], &b"\x01tag\0\0\0\x02"[..], 9),
            (&b"x"[..], &b""[..], 0),
            (&b""[..], &b"ab"[..], 1),
        ]
        .into_iter()
        .enumerate()
        {
            let branch = ["z9hG4bKroom0", "z9hG4bKroom1", "z9hG4bKroom2"][i];
            let k = ClientKey::new(branch, Method::Invite).unwrap();
            assert!(l.push_client(
                Instant::from_millis(10),
                &k,
                peer(),
                (invite, trailer, room),
                None
            ));
            let mut padded = trailer.to_vec();
            padded.resize(trailer.len() + room, 0xFF);
            let expected = [invite, &padded[..]].concat();
            assert_eq!(l.payload_mut(&k).map(|p| p.to_vec()), Some(expected));
        }
    }

    #[test]
    fn finds_by_key_and_expires_in_order() {
        let mut l = Linger::new(4, 1024, HashKey(1, 2));
        let m = MergeKey::new("ft", "cid", 1, Method::Bye).unwrap();
        assert!(l.push(
            Instant::from_millis(10),
            &key("z9hG4bKa"),
            Some(&m),
            peer(),
            b"resp-a"
        ));
        assert!(l.push(
            Instant::from_millis(20),
            &key("z9hG4bKb"),
            None,
            peer(),
            b"resp-b"
        ));
        assert_eq!(l.find_key(&key("z9hG4bKa")).unwrap().response, b"resp-a");
        assert_eq!(l.find_key(&key("z9hG4bKb")).unwrap().response, b"resp-b");
        assert!(l.find_key(&key("z9hG4bKc")).is_none());
        assert!(l.merged_key(&m, &key("z9hG4bKother")));
        assert!(!l.merged_key(&m, &key("z9hG4bKa")));
        // An earlier deadline is moved up to the newest record's: expiry stays FIFO.
        assert!(l.push(Instant::from_millis(5), &key("z9hG4bKd"), None, peer(), b""));
        l.expire(Instant::from_millis(10));
        assert_eq!(l.len(), 2);
        assert!(l.find_key(&key("z9hG4bKa")).is_none());
        assert!(!l.merged_key(&m, &key("z9hG4bKother")));
        assert_eq!(l.next_deadline(), Some(Instant::from_millis(20)));
        assert!(l.find_key(&key("z9hG4bKd")).is_some());
        l.expire(Instant::from_millis(19));
        assert_eq!(l.len(), 2);
        l.expire(Instant::from_millis(20));
        assert_eq!(l.len(), 0);
        assert_eq!(l.next_deadline(), None);
    }

    #[test]
    fn refuses_when_full_and_wraps_the_ring() {
        let mut l = Linger::new(3, 200, HashKey(1, 2));
        let resp = [b'x'; 60];
        let mut pushed = 0;
        for i in 0..3 {
            let b = alloc::format!("z9hG4bK{i}");
            pushed += usize::from(l.push(Instant::from_millis(i), &key(&b), None, peer(), &resp));
        }
        // Each record is the key bytes plus 60 bytes: two fit in 200 bytes, not three.
        assert_eq!(pushed, 2);
        l.expire(Instant::from_millis(0));
        // The freed front makes room again, across the end of the ring.
        assert!(l.push(
            Instant::from_millis(5),
            &key("z9hG4bKw"),
            None,
            peer(),
            &resp
        ));
        assert_eq!(l.find_key(&key("z9hG4bKw")).unwrap().response, &resp[..]);
        assert_eq!(l.find_key(&key("z9hG4bK1")).unwrap().response, &resp[..]);
        let off = Linger::new(0, 1 << 20, HashKey(1, 2));
        assert_eq!(off.len(), 0);
    }

    #[test]
    fn index_survives_many_collisions_and_removals() {
        let mut idx = Index::new(8);
        // Same home slot for all: a long probe run, then removals from its middle.
        for seq in 0..8 {
            idx.insert(16 + 16 * seq, seq);
        }
        idx.remove(16 + 16 * 3, 3);
        idx.remove(16, 0);
        for seq in [1, 2, 4, 5, 6, 7] {
            assert_eq!(
                idx.candidates(16 + 16 * seq)
                    .collect::<alloc::vec::Vec<_>>(),
                [seq]
            );
        }
        assert_eq!(idx.candidates(16 + 16 * 3).count(), 0);
    }

    /// Hash flooding of the records' index (see `HashKey`): keys a peer chose so that
    /// their unkeyed FNV-1a hash (the index hash before it was keyed) has one home slot
    /// spread under the keyed hash, instead of making one probe run of them all.
    #[test]
    fn keys_chosen_for_one_home_slot_spread() {
        fn fnv32(bytes: &[u8]) -> u32 {
            let mut h = 0xcbf2_9ce4_8422_2325u64;
            for &b in bytes {
                h ^= u64::from(b);
                h = h.wrapping_mul(0x0100_0000_01b3);
            }
            ((h >> 32) as u32 ^ h as u32).max(1)
        }
        let idx = Index::new(64);
        let mask = idx.mask() as u32;
        let mut homes = alloc::vec![0usize; idx.slots.len()];
        let (mut chosen, mut i) = (0, 0);
        while chosen < 32 {
            let k = key_bytes(Kind::Server, &key(&alloc::format!("z9hG4bK{i}"))).unwrap();
            i += 1;
            if fnv32(&k.0) & mask != 0 {
                continue;
            }
            homes[(hash32(HashKey(7, 11), &k.0) & mask) as usize] += 1;
            chosen += 1;
        }
        let most = homes.into_iter().max().unwrap();
        assert!(most <= 6, "{most} keys share a home slot");
    }
}
