-- Demo moves (`caseyos demo seed`) carry a mark, so the quick stats can keep their decisions
-- apart from the operator's own. Written by the `queue` projector from `QueueItemView::demo`.
alter table queue_items add column demo boolean not null default false;

-- Moves the demo seeder proposed before the mark was recorded are demo moves too: it is the
-- only proposer acting as `system:demo`, and the projector folds them the same way, so a
-- rebuild yields these rows. Documents gain the view's new fields as a rebuild writes them.
update queue_items
   set demo = (doc -> 'proposed_by' = '{"kind": "system", "id": "demo"}'::jsonb);
update queue_items
   set doc = doc
       || jsonb_build_object('demo', demo)
       || jsonb_build_object('draft', coalesce(doc -> 'draft', 'null'::jsonb));
