//! A streaming CSV reader: bytes go in chunk by chunk (of any size, split anywhere), whole
//! records come out, each with the physical line it starts on and the byte offset just
//! after it (where reading resumes). RFC 4180 with the leniency spreadsheets need: `,`
//! separates fields; `"` quotes a field, `""` inside one is a quote, and a quoted field may
//! hold separators and line breaks; a line ends with `\n`, `\r\n` or a lone `\r`; a UTF-8
//! byte order mark before the first record is dropped; blank lines are skipped. A quote
//! inside an unquoted field, or text after a closing quote, is kept as written.
//!
//! Memory is bounded by one record: a record longer than [`MAX_RECORD_BYTES`] is read to
//! its end without being kept and comes out as [`BadRecord::TooLong`], so a file with an
//! unclosed quote cannot make the reader hold the rest of the file.

/// The longest record kept, in bytes (its fields together).
pub const MAX_RECORD_BYTES: usize = 64 * 1024;

/// One record as read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// The physical line (1-based) the record starts on.
    pub line: u64,
    /// Where reading resumes after it ([`CsvReader::resume_at`]).
    pub resume: ResumePoint,
    /// Its fields, or why it cannot be read.
    pub fields: Result<Vec<String>, BadRecord>,
}

/// A record boundary: the byte offset just after a record's line break, the line that
/// follows, and whether the break was a `\r` (so that a `\n` right after it belongs to
/// it).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ResumePoint {
    pub offset: u64,
    pub line: u64,
    pub after_cr: bool,
}

/// Why a record cannot be read (the others are read as usual).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BadRecord {
    #[error("the record is longer than {MAX_RECORD_BYTES} bytes")]
    TooLong,
    #[error("the record is not UTF-8 text")]
    NotUtf8,
    #[error("a quoted field is not closed before the end of the file")]
    UnclosedQuote,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// At the start of a field.
    FieldStart,
    /// Inside an unquoted field.
    Unquoted,
    /// Inside a quoted field.
    Quoted,
    /// Just after a quote inside a quoted field: the end of it, or the first of `""`.
    QuoteInQuoted,
}

/// The reader's state between chunks.
#[derive(Debug)]
pub struct CsvReader {
    state: State,
    /// The current record's bytes, its fields one after the other.
    bytes: Vec<u8>,
    /// Where each finished field of the current record ends in `bytes`.
    ends: Vec<usize>,
    /// The current record grew past the limit: it is read but not kept.
    too_long: bool,
    /// Whether the current record has begun (a blank line never begins one).
    started: bool,
    /// The line being read and the line the current record started on.
    line: u64,
    record_line: u64,
    /// Bytes read so far (the offset of the next byte).
    offset: u64,
    /// The last byte was a `\r` that ended a line (a `\n` right after it is the same
    /// line break).
    after_cr: bool,
    /// Nothing read yet: a byte order mark may come (how much of it has been seen).
    bom: Option<usize>,
}

const BOM: [u8; 3] = [0xEF, 0xBB, 0xBF];

impl Default for CsvReader {
    fn default() -> Self {
        CsvReader::new()
    }
}

impl CsvReader {
    /// A reader at the start of a file.
    pub fn new() -> Self {
        CsvReader {
            state: State::FieldStart,
            bytes: Vec::new(),
            ends: Vec::new(),
            too_long: false,
            started: false,
            line: 1,
            record_line: 1,
            offset: 0,
            after_cr: false,
            bom: Some(0),
        }
    }

    /// A reader for the rest of a file from a record boundary a [`Record`] gave. Feed it
    /// the bytes from `at.offset` on.
    pub fn resume_at(at: ResumePoint) -> Self {
        CsvReader {
            offset: at.offset,
            line: at.line,
            record_line: at.line,
            after_cr: at.after_cr,
            bom: None,
            ..CsvReader::new()
        }
    }

    /// Where reading is now (a record boundary only right after a record came out).
    fn point(&self) -> ResumePoint {
        ResumePoint {
            offset: self.offset,
            line: self.line,
            after_cr: self.after_cr,
        }
    }

    /// Reads a chunk; hands each record it completes to `record`.
    pub fn feed(&mut self, chunk: &[u8], mut record: impl FnMut(Record)) {
        let mut rest = chunk;
        if let Some(seen) = self.bom {
            // Match the byte order mark across chunk boundaries; bytes that turn out not to
            // be one are read as text.
            let mut seen = seen;
            while seen < BOM.len() {
                match rest.first() {
                    None => {
                        self.bom = Some(seen);
                        return;
                    }
                    Some(&b) if b == BOM[seen] => {
                        seen += 1;
                        rest = &rest[1..];
                    }
                    Some(_) => break,
                }
            }
            self.bom = None;
            if seen == BOM.len() {
                self.offset += BOM.len() as u64;
            } else {
                // A partial match was not a byte order mark: read those bytes first.
                let partial = BOM[..seen].to_vec();
                for &b in &partial {
                    self.byte(b, &mut record);
                }
            }
        }
        for &b in rest {
            self.byte(b, &mut record);
        }
    }

    /// The end of the file: the last record, when it has no line break after it.
    pub fn finish(&mut self, mut record: impl FnMut(Record)) {
        if let Some(seen) = self.bom.take() {
            let partial = BOM[..seen].to_vec();
            for &b in &partial {
                self.byte(b, &mut record);
            }
        }
        if self.state == State::Quoted {
            self.bytes.clear();
            self.ends.clear();
            let line = self.record_line;
            self.started = false;
            self.state = State::FieldStart;
            record(Record {
                line,
                resume: self.point(),
                fields: Err(BadRecord::UnclosedQuote),
            });
        } else if self.started {
            self.end_record(&mut record);
        }
    }

    /// The offset of the next byte to read.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    fn push(&mut self, b: u8) {
        if self.too_long {
            return;
        }
        if self.bytes.len() >= MAX_RECORD_BYTES {
            self.too_long = true;
            self.bytes = Vec::new();
            self.ends = Vec::new();
            return;
        }
        self.bytes.push(b);
    }

    fn end_field(&mut self) {
        if !self.too_long {
            self.ends.push(self.bytes.len());
        }
    }

    fn begin(&mut self) {
        if !self.started {
            self.started = true;
            self.record_line = self.line;
        }
    }

    fn byte(&mut self, b: u8, record: &mut impl FnMut(Record)) {
        self.offset += 1;
        let after_cr = std::mem::replace(&mut self.after_cr, false);
        match self.state {
            State::Quoted => match b {
                b'"' => self.state = State::QuoteInQuoted,
                b'\n' if after_cr => self.push(b),
                b'\n' => {
                    self.line += 1;
                    self.push(b);
                }
                b'\r' => {
                    self.line += 1;
                    self.after_cr = true;
                    self.push(b);
                }
                _ => self.push(b),
            },
            State::QuoteInQuoted if b == b'"' => {
                self.push(b);
                self.state = State::Quoted;
            }
            State::FieldStart | State::Unquoted | State::QuoteInQuoted => match b {
                b',' => {
                    self.begin();
                    self.end_field();
                    self.state = State::FieldStart;
                }
                b'\n' if after_cr => {}
                b'\n' | b'\r' => {
                    self.line += 1;
                    self.after_cr = b == b'\r';
                    if self.started {
                        self.end_record(record);
                    }
                }
                b'"' if self.state == State::FieldStart => {
                    self.begin();
                    self.state = State::Quoted;
                }
                _ => {
                    self.begin();
                    self.push(b);
                    self.state = State::Unquoted;
                }
            },
        }
    }

    fn end_record(&mut self, record: &mut impl FnMut(Record)) {
        self.end_field();
        let fields = if self.too_long {
            Err(BadRecord::TooLong)
        } else {
            let mut fields = Vec::with_capacity(self.ends.len());
            let mut start = 0;
            let mut result = Ok(());
            for &end in &self.ends {
                match std::str::from_utf8(&self.bytes[start..end]) {
                    Ok(text) => fields.push(text.to_string()),
                    Err(_) => {
                        result = Err(BadRecord::NotUtf8);
                        break;
                    }
                }
                start = end;
            }
            result.map(|()| fields)
        };
        record(Record {
            line: self.record_line,
            resume: self.point(),
            fields,
        });
        self.bytes.clear();
        self.ends.clear();
        self.too_long = false;
        self.started = false;
        self.state = State::FieldStart;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every record of `input` fed in chunks of `size` bytes.
    fn read(input: &[u8], size: usize) -> Vec<Record> {
        let mut reader = CsvReader::new();
        let mut records = Vec::new();
        for chunk in input.chunks(size.max(1)) {
            reader.feed(chunk, |r| records.push(r));
        }
        reader.finish(|r| records.push(r));
        records
    }

    /// A record's line and fields, as the tables write them.
    type Read = (u64, Result<Vec<String>, BadRecord>);

    fn fields(records: &[Record]) -> Vec<Read> {
        records.iter().map(|r| (r.line, r.fields.clone())).collect()
    }

    fn ok(line: u64, fields: &[&str]) -> Read {
        (line, Ok(fields.iter().map(|f| f.to_string()).collect()))
    }

    #[test]
    fn records_come_out_the_same_whatever_the_chunk_size() {
        let cases: Vec<(&str, &[u8], Vec<Read>)> = vec![
            (
                "plain lines",
                b"a,b\n1,2\n",
                vec![ok(1, &["a", "b"]), ok(2, &["1", "2"])],
            ),
            (
                "CRLF and no final line break",
                b"a,b\r\n1,2",
                vec![ok(1, &["a", "b"]), ok(2, &["1", "2"])],
            ),
            (
                "a lone CR ends a line",
                b"a\r1\r",
                vec![ok(1, &["a"]), ok(2, &["1"])],
            ),
            (
                "a byte order mark is dropped",
                b"\xEF\xBB\xBFemail\nx@y.io\n",
                vec![ok(1, &["email"]), ok(2, &["x@y.io"])],
            ),
            (
                "quoted separators, quotes and line breaks; the next record's line counts them",
                b"a,b\n\"x, y\",\"say \"\"hi\"\"\nthere\r\nyou\"\n3,4\n",
                vec![
                    ok(1, &["a", "b"]),
                    ok(2, &["x, y", "say \"hi\"\nthere\r\nyou"]),
                    ok(5, &["3", "4"]),
                ],
            ),
            (
                "blank lines are skipped but counted",
                b"a\n\n\r\n2\n",
                vec![ok(1, &["a"]), ok(4, &["2"])],
            ),
            (
                "empty fields are kept",
                b",\n,x,\n",
                vec![ok(1, &["", ""]), ok(2, &["", "x", ""])],
            ),
            (
                "a quote inside an unquoted field and text after a closing quote are kept",
                b"ab\"c,\"d\"e\n",
                vec![ok(1, &["ab\"c", "de"])],
            ),
            (
                "an empty quoted field begins a record",
                b"\"\"\n",
                vec![ok(1, &[""])],
            ),
            (
                "an unclosed quote fails its record at the end of the file",
                b"a\n\"open\nmore\n",
                vec![ok(1, &["a"]), (2, Err(BadRecord::UnclosedQuote))],
            ),
            (
                "text that is not UTF-8 fails its record alone",
                b"a\n\xff\nb\n",
                vec![ok(1, &["a"]), (2, Err(BadRecord::NotUtf8)), ok(3, &["b"])],
            ),
            (
                "bytes that begin like a byte order mark but are not one are text",
                b"\xEF\xBBx\n",
                vec![(1, Err(BadRecord::NotUtf8))],
            ),
            ("an empty file has no records", b"", vec![]),
        ];
        for (name, input, expected) in cases {
            for size in [1, 2, 3, 5, 64] {
                assert_eq!(
                    fields(&read(input, size)),
                    expected,
                    "{name}, chunks of {size}"
                );
            }
        }
    }

    #[test]
    fn a_record_longer_than_the_limit_fails_alone_and_is_not_kept() {
        let mut input = b"a\n\"".to_vec();
        input.extend(std::iter::repeat_n(b'x', MAX_RECORD_BYTES + 10));
        input.extend(b"\"\nb\n");
        let records = read(&input, 4096);
        assert_eq!(
            fields(&records),
            vec![ok(1, &["a"]), (2, Err(BadRecord::TooLong)), ok(3, &["b"])]
        );
    }

    #[test]
    fn reading_resumes_from_a_records_end_with_its_line_numbers() {
        let input = b"\xEF\xBB\xBFh\n1\n\"2\n2\"\n3\n";
        let all = read(input, 7);
        assert_eq!(
            fields(&all),
            vec![
                ok(1, &["h"]),
                ok(2, &["1"]),
                ok(3, &["2\n2"]),
                ok(5, &["3"])
            ]
        );
        // Resume after each record: the rest reads the same, line numbers included.
        for n in 0..all.len() {
            let at = all[n].resume;
            let mut reader = CsvReader::resume_at(at);
            let mut rest = Vec::new();
            reader.feed(&input[at.offset as usize..], |r| rest.push(r));
            reader.finish(|r| rest.push(r));
            assert_eq!(rest, all[n + 1..].to_vec(), "after record {n}");
        }
        assert_eq!(
            all.last().map(|r| r.resume.offset),
            Some(input.len() as u64)
        );
    }

    #[test]
    fn a_resume_point_between_cr_and_lf_keeps_the_line_numbers() {
        let input = b"h
1

2
";
        let all = read(input, 3);
        assert_eq!(
            fields(&all),
            vec![ok(1, &["h"]), ok(2, &["1"]), ok(4, &["2"])]
        );
        for n in 0..all.len() {
            let at = all[n].resume;
            let mut reader = CsvReader::resume_at(at);
            let mut rest = Vec::new();
            reader.feed(&input[at.offset as usize..], |r| rest.push(r));
            reader.finish(|r| rest.push(r));
            assert_eq!(rest, all[n + 1..].to_vec(), "after record {n}");
        }
    }
}
