-- Demo moves (`caseyos demo seed`) carry a mark, so the quick stats can keep their decisions
-- apart from the operator's own. Written by the `queue` projector from `QueueItemView::demo`.
--
-- Moves the demo seeder proposed before the mark was recorded are demo moves too: it is the
-- only proposer acting as `system:demo`, and the projector folds them the same way, so a
-- rebuild yields these rows. Documents gain the view's new fields as the projector writes
-- them. A rebuild's shadow table, if one was interrupted, is brought along so it can resume.
do $$
declare
    t text;
begin
    foreach t in array array['queue_items', 'queue_items__rebuild'] loop
        if to_regclass(t) is not null then
            execute format(
                'alter table %I add column demo boolean not null default false', t);
            execute format(
                'update %I set demo = (doc -> ''proposed_by'' = '
                '''{"kind": "system", "id": "demo"}''::jsonb)', t);
            execute format(
                'update %I set doc = doc || jsonb_build_object(''demo'', demo) '
                '|| jsonb_build_object(''draft'', coalesce(doc -> ''draft'', ''null''::jsonb))', t);
        end if;
    end loop;
end
$$;
