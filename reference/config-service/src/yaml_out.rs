//! YAML text in the style of Jackson's `YAMLMapper` defaults (what APK writes): a `---` line,
//! plain keys, double-quoted strings folded at 80 columns, sequences not indented under their
//! key, empty collections as `[]`/`{}`.

use serde_yaml::Value;

/// Line width at which SnakeYAML (under Jackson) folds double-quoted strings.
const BEST_WIDTH: usize = 80;
/// Indentation step.
const INDENT: usize = 2;

/// Writes `value` as one YAML document.
pub(crate) fn to_jackson_yaml(value: &Value) -> String {
    let mut out = Writer {
        text: String::from("---"),
        column: 3,
    };
    match value {
        Value::Mapping(map) if !map.is_empty() => {
            out.newline();
            out.mapping(map, 0, false);
        }
        Value::Sequence(seq) if !seq.is_empty() => {
            out.newline();
            out.sequence(seq, 0, false);
        }
        scalar => {
            out.push(" ");
            out.scalar(scalar, INDENT);
            out.newline();
        }
    }
    out.text
}

struct Writer {
    text: String,
    /// Column of the next character, counted in UTF-16 units as Java does.
    column: usize,
}

impl Writer {
    fn push(&mut self, s: &str) {
        self.text.push_str(s);
        self.column += s.encode_utf16().count();
    }

    fn newline(&mut self) {
        self.text.push('\n');
        self.column = 0;
    }

    fn indent_to(&mut self, indent: usize) {
        if self.column < indent {
            let pad = " ".repeat(indent - self.column);
            self.push(&pad);
        }
    }

    /// A block mapping whose keys start at `indent`; the first key continues the current line
    /// when `inline` (after `- `).
    fn mapping(&mut self, map: &serde_yaml::Mapping, indent: usize, inline: bool) {
        for (i, (key, value)) in map.iter().enumerate() {
            if i > 0 || !inline {
                self.indent_to(indent);
            }
            self.key(key);
            self.push(":");
            self.value_after_key(value, indent);
        }
    }

    fn value_after_key(&mut self, value: &Value, indent: usize) {
        match value {
            Value::Mapping(map) if !map.is_empty() => {
                self.newline();
                self.mapping(map, indent + INDENT, false);
            }
            // Jackson writes block sequences at the same indentation as their key.
            Value::Sequence(seq) if !seq.is_empty() => {
                self.newline();
                self.sequence(seq, indent, false);
            }
            other => {
                self.push(" ");
                self.scalar(other, indent + INDENT);
                self.newline();
            }
        }
    }

    /// A block sequence whose dashes are at `indent`.
    fn sequence(&mut self, seq: &[Value], indent: usize, inline: bool) {
        for (i, item) in seq.iter().enumerate() {
            if i > 0 || !inline {
                self.indent_to(indent);
            }
            self.push("- ");
            match item {
                Value::Mapping(map) if !map.is_empty() => self.mapping(map, indent + INDENT, true),
                Value::Sequence(inner) if !inner.is_empty() => self.sequence(inner, indent + INDENT, true),
                other => {
                    self.scalar(other, indent + INDENT);
                    self.newline();
                }
            }
        }
    }

    fn key(&mut self, key: &Value) {
        match key {
            Value::String(s) if is_plain_key(s) => self.push(s),
            other => self.scalar(other, 0),
        }
    }

    /// A scalar (or empty collection); folded lines of a long string continue at `indent`.
    fn scalar(&mut self, value: &Value, indent: usize) {
        match value {
            Value::Null => self.push("null"),
            Value::Bool(b) => self.push(if *b { "true" } else { "false" }),
            Value::Number(n) => self.push(&n.to_string()),
            Value::String(s) => self.double_quoted(s, indent),
            Value::Sequence(_) => self.push("[]"),
            Value::Mapping(_) => self.push("{}"),
            Value::Tagged(tagged) => self.scalar(&tagged.value, indent),
        }
    }

    /// SnakeYAML's double-quoted style: escapes, and folding at spaces past the line width.
    fn double_quoted(&mut self, text: &str, indent: usize) {
        self.push("\"");
        let units: Vec<char> = text.chars().collect();
        let len = units.len();
        let mut start = 0;
        let mut end = 0;
        while end <= len {
            let ch = units.get(end).copied();
            if ch.is_none_or(needs_flush) {
                if start < end {
                    let chunk: String = units[start..end].iter().collect();
                    self.push(&chunk);
                    start = end;
                }
                if let Some(c) = ch {
                    self.push(&escape(c));
                    start = end + 1;
                }
            }
            if 0 < end
                && end + 1 < len
                && (ch == Some(' ') || start >= end)
                // After an escape `start` is one past `end`, so the pending length may be -1.
                && (self.column + end) as isize - start as isize > BEST_WIDTH as isize
            {
                let mut data: String = if start >= end {
                    String::new()
                } else {
                    units[start..end].iter().collect()
                };
                data.push('\\');
                if start < end {
                    start = end;
                }
                self.push(&data);
                self.newline();
                self.indent_to(indent);
                if units.get(start) == Some(&' ') {
                    self.push("\\");
                }
            }
            end += 1;
        }
        self.push("\"");
    }
}

/// Characters written on their own: quotes, backslash, and anything outside printable ASCII.
fn needs_flush(c: char) -> bool {
    matches!(c, '"' | '\\') || !(' '..='~').contains(&c)
}

fn escape(c: char) -> String {
    let named = match c {
        '\0' => Some("0"),
        '\u{7}' => Some("a"),
        '\u{8}' => Some("b"),
        '\t' => Some("t"),
        '\n' => Some("n"),
        '\u{b}' => Some("v"),
        '\u{c}' => Some("f"),
        '\r' => Some("r"),
        '\u{1b}' => Some("e"),
        '"' => Some("\""),
        '\\' => Some("\\"),
        '\u{85}' => Some("N"),
        '\u{a0}' => Some("_"),
        '\u{2028}' => Some("L"),
        '\u{2029}' => Some("P"),
        _ => None,
    };
    if let Some(name) = named {
        return format!("\\{name}");
    }
    if is_printable(c) {
        return c.to_string();
    }
    let code = u32::from(c);
    if code <= 0xff {
        format!("\\x{code:02x}")
    } else {
        format!("\\u{code:04x}")
    }
}

/// YAML's printable set, as SnakeYAML checks it.
fn is_printable(c: char) -> bool {
    matches!(u32::from(c), 0x9 | 0xa | 0xd | 0x20..=0x7e | 0x85 | 0xa0..=0xd7ff | 0xe000..=0xfffd | 0x10000..)
}

/// Keys written without quotes: our field names, which are plain identifiers.
fn is_plain_key(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(text: &str) -> String {
        let value: Value = serde_yaml::from_str(text).expect("test input is YAML");
        to_jackson_yaml(&value)
    }

    #[test]
    fn nests_like_jackson() {
        let out = yaml("a: x\nb:\n  c:\n    - d: 1\n      e: [true]\n  f: []\ng: {}\n");
        assert_eq!(
            out,
            "---\na: \"x\"\nb:\n  c:\n  - d: 1\n    e:\n    - true\n  f: []\ng: {}\n"
        );
    }

    #[test]
    fn escapes_like_snakeyaml() {
        let out = yaml("a: \"q\\\"b\\\\t\\tn\\né\\u0001\"\n");
        assert_eq!(out, "---\na: \"q\\\"b\\\\t\\tn\\né\\x01\"\n");
    }

    #[test]
    fn folds_long_strings_at_spaces() {
        let words = "word ".repeat(20);
        let out = yaml(&format!("description: \"{}\"\n", words.trim_end()));
        let lines: Vec<&str> = out.lines().collect();
        assert!(lines.len() > 2, "{out}");
        assert!(lines[1].ends_with('\\'), "{out}");
        assert!(lines[2].starts_with("  \\ word"), "{out}");
        // Folding is reversible: joining the lines gives the text back.
        let back: serde_yaml::Mapping = serde_yaml::from_str(&out).expect("output is YAML");
        assert_eq!(
            back.get("description").and_then(Value::as_str),
            Some(words.trim_end())
        );
    }
}
