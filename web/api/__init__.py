"""The JSON API: every use case of the command line over HTTP, through the same handlers."""

from fastapi import APIRouter

from web.api import audit, comments, commitments, concerns, members, reference

router = APIRouter(prefix="/api")
for module in (reference, members, commitments, comments, concerns, audit):
    router.include_router(module.router)
