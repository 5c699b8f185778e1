//! Via branch generation (RFC 3261 §8.1.1.7).

use super::key::MAGIC_COOKIE;

/// Length of a branch from [`generate_branch`]: the magic cookie and 16 hex digits.
pub const BRANCH_LEN: usize = MAGIC_COOKIE.len() + 16;

/// A branch made by [`generate_branch`].
pub type Branch = heapless::String<BRANCH_LEN>;

/// A Via branch for a new request: `z9hG4bK` followed by `random` as 16 lowercase hex
/// digits (§8.1.1.7). The host supplies the randomness; it must be unique over space and
/// time for the UA, and §19.3 asks for at least 32 random bits. The crate never draws
/// random numbers itself.
///
/// ```
/// use sansip::transaction::generate_branch;
/// assert_eq!(generate_branch(0x0123_4567_89ab_cdef).as_str(), "z9hG4bK0123456789abcdef");
/// ```
pub fn generate_branch(random: u64) -> Branch {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = Branch::new();
    // Both pushes stay within BRANCH_LEN by construction; errors cannot occur, and are
    // ignored rather than unwrapped to keep the function panic-free.
    let _ = out.push_str(MAGIC_COOKIE);
    for i in (0..16).rev() {
        let nibble = (random >> (i * 4)) & 0xf;
        let _ = out.push(char::from(HEX[nibble as usize]));
    }
    out
}
