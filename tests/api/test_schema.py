"""The OpenAPI schema validates without warnings and documents every API route."""

import re

import pytest
import yaml
from django.core.management import call_command

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema(tmp_path_factory, django_db_blocker):
    path = tmp_path_factory.mktemp("schema") / "schema.yaml"
    with django_db_blocker.unblock():
        # --fail-on-warn: any warning or error of drf-spectacular fails the test.
        call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(path))
    return yaml.safe_load(path.read_text())


def router_paths() -> set[str]:
    """Every route of the API's routers, written as OpenAPI path templates."""
    from accord import api_urls, integration_urls

    paths = set()
    for module in (api_urls, integration_urls):
        for pattern in module.urlpatterns:
            regex = pattern.pattern.regex.pattern
            template = re.sub(r"\(\?P<pk>[^)]*\)", "{id}", regex)
            template = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", template)
            template = template.removeprefix("^").removesuffix("\\Z").removesuffix("$")
            template = template.replace("\\-", "-")  # path() escapes a hyphen
            if "format" in template or not template:
                continue  # format suffixes and the browsable root are not API operations
            paths.add("/api/v1/" + template)
    return paths


def test_schema_lists_every_route(schema):
    documented = {path for path in schema["paths"] if path.startswith("/api/v1/")}
    assert router_paths() - documented == set()
    assert "/api/v1/engagements/{id}/recompute/" in documented
    assert "/api/v1/tokens/{token_key}/" in documented


def test_every_operation_documents_errors_and_auth(schema):
    assert {"apiToken", "cookieAuth"} <= set(schema["components"]["securitySchemes"])
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            assert {"401", "403"} <= set(operation["responses"]), (method, path)
            assert operation.get("description"), (method, path)
            if "{" in path:
                assert "404" in operation["responses"], (method, path)
    error = schema["components"]["schemas"]["Error"]
    assert set(error["properties"]) == {"detail", "code", "errors"}


def test_schema_and_docs_are_served(client):
    assert client.get("/api/schema/").status_code == 200
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"cdn" not in docs.content.lower()


def _component(schema, reference: str) -> dict:
    return schema["components"]["schemas"][reference.rsplit("/", 1)[-1]]


def test_every_json_request_body_refuses_other_properties(schema):
    """The API answers an unknown field with 400 (tests/reliability/test_bad_input.py);
    the schema says so, so generated clients and fuzzers know it too."""
    bodies = [
        (method, path, _component(schema, content["application/json"]["schema"]["$ref"]))
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if isinstance(operation, dict)
        and (content := operation.get("requestBody", {}).get("content", {}))
        and "application/json" in content
    ]
    assert len(bodies) > 30
    for method, path, body in bodies:
        assert body.get("additionalProperties") is False, (method, path)
    bulk = _component(schema, "#/components/schemas/BulkRequestRequest")
    assert (
        _component(schema, bulk["properties"]["rows"]["items"]["$ref"])["additionalProperties"]
        is False
    )


def test_response_bodies_leave_room_for_new_properties(schema):
    # Adding a property to an answer is not a breaking change for clients.
    assert "additionalProperties" not in schema["components"]["schemas"]["Engagement"]


def test_request_bodies_are_json_only(schema):
    """The API reads JSON bodies (and CSV on the bulk endpoint); the schema declared form
    and multipart alternatives on every write, which clients generated from it trip over
    (openapi-python-client issue #1451)."""
    declared = {
        (method, path): set(operation["requestBody"]["content"])
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if isinstance(operation, dict) and "requestBody" in operation
    }
    assert len(declared) > 30
    bulk = ("post", "/api/v1/measurements/bulk/")
    assert declared.pop(bulk) == {"application/json", "text/csv"}
    assert set(map(frozenset, declared.values())) == {frozenset({"application/json"})}


def test_every_operation_documents_the_400_of_an_unknown_query_parameter(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                assert "400" in operation["responses"], (method, path)
