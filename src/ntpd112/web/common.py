"""What every route module of the HTTP API shares: the dependencies, errors, authentication and role checks.

Every error leaves as JSON `{"error": {"id": ..., "message": ..., "details": ...}}` with a stable id; nothing
renders a stack trace. Refusals take one path: a route raises (or lets through) a `RefusedError` or a domain error
that `_refusal_of` knows, and the errors middleware renders it. Every /api/ route but the public ones (the OpenAPI
document and its page), the signed AML posts and signing in needs a signed-in identity (web/auth.py: a session
cookie or a personal token); routes name the least role, and an operator acts only on themself.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, SecretStr, ValidationError

from ntpd112.access.attempts import AttemptLimiter
from ntpd112.access.passwords import hash_password, verify_password
from ntpd112.access.roles import Role, has_role
from ntpd112.dispatch.actor import DispatchService
from ntpd112.dispatch.desks import DeskService
from ntpd112.dispatch.eido import EidoService
from ntpd112.dispatch.incidents import IncidentService, UnknownCategory
from ntpd112.dispatch.routing_service import RoutingService, RoutingUnavailable
from ntpd112.dispatch.tickets import TicketService
from ntpd112.errors import RefusedError
from ntpd112.live import Hub
from ntpd112.logs import get_logger, traceback_without_values
from ntpd112.metrics import Metrics
from ntpd112.publish.report_files import ReportFiles
from ntpd112.queue.callbacks import CallbackService
from ntpd112.queue.controls import QueueControls
from ntpd112.queue.operators import OperatorService
from ntpd112.queue.spy import SpyService
from ntpd112.queue.wallboard import WallboardService
from ntpd112.room.config import ReportSettings
from ntpd112.routing.contacts_csv import ContactsCsvError
from ntpd112.routing.tables import RoutingTable, RoutingTableError
from ntpd112.store.aml import AmlRepository
from ntpd112.store.area_map import AreaMap
from ntpd112.store.attachments import TicketPhotos
from ntpd112.store.audit import AuditTrail
from ntpd112.store.incidents import CallNotFound
from ntpd112.store.phone_calls import PhoneCalls
from ntpd112.store.pins import Pins
from ntpd112.store.recordings import Recordings
from ntpd112.store.repo import Repository
from ntpd112.store.reports import ReportRepository
from ntpd112.store.routing_versions import NoRoutingTable, UnknownVersion
from ntpd112.store.sessions import Holder, Sessions
from ntpd112.store.tokens import Tokens
from ntpd112.store.users import Users
from ntpd112.store.webhooks import WebhookDeliveries, WebhookSecrets
from ntpd112.web.map_tiles import MapTiles

log = get_logger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
HealthCheck = Callable[[], Awaitable[dict[str, dict[str, Any]]]]


class ApiError(RefusedError):
    """Refused by the HTTP layer itself (authentication, roles, malformed parameters)."""


# Failed sign-ins: per username 5 within 15 minutes, per source address 20 within 15 minutes; wrong bearer tokens:
# 20 a minute per source address. In memory (access/attempts.py): right for one service process.
LOGIN_FAILURES_PER_USER = (5, 15 * 60.0)
LOGIN_FAILURES_PER_ADDRESS = (20, 15 * 60.0)
BAD_TOKENS_PER_ADDRESS = (20, 60.0)


class PasswordWork:
    """Password checks and hashes off the event loop, one at a time: a burst of sign-in attempts takes at most one core
    (~50 ms each), and the other stays with the calls. The lock binds to the first event loop that waits on it: one
    service, one loop."""

    def __init__(self) -> None:
        self._one_at_a_time = asyncio.Lock()

    async def verify(self, password_hash: str | None, password: str) -> bool:
        async with self._one_at_a_time:
            return await asyncio.to_thread(verify_password, password_hash, password)

    async def hash(self, password: str) -> str:
        async with self._one_at_a_time:
            return await asyncio.to_thread(hash_password, password)


@dataclass(frozen=True)
class AttemptLimits:
    login_per_user: AttemptLimiter = field(default_factory=lambda: AttemptLimiter(*LOGIN_FAILURES_PER_USER))
    login_per_address: AttemptLimiter = field(default_factory=lambda: AttemptLimiter(*LOGIN_FAILURES_PER_ADDRESS))
    tokens_per_address: AttemptLimiter = field(default_factory=lambda: AttemptLimiter(*BAD_TOKENS_PER_ADDRESS))


@dataclass(frozen=True)
class Accounts:
    """People's access: users, browser sessions, personal tokens, the audit trail and the attempt limits."""

    users: Users
    sessions: Sessions
    tokens: Tokens
    audit: AuditTrail
    # The origin state-changing cookie requests must carry (None: the request's own scheme://Host).
    public_origin: str | None = None
    limits: AttemptLimits = field(default_factory=AttemptLimits)
    passwords: PasswordWork = field(default_factory=PasswordWork)


@dataclass(frozen=True)
class Identity(Holder):
    """Who is asking: a user (the Holder's fields), signed in with a browser session or a personal token (which acts
    with the user's roles)."""

    via: Literal["session", "token"]
    credential_id: uuid.UUID  # the session's or the token's id
    expires_at: datetime

    def has_role(self, role: Role) -> bool:
        return has_role(self.roles, role)


@dataclass(frozen=True)
class WebDeps:
    repository: Repository
    metrics: Metrics
    health: HealthCheck
    routing: RoutingService
    incidents: IncidentService
    operators: OperatorService
    callbacks: CallbackService
    dispatch: DispatchService
    desks: DeskService
    tickets: TicketService
    accounts: Accounts
    hub: Hub
    pins: Pins
    areas: AreaMap
    reports: ReportRepository
    report_settings: ReportSettings
    report_files: ReportFiles
    recordings: Recordings
    wallboard: WallboardService
    photos: TicketPhotos
    spy: SpyService
    queue_controls: QueueControls
    # The console map's optional tiles (web/map_routes.py); default none.
    map_tiles: MapTiles = field(default_factory=MapTiles)
    # None: the AML endpoints answer 503 aml_disabled.
    aml: AmlRepository | None = None
    aml_hmac_secret: SecretStr | None = None
    # None (both): the service sends no webhooks; their routes answer 503 webhooks_disabled.
    webhook_secrets: WebhookSecrets | None = None
    webhook_deliveries: WebhookDeliveries | None = None
    # None: the EIDO routes answer 503 eido_disabled (web/eido_routes.py).
    eido: EidoService | None = None
    phone_calls: PhoneCalls | None = None


DEPS = web.AppKey("deps", WebDeps)
IDENTITY_KEY = web.RequestKey("identity", Identity)
PUBLIC_PATHS = frozenset(
    {"/health", "/metrics", "/api/openapi.json", "/api/docs", "/api/docs/docs.js", "/api/docs/docs.css"}
)
# AML senders (handsets, the SMS gateway) hold no token: these routes check an HMAC themselves (aml_routes.py).
SIGNED_PATHS = frozenset({"/api/aml", "/api/aml/sms"})
_HTTP_ERROR_IDS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    408: "request_timeout",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


def error_response(status: int, error_id: str, message: str, details: Any = None) -> web.Response:
    body: dict[str, Any] = {"id": error_id, "message": message}
    if details is not None:
        body["details"] = details
    return web.json_response({"error": body}, status=status)


def json_response(payload: BaseModel | Sequence[BaseModel] | dict[str, Any], status: int = 200) -> web.Response:
    if isinstance(payload, BaseModel):
        data: Any = payload.model_dump(mode="json")
    elif isinstance(payload, list):
        data = [item.model_dump(mode="json") for item in payload]
    else:
        data = payload
    return web.json_response(data, status=status)


def _refusal_of(error: Exception) -> RefusedError | None:
    """The refusal an error stands for: itself when it is one, else the refusal of a domain error from the layers
    below (which know nothing of HTTP); None when the error is no refusal at all."""
    match error:
        case RefusedError():
            return error
        case RoutingTableError():
            details = [
                {
                    "section": issue.section,
                    "item": issue.item,
                    "rule": issue.rule,
                    "field": issue.field,
                    "message": issue.message,
                    "text": str(issue),
                }
                for issue in error.issues
            ]
            return RefusedError(422, "invalid_routing_table", "the routing table is refused; nothing changed", details)
        case ContactsCsvError():
            rows: list[dict[str, Any]] = [
                {"row": i.row, "column": i.column, "message": i.message, "text": str(i)} for i in error.issues[:200]
            ]
            return RefusedError(422, "invalid_contacts_csv", "the contacts file is refused; nothing changed", rows)
        case UnknownVersion():
            return RefusedError(404, "routing_version_not_found", str(error), {"version": error.version})
        case RoutingUnavailable() | NoRoutingTable():
            return RefusedError(503, "routing_unavailable", str(error))
        case CallNotFound():
            return RefusedError(404, "call_not_found", "no call with this id", {"id": str(error.call_id)})
        case UnknownCategory():
            return RefusedError(422, "unknown_category", str(error), {"category": error.category, "known": error.known})
    return None


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ValidationError as error:
        details = [{"field": ".".join(str(p) for p in e["loc"]), "problem": e["msg"]} for e in error.errors()]
        return error_response(400, "invalid_request", "the request is not valid", details)
    except web.HTTPException as error:
        if error.status < 400:
            raise
        return error_response(error.status, _HTTP_ERROR_IDS.get(error.status, "http_error"), error.reason)
    except Exception as error:
        refused = _refusal_of(error)
        if refused is not None:
            return error_response(refused.status, refused.error_id, refused.message, refused.details)
        # No exception text: database errors carry the statement's parameters (caller numbers, AML text).
        log.error(  # noqa: TRY400 - log.exception would print the exception's text
            "unhandled error in api",
            path=request.path,
            method=request.method,
            error_type=type(error).__name__,
            traceback=traceback_without_values(error),
        )
        return error_response(500, "internal_error", "internal error; it has been logged")


def require_role(request: web.Request, role: Role) -> Identity:
    identity: Identity = request[IDENTITY_KEY]
    if not identity.has_role(role):
        raise ApiError(403, "forbidden", f"this needs the {role} role", {"roles": list(identity.roles)})
    return identity


def require_self_or_supervisor(request: web.Request, username: str) -> Identity:
    """An operator acts only on themself; supervisors and admins act on others too."""
    identity = require_role(request, "operator")
    if username != identity.username and not identity.has_role("supervisor"):
        raise ApiError(
            403, "not_yourself", "an operator acts only on themself; a supervisor may act on others", {"user": username}
        )
    return identity


def table_in_force(request: web.Request) -> RoutingTable | None:
    """The routing table in force for naming categories and agencies; None before the first one (the default
    categories still name every incident)."""
    try:
        return request.app[DEPS].routing.current.table
    except RoutingUnavailable:
        return None


async def require_call_of(
    request: web.Request, identity: Identity, call_id: uuid.UUID, *, unanswered_too: bool
) -> None:
    """An operator works only on the calls they answered (with `unanswered_too`, also on calls no operator answered,
    such as an abandoned call they call back); supervisors and admins on any call."""
    if identity.has_role("supervisor"):
        return
    handler = await request.app[DEPS].repository.call_operator(call_id)
    if handler == identity.username or (handler is None and unanswered_too):
        return
    raise ApiError(403, "not_your_call", "an operator works only on the calls they answered", {"operator": handler})
