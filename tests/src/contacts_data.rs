//! Synthetic contacts with known duplicates, for the duplicate-detection and CSV-import
//! benchmarks and the matching quality test.
//!
//! [`generate`] makes `count` contacts from a seed (the same seed gives the same contacts,
//! ids included): people with names from many origins at companies of very uneven size
//! (the largest has over a thousand people in 100,000), work or personal addresses, phones
//! written every common way; and about [`DUPLICATE_FRACTION`] of them are a second record
//! of another contact, made one of the [`DuplicateKind`] ways. The truth is the set of those
//! pairs. [`write_csv`] writes the contacts as an import file.

use std::collections::HashSet;
use std::io::{self, Write};

use caseyos_domain::hygiene::matching::NICKNAMES;
use caseyos_domain::hygiene::{normalise_phone, Candidate, MatchRecord};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use uuid::Uuid;

/// The share of the contacts that duplicate another one.
pub const DUPLICATE_FRACTION: f64 = 0.07;
/// Contacts per company on average.
pub const CONTACTS_PER_COMPANY: usize = 20;
/// The share of originals with a personal (free-mail) address rather than a work one.
pub const PERSONAL_EMAIL_SHARE: f64 = 0.08;
/// The share of contacts with a phone number.
pub const PHONE_SHARE: f64 = 0.85;
/// The share of typo duplicates with a second error, in the other name.
pub const TWO_TYPOS_SHARE: f64 = 0.15;
/// The header [`write_csv`] writes.
pub const CSV_HEADER: &str = "first_name,last_name,email,phone,company,job_title";

/// One synthetic contact, as an import file row has it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntheticContact {
    pub id: Uuid,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    /// As a person typed it (`(415) 555-0123`, `+44 20 7946 0123`, …).
    pub phone: Option<String>,
    pub company: String,
    pub job_title: String,
}

impl SyntheticContact {
    /// What matching reads of it (the phone as E.164, the company domain from the address).
    pub fn match_record(&self) -> MatchRecord {
        MatchRecord {
            id: self.id,
            first_name: Some(self.first_name.clone()),
            last_name: Some(self.last_name.clone()),
            emails: vec![self.email.clone()],
            phones: self
                .phone
                .iter()
                .filter_map(|p| normalise_phone(p, "1").ok())
                .collect(),
            company_name: Some(self.company.clone()),
            company_domain: None,
        }
    }

    /// The contact as one CSV line (no line break), in [`CSV_HEADER`]'s order.
    pub fn csv_row(&self) -> String {
        [
            self.first_name.as_str(),
            &self.last_name,
            &self.email,
            self.phone.as_deref().unwrap_or_default(),
            &self.company,
            &self.job_title,
        ]
        .iter()
        .map(|field| csv_field(field))
        .collect::<Vec<_>>()
        .join(",")
    }
}

/// How a duplicate was made from its original.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DuplicateKind {
    /// A typing error in the first or last name (sometimes one in each); another address at
    /// the same company.
    Typo,
    /// First and last name swapped; another address at the same company.
    Swapped,
    /// A nickname (or the full name for a nickname); another address at the same company.
    Nickname,
    /// The same phone (written another way) with an address at another company's domain.
    OtherDomainSamePhone,
    /// A personal address, the same name and company (its legal form written differently).
    PersonalEmail,
}

impl DuplicateKind {
    pub const ALL: [DuplicateKind; 5] = [
        DuplicateKind::Typo,
        DuplicateKind::Swapped,
        DuplicateKind::Nickname,
        DuplicateKind::OtherDomainSamePhone,
        DuplicateKind::PersonalEmail,
    ];

    pub fn label(self) -> &'static str {
        match self {
            DuplicateKind::Typo => "typo",
            DuplicateKind::Swapped => "swapped",
            DuplicateKind::Nickname => "nickname",
            DuplicateKind::OtherDomainSamePhone => "other domain, same phone",
            DuplicateKind::PersonalEmail => "personal email",
        }
    }
}

/// A pair the generator made: `a < b`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TruePair {
    pub a: Uuid,
    pub b: Uuid,
    pub kind: DuplicateKind,
}

/// The contacts (in random order) and the duplicate pairs among them.
#[derive(Clone, Debug)]
pub struct Dataset {
    pub contacts: Vec<SyntheticContact>,
    pub duplicates: Vec<TruePair>,
}

impl Dataset {
    pub fn match_records(&self) -> Vec<MatchRecord> {
        self.contacts
            .iter()
            .map(SyntheticContact::match_record)
            .collect()
    }
}

/// How well candidates recover the truth.
#[derive(Clone, Debug, PartialEq)]
pub struct Quality {
    pub candidates: usize,
    pub true_pairs: usize,
    /// Candidates that are true pairs.
    pub found: usize,
    pub precision: f64,
    pub recall: f64,
    /// (kind, found, made) per kind.
    pub by_kind: Vec<(DuplicateKind, usize, usize)>,
}

/// Precision and recall of `candidates` against `truth`.
pub fn quality(candidates: &[Candidate], truth: &[TruePair]) -> Quality {
    let proposed: HashSet<(Uuid, Uuid)> = candidates.iter().map(|c| (c.a, c.b)).collect();
    let found = truth
        .iter()
        .filter(|t| proposed.contains(&(t.a, t.b)))
        .count();
    let by_kind = DuplicateKind::ALL
        .iter()
        .map(|&kind| {
            let made = truth.iter().filter(|t| t.kind == kind);
            let total = made.clone().count();
            let hit = made.filter(|t| proposed.contains(&(t.a, t.b))).count();
            (kind, hit, total)
        })
        .collect();
    let ratio = |n: usize, d: usize| if d == 0 { 1.0 } else { n as f64 / d as f64 };
    Quality {
        candidates: candidates.len(),
        true_pairs: truth.len(),
        found,
        precision: ratio(found, candidates.len()),
        recall: ratio(found, truth.len()),
        by_kind,
    }
}

/// Writes [`CSV_HEADER`] and one line per contact (RFC 4180 quoting, `\n` line ends).
pub fn write_csv<W: Write>(contacts: &[SyntheticContact], mut out: W) -> io::Result<()> {
    writeln!(out, "{CSV_HEADER}")?;
    for contact in contacts {
        writeln!(out, "{}", contact.csv_row())?;
    }
    out.flush()
}

fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_string()
    }
}

/// `count` contacts from `seed`, about [`DUPLICATE_FRACTION`] of them duplicates.
pub fn generate(count: usize, seed: u64) -> Dataset {
    Generator::new(count, seed).run(count)
}

// ---------------------------------------------------------------------------------------

struct Company {
    /// As written on most records (`Acme Data Inc.`).
    name: String,
    /// Without its legal form (`Acme Data`), for duplicates that write it another way.
    base: String,
    domain: String,
}

struct Generator {
    rng: StdRng,
    companies: Vec<Company>,
    emails: HashSet<String>,
    phones: HashSet<String>,
    /// (company, first, last) of the people made, so no company has two of one name.
    people: HashSet<(usize, String, String)>,
}

/// An original contact and where it works.
struct Person {
    contact: SyntheticContact,
    company: usize,
    /// The phone's digits, for writing it another way.
    phone_digits: Option<PhoneDigits>,
}

#[derive(Clone, Copy)]
enum PhoneDigits {
    Us(u64),
    Uk(u64),
}

impl Generator {
    fn new(count: usize, seed: u64) -> Generator {
        let mut rng = StdRng::seed_from_u64(seed);
        let wanted = (count / CONTACTS_PER_COMPANY).max(10);
        let mut companies = Vec::with_capacity(wanted);
        let mut domains = HashSet::new();
        let mut names = HashSet::new();
        let mut attempt = 0usize;
        while companies.len() < wanted {
            attempt += 1;
            let head = *COMPANY_HEADS.choose(&mut rng).expect("heads");
            let tail = *COMPANY_TAILS.choose(&mut rng).expect("tails");
            let extra = *COMPANY_EXTRAS.choose(&mut rng).expect("extras");
            let base = [head, tail, extra]
                .iter()
                .filter(|w| !w.is_empty())
                .copied()
                .collect::<Vec<_>>()
                .join(" ");
            let base = if names.contains(&base) {
                format!("{base} {attempt}")
            } else {
                base
            };
            names.insert(base.clone());
            let form = *LEGAL_FORMS.choose(&mut rng).expect("forms");
            let name = if form.is_empty() {
                base.clone()
            } else if form.starts_with(',') {
                format!("{base}{form}")
            } else {
                format!("{base} {form}")
            };
            let stem: String = base
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .flat_map(|c| c.to_lowercase())
                .collect();
            let tld = *TLDS.choose(&mut rng).expect("tlds");
            let mut domain = format!("{stem}{tld}");
            if !domains.insert(domain.clone()) {
                domain = format!("{stem}{attempt}{tld}");
                domains.insert(domain.clone());
            }
            companies.push(Company { name, base, domain });
        }
        Generator {
            rng,
            companies,
            emails: HashSet::new(),
            phones: HashSet::new(),
            people: HashSet::new(),
        }
    }

    fn run(mut self, count: usize) -> Dataset {
        let duplicates = ((count as f64) * DUPLICATE_FRACTION).round() as usize;
        let originals = count - duplicates;
        let mut people: Vec<Person> = (0..originals).map(|_| self.person()).collect();
        // Originals in random order, and those a nickname or a shared phone can apply to.
        let mut any: Vec<usize> = (0..people.len()).collect();
        any.shuffle(&mut self.rng);
        let with_nickname: Vec<usize> = any
            .iter()
            .copied()
            .filter(|&i| has_nickname(&people[i].contact.first_name))
            .collect();
        let with_phone: Vec<usize> = any
            .iter()
            .copied()
            .filter(|&i| people[i].phone_digits.is_some())
            .collect();
        let mut queues = [
            any.into_iter(),
            with_nickname.into_iter(),
            with_phone.into_iter(),
        ];
        let mut used = HashSet::new();
        let mut extra = Vec::with_capacity(duplicates);
        let mut truth = Vec::with_capacity(duplicates);
        for n in 0..duplicates {
            let kind = DuplicateKind::ALL[n % DuplicateKind::ALL.len()];
            let queue = match kind {
                DuplicateKind::Nickname => 1,
                DuplicateKind::OtherDomainSamePhone => 2,
                _ => 0,
            };
            // The special queues may run dry in tiny data sets: then any original.
            let index = queues[queue]
                .by_ref()
                .find(|i| !used.contains(i))
                .or_else(|| queues[0].by_ref().find(|i| !used.contains(i)));
            let Some(index) = index else { break };
            used.insert(index);
            let (duplicate, kind) = self.duplicate(&people[index], kind);
            let (a, b) = ordered(people[index].contact.id, duplicate.id);
            truth.push(TruePair { a, b, kind });
            extra.push(duplicate);
        }
        let mut contacts: Vec<SyntheticContact> =
            people.drain(..).map(|p| p.contact).chain(extra).collect();
        contacts.shuffle(&mut self.rng);
        truth.sort_by_key(|t| (t.a, t.b));
        Dataset {
            contacts,
            duplicates: truth,
        }
    }

    fn id(&mut self) -> Uuid {
        uuid::Builder::from_random_bytes(self.rng.gen()).into_uuid()
    }

    /// A company index: a few very large companies, many small ones.
    fn company(&mut self) -> usize {
        let u: f64 = self.rng.gen();
        ((u * u * self.companies.len() as f64) as usize).min(self.companies.len() - 1)
    }

    fn person(&mut self) -> Person {
        let company = self.company();
        let (first, last) = loop {
            let first = FIRST_NAMES
                .choose(&mut self.rng)
                .expect("names")
                .to_string();
            let last = LAST_NAMES.choose(&mut self.rng).expect("names").to_string();
            if self.people.insert((company, first.clone(), last.clone())) {
                break (first, last);
            }
        };
        let email = if self.rng.gen_bool(PERSONAL_EMAIL_SHARE) {
            self.personal_email(&first, &last)
        } else {
            let domain = self.companies[company].domain.clone();
            self.work_email(&first, &last, &domain)
        };
        let phone_digits = self.rng.gen_bool(PHONE_SHARE).then(|| self.new_phone());
        let phone = phone_digits.map(|d| self.write_phone(d));
        let job_title = JOB_TITLES
            .choose(&mut self.rng)
            .expect("titles")
            .to_string();
        let contact = SyntheticContact {
            id: self.id(),
            first_name: first,
            last_name: last,
            email,
            phone,
            company: self.companies[company].name.clone(),
            job_title,
        };
        Person {
            contact,
            company,
            phone_digits,
        }
    }

    /// A second record of `original`, made the `kind` way (another kind when that one
    /// cannot apply: no nickname for the name, no phone to share).
    fn duplicate(
        &mut self,
        original: &Person,
        kind: DuplicateKind,
    ) -> (SyntheticContact, DuplicateKind) {
        let o = &original.contact;
        let company = &self.companies[original.company];
        let (domain, base) = (company.domain.clone(), company.base.clone());
        let mut dup = SyntheticContact {
            id: self.id(),
            job_title: JOB_TITLES
                .choose(&mut self.rng)
                .expect("titles")
                .to_string(),
            ..o.clone()
        };
        let same_phone = |g: &mut Generator| original.phone_digits.map(|d| g.write_phone(d));
        match kind {
            DuplicateKind::Typo => {
                // Names shorter than four letters: a typo makes another name.
                let (first_ok, last_ok) = (
                    o.first_name.chars().count() >= 4,
                    o.last_name.chars().count() >= 4,
                );
                if last_ok && (!first_ok || self.rng.gen_bool(0.5)) {
                    dup.last_name = self.typo(&o.last_name);
                } else if first_ok {
                    dup.first_name = self.typo(&o.first_name);
                } else {
                    return self.duplicate(original, DuplicateKind::Swapped);
                }
                // Sometimes a second error, in the other name.
                if self.rng.gen_bool(TWO_TYPOS_SHARE) {
                    if dup.last_name == o.last_name && last_ok {
                        dup.last_name = self.typo(&o.last_name);
                    } else if dup.first_name == o.first_name && first_ok {
                        dup.first_name = self.typo(&o.first_name);
                    }
                }
                dup.email = self.work_email(&dup.first_name, &dup.last_name, &domain);
                dup.phone = if self.rng.gen_bool(0.5) {
                    same_phone(self)
                } else {
                    None
                };
            }
            DuplicateKind::Swapped => {
                dup.first_name = o.last_name.clone();
                dup.last_name = o.first_name.clone();
                dup.email = self.work_email(&o.first_name, &o.last_name, &domain);
                dup.phone = if self.rng.gen_bool(0.3) {
                    same_phone(self)
                } else {
                    None
                };
            }
            DuplicateKind::Nickname => {
                let lower = o.first_name.to_lowercase();
                let options: Vec<&str> = NICKNAMES
                    .iter()
                    .filter_map(|(nick, formal)| {
                        if *formal == lower {
                            Some(*nick)
                        } else if *nick == lower {
                            Some(*formal)
                        } else {
                            None
                        }
                    })
                    .collect();
                let Some(other) = options.choose(&mut self.rng) else {
                    return self.duplicate(original, DuplicateKind::Typo);
                };
                dup.first_name = capitalise(other);
                dup.email = self.work_email(&dup.first_name, &o.last_name, &domain);
                dup.phone = if self.rng.gen_bool(0.3) {
                    same_phone(self)
                } else {
                    None
                };
            }
            DuplicateKind::OtherDomainSamePhone => {
                if original.phone_digits.is_none() {
                    return self.duplicate(original, DuplicateKind::PersonalEmail);
                }
                // A new job (or a subsidiary): another company and its domain.
                let other = self.company();
                let other = if other == original.company {
                    (other + 1) % self.companies.len()
                } else {
                    other
                };
                let other_domain = self.companies[other].domain.clone();
                dup.company = self.companies[other].name.clone();
                dup.email = self.work_email(&o.first_name, &o.last_name, &other_domain);
                dup.phone = same_phone(self);
            }
            DuplicateKind::PersonalEmail => {
                dup.email = self.personal_email(&o.first_name, &o.last_name);
                let form = *LEGAL_FORMS.choose(&mut self.rng).expect("forms");
                dup.company = if form.is_empty() || form.starts_with(',') {
                    base
                } else {
                    format!("{base} {form}")
                };
                dup.phone = None;
            }
        }
        (dup, kind)
    }

    /// `name` with one typing error: a letter dropped, doubled, replaced or two swapped.
    fn typo(&mut self, name: &str) -> String {
        let chars: Vec<char> = name.chars().collect();
        loop {
            let mut out = chars.clone();
            // Not the first letter: people rarely get that wrong.
            let at = self.rng.gen_range(1..chars.len());
            match self.rng.gen_range(0..4) {
                0 => {
                    out.remove(at);
                }
                1 => out.insert(at, chars[at]),
                2 => out[at] = *b"aeiounrstl".choose(&mut self.rng).expect("letters") as char,
                _ if at + 1 < chars.len() => out.swap(at, at + 1),
                _ => out.swap(at - 1, at),
            }
            let typed: String = out.into_iter().collect();
            if typed != name && typed.len() >= 2 {
                return typed;
            }
        }
    }

    fn local_part(&mut self, first: &str, last: &str) -> String {
        let (f, l) = (ascii_lower(first), ascii_lower(last));
        let initial = f.chars().next().unwrap_or('x');
        match self.rng.gen_range(0..5) {
            0 => format!("{f}.{l}"),
            1 => format!("{initial}{l}"),
            2 => f.clone(),
            3 => format!("{f}_{l}"),
            _ => format!("{f}{}", l.chars().next().unwrap_or('x')),
        }
    }

    fn work_email(&mut self, first: &str, last: &str, domain: &str) -> String {
        let local = self.local_part(first, last);
        self.unique_email(&local, domain)
    }

    fn personal_email(&mut self, first: &str, last: &str) -> String {
        let local = self.local_part(first, last);
        let domain = *FREE_MAIL.choose(&mut self.rng).expect("domains");
        let local = format!("{local}{}", self.rng.gen_range(1..100));
        self.unique_email(&local, domain)
    }

    fn unique_email(&mut self, local: &str, domain: &str) -> String {
        let mut email = format!("{local}@{domain}");
        let mut n = 2;
        while !self.emails.insert(email.clone()) {
            email = format!("{local}{n}@{domain}");
            n += 1;
        }
        email
    }

    fn new_phone(&mut self) -> PhoneDigits {
        loop {
            let digits = if self.rng.gen_bool(0.9) {
                let area = self.rng.gen_range(201..990u64);
                let exchange = self.rng.gen_range(200..1000u64);
                let line = self.rng.gen_range(0..10_000u64);
                PhoneDigits::Us(area * 10_000_000 + exchange * 10_000 + line)
            } else {
                PhoneDigits::Uk(2_000_000_000 + self.rng.gen_range(0..100_000_000u64))
            };
            let key = match digits {
                PhoneDigits::Us(d) => format!("us{d}"),
                PhoneDigits::Uk(d) => format!("uk{d}"),
            };
            if self.phones.insert(key) {
                return digits;
            }
        }
    }

    /// The number the way some person would type it.
    fn write_phone(&mut self, digits: PhoneDigits) -> String {
        match digits {
            PhoneDigits::Us(d) => {
                let s = format!("{d:010}");
                let (a, e, l) = (&s[..3], &s[3..6], &s[6..]);
                match self.rng.gen_range(0..6) {
                    0 => format!("({a}) {e}-{l}"),
                    1 => format!("{a}-{e}-{l}"),
                    2 => format!("{a}.{e}.{l}"),
                    3 => format!("+1 {a} {e} {l}"),
                    4 => format!("1-{a}-{e}-{l}"),
                    _ => format!("+1{a}{e}{l}"),
                }
            }
            PhoneDigits::Uk(d) => {
                let s = format!("{d:010}");
                let (a, b, c) = (&s[..2], &s[2..6], &s[6..]);
                match self.rng.gen_range(0..3) {
                    0 => format!("+44 {a} {b} {c}"),
                    1 => format!("0044 {a} {b} {c}"),
                    _ => format!("+44 (0){a} {b} {c}"),
                }
            }
        }
    }
}

fn has_nickname(first: &str) -> bool {
    let lower = first.to_lowercase();
    NICKNAMES
        .iter()
        .any(|(nick, formal)| *nick == lower || *formal == lower)
}

fn ordered(x: Uuid, y: Uuid) -> (Uuid, Uuid) {
    if x < y {
        (x, y)
    } else {
        (y, x)
    }
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Letters of a name fit for an address: `José` → `jose`, `O'Brien` → `obrien`.
fn ascii_lower(name: &str) -> String {
    caseyos_domain::hygiene::matching::normalise_name(name)
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect()
}

const FREE_MAIL: &[&str] = &[
    "gmail.com",
    "yahoo.com",
    "hotmail.com",
    "outlook.com",
    "icloud.com",
    "aol.com",
    "proton.me",
    "gmx.de",
];

const TLDS: &[&str] = &[
    ".com", ".com", ".com", ".io", ".co", ".net", ".de", ".co.uk",
];

const LEGAL_FORMS: &[&str] = &[
    "", "", "Inc.", "Inc", ", Inc.", "LLC", "Ltd", "Ltd.", "GmbH", "Corp.", "Co.", "PLC",
];

const COMPANY_HEADS: &[&str] = &[
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Hooli",
    "Vandelay",
    "Stark",
    "Wayne",
    "Tyrell",
    "Cyberdyne",
    "Soylent",
    "Wonka",
    "Oscorp",
    "Aperture",
    "Massive",
    "Dynamic",
    "Blue",
    "Red",
    "Green",
    "North",
    "South",
    "Summit",
    "Pioneer",
    "Quantum",
    "Nimbus",
    "Vertex",
    "Apex",
    "Bright",
    "Silver",
    "Golden",
    "Cedar",
    "Harbor",
    "Iron",
    "Lumen",
    "Maple",
    "Nova",
    "Orbit",
    "Pinnacle",
    "Redwood",
    "Sterling",
    "Terra",
    "Union",
    "Vanguard",
    "Willow",
    "Zenith",
    "Atlas",
    "Beacon",
    "Cobalt",
    "Delta",
    "Ember",
    "Falcon",
    "Granite",
    "Horizon",
    "Indigo",
];

const COMPANY_TAILS: &[&str] = &[
    "Data",
    "Cloud",
    "Systems",
    "Labs",
    "Works",
    "Health",
    "Energy",
    "Logistics",
    "Foods",
    "Capital",
    "Robotics",
    "Media",
    "Analytics",
    "Networks",
    "Bio",
    "Motors",
    "Retail",
    "Software",
    "Security",
    "Design",
    "Pharma",
    "Freight",
    "Insurance",
    "Learning",
    "Telecom",
];

const COMPANY_EXTRAS: &[&str] = &[
    "",
    "",
    "",
    "International",
    "Partners",
    "Solutions",
    "Holdings",
    "Technologies",
    "Global",
    "Group",
    "Ventures",
    "Industries",
];

const JOB_TITLES: &[&str] = &[
    "CEO",
    "CTO",
    "CFO",
    "VP Sales",
    "VP of Engineering",
    "Sr. Account Executive",
    "Account Executive",
    "Head of Marketing",
    "Marketing Manager",
    "Director of Operations",
    "Software Engineer",
    "Product Manager",
    "Procurement Lead",
    "Office Manager",
    "Chief Revenue Officer",
    "IT Dir",
    "Sales Mgr",
    "Customer Success Manager",
    "Data Scientist",
    "Founder",
];

/// First names of many origins, the formal names of the nickname table among them.
const FIRST_NAMES: &[&str] = &[
    "Robert",
    "William",
    "Elizabeth",
    "James",
    "Michael",
    "David",
    "Daniel",
    "Thomas",
    "Anthony",
    "Joseph",
    "John",
    "Christopher",
    "Christine",
    "Matthew",
    "Nicholas",
    "Steven",
    "Stephen",
    "Alexander",
    "Alexandra",
    "Andrew",
    "Benjamin",
    "Samuel",
    "Samantha",
    "Patrick",
    "Patricia",
    "Katherine",
    "Catherine",
    "Jennifer",
    "Margaret",
    "Susan",
    "Deborah",
    "Rebecca",
    "Edward",
    "Theodore",
    "Richard",
    "Charles",
    "Henry",
    "Gregory",
    "Jeffrey",
    "Lawrence",
    "Ronald",
    "Donald",
    "Kenneth",
    "Timothy",
    "Frederick",
    "Raymond",
    "Walter",
    "Vincent",
    "Philip",
    "Joshua",
    "Zachary",
    "Nathan",
    "Abigail",
    "Amanda",
    "Cynthia",
    "Victoria",
    "Jessica",
    "Sandra",
    "Gabriel",
    "Manuel",
    "Francisco",
    "Priya",
    "Wei",
    "Aisha",
    "Mohammed",
    "Fatima",
    "Hiroshi",
    "Yuki",
    "Olga",
    "Sven",
    "Ingrid",
    "Lars",
    "Mei",
    "Arjun",
    "Ravi",
    "Ananya",
    "Kwame",
    "Amara",
    "Chidi",
    "Zanele",
    "Diego",
    "Lucia",
    "Mateo",
    "Sofia",
    "Valentina",
    "Camila",
    "Santiago",
    "Isabella",
    "Giulia",
    "Marco",
    "Luca",
    "Francesca",
    "Pierre",
    "Amélie",
    "Chloe",
    "Hugo",
    "Jonas",
    "Lena",
    "Felix",
    "Emma",
    "Noah",
    "Olivia",
    "Ava",
    "Ethan",
    "Lucas",
    "Mason",
    "Harper",
    "Grace",
    "Zoe",
    "Nora",
    "Leah",
    "Hannah",
    "Layla",
    "Omar",
    "Yusuf",
    "Zainab",
    "Tariq",
    "Nadia",
    "Dmitri",
    "Ivan",
    "Natasha",
    "Bogdan",
    "Piotr",
    "Agnieszka",
    "Tomasz",
    "Jakub",
    "Ewa",
    "Eszter",
    "Bence",
    "Ahmet",
    "Elif",
    "Emre",
    "Selin",
    "Kofi",
    "Tunde",
    "Ngozi",
    "Sipho",
    "Thabo",
    "Hao",
    "Haruto",
    "Sakura",
    "Aiko",
    "Minh",
    "Linh",
    "Siddharth",
    "Deepika",
    "Kavya",
    "Rohan",
    "Sanjay",
    "Sunita",
    "Mariana",
    "João",
    "Pedro",
    "Rafael",
    "Beatriz",
    "José",
    "Søren",
    "Björn",
    "Maëlle",
    "Oskar",
    "Astrid",
    "Malik",
    "Imani",
    "Kenji",
    "Soo-ah",
    "Tomás",
];

const LAST_NAMES: &[&str] = &[
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Torres",
    "Nguyen",
    "Hill",
    "Flores",
    "Green",
    "Adams",
    "Nelson",
    "Baker",
    "Hall",
    "Rivera",
    "Campbell",
    "Mitchell",
    "Carter",
    "Roberts",
    "Patel",
    "Shah",
    "Singh",
    "Kumar",
    "Gupta",
    "Mehta",
    "Iyer",
    "Reddy",
    "Chen",
    "Wang",
    "Li",
    "Zhang",
    "Liu",
    "Yang",
    "Huang",
    "Zhao",
    "Wu",
    "Zhou",
    "Kim",
    "Park",
    "Choi",
    "Jung",
    "Kang",
    "Sato",
    "Suzuki",
    "Takahashi",
    "Tanaka",
    "Watanabe",
    "Ito",
    "Yamamoto",
    "Nakamura",
    "Kobayashi",
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Schulz",
    "Hoffmann",
    "Dubois",
    "Durand",
    "Lefèvre",
    "Moreau",
    "Laurent",
    "Simon",
    "Michel",
    "Bernard",
    "Rossi",
    "Russo",
    "Ferrari",
    "Esposito",
    "Bianchi",
    "Romano",
    "Colombo",
    "Ricci",
    "Marino",
    "Greco",
    "Bruno",
    "Gallo",
    "Conti",
    "De Luca",
    "Costa",
    "Silva",
    "Santos",
    "Oliveira",
    "Souza",
    "Pereira",
    "Ferreira",
    "Almeida",
    "Carvalho",
    "Ribeiro",
    "Nowak",
    "Kowalski",
    "Wiśniewski",
    "Wójcik",
    "Kowalczyk",
    "Kamiński",
    "Lewandowski",
    "Zieliński",
    "Novak",
    "Horvat",
    "Kovač",
    "Ivanov",
    "Petrov",
    "Sokolov",
    "Popov",
    "Volkov",
    "Kuznetsov",
    "Smirnov",
    "Yilmaz",
    "Kaya",
    "Demir",
    "Şahin",
    "Çelik",
    "Öztürk",
    "Aydın",
    "Okafor",
    "Adeyemi",
    "Mensah",
    "Owusu",
    "Nkosi",
    "Dlamini",
    "Mokoena",
    "Kariuki",
    "Otieno",
    "Haddad",
    "Khoury",
    "Nasser",
    "Hassan",
    "Farouk",
    "Rahman",
    "Hussain",
    "Ahmed",
    "Ali",
    "Khan",
    "Jensen",
    "Nielsen",
    "Hansen",
    "Pedersen",
    "Andersen",
    "Larsen",
    "Johansson",
    "Karlsson",
    "Nilsson",
    "Eriksson",
    "Lindqvist",
    "Virtanen",
    "Korhonen",
    "Van der Berg",
    "De Vries",
    "Janssen",
    "Bakker",
    "Visser",
    "Smit",
    "Meijer",
    "O'Brien",
    "O'Connor",
    "Murphy",
    "Kelly",
    "Byrne",
    "Walsh",
    "McCarthy",
    "McDonald",
    "MacLeod",
    "Fraser",
    "Campbell-Hughes",
    "Sinclair",
    "Ortiz",
    "Morales",
    "Reyes",
    "Cruz",
    "Gutierrez",
    "Castillo",
    "Vargas",
    "Romero",
    "Jimenez",
    "Mendoza",
    "Herrera",
    "Medina",
    "Aguilar",
    "Delgado",
    "Navarro",
    "Fernandes",
    "Tran",
    "Pham",
    "Hoang",
    "Vu",
    "Dang",
    "Bui",
    "Papadopoulos",
    "Georgiou",
    "Nagy",
    "Kovacs",
    "Szabo",
    "Toth",
    "Dvořák",
    "Novotný",
    "Cohen",
    "Levi",
    "Mizrahi",
    "Friedman",
    "Goldberg",
    "Katz",
];

#[cfg(test)]
mod tests {
    use super::*;
    use caseyos_domain::hygiene::find_candidates;

    #[test]
    fn the_same_seed_makes_the_same_contacts_and_truth() {
        let one = generate(500, 7);
        let two = generate(500, 7);
        assert_eq!(one.contacts, two.contacts);
        assert_eq!(one.duplicates, two.duplicates);
        assert_ne!(generate(500, 8).contacts, one.contacts, "another seed");
    }

    #[test]
    fn the_generator_makes_the_count_with_each_kind_of_duplicate() {
        let data = generate(2_000, 11);
        assert_eq!(data.contacts.len(), 2_000);
        assert_eq!(data.duplicates.len(), 140, "7% of 2,000");
        let ids: HashSet<Uuid> = data.contacts.iter().map(|c| c.id).collect();
        assert_eq!(ids.len(), 2_000, "ids are unique");
        for pair in &data.duplicates {
            assert!(pair.a < pair.b && ids.contains(&pair.a) && ids.contains(&pair.b));
        }
        for kind in DuplicateKind::ALL {
            let made = data.duplicates.iter().filter(|p| p.kind == kind).count();
            assert!(made >= 15, "{kind:?}: {made}");
        }
        let emails: HashSet<&str> = data.contacts.iter().map(|c| c.email.as_str()).collect();
        assert_eq!(emails.len(), 2_000, "addresses are unique");
        let phones = data
            .contacts
            .iter()
            .filter_map(|c| c.phone.as_deref())
            .filter(|p| normalise_phone(p, "1").is_ok())
            .count();
        assert!(phones > 1_500, "{phones} readable phones");
    }

    #[test]
    fn duplicate_detection_on_2000_contacts_has_precision_and_recall_of_at_least_0_9() {
        let data = generate(2_000, 42);
        let candidates = find_candidates(&data.match_records());
        let q = quality(&candidates, &data.duplicates);
        assert!(
            q.precision >= 0.9 && q.recall >= 0.9,
            "precision {:.3}, recall {:.3}: {q:#?}",
            q.precision,
            q.recall
        );
    }

    #[test]
    fn csv_rows_follow_the_header_and_quote_what_needs_it() {
        let contact = SyntheticContact {
            id: Uuid::nil(),
            first_name: "Mary".into(),
            last_name: "O'Neil".into(),
            email: "mary@acme.com".into(),
            phone: Some("(415) 555-0100".into()),
            company: "Acme Data, Inc.".into(),
            job_title: "VP \"Growth\"".into(),
        };
        let mut out = Vec::new();
        write_csv(&[contact], &mut out).expect("write");
        assert_eq!(
            String::from_utf8(out).expect("utf-8"),
            "first_name,last_name,email,phone,company,job_title\n\
             Mary,O'Neil,mary@acme.com,(415) 555-0100,\"Acme Data, Inc.\",\"VP \"\"Growth\"\"\"\n"
        );
    }
}
