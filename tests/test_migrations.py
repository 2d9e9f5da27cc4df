"""Migrations on a database of the test's own: real rows survive base and back, models == head."""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask, current_app
from flask_migrate import check, downgrade, upgrade
from sqlalchemy import Engine, func, inspect, select, update

from blog.config import PROJECT_ROOT
from blog.extensions import db, init_migrations
from blog.models import SCHEMA_REVISION, Comment, CommentStatus, MailMessage, Post, User
from blog.web.ops import current_revision
from tests.conftest import sync
from tests.support.comment_client import ESSAY, log_in

MIGRATIONS = PROJECT_ROOT / "migrations"


@pytest.fixture
def make(fresh_url: str, make_app: Callable[..., Flask], tmp_path: Path) -> Callable[[], Flask]:
    """Apps on the fresh database (nothing synced at start-up; comments mailed to the author)."""

    settings = {"SQLALCHEMY_DATABASE_URI": fresh_url, "SYNC_ON_START": False}
    settings |= {"AUTHOR_EMAIL": "author@example.com", "PAGE_CACHE_STATE_DIR": tmp_path / "cache"}

    def made() -> Flask:
        app = make_app(**settings)
        init_migrations(app)
        return app

    return made


@pytest.fixture
def at_head(make_app: Callable[..., Flask]) -> Flask:
    """An app on the test's copy of the database migrated to head once per session (read only
    here: no need to migrate a fresh one)."""
    app = make_app(SYNC_ON_START=False)
    init_migrations(app)
    with app.app_context():
        assert current_revision() == SCHEMA_REVISION
    return app


def write_rows(app: Flask, body: str) -> dict[str, int]:
    """Sync the posts, post a comment as a reader (which mails the author); count the rows."""
    sync(app)
    reader = log_in(app, subject=f"reader-{len(body)}", email=f"r{len(body)}@example.com")
    assert reader.post(body).status_code == 303
    assert body in reader.page()
    with app.app_context():
        return {
            model.__name__: db.session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Post, User, Comment, MailMessage)
        }


def revisions() -> list[str]:
    """Every revision id, oldest first."""
    script = ScriptDirectory(str(MIGRATIONS / "."))
    return [r.revision for r in reversed(list(script.walk_revisions()))]


def test_the_schema_revision_the_app_expects_is_the_newest_migration() -> None:
    # blog.models writes the head down so that no worker imports Alembic to learn it.
    assert revisions()[-1] == SCHEMA_REVISION, "set blog.models.SCHEMA_REVISION to the new head"


def test_flask_db_runs_flask_migrate_on_the_app(
    fresh_url: str, make_app: Callable[..., Flask]
) -> None:
    # An app as `flask` makes it, without init_migrations: the `db` commands bind Flask-Migrate.
    app = make_app(SQLALCHEMY_DATABASE_URI=fresh_url, SYNC_ON_START=False)
    listed = app.test_cli_runner().invoke(args=["db", "--help"])
    assert listed.exit_code == 0 and "upgrade" in listed.output and "downgrade" in listed.output
    # A fresh runner each time: as the `flask` command, each run starts from the bare app.
    upgraded = app.test_cli_runner().invoke(args=["db", "upgrade", "0001"])
    assert upgraded.exit_code == 0, upgraded.output
    with app.app_context():
        assert current_revision() == "0001"
    upgraded = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    with app.app_context():
        assert current_revision() == SCHEMA_REVISION


def snapshot(engine: Engine) -> dict[str, Any]:
    """Everything reflection sees of the schema, table by table (the version table aside)."""
    found = inspect(engine)
    tables: dict[str, Any] = {}
    for name in sorted(set(found.get_table_names()) - {"alembic_version"}):
        columns = [(c["name"], str(c["type"]), c["nullable"]) for c in found.get_columns(name)]
        tables[name] = {
            "columns": sorted(columns),
            "pk": found.get_pk_constraint(name),
            "fks": sorted(map(repr, found.get_foreign_keys(name))),
            "unique": sorted(map(repr, found.get_unique_constraints(name))),
            "indexes": sorted(map(repr, found.get_indexes(name))),
            "checks": sorted(map(repr, found.get_check_constraints(name))),
        }
    return tables


def test_downgrade_to_base_and_upgrade_again_with_real_rows(
    make: Callable[[], Flask], essay: Path
) -> None:
    app = make()
    with app.app_context():
        upgrade()
    before = write_rows(app, "Written before the round trip.")
    assert before == {"Post": 2, "User": 1, "Comment": 1, "MailMessage": 1}
    with app.app_context():
        downgrade(revision="base")
        assert current_revision() is None
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()
        assert current_revision() == revisions()[-1]
    again = make()  # a new worker on the rebuilt schema
    after = write_rows(again, "Written after the round trip, on the rebuilt schema.")
    assert after == {"Post": 2, "User": 1, "Comment": 1, "MailMessage": 1}
    client = again.test_client()
    assert "Written after the round trip" in client.get(ESSAY).get_data(as_text=True)
    assert ESSAY in client.get("/?s=connections").get_data(as_text=True)  # search rebuilt too


def test_0010_empties_the_placeholders_kept_before_it(
    make: Callable[[], Flask], essay: Path
) -> None:
    app = make()
    with app.app_context():
        upgrade()
    write_rows(app, "Deleted in the days before 0010.")
    with app.app_context():
        downgrade(revision="0009")
        # A placeholder as the writer's deletion left it then: name, provider and hash kept.
        db.session.execute(
            update(Comment).values(status=CommentStatus.DELETED, body="", ip_hash="0123abcd")
        )
        db.session.commit()
        upgrade()
        row = db.session.execute(select(Comment.author_name, Comment.provider, Comment.ip_hash))
        assert row.one() == ("", None, None)


def test_every_downgrade_restores_the_schema_before_its_upgrade(make: Callable[[], Flask]) -> None:
    app = make()
    steps = revisions()
    with app.app_context():
        schemas: dict[str | None, dict[str, Any]] = {None: snapshot(db.engine)}
        for revision in steps:
            upgrade(revision=revision)
            schemas[revision] = snapshot(db.engine)
        for revision, previous in reversed(list(zip(steps, [None, *steps[:-1]], strict=True))):
            assert current_revision() == revision
            downgrade(revision="-1")
            assert current_revision() == previous, f"downgrade of {revision}"
            assert snapshot(db.engine) == schemas[previous], f"downgrade of {revision}"


def env_function(name: str) -> Callable[..., Any]:
    """A function of migrations/env.py (which migrates when imported), with its constants."""
    tree = ast.parse((MIGRATIONS / "env.py").read_text(encoding="utf-8"))
    wanted: list[ast.stmt] = [
        node
        for node in tree.body
        if (isinstance(node, ast.FunctionDef) and node.name == name)
        or (
            (isinstance(node, ast.Assign) and all(isinstance(t, ast.Name) for t in node.targets))
            and all(t.id.isupper() for t in node.targets if isinstance(t, ast.Name))
        )
    ]
    namespace: dict[str, Any] = {}
    exec(compile(ast.Module(wanted, []), "migrations/env.py", "exec"), namespace)  # noqa: S102
    return namespace[name]


def test_the_models_match_the_migrations_at_head(at_head: Flask) -> None:
    with at_head.app_context():
        options = dict(current_app.extensions["migrate"].configure_args)  # as env.py reads them
        options["include_object"] = env_function("include_object")
        assert options["compare_type"] is True  # Flask-Migrate's default, used by env.py
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts=options)
            assert compare_metadata(context, db.metadata) == []
        check()  # `flask db check`: the same comparison through env.py itself


CONSTRAINTS = {f"{kind}Constraint" for kind in ("PrimaryKey", "Unique", "ForeignKey", "Check")}
NAMED_FIRST = {f"create_{kind}" for kind in ("index", "unique_constraint", "foreign_key")}
NAMED_FIRST |= {"create_check_constraint", "create_primary_key"}


def unnamed(path: Path) -> list[str]:
    """Constraints and indexes a migration file creates without a name."""
    problems = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        kind, keywords = node.func.attr, {k.arg: k.value for k in node.keywords}
        name = keywords.get("name") if kind in CONSTRAINTS else None
        if kind in NAMED_FIRST:
            name = node.args[0] if node.args else keywords.get("constraint_name", name)
        flags = [keywords.get(k) for k in ("unique", "index")]
        inline = kind == "Column" and any(isinstance(f, ast.Constant) and f.value for f in flags)
        missing = kind in CONSTRAINTS | NAMED_FIRST and (
            name is None or (isinstance(name, ast.Constant) and name.value is None)
        )
        if inline or missing or (kind == "ForeignKey" and "name" not in keywords):
            what = f"{kind}(unique/index=True)" if inline else kind
            problems.append(f"{path.name}:{node.lineno}: {what} without a name")
    return problems


def test_migrations_name_every_constraint_as_the_models_do(at_head: Flask) -> None:
    files = sorted((MIGRATIONS / "versions").glob("*.py"))
    assert len(files) == len(revisions())
    assert [problem for path in files for problem in unnamed(path)] == []
    with at_head.app_context():
        found = inspect(db.engine)
        for table in db.metadata.sorted_tables:
            expected = {str(table.primary_key.name)} | {str(i.name) for i in table.indexes}
            expected |= {str(c.name) for c in table.constraints if c is not table.primary_key}
            reflected = {found.get_pk_constraint(table.name)["name"]}
            for reflect in ("get_foreign_keys", "get_unique_constraints", "get_check_constraints"):
                reflected |= {c["name"] for c in getattr(found, reflect)(table.name)}
            reflected |= {i["name"] for i in found.get_indexes(table.name)}
            reflected = {n for n in reflected if not str(n).startswith("post_search")}
            assert reflected == expected, table.name
