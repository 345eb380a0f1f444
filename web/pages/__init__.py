"""Server-rendered HTML pages: public pages, login, Support Unit dashboard, POC and monitoring-body pages.

`web.app.create_app` includes `router`; each area lives in a sub-router of its own.
"""

from fastapi import APIRouter

router = APIRouter()


def _include() -> None:
    # Imported here so that `from web.pages import router` stays the one name the app needs.
    from web.pages import dashboard, login, monitoring, poc, public

    for area in (public, login, dashboard, poc, monitoring):
        router.include_router(area.router)


_include()
