//! Streams a query's rows as the consumer takes them: exports never hold all rows.

use futures::stream::{self, BoxStream};
use futures::StreamExt;
use sqlx::postgres::PgRow;
use sqlx::{FromRow, PgPool, Postgres, QueryBuilder};

/// Rows a reader may hold ahead of its consumer.
const BUFFER: usize = 256;

/// The rows of `query`, one statement (one snapshot) read as they are taken: a task runs
/// the query and hands rows over a bounded channel, so a slow consumer holds the reader
/// back. Dropping the stream stops the task and the query.
pub fn rows<T>(
    pool: PgPool,
    mut query: QueryBuilder<'static, Postgres>,
) -> BoxStream<'static, anyhow::Result<T>>
where
    T: for<'r> FromRow<'r, PgRow> + Send + Unpin + 'static,
{
    let (tx, rx) = tokio::sync::mpsc::channel(BUFFER);
    tokio::spawn(async move {
        let mut rows = query.build_query_as::<T>().fetch(&pool);
        while let Some(row) = rows.next().await {
            let failed = row.is_err();
            if tx.send(row.map_err(anyhow::Error::from)).await.is_err() || failed {
                break;
            }
        }
    });
    stream::unfold(
        rx,
        |mut rx| async move { rx.recv().await.map(|row| (row, rx)) },
    )
    .boxed()
}

/// Whether a cell starting with `= + - @` can be no formula a spreadsheet runs: nothing
/// but digits, spaces and `+ - ; . ( )` (a phone number, `+14155550100; +442071838750`),
/// which names no function, cell or program. Such cells stay as they are, so they read
/// back unchanged.
fn inert(cell: &str) -> bool {
    cell.chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '+' | '-' | ';' | '.' | '(' | ')'))
}

/// One CSV cell: quoted when it holds a comma, quote or line break (quotes doubled), and
/// prefixed with `'` when it starts like a formula (`= + - @`, or a tab or carriage return
/// before one) so a spreadsheet shows it as text instead of running it.
pub fn csv_cell(cell: &str, out: &mut String) {
    let formula = matches!(
        cell.chars().next(),
        Some('=' | '+' | '-' | '@' | '\t' | '\r')
    ) && !inert(cell);
    let quoted = cell.contains([',', '"', '\n', '\r']);
    if quoted {
        out.push('"');
    }
    if formula {
        out.push('\'');
    }
    for c in cell.chars() {
        if c == '"' {
            out.push('"');
        }
        out.push(c);
    }
    if quoted {
        out.push('"');
    }
}

/// One CSV record, ending with CRLF (RFC 4180).
pub fn csv_record<S: AsRef<str>>(cells: &[S]) -> String {
    let mut out = String::new();
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        csv_cell(cell.as_ref(), &mut out);
    }
    out.push_str("\r\n");
    out
}

/// An instant as the exports write it: RFC 3339 in UTC, to the second when whole.
pub fn csv_instant(at: Option<chrono::DateTime<chrono::Utc>>) -> String {
    at.map(|at| at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_quoted_and_formulas_defused() {
        // (cell, as written)
        let table = [
            ("Dana", "Dana"),
            ("Lee, Dana", "\"Lee, Dana\""),
            ("say \"hi\"", "\"say \"\"hi\"\"\""),
            ("two\nlines", "\"two\nlines\""),
            ("=HYPERLINK(\"x\")", "\"'=HYPERLINK(\"\"x\"\")\""),
            ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
            ("-2+3+cmd", "'-2+3+cmd"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\t=1", "'\t=1"),
            ("+14155550100", "+14155550100"),
            ("+14155550100;+442071838750", "+14155550100;+442071838750"),
            ("-", "-"),
            ("", ""),
        ];
        for (cell, expected) in table {
            let mut out = String::new();
            csv_cell(cell, &mut out);
            assert_eq!(out, expected, "{cell:?}");
        }
        assert_eq!(csv_record(&["a", "b,c", ""]), "a,\"b,c\",\r\n");
    }
}
