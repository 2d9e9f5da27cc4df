"""Running the blog: health check, refusing an unmigrated database, lock errors, request logs."""

from __future__ import annotations

import logging
import time

from flask import Blueprint, Flask, g, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy import inspect, text
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from werkzeug.wrappers import Response

from blog.extensions import db
from blog.models import SCHEMA_REVISION
from blog.web.request_log import log_request, printable

log = logging.getLogger(__name__)
bp = Blueprint("ops", __name__)
LOCK_RETRY_SECONDS = 2


def current_revision() -> str | None:
    """The migration the database is at, or None when it has no schema."""
    # Alembic's own table, read without Alembic: importing it would slow every worker's start.
    with db.engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """200 when the database answers, 503 otherwise (for load balancers)."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok")


def init_ops(app: Flask) -> None:
    """Install the health check, the schema guard, lock handling and request logging."""
    app.register_blueprint(bp)
    expected = SCHEMA_REVISION
    state = {"ready": False}

    @app.before_request
    def _refuse_unmigrated() -> ResponseReturnValue | None:
        if state["ready"] or request.endpoint in ("ops.healthz", "static"):
            return None
        try:
            found = current_revision()
        except SQLAlchemyError:
            found = None
        if found != expected:
            log.error("database at migration %s, code expects %s", found, expected)
            body = render_template("errors/unmigrated.html", found=found, expected=expected)
            return Response(body, 503, {"Retry-After": "30"}, mimetype="text/html")
        state["ready"] = True
        return None

    @app.errorhandler(OperationalError)
    def _locked(error: OperationalError) -> ResponseReturnValue:
        db.session.rollback()
        if "locked" not in str(error.orig).lower() and "busy" not in str(error.orig).lower():
            raise error
        log.warning("database busy on %s %s", request.method, printable(request.path))
        body = render_template("errors/busy.html")
        return Response(body, 503, {"Retry-After": str(LOCK_RETRY_SECONDS)}, mimetype="text/html")

    @app.before_request
    def _start_timer() -> None:
        g.request_started = time.perf_counter()

    @app.after_request
    def _log_request(response: Response) -> Response:
        started = g.get("request_started")
        log_request(
            request.remote_addr,
            request.method,
            request.full_path.rstrip("?"),
            response.status_code,
            response.calculate_content_length() or 0,
            (time.perf_counter() - started) * 1000 if started else 0.0,
        )
        return response
