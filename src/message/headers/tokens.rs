//! Token-list header values: Require, Supported, Proxy-Require, Unsupported, Allow,
//! Allow-Events, Content-Encoding (RFC 3261 §20.32, §20.37, §20.29, §20.40, §20.5, §20.12).

use super::check_params;
use crate::error::{ParseError, ParseErrorKind};
use crate::message::lex::{self, CommaSeparated, Params};

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

/// An allocation-free iterator over a whole `element *(COMMA element)` header value whose
/// elements are `token *( SEMI generic-param )`, such as Accept-Encoding and
/// Accept-Language (RFC 3261 §20.2, §20.3: `encoding *(SEMI accept-param)`). Yields each
/// token with its (checked) parameters; an empty value yields nothing.
///
/// ```
/// use sansip::message::TokenParamList;
/// let mut it = TokenParamList::new(b"gzip;q=0.5, identity");
/// let (t, mut p) = it.next().unwrap().unwrap();
/// assert_eq!((t, p.next().unwrap().unwrap().value), ("gzip", Some(&b"0.5"[..])));
/// assert_eq!(it.next().unwrap().unwrap().0, "identity");
/// assert!(it.next().is_none());
/// ```
#[derive(Clone, Debug)]
pub struct TokenParamList<'a> {
    inner: CommaSeparated<'a>,
}

impl<'a> TokenParamList<'a> {
    /// Iterate the elements of `value` (a whole header value; offsets are relative to it).
    pub fn new(value: &'a [u8]) -> Self {
        TokenParamList {
            inner: CommaSeparated::new(value),
        }
    }
}

impl<'a> Iterator for TokenParamList<'a> {
    type Item = Result<(&'a str, Params<'a>), ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        let kind = ParseErrorKind::Token;
        Some(self.inner.next()?.and_then(|(off, item)| {
            let end = lex::token_end(item, 0);
            let token = lex::token_str(item.get(..end).unwrap_or_default(), kind, off)?;
            check_params(item, end, kind, |_| Ok(())).map_err(|e| e.shifted(off))?;
            // Offsets reported by the returned iterator are relative to `value` too.
            Ok((
                token,
                Params::new(item.get(end..).unwrap_or_default(), off + end),
            ))
        }))
    }
}
