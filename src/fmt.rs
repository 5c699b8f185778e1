//! Logging through `defmt`, `log`, or nothing, chosen by feature.
//!
//! The macros compile to nothing when neither feature is on, so the pure layers cost
//! nothing for logging in a default build. With both on (`--all-features`), messages go
//! to `log` and `defmt` only derives `Format` on public types.
#![allow(unused_macros)]

macro_rules! trace {
    ($($arg:tt)*) => {{
        #[cfg(feature = "log")]
        ::log::trace!($($arg)*);
        #[cfg(all(feature = "defmt", not(feature = "log")))]
        ::defmt::trace!($($arg)*);
    }};
}

macro_rules! debug {
    ($($arg:tt)*) => {{
        #[cfg(feature = "log")]
        ::log::debug!($($arg)*);
        #[cfg(all(feature = "defmt", not(feature = "log")))]
        ::defmt::debug!($($arg)*);
    }};
}

#[allow(unused_imports)]
pub(crate) use {debug, trace};
