-- Contacts' read model, written only by the `contacts` projector.
-- Typed columns serve filters, sorts and look-ups; `doc` is the `ContactView` the API returns.
create extension if not exists pg_trgm;

create table contacts (
    id                uuid        primary key,
    -- active | archived | merged
    status            text        not null,
    first_name        text,
    last_name         text,
    -- "First Last", '' when the contact has neither.
    name              text        not null,
    -- The first of `emails` (lower case).
    primary_email     text,
    -- Every address, lower case, the primary first.
    emails            text[]      not null,
    -- E.164 where the number parsed, else the text as written.
    phones            text[]      not null,
    -- The first of `phones`.
    phone             text,
    job_title         text,
    company_name      text,
    company_domain    text,
    lifecycle_stage   text,
    owner             text,
    crm_id            text,
    last_contacted_at timestamptz,
    -- manual | import | hubspot
    source            text        not null,
    import_id         uuid,
    demo              boolean     not null,
    -- null: never validated.
    valid             boolean,
    -- The last validation's number of issues (0 when never validated).
    issues            integer     not null,
    merged_into       uuid,
    -- What `q` searches: lower-cased name, emails and company, one line.
    search            text        not null,
    doc               jsonb       not null,
    created_at        timestamptz not null,
    updated_at        timestamptz not null,
    version           bigint      not null
);

-- Look-ups: by any address, by CRM id among contacts not merged away, by phone.
create index contacts_emails_idx on contacts using gin (emails);
create index contacts_primary_email_idx on contacts (primary_email);
create index contacts_crm_id_idx on contacts (crm_id) where crm_id is not null and status <> 'merged';
create index contacts_phones_idx on contacts using gin (phones);
-- Search `q` over name, email and company.
create index contacts_search_trgm_idx on contacts using gin (search gin_trgm_ops);
-- Lists: by status, sorted by name, creation, change or last contact.
create index contacts_status_name_idx on contacts (status, lower(name), id);
create index contacts_status_created_idx on contacts (status, created_at, id);
create index contacts_status_updated_idx on contacts (status, updated_at, id);
create index contacts_status_last_contacted_idx on contacts (status, last_contacted_at, id);
create index contacts_company_domain_idx on contacts (company_domain) where company_domain is not null;
create index contacts_owner_idx on contacts (owner) where owner is not null;
create index contacts_import_idx on contacts (import_id) where import_id is not null;
create index contacts_merged_into_idx on contacts (merged_into) where merged_into is not null;
