"""Every name the service and the shipped Asterisk configuration must agree on: dialplan contexts and extensions,
the queue, the music-on-hold class and the Stasis argument of dispatch. dialplan/extensions_ntpd112.conf spells the
same names; change both together."""

from __future__ import annotations

from ntpd112.intake.call_location import GEOLOC_FIELDS, GEOLOCATION_HEADER, PANI_HEADER

# Dialplan contexts (dialplan/extensions_ntpd112.conf).
EMERGENCY_CONTEXT = "ntpd112-emergency"  # where trunks deliver 112 calls
FAILSAFE_CONTEXT = "ntpd112-failsafe"  # the path a call takes when the service is down or hung
QUEUE_CONTEXT = "ntpd112-queue"  # the service continues a call here once intake is done
OPERATOR_CONTEXT = "ntpd112-operator"  # operator phones: they may dial nothing but what the room allows
CALLBACK_CONTEXT = "ntpd112-callback"  # callbacks: ring the operator, then the caller
DISPATCH_CONTEXT = "ntpd112-dispatch"  # where dispatch parks channels it hands back to the dialplan
PULL_CONTEXT = "ntpd112-pull"  # a supervisor pulls a waiting caller to one phone, back to the queue on no answer
TICKET_CALL_CONTEXT = "ntpd112-ticket-call"  # a ticket's phone notification: the message, then one key
TICKET_CALL_DIAL_EXTENSION = "dial"  # the Local channel's half that rings the duty number
TICKET_CALL_MESSAGE_EXTENSION = "message"  # the half that plays the message once the desk answers
# The UserEvent that context sends once the desk has heard the message (or hung up), and its fields.
TICKET_CALL_EVENT = "Ntpd112TicketCall"
DESK_CONTEXT = "ntpd112-refuse-all"  # agency desk phones: they are rung, they dial nothing
ROUTES_CONTEXT = "ntpd112-routes"  # the rendered fail-safe routes include
SPY_CONTEXT = "ntpd112-spy"  # a supervisor's phone, once answered, listens to an operator's call (ChanSpy)

# A context's entry extension: every ntpd112 context starts at `s`.
ENTRY_EXTENSION = "s"

# app_queue's channel variable for a caller's priority; Queue() reads it only when it starts.
QUEUE_PRIORITY_VARIABLE = "QUEUE_PRIO"


def queue_entry_with_priority(priority: int) -> str:
    """QUEUE_CONTEXT's extension `p<priority>`: it sets QUEUE_PRIORITY_VARIABLE and goes on at the entry, so intake's
    `continue` carries the priority and the caller waits one ARI round trip less."""
    return f"p{priority}"


# Set on the supervisor's channel (Originate, then Setvar before a Redirect that changes the mode): the operator's
# channel ChanSpy joins, and listen, whisper or barge (SPY_CONTEXT maps the mode to ChanSpy's options).
SPY_TARGET_VARIABLE = "NTPD112_SPY_TARGET"
SPY_MODE_VARIABLE = "NTPD112_SPY_MODE"
# When the listen began in its current mode (Unix seconds): set by the Originate while the phone rings, and by
# SPY_CONTEXT each time ChanSpy (re)starts, so a restarted service still knows it.
SPY_SINCE_VARIABLE = "NTPD112_SPY_SINCE"

# Contexts a 112 call passes through (for recognising emergency calls in CDRs).
EMERGENCY_CONTEXTS = (EMERGENCY_CONTEXT, FAILSAFE_CONTEXT, QUEUE_CONTEXT)

QUEUE_NAME = "ntpd112-operators"
HOLD_MUSIC_CLASS = "ntpd112-hold"

# First Stasis argument of every channel dispatch owns; the call handler leaves those channels alone.
DISPATCH_STASIS_ARG = "dispatch"

# DISPATCH_CONTEXT has one extension per role; each enters Stasis as Stasis(<app>,dispatch,<role>,<caller uniqueid>).
# Agency legs get the agency role from the service's originate (no extension).
DISPATCH_CALLER_ROLE = "caller"
DISPATCH_OPERATOR_ROLE = "operator"
DISPATCH_AGENCY_ROLE = "agency"
# Set on the operator's channel before the redirect: its extension reads the caller's uniqueid from it.
DISPATCH_CALLER_VARIABLE = "NTPD112_DISPATCH"

# Set on a waiting caller's channel before a supervisor's pull redirects it into PULL_CONTEXT: the phone to ring
# (an operator's endpoint) and the caller's place in the queue to return to if nobody answers.
PULL_TO_VARIABLE = "NTPD112_PULL_TO"
PULL_PRIORITY_VARIABLE = "NTPD112_PULL_PRIO"
PULL_POSITION_VARIABLE = "NTPD112_PULL_POSITION"
# The dialplan's UserEvents of a pull (queue/pull_events.py).
PULL_ANSWERED_EVENT = "Ntpd112PullAnswered"
PULL_RETURNED_EVENT = "Ntpd112PullReturned"
PULL_ENDED_EVENT = "Ntpd112PullEnded"

# The AMI events the service subscribes to (queue/events.py, queue/callbacks.py, queue/presence.py): the AMI user's
# eventfilter lets only these through (pbx/asterisk_config.py), and AmiClient.on() refuses any other name, which
# would never arrive.
AMI_EVENTS = (
    "QueueCallerJoin",
    "QueueCallerLeave",
    "QueueCallerAbandon",
    "AgentCalled",
    "AgentRingNoAnswer",
    "AgentConnect",
    "AgentComplete",
    "UserEvent",
    "OriginateResponse",
    # Operators' presence for the console's live stream (queue/presence.py).
    "QueueMemberAdded",
    "QueueMemberRemoved",
    "QueueMemberPause",
    "QueueMemberStatus",
    "ContactStatus",
    "DeviceStateChange",
    "PeerStatus",
    # A supervisor's phone starts or stops listening to an operator (queue/spy.py).
    "ChanSpyStart",
    "ChanSpyStop",
)

# What intake reads from a 112 call's channel, copied by the dialplan into channel variables before Stasis()
# (ntpd112-emergency) and listed in ari.conf's `channelvars`, so that StasisStart carries them: no ARI round trip
# per value while a surge is on. SIP header -> variable, GEOLOC_PROFILE field -> variable.
INTAKE_HEADER_VARIABLES = {
    "P-Asserted-Identity": "NTPD112_SIP_PAI",
    "From": "NTPD112_SIP_FROM",
    "Privacy": "NTPD112_SIP_PRIVACY",
    PANI_HEADER: "NTPD112_SIP_PANI",
    GEOLOCATION_HEADER: "NTPD112_SIP_GEOLOCATION",
}
INTAKE_GEOLOC_VARIABLES = {field: f"NTPD112_GEOLOC_{field.upper()}" for field in GEOLOC_FIELDS}
# LEN(PJSIP_HEADERS()): 0 when a header of the INVITE is too long for Asterisk's function buffer (see
# calls/channel_readings.py). Always a number once the dialplan has run, so it also tells that the values are there.
INTAKE_HEADERS_LENGTH_VARIABLE = "NTPD112_SIP_HEADERS_LENGTH"
INTAKE_CHANNEL_VARIABLES = (
    *INTAKE_HEADER_VARIABLES.values(),
    *INTAKE_GEOLOC_VARIABLES.values(),
    INTAKE_HEADERS_LENGTH_VARIABLE,
)
