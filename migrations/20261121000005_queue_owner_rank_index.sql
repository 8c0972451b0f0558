-- Today's Moves for one owner: the owner's open items already in rank order, so the
-- planner never sorts an owner's whole backlog (with or without fresh statistics).
create index queue_items_owner_open_rank_idx
    on queue_items (owner, aps_centi desc, (coalesce(due_by, '9999-12-31 00:00:00+00'::timestamptz)), id)
    where status in ('pending', 'snoozed');
