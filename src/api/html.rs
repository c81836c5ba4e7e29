//! A minimal HTML writer for the status page: every text goes through [`escape`].

use std::fmt::Write as _;

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Builds a page section by section; callers pass raw text, which is escaped here.
#[derive(Debug, Default)]
pub struct Page {
    out: String,
}

impl Page {
    /// Appends trusted markup (a literal written in this crate, never data).
    pub fn raw(&mut self, markup: &str) -> &mut Self {
        self.out.push_str(markup);
        self
    }

    /// Appends `<tag class="class">text</tag>` with `text` escaped (no class when empty).
    pub fn el(&mut self, tag: &str, class: &str, text: &str) -> &mut Self {
        if class.is_empty() {
            let _ = write!(self.out, "<{tag}>{}</{tag}>", escape(text));
        } else {
            let _ = write!(
                self.out,
                "<{tag} class=\"{}\">{}</{tag}>",
                escape(class),
                escape(text)
            );
        }
        self
    }

    /// Appends escaped text.
    pub fn text(&mut self, text: &str) -> &mut Self {
        self.out.push_str(&escape(text));
        self
    }

    /// Appends a table with a header row; cells are `(class, text)`, escaped.
    pub fn table(&mut self, class: &str, head: &[&str], rows: &[Vec<(&str, String)>]) -> &mut Self {
        let _ = write!(self.out, "<table class=\"{}\"><thead><tr>", escape(class));
        for h in head {
            self.el("th", "", h);
        }
        self.raw("</tr></thead><tbody>");
        for row in rows {
            self.raw("<tr>");
            for (class, text) in row {
                self.el("td", class, text);
            }
            self.raw("</tr>");
        }
        self.raw("</tbody></table>");
        self
    }

    /// The finished document.
    pub fn finish(self) -> String {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_every_special_character() {
        assert_eq!(
            escape(r#"<script>alert('x"&')</script>"#),
            "&lt;script&gt;alert(&#39;x&quot;&amp;&#39;)&lt;/script&gt;"
        );
        assert_eq!(escape("plain ünïcödé"), "plain ünïcödé");
    }

    #[test]
    fn elements_and_tables_escape_their_text() {
        let mut p = Page::default();
        p.el("td", "num", "<b>").el("p", "", "a&b").table(
            "t",
            &["<h>"],
            &[vec![("c\"x", "v<".to_string())]],
        );
        assert_eq!(
            p.finish(),
            "<td class=\"num\">&lt;b&gt;</td><p>a&amp;b</p><table class=\"t\"><thead><tr><th>&lt;h&gt;</th></tr></thead><tbody><tr><td class=\"c&quot;x\">v&lt;</td></tr></tbody></table>"
        );
    }
}
