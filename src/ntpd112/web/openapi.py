"""The OpenAPI 3.1 document, built from the routes' declarations (web/endpoints.py), and a page that shows it.

Nothing here lists routes or fields by hand: paths, parameters, bodies and responses come from the pydantic models
that validate them; security from the least role each route declares. The console's TypeScript client is generated
from `/api/openapi.json`. `/api/docs` is a plain page with a script of our own (no CDN, no inline script, so the
service's Content-Security-Policy holds for it too).
"""

from __future__ import annotations

import re
from importlib import resources
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, TypeAdapter
from pydantic.json_schema import JsonSchemaMode

from ntpd112.web.auth import STATE_CHANGING, allowed_before_password_change
from ntpd112.web.endpoints import (
    JSON_MEDIA_TYPE,
    MULTIPART_MEDIA_TYPE,
    Endpoint,
    RouteTable,
    needs_identity,
    role_of,
)

routes = RouteTable()
OPENAPI_VERSION = "3.1.0"
SESSION_COOKIE = "ntpd112_session"
_REF_TEMPLATE = "#/components/schemas/{model}"
_PATH_PARAMETER = re.compile(r"{(\w+)(?::[^}]*)?}")
_STATUS_TEXT = {
    101: "Switching Protocols",
    400: "Refused input",
    401: "No valid credentials",
    403: "Not allowed",
    404: "Not found",
    408: "The body arrived too slowly",
    413: "The body is too large",
    415: "Wrong content type",
    422: "Refused by the domain rules",
    429: "Too many failed attempts (Retry-After)",
    503: "A component is unavailable",
}


class ErrorDetail(BaseModel):
    id: str
    message: str
    details: Any = None


class ErrorBody(BaseModel):
    """Every refusal: a stable id to branch on, a message for people, optional details."""

    error: ErrorDetail


class _Document:
    """Collects component schemas while the paths are written."""

    def __init__(self) -> None:
        self.schemas: dict[str, Any] = {}

    def schema(self, annotation: Any, mode: JsonSchemaMode = "serialization") -> dict[str, Any]:
        """The schema of `annotation`; every model in it goes to the components and is referenced."""
        schema = TypeAdapter(annotation).json_schema(ref_template=_REF_TEMPLATE, mode=mode)
        for name, definition in schema.pop("$defs", {}).items():
            self._component(name, definition)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            self._component(annotation.__name__, schema)
            return {"$ref": _REF_TEMPLATE.format(model=annotation.__name__)}
        return schema

    def _component(self, name: str, definition: dict[str, Any]) -> None:
        if self.schemas.setdefault(name, definition) != definition:
            # Two models of one name would shadow each other in the generated client: name them apart.
            raise ValueError(f"two different schemas are both named {name}")

    def parameters(self, model: type[BaseModel], location: str) -> list[dict[str, Any]]:
        schema = model.model_json_schema(ref_template=_REF_TEMPLATE, mode="validation")
        for name, definition in schema.pop("$defs", {}).items():
            self._component(name, definition)
        required = set(schema.get("required", []))
        return [
            {
                "name": name,
                "in": location,
                "required": location == "path" or name in required,
                "schema": {key: value for key, value in prop.items() if key != "title"},
            }
            for name, prop in schema.get("properties", {}).items()
        ]

    def response(self, status: int, description: str, media_type: str, annotation: Any) -> dict[str, Any]:
        if annotation is None and media_type == JSON_MEDIA_TYPE:
            return {"description": description}
        schema = self.schema(annotation) if annotation is not None else {"type": "string"}
        return {"description": description, "content": {media_type: {"schema": schema}}}


def _security(endpoint: Endpoint) -> list[dict[str, list[str]]]:
    return [{"bearerToken": []}, {"sessionCookie": []}] if needs_identity(endpoint.access) else []


def _refusal_statuses(endpoint: Endpoint) -> dict[int, tuple[str, ...]]:
    statuses: dict[int, tuple[str, ...]] = {}
    if needs_identity(endpoint.access):
        statuses[401] = ("unauthorized",)
        forbidden: tuple[str, ...] = ("forbidden",) if role_of(endpoint.access) else ()
        if endpoint.method in STATE_CHANGING:
            forbidden += ("bad_origin",)  # signed in by the cookie without the service's Origin
        if not allowed_before_password_change(endpoint.method, endpoint.path):
            forbidden += ("password_change_required",)
        if forbidden:
            statuses[403] = forbidden
        statuses[429] = ("too_many_attempts",)  # wrong bearer tokens from this address
    statuses[400] = ("invalid_request", "nul_character", "repeated_parameter") if endpoint.inputs else ()
    if "query" not in endpoint.inputs:
        statuses[400] += ("unexpected_query",)
    if endpoint.media_type is not None:
        statuses[400] += {JSON_MEDIA_TYPE: ("json_too_deep",), MULTIPART_MEDIA_TYPE: ("invalid_multipart",)}.get(
            endpoint.media_type, ("invalid_form",)
        )
        statuses |= {408: ("request_timeout",), 413: ("payload_too_large",), 415: ("unsupported_media_type",)}
    for status, ids in endpoint.refusals.items():
        statuses[status] = statuses.get(status, ()) + ids
    return dict(sorted(statuses.items()))


def _operation(document: _Document, endpoint: Endpoint) -> dict[str, Any]:
    role = role_of(endpoint.access)
    access = {
        "public": "Public.",
        "signed": "No account: the request carries an HMAC (see the description).",
        "signed_in": "Any signed-in user, whatever their roles.",
    }
    description = f"Least role: {role}." if role else access[endpoint.access]
    if endpoint.description:
        description += " " + endpoint.description
    operation: dict[str, Any] = {
        "operationId": endpoint.operation_id,
        "summary": endpoint.summary,
        "description": description,
        "tags": [endpoint.path.split("/")[2] if endpoint.path.startswith("/api/") else "service"],
        "security": _security(endpoint),
        "x-ntpd112-access": endpoint.access,
    }
    parameters = [
        parameter
        for name, location in (("path", "path"), ("query", "query"))
        if name in endpoint.inputs
        for parameter in document.parameters(endpoint.inputs[name], location)
    ]
    if parameters:
        operation["parameters"] = parameters
    body_model = endpoint.inputs.get("body") or endpoint.inputs.get("form")
    if body_model is not None and endpoint.media_type is not None:
        operation["requestBody"] = {
            "required": endpoint.media_type == JSON_MEDIA_TYPE,
            "content": {endpoint.media_type: {"schema": document.schema(body_model, mode="validation")}},
        }
    documented = endpoint.response if endpoint.response is not None else endpoint.response_model
    responses = {
        str(endpoint.status): document.response(
            endpoint.status, _STATUS_TEXT.get(endpoint.status, "Done"), endpoint.produces, documented
        ),
    }
    error_schema = document.schema(ErrorBody)
    for status, ids in _refusal_statuses(endpoint).items():
        responses[str(status)] = {
            "description": f"{_STATUS_TEXT.get(status, 'Refused')}: " + ", ".join(ids),
            "content": {JSON_MEDIA_TYPE: {"schema": error_schema}},
        }
    if endpoint.upload_schema is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {MULTIPART_MEDIA_TYPE: {"schema": dict(endpoint.upload_schema)}},
        }
    operation["responses"] = responses
    return operation


def openapi_path(path: str) -> str:
    """aiohttp's `{name:regex}` as OpenAPI's `{name}`."""
    return _PATH_PARAMETER.sub(r"{\1}", path)


def build_document(endpoints: list[Endpoint]) -> dict[str, Any]:
    document = _Document()
    paths: dict[str, dict[str, Any]] = {}
    for endpoint in endpoints:
        paths.setdefault(openapi_path(endpoint.path), {})[endpoint.method.lower()] = _operation(document, endpoint)
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "ntpd112",
            "version": "1",
            "description": "Call handling for Indonesia's emergency number 112. Every refusal is an ErrorBody.",
        },
        "paths": paths,
        "components": {
            "schemas": dict(sorted(document.schemas.items())),
            "securitySchemes": {
                "bearerToken": {"type": "http", "scheme": "bearer", "description": "A personal API token"},
                "sessionCookie": {"type": "apiKey", "in": "cookie", "name": SESSION_COOKIE},
            },
        },
    }


OPENAPI_DOCUMENT = web.AppKey("openapi_document", dict[str, Any])


@routes.get("/api/openapi.json", access="public", summary="This document")
async def openapi_document(request: web.Request) -> web.Response:
    return web.json_response(request.app[OPENAPI_DOCUMENT])


_ASSET_TYPES = {"docs.js": "text/javascript", "docs.css": "text/css"}


class AssetPath(BaseModel):
    model_config = ConfigDict(extra="forbid")

    asset: Literal["docs.js", "docs.css"]


def _asset(name: str, content_type: str) -> web.Response:
    body = resources.files("ntpd112.web").joinpath("docs", name).read_bytes()
    return web.Response(body=body, content_type=content_type, charset="utf-8")


@routes.get("/api/docs", access="public", summary="The document as a page for people", produces="text/html")
async def docs_page(request: web.Request) -> web.Response:
    return _asset("index.html", "text/html")


@routes.get("/api/docs/{asset}", access="public", summary="The page's script and style sheet", produces="text/plain")
async def docs_asset(request: web.Request, path: AssetPath) -> web.Response:
    return _asset(path.asset, _ASSET_TYPES[path.asset])
