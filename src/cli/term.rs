//! Colour on a terminal only: ANSI styles when standard output is a terminal and `NO_COLOR` is
//! not set, plain text otherwise (pipes, files, CI logs).
use std::io::IsTerminal;

/// A style for a word of output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    Green,
    Yellow,
    Red,
    Dim,
}

/// Whether output is painted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Paint(pub bool);

impl Paint {
    /// Colour when standard output is a terminal and `NO_COLOR` is unset or empty.
    pub fn for_stdout() -> Self {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Paint(!no_color && std::io::stdout().is_terminal())
    }

    /// `text` in `style` (unchanged without colour).
    pub fn paint(self, style: Style, text: &str) -> String {
        if !self.0 {
            return text.to_string();
        }
        let code = match style {
            Style::Green => "32",
            Style::Yellow => "33",
            Style::Red => "31",
            Style::Dim => "2",
        };
        format!("\x1b[{code}m{text}\x1b[0m")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_without_colour_and_ansi_with() {
        assert_eq!(Paint(false).paint(Style::Red, "delete"), "delete");
        assert_eq!(
            Paint(true).paint(Style::Red, "delete"),
            "\x1b[31mdelete\x1b[0m"
        );
    }
}
