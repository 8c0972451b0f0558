-- Operators read only the runs they requested. Their lists, and each agent's last runs on
-- the Agents page, are index range scans over their own runs (the Agents page for everyone
-- uses agent_runs_agent_requested_idx: one scan per agent, `limit 10` each).
create index agent_runs_requester_requested_idx
    on agent_runs (requested_by, requested_at desc, id desc);
create index agent_runs_requester_agent_idx
    on agent_runs (requested_by, agent, requested_at desc, id desc);
