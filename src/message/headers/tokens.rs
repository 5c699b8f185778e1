//! Token-list header values: Require, Supported, Proxy-Require, Unsupported, Allow,
//! Allow-Events, Content-Encoding (RFC 3261 §20.32, §20.37, §20.29, §20.40, §20.5, §20.12).

use crate::error::{ParseError, ParseErrorKind};
use crate::message::lex::{self, CommaSeparated};

/// An allocation-free iterator over the tokens of a whole `token *(COMMA token)` header
/// value. An empty value yields nothing (`Supported:` may be empty, RFC 3261 §20.37);
/// an empty element or a non-token is an error at its offset.
///
/// ```
/// use sansip::message::TokenList;
/// let tags: Vec<_> = TokenList::new(b"100rel, timer ,\r\n path").map(Result::unwrap).collect();
/// assert_eq!(tags, ["100rel", "timer", "path"]);
/// assert!(TokenList::new(b"a,,b").any(|t| t.is_err()));
/// ```
#[derive(Clone, Debug)]
pub struct TokenList<'a> {
    inner: CommaSeparated<'a>,
}

impl<'a> TokenList<'a> {
    /// Iterate the tokens of `value` (a whole header value; offsets are relative to it).
    pub fn new(value: &'a [u8]) -> Self {
        TokenList {
            inner: CommaSeparated::new(value),
        }
    }
}

impl<'a> Iterator for TokenList<'a> {
    type Item = Result<&'a str, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        Some(
            self.inner
                .next()?
                .and_then(|(off, item)| lex::token_str(item, ParseErrorKind::Token, off)),
        )
    }
}
