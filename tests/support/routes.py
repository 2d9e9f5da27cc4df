"""The app's routes as the walks see them: every rule, its methods and a sample URL."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

from flask import Flask
from werkzeug.routing import IntegerConverter, Rule

from blog import create_app

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


def sample_url(rule: Rule, values: dict[str, object] | None = None) -> str:
    """A concrete URL for a rule: the given values, else plausible ones for its arguments."""
    chosen: dict[str, object] = {}
    for name in rule.arguments:
        if name in (rule.defaults or {}):
            continue  # fixed by the rule itself, as /avatars/anonymous.svg fixes user_id
        if values and name in values:
            chosen[name] = values[name]
        elif isinstance(rule._converters[name], IntegerConverter):
            chosen[name] = {"year": 2019, "month": 6, "day": 10}.get(name, 1)
        elif name == "slug":
            chosen[name] = "making-true-connections"
        elif name == "provider":
            chosen[name] = "google"
        else:
            chosen[name] = "x"
    return rule.build(chosen, append_unknown=False)[1]  # type: ignore[index]


def routes(app: Flask, methods: set[str]) -> Iterator[tuple[str, str, str]]:
    """(endpoint, method, url) for each route accepting one of the methods."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in sorted((rule.methods or set()) & methods):
            yield rule.endpoint, method, sample_url(rule)


def rules_by_endpoint(app: Flask) -> dict[str, list[Rule]]:
    """The app's rules (static files aside), by endpoint."""
    table: dict[str, list[Rule]] = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint != "static":
            table.setdefault(rule.endpoint, []).append(rule)
    return table


def route_table() -> dict[str, list[tuple[str, str]]]:
    """Every route's (method, url) by endpoint, as make_app's blog has them; read at collection,
    so that a walk is one test per endpoint (spread over the xdist workers, named by route)."""
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(
            {
                "TESTING": True,
                "SQLALCHEMY_DATABASE_URI": "sqlite://",
                "POSTS_DIR": Path(folder),
                "PAGE_CACHE_STATE_DIR": Path(folder),
                "SYNC_ON_START": False,
                "SYNC_ON_REQUEST": False,
                "DEV_IDP": False,
            }
        )
        table: dict[str, list[tuple[str, str]]] = {}
        for endpoint, method, url in routes(app, {"GET", *STATE_CHANGING}):
            table.setdefault(endpoint, []).append((method, url))
    return table
