"""The sample blog comes up: home lists the essay, the essay is at its permalink."""

from flask.testing import FlaskClient


def test_home_lists_the_essay(essay, client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert "Making TRUE Connections" in response.get_data(as_text=True)
