"""REST for the agencies' webhooks (admins): which agencies post their tickets where, and their signing secrets; and
the log of the phone notifications of their tickets.

The webhook's URL is part of the agency in the routing table (published like any table change, so reviewed in its
diff); the secret is set here apart, write-only: no answer ever carries it, the audit trail records the request
without its body, and the log never sees it.
"""

from __future__ import annotations

from typing import Annotated

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from ntpd112.routing.agencies import Slug
from ntpd112.store.phone_calls import PhoneCallView
from ntpd112.store.webhooks import DeliveryView, WebhookDeliveries, WebhookSecrets
from ntpd112.tickets.webhooks import SECRET_PATTERN
from ntpd112.web.common import DEPS, ApiError, Identity
from ntpd112.web.endpoints import RouteTable

routes = RouteTable()
WebhookSecret = Annotated[str, StringConstraints(pattern=SECRET_PATTERN)]


class AgencyPath(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agency: Slug


class SecretRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    secret: WebhookSecret


class DeliveryQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    limit: int = Field(50, ge=1, le=500)


class AgencyWebhookView(BaseModel):
    agency: str
    name: str
    url: str | None  # None: the agency has no webhook in the routing table in force
    include_caller_number: bool
    secret_set: bool  # the secret itself is never shown


def _webhooks(request: web.Request) -> tuple[WebhookSecrets, WebhookDeliveries]:
    deps = request.app[DEPS]
    if deps.webhook_secrets is None or deps.webhook_deliveries is None:
        raise ApiError(503, "webhooks_disabled", "this service sends no webhooks")
    return deps.webhook_secrets, deps.webhook_deliveries


@routes.get(
    "/api/agencies/webhooks",
    access="admin",
    summary="Every agency's webhook: URL, whether the caller's number is sent, whether a secret is set",
    refusals={503: ("webhooks_disabled",)},
)
async def list_webhooks(request: web.Request) -> list[AgencyWebhookView]:
    secrets, _ = _webhooks(request)
    with_secret = await secrets.agencies_with_secret()
    table = request.app[DEPS].routing.current.table
    return [
        AgencyWebhookView(
            agency=agency.id,
            name=agency.name,
            url=str(agency.webhook.url) if agency.webhook else None,
            include_caller_number=agency.webhook.include_caller_number if agency.webhook else False,
            secret_set=agency.id in with_secret,
        )
        for agency in table.agencies
    ]


@routes.put(
    "/api/agencies/{agency}/webhook-secret",
    access="admin",
    summary="Set the secret an agency's webhook deliveries are signed with (write-only)",
    status=204,
    refusals={404: ("agency_not_found",), 503: ("webhooks_disabled",)},
)
async def put_webhook_secret(
    request: web.Request, path: AgencyPath, body: SecretRequest, identity: Identity
) -> web.Response:
    secrets, _ = _webhooks(request)
    if request.app[DEPS].routing.current.table.agency(path.agency) is None:
        raise ApiError(404, "agency_not_found", "not an agency of the routing table in force", {"agency": path.agency})
    await secrets.put(path.agency, body.secret, identity.username)
    return web.Response(status=204)


@routes.delete(
    "/api/agencies/{agency}/webhook-secret",
    access="admin",
    summary="Remove an agency's webhook secret (its deliveries wait, failing, until one is set again)",
    status=204,
    refusals={404: ("webhook_secret_not_found",), 503: ("webhooks_disabled",)},
)
async def delete_webhook_secret(request: web.Request, path: AgencyPath) -> web.Response:
    secrets, _ = _webhooks(request)
    if not await secrets.remove(path.agency):
        raise ApiError(404, "webhook_secret_not_found", "the agency has no webhook secret", {"agency": path.agency})
    return web.Response(status=204)


@routes.get(
    "/api/agencies/{agency}/webhook-deliveries",
    access="admin",
    summary="An agency's webhook deliveries, newest first: state, attempts, the last attempt's answer",
    refusals={503: ("webhooks_disabled",)},
)
async def list_deliveries(request: web.Request, path: AgencyPath, query: DeliveryQuery) -> list[DeliveryView]:
    _, deliveries = _webhooks(request)
    return await deliveries.recent(path.agency, query.limit)


@routes.get(
    "/api/agencies/{agency}/phone-calls",
    access="admin",
    summary="An agency's phone notifications of tickets, newest first: state, attempts, the last attempt's outcome",
    refusals={503: ("phone_calls_disabled",)},
)
async def list_phone_calls(request: web.Request, path: AgencyPath, query: DeliveryQuery) -> list[PhoneCallView]:
    calls = request.app[DEPS].phone_calls
    if calls is None:
        raise ApiError(503, "phone_calls_disabled", "this service keeps no phone notifications")
    return await calls.recent(path.agency, query.limit)
