//! Logging through `defmt`, `log`, or nothing, chosen by feature.
//!
//! The macros compile to nothing when neither feature is on, so the pure layers cost
//! nothing for logging in a default build.
#![allow(unused_macros)]

#[cfg(all(feature = "defmt", feature = "log"))]
compile_error!("features `defmt` and `log` are mutually exclusive");

macro_rules! trace {
    ($($arg:tt)*) => {{
        #[cfg(feature = "log")]
        ::log::trace!($($arg)*);
        #[cfg(feature = "defmt")]
        ::defmt::trace!($($arg)*);
    }};
}

macro_rules! debug {
    ($($arg:tt)*) => {{
        #[cfg(feature = "log")]
        ::log::debug!($($arg)*);
        #[cfg(feature = "defmt")]
        ::defmt::debug!($($arg)*);
    }};
}

#[allow(unused_imports)]
pub(crate) use {debug, trace};
