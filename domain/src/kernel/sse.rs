//! Reading server-sent events (`text/event-stream`) as their bytes come: the one reader of
//! the web app's streamed chat answers, the language-model client's chunk stream and the
//! tests' event streams.

/// One server-sent event: its name (`message` when unnamed) and its `data:` lines joined by
/// line breaks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SseEvent {
    pub event: String,
    pub data: String,
}

/// Takes the next whole event off the front of `buffer` (an event ends with an empty line;
/// `\r` is not read as a line end, so give bytes without it), or `None` until one has come
/// whole. Comment lines (keep-alives) are counted in `comments`; other fields are skipped, and
/// so is a block with neither a name nor data.
pub fn take_event(buffer: &mut Vec<u8>, comments: &mut usize) -> Option<SseEvent> {
    while let Some(end) = buffer.windows(2).position(|w| w == b"\n\n") {
        let block: Vec<u8> = buffer.drain(..end + 2).collect();
        let (mut event, mut data) = (None, Vec::new());
        for line in String::from_utf8_lossy(&block).lines() {
            if line.starts_with(':') {
                *comments += 1;
                continue;
            }
            let (field, value) = line.split_once(':').unwrap_or((line, ""));
            let value = value.strip_prefix(' ').unwrap_or(value).to_string();
            match field {
                "event" => event = Some(value),
                "data" => data.push(value),
                _ => {}
            }
        }
        if event.is_some() || !data.is_empty() {
            return Some(SseEvent {
                event: event.unwrap_or_else(|| "message".into()),
                data: data.join("\n"),
            });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::{take_event, SseEvent};

    fn all(buffer: &mut Vec<u8>, comments: &mut usize) -> Vec<SseEvent> {
        std::iter::from_fn(|| take_event(buffer, comments)).collect()
    }

    fn event(event: &str, data: &str) -> SseEvent {
        SseEvent {
            event: event.into(),
            data: data.into(),
        }
    }

    #[test]
    fn events_are_read_whole_however_the_bytes_come() {
        let stream = "event: message\ndata: {\"content\":\"Caf\u{e9}?\"}\n\n\
                      : keep-alive\n\n\
                      event: done\ndata: {\"id\":\"c-1\"}\n\n";
        let expected = [
            event("message", "{\"content\":\"Caf\u{e9}?\"}"),
            event("done", "{\"id\":\"c-1\"}"),
        ];
        // Whole, and cut at every byte (through the middle of "é" and of "\n\n").
        let bytes = stream.as_bytes();
        for cut in 0..bytes.len() {
            let (mut buffer, mut comments) = (bytes[..cut].to_vec(), 0);
            let mut found = all(&mut buffer, &mut comments);
            buffer.extend_from_slice(&bytes[cut..]);
            found.extend(all(&mut buffer, &mut comments));
            assert_eq!(found, expected, "cut at {cut}");
            assert!(buffer.is_empty(), "cut at {cut}");
            assert_eq!(comments, 1, "cut at {cut}");
        }
        // An event not ended yet stays; data lines join; unnamed is `message`.
        let (mut buffer, mut comments) = (b"data: a\ndata: b\n\nevent: done\ndata: {}".to_vec(), 0);
        assert_eq!(all(&mut buffer, &mut comments), [event("message", "a\nb")]);
        assert_eq!(buffer, b"event: done\ndata: {}");
        // A block of other fields only is no event.
        let (mut buffer, mut comments) = (b"id: 7\nretry: 10\n\ndata: x\n\n".to_vec(), 0);
        assert_eq!(all(&mut buffer, &mut comments), [event("message", "x")]);
    }
}
