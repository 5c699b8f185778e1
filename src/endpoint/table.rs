//! A fixed-capacity table of slots addressed by generation-checked handles.

use crate::transaction::{ClientKey, MergeKey, key::RequestKey};

/// A slot index plus the generation it was allocated in: a handle to a freed and
/// reused slot no longer resolves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub(crate) struct RawHandle {
    pub(crate) index: u16,
    pub(crate) generation: u32,
}

struct Slot<T> {
    generation: u32,
    /// Whether the slot is taken. A freed slot keeps its last value (see
    /// [`Table::insert_reusing`]), so `value` alone does not say.
    live: bool,
    value: Option<T>,
}

/// `N` slots of `T`, no allocation.
pub(crate) struct Table<T, const N: usize> {
    slots: [Slot<T>; N],
    len: usize,
    /// Where the search for a free slot starts: just after the last one taken. Slots
    /// mostly free up in the order they were taken (timers expire in order), so the
    /// search is short.
    hint: usize,
}

impl<T, const N: usize> Table<T, N> {
    pub(crate) fn new() -> Self {
        Table {
            slots: core::array::from_fn(|_| Slot {
                generation: 0,
                live: false,
                value: None,
            }),
            len: 0,
            hint: 0,
        }
    }

    /// Put `value` in a free slot; `None` when full.
    #[inline(always)]
    pub(crate) fn insert(&mut self, value: T) -> Option<RawHandle> {
        self.insert_with(|| value)
    }

    /// Put the value `make` returns in a free slot; `None` (and `make` not called) when
    /// full. Entries are large: made once a slot is known, they are written straight
    /// into it rather than built on the stack and copied in.
    #[inline(always)]
    pub(crate) fn insert_with(&mut self, make: impl FnOnce() -> T) -> Option<RawHandle> {
        self.insert_reusing(|slot| *slot = Some(make()))
    }

    /// Fill a free slot in place; `None` (and `fill` not called) when full. `fill` gets
    /// the value the slot last held, if any, and must leave a value there: entries
    /// with large buffers overwrite the old one and keep its buffers, since making a
    /// new `heapless::Vec` writes all of its capacity.
    #[inline(always)]
    pub(crate) fn insert_reusing(
        &mut self,
        fill: impl FnOnce(&mut Option<T>),
    ) -> Option<RawHandle> {
        self.try_insert_reusing(|slot| {
            fill(slot);
            slot.is_some()
        })
    }

    /// [`insert_reusing`](Self::insert_reusing) where `fill` may fail (`false`): the slot
    /// is then not taken, and keeps what `fill` left for the next one to overwrite.
    #[inline(always)]
    pub(crate) fn try_insert_reusing(
        &mut self,
        fill: impl FnOnce(&mut Option<T>) -> bool,
    ) -> Option<RawHandle> {
        if self.len >= N {
            return None;
        }
        let (after, before) = self.slots.split_at(self.hint.min(N));
        let index = before
            .iter()
            .position(|s| !s.live)
            .map(|i| i + after.len())
            .or_else(|| after.iter().position(|s| !s.live))?;
        let handle_index = u16::try_from(index).ok()?;
        let slot = &mut self.slots[index];
        // A fill that failed or left nothing takes no slot (and the search starts where
        // it did).
        if !fill(&mut slot.value) || slot.value.is_none() {
            return None;
        }
        self.hint = (index + 1) % N;
        slot.generation = slot.generation.wrapping_add(1);
        slot.live = true;
        self.len += 1;
        Some(RawHandle {
            index: handle_index,
            generation: slot.generation,
        })
    }

    pub(crate) fn get(&self, h: RawHandle) -> Option<&T> {
        let slot = self.slots.get(usize::from(h.index))?;
        if !slot.live || slot.generation != h.generation {
            return None;
        }
        slot.value.as_ref()
    }

    pub(crate) fn get_mut(&mut self, h: RawHandle) -> Option<&mut T> {
        let slot = self.slots.get_mut(usize::from(h.index))?;
        if !slot.live || slot.generation != h.generation {
            return None;
        }
        slot.value.as_mut()
    }

    pub(crate) fn remove(&mut self, h: RawHandle) -> Option<T> {
        let slot = self.slots.get_mut(usize::from(h.index))?;
        if !slot.live || slot.generation != h.generation {
            return None;
        }
        slot.live = false;
        self.len -= 1;
        slot.value.take()
    }

    /// Free the slot of `h` without moving its value out (entries are large; moving one
    /// costs a copy). The value stays for [`insert_reusing`](Self::insert_reusing) to
    /// overwrite. Whether `h` was live.
    pub(crate) fn free(&mut self, h: RawHandle) -> bool {
        let Some(slot) = self.slots.get_mut(usize::from(h.index)) else {
            return false;
        };
        if !slot.live || slot.generation != h.generation {
            return false;
        }
        slot.live = false;
        self.len -= 1;
        true
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The value slot `index` holds, live or not (a freed slot keeps its value until
    /// an insert reuses it).
    pub(crate) fn value_at(&self, index: u16) -> Option<&T> {
        self.slots.get(usize::from(index))?.value.as_ref()
    }

    /// Whether slot `index` is live.
    pub(crate) fn is_live(&self, index: u16) -> bool {
        self.slots.get(usize::from(index)).is_some_and(|s| s.live)
    }

    /// Every live slot with its handle. Exactly `len` slots are live: the walk stops
    /// after the last of them (at once for an empty table, such as the registrations
    /// looked through for every final response outside a call).
    pub(crate) fn iter(&self) -> impl Iterator<Item = (RawHandle, &T)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| {
                let v = s.value.as_ref().filter(|_| s.live)?;
                // Indices fit u16: tables are created with N < 65536 (checked in `Endpoint::new`).
                Some((
                    RawHandle {
                        index: i as u16,
                        generation: s.generation,
                    },
                    v,
                ))
            })
            .take(self.len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_handles_do_not_resolve() {
        let mut t: Table<u8, 2> = Table::new();
        let a = t.insert(1).unwrap();
        let b = t.insert(2).unwrap();
        assert!(t.insert(3).is_none());
        assert_eq!(t.remove(a), Some(1));
        let c = t.insert(4).unwrap();
        assert_eq!(c.index, a.index);
        assert_eq!(t.get(a), None);
        assert_eq!(t.get(c), Some(&4));
        assert_eq!(t.get(b), Some(&2));
        assert_eq!(t.len(), 2);
        assert_eq!(t.handle_at(b.index), Some(b));
        assert!(t.free(b));
        assert!(!t.free(b));
        assert_eq!(t.get(b), None);
        assert_eq!(t.len(), 1);
        assert_eq!(t.handle_at(b.index), None);
        assert_eq!(t.iter().count(), 1);
    }

    /// Iteration stops after the last live slot yet yields every live one, in order,
    /// whatever the slots freed and taken before.
    #[test]
    fn iteration_yields_every_live_slot() {
        let mut t: Table<u32, 6> = Table::new();
        let mut live: std::vec::Vec<Option<RawHandle>> = std::vec![None; 6];
        let mut x: u32 = 0x1234_5678;
        for step in 0..3000u32 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            if x.is_multiple_of(3) {
                if let Some(h) = t.insert(step) {
                    live[usize::from(h.index)] = Some(h);
                }
            } else if let Some(h) = live[(x as usize / 3) % 6].take() {
                assert!(t.free(h));
            }
            let want: std::vec::Vec<RawHandle> = live.iter().flatten().copied().collect();
            let got: std::vec::Vec<RawHandle> = t.iter().map(|(h, _)| h).collect();
            assert_eq!(got, want);
            assert!(t.iter().all(|(h, v)| t.get(h) == Some(v)));
        }
    }

    /// A freed slot keeps its value for `insert_reusing`, which sees it; the freed
    /// handle and iteration do not.
    #[test]
    fn freed_values_are_offered_for_reuse() {
        let mut t: Table<u32, 1> = Table::new();
        let a = t
            .insert_reusing(|v| *v = Some(v.map_or(1, |old| old + 10)))
            .unwrap();
        assert_eq!(t.get(a), Some(&1));
        assert!(t.free(a));
        assert_eq!(t.get(a), None);
        assert_eq!(t.iter().count(), 0);
        assert_eq!(t.remove(a), None);
        let b = t
            .insert_reusing(|v| *v = Some(v.map_or(1, |old| old + 10)))
            .unwrap();
        assert_eq!(t.get(b), Some(&11));
        assert_eq!(t.get(a), None);
        // A fill that leaves nothing takes no slot.
        assert_eq!(t.remove(b), Some(11));
        assert!(t.insert_reusing(|v| *v = None).is_none());
        assert_eq!(t.len(), 0);
        assert!(t.insert(5).is_some());
        // A fill that fails takes no slot either; what it left is offered to the next.
        let mut t: Table<u32, 1> = Table::new();
        assert!(
            t.try_insert_reusing(|v| {
                *v = Some(7);
                false
            })
            .is_none()
        );
        assert_eq!((t.len(), t.iter().count()), (0, 0));
        let c = t
            .try_insert_reusing(|v| {
                *v = Some(v.map_or(1, |old| old + 1));
                true
            })
            .unwrap();
        assert_eq!(t.get(c), Some(&8));
    }
}

/// Deadlines of one transaction or call, with the earliest kept at hand so that
/// `poll_timeout` and `handle_timeout` look at one value per slot. Deadlines that are
/// equal fire in the order they were armed: [`Instant`](crate::time::Instant)
/// saturates at its end, where a retransmission timer re-armed by its firing must not
/// keep coming before the timeout armed earlier for the same (last) instant.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Timers<const N: usize> {
    /// Deadline `i` where bit `i` of `mask` is set; stale elsewhere. A bit mask rather
    /// than `Option`s: the scan for the earliest looks at the few armed ones only (a
    /// transaction has 14 timers, one to three armed).
    at: [crate::time::Instant; N],
    mask: u32,
    /// When each deadline was armed, by `armed` (a per-entry count; an entry lives far
    /// fewer than 2^32 arms).
    order: [u32; N],
    armed: u32,
    next: Option<crate::time::Instant>,
}

impl<const N: usize> Timers<N> {
    pub(crate) const fn new() -> Self {
        const { assert!(N <= 32, "one bit of `mask` per timer") };
        Timers {
            at: [crate::time::Instant::ZERO; N],
            mask: 0,
            order: [0; N],
            armed: 0,
            next: None,
        }
    }

    pub(crate) fn set(&mut self, i: usize, t: Option<crate::time::Instant>) {
        if let (Some(slot), Some(order)) = (self.at.get_mut(i), self.order.get_mut(i)) {
            let bit = 1u32 << i;
            let old = (self.mask & bit != 0).then_some(*slot);
            match t {
                Some(t) => {
                    *slot = t;
                    self.mask |= bit;
                }
                None => self.mask &= !bit,
            }
            self.armed = self.armed.wrapping_add(1);
            *order = self.armed;
            // Only moving the earliest deadline later needs a scan: otherwise the
            // earliest is the old one or the new deadline (most sets arm or cancel a
            // timer that is not the earliest, or replace it by an earlier one).
            self.next = match (old, self.next, t) {
                (Some(o), Some(n), Some(t)) if o == n && t <= n => Some(t),
                (Some(o), Some(n), _) if o == n => self.scan(),
                (_, Some(n), Some(t)) => Some(n.min(t)),
                (_, n, None) => n,
                (_, None, t) => t,
            };
        }
    }

    /// The earliest armed deadline, by a look at each armed one.
    fn scan(&self) -> Option<crate::time::Instant> {
        let mut m = self.mask;
        let mut best: Option<crate::time::Instant> = None;
        while m != 0 {
            let i = m.trailing_zeros() as usize;
            m &= m - 1;
            if let Some(&t) = self.at.get(i) {
                best = Some(best.map_or(t, |b| b.min(t)));
            }
        }
        best
    }

    /// Deadline `i`, if armed.
    pub(crate) fn get(&self, i: usize) -> Option<crate::time::Instant> {
        let armed = i < N && self.mask & (1 << i) != 0;
        self.at.get(i).copied().filter(|_| armed)
    }

    /// The earliest deadline.
    pub(crate) fn next(&self) -> Option<crate::time::Instant> {
        self.next
    }

    /// The index of the earliest deadline, the first armed among equal ones.
    pub(crate) fn earliest(&self) -> Option<usize> {
        let next = self.next?;
        // The armed ones only, in index order; the first of equal orders is kept, as
        // `min_by_key` keeps it.
        let mut m = self.mask;
        let mut best: Option<(u32, usize)> = None;
        while m != 0 {
            let i = m.trailing_zeros() as usize;
            m &= m - 1;
            if let (Some(&at), Some(&order)) = (self.at.get(i), self.order.get(i))
                && at == next
                && best.is_none_or(|(o, _)| order < o)
            {
                best = Some((order, i));
            }
        }
        best.map(|(_, i)| i)
    }
}

/// The timers as they were (a deadline or `None` for each): the reference the masked
/// ones are compared with.
#[cfg(test)]
#[derive(Clone, Copy, Debug)]
pub(crate) struct TimersReference<const N: usize> {
    at: [Option<crate::time::Instant>; N],
    order: [u32; N],
    armed: u32,
    next: Option<crate::time::Instant>,
}

#[cfg(test)]
impl<const N: usize> TimersReference<N> {
    pub(crate) const fn new() -> Self {
        TimersReference {
            at: [None; N],
            order: [0; N],
            armed: 0,
            next: None,
        }
    }

    pub(crate) fn set(&mut self, i: usize, t: Option<crate::time::Instant>) {
        if let (Some(slot), Some(order)) = (self.at.get_mut(i), self.order.get_mut(i)) {
            let old = core::mem::replace(slot, t);
            self.armed = self.armed.wrapping_add(1);
            *order = self.armed;
            self.next = match (old, self.next, t) {
                (Some(o), Some(n), Some(t)) if o == n && t <= n => Some(t),
                (Some(o), Some(n), _) if o == n => self.at.iter().flatten().min().copied(),
                (_, Some(n), Some(t)) => Some(n.min(t)),
                (_, n, None) => n,
                (_, None, t) => t,
            };
        }
    }

    pub(crate) fn get(&self, i: usize) -> Option<crate::time::Instant> {
        self.at.get(i).copied().flatten()
    }

    pub(crate) fn next(&self) -> Option<crate::time::Instant> {
        self.next
    }

    pub(crate) fn earliest(&self) -> Option<usize> {
        let next = self.next?;
        (0..N)
            .filter(|&i| self.at[i] == Some(next))
            .min_by_key(|&i| self.order[i])
    }
}

/// A hash index over the slots of a `Table<_, N>`: `N` buckets, each a chain threaded
/// through the slots (`next`), so that a lookup looks at about one slot instead of all
/// of them. Hashes come from `hash_of`; equal hashes are confirmed by the caller.
pub(crate) struct ChainIndex<const N: usize> {
    heads: [u16; N],
    next: [u16; N],
    hash: [u64; N],
    linked: [bool; N],
}

const END: u16 = u16::MAX;

impl<const N: usize> ChainIndex<N> {
    pub(crate) fn new() -> Self {
        ChainIndex {
            heads: [END; N],
            next: [END; N],
            hash: [0; N],
            linked: [false; N],
        }
    }

    fn bucket(hash: u64) -> usize {
        // N > 0: tables are never empty (checked in `Endpoint::new`).
        (hash % N as u64) as usize
    }

    /// Link slot `slot` under `hash` (unlinking it first if it was linked).
    pub(crate) fn insert(&mut self, slot: u16, hash: u64) {
        let s = usize::from(slot);
        if s >= N {
            return;
        }
        self.remove(slot);
        let b = Self::bucket(hash);
        self.next[s] = self.heads[b];
        self.heads[b] = slot;
        self.hash[s] = hash;
        self.linked[s] = true;
    }

    /// Unlink slot `slot` if it is linked.
    pub(crate) fn remove(&mut self, slot: u16) {
        let s = usize::from(slot);
        if s >= N || !self.linked[s] {
            return;
        }
        let b = Self::bucket(self.hash[s]);
        let mut cur = self.heads[b];
        let mut prev = END;
        while cur != END {
            if cur == slot {
                if prev == END {
                    self.heads[b] = self.next[s];
                } else {
                    self.next[usize::from(prev)] = self.next[s];
                }
                break;
            }
            prev = cur;
            cur = self.next[usize::from(cur)];
        }
        self.linked[s] = false;
        self.next[s] = END;
    }

    /// Whether slot `slot` is linked.
    pub(crate) fn is_linked(&self, slot: u16) -> bool {
        self.linked.get(usize::from(slot)).copied().unwrap_or(false)
    }

    /// The slots linked under `hash`.
    pub(crate) fn candidates(&self, hash: u64) -> impl Iterator<Item = u16> + '_ {
        let mut cur = self.heads[Self::bucket(hash)];
        core::iter::from_fn(move || {
            while cur != END {
                let s = cur;
                cur = self.next[usize::from(s)];
                if self.hash[usize::from(s)] == hash {
                    return Some(s);
                }
            }
            None
        })
    }
}

/// The secret key of the endpoint's hash indexes. The values they hash (branches,
/// Call-IDs, tags, sent-by) are a peer's choice: under a fixed, public hash function it
/// could choose values that all share a bucket, and every lookup would walk all of them
/// (hash flooding). Keyed SipHash leaves it no better choice than chance.
#[derive(Clone, Copy, Debug)]
pub(crate) struct HashKey(pub(crate) u64, pub(crate) u64);

impl HashKey {
    /// A hasher with this key: SipHash-1-3, the variant hash tables use against
    /// flooding (Rust's `HashMap` among them). The indexes hash a few short values per
    /// message, each written field by field, so the rounds per word and the cost of a
    /// write decide what a lookup costs; core's `SipHasher` is SipHash-2-4.
    pub(crate) fn hasher(self) -> SipHasher<1, 3> {
        SipHasher::new(self.0, self.1)
    }
}

/// SipHash-`C`-`D` (Aumasson and Bernstein, "SipHash: a fast short-input PRF", 2012):
/// `C` compression rounds per 8-byte word, `D` finalization rounds, keyed by two words.
/// Bytes are taken in little-endian words as they come, whatever the split of writes.
#[derive(Clone, Debug)]
pub(crate) struct SipHasher<const C: usize, const D: usize> {
    v: [u64; 4],
    /// Bytes written that do not yet make a word, low byte first.
    tail: u64,
    ntail: usize,
    len: usize,
}

impl<const C: usize, const D: usize> SipHasher<C, D> {
    pub(crate) fn new(k0: u64, k1: u64) -> Self {
        SipHasher {
            // The initialization constants of the paper ("somepseudorandomlygeneratedbytes").
            v: [
                k0 ^ 0x736f_6d65_7073_6575,
                k1 ^ 0x646f_7261_6e64_6f6d,
                k0 ^ 0x6c79_6765_6e65_7261,
                k1 ^ 0x7465_6462_7974_6573,
            ],
            tail: 0,
            ntail: 0,
            len: 0,
        }
    }

    #[inline(always)]
    fn round(v: &mut [u64; 4]) {
        v[0] = v[0].wrapping_add(v[1]);
        v[1] = v[1].rotate_left(13) ^ v[0];
        v[0] = v[0].rotate_left(32);
        v[2] = v[2].wrapping_add(v[3]);
        v[3] = v[3].rotate_left(16) ^ v[2];
        v[0] = v[0].wrapping_add(v[3]);
        v[3] = v[3].rotate_left(21) ^ v[0];
        v[2] = v[2].wrapping_add(v[1]);
        v[1] = v[1].rotate_left(17) ^ v[2];
        v[2] = v[2].rotate_left(32);
    }

    #[inline(always)]
    fn compress(v: &mut [u64; 4], m: u64) {
        v[3] ^= m;
        for _ in 0..C {
            Self::round(v);
        }
        v[0] ^= m;
    }
}

impl<const C: usize, const D: usize> core::hash::Hasher for SipHasher<C, D> {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        self.len = self.len.wrapping_add(bytes.len());
        let mut rest = bytes;
        // Complete a word begun by earlier writes (most writes are a few bytes: a tag, a
        // discriminant, a string's end mark).
        while self.ntail != 0 {
            let Some((&b, more)) = rest.split_first() else {
                return;
            };
            self.tail |= u64::from(b) << (8 * self.ntail);
            self.ntail = (self.ntail + 1) % 8;
            rest = more;
            if self.ntail == 0 {
                Self::compress(&mut self.v, self.tail);
                self.tail = 0;
            }
        }
        let mut words = rest.chunks_exact(8);
        for w in &mut words {
            let mut word = [0u8; 8];
            word.copy_from_slice(w);
            Self::compress(&mut self.v, u64::from_le_bytes(word));
        }
        for (i, &b) in words.remainder().iter().enumerate() {
            self.tail |= u64::from(b) << (8 * i);
        }
        self.ntail = words.remainder().len();
    }

    fn finish(&self) -> u64 {
        let mut v = self.v;
        // The last word: the bytes left over and the length's low byte on top.
        let last = self.tail | ((self.len as u64 & 0xff) << 56);
        Self::compress(&mut v, last);
        v[2] ^= 0xff;
        for _ in 0..D {
            Self::round(&mut v);
        }
        v[0] ^ v[1] ^ v[2] ^ v[3]
    }
}

impl<const C: usize, const D: usize> SipHasher<C, D> {
    /// Take one whole 8-byte word (as `write` of its little-endian bytes would, when no
    /// bytes of an earlier write are pending).
    #[inline(always)]
    pub(crate) fn word(&mut self, m: u64) {
        Self::compress(&mut self.v, m);
        self.len = self.len.wrapping_add(8);
    }
}

/// Up to 8 bytes as a little-endian word, the missing high bytes zero: in two loads
/// that overlap where the length is not a power of two (a byte loaded twice lands in
/// the same place both times), without a copy of variable length (a call to `memcpy`).
#[inline(always)]
fn load_le(bytes: &[u8]) -> u64 {
    let n = bytes.len();
    if let Some(&[a, b, c, d]) = bytes.first_chunk::<4>() {
        if let Ok(word) = <[u8; 8]>::try_from(bytes) {
            return u64::from_le_bytes(word);
        }
        // 4 to 7 bytes: the first four and the last four.
        let lo = u64::from(u32::from_le_bytes([a, b, c, d]));
        let hi = bytes
            .last_chunk::<4>()
            .map_or(0, |w| u64::from(u32::from_le_bytes(*w)));
        return lo | hi << (8 * (n - 4));
    }
    // 1 to 3 bytes: the first, the middle and the last.
    match bytes {
        [] => 0,
        [a, ..] => {
            u64::from(*a)
                | u64::from(bytes[n / 2]) << (8 * (n / 2))
                | u64::from(bytes[n - 1]) << (8 * (n - 1))
        }
    }
}

/// [`load_le`] as it was, part by part: the reference it is compared with.
#[cfg(test)]
fn load_le_by_parts(bytes: &[u8]) -> u64 {
    if let Ok(word) = <[u8; 8]>::try_from(bytes) {
        return u64::from_le_bytes(word);
    }
    let n = bytes.len();
    let mut out = 0;
    let mut i = 0;
    if let Some(&[a, b, c, d]) = bytes.get(..4) {
        out = u64::from(u32::from_le_bytes([a, b, c, d]));
        i = 4;
    }
    if let Some(&[a, b]) = bytes.get(i..i + 2) {
        out |= u64::from(u16::from_le_bytes([a, b])) << (8 * i);
        i += 2;
    }
    if i < n {
        out |= u64::from(bytes[i]) << (8 * i);
    }
    out
}

/// The keyed hash of a key given as its `parts` (at most 255 of them), in namespace
/// `tag`: SipHash over a header (the tag, the number of parts and each part's length,
/// as bytes) and then each part zero-padded to whole words. The lengths make the
/// encoding one-to-one, so that only chance makes two keys share a hash; the padding
/// lets every part go in whole words, where a stream of bytes would be re-aligned at
/// each part. A part longer than 255 bytes (no key has one: their capacities are at most
/// 128) has its length cut, which only risks a collision, never a wrong match (equal
/// hashes are confirmed by comparing the keys).
// Inlined into each kind of key: with its number of parts known, the header's loop
// unrolls (some 40 instructions a hash).
#[inline(always)]
pub(crate) fn hash_parts(key: HashKey, tag: u8, parts: &[&[u8]]) -> u64 {
    use core::hash::Hasher as _;
    let mut h = key.hasher();
    let mut header = u64::from(tag) | ((parts.len() as u64 & 0xff) << 8);
    let mut at = 2;
    for p in parts {
        if at == 8 {
            h.word(header);
            header = 0;
            at = 0;
        }
        header |= (p.len().min(255) as u64) << (8 * at);
        at += 1;
    }
    h.word(header);
    for p in parts {
        let mut words = p.chunks_exact(8);
        for w in &mut words {
            h.word(load_le(w));
        }
        if !words.remainder().is_empty() {
            h.word(load_le(words.remainder()));
        }
    }
    h.finish()
}

/// A value the endpoint's indexes hash: [`hash_parts`] of its parts.
pub(crate) trait IndexKey {
    fn index_hash(&self, key: HashKey, tag: u8) -> u64;
}

impl IndexKey for str {
    fn index_hash(&self, key: HashKey, tag: u8) -> u64 {
        hash_parts(key, tag, &[self.as_bytes()])
    }
}

/// A dialog's Call-ID and local tag.
impl IndexKey for (&str, &str) {
    fn index_hash(&self, key: HashKey, tag: u8) -> u64 {
        hash_parts(key, tag, &[self.0.as_bytes(), self.1.as_bytes()])
    }
}

impl IndexKey for ClientKey {
    fn index_hash(&self, key: HashKey, tag: u8) -> u64 {
        hash_parts(key, tag, &self.parts())
    }
}

impl IndexKey for MergeKey {
    fn index_hash(&self, key: HashKey, tag: u8) -> u64 {
        hash_parts(key, tag, &self.parts(&mut [0; 4]))
    }
}

/// The two kinds have different numbers of parts: they never share an encoding.
impl IndexKey for RequestKey {
    fn index_hash(&self, key: HashKey, tag: u8) -> u64 {
        match self {
            RequestKey::Rfc3261(k) => hash_parts(key, tag, &k.parts(&mut [0; 2])),
            RequestKey::Legacy(k) => hash_parts(key, tag, &k.parts(&mut [0; 4])),
        }
    }
}

/// The keyed hash of `value`, in namespace `tag` (so that different kinds of key in one
/// index do not meet).
#[inline]
pub(crate) fn hash_of<T: IndexKey + ?Sized>(key: HashKey, tag: u8, value: &T) -> u64 {
    value.index_hash(key, tag)
}

impl<T, const N: usize> Table<T, N> {
    /// The handle of the live slot `index`, if any.
    pub(crate) fn handle_at(&self, index: u16) -> Option<RawHandle> {
        let slot = self.slots.get(usize::from(index))?;
        slot.live.then_some(RawHandle {
            index,
            generation: slot.generation,
        })
    }
}

#[cfg(test)]
mod index_tests {
    use super::*;

    /// With 2 and 4 rounds the hasher is SipHash-2-4, which core implements: the same
    /// values for every length and any split of the input into writes.
    #[test]
    #[allow(deprecated)]
    fn siphash_2_4_matches_core() {
        use core::hash::Hasher as _;
        let input: std::vec::Vec<u8> = (0u8..64).map(|i| i.wrapping_mul(37) ^ 0x5a).collect();
        for len in 0..input.len() {
            let data = &input[..len];
            let mut core_h = core::hash::SipHasher::new_with_keys(0x0706_0504_0302_0100, 7);
            core_h.write(data);
            let want = core_h.finish();
            for split in [1, 3, 7, 8, 9, 64] {
                let mut ours = SipHasher::<2, 4>::new(0x0706_0504_0302_0100, 7);
                for piece in data.chunks(split) {
                    ours.write(piece);
                }
                assert_eq!(ours.finish(), want, "length {len}, writes of {split}");
            }
        }
        // One round fewer of each is another function, and the key matters.
        let h = |k: u64, bytes: &[u8]| {
            let mut h = SipHasher::<1, 3>::new(k, 0);
            h.write(bytes);
            h.finish()
        };
        let mut two_four = SipHasher::<2, 4>::new(1, 0);
        two_four.write(b"z9hG4bK");
        assert_ne!(h(1, b"z9hG4bK"), two_four.finish());
        assert_ne!(h(1, b"z9hG4bK"), h(2, b"z9hG4bK"));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4000))]
        /// The overlapping loads give the word the part-by-part loads gave, for every
        /// length up to a word.
        #[test]
        fn overlapping_loads_agree(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..=8)) {
            proptest::prop_assert_eq!(load_le(&bytes), load_le_by_parts(&bytes));
        }
    }

    #[test]
    fn overlapping_loads_agree_on_distinct_bytes() {
        let bytes: [u8; 8] = [0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88];
        for n in 0..=8 {
            assert_eq!(
                load_le(&bytes[..n]),
                load_le_by_parts(&bytes[..n]),
                "{n} bytes"
            );
        }
    }

    #[test]
    fn chains_link_and_unlink() {
        let mut ix: ChainIndex<4> = ChainIndex::new();
        ix.insert(0, 8);
        ix.insert(1, 12); // same bucket as 8
        ix.insert(2, 9);
        assert_eq!(ix.candidates(8).collect::<heapless::Vec<_, 4>>(), [0]);
        assert_eq!(ix.candidates(12).collect::<heapless::Vec<_, 4>>(), [1]);
        assert!(ix.is_linked(1));
        ix.remove(1);
        assert!(!ix.is_linked(1) && ix.is_linked(0) && !ix.is_linked(3) && !ix.is_linked(9));
        assert_eq!(ix.candidates(12).count(), 0);
        assert_eq!(ix.candidates(8).count(), 1);
        ix.insert(0, 9);
        assert_eq!(ix.candidates(9).collect::<heapless::Vec<_, 4>>(), [0, 2]);
        assert_eq!(ix.candidates(8).count(), 0);
        let key = HashKey(1, 2);
        assert_ne!(hash_of(key, 1, "a"), hash_of(key, 2, "a"));
        assert_ne!(hash_of(key, 1, "a"), hash_of(HashKey(1, 3), 1, "a"));
    }

    /// The encoding `hash_parts` hashes, spelled out byte by byte: the tag, the number of
    /// parts, each length, zero bytes up to a whole word; then each part, zero bytes up to
    /// a whole word.
    fn encoding(tag: u8, parts: &[&[u8]]) -> std::vec::Vec<u8> {
        let pad = |v: &mut std::vec::Vec<u8>| v.resize(v.len().div_ceil(8) * 8, 0);
        let mut out = std::vec![tag, parts.len() as u8];
        out.extend(parts.iter().map(|p| p.len() as u8));
        pad(&mut out);
        for p in parts {
            out.extend_from_slice(p);
            pad(&mut out);
        }
        out
    }

    /// `hash_parts` is SipHash-1-3 of that encoding, for parts of every length up to a
    /// few words and up to 9 parts (a header of two words).
    #[test]
    fn hash_parts_is_siphash_of_the_padded_encoding() {
        use core::hash::Hasher as _;
        let key = HashKey(0x0706_0504_0302_0100, 0x0f0e_0d0c_0b0a_0908);
        let bytes: std::vec::Vec<u8> = (0u8..40).map(|i| i.wrapping_mul(53) ^ 0xa5).collect();
        for count in 0..=9 {
            for len in 0..=bytes.len() {
                let parts: std::vec::Vec<&[u8]> = (0..count)
                    .map(|i| &bytes[(i * 3) % 7..][..len.min(33)])
                    .collect();
                let mut reference = key.hasher();
                reference.write(&encoding(4, &parts));
                assert_eq!(
                    hash_parts(key, 4, &parts),
                    reference.finish(),
                    "{count} parts of {len}"
                );
            }
        }
    }

    /// Keys whose parts join to the same bytes, or differ only in padding, still differ:
    /// the lengths are hashed.
    #[test]
    fn hash_parts_tells_splits_and_padding_apart() {
        let key = HashKey(3, 4);
        let h = |parts: &[&[u8]]| hash_parts(key, 1, parts);
        assert_ne!(h(&[b"ab", b"c"]), h(&[b"a", b"bc"]));
        assert_ne!(h(&[b"abc"]), h(&[b"abc", b""]));
        assert_ne!(h(&[b"abc"]), h(&[b"abc\0"]));
        assert_ne!(h(&[b""]), h(&[]));
        assert_eq!(h(&[b"abc", b"d"]), h(&[b"abc", b"d"]));
        // Equal keys hash alike, unequal ones (here: the port) apart.
        use crate::message::Method;
        use crate::transaction::ServerKey;
        let server = |port| {
            RequestKey::Rfc3261(ServerKey::new("z9hG4bK1", "h", port, Method::Invite).unwrap())
        };
        assert_eq!(
            hash_of(key, 1, &server(None)),
            hash_of(key, 1, &server(None))
        );
        assert_ne!(
            hash_of(key, 1, &server(None)),
            hash_of(key, 1, &server(Some(0)))
        );
        assert_ne!(
            hash_of(key, 1, &server(Some(1))),
            hash_of(key, 1, &server(Some(256)))
        );
    }
}

/// The earliest deadline of each of `N` slots, in an indexed binary min-heap: the
/// endpoint's next timeout is the root, and a slot's deadline is changed or removed in
/// O(log N) without scanning the table. Each heap entry holds its deadline beside its
/// slot, so that a comparison while sifting reads one array, not two.
pub(crate) struct DeadlineHeap<const N: usize> {
    /// (deadline, slot), heap-ordered by deadline.
    heap: [(crate::time::Instant, u16); N],
    len: usize,
    /// Position of each slot in `heap`, `END` if absent.
    pos: [u16; N],
}

impl<const N: usize> DeadlineHeap<N> {
    pub(crate) fn new() -> Self {
        DeadlineHeap {
            heap: [(crate::time::Instant::ZERO, 0); N],
            len: 0,
            pos: [END; N],
        }
    }

    /// The earliest deadline and its slot.
    pub(crate) fn peek(&self) -> Option<(crate::time::Instant, u16)> {
        self.heap.get(..self.len)?.first().copied()
    }

    /// Set (or with `None`, clear) the deadline of `slot`.
    pub(crate) fn set(&mut self, slot: u16, deadline: Option<crate::time::Instant>) {
        let s = usize::from(slot);
        if s >= N {
            return;
        }
        let at = self.pos[s];
        match (at, deadline) {
            (END, None) => {}
            (END, Some(d)) => {
                self.heap[self.len] = (d, slot);
                self.pos[s] = self.len as u16;
                self.len += 1;
                self.up(self.len - 1);
            }
            // Unchanged (a slot's earliest deadline often stays as a later timer is
            // armed or cancelled): nothing moves.
            (i, Some(d)) if self.heap[usize::from(i)].0 == d => {}
            (i, Some(d)) => {
                let i = usize::from(i);
                let old = self.heap[i].0;
                self.heap[i].0 = d;
                if d < old { self.up(i) } else { self.down(i) }
            }
            (i, None) => {
                let i = usize::from(i);
                self.len -= 1;
                self.pos[s] = END;
                if i < self.len {
                    let last = self.heap[self.len];
                    self.heap[i] = last;
                    self.pos[usize::from(last.1)] = i as u16;
                    self.up(i);
                    let i = usize::from(self.pos[usize::from(last.1)]);
                    self.down(i);
                }
            }
        }
    }

    fn less(&self, a: usize, b: usize) -> bool {
        self.heap[a].0 < self.heap[b].0
    }

    fn swap(&mut self, a: usize, b: usize) {
        self.heap.swap(a, b);
        self.pos[usize::from(self.heap[a].1)] = a as u16;
        self.pos[usize::from(self.heap[b].1)] = b as u16;
    }

    fn up(&mut self, mut i: usize) {
        while i > 0 {
            let parent = (i - 1) / 2;
            if !self.less(i, parent) {
                break;
            }
            self.swap(i, parent);
            i = parent;
        }
    }

    fn down(&mut self, mut i: usize) {
        loop {
            let (l, r) = (2 * i + 1, 2 * i + 2);
            let mut m = i;
            if l < self.len && self.less(l, m) {
                m = l;
            }
            if r < self.len && self.less(r, m) {
                m = r;
            }
            if m == i {
                break;
            }
            self.swap(i, m);
            i = m;
        }
    }
}

/// [`DeadlineHeap`] as it was, its keys apart from the heap: the reference it is
/// compared with (the same comparisons and swaps, so the same order).
#[cfg(test)]
pub(crate) struct DeadlineHeapReference<const N: usize> {
    /// Slot numbers, heap-ordered by `key`.
    heap: [u16; N],
    len: usize,
    /// Position of each slot in `heap`, `END` if absent.
    pos: [u16; N],
    key: [crate::time::Instant; N],
}

#[cfg(test)]
impl<const N: usize> DeadlineHeapReference<N> {
    pub(crate) fn new() -> Self {
        DeadlineHeapReference {
            heap: [0; N],
            len: 0,
            pos: [END; N],
            key: [crate::time::Instant::ZERO; N],
        }
    }

    /// The earliest deadline and its slot.
    pub(crate) fn peek(&self) -> Option<(crate::time::Instant, u16)> {
        let s = *self.heap.get(..self.len)?.first()?;
        Some((self.key[usize::from(s)], s))
    }

    /// Set (or with `None`, clear) the deadline of `slot`.
    pub(crate) fn set(&mut self, slot: u16, deadline: Option<crate::time::Instant>) {
        let s = usize::from(slot);
        if s >= N {
            return;
        }
        let at = self.pos[s];
        match (at, deadline) {
            (END, None) => {}
            (END, Some(d)) => {
                self.key[s] = d;
                self.heap[self.len] = slot;
                self.pos[s] = self.len as u16;
                self.len += 1;
                self.up(self.len - 1);
            }
            // Unchanged (a slot's earliest deadline often stays as a later timer is
            // armed or cancelled): nothing moves.
            (_, Some(d)) if self.key[s] == d => {}
            (i, Some(d)) => {
                let old = self.key[s];
                self.key[s] = d;
                if d < old {
                    self.up(usize::from(i))
                } else {
                    self.down(usize::from(i))
                }
            }
            (i, None) => {
                let i = usize::from(i);
                self.len -= 1;
                self.pos[s] = END;
                if i < self.len {
                    let last = self.heap[self.len];
                    self.heap[i] = last;
                    self.pos[usize::from(last)] = i as u16;
                    self.up(i);
                    let i = usize::from(self.pos[usize::from(last)]);
                    self.down(i);
                }
            }
        }
    }

    fn less(&self, a: usize, b: usize) -> bool {
        self.key[usize::from(self.heap[a])] < self.key[usize::from(self.heap[b])]
    }

    fn swap(&mut self, a: usize, b: usize) {
        self.heap.swap(a, b);
        self.pos[usize::from(self.heap[a])] = a as u16;
        self.pos[usize::from(self.heap[b])] = b as u16;
    }

    fn up(&mut self, mut i: usize) {
        while i > 0 {
            let parent = (i - 1) / 2;
            if !self.less(i, parent) {
                break;
            }
            self.swap(i, parent);
            i = parent;
        }
    }

    fn down(&mut self, mut i: usize) {
        loop {
            let (l, r) = (2 * i + 1, 2 * i + 2);
            let mut m = i;
            if l < self.len && self.less(l, m) {
                m = l;
            }
            if r < self.len && self.less(r, m) {
                m = r;
            }
            if m == i {
                break;
            }
            self.swap(i, m);
            i = m;
        }
    }
}

#[cfg(test)]
mod heap_tests {
    use super::*;
    use crate::time::Instant;

    /// The earliest deadline kept as timers are set agrees with a scan of them all,
    /// over pseudo-random sets and clears (equal deadlines included).
    #[test]
    fn timers_keep_the_earliest_as_a_scan_finds_it() {
        let mut t: Timers<5> = Timers::new();
        let mut x: u32 = 0x9e37_79b9;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            let i = (x % 5) as usize;
            let at = (x >> 8) % 9;
            let deadline = (at != 0).then(|| Instant::from_millis(u64::from(at % 4)));
            t.set(i, deadline);
            let scan = (0..5).filter_map(|i| t.get(i)).min();
            assert_eq!(t.next(), scan);
            if let Some(e) = t.earliest() {
                assert_eq!(t.get(e), scan);
            }
        }
    }

    /// The masked timers agree with the reference (a deadline or `None` each) on every
    /// answer after every set: indexes in and out of range, equal deadlines, the end of
    /// time, and clears of timers never armed.
    fn timers_agree<const N: usize>(ops: &[(usize, Option<u64>)]) {
        let mut new: Timers<N> = Timers::new();
        let mut old: TimersReference<N> = TimersReference::new();
        for &(i, t) in ops {
            let t = t.map(Instant::from_millis);
            new.set(i, t);
            old.set(i, t);
            assert_eq!(new.next(), old.next(), "next after set({i}, {t:?})");
            assert_eq!(
                new.earliest(),
                old.earliest(),
                "earliest after set({i}, {t:?})"
            );
            for j in 0..N + 2 {
                assert_eq!(new.get(j), old.get(j), "get({j}) after set({i}, {t:?})");
            }
        }
    }

    fn timer_ops(
        n: usize,
    ) -> impl proptest::strategy::Strategy<Value = std::vec::Vec<(usize, Option<u64>)>> {
        use proptest::prelude::*;
        let deadline = prop_oneof![
            Just(None),
            (0u64..6).prop_map(Some),
            Just(Some(u64::MAX)),
            Just(Some(u64::MAX - 1)),
            any::<u64>().prop_map(Some),
        ];
        proptest::collection::vec((0..n + 2, deadline), 0..60)
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3000))]
        #[test]
        fn masked_timers_agree_with_the_reference(ops in timer_ops(14)) {
            timers_agree::<14>(&ops);
        }

        #[test]
        fn masked_call_timers_agree_with_the_reference(ops in timer_ops(8)) {
            timers_agree::<8>(&ops);
            timers_agree::<32>(&ops);
            timers_agree::<1>(&ops);
        }
    }

    fn deadline_strategy() -> impl proptest::strategy::Strategy<Value = Option<u64>> {
        use proptest::prelude::*;
        prop_oneof![
            Just(None),
            (0u64..8).prop_map(Some),
            any::<u64>().prop_map(Some)
        ]
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3000))]
        /// The heap with its keys inside agrees with the reference on the root after
        /// every set and on the order it drains in: the same slots for equal deadlines.
        #[test]
        fn heap_agrees_with_the_reference(ops in proptest::collection::vec(
            (0u16..18, deadline_strategy()),
            0..80,
        )) {
            use proptest::prelude::*;
            let mut new: DeadlineHeap<16> = DeadlineHeap::new();
            let mut old: DeadlineHeapReference<16> = DeadlineHeapReference::new();
            for (slot, d) in ops {
                let d = d.map(Instant::from_millis);
                new.set(slot, d);
                old.set(slot, d);
                prop_assert_eq!(new.peek(), old.peek());
            }
            while let Some((d, s)) = old.peek() {
                prop_assert_eq!(new.peek(), Some((d, s)));
                new.set(s, None);
                old.set(s, None);
            }
            prop_assert_eq!(new.peek(), None);
        }
    }

    #[test]
    fn keeps_the_earliest_on_top() {
        let mut h: DeadlineHeap<8> = DeadlineHeap::new();
        let t = Instant::from_millis;
        h.set(3, Some(t(30)));
        h.set(1, Some(t(10)));
        h.set(5, Some(t(50)));
        assert_eq!(h.peek(), Some((t(10), 1)));
        h.set(1, Some(t(40))); // later
        assert_eq!(h.peek(), Some((t(30), 3)));
        h.set(5, Some(t(5))); // earlier
        assert_eq!(h.peek(), Some((t(5), 5)));
        h.set(5, None);
        h.set(3, None);
        assert_eq!(h.peek(), Some((t(40), 1)));
        h.set(1, None);
        assert_eq!(h.peek(), None);
        h.set(7, None);
        // Many updates keep the heap consistent.
        for i in 0..8u16 {
            h.set(i, Some(t(u64::from(100 - i * 7))));
        }
        let mut seen = heapless::Vec::<u64, 8>::new();
        while let Some((d, s)) = h.peek() {
            let _ = seen.push(d.as_millis());
            h.set(s, None);
        }
        assert!(seen.windows(2).all(|w| w[0] <= w[1]), "{seen:?}");
        assert_eq!(seen.len(), 8);
    }
}

/// Which stored message of a transaction a queued datagram is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TxBuf {
    /// The request the transaction sent (client) or received (server).
    Request,
    /// Its last response.
    Response,
}

/// A queued datagram as [`TransmitQueue::front`] gives it.
pub(crate) enum Queued<'q> {
    /// Bytes the queue holds.
    Own(&'q [u8]),
    /// The first `len` bytes of the stored message `which` of the transaction in table
    /// slot `slot`, which are still those queued (see [`TransmitQueue::push_stored`]).
    Stored { slot: u16, which: TxBuf, len: usize },
}

/// Datagrams waiting for `poll_transmit`: a ring of `N` fixed buffers written and read
/// in place (a queue of owned buffers would move each whole `MSG`-byte buffer in and
/// out). A transaction's (re)transmission is queued as a reference to the bytes it
/// stores, copied once, into the host's buffer; where those bytes would change or be
/// reused before then, the endpoint first copies them into the queue (`settle`).
pub(crate) struct TransmitQueue<const MSG: usize, const N: usize> {
    slots: [Datagram<MSG>; N],
    head: usize,
    len: usize,
    /// Datagrams queued as references (`Datagram::stored`): with none, the endpoint's
    /// checks before it changes stored bytes stop at this count.
    stored: usize,
}

struct Datagram<const MSG: usize> {
    to: core::net::SocketAddr,
    len: usize,
    /// `Some`: the bytes are a transaction's, in place (`Queued::Stored`); `bytes` unused.
    stored: Option<(u16, TxBuf)>,
    bytes: [u8; MSG],
    /// A hash of the bytes as queued (see `fingerprint`): the debug builds' check that
    /// a reference still gives them when the datagram is taken.
    #[cfg(debug_assertions)]
    fingerprint: u64,
}

/// FNV-1a of `bytes`, for the debug check of [`TransmitQueue::holds`].
#[cfg(debug_assertions)]
fn fingerprint(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

impl<const MSG: usize, const N: usize> TransmitQueue<MSG, N> {
    pub(crate) fn new() -> Self {
        TransmitQueue {
            slots: core::array::from_fn(|_| Datagram {
                to: core::net::SocketAddr::from(([0, 0, 0, 0], 0)),
                len: 0,
                stored: None,
                bytes: [0; MSG],
                #[cfg(debug_assertions)]
                fingerprint: 0,
            }),
            head: 0,
            len: 0,
            stored: 0,
        }
    }

    /// Datagrams waiting.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The slot the next datagram goes in; `None` when the queue is full or `len`
    /// longer than `MSG`.
    fn next_slot(&mut self, len: usize) -> Option<usize> {
        if self.len >= N || len > MSG {
            return None;
        }
        Some((self.head + self.len) % N)
    }

    /// Queue a copy of `bytes` for `to`; `false` when the queue is full or `bytes`
    /// longer than `MSG`.
    pub(crate) fn push(&mut self, to: core::net::SocketAddr, bytes: &[u8]) -> bool {
        let Some(i) = self.next_slot(bytes.len()) else {
            return false;
        };
        let slot = &mut self.slots[i];
        slot.to = to;
        slot.len = bytes.len();
        slot.stored = None;
        slot.bytes[..bytes.len()].copy_from_slice(bytes);
        #[cfg(debug_assertions)]
        {
            slot.fingerprint = fingerprint(bytes);
        }
        self.len += 1;
        true
    }

    /// Queue `bytes`, the stored message `which` of the transaction in table slot
    /// `slot`, for `to`, as a reference to them: the caller copies them in with
    /// [`settle`](Self::settle) before they change or their slot is reused. `false` as
    /// [`push`](Self::push).
    pub(crate) fn push_stored(
        &mut self,
        to: core::net::SocketAddr,
        slot: u16,
        which: TxBuf,
        bytes: &[u8],
    ) -> bool {
        let Some(i) = self.next_slot(bytes.len()) else {
            return false;
        };
        let d = &mut self.slots[i];
        d.to = to;
        d.len = bytes.len();
        d.stored = Some((slot, which));
        #[cfg(debug_assertions)]
        {
            d.fingerprint = fingerprint(bytes);
        }
        self.stored += 1;
        self.len += 1;
        true
    }

    /// Whether any datagram is queued as a reference.
    #[inline(always)]
    pub(crate) fn has_stored(&self) -> bool {
        self.stored != 0
    }

    /// Copy in the bytes of every datagram queued as a reference that `pick` picks
    /// (given its transaction slot and message), from `bytes` (given the same): from
    /// then on the queue holds them.
    pub(crate) fn settle<'t>(
        &mut self,
        pick: impl Fn(u16, TxBuf) -> bool,
        bytes: impl Fn(u16, TxBuf) -> &'t [u8],
    ) {
        for k in 0..self.len {
            let d = &mut self.slots[(self.head + k) % N];
            let Some((slot, which)) = d.stored else {
                continue;
            };
            if !pick(slot, which) {
                continue;
            }
            let from = bytes(slot, which).get(..d.len).unwrap_or(&[]);
            d.bytes[..from.len()].copy_from_slice(from);
            d.stored = None;
            self.stored -= 1;
        }
    }

    /// The oldest datagram.
    pub(crate) fn front(&self) -> Option<(core::net::SocketAddr, Queued<'_>)> {
        if self.len == 0 {
            return None;
        }
        let d = &self.slots[self.head];
        let queued = match d.stored {
            None => Queued::Own(&d.bytes[..d.len]),
            Some((slot, which)) => Queued::Stored {
                slot,
                which,
                len: d.len,
            },
        };
        Some((d.to, queued))
    }

    /// Drop the oldest datagram.
    pub(crate) fn pop(&mut self) {
        if self.len > 0 {
            if self.slots[self.head].stored.take().is_some() {
                self.stored -= 1;
            }
            self.head = (self.head + 1) % N;
            self.len -= 1;
        }
    }

    /// Whether `bytes` are those the oldest datagram was queued with (by their hash):
    /// the debug builds' check that the endpoint settled every reference whose bytes
    /// changed. Always `true` in other builds.
    pub(crate) fn holds(&self, bytes: &[u8]) -> bool {
        #[cfg(debug_assertions)]
        if let Some(d) = self.slots.get(self.head).filter(|_| self.len > 0) {
            return d.len == bytes.len() && d.fingerprint == fingerprint(bytes);
        }
        let _ = bytes;
        true
    }
}

#[cfg(test)]
mod flooding_tests {
    use super::*;
    use core::fmt::Write as _;

    /// The attacker's model of the index hash when it was unkeyed: FNV-1a over the tag
    /// byte, then a `str`'s bytes and 0xFF.
    fn fnv(tag: u8, s: &str) -> u64 {
        let mut h = 0xcbf2_9ce4_8422_2325u64;
        for &b in [tag].iter().chain(s.as_bytes()).chain(&[0xff]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        h
    }

    /// Hash flooding: a peer chooses the branches (and Call-IDs, tags) that the indexes
    /// hash. Knowing the hash function, it picks values that all land in one bucket, and
    /// every lookup walks all of them. The index hash is keyed with a secret from the
    /// endpoint's seed, so that values chosen for one bucket under the published
    /// function spread like any others.
    #[test]
    fn values_chosen_for_one_bucket_spread() {
        const N: usize = 64;
        let mut ix: ChainIndex<N> = ChainIndex::new();
        let mut chosen = 0u16;
        let mut i = 0u32;
        while usize::from(chosen) < N {
            let mut branch: heapless::String<32> = heapless::String::new();
            write!(branch, "z9hG4bK{i}").unwrap();
            i += 1;
            if !fnv(1, &branch).is_multiple_of(N as u64) {
                continue;
            }
            ix.insert(chosen, hash_of(HashKey(7, 11), 1, branch.as_str()));
            chosen += 1;
        }
        let longest = (0..N).map(|b| {
            let mut len = 0;
            let mut cur = ix.heads[b];
            while cur != END {
                len += 1;
                cur = ix.next[usize::from(cur)];
            }
            len
        });
        let longest = longest.max().unwrap();
        assert!(longest <= 8, "one chain of {longest}");
    }
}

#[cfg(test)]
mod transmit_tests {
    use super::*;

    fn addr(port: u16) -> core::net::SocketAddr {
        core::net::SocketAddr::from(([127, 0, 0, 1], port))
    }

    /// Datagrams queued as references give their slot's bytes until settled, then the
    /// bytes they were queued with, whatever the slot holds after; the count of
    /// references follows pushes, settles and pops.
    #[test]
    fn references_settle_into_the_queue() {
        let mut q: TransmitQueue<16, 4> = TransmitQueue::new();
        let mut store: [[u8; 5]; 2] = [*b"resp0", *b"reqs1"];
        assert!(q.push_stored(addr(1), 0, TxBuf::Response, &store[0]));
        assert!(q.push(addr(2), b"own"));
        assert!(q.push_stored(addr(3), 1, TxBuf::Request, &store[1][..4]));
        assert!(q.has_stored());
        // Slot 0's response settled; slot 1's request left a reference.
        q.settle(
            |slot, which| slot == 0 && which == TxBuf::Response,
            |slot, _| &store[usize::from(slot)],
        );
        store[0] = *b"xxxxx";
        assert!(q.has_stored());
        let mut seen = std::vec::Vec::new();
        while let Some((to, queued)) = q.front() {
            let bytes = match queued {
                Queued::Own(b) => b.to_vec(),
                Queued::Stored { slot, which, len } => {
                    assert_eq!(which, TxBuf::Request);
                    store[usize::from(slot)][..len].to_vec()
                }
            };
            assert!(q.holds(&bytes));
            seen.push((to.port(), bytes));
            q.pop();
        }
        assert!(!q.has_stored());
        assert_eq!(
            seen,
            [
                (1, b"resp0".to_vec()),
                (2, b"own".to_vec()),
                (3, b"reqs".to_vec())
            ]
        );
        // Full, or longer than a slot: refused, nothing counted.
        for _ in 0..4 {
            assert!(q.push_stored(addr(1), 0, TxBuf::Response, b"a"));
        }
        assert!(!q.push_stored(addr(1), 0, TxBuf::Response, b"a"));
        assert!(!q.push(addr(1), b"a"));
        while q.front().is_some() {
            q.pop();
        }
        assert!(!q.has_stored());
        assert!(!q.push_stored(addr(1), 0, TxBuf::Response, &[0; 17]));
        assert!(!q.has_stored());
    }
}
