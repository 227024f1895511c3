"""The REST contract, written once beside each handler: who may call it, what it reads (the JSON
body, the query, the path) and what it answers. ``endpoint()`` (common.py) enforces the roles and
parses the body and query with the very models this module turns into the OpenAPI document
(pydantic's JSON Schema for the models, the route table for the paths). Nothing is kept by hand
twice: a route without a contract is an error when the document is built."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import models_json_schema

from crm.models import Role

REF = "#/components/schemas/{model}"
ERROR = {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}}
STANDARD_ERRORS = {
    400: "bad input: the message names the field",
    401: "not logged in",
    403: "not for your role, or a cookie-authenticated write without X-CSRF-Token",
    404: "no such id, or not one you may see",
}


@dataclass(frozen=True)
class Contract:
    summary: str
    roles: tuple[Role, ...] | None  # None: no login needed
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    answer: Any = None  # a model or type pydantic can describe; None: no JSON (see ``media``)
    status: int = 200
    media: str = "application/json"
    also: tuple[str, ...] = ()  # other media types it answers in (a CSV of the same rows)
    notes: str = ""  # who sees which rows, what the answer means
    path: dict[str, str] = field(default_factory=dict)  # path parameter: its meaning
    errors: dict[int, str] = field(default_factory=dict)  # beyond 400/401/403/404
    upload: str | None = None  # the media type of a raw request body (a CSV file), read by the handler itself


def contract_of(handler: Any) -> Contract | None:
    return getattr(handler, "__contract__", None)


def describe(contract: Contract) -> Any:
    """Attach a contract to a handler that needs no login (health, login, the document itself)."""

    def attach(handler: Any) -> Any:
        handler.__contract__ = contract
        return handler

    return attach


def _roles_text(roles: tuple[Role, ...] | None) -> str:
    if roles is None:
        return "No login needed."
    if set(roles) == set(Role):
        return "Roles: everyone logged in."
    return "Roles: " + ", ".join(r.value for r in roles) + "."


def _parameters(contract: Contract, path: str) -> list[dict[str, Any]]:
    parameters = []
    for name in re.findall(r"{(\w+)}", path):
        parameters.append({"name": name, "in": "path", "required": True, "description": contract.path.get(name, ""), "schema": {"type": "string"}})
    if contract.query is not None:
        schema = contract.query.model_json_schema(ref_template=REF)
        for name, prop in schema.get("properties", {}).items():
            description = prop.pop("description", "")
            prop.pop("title", None)
            if prop.get("default", 0) is None:
                del prop["default"]
            if "anyOf" in prop and {"type": "null"} in prop["anyOf"]:  # a query value is absent, never null
                (given,) = [option for option in prop.pop("anyOf") if option != {"type": "null"}]
                prop |= given
            required = name in schema.get("required", [])
            parameter = {"name": name, "in": "query", "required": required, "description": description, "schema": prop}
            if not required:
                parameter["allowEmptyValue"] = True  # an empty value is a value not given (HTML forms send them)
            parameters.append(parameter)
    return parameters


def _add(schemas: dict[str, Any], name: str, definition: dict[str, Any]) -> None:
    if schemas.setdefault(name, definition) != definition:
        raise ValueError(f"two different models are named {name} in the OpenAPI document")


def _schema(kind: Any, schemas: dict[str, Any]) -> dict[str, Any]:
    """The JSON Schema of ``kind`` (a model becomes a component and a reference to it)."""
    adapted = TypeAdapter(kind).json_schema(ref_template=REF, mode="serialization")
    for name, definition in adapted.pop("$defs", {}).items():
        _add(schemas, name, definition)
    if isinstance(kind, type) and issubclass(kind, BaseModel):
        _add(schemas, kind.__name__, adapted)
        return {"$ref": REF.format(model=kind.__name__)}
    return adapted


def operation(contract: Contract, path: str, schemas: dict[str, Any]) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    success: dict[str, Any] = {"description": "done"}
    if contract.answer is not None:
        success["content"] = {contract.media: {"schema": _schema(contract.answer, schemas)}}
    elif contract.media != "application/json":
        success["content"] = {contract.media: {"schema": {"type": "string", "format": "binary"}}}
    for media in contract.also:
        success.setdefault("content", {})[media] = {"schema": {"type": "string"}}
    responses[str(contract.status)] = success
    errors: dict[int, str] = {}
    if contract.body is not None or contract.query is not None or contract.upload is not None:
        errors[400] = STANDARD_ERRORS[400]
    if contract.roles is not None:
        errors |= {401: STANDARD_ERRORS[401], 403: STANDARD_ERRORS[403]}
    if "{" in path:
        errors[404] = STANDARD_ERRORS[404]
    errors |= contract.errors
    for status, text in sorted(errors.items()):
        responses[str(status)] = {"description": text, "content": {"application/json": {"schema": {"$ref": REF.format(model="Error")}}}}
    result: dict[str, Any] = {
        "summary": contract.summary,
        "description": " ".join(part for part in (_roles_text(contract.roles), contract.notes) if part),
        "responses": responses,
    }
    if parameters := _parameters(contract, path):
        result["parameters"] = parameters
    if contract.body is not None:
        result["requestBody"] = {"required": True, "content": {"application/json": {"schema": {"$ref": REF.format(model=contract.body.__name__)}}}}
    if contract.upload is not None:
        result["requestBody"] = {"required": True, "content": {contract.upload: {"schema": {"type": "string"}}}}
    if contract.roles is None:
        result["security"] = []
    return result


def build_document(app: web.Application, info: dict[str, str]) -> dict[str, Any]:
    """The OpenAPI 3.1 document of every /api/ route of ``app``."""
    paths: dict[str, dict[str, Any]] = {}
    contracts = []
    for route in app.router.routes():
        resource = route.resource
        if resource is None or not resource.canonical.startswith("/api/") or route.method == "HEAD":
            continue
        contract = contract_of(route.handler)
        if contract is None:
            raise LookupError(f"{route.method} {resource.canonical} has no contract (agent_ui/api/contract.py)")
        contracts.append((route.method.lower(), resource.canonical, contract))
    bodies = {c.body for _, _, c in contracts if c.body is not None}
    names = sorted(m.__name__ for m in bodies)
    if len(set(names)) != len(names):  # pydantic would rename them apart, and the operations' $refs miss
        raise ValueError(f"two request bodies are named {next(n for n in names if names.count(n) > 1)}; name them apart")
    _, body_schemas = models_json_schema([(model, "validation") for model in sorted(bodies, key=lambda m: m.__name__)], ref_template=REF)
    schemas: dict[str, Any] = {"Error": ERROR}
    for name, definition in body_schemas.get("$defs", {}).items():
        _add(schemas, name, definition)
    for method, path, contract in contracts:
        paths.setdefault(path, {})[method] = operation(contract, path, schemas)
    return {
        "openapi": "3.1.0",
        "info": info,
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "the token from POST /api/login"},
                "cookie": {"type": "apiKey", "in": "cookie", "name": "cc_session", "description": "browsers; writes also need X-CSRF-Token"},
            },
            "schemas": dict(sorted(schemas.items())),
        },
        "security": [{"bearer": []}, {"cookie": []}],
        "paths": paths,
    }
