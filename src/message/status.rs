//! Status codes (RFC 3261 §7.2, §21).

use core::fmt;

/// The class of a status code: its first digit (RFC 3261 §7.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum StatusClass {
    /// 1xx: request received, continuing to process it.
    Provisional,
    /// 2xx: the action was received, understood and accepted.
    Success,
    /// 3xx: further action needs to be taken to complete the request.
    Redirection,
    /// 4xx: the request contains bad syntax or cannot be fulfilled at this server.
    ClientError,
    /// 5xx: the server failed to fulfil an apparently valid request.
    ServerError,
    /// 6xx: the request cannot be fulfilled at any server.
    GlobalFailure,
}

/// A SIP status code. Only holds values in `100..=699` (RFC 3261 §7.2, §21), so a
/// `StatusCode` in hand is always meaningful.
///
/// ```
/// use sansip::message::{StatusClass, StatusCode};
/// let c = StatusCode::new(486).unwrap();
/// assert_eq!(c.class(), StatusClass::ClientError);
/// assert_eq!(c.canonical_reason(), Some("Busy Here"));
/// // An unknown code is handled as the x00 of its class (RFC 3261 §8.1.3.2).
/// assert_eq!(StatusCode::new(499).unwrap().effective(), StatusCode::BAD_REQUEST);
/// assert!(StatusCode::new(700).is_none());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct StatusCode(u16);

#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for StatusCode {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(StatusCode(u.int_in_range(100..=699)?))
    }
}

macro_rules! codes {
    ($($name:ident = $code:literal, $reason:literal, $rfc:literal;)*) => {
        impl StatusCode {
            $(
                #[doc = concat!("`", stringify!($code), " ", $reason, "` (", $rfc, ").")]
                pub const $name: StatusCode = StatusCode($code);
            )*

            /// The reason phrase the RFCs give for this code, if the code is registered.
            pub const fn canonical_reason(self) -> Option<&'static str> {
                match self.0 {
                    $($code => Some($reason),)*
                    _ => None,
                }
            }
        }
    };
}

codes! {
    TRYING = 100, "Trying", "RFC 3261 §21.1.1";
    RINGING = 180, "Ringing", "RFC 3261 §21.1.2";
    CALL_IS_BEING_FORWARDED = 181, "Call Is Being Forwarded", "RFC 3261 §21.1.3";
    QUEUED = 182, "Queued", "RFC 3261 §21.1.4";
    SESSION_PROGRESS = 183, "Session Progress", "RFC 3261 §21.1.5";
    EARLY_DIALOG_TERMINATED = 199, "Early Dialog Terminated", "RFC 6228";
    OK = 200, "OK", "RFC 3261 §21.2.1";
    ACCEPTED = 202, "Accepted", "RFC 6665";
    NO_NOTIFICATION = 204, "No Notification", "RFC 5839";
    MULTIPLE_CHOICES = 300, "Multiple Choices", "RFC 3261 §21.3.1";
    MOVED_PERMANENTLY = 301, "Moved Permanently", "RFC 3261 §21.3.2";
    MOVED_TEMPORARILY = 302, "Moved Temporarily", "RFC 3261 §21.3.3";
    USE_PROXY = 305, "Use Proxy", "RFC 3261 §21.3.4";
    ALTERNATIVE_SERVICE = 380, "Alternative Service", "RFC 3261 §21.3.5";
    BAD_REQUEST = 400, "Bad Request", "RFC 3261 §21.4.1";
    UNAUTHORIZED = 401, "Unauthorized", "RFC 3261 §21.4.2";
    PAYMENT_REQUIRED = 402, "Payment Required", "RFC 3261 §21.4.3";
    FORBIDDEN = 403, "Forbidden", "RFC 3261 §21.4.4";
    NOT_FOUND = 404, "Not Found", "RFC 3261 §21.4.5";
    METHOD_NOT_ALLOWED = 405, "Method Not Allowed", "RFC 3261 §21.4.6";
    NOT_ACCEPTABLE = 406, "Not Acceptable", "RFC 3261 §21.4.7";
    PROXY_AUTHENTICATION_REQUIRED = 407, "Proxy Authentication Required", "RFC 3261 §21.4.8";
    REQUEST_TIMEOUT = 408, "Request Timeout", "RFC 3261 §21.4.9";
    CONFLICT = 409, "Conflict", "RFC 2543";
    GONE = 410, "Gone", "RFC 3261 §21.4.10";
    CONDITIONAL_REQUEST_FAILED = 412, "Conditional Request Failed", "RFC 3903";
    REQUEST_ENTITY_TOO_LARGE = 413, "Request Entity Too Large", "RFC 3261 §21.4.11";
    REQUEST_URI_TOO_LONG = 414, "Request-URI Too Long", "RFC 3261 §21.4.12";
    UNSUPPORTED_MEDIA_TYPE = 415, "Unsupported Media Type", "RFC 3261 §21.4.13";
    UNSUPPORTED_URI_SCHEME = 416, "Unsupported URI Scheme", "RFC 3261 §21.4.14";
    BAD_EXTENSION = 420, "Bad Extension", "RFC 3261 §21.4.15";
    EXTENSION_REQUIRED = 421, "Extension Required", "RFC 3261 §21.4.16";
    SESSION_INTERVAL_TOO_SMALL = 422, "Session Interval Too Small", "RFC 4028";
    INTERVAL_TOO_BRIEF = 423, "Interval Too Brief", "RFC 3261 §21.4.17";
    TEMPORARILY_UNAVAILABLE = 480, "Temporarily Unavailable", "RFC 3261 §21.4.18";
    CALL_OR_TRANSACTION_DOES_NOT_EXIST = 481, "Call/Transaction Does Not Exist", "RFC 3261 §21.4.19";
    LOOP_DETECTED = 482, "Loop Detected", "RFC 3261 §21.4.20";
    TOO_MANY_HOPS = 483, "Too Many Hops", "RFC 3261 §21.4.21";
    ADDRESS_INCOMPLETE = 484, "Address Incomplete", "RFC 3261 §21.4.22";
    AMBIGUOUS = 485, "Ambiguous", "RFC 3261 §21.4.23";
    BUSY_HERE = 486, "Busy Here", "RFC 3261 §21.4.24";
    REQUEST_TERMINATED = 487, "Request Terminated", "RFC 3261 §21.4.25";
    NOT_ACCEPTABLE_HERE = 488, "Not Acceptable Here", "RFC 3261 §21.4.26";
    BAD_EVENT = 489, "Bad Event", "RFC 6665";
    REQUEST_PENDING = 491, "Request Pending", "RFC 3261 §21.4.27";
    UNDECIPHERABLE = 493, "Undecipherable", "RFC 3261 §21.4.28";
    SERVER_INTERNAL_ERROR = 500, "Server Internal Error", "RFC 3261 §21.5.1";
    NOT_IMPLEMENTED = 501, "Not Implemented", "RFC 3261 §21.5.2";
    BAD_GATEWAY = 502, "Bad Gateway", "RFC 3261 §21.5.3";
    SERVICE_UNAVAILABLE = 503, "Service Unavailable", "RFC 3261 §21.5.4";
    SERVER_TIMEOUT = 504, "Server Time-out", "RFC 3261 §21.5.5";
    VERSION_NOT_SUPPORTED = 505, "Version Not Supported", "RFC 3261 §21.5.6";
    MESSAGE_TOO_LARGE = 513, "Message Too Large", "RFC 3261 §21.5.7";
    BUSY_EVERYWHERE = 600, "Busy Everywhere", "RFC 3261 §21.6.1";
    DECLINE = 603, "Decline", "RFC 3261 §21.6.2";
    DOES_NOT_EXIST_ANYWHERE = 604, "Does Not Exist Anywhere", "RFC 3261 §21.6.3";
    NOT_ACCEPTABLE_GLOBAL = 606, "Not Acceptable", "RFC 3261 §21.6.4";
}

impl StatusCode {
    /// The code `n`, or `None` outside `100..=699`.
    pub const fn new(n: u16) -> Option<Self> {
        if n >= 100 && n <= 699 {
            Some(StatusCode(n))
        } else {
            None
        }
    }

    /// The numeric value.
    pub const fn as_u16(self) -> u16 {
        self.0
    }

    /// The class (first digit).
    pub const fn class(self) -> StatusClass {
        match self.0 / 100 {
            1 => StatusClass::Provisional,
            2 => StatusClass::Success,
            3 => StatusClass::Redirection,
            4 => StatusClass::ClientError,
            5 => StatusClass::ServerError,
            // The constructor admits only 100..=699.
            _ => StatusClass::GlobalFailure,
        }
    }

    /// `1xx`.
    pub const fn is_provisional(self) -> bool {
        self.0 < 200
    }

    /// `2xx`.
    pub const fn is_success(self) -> bool {
        self.0 >= 200 && self.0 < 300
    }

    /// `200..=699`: the response ends a client transaction's wait.
    pub const fn is_final(self) -> bool {
        self.0 >= 200
    }

    /// Whether the code is registered (has a [canonical reason](Self::canonical_reason)).
    pub const fn is_known(self) -> bool {
        self.canonical_reason().is_some()
    }

    /// The code a UA acts on: the code itself if known, else the x00 code of its class
    /// (RFC 3261 §8.1.3.2: "treat any unknown response as the x00 response code of that
    /// class").
    pub const fn effective(self) -> StatusCode {
        if self.is_known() {
            self
        } else {
            StatusCode(self.0 / 100 * 100)
        }
    }

    /// The canonical reason phrase, or a generic one for the class of an unknown code.
    pub const fn reason(self) -> &'static str {
        match self.canonical_reason() {
            Some(r) => r,
            None => match self.class() {
                StatusClass::Provisional => "Provisional",
                StatusClass::Success => "Success",
                StatusClass::Redirection => "Redirection",
                StatusClass::ClientError => "Client Error",
                StatusClass::ServerError => "Server Error",
                StatusClass::GlobalFailure => "Global Failure",
            },
        }
    }
}

impl TryFrom<u16> for StatusCode {
    type Error = InvalidStatusCode;
    fn try_from(n: u16) -> Result<Self, Self::Error> {
        StatusCode::new(n).ok_or(InvalidStatusCode)
    }
}

impl From<StatusCode> for u16 {
    fn from(c: StatusCode) -> u16 {
        c.0
    }
}

impl fmt::Display for StatusCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A number outside `100..=699` was given as a status code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct InvalidStatusCode;

impl fmt::Display for InvalidStatusCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("status code outside 100..=699")
    }
}

impl core::error::Error for InvalidStatusCode {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_and_classes() {
        assert!(StatusCode::new(99).is_none());
        assert!(StatusCode::new(700).is_none());
        for n in 100..=699u16 {
            let c = StatusCode::new(n).unwrap(); // unwrap: in range
            assert_eq!(c.as_u16(), n);
            let e = c.effective();
            assert_eq!(e.as_u16() / 100, n / 100);
            assert!(e.is_known() || e.as_u16().is_multiple_of(100));
            assert_eq!(c.is_final(), n >= 200);
        }
        assert_eq!(
            StatusCode::new(183).unwrap().effective(),
            StatusCode::SESSION_PROGRESS
        );
        assert_eq!(StatusCode::new(299).unwrap().effective(), StatusCode::OK);
        assert_eq!(StatusCode::new(699).unwrap().effective().as_u16(), 600);
        assert_eq!(StatusCode::new(699).unwrap().reason(), "Global Failure");
    }
}
