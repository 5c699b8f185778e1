//! SIP methods (RFC 3261 §7.1, §27.4 and the extension RFCs).

use core::fmt;

use super::lex;

/// A request method. Methods are case-sensitive (RFC 3261 §7.1): `invite` is an
/// extension method, not INVITE.
///
/// ```
/// use sansip::message::Method;
/// assert_eq!(Method::from_token("INVITE"), Some(Method::Invite));
/// assert_eq!(Method::from_token("FOO"), Some(Method::Extension("FOO")));
/// assert_eq!(Method::from_token("BAD METHOD"), None);
/// assert_eq!(Method::Notify.as_str(), "NOTIFY");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Method<'a> {
    /// INVITE (RFC 3261 §13).
    Invite,
    /// ACK (RFC 3261 §13, §17).
    Ack,
    /// BYE (RFC 3261 §15).
    Bye,
    /// CANCEL (RFC 3261 §9).
    Cancel,
    /// OPTIONS (RFC 3261 §11).
    Options,
    /// REGISTER (RFC 3261 §10).
    Register,
    /// PRACK (RFC 3262).
    Prack,
    /// UPDATE (RFC 3311).
    Update,
    /// SUBSCRIBE (RFC 6665).
    Subscribe,
    /// NOTIFY (RFC 6665).
    Notify,
    /// REFER (RFC 3515).
    Refer,
    /// MESSAGE (RFC 3428).
    Message,
    /// INFO (RFC 6086).
    Info,
    /// PUBLISH (RFC 3903).
    Publish,
    /// Any other method token (RFC 3261 §25.1 `extension-method`).
    Extension(&'a str),
}

impl<'a> Method<'a> {
    /// Every method the crate knows by name, in RFC order.
    pub const KNOWN: [Method<'static>; 14] = [
        Method::Invite,
        Method::Ack,
        Method::Bye,
        Method::Cancel,
        Method::Options,
        Method::Register,
        Method::Prack,
        Method::Update,
        Method::Subscribe,
        Method::Notify,
        Method::Refer,
        Method::Message,
        Method::Info,
        Method::Publish,
    ];

    /// The method named by `token`, or `None` if `token` is not a valid RFC 3261 token.
    pub fn from_token(token: &'a str) -> Option<Self> {
        Self::from_bytes(token.as_bytes()).map(|m| match m {
            // Reborrow the extension from the `&str` so the lifetime is `'a`.
            Method::Extension(_) => Method::Extension(token),
            known => known,
        })
    }

    /// The method named by `bytes`, or `None` if `bytes` is not a token.
    pub fn from_bytes(bytes: &'a [u8]) -> Option<Self> {
        // A known name is a token: only an extension needs the byte check.
        Some(match bytes {
            b"INVITE" => Method::Invite,
            b"ACK" => Method::Ack,
            b"BYE" => Method::Bye,
            b"CANCEL" => Method::Cancel,
            b"OPTIONS" => Method::Options,
            b"REGISTER" => Method::Register,
            b"PRACK" => Method::Prack,
            b"UPDATE" => Method::Update,
            b"SUBSCRIBE" => Method::Subscribe,
            b"NOTIFY" => Method::Notify,
            b"REFER" => Method::Refer,
            b"MESSAGE" => Method::Message,
            b"INFO" => Method::Info,
            b"PUBLISH" => Method::Publish,
            other => {
                if other.is_empty() || !other.iter().all(|&b| lex::is_token(b)) {
                    return None;
                }
                // Token characters are ASCII, so this cannot fail.
                Method::Extension(core::str::from_utf8(other).ok()?)
            }
        })
    }

    /// The method's name as it appears on the wire.
    pub fn as_str(&self) -> &'a str {
        match *self {
            Method::Invite => "INVITE",
            Method::Ack => "ACK",
            Method::Bye => "BYE",
            Method::Cancel => "CANCEL",
            Method::Options => "OPTIONS",
            Method::Register => "REGISTER",
            Method::Prack => "PRACK",
            Method::Update => "UPDATE",
            Method::Subscribe => "SUBSCRIBE",
            Method::Notify => "NOTIFY",
            Method::Refer => "REFER",
            Method::Message => "MESSAGE",
            Method::Info => "INFO",
            Method::Publish => "PUBLISH",
            Method::Extension(s) => s,
        }
    }

    /// This method when it is one of [`Method::KNOWN`], which borrow nothing.
    pub(crate) fn as_known(&self) -> Option<Method<'static>> {
        Some(match *self {
            Method::Invite => Method::Invite,
            Method::Ack => Method::Ack,
            Method::Bye => Method::Bye,
            Method::Cancel => Method::Cancel,
            Method::Options => Method::Options,
            Method::Register => Method::Register,
            Method::Prack => Method::Prack,
            Method::Update => Method::Update,
            Method::Subscribe => Method::Subscribe,
            Method::Notify => Method::Notify,
            Method::Refer => Method::Refer,
            Method::Message => Method::Message,
            Method::Info => Method::Info,
            Method::Publish => Method::Publish,
            Method::Extension(_) => return None,
        })
    }

    /// Whether this is one of the methods in [`Method::KNOWN`].
    pub fn is_known(&self) -> bool {
        !matches!(self, Method::Extension(_))
    }
}

impl fmt::Display for Method<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_round_trip() {
        for m in Method::KNOWN {
            assert_eq!(Method::from_token(m.as_str()), Some(m));
            assert!(m.is_known());
            assert_eq!(m.as_known(), Some(m));
        }
        assert_eq!(Method::Extension("INVITEX").as_known(), None);
    }

    #[test]
    fn case_sensitive_and_tokens() {
        assert_eq!(
            Method::from_token("invite"),
            Some(Method::Extension("invite"))
        );
        assert_eq!(
            Method::from_token("IN%56ITE"),
            Some(Method::Extension("IN%56ITE"))
        );
        assert_eq!(Method::from_token(""), None);
        assert_eq!(Method::from_token("A:B"), None);
        assert!(!Method::Extension("X").is_known());
    }
}
