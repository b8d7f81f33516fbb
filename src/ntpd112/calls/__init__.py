"""Calls: the Stasis side of a 112 call (intake: record, read identity and location, answer, continue to the queue)
and reconciliation of what the service missed from Asterisk's CDRs."""
