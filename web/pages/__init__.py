"""Server-rendered HTML pages: public pages, login, Support Unit dashboard, POC and monitoring-body pages.

`web.app.create_app` includes `router`; each area lives in a sub-router of its own.
"""

from fastapi import APIRouter

router = APIRouter()
