//! Formatted source written directly as text, for every emitter but the links: no token
//! stream to build, parse and pretty-print, which is most of what `generate` cost per byte.
//! Laid out by `prettyplease`'s rules, so the output reads as if it had been formatted: four
//! spaces per level; a signature, call ([`Expr`]), `#[derive]`, struct literal or generic type
//! that does not fit in [`MARGIN`] columns gets one item a line; every item gets
//! `#[allow(dead_code)]` after its docs. String literals are escaped as `quote!` escapes them
//! ([`lit_str`]), and names come from `names.rs` already raw (`r#type`) where they must be.

/// The column a line should fit in (prettyplease's margin).
pub const MARGIN: usize = 89;

/// Generated source and, for the collision check, the inherent methods it defines.
#[derive(Default)]
pub struct Code {
    /// The formatted source, ending with a newline.
    pub text: String,
    /// `(type, method)` for every method of an inherent `impl` in `text`.
    pub methods: Vec<(String, String)>,
}

impl Code {
    /// One line at `indent` levels.
    pub fn line(&mut self, indent: usize, line: &str) {
        self.indent(indent);
        self.text.push_str(line);
        self.text.push('\n');
    }

    fn indent(&mut self, indent: usize) {
        for _ in 0..indent {
            self.text.push_str("    ");
        }
    }

    /// `///` lines for our own sentences (see `emit::docs`).
    pub fn doc<'a>(&mut self, indent: usize, paragraphs: impl IntoIterator<Item = &'a str>) {
        for line in super::doc_lines(paragraphs) {
            self.indent(indent);
            self.text.push_str("///");
            self.text.push_str(line.trim_end());
            self.text.push('\n');
        }
    }

    /// An item's docs and `#[allow(dead_code)]`, as `format` gives every item parsed from tokens.
    pub fn item_doc<'a>(&mut self, paragraphs: impl IntoIterator<Item = &'a str>) {
        self.doc(0, paragraphs);
        self.allow();
    }

    /// `pub type name = target<arg>;`, the argument on a line of its own when it does not fit.
    pub fn type_alias(&mut self, name: &str, target: &str, arg: &str) {
        let line = format!("pub type {name} = {target}<{arg}>;");
        if line.len() <= MARGIN {
            self.line(0, &line);
        } else {
            self.line(0, &format!("pub type {name} = {target}<"));
            self.line(1, &format!("{arg},"));
            self.line(0, ">;");
        }
    }

    /// `#[allow(dead_code)]` on a top-level item.
    pub fn allow(&mut self) {
        self.line(0, "#[allow(dead_code)]");
    }

    /// Opens a method of the inherent impl of `owner`: `pub fn name<'k>(&self, a: A) -> R {`,
    /// broken one parameter a line when it does not fit. Close it with `self.line(1, "}")`.
    pub fn method(
        &mut self,
        owner: &str,
        name: &str,
        generics: &str,
        params: &[String],
        ret: &str,
    ) {
        self.methods.push((owner.to_owned(), name.to_owned()));
        let indent = 1;
        let head = format!("pub fn {name}{generics}(");
        let tail = format!(") -> {ret} {{");
        let one_line = 4 * indent + head.len() + params.iter().map(|p| p.len() + 2).sum::<usize>()
            + 5 // `&self`
            + tail.len();
        if one_line <= MARGIN {
            let mut line = head;
            line.push_str("&self");
            for p in params {
                line.push_str(", ");
                line.push_str(p);
            }
            line.push_str(&tail);
            self.line(indent, &line);
        } else {
            self.line(indent, &head);
            self.line(indent + 1, "&self,");
            for p in params {
                self.indent(indent + 1);
                self.text.push_str(p);
                self.text.push_str(",\n");
            }
            self.line(indent, &tail);
        }
    }

    /// A call statement or tail expression at `indent`: `callee(a, b)` then `end` (`;` or
    /// nothing), broken one argument a line when it does not fit (see [`Self::expr`]).
    pub fn call(&mut self, indent: usize, callee: &str, args: &[&str], end: &str) {
        let args = args.iter().map(|a| Expr::atom(*a)).collect();
        self.expr(indent, "", &Expr::call(callee, args), end);
    }
}

/// An expression to lay out: text that never breaks, or a call whose arguments go one a line
/// when the call does not fit (prettyplease's rule for calls, method calls and tuple structs).
#[derive(Clone)]
pub enum Expr {
    /// Unbreakable text: `self.id`, `&self.label`.
    Atom(String),
    /// `callee(args)`.
    Call(String, Vec<Expr>),
    /// `name!(tokens)`: when it does not fit, the tokens go on one line of their own (no
    /// trailing comma), as prettyplease prints a macro call.
    Macro(String, String),
}

impl Expr {
    /// Unbreakable text.
    pub fn atom(text: impl Into<String>) -> Self {
        Expr::Atom(text.into())
    }

    /// `callee(args)`.
    pub fn call(callee: impl Into<String>, args: Vec<Expr>) -> Self {
        Expr::Call(callee.into(), args)
    }

    /// The width on one line.
    pub fn width(&self) -> usize {
        match self {
            Expr::Atom(a) => a.len(),
            Expr::Call(c, args) => c.len() + 2 + args_width(args),
            Expr::Macro(c, tokens) => c.len() + 2 + tokens.len(),
        }
    }

    /// The expression on one line.
    pub fn flat(&self) -> String {
        let mut out = String::with_capacity(self.width());
        self.write_flat(&mut out);
        out
    }

    fn write_flat(&self, out: &mut String) {
        match self {
            Expr::Atom(a) => out.push_str(a),
            Expr::Call(c, args) => {
                out.push_str(c);
                out.push('(');
                for (i, a) in args.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    a.write_flat(out);
                }
                out.push(')');
            }
            Expr::Macro(c, tokens) => {
                out.push_str(c);
                out.push('(');
                out.push_str(tokens);
                out.push(')');
            }
        }
    }
}

fn args_width(args: &[Expr]) -> usize {
    args.iter()
        .map(|a| a.width() + 2)
        .sum::<usize>()
        .saturating_sub(2)
}

impl Code {
    /// `prefix` then `expr` then `end` at `indent`, calls broken as prettyplease breaks them:
    /// a call's arguments go one a line (with a trailing comma) when the call, its closing
    /// parenthesis and `end` (the text up to the next possible line break: `;`, or nothing)
    /// pass [`MARGIN`].
    pub fn expr(&mut self, indent: usize, prefix: &str, expr: &Expr, end: &str) {
        self.indent(indent);
        self.text.push_str(prefix);
        let col = 4 * indent + prefix.len();
        self.layout(indent, col, expr, end.len());
        self.text.push_str(end);
        self.text.push('\n');
    }

    /// [`Self::expr`] for an element of a list broken one element a line, followed by `,`
    /// (which, as in prettyplease, does not count against the margin).
    pub fn list_item(&mut self, indent: usize, expr: &Expr) {
        self.indent(indent);
        self.layout(indent, 4 * indent, expr, 0);
        self.text.push_str(",\n");
    }

    fn layout(&mut self, indent: usize, col: usize, expr: &Expr, after: usize) {
        match expr {
            Expr::Atom(a) => self.text.push_str(a),
            _ if col + expr.width() + after <= MARGIN => expr.write_flat(&mut self.text),
            Expr::Macro(callee, tokens) => {
                self.text.push_str(callee);
                self.text.push_str("(\n");
                self.line(indent + 1, tokens);
                self.indent(indent);
                self.text.push(')');
            }
            Expr::Call(callee, args) => {
                self.text.push_str(callee);
                self.text.push_str("(\n");
                for a in args {
                    self.indent(indent + 1);
                    self.layout(indent + 1, 4 * (indent + 1), a, 0);
                    self.text.push_str(",\n");
                }
                self.indent(indent);
                self.text.push(')');
            }
        }
    }

    /// `#[derive(..)]` at `indent`, one path a line (no trailing comma) when it does not fit.
    pub fn derive(&mut self, indent: usize, paths: &[String]) {
        let line = format!("#[derive({})]", paths.join(", "));
        if 4 * indent + line.len() <= MARGIN {
            self.line(indent, &line);
        } else {
            self.line(indent, "#[derive(");
            for (i, p) in paths.iter().enumerate() {
                self.indent(indent + 1);
                self.text.push_str(p);
                if i + 1 < paths.len() {
                    self.text.push(',');
                }
                self.text.push('\n');
            }
            self.line(indent, ")]");
        }
    }

    /// Opens a function at `indent`: `head(params) -> ret {` (`head` is `pub fn name<'a>`, `ret`
    /// may be empty), broken one parameter a line when it does not fit. Close it with
    /// `self.line(indent, "}")`.
    pub fn fn_open(&mut self, indent: usize, head: &str, params: &[&str], ret: &str) {
        let tail = if ret.is_empty() {
            ") {".to_owned()
        } else {
            format!(") -> {ret} {{")
        };
        let one_line = 4 * indent
            + head.len()
            + 1
            + params
                .iter()
                .map(|p| p.len() + 2)
                .sum::<usize>()
                .saturating_sub(2)
            + tail.len();
        if one_line <= MARGIN {
            self.indent(indent);
            self.text.push_str(head);
            self.text.push('(');
            self.text.push_str(&params.join(", "));
            self.text.push_str(&tail);
            self.text.push('\n');
        } else {
            self.indent(indent);
            self.text.push_str(head);
            self.text.push_str("(\n");
            for p in params {
                self.indent(indent + 1);
                self.text.push_str(p);
                self.text.push_str(",\n");
            }
            self.line(indent, &tail);
        }
    }

    /// Opens an impl block (after `#[allow(dead_code)]`): `impl<..> Trait for Type {`, broken
    /// before `for` when it does not fit, as prettyplease does (a head that alone passes the
    /// margin stays on its line, where prettyplease would break its generics).
    pub fn impl_open(&mut self, head: &str, for_ty: &str) {
        self.allow();
        let line = format!("{head} for {for_ty} {{");
        if line.len() <= MARGIN {
            self.line(0, &line);
        } else {
            self.line(0, head);
            self.line(0, &format!("for {for_ty} {{"));
        }
    }

    /// Docs for an item the schema documents (made inert by [`super::inert_doc`], then ours) at `indent`.
    pub fn schema_doc<'a>(
        &mut self,
        indent: usize,
        schema_doc: Option<&str>,
        ours: impl IntoIterator<Item = &'a str>,
    ) {
        let inert = schema_doc.and_then(super::inert_doc);
        let mut paragraphs: Vec<&str> = inert.as_deref().into_iter().collect();
        paragraphs.extend(ours.into_iter().map(|p| -> &str { p }));
        self.doc(indent, paragraphs);
    }
}

/// A string literal as `quote!` writes one (proc-macro2's escaping: `escape_debug` except `'`,
/// `\0` as `\x00` before an octal digit).
pub fn lit_str(s: &str) -> String {
    let mut repr = String::with_capacity(s.len() + 2);
    repr.push('"');
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\0' if chars
                .as_str()
                .starts_with(|n: char| ('0'..='7').contains(&n)) =>
            {
                repr.push_str(r"\x00");
            }
            '\0' => repr.push_str(r"\0"),
            '\'' => repr.push('\''),
            c => repr.extend(c.escape_debug()),
        }
    }
    repr.push('"');
    repr
}

/// prettyplease's widest struct literal on one line (`Self { id: r.read()? }`).
const STRUCT_LIT_MAX: usize = 34;

impl Code {
    /// `prefix path { a: x, b: y }end` at `indent` (`fields` are `("a", x)`), one field a line
    /// (trailing comma) when it is wider than prettyplease allows a struct literal or does not
    /// fit.
    pub fn struct_lit(
        &mut self,
        indent: usize,
        prefix: &str,
        path: &str,
        fields: &[(String, Expr)],
        end: &str,
    ) {
        if fields.is_empty() {
            self.line(indent, &format!("{prefix}{path} {{}}{end}"));
            return;
        }
        let joined = fields
            .iter()
            .map(|(name, value)| format!("{name}: {}", value.flat()))
            .collect::<Vec<_>>()
            .join(", ");
        let width = path.len() + 3 + joined.len() + 1;
        if width <= STRUCT_LIT_MAX && 4 * indent + prefix.len() + width + 1 + end.len() <= MARGIN {
            self.line(indent, &format!("{prefix}{path} {{ {joined} }}{end}"));
        } else {
            self.line(indent, &format!("{prefix}{path} {{"));
            for (name, value) in fields {
                self.indent(indent + 1);
                self.text.push_str(name);
                self.text.push_str(": ");
                self.layout(indent + 1, 4 * (indent + 1) + name.len() + 2, value, 0);
                self.text.push_str(",\n");
            }
            self.line(indent, &format!("}}{end}"));
        }
    }

    /// A struct field `prefix: ty,` at `indent`; a type that does not fit has its outermost
    /// generic arguments one a line, as prettyplease breaks them.
    pub fn field(&mut self, indent: usize, prefix: &str, ty: &str) {
        let line = format!("{prefix}: {ty},");
        let open = ty.find('<');
        match open {
            Some(open) if 4 * indent + line.len() > MARGIN && ty.ends_with('>') => {
                self.line(indent, &format!("{prefix}: {}", &ty[..=open]));
                for arg in split_top_level(&ty[open + 1..ty.len() - 1]) {
                    self.line(indent + 1, &format!("{arg},"));
                }
                self.line(indent, ">,");
            }
            _ => self.line(indent, &line),
        }
    }

    /// Items given as tokens inside an impl block (`impl X { tokens }`), pretty-printed and
    /// appended at indent 1: for the few members still emitted as tokens. Tokens that do not
    /// parse (a bug in an emitter) become a `compile_error!` naming the bug, not a panic.
    pub fn impl_items_from_tokens(&mut self, tokens: proc_macro2::TokenStream) {
        if tokens.is_empty() {
            return;
        }
        let file: syn::File = match syn::parse2(quote::quote!(impl X { #tokens })) {
            Ok(file) => file,
            Err(e) => {
                let message = format!("netabase-build bug: generated items do not parse: {e}");
                self.line(
                    1,
                    &format!("::core::compile_error!({});", lit_str(&message)),
                );
                return;
            }
        };
        let text = prettyplease::unparse(&file);
        let lines: Vec<&str> = text.lines().collect();
        for line in &lines[1..lines.len() - 1] {
            self.text.push_str(line);
            self.text.push('\n');
        }
    }
}

/// `a, B<c, d>` split at its top-level commas.
fn split_top_level(args: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0usize, 0);
    for (i, c) in args.char_indices() {
        match c {
            '<' | '(' | '[' => depth += 1,
            '>' | ')' | ']' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                out.push(args[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(args[start..].trim());
    out
}

#[cfg(test)]
mod tests {
    use super::{Code, Expr, lit_str};

    #[test]
    fn string_literals_are_escaped_as_quote_escapes_them() {
        for s in [
            "plain",
            "Def/Model",
            "quote \" and 'apostrophe' and \\ backslash",
            "tab\tnewline\ncarriage\r",
            "nul\0 then nul\x007 (octal-looking)",
            "bell \x07 escape \x1b delete \x7f",
            "non-ASCII: é ü 日本 🦀",
            "bidi \u{202E} and \u{2066} and zero width \u{200B}",
            "unknown variant {} of enum `Format`",
        ] {
            assert_eq!(
                lit_str(s),
                proc_macro2::Literal::string(s).to_string(),
                "{s:?}"
            );
        }
    }

    /// Calls of every width around the margin, laid out by [`Code::expr`] and by prettyplease.
    #[test]
    fn calls_break_where_prettyplease_breaks_them() {
        for outer in 1..40 {
            for inner in [1, 20, 40, 60] {
                let callee = format!("f{}", "o".repeat(outer));
                let arg = format!("a{}", "b".repeat(inner));
                let expr = Expr::call(
                    format!("::m::{callee}"),
                    vec![
                        Expr::call("g", vec![Expr::atom(arg.clone()), Expr::atom("x")]),
                        Expr::atom("&self.y"),
                    ],
                );
                for end in [";", ""] {
                    let mut code = Code::default();
                    code.line(0, "fn f() {");
                    code.expr(1, "", &expr, end);
                    code.line(0, "}");
                    let tokens: proc_macro2::TokenStream = code.text.parse().expect("lexes");
                    let file: syn::File = syn::parse2(tokens).expect("parses");
                    assert_eq!(code.text, prettyplease::unparse(&file), "{}", code.text);
                }
            }
        }
    }

    fn prettyplease(code: &Code) -> String {
        let tokens: proc_macro2::TokenStream = code.text.parse().expect("lexes");
        prettyplease::unparse(&syn::parse2(tokens).expect("parses"))
    }

    /// Signatures, struct literals and struct fields of every width around the margin.
    #[test]
    fn items_break_where_prettyplease_breaks_them() {
        for n in 1..60 {
            let name = format!("n{}", "x".repeat(n));
            let mut code = Code::default();
            code.line(0, "impl X {");
            code.fn_open(
                1,
                &format!("fn {name}"),
                &["&self", "out: &mut Vec<u8>"],
                "Result<u8, E>",
            );
            code.line(2, "let _ = out;");
            code.struct_lit(
                2,
                "let v = ",
                "Self",
                &[(name.clone(), Expr::atom("r.read()?"))],
                ";",
            );
            let fields = [
                (name.clone(), Expr::atom("r.read()?")),
                (
                    "b".to_owned(),
                    Expr::call("::c::d", vec![Expr::atom(format!("&self.{name}"))]),
                ),
            ];
            code.struct_lit(2, "", "Self", &fields, "");
            code.line(1, "}");
            code.line(0, "}");
            code.line(0, &format!("struct {name} {{"));
            code.field(
                1,
                &format!("pub {name}"),
                "::core::option::Option<::std::vec::Vec<::std::string::String>>",
            );
            code.line(0, "}");
            assert_eq!(code.text, prettyplease(&code), "{}", code.text);
        }
    }

    /// `#[derive]` lists and impl headers of every width around the margin.
    #[test]
    fn headers_break_where_prettyplease_breaks_them() {
        for n in 1..60 {
            let name = format!("N{}", "x".repeat(n));
            let mut code = Code::default();
            code.derive(
                0,
                &["::core::fmt::Debug".to_owned(), format!("::m::{name}")],
            );
            code.allow();
            code.line(0, &format!("pub struct {name};"));
            // (Past column 89 the head alone is broken inside its generics, which ours is not.)
            if n < 45 {
                code.impl_open(
                    &format!("impl<'s> ::core::convert::From<::m::T<'s, {name}>>"),
                    &format!("{name}<'s>"),
                );
                code.line(1, "type A = u8;");
                code.line(0, "}");
            }
            code.expr(
                0,
                "",
                &Expr::call(
                    format!("pub struct {name}"),
                    vec![
                        Expr::atom("pub ::std::string::String"),
                        Expr::atom("pub u64"),
                    ],
                ),
                ";",
            );
            assert_eq!(code.text, prettyplease(&code), "{}", code.text);
        }
    }

    /// [`Code::call`] (statements and tail calls of the tree methods) around the margin.
    #[test]
    fn call_statements_break_where_prettyplease_breaks_them() {
        for n in 1..60 {
            let callee = format!("::m::f{}", "o".repeat(n));
            for end in [";", ""] {
                let mut code = Code::default();
                code.line(0, "fn f() {");
                code.call(1, &callee, &["self.inner.raw()", "&::m::B::exact(&x)"], end);
                code.line(0, "}");
                assert_eq!(code.text, prettyplease(&code), "{}", code.text);
            }
        }
    }
}
