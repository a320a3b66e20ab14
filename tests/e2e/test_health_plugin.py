"""The Airflow plugin as the API server mounts it: Airflow's own app factory, its plugin loader and its auth manager.

Plugin endpoints are not behind Airflow's authentication by themselves; these tests pin that the page is:
no user is refused (401), a user the auth manager does not let read the ELT DAG is refused (403), a viewer
gets the page, nothing but GET is served, and the navigation entry is what GET /api/v2/plugins returns.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.support.health_page import record_thread_pool

pytestmark = pytest.mark.usefixtures("airflow_home")


def api_app(all_admins: bool) -> object:
    from airflow.api_fastapi.app import create_app, purge_cached_app

    os.environ["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS"] = str(all_admins)
    purge_cached_app()
    return create_app("core")


@pytest.fixture(scope="module")
def client(airflow_home) -> Iterator[object]:
    """Airflow's API app with authentication on (the simple auth manager without all-admins), built once."""
    from fastapi.testclient import TestClient

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AIRFLOW__API_AUTH__JWT_SECRET", "health-plugin-test-secret-" + "0" * 40)
        # No Snowflake to read: the page must still answer, every section saying why it is empty.
        patch.delenv("AIRFLOW_CONN_SNOWFLAKE_DEFAULT", raising=False)
        with TestClient(api_app(all_admins=False)) as test_client:
            yield test_client
        os.environ.pop("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS", None)


def token(role: str | None) -> str:
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

    return get_auth_manager().generate_jwt(SimpleAuthManagerUser(username=f"user-{role}", role=role))


def test_without_a_user_the_page_is_refused(client) -> None:
    response = client.get("/pipeline-health/")
    assert response.status_code == 401, response.text
    assert "Pipeline health" not in response.text


def test_a_forged_token_is_refused(client) -> None:
    response = client.get("/pipeline-health/", headers={"Authorization": "Bearer not.a.token"})
    assert response.status_code in (401, 403), response.text


def test_a_user_without_read_access_to_the_dag_is_refused(client) -> None:
    response = client.get("/pipeline-health/", headers={"Authorization": f"Bearer {token(None)}"})
    assert response.status_code == 403, response.text


def test_a_viewer_gets_the_page_and_only_get_is_served(client) -> None:
    headers = {"Authorization": f"Bearer {token('viewer')}"}
    response = client.get("/pipeline-health/?window=hour", headers=headers)
    assert response.status_code == 200, response.text
    assert "<h1>Pipeline health</h1>" in response.text
    assert "frame-ancestors 'self'" in response.headers["content-security-policy"]
    assert "could not be reached" in response.text  # no warehouse here: said on the page, not a 500
    cookie = client.get("/pipeline-health/", cookies={"_token": token("viewer")})
    assert cookie.status_code == 200, "the UI's session cookie is accepted as Airflow's own API accepts it"
    assert client.get("/pipeline-health/?window=year", headers=headers).status_code == 422
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        assert client.request(method, "/pipeline-health/", headers=headers).status_code == 405


def test_the_navigation_lists_pipeline_health(client) -> None:
    headers = {"Authorization": f"Bearer {token('viewer')}"}
    plugins = client.get("/api/v2/plugins", headers=headers).json()["plugins"]
    ours = [p for p in plugins if p["name"] == "pipeline_health"]
    assert ours, f"plugin not loaded: {[p['name'] for p in plugins]}"
    views = ours[0]["external_views"]
    assert [(v["name"], v["href"], v["destination"], v["nav_top_level"]) for v in views] == [
        ("Pipeline health", "/pipeline-health/", "nav", True)
    ]
    assert ours[0]["fastapi_apps"][0]["url_prefix"] == "/pipeline-health"


def test_with_all_admins_every_request_is_an_admin(monkeypatch) -> None:
    """The local stack's setting (SIMPLE_AUTH_MANAGER_ALL_ADMINS): Airflow's middleware signs each request in."""
    from fastapi.testclient import TestClient

    monkeypatch.setenv("AIRFLOW__API_AUTH__JWT_SECRET", "health-plugin-test-secret-" + "0" * 40)
    monkeypatch.delenv("AIRFLOW_CONN_SNOWFLAKE_DEFAULT", raising=False)
    try:
        with TestClient(api_app(all_admins=True)) as test_client:
            assert test_client.get("/pipeline-health/?window=hour").status_code == 200
    finally:
        os.environ.pop("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS", None)


def test_a_page_request_takes_no_thread_from_the_servers_pool(client, monkeypatch) -> None:
    """Through Airflow's own app, its auth and the plugin loader: FastAPI runs sync routes and dependencies
    on anyio's worker threads (the server's shared pool); the page's request uses none of them."""
    used = record_thread_pool(monkeypatch)
    headers = {"Authorization": f"Bearer {token('viewer')}"}
    assert client.get("/api/v2/version", headers=headers).status_code == 200
    assert used, "the recording does not see the pool (Airflow's own sync route uses it)"
    used.clear()
    for window in ("week", "week"):  # the first request waits for the first reading, the second is served it
        response = client.get(f"/pipeline-health/?window={window}", headers=headers)
        assert response.status_code == 200 and "could not be reached" in response.text, response.text
    assert used == [], f"the page ran {used} on the server's thread pool"
