//! Things remembered until a time, in a table in shared memory that the caller locks: the
//! sessions a provider ended, the logout tokens and DPoP proofs seen. A full table forgets
//! the mark that ends first.

/// Places a mark may take after its hash's.
const PROBES: usize = 16;

/// One mark; all zeroes is a free place.
#[repr(C)]
pub struct Mark {
    id: [u8; 32],
    /// When it was made.
    at: i64,
    until: i64,
    /// Made by a request that nothing authenticates (front-channel logout): it never takes
    /// the place of another mark that still holds.
    weak: bool,
    /// Not told yet to whom it concerns too: 0, or who (the other nodes of a cluster).
    pending: u8,
}

fn home(id: &[u8; 32], len: usize) -> usize {
    usize::from(u16::from_le_bytes([id[0], id[1]])) % len
}

/// Remembers `id` from `now` until `until`; false when it is remembered already, or when a
/// `weak` mark finds no room.
pub fn mark(marks: &mut [Mark], id: &[u8; 32], now: i64, until: i64, weak: bool) -> bool {
    if marks.is_empty() {
        return false;
    }
    let len = marks.len();
    let start = home(id, len);
    let places = (0..PROBES.min(len)).map(|i| (start + i) % len);
    if places
        .clone()
        .any(|i| &marks[i].id == id && marks[i].until > now)
    {
        return false;
    }
    // A free place, else a weak mark's; a strong mark takes, as a last resort, the place of
    // the strong mark that ends first (16 live ones in one window).
    let at = places
        .clone()
        .find(|&i| marks[i].until <= now)
        .or_else(|| {
            places
                .clone()
                .filter(|&i| marks[i].weak)
                .min_by_key(|&i| marks[i].until)
        })
        .or_else(|| {
            (!weak)
                .then(|| places.min_by_key(|&i| marks[i].until))
                .flatten()
        });
    let Some(at) = at else {
        return false;
    };
    marks[at] = Mark {
        id: *id,
        at: now,
        until,
        weak,
        pending: 0,
    };
    true
}

/// Notes that the mark of `id` is not told yet to `to` (not 0).
pub fn set_pending(marks: &mut [Mark], id: &[u8; 32], to: u8) {
    if marks.is_empty() {
        return;
    }
    let start = home(id, marks.len());
    let len = marks.len();
    if let Some(at) = (0..PROBES.min(len))
        .map(|i| (start + i) % len)
        .find(|&i| &marks[i].id == id)
    {
        marks[at].pending = to;
    }
}

/// The marks not told yet to `to` that still hold at `now`, as `(id, at, until, weak)`: no
/// longer pending.
pub fn take_pending(marks: &mut [Mark], to: u8, now: i64) -> Vec<([u8; 32], i64, i64, bool)> {
    let mut out = Vec::new();
    for m in marks.iter_mut().filter(|m| m.pending == to) {
        m.pending = 0;
        if m.until > now {
            out.push((m.id, m.at, m.until, m.weak));
        }
    }
    out
}

/// When `id` was marked, if it is remembered at `now`.
pub fn marked(marks: &[Mark], id: &[u8; 32], now: i64) -> Option<i64> {
    if marks.is_empty() {
        return None;
    }
    let start = home(id, marks.len());
    (0..PROBES.min(marks.len()))
        .map(|i| &marks[(start + i) % marks.len()])
        .find(|m| &m.id == id && m.until > now)
        .map(|m| m.at)
}
