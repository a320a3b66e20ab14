"""Airflow plugin: the "Pipeline health" page, served by the API server at /pipeline-health/.

A FastAPI app (Airflow 3's plugin interface, ``fastapi_apps``) plus a navigation entry
(``external_views``) that shows it inside the UI. Airflow does not protect plugin endpoints: every
route here depends on ``authorized``, which resolves the user exactly as Airflow's own REST API does
(``get_user``: a bearer token, else the UI session's JWT cookie) and asks the configured auth manager
whether that user may read the ELT DAG's runs, the data this page summarises: 401 without a user, 403
without the permission. Read-only: GET only. The page shows figures from the warehouse, never a
connection or a credential.

The API server's requests share one event loop and one thread pool: the route and its dependency are
coroutines that never wait on the warehouse. The page is read and rendered on the cache's own single reader
thread (``health.HealthCache``), one reading at a time, and every request gets the last page at once.

Airflow imports every .py file under plugins/ as a top-level module named after the file, so this file
has a name of its own and imports only installed packages (warehouse, airflow, fastapi).
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from airflow.api_fastapi.app import get_auth_manager
from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity, DagDetails
from airflow.api_fastapi.core_api.security import GetUserDep
from airflow.plugins_manager import AirflowPlugin
from fastapi import Depends, FastAPI, HTTPException, Query, status
from fastapi.responses import HTMLResponse

from mobile_events_elt.warehouse import dbt_runner, health, report

URL_PREFIX = "/pipeline-health"
ELT_DAG = "mobile_events_elt"  # the DAG whose output the page reports on


async def authorized(user: GetUserDep) -> None:
    """Refuse a user the auth manager does not let read the ELT DAG's runs (no user at all: 401 from get_user).

    A coroutine, as Airflow's own async access checks: it takes no thread from the server's pool."""
    allowed = get_auth_manager().is_authorized_dag(
        method="GET", access_entity=DagAccessEntity.RUN, details=DagDetails(id=ELT_DAG), user=user
    )
    if not allowed:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Forbidden")


LINKS = {window: f"?window={window}" for window in health.WINDOWS}
DOCS_LINK = "dbt-docs"  # dbt's docs site, as `make docs` wrote it, served below the page


def read_page(window: str) -> str:
    """One reading of the window through the read connection, rendered: the work the reader thread does."""
    return report.render(health.read(window), LINKS, cache_seconds=health.CACHE_SECONDS, docs_link=DOCS_LINK)


def create_app(pages: health.HealthCache[str] | None = None) -> FastAPI:
    """The page's app; ``pages`` (rendered pages per window) defaults to a cache over ``read_page``."""
    cache = pages or health.HealthCache(read_page)
    reading = {window: report.render_reading(window, LINKS) for window in health.WINDOWS}  # made once
    app = FastAPI(title="Pipeline health", docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/", response_class=HTMLResponse, dependencies=[Depends(authorized)])
    async def page(
        window: Annotated[str, Query(pattern="^(hour|day|week)$")] = health.DEFAULT_WINDOW,
    ) -> HTMLResponse:
        html = await cache.get(window) or reading[window]  # None: the first reading is still being taken
        headers = {
            # The page is inline HTML and SVG: nothing may load or run from anywhere, it may be framed only by
            # the Airflow UI it belongs to.
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
            "frame-ancestors 'self'",
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        }
        return HTMLResponse(html, headers=headers)

    @app.get(f"/{DOCS_LINK}", response_class=HTMLResponse, dependencies=[Depends(authorized)])
    async def dbt_docs() -> HTMLResponse:
        """dbt's docs site (one self-contained page: its own scripts and styles), if ``make docs`` wrote it."""
        page = dbt_runner.docs_dir() / dbt_runner.DOCS_PAGE
        if not page.is_file():
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no dbt docs yet: run make docs (writes {page})")
        headers = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
        return HTMLResponse(page.read_text(encoding="utf-8"), headers=headers)

    return app


class PipelineHealthPlugin(AirflowPlugin):
    name = "pipeline_health"
    fastapi_apps: ClassVar[list[dict[str, Any]]] = [
        {"app": create_app(), "url_prefix": URL_PREFIX, "name": "Pipeline health"}
    ]
    external_views: ClassVar[list[dict[str, Any]]] = [
        {
            "name": "Pipeline health",
            "href": f"{URL_PREFIX}/",
            "url_route": "pipeline-health",
            "destination": "nav",
            "nav_top_level": True,  # its own entry in the UI's side bar, not under Browse
        }
    ]
