"""The sample blog comes up: home lists the essay, the essay is at its permalink."""

from pathlib import Path

from flask.testing import FlaskClient


def test_home_lists_the_essay(essay: Path, client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert "Making TRUE Connections" in response.get_data(as_text=True)


def test_every_setting_the_code_reads_is_in_the_readme() -> None:
    import re

    from blog.config import PROJECT_ROOT

    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    read = set()
    for path in (PROJECT_ROOT / "blog").rglob("*.py"):
        read |= set(re.findall(r"\bBLOG_[A-Z0-9_]*[A-Z0-9]\b", path.read_text(encoding="utf-8")))
    missing = sorted(name for name in read if name not in readme)
    assert missing == []
    assert len(read) > 40
