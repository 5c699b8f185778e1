//! SIP messages (RFC 3261 §7, §20, §25): a zero-copy view over received bytes.

mod host;
pub mod lex;
mod method;
mod status;

pub use host::{Host, HostPort};
pub use method::Method;
pub use status::{InvalidStatusCode, StatusClass, StatusCode};
