//! # sansip
//!
//! A sans-IO, `no_std` SIP core (RFC 3261).
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

#[macro_use]
mod fmt;
pub mod check;
pub mod dialog;
pub mod encode;
pub mod error;
pub mod message;
pub mod time;
pub mod transaction;

pub use error::{Capacity, ParseError, ParseErrorKind};
pub use time::{Duration, Instant};
