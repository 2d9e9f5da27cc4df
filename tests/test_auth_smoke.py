"""The OAuth dance over real HTTP keeps the draft and logs the reader in."""

import pytest
import requests

from tests.support.oauth_site import OAuthSite

ESSAY = "/2019/06/10/making-true-connections/"


@pytest.mark.parametrize("provider", ["google", "x", "facebook"])
def test_login_round_trip_keeps_the_draft(oauth_site: OAuthSite, provider: str) -> None:
    http = requests.Session()
    page = oauth_site.login(
        http, provider, ESSAY, identity="alice", comment="My half-written thought"
    )
    assert page.status_code == 200
    assert page.url.endswith(ESSAY + "#respond")
    assert "My half-written thought</textarea>" in page.text
    assert "You are commenting using your" in page.text
