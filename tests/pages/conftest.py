"""Fixtures of the page tests: the app on a real database, and clients (anonymous or logged in); builders in pagekit.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from pagekit import PageWorld, log_in, make_page_world, settings_for


@pytest.fixture
def world(sqlite_url: str) -> Iterator[PageWorld]:
    w = make_page_world(sqlite_url)
    yield w
    w.dispose()


@pytest.fixture
def app(world: PageWorld, tmp_path):
    from web.app import create_app

    return create_app(settings_for(world.url, tmp_path), session_factory=world.factory, clock=world.clock)


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


@pytest.fixture
def login(app, world: PageWorld):
    """``login("poc-a")``: a new client logged in as that person through the login form."""
    made: list[TestClient] = []

    def _login(who: str) -> TestClient:
        c = TestClient(app)
        made.append(c)
        response = log_in(c, world.people[who])
        assert response.status_code == 303, response.text
        return c

    yield _login
    for c in made:
        c.close()
