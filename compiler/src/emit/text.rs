//! Formatted source written directly as text, for the large and regular items (the tree
//! wrappers): no token stream to build, parse and pretty-print, which is most of what
//! `generate` costs per byte. Laid out as `prettyplease` lays out the rest of the file: four
//! spaces per level, a signature or call that does not fit in [`MARGIN`] columns gets one
//! argument per line, every item gets `#[allow(dead_code)]` after its docs.

/// The column a line should fit in (prettyplease's margin).
pub(crate) const MARGIN: usize = 89;

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

    /// `///` lines for our own sentences (see [`super::docs`]).
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
    /// nothing), broken one argument a line when it does not fit.
    pub fn call(&mut self, indent: usize, callee: &str, args: &[&str], end: &str) {
        // As prettyplease measures it: up to the last argument (not the `)` and what follows).
        let one_line =
            4 * indent + callee.len() + 1 + args.iter().map(|a| a.len() + 2).sum::<usize>() - 2;
        if one_line <= MARGIN {
            self.indent(indent);
            self.text.push_str(callee);
            self.text.push('(');
            self.text.push_str(&args.join(", "));
            self.text.push(')');
            self.text.push_str(end);
            self.text.push('\n');
        } else {
            self.indent(indent);
            self.text.push_str(callee);
            self.text.push_str("(\n");
            for a in args {
                self.indent(indent + 1);
                self.text.push_str(a);
                self.text.push_str(",\n");
            }
            self.indent(indent);
            self.text.push(')');
            self.text.push_str(end);
            self.text.push('\n');
        }
    }
}
