//! `caseyos demo seed`, contacts: the people behind the demo moves, and the mess a real
//! contact base has — a typo'd second record, a nickname, swapped names, the same person
//! with a personal address and the same phone, a role address, a disposable sign-up,
//! contacts nobody has touched in months. Entered through the contact commands, marked
//! `demo`, made by `system:demo`; ids derive from fixed keys, so seeding twice adds nothing.
//! "Last contacted" dates in the past are data about the person (when they were last
//! contacted), never forged recording times.

use caseyos_domain::contacts::{
    CompanyDomain, Contact, ContactCommand, ContactError, ContactSource, CreateContact, FieldEdit,
    LifecycleStage, Phone, MAX_NAME_CHARS,
};
use caseyos_domain::kernel::{CrmId, EmailAddress, Text, UserName};
use caseyos_store::{now, CommandBus, CommandError, CommandMeta};
use chrono::Duration;
use uuid::Uuid;

/// One demo person: key, first, last, email, phone, title, company, domain, stage, CRM id,
/// days since last contacted.
type Person = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    Option<LifecycleStage>,
    &'static str,
    Option<i64>,
);

fn people() -> Vec<Person> {
    use LifecycleStage::*;
    vec![
        (
            "dana",
            "Dana",
            "Whitfield",
            "dana.whitfield@northwind-logistics.com",
            "(312) 555-0142",
            "VP Operations",
            "Northwind Logistics",
            "northwind-logistics.com",
            Some(Opportunity),
            "c-1001",
            Some(1),
        ),
        // The same Dana, typed in again at a trade show: a typo and her short address.
        (
            "dana-typo",
            "Dana",
            "Whitfeld",
            "dwhitfield@northwind-logistics.com",
            "312.555.0142",
            "VP Ops",
            "Northwind Logistics",
            "northwind-logistics.com",
            Some(Lead),
            "",
            Some(40),
        ),
        (
            "marcus",
            "Marcus",
            "Oyelaran",
            "m.oyelaran@brightpath.io",
            "+1 415 555 0187",
            "Head of Platform",
            "BrightPath",
            "brightpath.io",
            Some(Opportunity),
            "c-1002",
            Some(3),
        ),
        // Marcus again from a webinar sign-up: personal address, same mobile.
        (
            "marcus-personal",
            "Marcus",
            "Oyelaran",
            "marcus.oyelaran@gmail.com",
            "415-555-0187",
            "",
            "",
            "",
            Some(Subscriber),
            "",
            None,
        ),
        (
            "priya",
            "Priya",
            "Raman",
            "priya@quantaforge.ai",
            "+1 628 555 0110",
            "CTO",
            "QuantaForge",
            "quantaforge.ai",
            Some(SalesQualifiedLead),
            "c-1003",
            Some(2),
        ),
        (
            "aiko",
            "Aiko",
            "Tanaka",
            "aiko.tanaka@lumenretail.jp",
            "+81 3-5555-0199",
            "VP Marketing",
            "Lumen Retail",
            "lumenretail.jp",
            Some(Lead),
            "c-1005",
            Some(6),
        ),
        // Imported from a business-card scan with family name first.
        (
            "aiko-swapped",
            "Tanaka",
            "Aiko",
            "a.tanaka@lumenretail.jp",
            "",
            "Marketing",
            "Lumen Retail K.K.",
            "lumenretail.jp",
            None,
            "",
            None,
        ),
        (
            "grace",
            "Grace",
            "Mensah",
            "grace@fieldnote.co",
            "+44 20 7946 0958",
            "COO",
            "Fieldnote",
            "fieldnote.co",
            Some(Customer),
            "c-1006",
            Some(20),
        ),
        (
            "luis",
            "Luis",
            "Ortega",
            "luis.ortega@ridgeline.mx",
            "+52 55 5555 0123",
            "Director of IT",
            "Ridgeline",
            "ridgeline.mx",
            Some(Opportunity),
            "c-1007",
            Some(1),
        ),
        (
            "hannah",
            "Hannah",
            "Kowalski",
            "hannah.k@eastgate.edu",
            "",
            "Systems Admin",
            "Eastgate University",
            "eastgate.edu",
            Some(Customer),
            "c-1008",
            Some(4),
        ),
        (
            "samir",
            "Samir",
            "Haddad",
            "samir@olivetree.ventures",
            "+971 4 555 0100",
            "Partner",
            "Olive Tree Ventures",
            "olivetree.ventures",
            Some(Lead),
            "c-1009",
            Some(8),
        ),
        (
            "elena",
            "Elena",
            "Petrova",
            "elena.petrova@northstar.bg",
            "",
            "Head of Sales",
            "Northstar",
            "northstar.bg",
            Some(SalesQualifiedLead),
            "c-1010",
            Some(0),
        ),
        (
            "noah",
            "Noah",
            "Williams",
            "noah@brightpath.io",
            "",
            "Ops Manager",
            "BrightPath",
            "brightpath.io",
            Some(Opportunity),
            "c-1011",
            Some(12),
        ),
        (
            "ivy",
            "Ivy",
            "Chen",
            "ivy.chen@meridian.sg",
            "+65 6555 0134",
            "Procurement",
            "Meridian",
            "meridian.sg",
            Some(Lead),
            "c-1012",
            Some(45),
        ),
        (
            "robert",
            "Robert",
            "Fischer",
            "robert.fischer@saltmarshfoods.com",
            "+1 503 555 0166",
            "Procurement Lead",
            "Saltmarsh Foods",
            "saltmarshfoods.com",
            Some(Lead),
            "c-1013",
            Some(130),
        ),
        // Robert again, as he signs his emails.
        (
            "bob",
            "Bob",
            "Fischer",
            "bob.fischer@saltmarshfoods.com",
            "",
            "Procurement",
            "Saltmarsh Foods Inc.",
            "saltmarshfoods.com",
            Some(Lead),
            "",
            Some(200),
        ),
        // A shared inbox, not a person.
        (
            "saltmarsh-info",
            "",
            "",
            "info@saltmarshfoods.com",
            "",
            "",
            "Saltmarsh Foods",
            "saltmarshfoods.com",
            None,
            "",
            None,
        ),
        // A throwaway sign-up, typed in lower case.
        (
            "disposable",
            "jane",
            "doe",
            "jane.doe@mailinator.com",
            "555-01",
            "",
            "",
            "",
            Some(Subscriber),
            "",
            None,
        ),
        (
            "tom",
            "Tom",
            "Becker",
            "tom.becker@corvidanalytics.com",
            "+49 30 5555 0172",
            "CTO",
            "Corvid Analytics",
            "corvidanalytics.com",
            Some(Customer),
            "c-1014",
            Some(400),
        ),
        (
            "sofia",
            "Sofia",
            "Marin",
            "sofia.marin@helio.health",
            "+1 646 555 0191",
            "VP Finance",
            "Helio Health",
            "helio.health",
            Some(Opportunity),
            "c-1015",
            Some(16),
        ),
        (
            "chloe",
            "Chloe",
            "Martin",
            "chloe.martin@eastgate.edu",
            "",
            "Dean of Admissions",
            "Eastgate University",
            "eastgate.edu",
            Some(Evangelist),
            "",
            Some(95),
        ),
        (
            "ahmed",
            "Ahmed",
            "Nasser",
            "ahmed@dunecapital.ae",
            "+971 50 555 0147",
            "CFO",
            "Dune Capital",
            "dunecapital.ae",
            Some(Other),
            "",
            Some(380),
        ),
    ]
}

fn id_of(key: &str) -> Uuid {
    Uuid::new_v5(
        &Uuid::NAMESPACE_URL,
        format!("caseyos:demo:contact:{key}").as_bytes(),
    )
}

fn text(raw: &str) -> anyhow::Result<Option<Text>> {
    Text::parse_optional(Some(raw), MAX_NAME_CHARS).map_err(|m| anyhow::anyhow!("demo text {m}"))
}

fn edits(person: &Person, owner: &UserName) -> anyhow::Result<Vec<FieldEdit>> {
    let (_, first, last, email, phone, title, company, domain, stage, crm, days) = *person;
    let mut edits = vec![
        FieldEdit::FirstName(text(first)?),
        FieldEdit::LastName(text(last)?),
        FieldEdit::Emails(vec![
            EmailAddress::parse(email).map_err(|m| anyhow::anyhow!("demo email {m}"))?
        ]),
        FieldEdit::JobTitle(text(title)?),
        FieldEdit::CompanyName(text(company)?),
        FieldEdit::LifecycleStage(stage),
        FieldEdit::Owner(Some(owner.clone())),
        FieldEdit::LastContactedAt(days.map(|d| now() - Duration::days(d))),
    ];
    if !phone.is_empty() {
        edits.push(FieldEdit::Phones(vec![Phone::read(phone)]));
    }
    if !domain.is_empty() {
        edits.push(FieldEdit::CompanyDomain(Some(
            CompanyDomain::parse(domain).map_err(|m| anyhow::anyhow!("demo domain {m}"))?,
        )));
    }
    if !crm.is_empty() {
        edits.push(FieldEdit::CrmId(Some(
            CrmId::parse(crm).map_err(|m| anyhow::anyhow!("demo CRM id {m}"))?,
        )));
    }
    Ok(edits)
}

/// Creates the demo contacts; returns (created, already there).
pub async fn seed(
    bus: &CommandBus,
    meta: &CommandMeta,
    owner: &UserName,
) -> anyhow::Result<(usize, usize)> {
    let (mut created, mut existing) = (0, 0);
    for person in people() {
        let id = id_of(person.0);
        let command = ContactCommand::Create(Box::new(CreateContact {
            id,
            fields: edits(&person, owner)?,
            source: ContactSource::Manual,
            import_id: None,
            demo: true,
            by: meta.actor.clone(),
            at: now(),
        }));
        match bus.execute::<Contact>(id, command, meta).await {
            Ok(_) => created += 1,
            Err(CommandError::Rejected(ContactError::AlreadyExists)) => existing += 1,
            Err(e) => return Err(anyhow::anyhow!("demo contact {}: {e}", person.0)),
        }
    }
    Ok((created, existing))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_demo_person_parses_into_contact_fields() {
        let owner = UserName::parse("casey").unwrap();
        let mut keys: Vec<&str> = people().iter().map(|p| p.0).collect();
        for person in people() {
            let edits = edits(&person, &owner).unwrap_or_else(|e| panic!("{}: {e}", person.0));
            assert!(!edits.is_empty());
        }
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), people().len(), "keys are unique");
    }

    #[test]
    fn the_demo_holds_the_duplicates_the_matcher_should_find() {
        use caseyos_domain::contacts::fields_of;
        use caseyos_domain::hygiene::{find_candidates, MatchRecord};
        let owner = UserName::parse("casey").unwrap();
        let records: Vec<MatchRecord> = people()
            .iter()
            .map(|p| {
                let f = fields_of(edits(p, &owner).unwrap());
                MatchRecord {
                    id: id_of(p.0),
                    first_name: f.first_name,
                    last_name: f.last_name,
                    company_name: f.company_name,
                    company_domain: f.company_domain,
                    emails: f.emails,
                    phones: f.phones.into_iter().filter_map(|p| p.e164).collect(),
                }
            })
            .collect();
        let found: Vec<(Uuid, Uuid)> = find_candidates(&records)
            .into_iter()
            .map(|c| (c.a, c.b))
            .collect();
        for (x, y) in [
            ("dana", "dana-typo"),
            ("marcus", "marcus-personal"),
            ("aiko", "aiko-swapped"),
            ("robert", "bob"),
        ] {
            let (a, b) = (id_of(x), id_of(y));
            let pair = if a < b { (a, b) } else { (b, a) };
            assert!(
                found.contains(&pair),
                "{x} and {y} should be a candidate pair"
            );
        }
    }
}
