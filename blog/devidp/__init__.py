"""Development identity provider: Google, X, Facebook and LinkedIn look-alikes for dev and tests.

It speaks each real provider's protocol at paths mirroring the real ones, so the blog's Authlib
client talks to it exactly as to the real provider, only with endpoints from configuration. All
state lives in memory behind a lock; every absolute URL it emits is built from
``IdpConfig.base_url`` (never from the request's host).

Build it::

    idp_app = create_idp_app(IdpConfig(
        base_url="http://127.0.0.1:5000/devidp",
        clients={"google": IdpClient("gid", "gsecret", ["http://127.0.0.1:5000/auth/google"])},
    ))

and either serve it on its own port, or mount it under the blog::

    from werkzeug.middleware.dispatcher import DispatcherMiddleware
    blog_app.wsgi_app = DispatcherMiddleware(blog_app.wsgi_app, {"/devidp": idp_app})

Its session cookie is ``devidp_session``, so it never clashes with the blog's on the same host.

Endpoints (``{v}`` is any Graph version such as ``v19.0``):

- Google (OIDC; client_secret_basic or client_secret_post; PKCE plain/S256 optional):
  ``/google/.well-known/openid-configuration``, ``/google/o/oauth2/v2/auth`` (GET consent page,
  POST decision), ``/google/token``, ``/google/v1/userinfo``, ``/google/oauth2/v3/certs``.
  Issuer ``{base_url}/google``.
- LinkedIn (OIDC; client_secret_post ONLY, Basic gets 401 invalid_client; as LinkedIn's web flow,
  no PKCE: a code_challenge is ignored and a code_verifier gets 401 invalid_client; ID tokens
  carry no nonce):
  ``/linkedin/.well-known/openid-configuration``, ``/linkedin/oauth/v2/authorization``,
  ``/linkedin/oauth/v2/accessToken``, ``/linkedin/v2/userinfo``, ``/linkedin/oauth/openid/jwks``.
  Issuer ``{base_url}/linkedin``.
- X (OAuth 2.0, PKCE S256 and state required; HTTP Basic ONLY, a body client_secret gets 401
  unauthorized_client): ``/x/i/oauth2/authorize``, ``/x/2/oauth2/token``,
  ``/x/2/users/me?user.fields=profile_image_url`` (needs scopes users.read + tweet.read;
  ``confirmed_email`` only with scope users.email and a verified email).
- Facebook (client_id + client_secret in query/body, or Basic): ``/facebook/{v}/dialog/oauth``,
  ``/facebook/{v}/oauth/access_token`` (GET or POST),
  ``/facebook/{v}/me?fields=id,name,email,picture&appsecret_proof=...`` (token as
  ``access_token`` or Bearer; appsecret_proof = hex HMAC-SHA256(key=app secret, msg=token) is
  required; email only with scope ``email``, an identity email and "Share my email" ticked).
- Avatars: ``/avatars/<key>.png``.
- Controls: ``GET``/``POST /_control/switches`` (JSON object, partial update), ``POST
  /_control/reset`` (switches off, codes/tokens/consents forgotten).

OIDC claims (ID token and userinfo) follow the scope: ``profile`` gives name, given_name,
family_name, picture, locale; ``email`` gives email + email_verified when the identity has one.

Identities (``IDENTITIES``, ``identity(key)``; ``Identity.subject(provider)``):

- ``alice``  Alice Verified, alice@example.com verified
- ``bob``    Bob Unverified, bob@example.com NOT verified
- ``carol``  Carol NoEmail, no email
- ``author`` The Author, author@example.com verified (label "The Author (Author, admin)")
- ``zoe``    Zoë Ångström-Łukasz 山田, zoe@example.com verified

Subjects: google ``10000000000000000000N``, x ``140000000000000000N``, facebook
``1020000000000000N``, linkedin ``li-<key>-000N``, with N = 1..5 in the order above.

Switches (``app.extensions["devidp"].switches``, an ``IdpSwitches``; or over HTTP):

- ``deny``: authorize redirects with error=access_denied at once, no consent page.
- ``slow_seconds``: token and profile endpoints sleep this long first (simulates a hang).
- ``bad_id_token``: ID tokens are signed by a rogue key (same kid) and carry a wrong aud.
- ``fail``: token endpoints answer 500 with an HTML page.
- ``auto_identity``: an identity key: skip consent and allow as that identity (email shared).
- ``avatar_redirect``: a URL: avatars answer 302 to it (except at that URL itself).
- ``avatar_drip_seconds``: avatars trickle out a byte at a time over this long.
- ``avatar_huge_bytes``: avatars are this many bytes, a PNG signature then zeros, unannounced.
- ``avatar_bomb_side``: avatars are a small valid PNG of this many pixels a side.
- ``bare_issuer``: OIDC ID tokens' ``iss`` leaves out the scheme, as Google may send it.
- ``forged_nonce``: OIDC ID tokens carry this nonce instead of the request's (null: theirs).

``app.extensions["devidp"].reset()`` is the in-process ``/_control/reset``.
"""

from __future__ import annotations

from .app import SESSION_COOKIE_NAME, create_idp_app
from .config import PROVIDER_NAMES, PROVIDERS, IdpClient, IdpConfig
from .identities import IDENTITIES, Identity, avatar_png, identity
from .state import DevIdp
from .store import IdpSwitches

__all__ = [
    "IDENTITIES",
    "PROVIDERS",
    "PROVIDER_NAMES",
    "SESSION_COOKIE_NAME",
    "DevIdp",
    "Identity",
    "IdpClient",
    "IdpConfig",
    "IdpSwitches",
    "avatar_png",
    "create_idp_app",
    "identity",
]
