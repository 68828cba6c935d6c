//! Markdown tables, written one way everywhere mafs prints or saves one (reports, galleries,
//! tensor listings): a header, a separator row, and rows whose cells are escaped (`|` and line
//! breaks) so that any text stays in its cell.

/// A Markdown (GitHub-flavoured) table built row by row.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column names.
    pub fn new<S: ToString>(header: impl IntoIterator<Item = S>) -> Self {
        Self {
            header: header.into_iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row; a short row is padded with empty cells, a long one keeps its extra cells
    /// (and widens the table).
    pub fn row<S: ToString>(&mut self, cells: impl IntoIterator<Item = S>) -> &mut Self {
        self.rows
            .push(cells.into_iter().map(|c| c.to_string()).collect());
        self
    }

    /// Number of rows (the header excluded).
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether there is no row.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    fn width(&self) -> usize {
        self.rows
            .iter()
            .map(Vec::len)
            .chain([self.header.len()])
            .max()
            .unwrap_or(0)
    }
}

/// One cell's text with `|` escaped and line breaks turned into spaces.
pub fn escape(cell: &str) -> String {
    cell.replace('|', "\\|").replace(['\n', '\r'], " ")
}

fn line(cells: &[String], width: usize) -> String {
    let mut s = String::from("|");
    for k in 0..width {
        s.push(' ');
        s.push_str(&escape(cells.get(k).map_or("", String::as_str)));
        s.push_str(" |");
    }
    s
}

impl std::fmt::Display for Table {
    /// The table, one line per row, each ending in a newline.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let w = self.width();
        writeln!(f, "{}", line(&self.header, w))?;
        writeln!(f, "|{}", "---|".repeat(w))?;
        for r in &self.rows {
            writeln!(f, "{}", line(r, w))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_header_separator_and_escaped_rows() {
        let mut t = Table::new(["name", "value"]);
        t.row(["a|b", "1"]).row(["two\nlines"]);
        assert_eq!(
            t.to_string(),
            "| name | value |\n|---|---|\n| a\\|b | 1 |\n| two lines |  |\n"
        );
        assert_eq!(t.len(), 2);
        let mut wide = Table::new(["x"]);
        wide.row([1, 2]);
        assert_eq!(wide.to_string(), "| x |  |\n|---|---|\n| 1 | 2 |\n");
    }
}
