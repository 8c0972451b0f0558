-- Auto-approval's read models, written only by their projectors.

-- `auto_approval_rules` (projector `auto_approval_rules`); `doc` is the `RuleView`.
create table auto_approval_rules (
    id          uuid        primary key,
    -- replied_before | known_good_recipient | high_icp_score
    kind        text        not null,
    -- Lower runs first.
    priority    integer     not null,
    enabled     boolean     not null,
    -- Deleted rules stay for the decisions that name them.
    archived    boolean     not null,
    doc         jsonb       not null,
    created_at  timestamptz not null,
    updated_at  timestamptz not null
);
create index auto_approval_rules_order_idx on auto_approval_rules (priority, id) where not archived;

-- `auto_approval_decisions` (projector `auto_approval_decisions`), one per move; `doc` is
-- the `DecisionView`.
create table auto_approval_decisions (
    id          uuid        primary key,
    item_id     uuid        not null unique,
    -- approved | needs_review
    outcome     text        not null,
    rule_id     uuid,
    decided_at  timestamptz not null,
    doc         jsonb       not null
);
create index auto_approval_decisions_decided_idx on auto_approval_decisions (decided_at desc, id desc);
