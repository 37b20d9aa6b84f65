//! Type expressions: `u64`, `String`, `Bytes`, `Option<T>`, `Vec<T>`.

use crate::diagnostics::{Diagnostic, did_you_mean};
use crate::ir::{Scalar, Type};
use crate::parse::Spanned;
use std::ops::Range;

const WRAPPERS: [&str; 2] = ["Option", "Vec"];
const NAMED: [&str; 2] = ["String", "Bytes"];

/// Parses a field's type string.
pub fn parse_type(text: &Spanned<String>) -> Result<Type, Diagnostic> {
    // The span covers the quotes: the text starts one byte in.
    let mut parser = Parser {
        text: &text.value,
        pos: 0,
        base: text.span.start + 1,
    };
    let ty = parser.ty()?;
    parser.skip_space();
    if parser.pos < parser.text.len() {
        return Err(parser
            .error(
                parser.pos..parser.text.len(),
                "unexpected text after the type",
                "this is not part of the type",
            )
            .help("a field has one type, such as `u64`, `Option<String>` or `Vec<i32>`"));
    }
    Ok(ty)
}

struct Parser<'a> {
    text: &'a str,
    pos: usize,
    base: usize,
}

impl Parser<'_> {
    fn ty(&mut self) -> Result<Type, Diagnostic> {
        self.skip_space();
        let start = self.pos;
        let name_len = self.text[start..]
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(self.text.len() - start);
        self.pos += name_len;
        let name = &self.text[start..self.pos];
        if name.is_empty() {
            return Err(self
                .error(
                    start..(start + 1).min(self.text.len()),
                    "expected a type",
                    "a type name belongs here",
                )
                .help(format!("the types are {}", all_types())));
        }
        if let Some(&(scalar, _)) = Scalar::ALL.iter().find(|(_, n)| *n == name) {
            return Ok(Type::Scalar(scalar));
        }
        match name {
            "String" => Ok(Type::String),
            "Bytes" => Ok(Type::Bytes),
            "Option" => Ok(Type::Option(Box::new(self.parameter(name, start)?))),
            "Vec" => Ok(Type::Vec(Box::new(self.parameter(name, start)?))),
            _ => {
                let candidates = Scalar::ALL
                    .iter()
                    .map(|(_, n)| *n)
                    .chain(NAMED)
                    .chain(WRAPPERS);
                let error = self.error(
                    start..self.pos,
                    format!("unknown type `{name}`"),
                    "not a type netabase knows",
                );
                Err(match did_you_mean(name, candidates) {
                    Some(close) => error.help(format!("did you mean `{close}`?")),
                    None => error.help(format!("the types are {}", all_types())),
                })
            }
        }
    }

    fn parameter(&mut self, wrapper: &str, start: usize) -> Result<Type, Diagnostic> {
        self.skip_space();
        if !self.eat('<') {
            return Err(self
                .error(
                    start..self.pos,
                    format!("`{wrapper}` needs a type parameter"),
                    "missing `<T>`",
                )
                .help(format!("write `{wrapper}<String>`, for example")));
        }
        let inner = self.ty()?;
        self.skip_space();
        if !self.eat('>') {
            let at = self.pos.min(self.text.len());
            return Err(self
                .error(
                    at..(at + 1).min(self.text.len()).max(at),
                    format!("unclosed `{wrapper}<`"),
                    "expected `>`",
                )
                .help(format!(
                    "close the parameter: `{wrapper}<{}>`",
                    inner.spelling()
                )));
        }
        Ok(inner)
    }

    fn eat(&mut self, c: char) -> bool {
        if self.text[self.pos..].starts_with(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }

    fn skip_space(&mut self) {
        let rest = &self.text[self.pos..];
        self.pos += rest.len() - rest.trim_start().len();
    }

    fn error(
        &self,
        range: Range<usize>,
        message: impl Into<String>,
        label: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic::new(
            self.base + range.start..self.base + range.end,
            message,
            label,
        )
    }
}

fn all_types() -> String {
    let names: Vec<&str> = Scalar::ALL
        .iter()
        .map(|(_, n)| *n)
        .chain(NAMED)
        .chain(["Option<T>", "Vec<T>"])
        .collect();
    crate::parse::list(&names)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Type, Diagnostic> {
        parse_type(&Spanned {
            value: s.to_owned(),
            span: 10..12 + s.len(),
        })
    }

    #[test]
    fn parses_nested_types() {
        assert_eq!(parse("u64").unwrap(), Type::Scalar(Scalar::U64));
        assert_eq!(
            parse(" Option< Vec<String> > ").unwrap(),
            Type::Option(Box::new(Type::Vec(Box::new(Type::String))))
        );
        assert_eq!(parse("Bytes").unwrap(), Type::Bytes);
    }

    #[test]
    fn reports_position_and_suggestion() {
        let e = parse("Option<Strng>").unwrap_err();
        assert_eq!(e.span, 18..23);
        assert_eq!(e.help.as_deref(), Some("did you mean `String`?"));
        assert!(parse("Vec<u8").unwrap_err().message.contains("unclosed"));
        assert!(
            parse("Option")
                .unwrap_err()
                .message
                .contains("needs a type parameter")
        );
        assert!(
            parse("u64 u32")
                .unwrap_err()
                .message
                .contains("unexpected text")
        );
        assert!(parse("").unwrap_err().message.contains("expected a type"));
    }
}
