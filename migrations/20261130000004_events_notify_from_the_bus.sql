-- Projectors are woken by the command bus after its appends commit (one coalesced
-- `pg_notify('caseyos_events', '')` at a time, off the command's path), no longer by a
-- trigger inside every appending transaction: a transaction that notifies holds
-- PostgreSQL's notify lock from before its commit record is flushed until it ends, so every
-- command's commit waited for the previous one's fsync and group commit never happened.
-- Writers other than the bus are picked up by the projectors' poll, or can notify
-- themselves.
drop trigger events_notify on events;
drop function events_notify();
