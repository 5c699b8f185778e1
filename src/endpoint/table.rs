//! A fixed-capacity table of slots addressed by generation-checked handles.

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
    value: Option<T>,
}

/// `N` slots of `T`, no allocation.
pub(crate) struct Table<T, const N: usize> {
    slots: [Slot<T>; N],
    len: usize,
}

impl<T, const N: usize> Table<T, N> {
    pub(crate) fn new() -> Self {
        Table {
            slots: core::array::from_fn(|_| Slot {
                generation: 0,
                value: None,
            }),
            len: 0,
        }
    }

    /// Put `value` in a free slot; `None` when full.
    pub(crate) fn insert(&mut self, value: T) -> Option<RawHandle> {
        let index = self.slots.iter().position(|s| s.value.is_none())?;
        let slot = &mut self.slots[index];
        slot.generation = slot.generation.wrapping_add(1);
        slot.value = Some(value);
        self.len += 1;
        Some(RawHandle {
            index: u16::try_from(index).ok()?,
            generation: slot.generation,
        })
    }

    pub(crate) fn get(&self, h: RawHandle) -> Option<&T> {
        let slot = self.slots.get(usize::from(h.index))?;
        if slot.generation != h.generation {
            return None;
        }
        slot.value.as_ref()
    }

    pub(crate) fn get_mut(&mut self, h: RawHandle) -> Option<&mut T> {
        let slot = self.slots.get_mut(usize::from(h.index))?;
        if slot.generation != h.generation {
            return None;
        }
        slot.value.as_mut()
    }

    pub(crate) fn remove(&mut self, h: RawHandle) -> Option<T> {
        let slot = self.slots.get_mut(usize::from(h.index))?;
        if slot.generation != h.generation {
            return None;
        }
        let v = slot.value.take();
        if v.is_some() {
            self.len -= 1;
        }
        v
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Every live slot with its handle.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (RawHandle, &T)> {
        self.slots.iter().enumerate().filter_map(|(i, s)| {
            let v = s.value.as_ref()?;
            // Indices fit u16: tables are created with N < 65536 (checked in `Endpoint::new`).
            Some((
                RawHandle {
                    index: i as u16,
                    generation: s.generation,
                },
                v,
            ))
        })
    }

    /// The handle of the first live slot whose value satisfies `f`.
    pub(crate) fn find(&self, mut f: impl FnMut(&T) -> bool) -> Option<RawHandle> {
        self.iter().find(|(_, v)| f(v)).map(|(h, _)| h)
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
        assert_eq!(t.find(|&v| v == 2), Some(b));
    }
}

/// Deadlines of one transaction or call, with the earliest kept at hand so that
/// `poll_timeout` and `handle_timeout` look at one value per slot.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Timers<const N: usize> {
    at: [Option<crate::time::Instant>; N],
    next: Option<crate::time::Instant>,
}

impl<const N: usize> Timers<N> {
    pub(crate) const fn new() -> Self {
        Timers {
            at: [None; N],
            next: None,
        }
    }

    pub(crate) fn get(&self, i: usize) -> Option<crate::time::Instant> {
        self.at.get(i).copied().flatten()
    }

    pub(crate) fn set(&mut self, i: usize, t: Option<crate::time::Instant>) {
        if let Some(slot) = self.at.get_mut(i) {
            *slot = t;
            self.next = self.at.iter().flatten().min().copied();
        }
    }

    /// The earliest deadline.
    pub(crate) fn next(&self) -> Option<crate::time::Instant> {
        self.next
    }

    /// Every deadline at or before `now`, with its index.
    pub(crate) fn due(
        &self,
        now: crate::time::Instant,
    ) -> impl Iterator<Item = (usize, crate::time::Instant)> + '_ {
        let any = self.next.is_some_and(|n| n <= now);
        self.at
            .iter()
            .enumerate()
            .filter(move |_| any)
            .filter_map(move |(i, t)| t.filter(|t| *t <= now).map(|t| (i, t)))
    }
}
