//! SIP messages (RFC 3261 §7, §20, §25): a zero-copy view over received bytes.
//!
//! [`Message::parse`] reads one datagram; [`Message::parse_stream`] frames messages on
//! a stream transport. The view indexes every header line in one pass and parses typed
//! values (Via, CSeq, URIs, ...) only when asked, so unused headers cost nothing.

mod header_name;
mod headers;
mod host;
pub mod lex;
mod method;
mod name_addr;
mod parse;
mod status;
mod typed;
mod uri;

pub use header_name::{Header, HeaderKind};
pub use headers::{
    Algorithm, AuthParam, AuthParams, AuthScheme, CSeq, CallId, Challenge, ContentLength,
    ContentType, Credentials, Event, Expires, MAGIC_COOKIE, MaxForwards, MinSe, QopOptions, RAck,
    RSeq, Refresher, RetryAfter, Rport, SessionExpires, SubState, SubscriptionState, Timestamp,
    TokenList, TokenParamList, Transport, Via,
};
pub use host::{Host, HostPort};
pub use method::Method;
pub use name_addr::{ContactValue, DisplayName, NameAddr, Qvalue};
#[cfg(feature = "endpoint")]
pub(crate) use parse::Detached;
pub use parse::{DEFAULT_MAX_MESSAGE, Framed, KeepAlive, Limits, MAX_HEADERS, Message, StartLine};
pub use status::{InvalidStatusCode, StatusClass, StatusCode};
pub use typed::CommaValues;
#[cfg_attr(not(feature = "endpoint"), allow(unused_imports))]
pub(crate) use uri::is_plain_sip;
pub use uri::{OtherUri, SipUri, TelUri, Unescaped, Uri, UriParam, UriParams};
