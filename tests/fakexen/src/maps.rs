//! Which parts of the address space are hypercall-safe: pages mapped from
//! the (emulated) hypercall device, and locked anonymous pages.

use std::collections::BTreeMap;

/// How a range became hypercall-safe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An mmap of /dev/xen/hypercall.
    Device,
    /// An anonymous mmap with MAP_LOCKED.
    MapLocked,
    /// mlock()ed memory.
    Mlocked,
}

/// Disjoint ranges `start -> (end, kind)`.
#[derive(Debug, Default)]
pub struct Ranges {
    map: BTreeMap<usize, (usize, Kind)>,
}

impl Ranges {
    pub const fn new() -> Self {
        Ranges { map: BTreeMap::new() }
    }

    /// Forgets `[a, b)`, splitting ranges that straddle either end. With
    /// `only`, forgets just the pieces of those kinds.
    pub fn remove(&mut self, a: usize, b: usize, only: Option<&[Kind]>) {
        if a >= b {
            return;
        }
        let hit: Vec<(usize, usize, Kind)> =
            self.map.range(..b).rev().take_while(|(_, &(e, _))| e > a).map(|(&s, &(e, k))| (s, e, k)).collect();
        // `take_while` above stops at the first range ending at or before `a`;
        // ranges are disjoint and sorted, so that is exact.
        for (s, e, k) in hit {
            if only.is_some_and(|ks| !ks.contains(&k)) {
                continue;
            }
            self.map.remove(&s);
            if s < a {
                self.map.insert(s, (a, k));
            }
            if e > b {
                self.map.insert(b, (e, k));
            }
        }
    }

    /// Records `[a, b)` as `kind`, replacing whatever was recorded there.
    pub fn insert(&mut self, a: usize, b: usize, kind: Kind) {
        if a >= b {
            return;
        }
        self.remove(a, b, None);
        self.map.insert(a, (b, kind));
    }

    /// The contiguous run of recorded ranges that contains `[a, b)`, as
    /// `(start, end)`, if there is one.
    pub fn covering(&self, a: usize, b: usize) -> Option<(usize, usize)> {
        let (&s, &(mut e, _)) = self.map.range(..=a).next_back()?;
        if e <= a {
            return None;
        }
        while e < b {
            e = self.map.get(&e)?.0;
        }
        Some((s, e))
    }

    /// Number of recorded ranges.
    #[allow(dead_code)]
    pub fn len(&self) -> usize {
        self.map.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_split_on_removal_and_adjacent_ranges_cover_together() {
        let mut r = Ranges::new();
        r.insert(0x1000, 0x5000, Kind::Device);
        assert_eq!(r.covering(0x1000, 0x5000), Some((0x1000, 0x5000)));
        r.remove(0x2000, 0x3000, None);
        assert_eq!(r.covering(0x1000, 0x5000), None);
        assert_eq!(r.covering(0x1000, 0x2000), Some((0x1000, 0x2000)));
        assert_eq!(r.covering(0x3000, 0x5000), Some((0x3000, 0x5000)));
        assert_eq!(r.covering(0x2000, 0x2001), None);
        r.insert(0x2000, 0x3000, Kind::MapLocked);
        assert_eq!(r.len(), 3);
        assert_eq!(r.covering(0x1800, 0x4800), Some((0x1000, 0x5000)));
        r.remove(0x0, 0x10000, Some(&[Kind::MapLocked]));
        assert_eq!(r.covering(0x1800, 0x4800), None);
        assert_eq!(r.len(), 2);
        r.remove(0x0, 0x10000, None);
        assert_eq!(r.len(), 0);
    }
}
