//! The RFC 2822 / MIME messages CaseyOS sends through Gmail, built to the byte: CRLF line
//! endings, `From`, `To` (several), `Cc`, `Subject` (an RFC 2047 `=?UTF-8?B?…?=`
//! encoded-word when not ASCII), `Date`, the `Message-ID` the caller chose (so a retry can
//! look for it before sending again), `In-Reply-To` / `References` for threading, then a
//! `text/plain` body, or `multipart/alternative` text + HTML, inside `multipart/mixed` when
//! there are attachments (a proposal document). Bodies and attachments are base64 (lines of
//! 76), so no line is too long and no body line can look like a boundary; the boundaries
//! start with `=_`, which base64 never produces.
//!
//! References: RFC 5322 (header fields, `Message-ID`, `In-Reply-To`, `References`), RFC 2045
//! and 2046 (MIME, multipart), RFC 2047 (encoded words), RFC 2231 (non-ASCII file names);
//! Gmail's "Sending email" guide (a message is threaded when `threadId` is given and
//! `References` / `In-Reply-To` follow RFC 2822, and the `Subject` matches).
//!
//! **Header injection.** A CR or LF in any value that becomes a header (a name, an address,
//! the subject, an id, a file name) is refused with [`MimeError::HeaderInjection`]: nothing
//! from a caller can add a header or a part.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

/// Why a message could not be built.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MimeError {
    #[error("the {header} header would hold a line break")]
    HeaderInjection { header: &'static str },
    #[error("the {header} header holds an address that is not one: it needs one @, no spaces, no angle brackets or commas")]
    InvalidAddress { header: &'static str },
    #[error("the {header} header holds a message id that is not one (`<left@right>`)")]
    InvalidMessageId { header: &'static str },
    #[error("a message needs at least one recipient in To")]
    NoRecipients,
}

impl MimeError {
    /// The stable code: `mime.header_injection`, `mime.invalid_address`,
    /// `mime.invalid_message_id`, `mime.no_recipients`.
    pub fn code(&self) -> &'static str {
        match self {
            MimeError::HeaderInjection { .. } => "mime.header_injection",
            MimeError::InvalidAddress { .. } => "mime.invalid_address",
            MimeError::InvalidMessageId { .. } => "mime.invalid_message_id",
            MimeError::NoRecipients => "mime.no_recipients",
        }
    }
}

/// A person's address, with an optional display name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mailbox {
    pub name: Option<String>,
    pub email: String,
}

impl Mailbox {
    pub fn new(email: impl Into<String>) -> Self {
        Mailbox {
            name: None,
            email: email.into(),
        }
    }

    pub fn named(name: impl Into<String>, email: impl Into<String>) -> Self {
        Mailbox {
            name: Some(name.into()),
            email: email.into(),
        }
    }
}

/// A file sent with a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attachment {
    pub filename: String,
    /// e.g. `application/pdf`.
    pub content_type: String,
    pub data: Vec<u8>,
}

/// One outgoing message. [`to_bytes`](Self::to_bytes) makes its RFC 2822 form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutgoingMessage {
    pub from: Mailbox,
    pub to: Vec<Mailbox>,
    pub cc: Vec<Mailbox>,
    pub subject: String,
    pub date: DateTime<Utc>,
    /// Ours, `<uuid@caseyos>` (the angle brackets are added when missing): what a retry
    /// searches for (`rfc822msgid:`) before sending again.
    pub message_id: String,
    /// The `Message-ID` of the message answered.
    pub in_reply_to: Option<String>,
    /// The thread's ids, oldest first (the answered message's `References` plus its id).
    pub references: Vec<String>,
    pub text: String,
    pub html: Option<String>,
    pub attachments: Vec<Attachment>,
}

/// Longest line of base64 (RFC 2045).
const BASE64_LINE: usize = 76;
/// Header lines are folded before this many characters where they can be (RFC 5322).
const FOLD_AT: usize = 78;
/// A header line holding encoded words stays within 76 characters (RFC 2047): 39 bytes of
/// text make 52 of base64, a 64-character word, 73 after `Subject: `.
const ENCODED_WORD_BYTES: usize = 39;

impl OutgoingMessage {
    /// The message's bytes, CRLF line endings throughout.
    pub fn to_bytes(&self) -> Result<Vec<u8>, MimeError> {
        if self.to.is_empty() {
            return Err(MimeError::NoRecipients);
        }
        let own_id = message_id("Message-ID", &self.message_id)?;
        let mut head = String::new();
        header(
            &mut head,
            "From",
            &mailboxes("From", std::slice::from_ref(&self.from))?,
        )?;
        header(&mut head, "To", &mailboxes("To", &self.to)?)?;
        if !self.cc.is_empty() {
            header(&mut head, "Cc", &mailboxes("Cc", &self.cc)?)?;
        }
        no_line_break("Subject", &self.subject)?;
        head.push_str(&format!(
            "Subject: {}\r\n",
            encode_text("Subject: ", &self.subject)
        ));
        head.push_str(&format!("Date: {}\r\n", self.date.to_rfc2822()));
        head.push_str(&format!("Message-ID: {own_id}\r\n"));
        if let Some(id) = &self.in_reply_to {
            head.push_str(&format!(
                "In-Reply-To: {}\r\n",
                message_id("In-Reply-To", id)?
            ));
        }
        if !self.references.is_empty() {
            let ids = self
                .references
                .iter()
                .map(|id| message_id("References", id))
                .collect::<Result<Vec<_>, _>>()?;
            head.push_str(&fold("References: ", &ids, " "));
        }
        head.push_str("MIME-Version: 1.0\r\n");

        let seed = boundary_seed(&own_id);
        let body = if self.html.is_some() {
            alternative(&self.text, self.html.as_deref().unwrap_or_default(), &seed)
        } else {
            text_part("text/plain", &self.text)
        };
        let entity = if self.attachments.is_empty() {
            body
        } else {
            let boundary = format!("=_caseyos_mixed_{seed}");
            let mut mixed = format!(
                "Content-Type: multipart/mixed; boundary=\"{boundary}\"\r\n\r\n--{boundary}\r\n{body}"
            );
            for attachment in &self.attachments {
                mixed.push_str(&format!("\r\n--{boundary}\r\n"));
                mixed.push_str(&attachment_part(attachment)?);
            }
            mixed.push_str(&format!("\r\n--{boundary}--\r\n"));
            mixed
        };
        head.push_str(&entity);
        Ok(head.into_bytes())
    }
}

/// A part: its headers, a blank line, its base64 body (ending in CRLF).
fn text_part(content_type: &str, text: &str) -> String {
    format!(
        "Content-Type: {content_type}; charset=\"UTF-8\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{}",
        base64_lines(normalize_newlines(text).as_bytes())
    )
}

fn alternative(text: &str, html: &str, seed: &str) -> String {
    let boundary = format!("=_caseyos_alt_{seed}");
    format!(
        "Content-Type: multipart/alternative; boundary=\"{boundary}\"\r\n\r\n--{boundary}\r\n{}\r\n--{boundary}\r\n{}\r\n--{boundary}--\r\n",
        text_part("text/plain", text),
        text_part("text/html", html),
    )
}

fn attachment_part(attachment: &Attachment) -> Result<String, MimeError> {
    no_line_break("Content-Disposition", &attachment.filename)?;
    no_line_break("Content-Type", &attachment.content_type)?;
    let content_type = attachment.content_type.trim();
    let valid_type = content_type.split_once('/').is_some_and(|(a, b)| {
        let token = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|c| c.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&c))
        };
        token(a) && token(b)
    });
    let content_type = if valid_type {
        content_type
    } else {
        "application/octet-stream"
    };
    let (name, filename) = file_name_params(&attachment.filename);
    Ok(format!(
        "Content-Type: {content_type}; {name}\r\nContent-Disposition: attachment; {filename}\r\nContent-Transfer-Encoding: base64\r\n\r\n{}",
        base64_lines(&attachment.data)
    ))
}

/// `name="…"` and `filename="…"` for a plain ASCII name; RFC 2231 `filename*=UTF-8''…`
/// (and an RFC 2047 `name`, which mail readers still read) otherwise.
fn file_name_params(filename: &str) -> (String, String) {
    let plain = !filename.is_empty()
        && filename
            .bytes()
            .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\');
    if plain {
        return (
            format!("name=\"{filename}\""),
            format!("filename=\"{filename}\""),
        );
    }
    let mut encoded = String::new();
    for b in filename.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    (
        format!("name=\"{}\"", encoded_words(filename).join(" ")),
        format!("filename*=UTF-8''{encoded}"),
    )
}

/// A header line (folded) after checking the value holds no line break.
fn header(head: &mut String, name: &'static str, items: &[String]) -> Result<(), MimeError> {
    for item in items {
        no_line_break(name, item)?;
    }
    head.push_str(&fold(&format!("{name}: "), items, ", "));
    Ok(())
}

/// `start` then the items joined by `separator`, folded (CRLF and a space) before an item
/// that would carry the line past [`FOLD_AT`]; ends with CRLF.
fn fold(start: &str, items: &[String], separator: &str) -> String {
    let mut out = start.to_string();
    let mut line = start.len();
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            let sep = separator.trim_end();
            if line + separator.len() + item.len() > FOLD_AT {
                out.push_str(sep);
                out.push_str("\r\n ");
                line = 1;
            } else {
                out.push_str(separator);
                line += separator.len();
            }
        }
        out.push_str(item);
        line += item.len();
    }
    out.push_str("\r\n");
    out
}

/// Each mailbox as `addr`, `"Name" <addr>` or `=?UTF-8?B?…?= <addr>`.
fn mailboxes(header: &'static str, list: &[Mailbox]) -> Result<Vec<String>, MimeError> {
    list.iter()
        .map(|mailbox| {
            no_line_break(header, &mailbox.email)?;
            let email = mailbox.email.trim();
            let valid = email.matches('@').count() == 1
                && !email.starts_with('@')
                && !email.ends_with('@')
                && email
                    .chars()
                    .all(|c| c.is_ascii_graphic() && !"<>,;:\"()[]\\".contains(c));
            if !valid {
                return Err(MimeError::InvalidAddress { header });
            }
            let name = mailbox.name.as_deref().unwrap_or_default();
            no_line_break(header, name)?;
            let name = name.trim();
            Ok(if name.is_empty() {
                email.to_string()
            } else if name.is_ascii() && name.chars().all(|c| !c.is_ascii_control()) {
                let escaped = name.replace('\\', "\\\\").replace('"', "\\\"");
                format!("\"{escaped}\" <{email}>")
            } else {
                format!("{} <{email}>", encoded_words(name).join(" "))
            })
        })
        .collect()
}

/// `<left@right>` from an id with or without its angle brackets.
fn message_id(header: &'static str, raw: &str) -> Result<String, MimeError> {
    no_line_break(header, raw)?;
    let raw = raw.trim();
    let inner = raw
        .strip_prefix('<')
        .and_then(|r| r.strip_suffix('>'))
        .unwrap_or(raw);
    let valid = inner
        .split_once('@')
        .is_some_and(|(left, right)| !left.is_empty() && !right.is_empty() && !right.contains('@'))
        && inner
            .chars()
            .all(|c| c.is_ascii_graphic() && !"<>\"()[]\\,;:".contains(c));
    if !valid {
        return Err(MimeError::InvalidMessageId { header });
    }
    Ok(format!("<{inner}>"))
}

fn no_line_break(header: &'static str, value: &str) -> Result<(), MimeError> {
    if value.contains(['\r', '\n']) {
        return Err(MimeError::HeaderInjection { header });
    }
    Ok(())
}

/// Printable ASCII as it is (folded at spaces past the line limit); anything else as
/// RFC 2047 encoded words, one per line after the first.
fn encode_text(prefix: &str, text: &str) -> String {
    let plain = text.bytes().all(|b| (0x20..0x7f).contains(&b))
        && !text.contains("=?")
        && prefix.len() + text.len() <= 998;
    if plain {
        return text.to_string();
    }
    encoded_words(text).join("\r\n ")
}

/// `=?UTF-8?B?…?=` words of at most [`ENCODED_WORD_BYTES`] bytes of text each, never
/// splitting a character.
fn encoded_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in text.chars() {
        if chunk.len() + c.len_utf8() > ENCODED_WORD_BYTES {
            words.push(format!("=?UTF-8?B?{}?=", STANDARD.encode(chunk.as_bytes())));
            chunk.clear();
        }
        chunk.push(c);
    }
    if !chunk.is_empty() || words.is_empty() {
        words.push(format!("=?UTF-8?B?{}?=", STANDARD.encode(chunk.as_bytes())));
    }
    words
}

/// Base64 in lines of [`BASE64_LINE`], each ending in CRLF.
fn base64_lines(data: &[u8]) -> String {
    let encoded = STANDARD.encode(data);
    let mut out = String::with_capacity(encoded.len() + encoded.len() / BASE64_LINE * 2 + 2);
    for line in encoded.as_bytes().chunks(BASE64_LINE) {
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push_str("\r\n");
    }
    out
}

/// Every line break of a body as CRLF.
fn normalize_newlines(text: &str) -> String {
    text.replace("\r\n", "\n")
        .replace('\r', "\n")
        .replace('\n', "\r\n")
}

/// 16 hex digits from the message id: boundaries differ per message and the bytes of one
/// message are the same every time it is built.
fn boundary_seed(message_id: &str) -> String {
    let digest = Sha256::digest(message_id.as_bytes());
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-30T19:35:16Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn message() -> OutgoingMessage {
        OutgoingMessage {
            from: Mailbox::named("Casey Jones", "casey@example.com"),
            to: vec![Mailbox::new("dana@acme.io")],
            cc: vec![],
            subject: "Next steps".into(),
            date: at(),
            message_id: "<0193e1c2-7f00-7000-8000-000000000001@caseyos>".into(),
            in_reply_to: None,
            references: vec![],
            text: "Hi Dana,\nThanks!\n".into(),
            html: None,
            attachments: vec![],
        }
    }

    fn text(bytes: Vec<u8>) -> String {
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn a_text_message_is_these_exact_bytes() {
        let built = text(message().to_bytes().unwrap());
        let body = STANDARD.encode("Hi Dana,\r\nThanks!\r\n");
        assert_eq!(
            built,
            format!(
                "From: \"Casey Jones\" <casey@example.com>\r\n\
                 To: dana@acme.io\r\n\
                 Subject: Next steps\r\n\
                 Date: Mon, 30 Nov 2026 19:35:16 +0000\r\n\
                 Message-ID: <0193e1c2-7f00-7000-8000-000000000001@caseyos>\r\n\
                 MIME-Version: 1.0\r\n\
                 Content-Type: text/plain; charset=\"UTF-8\"\r\n\
                 Content-Transfer-Encoding: base64\r\n\
                 \r\n\
                 {body}\r\n"
            )
        );
    }

    #[test]
    fn a_reply_with_html_is_threaded_and_alternative() {
        let mut reply = message();
        reply.to = vec![
            Mailbox::named("Dana Smith", "dana@acme.io"),
            Mailbox::new("ops@acme.io"),
            Mailbox::new("someone.with.a.long.address@subsidiary.acme.io"),
        ];
        reply.cc = vec![Mailbox::new("boss@example.com")];
        reply.subject = "Re: Next steps".into();
        reply.in_reply_to = Some("CAB+abc@mail.gmail.com".into());
        reply.references = vec!["<first@acme.io>".into(), "<CAB+abc@mail.gmail.com>".into()];
        reply.html = Some("<p>Hi Dana,</p>".into());
        let built = text(reply.to_bytes().unwrap());
        let seed = boundary_seed("<0193e1c2-7f00-7000-8000-000000000001@caseyos>");
        let plain = STANDARD.encode("Hi Dana,\r\nThanks!\r\n");
        let html = STANDARD.encode("<p>Hi Dana,</p>");
        assert_eq!(
            built,
            format!(
                "From: \"Casey Jones\" <casey@example.com>\r\n\
                 To: \"Dana Smith\" <dana@acme.io>, ops@acme.io,\r\n \
                 someone.with.a.long.address@subsidiary.acme.io\r\n\
                 Cc: boss@example.com\r\n\
                 Subject: Re: Next steps\r\n\
                 Date: Mon, 30 Nov 2026 19:35:16 +0000\r\n\
                 Message-ID: <0193e1c2-7f00-7000-8000-000000000001@caseyos>\r\n\
                 In-Reply-To: <CAB+abc@mail.gmail.com>\r\n\
                 References: <first@acme.io> <CAB+abc@mail.gmail.com>\r\n\
                 MIME-Version: 1.0\r\n\
                 Content-Type: multipart/alternative; boundary=\"=_caseyos_alt_{seed}\"\r\n\
                 \r\n\
                 --=_caseyos_alt_{seed}\r\n\
                 Content-Type: text/plain; charset=\"UTF-8\"\r\n\
                 Content-Transfer-Encoding: base64\r\n\
                 \r\n\
                 {plain}\r\n\
                 \r\n\
                 --=_caseyos_alt_{seed}\r\n\
                 Content-Type: text/html; charset=\"UTF-8\"\r\n\
                 Content-Transfer-Encoding: base64\r\n\
                 \r\n\
                 {html}\r\n\
                 \r\n\
                 --=_caseyos_alt_{seed}--\r\n"
            )
        );
    }

    #[test]
    fn attachments_make_a_mixed_message() {
        let mut with_file = message();
        with_file.attachments = vec![Attachment {
            filename: "Proposal – Acme.pdf".into(),
            content_type: "application/pdf".into(),
            data: vec![0u8; 100],
        }];
        let built = text(with_file.to_bytes().unwrap());
        let seed = boundary_seed("<0193e1c2-7f00-7000-8000-000000000001@caseyos>");
        let plain = STANDARD.encode("Hi Dana,\r\nThanks!\r\n");
        let file = STANDARD.encode([0u8; 100]);
        let (first, second) = file.split_at(76);
        let name = STANDARD.encode("Proposal – Acme.pdf");
        let tail = format!(
            "MIME-Version: 1.0\r\n\
             Content-Type: multipart/mixed; boundary=\"=_caseyos_mixed_{seed}\"\r\n\
             \r\n\
             --=_caseyos_mixed_{seed}\r\n\
             Content-Type: text/plain; charset=\"UTF-8\"\r\n\
             Content-Transfer-Encoding: base64\r\n\
             \r\n\
             {plain}\r\n\
             \r\n\
             --=_caseyos_mixed_{seed}\r\n\
             Content-Type: application/pdf; name=\"=?UTF-8?B?{name}?=\"\r\n\
             Content-Disposition: attachment; filename*=UTF-8''Proposal%20%E2%80%93%20Acme.pdf\r\n\
             Content-Transfer-Encoding: base64\r\n\
             \r\n\
             {first}\r\n{second}\r\n\
             \r\n\
             --=_caseyos_mixed_{seed}--\r\n"
        );
        assert!(built.ends_with(&tail), "{built}");
    }

    #[test]
    fn non_ascii_subjects_and_names_are_encoded_words() {
        let mut message = message();
        message.subject = "Предложение для Acme — следующий шаг".into();
        message.from = Mailbox::named("Zoë Ünal", "zoe@example.com");
        let built = text(message.to_bytes().unwrap());
        let subject = built
            .split("\r\n")
            .skip_while(|l| !l.starts_with("Subject: "))
            .take_while(|l| l.starts_with("Subject: ") || l.starts_with(' '))
            .collect::<Vec<_>>();
        assert!(subject.len() > 1, "a long subject is folded: {subject:?}");
        let mut decoded = Vec::new();
        for line in &subject {
            assert!(line.len() <= FOLD_AT, "{line:?}");
            let word = line.trim_start_matches("Subject: ").trim();
            let inner = word
                .strip_prefix("=?UTF-8?B?")
                .and_then(|w| w.strip_suffix("?="))
                .unwrap_or_else(|| panic!("an encoded word: {word:?}"));
            decoded.extend(STANDARD.decode(inner).unwrap());
        }
        assert_eq!(
            String::from_utf8(decoded).unwrap(),
            "Предложение для Acme — следующий шаг"
        );
        let from = format!(
            "From: =?UTF-8?B?{}?= <zoe@example.com>\r\n",
            STANDARD.encode("Zoë Ünal")
        );
        assert!(built.starts_with(&from), "{built}");
    }

    #[test]
    fn line_breaks_in_headers_are_refused() {
        const INJECTED: &str = "x\r\nBcc: everyone@example.com";
        // (change, error)
        type Change = Box<dyn Fn(&mut OutgoingMessage)>;
        let cases: Vec<(Change, MimeError)> = vec![
            (
                Box::new(|m| m.subject = INJECTED.into()),
                MimeError::HeaderInjection { header: "Subject" },
            ),
            (
                Box::new(|m| m.subject = "a\nb".into()),
                MimeError::HeaderInjection { header: "Subject" },
            ),
            (
                Box::new(|m| m.to.push(Mailbox::named(INJECTED, "a@b.io"))),
                MimeError::HeaderInjection { header: "To" },
            ),
            (
                Box::new(|m| m.to.push(Mailbox::new("a@b.io\r\nBcc: x@y.io"))),
                MimeError::HeaderInjection { header: "To" },
            ),
            (
                Box::new(|m| m.cc.push(Mailbox::new("a@b.io\n"))),
                MimeError::HeaderInjection { header: "Cc" },
            ),
            (
                Box::new(|m| m.from.name = Some("Casey\r".into())),
                MimeError::HeaderInjection { header: "From" },
            ),
            (
                Box::new(|m| m.message_id = "<a@b>\r\nX: y".into()),
                MimeError::HeaderInjection {
                    header: "Message-ID",
                },
            ),
            (
                Box::new(|m| m.in_reply_to = Some("<a@b>\nX: y".into())),
                MimeError::HeaderInjection {
                    header: "In-Reply-To",
                },
            ),
            (
                Box::new(|m| m.references = vec!["<a@b>\r\n".into()]),
                MimeError::HeaderInjection {
                    header: "References",
                },
            ),
            (
                Box::new(|m| {
                    m.attachments = vec![Attachment {
                        filename: "a.pdf\r\nX: y".into(),
                        content_type: "application/pdf".into(),
                        data: vec![],
                    }]
                }),
                MimeError::HeaderInjection {
                    header: "Content-Disposition",
                },
            ),
            (
                Box::new(|m| m.to = vec![Mailbox::new("not an address")]),
                MimeError::InvalidAddress { header: "To" },
            ),
            (
                Box::new(|m| m.to = vec![Mailbox::new("a@b.io>, evil@x.io")]),
                MimeError::InvalidAddress { header: "To" },
            ),
            (
                Box::new(|m| m.message_id = "no-at-sign".into()),
                MimeError::InvalidMessageId {
                    header: "Message-ID",
                },
            ),
            (Box::new(|m| m.to.clear()), MimeError::NoRecipients),
        ];
        for (i, (change, error)) in cases.into_iter().enumerate() {
            let mut m = message();
            change(&mut m);
            assert_eq!(m.to_bytes(), Err(error), "case {i}");
        }
    }

    #[test]
    fn message_ids_get_their_angle_brackets() {
        let mut m = message();
        m.message_id = "abc@caseyos".into();
        let built = text(m.to_bytes().unwrap());
        assert!(
            built.contains("\r\nMessage-ID: <abc@caseyos>\r\n"),
            "{built}"
        );
    }
}
