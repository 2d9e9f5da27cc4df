"""gunicorn settings: `gunicorn -c gunicorn.conf.py wsgi:app` (every value can be overridden)."""

import logging
import os

from gunicorn.glogging import Logger

from blog.web.request_log import LINE_FORMAT

bind = os.environ.get("GUNICORN_BIND", f"127.0.0.1:{os.environ.get('PORT', '8000')}")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
# Recycle workers now and then so that a slow leak can never grow without bound. Rarely:
# a fresh worker imports the app and starts with a cold page cache, a stall at full load.
max_requests = 100_000
max_requests_jitter = 10_000
# gunicorn 27's runtime control socket lives at one path per user: every gunicorn on the machine
# (several blogs, the benchmark's floor) would fight over it, and nothing here uses it.
control_socket_disable = True
# Each worker opens its own database connections: no preloading across the fork.
preload_app = False
# The app logs one line per request with its timing (logger "blog.requests").
accesslog = None


class AppLogsRequests(Logger):
    """gunicorn's logger without its access log, which the app's request log replaces.

    With `logconfig_dict` set, gunicorn would build every access line's fields even though
    nothing prints them.
    """

    def access(self, resp: object, req: object, environ: object, request_time: object) -> None:
        """Log nothing: the app has logged the request."""


# The logging HOWTO's own optimisation: the line names neither the thread nor the
# multiprocessing process, so no record needs to look them up (the process id stays).
logging.logThreads = False
logging.logMultiprocessing = False

logger_class = AppLogsRequests
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"line": {"format": LINE_FORMAT}},
    "handlers": {
        "stderr": {"class": "logging.StreamHandler", "formatter": "line"},
    },
    # gunicorn merges this over its defaults, whose root logger names a handler replaced here.
    "root": {"level": "INFO", "handlers": ["stderr"]},
    "loggers": {
        "blog": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        # One line per request (blog/web/request_log.py), on its own logger so that it can be
        # sent elsewhere or turned off without touching the app's other logs.
        "blog.requests": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        "gunicorn.error": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
    },
}
