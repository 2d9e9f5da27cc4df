"""The app as gunicorn serves it (`tests.support.served_app:app`), with a test's own settings.

Settings with no BLOG_* variable (a Redis key prefix of the test's own) come as a JSON object
in TEST_APP_OVERRIDES; the rest come from the environment, as in production.
"""

from __future__ import annotations

import json
import os

from blog import create_app

OVERRIDES_VARIABLE = "TEST_APP_OVERRIDES"

app = create_app(json.loads(os.environ.get(OVERRIDES_VARIABLE) or "{}"))
