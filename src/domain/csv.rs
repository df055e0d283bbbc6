//! A small RFC 4180 reader for user imports: commas, double-quoted fields
//! with `""` escapes and embedded line breaks, CRLF or LF, a leading UTF-8
//! byte-order mark (as spreadsheet programs write it), blank lines skipped.

/// One record and the line it starts on (1-based).
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub line: usize,
    pub fields: Vec<String>,
}

/// Splits `text` into rows; an unterminated quote names its line.
pub fn parse(text: &str) -> Result<Vec<Row>, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut rows = Vec::new();
    let mut fields: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut line = 1;
    let mut start = 1;
    let mut chars = text.chars().peekable();
    let mut end_row = |fields: &mut Vec<String>, cur: &mut String, start: usize| {
        fields.push(std::mem::take(cur));
        let blank = fields.len() == 1 && fields[0].trim().is_empty();
        let done = std::mem::take(fields);
        if !blank {
            rows.push(Row {
                line: start,
                fields: done,
            });
        }
    };
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    cur.push('"');
                }
                '"' => quoted = false,
                '\n' => {
                    line += 1;
                    cur.push('\n');
                }
                c => cur.push(c),
            }
            continue;
        }
        match c {
            '"' if cur.trim().is_empty() => {
                cur.clear();
                quoted = true;
            }
            ',' => fields.push(std::mem::take(&mut cur)),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                end_row(&mut fields, &mut cur, start);
                line += 1;
                start = line;
            }
            c => cur.push(c),
        }
    }
    if quoted {
        return Err(format!("line {start}: a quoted field is never closed"));
    }
    if !cur.is_empty() || !fields.is_empty() {
        end_row(&mut fields, &mut cur, start);
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(rows: &[Row]) -> Vec<Vec<&str>> {
        rows.iter()
            .map(|r| r.fields.iter().map(String::as_str).collect())
            .collect()
    }

    #[test]
    fn plain_quoted_and_multiline_fields() {
        let rows =
            parse("\u{feff}a,b,c\r\n\"x, y\",\"say \"\"hi\"\"\",\n\n\"two\nlines\",z,\n").unwrap();
        assert_eq!(
            f(&rows),
            vec![
                vec!["a", "b", "c"],
                vec!["x, y", "say \"hi\"", ""],
                vec!["two\nlines", "z", ""]
            ]
        );
        assert_eq!(rows.iter().map(|r| r.line).collect::<Vec<_>>(), [1, 2, 4]);
    }

    #[test]
    fn last_line_without_newline_and_errors() {
        assert_eq!(f(&parse("a,b").unwrap()), vec![vec!["a", "b"]]);
        assert!(parse("").unwrap().is_empty());
        let e = parse("ok\n\"never closed,\n").unwrap_err();
        assert!(e.contains("line 2"), "{e}");
    }
}
