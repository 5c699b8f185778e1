//! SIP messages (RFC 3261 §7, §20, §25): a zero-copy view over received bytes.

mod host;
pub mod lex;
mod method;
mod name_addr;
mod status;
mod uri;

pub use host::{Host, HostPort};
pub use method::Method;
pub use name_addr::{ContactValue, DisplayName, NameAddr, Qvalue};
pub use status::{InvalidStatusCode, StatusClass, StatusCode};
pub use uri::{OtherUri, SipUri, TelUri, Unescaped, Uri, UriParam, UriParams};
