"""The internal page at /, its static files, its labels, and the offline OpenAPI docs at /docs."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles

from ...labels import all_labels

STATIC = Path(__file__).resolve().parent.parent / "static"
router = APIRouter(include_in_schema=False)


@router.get("/")
def page() -> FileResponse:
    return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})


@router.get("/labels.js")
def labels() -> Response:
    """The names of types, statuses and verdicts, from the same table the CLI prints."""
    body = "window.JIANYAN_LABELS = " + json.dumps(all_labels(), ensure_ascii=False) + ";\n"
    return Response(body, media_type="application/javascript; charset=utf-8", headers={"Cache-Control": "no-cache"})


def mount_static(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    try:
        from swagger_ui_bundle import swagger_ui_path
    except ImportError:  # the API works without its interactive docs; /openapi.json stays
        return
    app.mount("/docs-assets", StaticFiles(directory=str(swagger_ui_path)), name="swagger")

    @app.get("/docs", include_in_schema=False)
    def docs():
        return get_swagger_ui_html(openapi_url="/openapi.json", title="建言 jianyan API",
                                   swagger_js_url="/docs-assets/swagger-ui-bundle.js",
                                   swagger_css_url="/docs-assets/swagger-ui.css",
                                   swagger_favicon_url="/static/favicon.svg")
