-- Duplicate review's read model, written only by the `duplicate_pairs` projector.
-- Typed columns serve the review queue's filters and order; `doc` is the
-- `DuplicatePairView` the API returns.
create table duplicate_pairs (
    id               uuid             primary key,
    -- The two contacts, the lower id first.
    a                uuid             not null,
    b                uuid             not null,
    -- open | merged | not_duplicate | ignored | unmerged
    status           text             not null,
    -- 0–1.
    score            double precision not null,
    -- [{"code", "detail"}]: why the matcher thinks they are one person.
    reasons          jsonb            not null,
    criteria_version integer          not null,
    -- The agent run that last found it.
    run_id           uuid,
    detected_at      timestamptz      not null,
    found_at         timestamptz      not null,
    -- The last decision (merged, not a duplicate, ignored, unmerged).
    decided_at       timestamptz,
    decided_by       text,
    merge_id         uuid,
    primary_id       uuid,
    doc              jsonb            not null,
    updated_at       timestamptz      not null,
    version          bigint           not null
);

-- The queue: a status's pairs by score, highest first.
create index duplicate_pairs_status_score_idx on duplicate_pairs (status, score desc, id);
-- A contact's pairs.
create index duplicate_pairs_a_idx on duplicate_pairs (a);
create index duplicate_pairs_b_idx on duplicate_pairs (b);
-- Pairs by a reason's code (`reasons @> '[{"code": "phone.same"}]'`).
create index duplicate_pairs_reasons_idx on duplicate_pairs using gin (reasons jsonb_path_ops);
