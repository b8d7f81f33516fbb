"""What the dialplan reports of a supervisor's pull (ntpd112-pull, queue/controls.py), onto the call's record.

A pulled call is answered by Dial(), not by app_queue: no AgentConnect or AgentComplete comes, so the answer (who,
when) and the talk time come from these UserEvents instead, as the same timeline events a queue answer gives
(`operator_answered`, `operator_call_completed`): the console, the wallboard and the reports then count the call
as answered by that operator without knowing about pulls. Each event names the caller's uniqueid (the answer's
UserEvent runs on the phone's channel, whose own Uniqueid is not the call's).
"""

from __future__ import annotations

from ntpd112.clock import utcnow
from ntpd112.pbx.ami import AmiClient
from ntpd112.pbx.names import PULL_ANSWERED_EVENT, PULL_ENDED_EVENT, PULL_RETURNED_EVENT
from ntpd112.queue.events import record_abandoned
from ntpd112.store.journal import Journal


def _seconds(value: str | None) -> float | None:
    try:
        return float(value or "")
    except ValueError:
        return None


class PullEventRecorder:
    def __init__(self, journal: Journal) -> None:
        self._journal = journal

    def attach(self, ami: AmiClient) -> None:
        ami.on("UserEvent", self._user_event)

    async def _user_event(self, event: dict[str, str]) -> None:
        kind = event.get("UserEvent")
        uniqueid = event.get("CallerUniqueid")
        operator = event.get("Operator") or None
        if not uniqueid or kind not in (PULL_ANSWERED_EVENT, PULL_RETURNED_EVENT, PULL_ENDED_EVENT):
            return
        status = event.get("DialStatus") or None
        if kind == PULL_ANSWERED_EVENT:
            call_id = self._journal.record_call(uniqueid, operator=operator, operator_answered_at=utcnow())
            self._journal.record_event(call_id, "operator_answered", {"operator": operator, "pulled": True})
        elif kind == PULL_RETURNED_EVENT:
            # Nobody answered the pulled call: back in the queue at its old priority and place.
            call_id = self._journal.record_call(uniqueid)
            self._journal.record_event(call_id, "pull_returned", {"operator": operator, "dial_status": status})
        elif status == "ANSWER":
            talk = _seconds(event.get("TalkTime"))
            call_id = self._journal.record_call(uniqueid, talk_seconds=talk)
            self._journal.record_event(
                call_id, "operator_call_completed", {"operator": operator, "talk_seconds": talk, "pulled": True}
            )
        elif status == "CANCEL":
            # The caller hung up while the pulled-to phone rang: a caller who left before an answer.
            record_abandoned(self._journal, uniqueid, None, None)
