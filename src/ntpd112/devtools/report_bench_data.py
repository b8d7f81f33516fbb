"""The report benchmark's generated data (devtools/report_bench.py), made inside PostgreSQL with a fixed seed.

Proportions of a 112 room (ARCHITECTURE.md: most calls prank or silent): of the answered calls 38 % prank, 32 %
silent, 13 % information, complaints and wrong numbers, 17 % emergencies dispatched by phone to an agency (so about
14 % of all calls). A dispatch rings the agency's first number, then its second (15 % of dispatches), and fails
in 3 % (the incident stays failed). Every dispatched incident has a ticket for its agency and some a second one
(traffic accidents for PSC 119 as well, fires for BPBD, a few medical calls for the RSUD): about 1.3 tickets per
dispatched incident. Tickets miss their limits now and then (12 % acknowledge, 5 % resolve, some at a second
level); 1 % stay open for days, and those of the last 6 hours before the wallboard's moment are still in work. The
calls of the 15 minutes before that moment are still live. 20 operators on 8-hour shifts with two pauses a shift.
"""

from __future__ import annotations

from datetime import datetime

# Categories of the answered calls: [lo, hi) of a uniform draw; the agency a dispatch rings (first, second number),
# and a second agency that gets a ticket too, for that share of the incidents.
_KINDS = """
CREATE TEMPORARY TABLE bench_kinds AS
SELECT * FROM (VALUES
    ('prank', 0.00, 0.38, NULL, NULL, NULL, NULL, 0.0),
    ('silent', 0.38, 0.70, NULL, NULL, NULL, NULL, 0.0),
    ('wrong_number', 0.70, 0.73, NULL, NULL, NULL, NULL, 0.0),
    ('information', 0.73, 0.78, NULL, NULL, NULL, NULL, 0.0),
    ('non_emergency', 0.78, 0.81, NULL, NULL, NULL, NULL, 0.0),
    ('road', 0.81, 0.83, NULL, NULL, NULL, NULL, 0.0),
    ('medical', 0.83, 0.90, 'psc119', 'psc119-desk', 'psc119-119', 'rsud', 0.10),
    ('traffic_accident', 0.90, 0.94, 'polres', 'polres-desk', 'polres-110', 'psc119', 0.70),
    ('fire', 0.94, 0.97, 'damkar', 'damkar-desk', 'damkar-113', 'bpbd', 0.30),
    ('crime', 0.97, 1.01, 'polres', 'polres-desk', 'polres-110', NULL, 0.0)
) AS k(category, lo, hi, agency, first_target, second_target, second_agency, second_share)
"""

# The calls of the quarter hour before the wallboard's moment are still going on.
_LIVE = """
UPDATE calls SET ended_at = NULL
WHERE uniqueid LIKE 'bench-%' AND offered_at >= CAST(:now AS timestamptz) - interval '15 minutes'
  AND offered_at < CAST(:now AS timestamptz)
"""

_INCIDENTS = """
INSERT INTO incidents (id, call_id, category, status, created_by, updated_by, created_at, updated_at)
SELECT md5('bench-incident-' || c.uniqueid)::uuid, c.id, k.category,
       CASE WHEN k.agency IS NULL THEN 'closed' WHEN c.u < 0.03 THEN 'failed'
            WHEN c.ended_at IS NULL THEN 'dispatched' ELSE 'ticket' END,
       c.operator, c.operator, c.operator_answered_at, c.operator_answered_at
FROM (
    SELECT id, uniqueid, operator, operator_answered_at, ended_at, random() AS r, random() AS u
    FROM calls WHERE uniqueid LIKE 'bench-%' AND operator_answered_at IS NOT NULL
) AS c
JOIN bench_kinds k ON c.r >= k.lo AND c.r < k.hi
"""

# A dispatched caller stays on the line until the dispatch is over (it takes up to 100 s after the answer).
_DISPATCHED_CALLS_LAST = """
UPDATE calls c SET ended_at = greatest(c.ended_at, c.operator_answered_at + interval '150 seconds')
FROM incidents i JOIN bench_kinds k ON k.category = i.category
WHERE i.call_id = c.id AND k.agency IS NOT NULL AND c.ended_at IS NOT NULL AND c.uniqueid LIKE 'bench-%'
"""

_EVENTS = """
INSERT INTO call_events (id, call_id, at, type, data)
SELECT gen_random_uuid(), c.id, e.at, e.type, e.data
FROM (
    SELECT c.id, c.offered_at, c.operator, c.operator_answered_at, c.abandoned_at, c.ended_at, i.status,
           k.agency, k.first_target, k.second_target, random() AS v, c.operator_answered_at AS t0
    FROM calls c
    LEFT JOIN incidents i ON i.call_id = c.id
    LEFT JOIN bench_kinds k ON k.category = i.category AND k.agency IS NOT NULL
    WHERE c.uniqueid LIKE 'bench-%'
) AS c
CROSS JOIN LATERAL (VALUES
    (c.offered_at, 'offered', '{}'::jsonb),
    (c.offered_at + interval '1 second', 'queued', '{}'::jsonb),
    (c.operator_answered_at, 'operator_answered', jsonb_build_object('operator', c.operator)),
    (c.abandoned_at, 'abandoned', '{}'::jsonb),
    (CASE WHEN c.agency IS NOT NULL THEN c.t0 + interval '35 seconds' END, 'dispatch_requested',
     jsonb_build_object('mode', 'blind', 'by', c.operator, 'decision', 'rule', 'rule', c.agency,
                        'chain', jsonb_build_array(c.first_target, c.second_target))),
    (CASE WHEN c.agency IS NOT NULL THEN c.t0 + interval '40 seconds' END, 'dispatch_attempt',
     jsonb_build_object('agency', c.agency, 'attempt', 1, 'target', c.first_target)),
    (CASE WHEN c.agency IS NOT NULL AND c.status <> 'failed' AND c.v < 0.85 THEN c.t0 + interval '52 seconds' END,
     'agency_answered', jsonb_build_object('agency', c.agency, 'attempt', 1, 'target', c.first_target)),
    (CASE WHEN c.agency IS NOT NULL AND (c.status = 'failed' OR c.v >= 0.85) THEN c.t0 + interval '70 seconds' END,
     'dispatch_attempt', jsonb_build_object('agency', c.agency, 'attempt', 2, 'target', c.second_target)),
    (CASE WHEN c.agency IS NOT NULL AND c.status <> 'failed' AND c.v >= 0.85 THEN c.t0 + interval '82 seconds' END,
     'agency_answered', jsonb_build_object('agency', c.agency, 'attempt', 2, 'target', c.second_target)),
    (CASE WHEN c.status = 'failed' THEN c.t0 + interval '100 seconds' END, 'dispatch_failed', '{}'::jsonb),
    (CASE WHEN c.agency IS NOT NULL THEN c.ended_at END, 'dispatch_ended', '{}'::jsonb),
    (c.ended_at, 'ended', '{}'::jsonb)
) AS e(at, type, data)
WHERE e.at IS NOT NULL
"""

_TICKETS = """
INSERT INTO tickets (id, number, incident_id, call_id, agency, category, status, created_by, created_at, updated_at)
SELECT md5('bench-ticket-' || t.incident_id || t.agency)::uuid,
       '112-B-' || lpad((row_number() OVER (ORDER BY t.created_at, t.agency))::text, 9, '0'),
       t.incident_id, t.call_id, t.agency, t.category,
       CASE WHEN t.created_at >= CAST(:now AS timestamptz) - interval '6 hours'
                 AND t.created_at < CAST(:now AS timestamptz)
                 THEN (ARRAY['new', 'sent', 'acknowledged', 'en_route', 'on_scene', 'resolved'])
                      [1 + floor(t.w * 6)::int]
            WHEN t.w < 0.01 AND t.created_at < CAST(:now AS timestamptz)
                 THEN (ARRAY['sent', 'acknowledged', 'en_route', 'on_scene'])[1 + floor(t.w * 400)::int]
            WHEN t.w < 0.03 THEN (ARRAY['cancelled', 'rejected'])[1 + floor(t.w * 100)::int % 2]
            ELSE 'closed' END,
       t.created_by, t.created_at, t.created_at + interval '2 hours'
FROM (
    SELECT i.id AS incident_id, i.call_id, i.category, i.created_by, i.created_at + interval '60 seconds' AS created_at,
           k.agency, random() AS w
    FROM incidents i JOIN bench_kinds k ON k.category = i.category
    WHERE k.agency IS NOT NULL
    UNION ALL
    SELECT i.id, i.call_id, i.category, i.created_by, i.created_at + interval '90 seconds', k.second_agency, random()
    FROM incidents i JOIN bench_kinds k ON k.category = i.category
    WHERE k.second_agency IS NOT NULL AND random() < k.second_share
) AS t
"""

# Level 1 of a limit is the breach the report counts; a ticket still waiting past a limit has its escalation.
_ESCALATIONS = """
INSERT INTO ticket_escalations (ticket_id, deadline, level, due_at, recorded_at)
SELECT t.id, e.deadline, e.level, t.created_at + e.after, t.created_at + e.after + interval '20 seconds'
FROM (SELECT id, status, created_at, random() AS w FROM tickets) AS t
JOIN (VALUES ('acknowledge', 1, interval '15 minutes', 0.12), ('acknowledge', 2, interval '45 minutes', 0.04),
             ('resolve', 1, interval '4 hours', 0.05), ('resolve', 2, interval '4 hours 30 minutes', 0.015)
) AS e(deadline, level, after, share)
  ON t.created_at + e.after < CAST(:now AS timestamptz)
 AND (t.w < e.share
      OR (e.deadline = 'acknowledge' AND t.status IN ('new', 'sent'))
      OR (e.deadline = 'resolve' AND t.status IN ('new', 'sent', 'acknowledged', 'en_route', 'on_scene')))
"""

# Operator i works shift i % 3 (00, 08, 16 room time) every day, with two pauses.
_PRESENCE = """
INSERT INTO operator_presence (operator, at, state, reason)
SELECT 'op' || o, d + make_interval(hours => 8 * (o % 3)) + s.after, s.state, s.reason
FROM generate_series(CAST(:start AS timestamptz), CAST(:end AS timestamptz) - interval '1 day', interval '1 day') AS d,
     generate_series(0, 19) AS o,
     (VALUES (interval '0', 'available', NULL), (interval '2 hours', 'paused', 'istirahat'),
             (interval '2 hours 15 minutes', 'available', NULL), (interval '5 hours', 'paused', 'sholat'),
             (interval '5 hours 20 minutes', 'available', NULL), (interval '8 hours', 'logged_out', NULL)
     ) AS s(after, state, reason)
"""

#: After the calls: (label, statement), in order; parameters `now` (the wallboard's moment), `start`, `end`.
STEPS: list[tuple[str, str]] = [
    ("categories", _KINDS),
    ("live calls", _LIVE),
    ("incidents", _INCIDENTS),
    ("dispatched calls' ends", _DISPATCHED_CALLS_LAST),
    ("timeline events", _EVENTS),
    ("tickets", _TICKETS),
    ("escalations", _ESCALATIONS),
    ("operator presence", _PRESENCE),
]

COUNTS = """
SELECT (SELECT count(*) FROM calls), (SELECT count(*) FROM incidents),
       (SELECT count(*) FROM incidents i JOIN bench_kinds k ON k.category = i.category WHERE k.agency IS NOT NULL),
       (SELECT count(*) FROM call_events), (SELECT count(*) FROM tickets),
       (SELECT count(*) FROM ticket_escalations WHERE level = 1), (SELECT count(*) FROM operator_presence)
"""


def parameters(statement: str, now: datetime, start: datetime, end: datetime) -> dict[str, datetime]:
    """The parameters a step's statement names."""
    given = {"now": now, "start": start, "end": end}
    return {name: value for name, value in given.items() if f":{name}" in statement}
