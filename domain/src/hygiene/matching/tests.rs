use super::*;

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

/// A record: `"First Last"` (one word: a last name only), emails, phones, company, domain.
fn rec(
    n: u128,
    name: &str,
    emails: &[&str],
    phones: &[&str],
    company: Option<&str>,
    domain: Option<&str>,
) -> MatchRecord {
    let (first, last) = match name.split_once(' ') {
        Some((f, l)) => (Some(f.to_string()), Some(l.to_string())),
        None if name.is_empty() => (None, None),
        None => (None, Some(name.to_string())),
    };
    MatchRecord {
        id: id(n),
        first_name: first,
        last_name: last,
        emails: emails.iter().map(|e| e.to_string()).collect(),
        phones: phones.iter().map(|p| p.to_string()).collect(),
        company_name: company.map(str::to_string),
        company_domain: domain.map(str::to_string),
    }
}

fn codes(candidate: &Candidate) -> Vec<&str> {
    candidate.reasons.iter().map(|r| r.code.as_str()).collect()
}

#[test]
fn jaro_winkler_gives_the_textbook_values() {
    // (a, b, expected to 3 decimals)
    let table = [
        ("martha", "marhta", 0.961),
        ("dwayne", "duane", 0.840),
        ("dixon", "dicksonx", 0.813),
        ("jon", "john", 0.933),
        ("steven", "stephen", 0.894),
        ("john", "jane", 0.700),
        ("smith", "smyth", 0.893),
        ("same", "same", 1.0),
        ("", "", 1.0),
        ("abc", "", 0.0),
        ("abc", "xyz", 0.0),
    ];
    for (a, b, expected) in table {
        let got = jaro_winkler(a, b);
        assert!(
            (got - expected).abs() < 0.0005,
            "{a:?} ~ {b:?}: {got:.4}, expected {expected}"
        );
        assert_eq!(got, jaro_winkler(b, a), "{a:?} ~ {b:?} is symmetric");
    }
    let long_a = "a".repeat(70) + "b";
    let long_b = "a".repeat(70) + "c";
    assert!(
        jaro_winkler(&long_a, &long_b) > 0.98,
        "names longer than 64 characters"
    );
}

#[test]
fn one_typing_error_is_recognised_and_two_are_not() {
    // (a, b, within one edit)
    let table = [
        ("ivan", "ivnn", true),
        ("nakamura", "nkamura", true),
        ("smith", "smtih", true),
        ("smith", "smiths", true),
        ("smith", "smith", true),
        ("perez", "prez", true),
        ("hana", "jana", false),
        ("abcd", "bacd", false),
        ("abcd", "abdc", true),
        ("john", "jane", false),
        ("smith", "smyte", false),
        ("smith", "smithson", false),
        ("abcd", "badc", false),
    ];
    for (a, b, expected) in table {
        let (x, y): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
        assert_eq!(within_one_edit(&x, &y), expected, "{a:?} ~ {b:?}");
        assert_eq!(within_one_edit(&y, &x), expected, "{b:?} ~ {a:?}");
    }
}

#[test]
fn names_companies_and_domains_normalise_as_documented() {
    for (raw, expected) in [
        ("José", "jose"),
        ("Müller", "muller"),
        ("Groß", "gross"),
        ("O'Neil", "oneil"),
        ("van der Berg", "vanderberg"),
        ("Jean-Luc", "jeanluc"),
        ("  ÅSA  ", "asa"),
        ("Łukasz", "lukasz"),
    ] {
        assert_eq!(normalise_name(raw), expected, "name {raw:?}");
    }
    for (raw, expected) in [
        ("Acme, Inc.", "acme"),
        ("ACME LLC", "acme"),
        ("Acme L.L.C.", "acme"),
        ("The Acme Co., Ltd.", "acme"),
        ("Acme GmbH", "acme"),
        ("Acme Corp.", "acme"),
        ("Johnson & Johnson", "johnsonandjohnson"),
        ("Globex Corporation", "globex"),
        ("Company Inc", "company"),
        ("Société Générale S.A.", "societegenerale"),
        ("", ""),
    ] {
        assert_eq!(normalise_company(raw), expected, "company {raw:?}");
    }
    for (raw, expected) in [
        ("acme.com", Some("acme.com")),
        ("https://www.Acme.com/about", Some("acme.com")),
        ("http://acme.co.uk:8080", Some("acme.co.uk")),
        ("WWW.ACME.IO.", Some("acme.io")),
        ("acme", None),
        ("not a domain.com", None),
        ("", None),
    ] {
        assert_eq!(normalise_domain(raw).as_deref(), expected, "domain {raw:?}");
    }
}

#[test]
fn pairs_score_with_every_reason_that_fired() {
    const PHONE: &str = "+14155550100";
    // (label, a, b, expected score or no pair, expected reason codes)
    type Row = (
        &'static str,
        MatchRecord,
        MatchRecord,
        Option<f64>,
        Vec<&'static str>,
    );
    let table: Vec<Row> = vec![
        (
            "a typo in the first name, same company domain",
            rec(
                1,
                "Jon Smith",
                &["jon.smith@acme.com"],
                &[],
                Some("Acme"),
                None,
            ),
            rec(
                2,
                "John Smith",
                &["jsmith@acme.com"],
                &[],
                Some("Acme Inc."),
                None,
            ),
            Some(DOMAIN_NAME_SCORE),
            vec![
                "domain_name.similar",
                "company_name.similar",
                "name.similar",
            ],
        ),
        (
            "a typo in the last name, domain from the record",
            rec(1, "Maria Gonzalez", &[], &[], None, Some("globex.com")),
            rec(
                2,
                "Maria Gonzales",
                &[],
                &[],
                None,
                Some("https://www.globex.com"),
            ),
            Some(DOMAIN_NAME_SCORE),
            vec!["domain_name.similar", "name.similar"],
        ),
        (
            "a letter dropped where Jaro-Winkler alone is not enough",
            rec(1, "Imani Nakamura", &["imani@acme.com"], &[], None, None),
            rec(2, "Imani Nkamura", &["i.nkamura@acme.com"], &[], None, None),
            Some(DOMAIN_NAME_SCORE),
            vec!["domain_name.similar", "name.similar"],
        ),
        (
            "the same phone and close names that are not similar",
            rec(
                1,
                "Christopher Shah",
                &["chris@acme.com"],
                &[PHONE],
                None,
                None,
            ),
            rec(
                2,
                "Christopher Sah",
                &["cs@initech.io"],
                &[PHONE],
                None,
                None,
            ),
            Some(PHONE_SCORE),
            vec!["phone.same"],
        ),
        (
            "the same phone shared by a couple",
            rec(1, "John Smith", &["john@acme.com"], &[PHONE], None, None),
            rec(2, "Jane Smith", &["jane@initech.io"], &[PHONE], None, None),
            None,
            vec![],
        ),
        (
            "first and last names swapped",
            rec(1, "Smith John", &["js@acme.com"], &[], None, None),
            rec(2, "John Smith", &["john@acme.com"], &[], None, None),
            Some(DOMAIN_NAME_SCORE),
            vec!["domain_name.similar", "name.swapped"],
        ),
        (
            "a nickname",
            rec(1, "Bob Jones", &["bob@initech.io"], &[], None, None),
            rec(
                2,
                "Robert Jones",
                &["robert.jones@initech.io"],
                &[],
                None,
                None,
            ),
            Some(DOMAIN_NAME_SCORE),
            vec!["domain_name.similar", "name.nickname"],
        ),
        (
            "two nicknames of one name",
            rec(1, "Bill Gates", &["bill@initech.io"], &[], None, None),
            rec(2, "Will Gates", &["will@initech.io"], &[], None, None),
            Some(DOMAIN_NAME_SCORE),
            vec!["domain_name.similar", "name.nickname"],
        ),
        (
            "an initial",
            rec(1, "J. Smith", &["j.smith@acme.com"], &[], None, None),
            rec(2, "John Smith", &["john.smith@acme.com"], &[], None, None),
            Some(DOMAIN_NAME_SCORE),
            vec!["domain_name.similar", "name.initial"],
        ),
        (
            "another domain, the same phone (the seed missed these)",
            rec(
                1,
                "Maria Garcia",
                &["maria@globex.com"],
                &[PHONE],
                Some("Globex"),
                None,
            ),
            rec(
                2,
                "Maria Garcia",
                &["mgarcia@initech.io"],
                &["(415) 555-0100"],
                Some("Initech"),
                None,
            ),
            Some(PHONE_SCORE),
            vec!["phone.same", "name.same"],
        ),
        (
            "the same phone, one record without a name",
            rec(1, "", &["a@globex.com"], &[PHONE], None, None),
            rec(2, "Maria Garcia", &["b@initech.io"], &[PHONE], None, None),
            Some(PHONE_SCORE),
            vec!["phone.same"],
        ),
        (
            "a switchboard number shared by different people",
            rec(1, "Anna Lee", &["anna@acme.com"], &[PHONE], None, None),
            rec(2, "Ben Ortiz", &["ben@acme.com"], &[PHONE], None, None),
            None,
            vec![],
        ),
        (
            "the same email address in another case",
            rec(1, "Dana Scully", &["Dana.Scully@FBI.gov"], &[], None, None),
            rec(2, "D Scully", &["dana.scully@fbi.gov"], &[], None, None),
            Some(EMAIL_SCORE),
            vec!["email.same", "domain_name.similar", "name.initial"],
        ),
        (
            "a personal address, the same name and company",
            rec(
                1,
                "Priya Patel",
                &["priya.patel@umbrella.com"],
                &[],
                Some("Umbrella Corp"),
                None,
            ),
            rec(
                2,
                "Priya Patel",
                &["priya.p@gmail.com"],
                &[],
                Some("Umbrella Corporation"),
                None,
            ),
            Some(COMPANY_NAME_FACTOR),
            vec!["company_name.similar", "name.same"],
        ),
        (
            "same company, different people",
            rec(
                1,
                "Anna Lee",
                &["anna.lee@acme.com"],
                &[],
                Some("Acme"),
                None,
            ),
            rec(
                2,
                "Ben Ortiz",
                &["ben.ortiz@acme.com"],
                &[],
                Some("Acme"),
                None,
            ),
            None,
            vec![],
        ),
        (
            "same company, same last name, another first name",
            rec(1, "John Smith", &["john@acme.com"], &[], Some("Acme"), None),
            rec(2, "Jane Smith", &["jane@acme.com"], &[], Some("Acme"), None),
            None,
            vec![],
        ),
        (
            "the same name at a free-mail domain only",
            rec(1, "John Smith", &["john.smith@gmail.com"], &[], None, None),
            rec(2, "John Smith", &["jsmith77@gmail.com"], &[], None, None),
            None,
            vec![],
        ),
        (
            "the same name at a throwaway domain only",
            rec(1, "John Smith", &["john@mailinator.com"], &[], None, None),
            rec(2, "John Smith", &["jsmith@mailinator.com"], &[], None, None),
            None,
            vec![],
        ),
        (
            "diacritics folded",
            rec(1, "José Müller", &["jose@acme.de"], &[], None, None),
            rec(2, "Jose Muller", &["j.muller@acme.de"], &[], None, None),
            Some(DOMAIN_NAME_SCORE),
            vec!["domain_name.similar", "name.same"],
        ),
        (
            "a similar company name with a typo",
            rec(
                1,
                "Wei Chen",
                &["wei@a.example.com"],
                &[],
                Some("Hooli Technologies"),
                None,
            ),
            rec(
                2,
                "Wei Chen",
                &["wei@b.example.org"],
                &[],
                Some("Hooli Technologes"),
                None,
            ),
            Some(0.6959),
            vec!["company_name.similar", "name.same"],
        ),
        (
            "different companies, same name",
            rec(1, "Wei Chen", &["wei@hooli.com"], &[], Some("Hooli"), None),
            rec(
                2,
                "Wei Chen",
                &["wei@piedpiper.com"],
                &[],
                Some("Pied Piper"),
                None,
            ),
            None,
            vec![],
        ),
    ];
    for (label, a, b, expected, reasons) in &table {
        let got = score_pair(a, b);
        match (expected, &got) {
            (None, None) => {}
            (Some(score), Some(candidate)) => {
                assert!(
                    (candidate.score - score).abs() < 0.0001,
                    "{label}: score {}, expected {score}; {candidate:?}",
                    candidate.score
                );
                assert_eq!(&codes(candidate), reasons, "{label}: {candidate:?}");
                assert_eq!((candidate.a, candidate.b), (id(1), id(2)), "{label}");
            }
            _ => panic!("{label}: expected {expected:?}, got {got:?}"),
        }
        // The same the other way round.
        assert_eq!(score_pair(b, a), got, "{label}, reversed");
    }
}

#[test]
fn reason_details_name_no_email_address_or_phone_number() {
    let a = rec(
        1,
        "Maria Garcia",
        &["maria@globex.com"],
        &["+14155550100"],
        Some("Globex"),
        None,
    );
    let b = rec(
        2,
        "Maria Garcia",
        &["maria@globex.com"],
        &["+14155550100"],
        Some("Globex"),
        None,
    );
    let candidate = score_pair(&a, &b).expect("a pair");
    assert_eq!(
        codes(&candidate),
        [
            "email.same",
            "phone.same",
            "domain_name.similar",
            "company_name.similar",
            "name.same"
        ]
    );
    for reason in &candidate.reasons {
        assert!(
            !reason.detail.contains('@') && !reason.detail.contains("555"),
            "{reason:?}"
        );
    }
}

/// A small population with one pair of each kind and people who are not duplicates.
fn population() -> Vec<MatchRecord> {
    vec![
        rec(
            10,
            "Jon Smith",
            &["jon.smith@acme.com"],
            &[],
            Some("Acme"),
            None,
        ),
        rec(
            11,
            "John Smith",
            &["john.smith@acme.com"],
            &[],
            Some("Acme"),
            None,
        ),
        rec(
            12,
            "Anna Lee",
            &["anna.lee@acme.com"],
            &[],
            Some("Acme"),
            None,
        ),
        rec(
            13,
            "Ben Ortiz",
            &["ben.ortiz@acme.com"],
            &[],
            Some("Acme"),
            None,
        ),
        rec(
            20,
            "Maria Garcia",
            &["maria@globex.com"],
            &["+442079460958"],
            Some("Globex"),
            None,
        ),
        rec(
            21,
            "Maria Garcia",
            &["mgarcia@initech.io"],
            &["+442079460958"],
            Some("Initech"),
            None,
        ),
        rec(
            30,
            "Bob Jones",
            &["bob@initech.io"],
            &[],
            Some("Initech"),
            None,
        ),
        rec(
            31,
            "Robert Jones",
            &["robert.jones@initech.io"],
            &[],
            Some("Initech"),
            None,
        ),
        rec(40, "Lee Kim", &["kim.lee@umbrella.com"], &[], None, None),
        rec(41, "Kim Lee", &["lee.kim@umbrella.com"], &[], None, None),
        rec(50, "Sam Taylor", &["sam.taylor@gmail.com"], &[], None, None),
        rec(51, "Sam Taylor", &["staylor@gmail.com"], &[], None, None),
        rec(
            52,
            "Chris Taylor",
            &["chris.taylor@gmail.com"],
            &[],
            None,
            None,
        ),
    ]
}

#[test]
fn find_candidates_finds_each_kind_once_and_nothing_else() {
    let (candidates, stats) = find_candidates_with_stats(&population());
    let pairs: Vec<(Uuid, Uuid, Vec<&str>)> =
        candidates.iter().map(|c| (c.a, c.b, codes(c))).collect();
    assert_eq!(
        pairs,
        vec![
            (id(20), id(21), vec!["phone.same", "name.same"]),
            (
                id(10),
                id(11),
                vec![
                    "domain_name.similar",
                    "company_name.similar",
                    "name.similar"
                ]
            ),
            (
                id(30),
                id(31),
                vec![
                    "domain_name.similar",
                    "company_name.similar",
                    "name.nickname"
                ]
            ),
            (id(40), id(41), vec!["domain_name.similar", "name.swapped"]),
        ],
        "{candidates:#?}"
    );
    // Blocks: acme.com and Acme (4 each), the phone, initech.io and Initech (3 each),
    // umbrella.com; the gmail.com addresses block nothing.
    assert_eq!(stats.records, 13);
    assert_eq!(stats.blocks, 6, "{stats:?}");
    assert_eq!(stats.oversized_blocks, 0);
    // 6 (Acme) + 1 (phone) + 3 (Initech) + 1 (Umbrella), each pair once.
    assert_eq!(stats.pairs_compared, 11, "{stats:?}");
}

#[test]
fn the_same_records_in_any_order_give_the_same_candidates() {
    let records = population();
    let expected = find_candidates(&records);
    let mut reversed = records.clone();
    reversed.reverse();
    assert_eq!(find_candidates(&reversed), expected, "reversed");
    for shift in 1..records.len() {
        let mut rotated = records.clone();
        rotated.rotate_left(shift);
        assert_eq!(find_candidates(&rotated), expected, "rotated by {shift}");
    }
}

#[test]
fn an_oversized_block_is_split_by_name_and_still_finds_its_pairs() {
    let firsts = [
        "Anna", "Ben", "Carla", "Dmitri", "Elif", "Farah", "Goran", "Hana", "Ivan", "Jana", "Kofi",
        "Lina", "Mateo", "Nora", "Omar", "Pia", "Quinn", "Rosa", "Sven", "Tara",
    ];
    let lasts = [
        "Abbott", "Baker", "Castro", "Dubois", "Eriksen", "Fischer", "Grant", "Horvat", "Ito",
        "Jensen", "Kowalski", "Larsen", "Moreau", "Novak", "Okafor", "Petrov", "Quispe", "Rossi",
        "Sato", "Tanaka", "Ueda", "Varga", "Weber", "Xu", "Yilmaz",
    ];
    let mut records = Vec::new();
    let mut n = 0u128;
    for first in firsts {
        for last in lasts {
            n += 1;
            let email = format!(
                "{}.{}@megacorp.com",
                first.to_lowercase(),
                last.to_lowercase()
            );
            records.push(rec(
                n,
                &format!("{first} {last}"),
                &[&email],
                &[],
                Some("MegaCorp"),
                None,
            ));
        }
    }
    // 500 people at one company, and three duplicates among them.
    records.push(rec(
        1001,
        "Jana Kowalsky",
        &["jk@megacorp.com"],
        &[],
        Some("MegaCorp"),
        None,
    ));
    records.push(rec(
        1002,
        "Okafor Kofi",
        &["ko@megacorp.com"],
        &[],
        Some("MegaCorp"),
        None,
    ));
    records.push(rec(
        1003,
        "Tara Yilmaz",
        &["t.yilmaz@gmail.com"],
        &[],
        Some("Megacorp Inc"),
        None,
    ));
    let (candidates, stats) = find_candidates_with_stats(&records);
    let pairs: Vec<(Uuid, Uuid)> = candidates.iter().map(|c| (c.a, c.b)).collect();
    let index = |first: usize, last: usize| id((first * lasts.len() + last + 1) as u128);
    let mut expected = vec![
        (index(9, 10), id(1001)),
        (index(10, 14), id(1002)),
        (index(19, 24), id(1003)),
    ];
    expected.sort_by_key(|&(a, b)| {
        candidates
            .iter()
            .position(|c| (c.a, c.b) == (a, b))
            .unwrap_or(usize::MAX)
    });
    assert_eq!(pairs, expected, "{candidates:#?}");
    assert_eq!(stats.oversized_blocks, 2, "{stats:?}");
    let all_pairs = records.len() * (records.len() - 1) / 2;
    assert!(
        stats.pairs_compared * 5 < all_pairs,
        "{} pairs compared of {all_pairs}",
        stats.pairs_compared
    );
}

#[test]
fn the_fingerprint_is_stable_and_changes_only_with_what_the_criteria_read() {
    let base = rec(
        1,
        "Jon Smith",
        &["jon.smith@acme.com", "jon@gmail.com"],
        &["+14155550100"],
        Some("Acme"),
        Some("acme.com"),
    );
    let fingerprint = criteria_fingerprint(&base);
    // Pinned: the same on every platform and every run.
    assert_eq!(fingerprint, "0803bd0bcdd0ea26");
    assert_eq!(fingerprint.len(), 16);
    type Edit = fn(&mut MatchRecord);
    // (label, change, whether the fingerprint changes)
    let table: &[(&str, Edit, bool)] = &[
        ("another id", |r| r.id = Uuid::from_u128(99), false),
        (
            "casing and spaces",
            |r| r.first_name = Some(" JON ".into()),
            false,
        ),
        (
            "emails in another order and case",
            |r| r.emails = vec!["JON@gmail.com".into(), "jon.smith@acme.com".into()],
            false,
        ),
        (
            "the phone written nationally",
            |r| r.phones = vec!["(415) 555-0100".into()],
            false,
        ),
        (
            "the company's legal form",
            |r| r.company_name = Some("ACME, Inc.".into()),
            false,
        ),
        (
            "the domain as a URL",
            |r| r.company_domain = Some("https://www.acme.com/".into()),
            false,
        ),
        ("a first name", |r| r.first_name = Some("John".into()), true),
        ("a last name", |r| r.last_name = Some("Smyth".into()), true),
        (
            "an email added",
            |r| r.emails.push("js@initech.io".into()),
            true,
        ),
        ("a phone removed", |r| r.phones.clear(), true),
        (
            "the company",
            |r| r.company_name = Some("Globex".into()),
            true,
        ),
        (
            "the domain",
            |r| r.company_domain = Some("acme.io".into()),
            true,
        ),
        (
            "first and last swapped",
            |r| {
                r.first_name = Some("Smith".into());
                r.last_name = Some("Jon".into());
            },
            true,
        ),
    ];
    for (label, edit, changes) in table {
        let mut record = base.clone();
        edit(&mut record);
        assert_eq!(
            criteria_fingerprint(&record) != fingerprint,
            *changes,
            "{label}: {record:?}"
        );
    }
}
