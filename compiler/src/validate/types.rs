//! Type expressions. Parsing (`u64`, `Option<T>`, `Vec<T>`, `[T; N]`, `BTreeMap<K, V>`, names)
//! is separate from resolving names, so that the schema's own enums and structs can be ordered
//! and checked for cycles before any field type is resolved.

use crate::diagnostics::{Diagnostic, did_you_mean};
use crate::ir::{Link, NamedRef, Scalar, Type};
use crate::parse::Spanned;
use std::collections::BTreeMap;
use std::ops::Range;

/// A parsed, unresolved type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypeExpr {
    /// `Name` or `Name<args>`.
    Named {
        name: String,
        span: Range<usize>,
        args: Vec<TypeExpr>,
    },
    /// `[T; N]`.
    Array {
        item: Box<TypeExpr>,
        len: usize,
        span: Range<usize>,
    },
}

impl TypeExpr {
    /// Every name this expression mentions, with its span.
    pub fn names(&self, out: &mut Vec<(String, Range<usize>)>) {
        match self {
            TypeExpr::Named { name, span, args } => {
                out.push((name.clone(), span.clone()));
                for a in args {
                    a.names(out);
                }
            }
            TypeExpr::Array { item, .. } => item.names(out),
        }
    }
}

const BUILTIN: [&str; 6] = ["String", "Bytes", "Option", "Vec", "BTreeMap", "char"];

/// Parses a field's type string. `source` is the schema text: offsets inside the string map to
/// it only when the string is written plainly (`"..."` with no escape); otherwise errors point at
/// the whole string.
pub fn parse_type(text: &Spanned<String>, source: &str) -> Result<TypeExpr, Diagnostic> {
    let plain = source.get(text.span.clone()) == Some(format!("\"{}\"", text.value).as_str());
    let mut parser = Parser {
        text: &text.value,
        pos: 0,
        // The span covers the quotes: the text starts one byte in.
        base: text.span.start + 1,
        whole: (!plain).then(|| text.span.clone()),
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

/// The schema's own enums and structs: what each valid name resolves to, and the names that
/// were declared but are invalid (reported already, so a use of one is not "unknown" too).
#[derive(Debug, Default)]
pub struct Named {
    pub types: BTreeMap<String, Type>,
    pub invalid: std::collections::BTreeSet<String>,
}

/// Why a type did not resolve.
#[derive(Debug)]
pub enum Unresolved {
    /// A new error to report.
    Error(Diagnostic),
    /// It names a declaration whose own error was reported already.
    Reported,
}

impl From<Diagnostic> for Unresolved {
    fn from(error: Diagnostic) -> Self {
        Unresolved::Error(error)
    }
}

/// Resolves a parsed type against the builtins and `named` (the schema's enums and structs,
/// already resolved). `what` names other kinds of names (models) for a better error.
pub fn resolve(expr: &TypeExpr, named: &Named, models: &Models) -> Result<Type, Unresolved> {
    match expr {
        TypeExpr::Array { item, len, .. } => {
            Ok(Type::Array(Box::new(resolve(item, named, models)?), *len))
        }
        TypeExpr::Named { name, span, args } => {
            let arity = |n: usize, example: &str| -> Result<(), Diagnostic> {
                if args.len() == n {
                    return Ok(());
                }
                let message = match n {
                    0 => format!("`{name}` takes no type parameter"),
                    1 => format!("`{name}` takes one type parameter"),
                    _ => format!("`{name}` takes {n} type parameters"),
                };
                Err(
                    Diagnostic::new(span.clone(), message, format!("{} given", args.len()))
                        .help(format!("write `{example}`")),
                )
            };
            let arg = |i: usize| resolve(&args[i], named, models);
            let unknown = || -> Result<Type, Unresolved> {
                let candidates: Vec<&str> = Scalar::ALL
                    .iter()
                    .map(|(_, n)| *n)
                    .chain(BUILTIN)
                    .chain(named.types.keys().map(String::as_str))
                    .chain(models.keys().map(String::as_str))
                    .collect();
                let error = Diagnostic::new(
                    span.clone(),
                    format!("unknown type `{name}`"),
                    "not a type netabase knows",
                );
                Err(Unresolved::Error(match did_you_mean(name, candidates) {
                    Some(close) => error.help(format!("did you mean `{close}`?")),
                    None => error.help(format!(
                        "the types are {}, the schema's own `[enums.X]` and `[structs.X]`{}, \
                         and its models, for a link{}",
                        all_types(),
                        quoted_list(named.types.keys()),
                        quoted_list(models.keys()),
                    )),
                }))
            };

            if let Some(&(scalar, _)) = Scalar::ALL.iter().find(|(_, n)| *n == name) {
                arity(0, name)?;
                return Ok(Type::Scalar(scalar));
            }
            match name.as_str() {
                "String" => Ok(arity(0, "String").map(|_| Type::String)?),
                "Bytes" => Ok(arity(0, "Bytes").map(|_| Type::Bytes)?),
                "Option" => {
                    arity(1, "Option<String>")?;
                    Ok(Type::Option(Box::new(arg(0)?)))
                }
                "Vec" => {
                    arity(1, "Vec<String>")?;
                    Ok(Type::Vec(Box::new(arg(0)?)))
                }
                "BTreeMap" => {
                    arity(2, "BTreeMap<String, u64>")?;
                    let key = arg(0)?;
                    if !key.is_map_key() {
                        let key_span = match &args[0] {
                            TypeExpr::Named { span, .. } | TypeExpr::Array { span, .. } => span.clone(),
                        };
                        return Err(Diagnostic::new(key_span, format!("`{}` cannot be a map key", key.spelling()), "not a map key type")
                            .help("map keys are integers, `bool`, `char`, `String` or enums without floats: they need a total order")
                            .into());
                    }
                    Ok(Type::Map(Box::new(key), Box::new(arg(1)?)))
                }
                _ => match named.types.get(name) {
                    Some(ty) => Ok(arity(0, name).map(|_| ty.clone())?),
                    None if named.invalid.contains(name) => Err(Unresolved::Reported),
                    None => match models.get(name) {
                        Some(LinkTarget::Key { rust, model, key }) => {
                            arity(0, name)?;
                            Ok(Type::Link(Link {
                                schema: name.clone(),
                                rust: rust.clone(),
                                model: *model,
                                key: Box::new(key.clone()),
                                checked: true,
                            }))
                        }
                        Some(LinkTarget::Invalid) => Err(Unresolved::Reported),
                        Some(LinkTarget::NotHere) => Err(Unresolved::Error(
                            Diagnostic::new(span.clone(), format!("`{name}` is a model: only a model's field can link to it"), "a link inside an enum or struct")
                                .help(format!("move the link to a field of the model, or store `{name}`'s primary key here as a plain value")),
                        )),
                        None => unknown(),
                    },
                }
            }
        }
    }
}

/// What a link to each model stores: worked out from the models' primary keys before any model
/// is validated, so that a model can link to one declared after it, or to itself.
pub type Models = BTreeMap<String, LinkTarget>;

/// What a link to one model stores.
#[derive(Debug, Clone)]
pub enum LinkTarget {
    /// The model's primary key: its Rust name, position and key type (a tuple for a composite
    /// key).
    Key {
        rust: String,
        model: usize,
        key: Type,
    },
    /// The model's name or primary key is invalid (reported where it is declared).
    Invalid,
    /// A model, named where links are not allowed (in an enum or struct).
    NotHere,
}

/// What `resolve` makes of a user-defined name: used to describe enums and structs.
pub fn named(
    kind_enum: bool,
    schema: &str,
    rust: &str,
    index: usize,
    has_float: bool,
    key: bool,
) -> Type {
    let r = NamedRef {
        schema: schema.to_owned(),
        rust: rust.to_owned(),
        index,
        has_float,
        key,
    };
    if kind_enum {
        Type::Enum(r)
    } else {
        Type::Struct(r)
    }
}

struct Parser<'a> {
    text: &'a str,
    pos: usize,
    base: usize,
    /// The whole string's span, when offsets inside it do not map to the source.
    whole: Option<Range<usize>>,
}

impl Parser<'_> {
    fn ty(&mut self) -> Result<TypeExpr, Diagnostic> {
        self.skip_space();
        let start = self.pos;
        if self.eat('[') {
            let item = self.ty()?;
            self.skip_space();
            if !self.eat(';') {
                return Err(self
                    .error(self.here(), "expected `;` in an array type", "expected `;`")
                    .help("write an array as `[u8; 16]`"));
            }
            self.skip_space();
            let digits_start = self.pos;
            let digits = self.text[self.pos..]
                .chars()
                .take_while(char::is_ascii_digit)
                .count();
            self.pos += digits;
            let len = self.text[digits_start..self.pos]
                .parse::<usize>()
                .ok()
                .filter(|&n| n > 0 && n <= 65_536);
            let Some(len) = len else {
                return Err(self
                    .error(
                        if self.pos > digits_start {
                            digits_start..self.pos
                        } else {
                            self.char_at(digits_start)
                        },
                        "invalid array length",
                        "expected a length from 1 to 65536",
                    )
                    .help("write an array as `[u8; 16]`"));
            };
            self.skip_space();
            if !self.eat(']') {
                return Err(self
                    .error(self.here(), "unclosed array type", "expected `]`")
                    .help(format!("close the array: `[...; {len}]`")));
            }
            return Ok(TypeExpr::Array {
                item: Box::new(item),
                len,
                span: self.span(start..self.pos),
            });
        }
        let name_len = self.text[start..]
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(self.text.len() - start);
        self.pos += name_len;
        let name = self.text[start..self.pos].to_owned();
        if name.is_empty() {
            return Err(self
                .error(
                    self.char_at(start),
                    "expected a type",
                    "a type name belongs here",
                )
                .help(format!("the types are {}", all_types())));
        }
        let span = self.span(start..self.pos);
        self.skip_space();
        let mut args = Vec::new();
        if self.eat('<') {
            loop {
                args.push(self.ty()?);
                self.skip_space();
                if self.eat('>') {
                    break;
                }
                if !self.eat(',') {
                    return Err(self
                        .error(self.here(), format!("unclosed `{name}<`"), "expected `>`")
                        .help(format!("close the parameter: `{name}<...>`")));
                }
            }
        }
        if args.is_empty() && matches!(name.as_str(), "Option" | "Vec" | "BTreeMap") {
            let example = if name == "BTreeMap" {
                "BTreeMap<String, u64>"
            } else if name == "Vec" {
                "Vec<String>"
            } else {
                "Option<String>"
            };
            return Err(Diagnostic::new(
                span,
                format!("`{name}` needs a type parameter"),
                "missing `<T>`",
            )
            .help(format!("write `{example}`, for example")));
        }
        Ok(TypeExpr::Named { name, span, args })
    }

    /// The character at the current position (empty at the end).
    fn here(&self) -> Range<usize> {
        self.char_at(self.pos)
    }

    fn char_at(&self, at: usize) -> Range<usize> {
        let at = at.min(self.text.len());
        at..at + self.text[at..].chars().next().map_or(0, char::len_utf8)
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

    /// A range of the type string as a span of the schema source.
    fn span(&self, range: Range<usize>) -> Range<usize> {
        match &self.whole {
            Some(whole) => whole.clone(),
            None => self.base + range.start..self.base + range.end,
        }
    }

    fn error(
        &self,
        range: Range<usize>,
        message: impl Into<String>,
        label: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic::new(self.span(range), message, label)
    }
}

fn all_types() -> String {
    let names: Vec<&str> = Scalar::ALL
        .iter()
        .map(|(_, n)| *n)
        .chain([
            "String",
            "Bytes",
            "Option<T>",
            "Vec<T>",
            "[T; N]",
            "BTreeMap<K, V>",
        ])
        .collect();
    crate::parse::list(&names)
}

/// ` (`A`, `B`)` for the names a schema declares, or nothing when it declares none: the help
/// of an unknown type names what the schema has, so a misspelled model is easy to spot.
fn quoted_list<'a>(names: impl Iterator<Item = &'a String>) -> String {
    let names: Vec<String> = names.map(|n| format!("`{n}`")).collect();
    if names.is_empty() {
        String::new()
    } else {
        format!(" ({})", names.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Type, Diagnostic> {
        let source = format!("{}\"{s}\"", " ".repeat(10));
        let expr = parse_type(
            &Spanned {
                value: s.to_owned(),
                span: 10..12 + s.len(),
            },
            &source,
        )?;
        let models = Models::from([
            (
                "Author".to_owned(),
                LinkTarget::Key {
                    rust: "Author".to_owned(),
                    model: 0,
                    key: Type::Scalar(Scalar::U64),
                },
            ),
            (
                "Edition".to_owned(),
                LinkTarget::Key {
                    rust: "Edition".to_owned(),
                    model: 1,
                    key: Type::Tuple(vec![Type::String, Type::Scalar(Scalar::I32)]),
                },
            ),
        ]);
        resolve(&expr, &Named::default(), &models).map_err(|e| match e {
            Unresolved::Error(d) => d,
            Unresolved::Reported => panic!("nothing was declared"),
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
        assert_eq!(
            parse("[u8; 16]").unwrap(),
            Type::Array(Box::new(Type::Scalar(Scalar::U8)), 16)
        );
        assert_eq!(
            parse("BTreeMap<String, Vec<i128>>").unwrap(),
            Type::Map(
                Box::new(Type::String),
                Box::new(Type::Vec(Box::new(Type::Scalar(Scalar::I128))))
            )
        );
        assert_eq!(parse("char").unwrap(), Type::Scalar(Scalar::Char));
    }

    #[test]
    fn escaped_strings_are_reported_whole_and_spans_keep_characters_whole() {
        // `"\u0053trng"` is `Strng` written with an escape: offsets in the value do not map to
        // the source, so the error covers the whole string.
        let source = r#"x = "\u0053trng""#;
        let text = Spanned {
            value: "Strng".to_owned(),
            span: 4..source.len(),
        };
        let expr = parse_type(&text, source).unwrap();
        let Err(Unresolved::Error(e)) = resolve(&expr, &Named::default(), &Models::new()) else {
            panic!("resolved")
        };
        assert_eq!(e.span, 4..source.len());
        // A plain string with a multi-byte character: the caret covers the whole character.
        let source = "x = \"€\"";
        let text = Spanned {
            value: "€".to_owned(),
            span: 4..source.len(),
        };
        let e = parse_type(&text, source).unwrap_err();
        assert_eq!(&source[e.span.clone()], "€");
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
        assert!(
            parse("Vec<u8, u8>")
                .unwrap_err()
                .message
                .contains("takes one type parameter")
        );
        assert!(
            parse("[u8; 0]")
                .unwrap_err()
                .message
                .contains("invalid array length")
        );
        assert!(
            parse("[u8 16]")
                .unwrap_err()
                .message
                .contains("expected `;`")
        );
        assert!(
            parse("BTreeMap<f64, u8>")
                .unwrap_err()
                .message
                .contains("cannot be a map key")
        );
        let Ok(Type::Link(link)) = parse("Author") else {
            panic!("a model name is a link")
        };
        assert_eq!(
            (link.schema.as_str(), &*link.key, link.checked),
            ("Author", &Type::Scalar(Scalar::U64), true)
        );
        let Ok(Type::Vec(edition)) = parse("Vec<Edition>") else {
            panic!("a list of links")
        };
        assert_eq!(edition.spelling(), "Edition");
        assert_eq!(
            edition.link().map(|l| l.key.spelling()),
            Some("(String, i32)".to_owned())
        );
        assert_eq!(parse("Option<Author>").unwrap().link(), Some(&link));
    }
}
