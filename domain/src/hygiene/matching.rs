//! Duplicate matching: which pairs of contacts are probably one person, how sure we are and
//! why (seed-system §2.9 "Duplicate detection", without its blind spots).
//!
//! **Blocking** (never all pairs): two records are compared only when they share a key —
//! an email address (lower case), an E.164 phone number (also across company domains, which
//! the seed missed), a company domain (the record's own, or the domain of a work address;
//! free-mail and throwaway domains never block) or a normalised company name. A block
//! larger than [`BLOCK_CAP`] is split by name keys (the first [`NAME_KEY_CHARS`] letters
//! of the first and of the last name, so swapped names still meet; records without a name
//! drop out of such a block), and a split still larger compares each record with its
//! [`BLOCK_CAP`] − 1 neighbours in name order.
//!
//! **Scoring** ([`score_pair`]): the highest of
//! - the same email address: [`EMAIL_SCORE`];
//! - the same phone number: [`PHONE_SCORE`] ([`PHONE_SHARED_SCORE`] when both records
//!   have names and they are far apart — a switchboard, not a person; see
//!   [`PHONE_NAME_MIN_SIMILARITY`]);
//! - the same company domain and similar names: [`DOMAIN_NAME_SCORE`];
//! - similar company names (≥ [`COMPANY_MIN_SIMILARITY`]) and similar names:
//!   [`COMPANY_NAME_FACTOR`] × the mean of the two similarities;
//!
//! and a pair is a [`Candidate`] at [`CANDIDATE_THRESHOLD`] or more, with every reason that
//! fired. Names are similar when the first names (Jaro-Winkler or one typing error, a
//! nickname of one another, or an initial) and the last names (Jaro-Winkler or one typing
//! error) are each similar enough, directly or with first and last swapped; names are compared lower-cased, with the diacritics of Latin
//! letters folded and everything but letters and digits dropped.
//!
//! [`criteria_fingerprint`] hashes exactly the normalised fields these criteria read, so a
//! pair a person marked "not a duplicate" comes back only when one of them changed there.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::phone::{normalise_phone, DEFAULT_COUNTRY_CALLING_CODE};
use super::validation::is_disposable_domain;

/// The version of these criteria; raise it when a rule, a score or a list changes.
pub const CRITERIA_VERSION: u32 = 1;

/// The lowest score a pair is proposed at (the seed's).
pub const CANDIDATE_THRESHOLD: f64 = 0.5;
/// The same email address.
pub const EMAIL_SCORE: f64 = 1.0;
/// The same phone number, names similar or unknown.
pub const PHONE_SCORE: f64 = 0.9;
/// The same phone number but different names: below the threshold on its own.
pub const PHONE_SHARED_SCORE: f64 = 0.3;
/// The same company domain and similar names.
pub const DOMAIN_NAME_SCORE: f64 = 0.85;
/// Similar companies and names score this times the mean of the two similarities.
pub const COMPANY_NAME_FACTOR: f64 = 0.7;
/// Two company names (normalised) this similar are the same company.
pub const COMPANY_MIN_SIMILARITY: f64 = 0.92;
/// Jaro-Winkler similarity a first name needs (`Jon`/`John` 0.93, `Steven`/`Stephen` 0.89;
/// `John`/`Jane` 0.70 is not enough).
pub const FIRST_NAME_MIN_SIMILARITY: f64 = 0.88;
/// … and a last name (`Smith`/`Smyth` 0.89, `Smith`/`Smtih` 0.95).
pub const LAST_NAME_MIN_SIMILARITY: f64 = 0.88;
/// How similar two names of [`ONE_EDIT_MIN_CHARS`] or more letters one typing error apart
/// after the first letter (a letter dropped, added, replaced, or two swapped) count at least: Jaro-Winkler alone
/// rates `Ivan`/`Ivnn` 0.87 and `Nakamura`/`Nkamura` 0.83.
pub const ONE_EDIT_SIMILARITY: f64 = 0.9;
/// See [`ONE_EDIT_SIMILARITY`]; in shorter names one letter makes another name (`Li`/`Lu`).
pub const ONE_EDIT_MIN_CHARS: usize = 4;
/// Two records with the same phone whose names are not similar still count as one person
/// at [`PHONE_SCORE`] when the mean of first- and last-name similarity reaches this
/// (`Olga`/`Oega Hernandez`); below it the number is shared (`John`/`Jane Smith` 0.85).
pub const PHONE_NAME_MIN_SIMILARITY: f64 = 0.88;
/// How similar a nickname and its name count (`Bob`/`Robert`).
pub const NICKNAME_SIMILARITY: f64 = 0.95;
/// How similar an initial and a name that starts with it count (`J`/`John`).
pub const INITIAL_SIMILARITY: f64 = 0.9;
/// Blocks larger than this are split by name keys.
pub const BLOCK_CAP: usize = 100;
/// Letters of a name that make its key when a block is split.
pub const NAME_KEY_CHARS: usize = 3;

/// Mail services anyone can sign up to: their domains say nothing about a company.
pub const FREE_MAIL_DOMAINS: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "yahoo.com",
    "yahoo.co.uk",
    "yahoo.fr",
    "ymail.com",
    "hotmail.com",
    "hotmail.co.uk",
    "hotmail.fr",
    "outlook.com",
    "live.com",
    "msn.com",
    "aol.com",
    "icloud.com",
    "me.com",
    "mac.com",
    "protonmail.com",
    "proton.me",
    "pm.me",
    "gmx.com",
    "gmx.de",
    "gmx.net",
    "web.de",
    "mail.com",
    "yandex.com",
    "yandex.ru",
    "mail.ru",
    "zoho.com",
    "qq.com",
    "163.com",
    "126.com",
    "comcast.net",
    "verizon.net",
    "att.net",
    "sbcglobal.net",
    "hey.com",
    "fastmail.com",
    "orange.fr",
    "free.fr",
    "t-online.de",
    "btinternet.com",
    "sky.com",
    "libero.it",
    "rediffmail.com",
];

/// Legal-form words dropped from the end of company names (after dots are removed:
/// `L.L.C.` is `llc`).
pub const COMPANY_SUFFIXES: &[&str] = &[
    "inc",
    "incorporated",
    "llc",
    "ltd",
    "limited",
    "gmbh",
    "corp",
    "corporation",
    "co",
    "company",
    "plc",
    "llp",
    "lp",
    "ag",
    "sa",
    "sas",
    "sarl",
    "srl",
    "spa",
    "bv",
    "nv",
    "pty",
    "kg",
    "oy",
    "ab",
];

/// Nicknames and the names they are short for (lower case). A name can have several
/// (`alex`: alexander, alexandra).
pub const NICKNAMES: &[(&str, &str)] = &[
    ("bob", "robert"),
    ("bobby", "robert"),
    ("rob", "robert"),
    ("robbie", "robert"),
    ("bill", "william"),
    ("billy", "william"),
    ("will", "william"),
    ("liam", "william"),
    ("liz", "elizabeth"),
    ("beth", "elizabeth"),
    ("betty", "elizabeth"),
    ("eliza", "elizabeth"),
    ("libby", "elizabeth"),
    ("jim", "james"),
    ("jimmy", "james"),
    ("jamie", "james"),
    ("mike", "michael"),
    ("mikey", "michael"),
    ("mick", "michael"),
    ("dave", "david"),
    ("dan", "daniel"),
    ("danny", "daniel"),
    ("tom", "thomas"),
    ("tommy", "thomas"),
    ("tony", "anthony"),
    ("joe", "joseph"),
    ("joey", "joseph"),
    ("jack", "john"),
    ("johnny", "john"),
    ("chris", "christopher"),
    ("chris", "christine"),
    ("chris", "christina"),
    ("tina", "christina"),
    ("matt", "matthew"),
    ("nick", "nicholas"),
    ("nicky", "nicholas"),
    ("steve", "steven"),
    ("steve", "stephen"),
    ("alex", "alexander"),
    ("alex", "alexandra"),
    ("sasha", "alexander"),
    ("sasha", "alexandra"),
    ("andy", "andrew"),
    ("drew", "andrew"),
    ("ben", "benjamin"),
    ("benny", "benjamin"),
    ("sam", "samuel"),
    ("sam", "samantha"),
    ("sammy", "samuel"),
    ("pat", "patrick"),
    ("pat", "patricia"),
    ("patty", "patricia"),
    ("trish", "patricia"),
    ("kate", "katherine"),
    ("katie", "katherine"),
    ("kathy", "katherine"),
    ("kate", "catherine"),
    ("cathy", "catherine"),
    ("jen", "jennifer"),
    ("jenny", "jennifer"),
    ("maggie", "margaret"),
    ("meg", "margaret"),
    ("peggy", "margaret"),
    ("sue", "susan"),
    ("susie", "susan"),
    ("deb", "deborah"),
    ("debbie", "deborah"),
    ("becky", "rebecca"),
    ("becca", "rebecca"),
    ("ed", "edward"),
    ("eddie", "edward"),
    ("ted", "edward"),
    ("ted", "theodore"),
    ("teddy", "theodore"),
    ("rick", "richard"),
    ("rich", "richard"),
    ("dick", "richard"),
    ("chuck", "charles"),
    ("charlie", "charles"),
    ("hank", "henry"),
    ("harry", "henry"),
    ("greg", "gregory"),
    ("jeff", "jeffrey"),
    ("larry", "lawrence"),
    ("ron", "ronald"),
    ("don", "donald"),
    ("ken", "kenneth"),
    ("tim", "timothy"),
    ("fred", "frederick"),
    ("ray", "raymond"),
    ("walt", "walter"),
    ("vince", "vincent"),
    ("phil", "philip"),
    ("phil", "phillip"),
    ("josh", "joshua"),
    ("zach", "zachary"),
    ("nate", "nathan"),
    ("nate", "nathaniel"),
    ("abby", "abigail"),
    ("mandy", "amanda"),
    ("cindy", "cynthia"),
    ("vicky", "victoria"),
    ("tori", "victoria"),
    ("jess", "jessica"),
    ("jessie", "jessica"),
    ("sandy", "sandra"),
    ("gabe", "gabriel"),
    ("manny", "manuel"),
    ("pepe", "jose"),
    ("paco", "francisco"),
    ("frank", "francis"),
];

/// What matching reads of a contact.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchRecord {
    pub id: Uuid,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub emails: Vec<String>,
    /// E.164 (other spellings are read with the default country code; unreadable ones are
    /// ignored).
    pub phones: Vec<String>,
    pub company_name: Option<String>,
    /// `acme.com`, `https://www.acme.com/about` (read as `acme.com`).
    pub company_domain: Option<String>,
}

/// A pair that is probably one person.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Candidate {
    /// The smaller id of the two.
    pub a: Uuid,
    pub b: Uuid,
    /// 0–1, four decimals.
    pub score: f64,
    /// Every reason that fired, strongest first.
    pub reasons: Vec<Reason>,
}

/// One reason a pair matched: `email.same`, `phone.same`, `domain_name.similar`,
/// `company_name.similar`, and the name's kind of match: `name.same`, `name.similar`,
/// `name.nickname`, `name.initial`, `name.swapped`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Reason {
    pub code: String,
    /// For people; names and domains, never an email address or phone number.
    pub detail: String,
}

impl Reason {
    fn new(code: &str, detail: String) -> Reason {
        Reason {
            code: code.to_string(),
            detail,
        }
    }
}

/// What a [`find_candidates_with_stats`] run did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchStats {
    pub records: usize,
    /// Blocks of two or more records.
    pub blocks: usize,
    /// Blocks larger than [`BLOCK_CAP`], split by name keys.
    pub oversized_blocks: usize,
    /// Distinct pairs scored.
    pub pairs_compared: usize,
}

/// Every candidate pair among `records`, highest score first (then by ids): the same input
/// in any order gives the same output.
pub fn find_candidates(records: &[MatchRecord]) -> Vec<Candidate> {
    find_candidates_with_stats(records).0
}

/// [`find_candidates`] and what it took.
pub fn find_candidates_with_stats(records: &[MatchRecord]) -> (Vec<Candidate>, MatchStats) {
    let prepared: Vec<Prepared> = records.iter().map(Prepared::new).collect();
    let mut stats = MatchStats {
        records: records.len(),
        ..MatchStats::default()
    };
    let mut blocks: HashMap<u64, Vec<u32>> = HashMap::new();
    for (index, record) in prepared.iter().enumerate() {
        let index = index as u32;
        for key in record.block_keys() {
            blocks.entry(key).or_default().push(index);
        }
    }
    let mut pairs: Vec<u64> = Vec::new();
    for members in blocks.values_mut() {
        if members.len() < 2 {
            continue;
        }
        stats.blocks += 1;
        members.dedup();
        if members.len() <= BLOCK_CAP {
            all_pairs(members, &mut pairs);
        } else {
            stats.oversized_blocks += 1;
            split_block(members, &prepared, &mut pairs);
        }
    }
    pairs.sort_unstable();
    pairs.dedup();
    stats.pairs_compared = pairs.len();
    let mut candidates: Vec<Candidate> = pairs
        .iter()
        .filter_map(|&pair| {
            let (i, j) = ((pair >> 32) as usize, (pair & 0xffff_ffff) as usize);
            evaluate(&prepared[i], &prepared[j])
        })
        .collect();
    candidates.sort_by(|x, y| {
        y.score
            .total_cmp(&x.score)
            .then(x.a.cmp(&y.a))
            .then(x.b.cmp(&y.b))
    });
    (candidates, stats)
}

/// The candidate `a` and `b` make, if their score reaches [`CANDIDATE_THRESHOLD`].
pub fn score_pair(a: &MatchRecord, b: &MatchRecord) -> Option<Candidate> {
    evaluate(&Prepared::new(a), &Prepared::new(b))
}

/// A short hash (16 hex digits, FNV-1a 64) of exactly the normalised fields the criteria
/// read: names, email addresses, phone numbers, company domains and company name. The same
/// on every platform and run; it changes when a record changes in a way matching can see.
pub fn criteria_fingerprint(record: &MatchRecord) -> String {
    let p = Prepared::new(record);
    let mut hash = Fnv1a::new();
    for (tag, values) in [
        ("first", std::slice::from_ref(&p.first)),
        ("last", std::slice::from_ref(&p.last)),
        ("emails", &p.emails[..]),
        ("phones", &p.phones[..]),
        ("domains", &p.domains[..]),
        ("company", std::slice::from_ref(&p.company)),
    ] {
        hash.write(tag.as_bytes());
        for value in values {
            hash.write(&[0x1f]);
            hash.write(value.as_bytes());
        }
        hash.write(&[0x1e]);
    }
    format!("{:016x}", hash.0)
}

/// Jaro-Winkler similarity (0–1) of two strings, by characters; a common prefix of up to
/// four characters raises it by 0.1 × (1 − Jaro) per character.
pub fn jaro_winkler(a: &str, b: &str) -> f64 {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    jaro_winkler_chars(&a, &b)
}

/// A person's name as matching compares it: lower case, the diacritics of Latin letters
/// folded (`José` → `jose`, `Müller` → `muller`, `Groß` → `gross`), only letters and digits
/// (`O'Neil` → `oneil`, `van der Berg` → `vanderberg`).
pub fn normalise_name(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars().flat_map(char::to_lowercase) {
        push_folded(c, &mut out);
    }
    out
}

/// A company name as matching compares it: [`normalise_name`]'s folding, `&` read as
/// `and`, a leading `the` and trailing [`COMPANY_SUFFIXES`] dropped, no spaces
/// (`The ACME Co., Ltd.` → `acme`, `Johnson & Johnson` → `johnsonandjohnson`).
pub fn normalise_company(raw: &str) -> String {
    let mut spaced = String::with_capacity(raw.len() + 8);
    for c in raw.chars().flat_map(char::to_lowercase) {
        match c {
            '.' => {}
            '&' => spaced.push_str(" and "),
            c if c.is_alphanumeric() => push_folded(c, &mut spaced),
            _ => spaced.push(' '),
        }
    }
    let mut tokens: Vec<&str> = spaced.split_whitespace().collect();
    if tokens.len() > 1 && tokens[0] == "the" {
        tokens.remove(0);
    }
    while tokens.len() > 1 && tokens.last().is_some_and(|t| COMPANY_SUFFIXES.contains(t)) {
        tokens.pop();
    }
    tokens.concat()
}

/// A domain as matching compares it (`https://www.Acme.com/about` → `acme.com`), or none
/// when it does not look like one.
pub fn normalise_domain(raw: &str) -> Option<String> {
    let lower = raw.trim().to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
        .unwrap_or(&lower);
    let host = rest
        .split(['/', '?', '#', ':'])
        .next()
        .unwrap_or_default()
        .trim_end_matches('.');
    let host = host.strip_prefix("www.").unwrap_or(host);
    let ok = host.contains('.')
        && host
            .split('.')
            .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    ok.then(|| host.to_string())
}

/// Whether a domain can say which company someone works for: not free mail, not throwaway.
pub fn is_company_domain(domain: &str) -> bool {
    !FREE_MAIL_DOMAINS.contains(&domain) && !is_disposable_domain(domain)
}

// ---------------------------------------------------------------------------------------
// A record, normalised once.

struct Prepared {
    id: Uuid,
    /// For reasons' details: the names and company as written, trimmed.
    shown_first: String,
    shown_last: String,
    shown_company: String,
    first: String,
    last: String,
    first_chars: Vec<char>,
    last_chars: Vec<char>,
    /// The names the first name is a nickname of.
    formal_firsts: Vec<&'static str>,
    emails: Vec<String>,
    phones: Vec<String>,
    domains: Vec<String>,
    company: String,
    company_chars: Vec<char>,
}

/// Kinds of blocking key, hashed with the key.
const EMAIL_KEY: u8 = b'e';
const PHONE_KEY: u8 = b'p';
const DOMAIN_KEY: u8 = b'd';
const COMPANY_KEY: u8 = b'c';

impl Prepared {
    fn new(record: &MatchRecord) -> Prepared {
        let shown = |v: &Option<String>| v.as_deref().unwrap_or_default().trim().to_string();
        let first = normalise_name(record.first_name.as_deref().unwrap_or_default());
        let last = normalise_name(record.last_name.as_deref().unwrap_or_default());
        let formal_firsts = NICKNAMES
            .iter()
            .filter(|(nick, _)| *nick == first)
            .map(|(_, formal)| *formal)
            .collect();
        let mut emails: Vec<String> = record
            .emails
            .iter()
            .map(|e| e.trim().to_lowercase())
            .filter(|e| e.contains('@'))
            .collect();
        emails.sort();
        emails.dedup();
        let mut phones: Vec<String> = record
            .phones
            .iter()
            .filter_map(|p| normalise_phone(p, DEFAULT_COUNTRY_CALLING_CODE).ok())
            .collect();
        phones.sort();
        phones.dedup();
        let mut domains: Vec<String> = record
            .company_domain
            .as_deref()
            .and_then(normalise_domain)
            .into_iter()
            .chain(
                emails
                    .iter()
                    .filter_map(|e| e.rsplit_once('@').and_then(|(_, d)| normalise_domain(d))),
            )
            .filter(|d| is_company_domain(d))
            .collect();
        domains.sort();
        domains.dedup();
        let company = normalise_company(record.company_name.as_deref().unwrap_or_default());
        Prepared {
            id: record.id,
            shown_first: shown(&record.first_name),
            shown_last: shown(&record.last_name),
            shown_company: shown(&record.company_name),
            first_chars: first.chars().collect(),
            last_chars: last.chars().collect(),
            first,
            last,
            formal_firsts,
            emails,
            phones,
            domains,
            company_chars: company.chars().collect(),
            company,
        }
    }

    fn block_keys(&self) -> Vec<u64> {
        let mut keys = Vec::new();
        let mut key = |kind: u8, value: &str| {
            let mut hash = Fnv1a::new();
            hash.write(&[kind]);
            hash.write(value.as_bytes());
            keys.push(hash.0);
        };
        for email in &self.emails {
            key(EMAIL_KEY, email);
        }
        for phone in &self.phones {
            key(PHONE_KEY, phone);
        }
        for domain in &self.domains {
            key(DOMAIN_KEY, domain);
        }
        if !self.company.is_empty() {
            key(COMPANY_KEY, &self.company);
        }
        keys
    }

    /// The keys an oversized block is split by: the first letters of each name.
    fn name_keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = [&self.first, &self.last]
            .iter()
            .filter(|n| !n.is_empty())
            .map(|n| n.chars().take(NAME_KEY_CHARS).collect())
            .collect();
        keys.dedup();
        keys
    }

    /// The name in a form that is the same with first and last swapped.
    fn sort_key(&self) -> String {
        if self.first <= self.last {
            format!("{} {}", self.first, self.last)
        } else {
            format!("{} {}", self.last, self.first)
        }
    }

    fn full_name(&self) -> String {
        format!("{} {}", self.shown_first, self.shown_last)
            .trim()
            .to_string()
    }

    fn has_full_name(&self) -> bool {
        !self.first.is_empty() && !self.last.is_empty()
    }
}

fn pair_key(i: u32, j: u32) -> u64 {
    let (lo, hi) = if i < j { (i, j) } else { (j, i) };
    (u64::from(lo) << 32) | u64::from(hi)
}

fn all_pairs(members: &[u32], pairs: &mut Vec<u64>) {
    for (n, &i) in members.iter().enumerate() {
        for &j in &members[n + 1..] {
            if i != j {
                pairs.push(pair_key(i, j));
            }
        }
    }
}

/// Pairs of an oversized block: within each name key's part, all pairs if it is small
/// enough, else each record with its `BLOCK_CAP - 1` neighbours in name order.
fn split_block(members: &[u32], prepared: &[Prepared], pairs: &mut Vec<u64>) {
    let mut parts: HashMap<String, Vec<u32>> = HashMap::new();
    for &index in members {
        for key in prepared[index as usize].name_keys() {
            parts.entry(key).or_default().push(index);
        }
    }
    for part in parts.values_mut() {
        if part.len() <= BLOCK_CAP {
            all_pairs(part, pairs);
            continue;
        }
        let mut sorted: Vec<(String, Uuid, u32)> = part
            .iter()
            .map(|&i| {
                let p = &prepared[i as usize];
                (p.sort_key(), p.id, i)
            })
            .collect();
        sorted.sort();
        for (n, (_, _, i)) in sorted.iter().enumerate() {
            for (_, _, j) in sorted.iter().skip(n + 1).take(BLOCK_CAP - 1) {
                if i != j {
                    pairs.push(pair_key(*i, *j));
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Scoring

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum NameKind {
    Same,
    Similar,
    Nickname,
    Initial,
    Swapped,
}

#[derive(Clone, Copy, Debug)]
enum Names {
    /// A name is missing on one side: no opinion.
    Unknown,
    /// Not similar; how close they came (the better mean of first- and last-name
    /// similarity, direct or swapped).
    Different {
        closeness: f64,
    },
    Similar {
        score: f64,
        kind: NameKind,
    },
}

/// How two first names compare: similarity and kind.
fn first_name_similarity(a: &Prepared, b: &Prepared) -> (f64, NameKind) {
    if a.first == b.first {
        return (1.0, NameKind::Same);
    }
    let nickname = a.formal_firsts.contains(&b.first.as_str())
        || b.formal_firsts.contains(&a.first.as_str())
        || a.formal_firsts.iter().any(|f| b.formal_firsts.contains(f));
    if nickname {
        return (NICKNAME_SIMILARITY, NameKind::Nickname);
    }
    let initial = |x: &[char], y: &[char]| x.len() == 1 && y.len() > 1 && y[0] == x[0];
    if initial(&a.first_chars, &b.first_chars) || initial(&b.first_chars, &a.first_chars) {
        return (INITIAL_SIMILARITY, NameKind::Initial);
    }
    (
        part_similarity(&a.first_chars, &b.first_chars),
        NameKind::Similar,
    )
}

/// Whether a first-name and a last-name similarity make similar names.
fn parts_match(first: f64, last: f64) -> bool {
    first >= FIRST_NAME_MIN_SIMILARITY && last >= LAST_NAME_MIN_SIMILARITY
}

/// Jaro-Winkler, raised to [`ONE_EDIT_SIMILARITY`] for one typing error in a long enough
/// name.
fn part_similarity(a: &[char], b: &[char]) -> f64 {
    let jw = jaro_winkler_chars(a, b);
    if jw < ONE_EDIT_SIMILARITY
        && a.len().min(b.len()) >= ONE_EDIT_MIN_CHARS
        && within_one_edit(a, b)
    {
        ONE_EDIT_SIMILARITY
    } else {
        jw
    }
}

/// Whether `a` becomes `b` by at most one letter dropped, added or replaced, or two
/// neighbours swapped — after the first letter, which people rarely get wrong and which
/// makes another name when it changes (`Hana`/`Jana`).
fn within_one_edit(a: &[char], b: &[char]) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    let prefix = short.iter().zip(long).take_while(|(x, y)| x == y).count();
    if prefix == 0 && !short.is_empty() {
        return false;
    }
    match long.len() - short.len() {
        0 => {
            let (x, y) = (&short[prefix..], &long[prefix..]);
            x.len() <= 1
                || x[1..] == y[1..]
                || (x.len() >= 2 && x[0] == y[1] && x[1] == y[0] && x[2..] == y[2..])
        }
        1 => short[prefix..] == long[prefix + 1..],
        _ => false,
    }
}

fn compare_names(a: &Prepared, b: &Prepared) -> Names {
    if !a.has_full_name() || !b.has_full_name() {
        let whole = |p: &Prepared| format!("{}{}", p.first, p.last);
        let (x, y) = (whole(a), whole(b));
        return if !x.is_empty() && x == y {
            Names::Similar {
                score: 1.0,
                kind: NameKind::Same,
            }
        } else {
            Names::Unknown
        };
    }
    let (first, first_kind) = first_name_similarity(a, b);
    let last = part_similarity(&a.last_chars, &b.last_chars);
    let direct = parts_match(first, last).then(|| {
        let kind = match first_kind {
            NameKind::Same if last == 1.0 => NameKind::Same,
            NameKind::Same => NameKind::Similar,
            other => other,
        };
        ((first + last) / 2.0, kind)
    });
    let crossed_1 = part_similarity(&a.first_chars, &b.last_chars);
    let crossed_2 = part_similarity(&a.last_chars, &b.first_chars);
    let swapped = parts_match(crossed_1, crossed_2)
        .then_some(((crossed_1 + crossed_2) / 2.0, NameKind::Swapped));
    match (direct, swapped) {
        (Some(d), Some(s)) if s.0 > d.0 => Names::Similar {
            score: s.0,
            kind: s.1,
        },
        (Some((score, kind)), _) | (None, Some((score, kind))) => Names::Similar { score, kind },
        (None, None) => Names::Different {
            closeness: ((first + last) / 2.0).max((crossed_1 + crossed_2) / 2.0),
        },
    }
}

fn first_shared<'a>(x: &'a [String], y: &[String]) -> Option<&'a String> {
    x.iter().find(|v| y.contains(v))
}

fn evaluate(a: &Prepared, b: &Prepared) -> Option<Candidate> {
    if a.id == b.id {
        return None;
    }
    // Details read in the candidate's order.
    let (a, b) = if a.id < b.id { (a, b) } else { (b, a) };
    let names = compare_names(a, b);
    let mut score: f64 = 0.0;
    let mut reasons = Vec::new();
    if first_shared(&a.emails, &b.emails).is_some() {
        score = score.max(EMAIL_SCORE);
        reasons.push(Reason::new(
            "email.same",
            "an email address both records have".into(),
        ));
    }
    if first_shared(&a.phones, &b.phones).is_some() {
        match names {
            Names::Different { closeness } if closeness < PHONE_NAME_MIN_SIMILARITY => {
                score = score.max(PHONE_SHARED_SCORE);
                reasons.push(Reason::new(
                    "phone.same",
                    "a phone number both records have, but the names differ".into(),
                ));
            }
            Names::Different { closeness } => {
                score = score.max(PHONE_SCORE);
                reasons.push(Reason::new(
                    "phone.same",
                    format!("a phone number both records have, and close names ({closeness:.2})"),
                ));
            }
            _ => {
                score = score.max(PHONE_SCORE);
                reasons.push(Reason::new(
                    "phone.same",
                    "a phone number both records have".into(),
                ));
            }
        }
    }
    if let Names::Similar {
        score: name_score,
        kind,
    } = names
    {
        if let Some(domain) = first_shared(&a.domains, &b.domains) {
            score = score.max(DOMAIN_NAME_SCORE);
            reasons.push(Reason::new(
                "domain_name.similar",
                format!("the same company domain ({domain}) and similar names"),
            ));
        }
        if !a.company.is_empty() && !b.company.is_empty() {
            let company = if a.company == b.company {
                1.0
            } else {
                jaro_winkler_chars(&a.company_chars, &b.company_chars)
            };
            if company >= COMPANY_MIN_SIMILARITY {
                score = score.max(COMPANY_NAME_FACTOR * (company + name_score) / 2.0);
                reasons.push(Reason::new(
                    "company_name.similar",
                    format!(
                        "the same company ({} ~ {}, {company:.2}) and similar names",
                        a.shown_company, b.shown_company
                    ),
                ));
            }
        }
        reasons.push(name_reason(a, b, name_score, kind));
    }
    (score >= CANDIDATE_THRESHOLD).then(|| Candidate {
        a: a.id,
        b: b.id,
        score: (score * 10_000.0).round() / 10_000.0,
        reasons,
    })
}

fn name_reason(a: &Prepared, b: &Prepared, score: f64, kind: NameKind) -> Reason {
    let (x, y) = (a.full_name(), b.full_name());
    match kind {
        NameKind::Same => Reason::new("name.same", format!("the same name ({x})")),
        NameKind::Similar => Reason::new("name.similar", format!("{x} ~ {y} ({score:.2})")),
        NameKind::Nickname => Reason::new(
            "name.nickname",
            format!(
                "{} and {} are the same first name ({x} ~ {y})",
                a.shown_first, b.shown_first
            ),
        ),
        NameKind::Initial => Reason::new(
            "name.initial",
            format!("an initial for the first name ({x} ~ {y})"),
        ),
        NameKind::Swapped => Reason::new(
            "name.swapped",
            format!("first and last names swapped ({x} ~ {y}, {score:.2})"),
        ),
    }
}

fn jaro_winkler_chars(a: &[char], b: &[char]) -> f64 {
    let jaro = jaro(a, b);
    let prefix = a.iter().zip(b).take(4).take_while(|(x, y)| x == y).count();
    jaro + prefix as f64 * 0.1 * (1.0 - jaro)
}

fn jaro(a: &[char], b: &[char]) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    if a == b {
        return 1.0;
    }
    let window = (a.len().max(b.len()) / 2).saturating_sub(1);
    // Flags on the stack for names; on the heap for anything longer.
    let (mut stack_a, mut stack_b) = ([false; 64], [false; 64]);
    let (mut heap_a, mut heap_b);
    let (a_flags, b_flags): (&mut [bool], &mut [bool]) = if a.len() <= 64 && b.len() <= 64 {
        (&mut stack_a[..a.len()], &mut stack_b[..b.len()])
    } else {
        heap_a = vec![false; a.len()];
        heap_b = vec![false; b.len()];
        (&mut heap_a, &mut heap_b)
    };
    let mut matches = 0usize;
    for (i, ca) in a.iter().enumerate() {
        let lo = i.saturating_sub(window);
        let hi = (i + window + 1).min(b.len());
        for j in lo..hi {
            if !b_flags[j] && b[j] == *ca {
                a_flags[i] = true;
                b_flags[j] = true;
                matches += 1;
                break;
            }
        }
    }
    if matches == 0 {
        return 0.0;
    }
    let mut half_transpositions = 0usize;
    let mut k = 0usize;
    for (i, ca) in a.iter().enumerate() {
        if !a_flags[i] {
            continue;
        }
        while !b_flags[k] {
            k += 1;
        }
        if *ca != b[k] {
            half_transpositions += 1;
        }
        k += 1;
    }
    let m = matches as f64;
    let t = (half_transpositions / 2) as f64;
    (m / a.len() as f64 + m / b.len() as f64 + (m - t) / m) / 3.0
}

/// Appends `c` (lower case) with a Latin diacritic folded, or nothing when it is neither a
/// letter nor a digit.
fn push_folded(c: char, out: &mut String) {
    let folded = match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => "a",
        'ç' | 'ć' | 'č' | 'ĉ' | 'ċ' => "c",
        'ď' | 'đ' | 'ð' => "d",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ĕ' | 'ė' | 'ę' | 'ě' => "e",
        'ğ' | 'ĝ' | 'ġ' | 'ģ' => "g",
        'ì' | 'í' | 'î' | 'ï' | 'ī' | 'ĭ' | 'į' | 'ı' => "i",
        'ķ' => "k",
        'ĺ' | 'ļ' | 'ľ' | 'ł' => "l",
        'ñ' | 'ń' | 'ņ' | 'ň' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ŏ' | 'ő' => "o",
        'ŕ' | 'ř' => "r",
        'ś' | 'ş' | 'š' | 'ș' => "s",
        'ţ' | 'ť' | 'ț' => "t",
        'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ŭ' | 'ů' | 'ű' | 'ų' => "u",
        'ý' | 'ÿ' => "y",
        'ź' | 'ż' | 'ž' => "z",
        'ß' => "ss",
        'æ' => "ae",
        'œ' => "oe",
        'þ' => "th",
        c if c.is_alphanumeric() => {
            out.push(c);
            return;
        }
        _ => return,
    };
    out.push_str(folded);
}

/// FNV-1a, 64 bits: the same on every platform and run.
struct Fnv1a(u64);

impl Fnv1a {
    fn new() -> Fnv1a {
        Fnv1a(0xcbf2_9ce4_8422_2325)
    }

    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 ^= u64::from(*byte);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

#[cfg(test)]
mod tests;
