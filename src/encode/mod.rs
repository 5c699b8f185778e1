//! Writing SIP messages into caller buffers (RFC 3261 §7, §8.1.1, §8.2.6, §9.1,
//! §17.1.1.3).
//!
//! [`MessageBuilder`] collects a start line, headers and a body by reference and
//! writes them into any [`Write`] sink: `&mut [u8]`, `heapless::Vec<u8, N>`, or with
//! feature `alloc` a `Vec<u8>`. The exact size is computed first, so a sink that is too
//! small is left untouched and the error says how many bytes are needed.

mod builder;
pub(crate) mod derive;
mod write;

#[cfg(feature = "endpoint")]
pub(crate) use builder::Stored;
#[cfg(feature = "endpoint")]
pub(crate) use builder::value_may_be_written;
pub use builder::{BuildError, EncodeError, MAX_BUILDER_HEADERS, MessageBuilder, Value, ViaValue};
pub(crate) use write::text;
pub use write::{BufferTooSmall, Write};
