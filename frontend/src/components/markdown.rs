//! A small, safe markdown reader for the text agents write: headings, paragraphs, bullet and
//! numbered lists, quotes, rules, tables, code blocks, and bold, italic, inline code and
//! links inside them. It builds Yew nodes; text is always text (never HTML), and links go
//! only to http(s), mailto or this app's own paths.

use yew::prelude::*;

use crate::infra::links::is_same_site_path;

/// Text with emphasis.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Inline {
    Text(String),
    Strong(Vec<Inline>),
    Em(Vec<Inline>),
    Code(String),
    Link { text: Vec<Inline>, href: String },
}

/// A block of a document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Block {
    /// Level 1–6, as written.
    Heading(u8, Vec<Inline>),
    Paragraph(Vec<Inline>),
    List {
        /// The first number of a numbered list; `None` for bullets.
        start: Option<u32>,
        items: Vec<Vec<Inline>>,
    },
    Code {
        lang: Option<String>,
        text: String,
    },
    Quote(Vec<Inline>),
    Rule,
    Table {
        head: Vec<Vec<Inline>>,
        rows: Vec<Vec<Vec<Inline>>>,
    },
}

fn heading(line: &str) -> Option<(u8, &str)> {
    let hashes = line.chars().take_while(|c| *c == '#').count();
    let rest = &line[hashes..];
    if (1..=6).contains(&hashes) && (rest.is_empty() || rest.starts_with(' ')) {
        Some((hashes as u8, rest.trim().trim_end_matches('#').trim_end()))
    } else {
        None
    }
}

fn is_rule(line: &str) -> bool {
    let marks: String = line.chars().filter(|c| !c.is_whitespace()).collect();
    marks.len() >= 3
        && ["-", "*", "_"]
            .iter()
            .any(|m| marks.chars().all(|c| c.to_string() == *m))
}

/// A list item's number (`None` for a bullet) and its text.
fn list_item(line: &str) -> Option<(Option<u32>, &str)> {
    for bullet in ["- ", "* ", "+ "] {
        if let Some(rest) = line.strip_prefix(bullet) {
            return Some((None, rest));
        }
    }
    let digits = line.chars().take_while(|c| c.is_ascii_digit()).count();
    if digits == 0 || digits > 9 {
        return None;
    }
    let rest = &line[digits..];
    let rest = rest
        .strip_prefix(". ")
        .or_else(|| rest.strip_prefix(") "))?;
    Some((line[..digits].parse().ok(), rest))
}

fn fence(line: &str) -> Option<&'static str> {
    ["```", "~~~"].into_iter().find(|f| line.starts_with(f))
}

fn table_cells(line: &str) -> Vec<&str> {
    let line = line.trim();
    let line = line.strip_prefix('|').unwrap_or(line);
    let line = line.strip_suffix('|').unwrap_or(line);
    line.split('|').map(str::trim).collect()
}

fn is_table_separator(line: &str) -> bool {
    line.contains('-')
        && table_cells(line).iter().all(|cell| {
            let cell = cell.trim_start_matches(':').trim_end_matches(':');
            !cell.is_empty() && cell.chars().all(|c| c == '-')
        })
}

/// Whether `line` starts a block other than a paragraph.
fn starts_block(line: &str) -> bool {
    heading(line).is_some()
        || fence(line).is_some()
        || line.starts_with('>')
        || is_rule(line)
        || list_item(line).is_some()
}

/// Reads a document into blocks.
pub fn parse(source: &str) -> Vec<Block> {
    let lines: Vec<&str> = source.lines().collect();
    let mut blocks = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].trim_start();
        if line.is_empty() {
            i += 1;
            continue;
        }
        if let Some(mark) = fence(line) {
            let lang = Some(line[mark.len()..].trim().to_string()).filter(|l| !l.is_empty());
            let mut text = Vec::new();
            i += 1;
            while i < lines.len() && !lines[i].trim_start().starts_with(mark) {
                text.push(lines[i]);
                i += 1;
            }
            i += 1;
            blocks.push(Block::Code {
                lang,
                text: text.join("\n"),
            });
            continue;
        }
        if let Some((level, text)) = heading(line) {
            blocks.push(Block::Heading(level, inlines(text)));
            i += 1;
            continue;
        }
        if is_rule(line) {
            blocks.push(Block::Rule);
            i += 1;
            continue;
        }
        if line.starts_with('>') {
            let mut text = Vec::new();
            while i < lines.len() && lines[i].trim_start().starts_with('>') {
                text.push(lines[i].trim_start()[1..].trim());
                i += 1;
            }
            blocks.push(Block::Quote(inlines(&text.join(" "))));
            continue;
        }
        if let Some((number, _)) = list_item(line) {
            let ordered = number.is_some();
            let mut items: Vec<String> = Vec::new();
            while i < lines.len() {
                let current = lines[i].trim_start();
                match list_item(current) {
                    Some((n, text)) if n.is_some() == ordered => items.push(text.to_string()),
                    Some(_) => break,
                    None if current.is_empty() => {
                        // A blank line ends the list unless another item follows it.
                        let next = lines.get(i + 1).map(|l| l.trim_start());
                        if next
                            .and_then(list_item)
                            .is_none_or(|(n, _)| n.is_some() != ordered)
                        {
                            break;
                        }
                    }
                    // An indented line continues the item above it.
                    None if lines[i].starts_with(' ') && !starts_block(current) => {
                        if let Some(last) = items.last_mut() {
                            last.push(' ');
                            last.push_str(current);
                        }
                    }
                    None => break,
                }
                i += 1;
            }
            blocks.push(Block::List {
                start: number,
                items: items.iter().map(|t| inlines(t)).collect(),
            });
            continue;
        }
        if line.contains('|') && lines.get(i + 1).is_some_and(|l| is_table_separator(l)) {
            let head = table_cells(line).into_iter().map(inlines).collect();
            i += 2;
            let mut rows = Vec::new();
            while i < lines.len() && lines[i].contains('|') {
                rows.push(table_cells(lines[i]).into_iter().map(inlines).collect());
                i += 1;
            }
            blocks.push(Block::Table { head, rows });
            continue;
        }
        let mut text = vec![line.trim_end()];
        i += 1;
        while i < lines.len() {
            let next = lines[i].trim_start();
            if next.is_empty() || starts_block(next) {
                break;
            }
            text.push(next.trim_end());
            i += 1;
        }
        blocks.push(Block::Paragraph(inlines(&text.join(" "))));
    }
    blocks
}

/// Links may go to the web, to mail, or within CaseyOS (a path by [`is_same_site_path`]).
fn safe_href(href: &str) -> bool {
    let lower = href.trim().to_ascii_lowercase();
    lower.starts_with("https://")
        || lower.starts_with("http://")
        || lower.starts_with("mailto:")
        || is_same_site_path(href.trim())
}

fn find(chars: &[char], from: usize, pattern: &[char]) -> Option<usize> {
    (from..chars.len().saturating_sub(pattern.len() - 1))
        .find(|&j| chars[j..j + pattern.len()] == *pattern)
}

/// Where the emphasis opened at `open` (with `n` marks of `mark`) closes, if it does.
/// `char::is_alphanumeric`, asking the browser about letters and digits beyond ASCII (the
/// same Unicode properties), so the wasm carries no Unicode tables for it.
fn is_alphanumeric(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphanumeric();
    }
    thread_local! {
        static LETTER_OR_DIGIT: js_sys::RegExp = js_sys::RegExp::new(r"^[\p{Alphabetic}\p{N}]$", "u");
    }
    LETTER_OR_DIGIT.with(|re| re.test(c.encode_utf8(&mut [0; 4])))
}

fn closing(chars: &[char], open: usize, mark: char, n: usize) -> Option<usize> {
    let mut j = open + n;
    while j + n <= chars.len() {
        let run = chars[j..].iter().take_while(|c| **c == mark).count();
        if run == 0 {
            j += 1;
            continue;
        }
        let after = chars.get(j + run);
        let closes = run >= n
            && !chars[j - 1].is_whitespace()
            && j > open + n
            && (mark != '_' || !after.is_some_and(|c| is_alphanumeric(*c)));
        if closes {
            // In a longer run, the inner marks belong to the text ("***a***").
            return Some(j + run - n);
        }
        j += run;
    }
    None
}

/// Reads the text of one block into runs of emphasis.
pub fn inlines(text: &str) -> Vec<Inline> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut plain = String::new();
    let flush = |plain: &mut String, out: &mut Vec<Inline>| {
        if !plain.is_empty() {
            out.push(Inline::Text(std::mem::take(plain)));
        }
    };
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' if chars.get(i + 1).is_some_and(|n| n.is_ascii_punctuation()) => {
                plain.push(chars[i + 1]);
                i += 2;
                continue;
            }
            '`' => {
                let n = chars[i..].iter().take_while(|c| **c == '`').count();
                let marks = vec!['`'; n];
                if let Some(end) = find(&chars, i + n, &marks) {
                    flush(&mut plain, &mut out);
                    let code: String = chars[i + n..end].iter().collect();
                    out.push(Inline::Code(code.trim().to_string()));
                    i = end + n;
                } else {
                    plain.extend(&marks);
                    i += n;
                }
                continue;
            }
            '*' | '_' => {
                let run = chars[i..].iter().take_while(|m| **m == c).count();
                let n = run.min(2);
                let before = i.checked_sub(1).map(|b| chars[b]);
                let opens = chars.get(i + run).is_some_and(|a| !a.is_whitespace())
                    && (c != '_' || !before.is_some_and(is_alphanumeric));
                if opens {
                    if let Some(end) = closing(&chars, i, c, n) {
                        flush(&mut plain, &mut out);
                        let inner: String = chars[i + n..end].iter().collect();
                        out.push(if n == 2 {
                            Inline::Strong(inlines(&inner))
                        } else {
                            Inline::Em(inlines(&inner))
                        });
                        i = end + n;
                        continue;
                    }
                }
                plain.extend(std::iter::repeat_n(c, run));
                i += run;
                continue;
            }
            '[' => {
                let link = find(&chars, i + 1, &[']']).and_then(|mid| {
                    if chars.get(mid + 1) != Some(&'(') {
                        return None;
                    }
                    // The address ends at its closing parenthesis ("f(1)" inside is kept).
                    let mut depth = 0usize;
                    let end = (mid + 2..chars.len()).find(|&j| match chars[j] {
                        '(' => {
                            depth += 1;
                            false
                        }
                        ')' if depth == 0 => true,
                        ')' => {
                            depth -= 1;
                            false
                        }
                        _ => false,
                    })?;
                    let label: String = chars[i + 1..mid].iter().collect();
                    let href: String = chars[mid + 2..end].iter().collect();
                    Some((label, href.trim().to_string(), end))
                });
                if let Some((label, href, end)) = link {
                    flush(&mut plain, &mut out);
                    if safe_href(&href) {
                        out.push(Inline::Link {
                            text: inlines(&label),
                            href,
                        });
                    } else {
                        out.extend(inlines(&label));
                    }
                    i = end + 1;
                    continue;
                }
            }
            _ => {}
        }
        plain.push(c);
        i += 1;
    }
    flush(&mut plain, &mut out);
    out
}

fn render_inlines(inlines: &[Inline]) -> Html {
    inlines
        .iter()
        .map(|inline| match inline {
            Inline::Text(text) => html! { { text.clone() } },
            Inline::Strong(inner) => html! { <strong>{ render_inlines(inner) }</strong> },
            Inline::Em(inner) => html! { <em>{ render_inlines(inner) }</em> },
            Inline::Code(code) => html! { <code>{ code.clone() }</code> },
            Inline::Link { text, href } => html! {
                <a href={href.clone()} rel="noopener noreferrer nofollow">{ render_inlines(text) }</a>
            },
        })
        .collect()
}

/// Headings start at `h3` (the text sits under a page's `h1` and a section's `h2`) and go
/// down one level per distinct level the text uses, so none is skipped: `levels` holds the
/// text's heading levels, sorted and distinct.
fn render_block(block: &Block, levels: &[u8]) -> Html {
    match block {
        Block::Heading(level, text) => {
            let rank = levels.iter().position(|l| l == level).unwrap_or(0);
            let tag = format!("h{}", (rank + 3).min(6));
            html! { <@{tag}>{ render_inlines(text) }</@> }
        }
        Block::Paragraph(text) => html! { <p>{ render_inlines(text) }</p> },
        Block::List { start: None, items } => html! {
            <ul>{ for items.iter().map(|item| html! { <li>{ render_inlines(item) }</li> }) }</ul>
        },
        Block::List {
            start: Some(start),
            items,
        } => html! {
            <ol start={start.to_string()}>{ for items.iter().map(|item| html! { <li>{ render_inlines(item) }</li> }) }</ol>
        },
        Block::Code { lang, text } => html! {
            <pre class="code" tabindex="0"><code class={lang.as_ref().map(|l| format!("language-{l}"))}>{ text.clone() }</code></pre>
        },
        Block::Quote(text) => html! { <blockquote><p>{ render_inlines(text) }</p></blockquote> },
        Block::Rule => html! { <hr /> },
        Block::Table { head, rows } => html! {
            <div class="table-wrap" tabindex="0">
                <table class="data">
                    <thead><tr>{ for head.iter().map(|cell| html! { <th scope="col">{ render_inlines(cell) }</th> }) }</tr></thead>
                    <tbody>
                        { for rows.iter().map(|row| html! {
                            <tr>{ for row.iter().map(|cell| html! { <td>{ render_inlines(cell) }</td> }) }</tr>
                        }) }
                    </tbody>
                </table>
            </div>
        },
    }
}

/// A markdown document, rendered from its [`parse`]d blocks (the caller keeps them, with
/// `use_memo`, so that a document is parsed once).
pub fn markdown(blocks: &[Block]) -> Html {
    // The levels in use, in order (`heading` reads levels 1 to 6).
    let levels: Vec<u8> = (1..=6)
        .filter(|level| {
            blocks
                .iter()
                .any(|b| matches!(b, Block::Heading(l, _) if l == level))
        })
        .collect();
    html! {
        <div class="markdown">{ for blocks.iter().map(|b| render_block(b, &levels)) }</div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::mount;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn text(s: &str) -> Inline {
        Inline::Text(s.into())
    }

    #[wasm_bindgen_test]
    fn letters_and_digits_are_told_as_rust_tells_them() {
        for c in [
            'a', 'Z', '7', 'é', 'ß', 'Ж', '中', '٣', 'Ⅻ', '_', ' ', '-', '。', '€', '😀', '\u{300}',
        ] {
            assert_eq!(is_alphanumeric(c), c.is_alphanumeric(), "{c:?}");
        }
    }

    #[wasm_bindgen_test]
    fn blocks_are_read_from_lines() {
        let doc = "# Plan\n\nFirst line\nwraps here.\n\n- one\n- two\n  continued\n\n3. three\n4. four\n\n\
                   ```rust\nlet x = 1 < 2;\n```\n> quoted\n---\n| a | b |\n|---|:-:|\n| 1 | 2 |\n";
        assert_eq!(
            parse(doc),
            vec![
                Block::Heading(1, vec![text("Plan")]),
                Block::Paragraph(vec![text("First line wraps here.")]),
                Block::List {
                    start: None,
                    items: vec![vec![text("one")], vec![text("two continued")]],
                },
                Block::List {
                    start: Some(3),
                    items: vec![vec![text("three")], vec![text("four")]],
                },
                Block::Code {
                    lang: Some("rust".into()),
                    text: "let x = 1 < 2;".into()
                },
                Block::Quote(vec![text("quoted")]),
                Block::Rule,
                Block::Table {
                    head: vec![vec![text("a")], vec![text("b")]],
                    rows: vec![vec![vec![text("1")], vec![text("2")]]],
                },
            ]
        );
    }

    #[wasm_bindgen_test]
    fn emphasis_code_and_links_are_read_inline() {
        let table: Vec<(&str, Vec<Inline>)> = vec![
            (
                "a **bold** and *it* and _it_",
                vec![
                    text("a "),
                    Inline::Strong(vec![text("bold")]),
                    text(" and "),
                    Inline::Em(vec![text("it")]),
                    text(" and "),
                    Inline::Em(vec![text("it")]),
                ],
            ),
            (
                "***both***",
                vec![Inline::Strong(vec![Inline::Em(vec![text("both")])])],
            ),
            (
                "use `a*b*c` here",
                vec![text("use "), Inline::Code("a*b*c".into()), text(" here")],
            ),
            (
                "2 * 3 * 4 and snake_case_name",
                vec![text("2 * 3 * 4 and snake_case_name")],
            ),
            ("an *unclosed mark", vec![text("an *unclosed mark")]),
            ("\\*not em\\*", vec![text("*not em*")]),
            (
                "see [the deal](https://crm.example/d/1)",
                vec![
                    text("see "),
                    Inline::Link {
                        text: vec![text("the deal")],
                        href: "https://crm.example/d/1".into(),
                    },
                ],
            ),
            ("[click](javascript:alert(1))", vec![text("click")]),
        ];
        for (source, expected) in table {
            assert_eq!(inlines(source), expected, "{source}");
        }
    }

    #[wasm_bindgen_test]
    fn links_off_the_site_in_disguise_stay_text() {
        // The issue's case, then every way off the site the sign-in page refuses too.
        assert_eq!(inlines("[x](/\\evil.com)"), vec![text("x")]);
        for href in crate::infra::links::MALICIOUS {
            // Web links are allowed here; trimmed, ` /queue` is a fine link; `(` and `)` end or
            // nest the address.
            let web = href.to_ascii_lowercase().starts_with("http");
            if web || href.contains(['(', ')']) || href.trim() != *href {
                continue;
            }
            let source = format!("[x]({href})");
            let read = inlines(&source);
            assert!(
                !read.iter().any(|i| matches!(i, Inline::Link { .. })),
                "{source:?} became {read:?}"
            );
        }
        for href in [
            "/queue/42",
            "/runs?status=failed",
            "https://crm.example/d/1",
            "mailto:a@b.example",
        ] {
            let read = inlines(&format!("[x]({href})"));
            assert_eq!(
                read,
                vec![Inline::Link {
                    text: vec![text("x")],
                    href: href.into()
                }],
                "{href}"
            );
        }
    }

    #[derive(Properties, PartialEq)]
    struct HostProps {
        text: AttrValue,
    }

    #[component]
    fn Host(props: &HostProps) -> Html {
        let blocks = use_memo(props.text.clone(), |text| parse(text));
        markdown(&blocks)
    }

    async fn render(text: &str) -> web_sys::Element {
        mount::<Host>(HostProps {
            text: AttrValue::from(text.to_string()),
        })
        .await
    }

    #[wasm_bindgen_test]
    async fn documents_render_as_elements_and_html_stays_text() {
        let root = render(
            "## Next steps\n\n1. Call **Dana**\n2. Send `deck.pdf`\n\n\
             <script>window.pwned = 1</script> <img src=x onerror=alert(1)>\n\n\
             [bad](javascript:alert(1)) [away](/\\evil.com) [good](/queue/42)",
        )
        .await;
        // The text's top heading level becomes h3, whatever its `#`s.
        let heading = root.query_selector("h3").unwrap().unwrap();
        assert_eq!(heading.text_content().unwrap(), "Next steps");
        assert_eq!(root.query_selector_all("ol li").unwrap().length(), 2);
        assert_eq!(
            root.query_selector("ol li strong")
                .unwrap()
                .unwrap()
                .text_content()
                .unwrap(),
            "Dana"
        );
        assert!(root.query_selector("li code").unwrap().is_some());
        assert!(root.query_selector("script").unwrap().is_none());
        assert!(root.query_selector("img").unwrap().is_none());
        let text = root.text_content().unwrap();
        assert!(text.contains("<script>window.pwned = 1</script>"), "{text}");
        assert!(root.inner_html().contains("&lt;script&gt;"));
        let links = root.query_selector_all("a").unwrap();
        assert_eq!(links.length(), 1);
        let link: web_sys::Element = wasm_bindgen::JsCast::unchecked_into(links.get(0).unwrap());
        assert_eq!(link.get_attribute("href").unwrap(), "/queue/42");
    }
}
