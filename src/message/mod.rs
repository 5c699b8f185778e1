//! SIP messages (RFC 3261 §7, §20, §25): a zero-copy view over received bytes.

mod headers;
mod host;
pub mod lex;
mod method;
mod status;

pub use headers::{
    Algorithm, AuthParam, AuthParams, AuthScheme, CSeq, CallId, Challenge, ContentLength,
    ContentType, Credentials, Event, Expires, MAGIC_COOKIE, MaxForwards, QopOptions, RetryAfter,
    Rport, SubState, SubscriptionState, Timestamp, TokenList, TokenParamList, Transport, Via,
};
pub use host::{Host, HostPort};
pub use method::Method;
pub use status::{InvalidStatusCode, StatusClass, StatusCode};
