//! Splitting a body into numbered lines.

/// The lines of a body with their 1-based numbers, without the `\n`; a final `\n` does not
/// start another line.
pub(crate) struct Lines<'a> {
    rest: &'a str,
    number: usize,
}

impl<'a> Lines<'a> {
    /// The lines of `input`.
    pub(crate) fn new(input: &'a str) -> Self {
        Lines {
            rest: input,
            number: 0,
        }
    }

    /// The number of the last line returned (0 before the first).
    pub(crate) fn number(&self) -> usize {
        self.number
    }
}

impl<'a> Iterator for Lines<'a> {
    type Item = (usize, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        self.number += 1;
        let line = match memchr::memchr(b'\n', self.rest.as_bytes()) {
            Some(i) => {
                let line = &self.rest[..i];
                self.rest = &self.rest[i + 1..];
                line
            }
            None => std::mem::take(&mut self.rest),
        };
        Some((self.number, line))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_lines() {
        let got: Vec<_> = Lines::new("a\n\nb\nc").collect();
        assert_eq!(got, vec![(1, "a"), (2, ""), (3, "b"), (4, "c")]);
        let got: Vec<_> = Lines::new("a\n").collect();
        assert_eq!(got, vec![(1, "a")]);
        let mut l = Lines::new("");
        assert_eq!(l.next(), None);
        assert_eq!(l.number(), 0);
        let mut l = Lines::new("x\n\n");
        l.by_ref().for_each(drop);
        assert_eq!(l.number(), 2);
    }
}
