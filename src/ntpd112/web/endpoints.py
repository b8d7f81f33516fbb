"""Routes declared once: the declaration drives both the request's validation and the OpenAPI document.

A route module makes a `RouteTable` and decorates its handlers:

    @routes.get("/api/calls/{call_id}", role="operator", summary="One call with its timeline")
    async def get_call(request: web.Request, path: CallPath) -> CallDetail: ...

The handler's signature is the declaration: parameters named `path`, `query`, `body` and `form` are pydantic models
that the wrapper validates from the request before the handler runs; `identity` receives the caller's identity;
the return annotation is the response body (None: 204 without a body). The least role (or `public`, `signed` or
`signed_in`) is checked before anything is read, then the route's `precheck` if it has one. Every input guard
that must hold for every route lives here, so no route can forget one: a NUL byte anywhere, JSON nested too
deeply, a body that arrives too slowly.
"""

from __future__ import annotations

import asyncio
import inspect
import re
import urllib.parse
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from aiohttp import web
from pydantic import BaseModel, TypeAdapter, ValidationError

from ntpd112.access.roles import Role
from ntpd112.web.common import IDENTITY_KEY, ApiError, require_role

# public: anyone; signed: the body carries its own proof (HMAC), no account; signed_in: any signed-in user, whatever
# their roles (agency users hold no staff role but use their session and tokens); a role: the least role required.
Access = Literal["public", "signed", "signed_in"] | Role
Method = Literal["GET", "POST", "PUT", "DELETE"]
JSON_MEDIA_TYPE = "application/json"
FORM_MEDIA_TYPE = "application/x-www-form-urlencoded"
MULTIPART_MEDIA_TYPE = "multipart/form-data"
_INPUT_NAMES = ("path", "query", "body", "form")
# Deeper JSON than this is no request of ours; json.loads would raise RecursionError at about 1,000 levels (a 500).
MAX_JSON_DEPTH = 32
MAX_FORM_FIELDS = 32
# A JSON string escape that decodes to NUL, not preceded by an escaped backslash. PostgreSQL's text refuses NUL.
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000", re.IGNORECASE)


@dataclass(frozen=True)
class HttpPolicy:
    """How long the service waits for a body, how large one may be, and who sees health details."""

    body_timeout: float = 10.0
    max_body_bytes: int = 256 * 1024
    # Loopback clients (a local Prometheus, the operator on the host) see health details and all metrics.
    loopback_sees_details: bool = True
    # Seconds between the live stream's checks that its session or token still works (web/stream_routes.py).
    stream_liveness_interval: float = 30.0
    # Origins the console may load images from besides its own: the configured map tile server, if any.
    image_origins: tuple[str, ...] = ()


HTTP_POLICY = web.AppKey("http_policy", HttpPolicy)
# Set when the rest of a request cannot be trusted (a body too slow or too large): the response closes the
# connection instead of waiting for, or reading, what is left of the body.
CLOSE_CONNECTION = web.RequestKey("close_connection", bool)
Handler = Callable[..., Awaitable[Any]]


@dataclass(frozen=True)
class Endpoint:
    method: Method
    path: str
    access: Access
    summary: str
    handler: Handler
    status: int
    # The models read from the signature: input name -> model; the response type (None: no body).
    inputs: Mapping[str, type[BaseModel]]
    response: Any
    wants_identity: bool
    # Turns the raw JSON body into the body model when plain validation is not enough (routing tables).
    body_parser: Callable[[bytes], BaseModel] | None = None
    # Refusals worth naming in the document beyond the common ones: status -> error ids.
    refusals: Mapping[int, tuple[str, ...]] = field(default_factory=dict)
    # For a handler that builds its own response: its media type and, for JSON, the model the document shows.
    produces: str = "application/json"
    response_model: Any = None
    # Runs after the access check and before any input is read (sign-in's Origin check must precede the body).
    precheck: Callable[[web.Request], None] | None = None
    # More for the document than the summary says (a websocket's protocol).
    description: str | None = None
    # A file upload the handler streams itself (multipart/form-data): the JSON Schema of its parts, for the document.
    upload_schema: Mapping[str, Any] | None = None

    @property
    def operation_id(self) -> str:
        return self.handler.__name__

    @property
    def media_type(self) -> str | None:
        if "body" in self.inputs:
            return JSON_MEDIA_TYPE
        if self.upload_schema is not None:
            return MULTIPART_MEDIA_TYPE
        return FORM_MEDIA_TYPE if "form" in self.inputs else None


def _declared(handler: Handler) -> tuple[dict[str, type[BaseModel]], Any, bool, bool]:
    signature = inspect.signature(handler, eval_str=True)
    inputs: dict[str, type[BaseModel]] = {}
    wants_identity = False
    for name, parameter in list(signature.parameters.items())[1:]:
        if name == "identity":
            wants_identity = True
        elif name in _INPUT_NAMES and inspect.isclass(model := parameter.annotation) and issubclass(model, BaseModel):
            inputs[name] = model
        else:
            raise TypeError(f"{handler.__name__}: {name!r} is neither identity nor a model named one of {_INPUT_NAMES}")
    response = signature.return_annotation
    builds_own_response = inspect.isclass(response) and issubclass(response, web.StreamResponse)
    return inputs, (None if builds_own_response else response), wants_identity, builds_own_response


class RouteTable:
    """The routes of one module, in declaration order."""

    def __init__(self) -> None:
        self.endpoints: list[Endpoint] = []

    def route(
        self,
        method: Method,
        path: str,
        *,
        access: Access,
        summary: str,
        status: int | None = None,
        body_parser: Callable[[bytes], BaseModel] | None = None,
        refusals: Mapping[int, tuple[str, ...]] | None = None,
        produces: str = JSON_MEDIA_TYPE,
        response_model: Any = None,
        precheck: Callable[[web.Request], None] | None = None,
        description: str | None = None,
        upload_schema: Mapping[str, Any] | None = None,
    ) -> Callable[[Handler], Handler]:
        def declare(handler: Handler) -> Handler:
            inputs, response, wants_identity, builds_own_response = _declared(handler)
            self.endpoints.append(
                Endpoint(
                    method=method,
                    path=path,
                    access=access,
                    summary=summary,
                    handler=handler,
                    status=status or (200 if response is not None or builds_own_response else 204),
                    inputs=inputs,
                    response=response,
                    wants_identity=wants_identity,
                    body_parser=body_parser,
                    refusals=refusals or {},
                    produces=produces,
                    response_model=response_model,
                    precheck=precheck,
                    description=description,
                    upload_schema=upload_schema,
                )
            )
            return handler

        return declare

    def get(self, path: str, **options: Any) -> Callable[[Handler], Handler]:
        return self.route("GET", path, **options)

    def post(self, path: str, **options: Any) -> Callable[[Handler], Handler]:
        return self.route("POST", path, **options)

    def put(self, path: str, **options: Any) -> Callable[[Handler], Handler]:
        return self.route("PUT", path, **options)

    def delete(self, path: str, **options: Any) -> Callable[[Handler], Handler]:
        return self.route("DELETE", path, **options)


ENDPOINTS = web.AppKey("endpoints", list[Endpoint])


def add_routes(app: web.Application, *tables: RouteTable) -> None:
    """Register every endpoint of `tables` with the router and remember them for the OpenAPI document."""
    endpoints = app.setdefault(ENDPOINTS, [])
    for table in tables:
        for endpoint in table.endpoints:
            app.router.add_route(endpoint.method, endpoint.path, _serve(endpoint))
            endpoints.append(endpoint)


# -- the wrapper -------------------------------------------------------------------------------------------


def _json_depth_exceeds(raw: bytes, limit: int) -> bool:
    depth, in_string, escaped = 0, False, False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > limit:
                return True
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return False


def check_json_body(raw: bytes) -> None:
    """Refusals every JSON body gets before any parser sees it."""
    if _json_depth_exceeds(raw, MAX_JSON_DEPTH):
        raise ApiError(400, "json_too_deep", f"the JSON body is nested deeper than {MAX_JSON_DEPTH} levels")
    if _JSON_NUL.search(raw):
        raise ApiError(400, "nul_character", "a string in the body contains a NUL character")


def reject_nul(values: Mapping[str, str], where: str) -> None:
    for name, value in values.items():
        if "\x00" in name or "\x00" in value:
            raise ApiError(400, "nul_character", f"a {where} parameter contains a NUL character")


def _single_values(pairs: list[tuple[str, str]], where: str) -> dict[str, str]:
    """A repeated name is refused: which of two values would count is anyone's guess (and for HMAC, an attack)."""
    values = dict(pairs)
    if len(values) != len(pairs):
        raise ApiError(400, "repeated_parameter", f"a {where} parameter is repeated")
    reject_nul(values, where)
    return values


async def read_body(request: web.Request) -> bytes:
    limits = request.app[HTTP_POLICY]
    too_large = ApiError(413, "payload_too_large", f"a request body is at most {limits.max_body_bytes} bytes")
    if (request.content_length or 0) > limits.max_body_bytes:
        request[CLOSE_CONNECTION] = True
        raise too_large
    try:
        async with asyncio.timeout(limits.body_timeout):
            return await request.read()
    except TimeoutError:
        request[CLOSE_CONNECTION] = True
        raise ApiError(408, "request_timeout", f"the body did not arrive within {limits.body_timeout:g} s") from None
    except web.HTTPRequestEntityTooLarge:  # a chunked body that grew past the limit
        request[CLOSE_CONNECTION] = True
        raise too_large from None


def require_media_type(request: web.Request, media_type: str) -> None:
    if request.content_type != media_type and (request.content_length or request.body_exists):
        raise ApiError(415, "unsupported_media_type", f"send {media_type}")


async def read_form(request: web.Request) -> dict[str, str]:
    require_media_type(request, FORM_MEDIA_TYPE)
    raw = await read_body(request)
    try:
        pairs = urllib.parse.parse_qsl(
            raw.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(raw), max_num_fields=MAX_FORM_FIELDS
        )
    except (UnicodeDecodeError, ValueError):
        raise ApiError(400, "invalid_form", "the body is not a UTF-8 form") from None
    return _single_values(pairs, "form")


async def _parse_input(request: web.Request, endpoint: Endpoint, name: str, model: type[BaseModel]) -> BaseModel:
    if name == "path":
        values = dict(request.match_info)
        reject_nul(values, "path")
        try:
            return model.model_validate(values)
        except ValidationError as error:
            # One stable id per path parameter (invalid_call_id, invalid_username, ...): clients branch on it.
            field_name = next((str(e["loc"][0]) for e in error.errors() if e["loc"]), "path")
            raise ApiError(400, f"invalid_{field_name}", f"the {field_name} in the path is not valid") from None
    if name == "query":
        return model.model_validate(_single_values(list(request.query.items()), "query"))
    if name == "form":
        return model.model_validate(await read_form(request))
    require_media_type(request, JSON_MEDIA_TYPE)
    raw = await read_body(request) or b"{}"
    check_json_body(raw)
    if endpoint.body_parser is not None:
        return endpoint.body_parser(raw)
    return model.model_validate_json(raw)


def _respond(endpoint: Endpoint, result: Any) -> web.StreamResponse:
    if isinstance(result, web.StreamResponse):
        return result
    if endpoint.response is None:
        return web.Response(status=endpoint.status)
    body = _adapter(endpoint.response).dump_json(result)
    return web.Response(body=body, status=endpoint.status, content_type=JSON_MEDIA_TYPE)


_ADAPTERS: dict[Any, TypeAdapter[Any]] = {}


def _adapter(annotation: Any) -> TypeAdapter[Any]:
    if annotation not in _ADAPTERS:
        _ADAPTERS[annotation] = TypeAdapter(annotation)
    return _ADAPTERS[annotation]


def _serve(endpoint: Endpoint) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def serve(request: web.Request) -> web.StreamResponse:
        arguments: dict[str, Any] = {}
        if needs_identity(endpoint.access):
            role = role_of(endpoint.access)
            # The auth middleware has identified every request to a route that is neither public nor signed.
            identity = require_role(request, role) if role is not None else request[IDENTITY_KEY]
            if endpoint.wants_identity:
                arguments["identity"] = identity
        if endpoint.precheck is not None:
            endpoint.precheck(request)
        if "query" not in endpoint.inputs and request.query_string:
            raise ApiError(400, "unexpected_query", "this route takes no query parameters")
        for name, model in endpoint.inputs.items():
            arguments[name] = await _parse_input(request, endpoint, name, model)
        return _respond(endpoint, await endpoint.handler(request, **arguments))

    serve.__name__ = endpoint.operation_id
    return serve


def role_of(access: Access) -> Role | None:
    return access if access in get_args(Role) else None  # type: ignore[return-value]


def needs_identity(access: Access) -> bool:
    """A signed-in user is required: a role, or any user (`signed_in`)."""
    return access == "signed_in" or role_of(access) is not None
