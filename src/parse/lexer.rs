//! Byte-level scanning of one line of text format 0.0.4 or OpenMetrics.
//!
//! Both formats share names, label sets and escapes; they differ in whitespace (the text
//! format allows runs of spaces and tabs between tokens, OpenMetrics exactly one space and
//! none inside braces) and in unknown escapes (the text format refuses them as Pushgateway's
//! parser does; OpenMetrics' grammar keeps the backslash literally).

use std::borrow::Cow;

use crate::model::names::{
    is_label_name_char, is_label_name_start, is_metric_name_char, is_metric_name_start,
    validate_label_name, validate_metric_name, NameError,
};

use super::error::{Found, ParseErrorKind};

/// Which exposition format a line is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    /// Prometheus text format 0.0.4.
    Text,
    /// OpenMetrics 1.0.
    OpenMetrics,
}

impl Dialect {
    fn is_blank(self, b: u8) -> bool {
        match self {
            Dialect::Text => b == b' ' || b == b'\t',
            Dialect::OpenMetrics => b == b' ',
        }
    }
}

/// A label as written in a sample: its name and unescaped value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawLabel<'a> {
    /// The label name (already checked against the character set).
    pub name: &'a str,
    /// The unescaped value.
    pub value: Cow<'a, str>,
}

/// A position in one line (without its `\n`).
pub(crate) struct Cursor<'a> {
    line: &'a str,
    pos: usize,
    dialect: Dialect,
}

impl<'a> Cursor<'a> {
    /// A cursor at the start of `line`.
    pub(crate) fn new(line: &'a str, dialect: Dialect) -> Self {
        Cursor {
            line,
            pos: 0,
            dialect,
        }
    }

    fn bytes(&self) -> &'a [u8] {
        self.line.as_bytes()
    }

    /// The next byte, if any.
    pub(crate) fn peek(&self) -> Option<u8> {
        self.bytes().get(self.pos).copied()
    }

    /// True at the end of the line.
    pub(crate) fn at_end(&self) -> bool {
        self.pos >= self.line.len()
    }

    /// What the cursor is looking at, for error messages.
    pub(crate) fn found(&self) -> Found {
        match self.line[self.pos..].chars().next() {
            Some(c) => Found::Char(c),
            None => Found::EndOfLine,
        }
    }

    /// An `Expected` error at the cursor.
    pub(crate) fn expected(&self, expected: &'static str) -> ParseErrorKind {
        ParseErrorKind::Expected {
            expected,
            found: self.found(),
        }
    }

    /// Consumes `b` if it is next.
    pub(crate) fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// Consumes `s` if it comes next.
    pub(crate) fn eat_str(&mut self, s: &str) -> bool {
        if self.line[self.pos..].starts_with(s) {
            self.pos += s.len();
            true
        } else {
            false
        }
    }

    /// Consumes `b` or fails with `expected`.
    pub(crate) fn expect(&mut self, b: u8, expected: &'static str) -> Result<(), ParseErrorKind> {
        if self.eat(b) {
            Ok(())
        } else {
            Err(self.expected(expected))
        }
    }

    /// Skips blanks; returns whether there were any.
    pub(crate) fn skip_blanks(&mut self) -> bool {
        let start = self.pos;
        while self.peek().is_some_and(|b| self.dialect.is_blank(b)) {
            self.pos += 1;
        }
        self.pos > start
    }

    /// Everything up to the next blank or the end of the line.
    pub(crate) fn token(&mut self) -> &'a str {
        let start = self.pos;
        while self.peek().is_some_and(|b| !self.dialect.is_blank(b)) {
            self.pos += 1;
        }
        &self.line[start..self.pos]
    }

    /// The rest of the line.
    pub(crate) fn rest(&mut self) -> &'a str {
        let s = &self.line[self.pos..];
        self.pos = self.line.len();
        s
    }

    /// A metric name, which must be followed by a blank, `{` or the end of the line.
    pub(crate) fn metric_name(&mut self) -> Result<&'a str, ParseErrorKind> {
        let start = self.pos;
        if self.peek() == Some(b'"') {
            return Err(ParseErrorKind::QuotedName);
        }
        if self.peek().is_some_and(is_metric_name_start) {
            self.pos += 1;
            while self.peek().is_some_and(is_metric_name_char) {
                self.pos += 1;
            }
        }
        let ends = |c: u8| c == b'{' || self.dialect.is_blank(c);
        if self.pos > start && self.peek().is_none_or(ends) {
            return Ok(&self.line[start..self.pos]);
        }
        // Report the whole offending token, not just its first bad character.
        let token = self.until(start, ends);
        if !token.is_empty() {
            validate_metric_name(token)?;
        }
        Err(self.expected("metric name"))
    }

    /// The text from `start` up to the first byte matching `stop` (or the end of the line).
    fn until(&self, start: usize, stop: impl Fn(u8) -> bool) -> &'a str {
        let b = self.bytes();
        let end = b[start..]
            .iter()
            .position(|&c| stop(c))
            .map_or(b.len(), |i| start + i);
        &self.line[start..end]
    }

    /// A label name, which must be followed by `=` (after blanks in the text format).
    fn label_name(&mut self) -> Result<&'a str, ParseErrorKind> {
        let start = self.pos;
        if self.peek() == Some(b'"') {
            return Err(ParseErrorKind::QuotedName);
        }
        if self.peek().is_some_and(is_label_name_start) {
            self.pos += 1;
            while self.peek().is_some_and(is_label_name_char) {
                self.pos += 1;
            }
        }
        let ends = |c: u8| c == b'=' || c == b',' || c == b'}' || self.dialect.is_blank(c);
        if self.pos > start && self.peek().is_none_or(ends) {
            let name = &self.line[start..self.pos];
            // The character set is checked above; only the reserved prefix is left.
            if name.starts_with("__") {
                return Err(NameError::Reserved(name.to_string()).into());
            }
            return Ok(name);
        }
        let token = self.until(start, ends);
        if !token.is_empty() {
            validate_label_name(token)?;
        }
        Err(self.expected("label name"))
    }

    /// The rest of a label set after its `{`, through the closing `}`, appended to `out`.
    pub(crate) fn labels(&mut self, out: &mut Vec<RawLabel<'a>>) -> Result<(), ParseErrorKind> {
        let text = self.dialect == Dialect::Text;
        loop {
            if text {
                self.skip_blanks();
            }
            if self.eat(b'}') {
                return Ok(());
            }
            if self.at_end() {
                return Err(self.expected("label name or '}'"));
            }
            let name = self.label_name()?;
            if text {
                self.skip_blanks();
            }
            self.expect(b'=', "'=' after the label name")?;
            if text {
                self.skip_blanks();
            }
            self.expect(b'"', "'\"' opening the label value")?;
            let value = self.label_value()?;
            out.push(RawLabel { name, value });
            if text {
                self.skip_blanks();
            }
            if self.eat(b',') {
                continue;
            }
            if self.eat(b'}') {
                return Ok(());
            }
            return Err(self.expected("',' or '}' after the label value"));
        }
    }

    /// A label value after its opening quote, through the closing quote.
    fn label_value(&mut self) -> Result<Cow<'a, str>, ParseErrorKind> {
        let rest = &self.bytes()[self.pos..];
        let Some(i) = memchr::memchr2(b'"', b'\\', rest) else {
            return Err(ParseErrorKind::UnterminatedLabelValue);
        };
        if rest[i] == b'"' {
            let v = &self.line[self.pos..self.pos + i];
            self.pos += i + 1;
            return Ok(Cow::Borrowed(v));
        }
        let start = self.pos;
        let mut out = String::with_capacity(i + 16);
        let mut seg = start;
        let b = self.bytes();
        let mut p = start + i;
        loop {
            match b.get(p) {
                None => return Err(ParseErrorKind::UnterminatedLabelValue),
                Some(b'"') => {
                    out.push_str(&self.line[seg..p]);
                    self.pos = p + 1;
                    return Ok(Cow::Owned(out));
                }
                Some(b'\\') => {
                    out.push_str(&self.line[seg..p]);
                    p += 1;
                    let Some(c) = self.line[p..].chars().next() else {
                        return Err(ParseErrorKind::UnterminatedLabelValue);
                    };
                    match c {
                        '\\' => out.push('\\'),
                        '"' => out.push('"'),
                        'n' => out.push('\n'),
                        c => match self.dialect {
                            Dialect::Text => {
                                return Err(ParseErrorKind::InvalidEscape {
                                    found: c,
                                    context: "label value",
                                    allowed: r#"\\, \" and \n"#,
                                })
                            }
                            Dialect::OpenMetrics => {
                                out.push('\\');
                                out.push(c);
                            }
                        },
                    }
                    p += c.len_utf8();
                    seg = p;
                }
                Some(_) => p += 1,
            }
        }
    }
}

/// Unescapes HELP text: `\\` and `\n` in the text format (plus `\"` in OpenMetrics).
pub(crate) fn unescape_help(s: &str, dialect: Dialect) -> Result<String, ParseErrorKind> {
    if !s.contains('\\') {
        return Ok(s.to_string());
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match (chars.next(), dialect) {
            (Some('\\'), _) => out.push('\\'),
            (Some('n'), _) => out.push('\n'),
            (Some('"'), Dialect::OpenMetrics) => out.push('"'),
            (Some(c), Dialect::OpenMetrics) => {
                out.push('\\');
                out.push(c);
            }
            (None, Dialect::OpenMetrics) => out.push('\\'),
            (found, Dialect::Text) => {
                return Err(ParseErrorKind::InvalidEscape {
                    found: found.unwrap_or(' '),
                    context: "HELP text",
                    allowed: r"\\ and \n",
                })
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(line: &str, d: Dialect) -> Result<Vec<(String, String)>, ParseErrorKind> {
        let mut c = Cursor::new(line, d);
        c.expect(b'{', "{")?;
        let mut out = Vec::new();
        c.labels(&mut out)?;
        assert!(c.at_end(), "{line}");
        Ok(out
            .into_iter()
            .map(|l| (l.name.to_string(), l.value.into_owned()))
            .collect())
    }

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn metric_names() {
        for (line, name) in [
            ("abc 1", "abc"),
            ("a:b_9{", "a:b_9"),
            ("_x\t", "_x"),
            ("z", "z"),
        ] {
            assert_eq!(Cursor::new(line, Dialect::Text).metric_name(), Ok(name));
        }
        assert!(matches!(
            Cursor::new("9abc 1", Dialect::Text).metric_name(),
            Err(ParseErrorKind::Name(NameError::InvalidChars { name, .. })) if name == "9abc"
        ));
        assert!(matches!(
            Cursor::new("a-b{x=\"1\"} 1", Dialect::Text).metric_name(),
            Err(ParseErrorKind::Name(NameError::InvalidChars { name, .. })) if name == "a-b"
        ));
        // A tab ends a name in the text format but not in OpenMetrics.
        assert!(Cursor::new("a\t1", Dialect::OpenMetrics)
            .metric_name()
            .is_err());
        assert_eq!(
            Cursor::new("\"a\"", Dialect::Text).metric_name(),
            Err(ParseErrorKind::QuotedName)
        );
        assert_eq!(
            Cursor::new("{a=\"1\"}", Dialect::Text).metric_name(),
            Err(ParseErrorKind::Expected {
                expected: "metric name",
                found: Found::Char('{')
            })
        );
        assert_eq!(
            Cursor::new("", Dialect::Text).metric_name(),
            Err(ParseErrorKind::Expected {
                expected: "metric name",
                found: Found::EndOfLine
            })
        );
    }

    #[test]
    fn label_sets() {
        assert_eq!(labels("{}", Dialect::Text), Ok(vec![]));
        assert_eq!(
            labels(r#"{a="1",b="x y"}"#, Dialect::OpenMetrics),
            Ok(pairs(&[("a", "1"), ("b", "x y")]))
        );
        assert_eq!(
            labels("{ a = \"1\" ,\tb=\"2\", }", Dialect::Text),
            Ok(pairs(&[("a", "1"), ("b", "2")]))
        );
        assert_eq!(
            labels(r#"{a="1",}"#, Dialect::OpenMetrics),
            Ok(pairs(&[("a", "1")]))
        );
        assert!(labels(r#"{ a="1"}"#, Dialect::OpenMetrics).is_err());
        assert!(labels(r#"{a="1", b="2"}"#, Dialect::OpenMetrics).is_err());
        assert_eq!(
            labels(r#"{a="1" b="2"}"#, Dialect::Text),
            Err(ParseErrorKind::Expected {
                expected: "',' or '}' after the label value",
                found: Found::Char('b')
            })
        );
        assert_eq!(
            labels(r#"{a-b="1"}"#, Dialect::Text).unwrap_err().to_string(),
            "invalid label name \"a-b\": must match [a-zA-Z_][a-zA-Z0-9_]* (UTF-8 names are not supported)"
        );
        assert_eq!(
            labels(r#"{__name__="x"}"#, Dialect::Text),
            Err(ParseErrorKind::Name(NameError::Reserved("__name__".into())))
        );
        assert_eq!(
            labels(r#"{="x"}"#, Dialect::Text),
            Err(ParseErrorKind::Expected {
                expected: "label name",
                found: Found::Char('=')
            })
        );
        assert_eq!(
            labels(r#"{"a"="x"}"#, Dialect::Text),
            Err(ParseErrorKind::QuotedName)
        );
        assert_eq!(
            labels(r#"{a}"#, Dialect::Text),
            Err(ParseErrorKind::Expected {
                expected: "'=' after the label name",
                found: Found::Char('}')
            })
        );
        assert_eq!(
            labels(r#"{a=1}"#, Dialect::Text),
            Err(ParseErrorKind::Expected {
                expected: "'\"' opening the label value",
                found: Found::Char('1')
            })
        );
        assert_eq!(
            labels(r#"{a="1"#, Dialect::Text),
            Err(ParseErrorKind::UnterminatedLabelValue)
        );
        assert_eq!(
            labels(r#"{a="1\"#, Dialect::Text),
            Err(ParseErrorKind::UnterminatedLabelValue)
        );
        assert_eq!(
            labels(r#"{a="1""#, Dialect::Text),
            Err(ParseErrorKind::Expected {
                expected: "',' or '}' after the label value",
                found: Found::EndOfLine
            })
        );
        assert_eq!(
            labels("{", Dialect::Text),
            Err(ParseErrorKind::Expected {
                expected: "label name or '}'",
                found: Found::EndOfLine
            })
        );
    }

    #[test]
    fn label_value_escapes() {
        assert_eq!(
            labels(r#"{a="x\\y\"z\nw",b="é"}"#, Dialect::Text),
            Ok(pairs(&[("a", "x\\y\"z\nw"), ("b", "é")]))
        );
        assert_eq!(
            labels(r#"{a="\t"}"#, Dialect::Text),
            Err(ParseErrorKind::InvalidEscape {
                found: 't',
                context: "label value",
                allowed: r#"\\, \" and \n"#
            })
        );
        assert_eq!(
            labels(r#"{a="\t\é"}"#, Dialect::OpenMetrics),
            Ok(pairs(&[("a", "\\t\\é")]))
        );
        let mut c = Cursor::new(r#"{a="plain"}"#, Dialect::Text);
        c.eat(b'{');
        let mut out = Vec::new();
        c.labels(&mut out).unwrap();
        assert!(matches!(out[0].value, Cow::Borrowed("plain")));
    }

    #[test]
    fn help_escapes() {
        assert_eq!(
            unescape_help(r"a\\b\nc", Dialect::Text),
            Ok("a\\b\nc".into())
        );
        assert_eq!(
            unescape_help(r#"say \"hi\""#, Dialect::Text),
            Err(ParseErrorKind::InvalidEscape {
                found: '"',
                context: "HELP text",
                allowed: r"\\ and \n"
            })
        );
        assert!(unescape_help(r"trailing \", Dialect::Text).is_err());
        assert_eq!(
            unescape_help(r#"say \"hi\" \x \"#, Dialect::OpenMetrics),
            Ok("say \"hi\" \\x \\".into())
        );
    }

    #[test]
    fn tokens_and_blanks() {
        let mut c = Cursor::new("1.5 \t 123  ", Dialect::Text);
        assert_eq!(c.token(), "1.5");
        assert!(c.skip_blanks());
        assert_eq!(c.token(), "123");
        c.skip_blanks();
        assert!(c.at_end());
        assert_eq!(c.found(), Found::EndOfLine);
        let mut c = Cursor::new("1\t2", Dialect::OpenMetrics);
        assert_eq!(c.token(), "1\t2");
        let mut c = Cursor::new("# EOF", Dialect::OpenMetrics);
        assert!(c.eat_str("# "));
        assert!(!c.eat_str("HELP"));
        assert_eq!(c.rest(), "EOF");
    }
}
