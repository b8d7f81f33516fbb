"""What every route module of the HTTP API shares: the dependencies, errors, authentication and role checks.

Every error leaves as JSON `{"error": {"id": ..., "message": ..., "details": ...}}` with a stable id; nothing
renders a stack trace. Refusals take one path: a route raises (or lets through) a `RefusedError` or a domain error
that `_refusal_of` knows, and the errors middleware renders it. Every /api/ route but AML's needs a bearer
token; routes name the least role.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from pydantic import SecretStr, ValidationError

from ntpd112.dispatch.actor import DispatchService
from ntpd112.dispatch.desks import DeskService
from ntpd112.dispatch.incidents import IncidentService, UnknownCategory
from ntpd112.dispatch.routing_service import RoutingService, RoutingUnavailable
from ntpd112.errors import RefusedError
from ntpd112.logs import get_logger, traceback_without_values
from ntpd112.metrics import Metrics
from ntpd112.queue.callbacks import CallbackService
from ntpd112.queue.operators import OperatorService
from ntpd112.routing.tables import RoutingTableError
from ntpd112.store.aml import AmlRepository
from ntpd112.store.incidents import CallNotFound
from ntpd112.store.repo import ROLE_RANK, Repository, Role, TokenIdentity
from ntpd112.store.routing_versions import NoRoutingTable, UnknownVersion

log = get_logger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
HealthCheck = Callable[[], Awaitable[dict[str, dict[str, Any]]]]


class ApiError(RefusedError):
    """Refused by the HTTP layer itself (authentication, roles, malformed parameters)."""


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
    # None: the AML endpoints answer 503 aml_disabled.
    aml: AmlRepository | None = None
    aml_hmac_secret: SecretStr | None = None


DEPS = web.AppKey("deps", WebDeps)
IDENTITY_KEY = web.RequestKey("identity", TokenIdentity)
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


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    # Outside /api/ are /health, /metrics and the console's static files: the console signs in through the API.
    if not request.path.startswith("/api/") or request.path in PUBLIC_PATHS or request.path in SIGNED_PATHS:
        return await handler(request)
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "unauthorized", "a bearer token is required")
    identity = await request.app[DEPS].repository.identify_token(token.strip())
    if identity is None:
        raise ApiError(401, "unauthorized", "the token is not valid")
    request[IDENTITY_KEY] = identity
    return await handler(request)


def require_role(request: web.Request, role: Role) -> TokenIdentity:
    identity: TokenIdentity = request[IDENTITY_KEY]
    if ROLE_RANK[identity.role] < ROLE_RANK[role]:
        raise ApiError(403, "forbidden", f"this needs the {role} role", {"role": identity.role})
    return identity
