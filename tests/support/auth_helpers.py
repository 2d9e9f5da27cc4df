"""Helpers for the auth and comment tests: a faster live site, HTML inspection, common steps."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

from blog.auth.devmode import dev_provider_settings, idp_config_for
from blog.devidp import create_idp_app
from tests.support.live import LiveServer
from tests.support.oauth_site import OAuthSite

ESSAY = "/2019/06/10/making-true-connections/"
PROVIDERS = ("google", "x", "facebook")
LABELS = {"google": "Google", "x": "X (Twitter)", "facebook": "Facebook"}
SESSION_COOKIE = "blog_session"
ALLOWED_TAGS = frozenset(
    {"p", "br", "em", "strong", "code", "pre", "a", "blockquote", "ul", "ol", "li"}
)
SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
COMMENT_ID = re.compile(r'<li id="comment-(\d+)"')


class FastServer(LiveServer):
    """A LiveServer (which now notices a shutdown within 20 ms itself); the name stays for the
    tests that use it."""


def _placeholder(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
    return [b"starting"]


def serve_site(make_app: Any, **overrides: Any) -> Iterator[OAuthSite]:
    """start_oauth_site on fast-stopping servers; yields the site, then stops."""
    yield from serve_site_with_rows(make_app, None, **overrides)


def serve_site_with_rows(
    make_app: Any,
    more_providers: Callable[[str], dict[str, dict[str, Any]]] | None,
    **overrides: Any,
) -> Iterator[OAuthSite]:
    """serve_site, with `more_providers(idp_url)` added to the provider settings (the generic
    OIDC row)."""
    blog_server, idp_server = FastServer(_placeholder), FastServer(_placeholder)
    idp_app = create_idp_app(idp_config_for(idp_server.url, [blog_server.url]))
    idp_server.server.app = idp_app
    providers = dev_provider_settings(idp_server.url)
    for settings in providers.values():
        settings.pop("dev")
    if more_providers is not None:
        providers |= more_providers(idp_server.url)
    config: dict[str, Any] = {
        "AUTH_PROVIDERS": providers,
        "SITE_URL": blog_server.url,
        "DEV_IDP": False,
        "AUTH_TIMEOUT_SECONDS": 2,
        **overrides,
    }
    app = make_app(**config)
    blog_server.server.app = app
    blog_server.start()
    idp_server.start()
    yield OAuthSite(
        app=app, url=blog_server.url, idp=idp_app.extensions["devidp"], idp_url=idp_server.url
    )
    for server in (blog_server, idp_server):
        server.stop()


def logged_in(
    site: OAuthSite, provider: str = "google", identity: str = "alice", comment: str = ""
) -> tuple[requests.Session, requests.Response]:
    """A browser session logged in through the whole dance; returns it and the landing page."""
    http = requests.Session()
    page = site.login(http, provider, ESSAY, identity=identity, comment=comment)
    assert page.status_code == 200, page.text[:500]
    assert "You are commenting using your" in page.text, page.text[:2000]
    return http, page


def form_data(html: str, action: str) -> dict[str, str]:
    """What a browser would submit from the first POST form with this action."""
    for form in parse(html).forms:
        if form.attrs.get("method") == "post" and form.attrs.get("action") == action:
            data = {
                f["name"]: f.get("value", "")
                for f in form.fields
                if f.get("name") and f.get("type", "text") not in ("submit", "button", "checkbox")
            }
            data.update(form.textareas)
            return data
    raise AssertionError(f"no POST form to {action!r} on the page")


def post_comment(
    site: OAuthSite,
    http: requests.Session,
    body: str,
    parent_id: int | None = None,
    post_id: int | None = None,
    follow: bool = False,
    path: str = ESSAY,
    form: dict[str, str] | None = None,
) -> requests.Response:
    """Fill in and submit the logged-in comment form of a post page, as a browser would.

    `form` is the form's fields from an earlier page view, to skip loading the page again."""
    data = dict(form) if form else form_data(http.get(site.url + path).text, "/comments/")
    data["comment"] = body
    data["parent_id"] = "" if parent_id is None else str(parent_id)
    if post_id is not None:
        data["post_id"] = str(post_id)
    return http.post(site.url + "/comments/", data=data, allow_redirects=follow)


def essay_id(html: str) -> int:
    """The post id carried by the comment form."""
    match = re.search(r'name="post_id" value="(\d+)"', html)
    assert match, "no post_id on the page"
    return int(match.group(1))


def new_comment_id(response: requests.Response) -> int:
    """The comment id in the Location of a successful comment POST."""
    assert response.status_code == 303, response.text[:500]
    match = re.search(r"#comment-(\d+)$", response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match.group(1))


def session_cookie(http: requests.Session) -> str | None:
    """The blog's session cookie value in a requests session."""
    for cookie in http.cookies:
        if cookie.name == SESSION_COOKIE:
            return cookie.value
    return None


def with_cookie(site: OAuthSite, value: str) -> requests.Session:
    """A fresh browser holding only a copy of a blog session cookie."""
    http = requests.Session()
    http.cookies.set(SESSION_COOKIE, value, domain=urlsplit(site.url).hostname)
    return http


def authorize_params(response: requests.Response) -> dict[str, str]:
    """Query parameters of the authorization URL the login start redirected to."""
    location = response.history[0].headers["Location"] if response.history else ""
    location = location or response.url
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def serializer(site: OAuthSite) -> Any:
    """The signer of the blog's session cookie (to read or plant session contents)."""
    return site.app.session_interface.get_signing_serializer(site.app)  # type: ignore[attr-defined]


def callback_url(site: OAuthSite, provider: str, **params: str) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"{site.url}/auth/callback/{provider}?{query}"


def consent_redirect(site: OAuthSite, http: requests.Session, provider: str) -> str:
    """Start a login and allow it, stopping at the callback URL (not visited)."""
    consent = site.start_login(http, provider, ESSAY, "draft")
    action = consent.text.split('<form method="post" action="')[1].split('"')[0]
    request_id = consent.text.split('name="request_id" value="')[1].split('"')[0]
    allowed = http.post(
        site.idp_url + action,
        data={"request_id": request_id, "identity": "alice", "decision": "allow"},
        allow_redirects=False,
    )
    assert allowed.status_code == 302
    return str(allowed.headers["Location"])


def authorize_params_of(url: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in urlsplit(url).query.split("&"))


# --- HTML inspection -------------------------------------------------------------------------


@dataclass
class Element:
    """A start tag: its name, attributes, and the classes of its enclosing elements."""

    tag: str
    attrs: dict[str, str]
    inside: tuple[str, ...] = ()


@dataclass
class Form:
    """A <form> with its fields (inputs, buttons and textareas)."""

    attrs: dict[str, str]
    fields: list[dict[str, str]] = field(default_factory=list)
    textareas: dict[str, str] = field(default_factory=dict)

    def names(self) -> set[str]:
        return {f.get("name", "") for f in self.fields} | set(self.textareas)


VOID = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "track",
    "wbr",
}


class PageParser(HTMLParser):
    """Collect every element (with the ids/classes of its ancestors), forms and labels."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []
        self.forms: list[Form] = []
        self.stack: list[tuple[str, str]] = []
        self._form: Form | None = None
        self._textarea: str | None = None
        self.textarea_ids: list[str] = []
        self.label_fors: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        marks = tuple(m for _t, m in self.stack)
        self.elements.append(Element(tag, values, marks))
        if tag == "form":
            self._form = Form(values)
            self.forms.append(self._form)
        elif tag in ("input", "button") and self._form is not None:
            self._form.fields.append(values)
        elif tag == "textarea":
            self.textarea_ids.append(values.get("id", ""))
            self._textarea = values.get("name", "")
            if self._form is not None:
                self._form.textareas[self._textarea] = ""
        elif tag == "label" and "for" in values:
            self.label_fors.add(values["for"])
        if tag not in VOID:
            mark = " ".join(filter(None, [values.get("id", ""), values.get("class", "")]))
            self.stack.append((tag, mark))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID and self.stack and self.stack[-1][0] == tag:
            self.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        if tag == "textarea":
            self._textarea = None
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break

    def handle_data(self, data: str) -> None:
        if self._textarea is not None and self._form is not None:
            self._form.textareas[self._textarea] += data


def parse(html: str) -> PageParser:
    """Parse a page."""
    parser = PageParser()
    parser.feed(html)
    parser.close()
    return parser


def textarea(html: str, name: str = "comment") -> str:
    """The text in the first form's textarea of that name (entities decoded)."""
    for form in parse(html).forms:
        if name in form.textareas:
            return form.textareas[name]
    raise AssertionError(f"no textarea {name!r} on the page")


def url_scheme(url: str) -> str | None:
    """The scheme a browser would see (tabs/newlines dropped, control chars trimmed)."""
    cleaned = re.sub(r"[\t\n\r]", "", url).strip(
        "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c"
        "\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18"
        "\x19\x1a\x1b\x1c\x1d\x1e\x1f "
    )
    match = re.match(r"([a-zA-Z][a-zA-Z0-9+.\-]*):", cleaned)
    return match.group(1).lower() if match else None


def unsafe_in(
    elements: list[Element], allowed_tags: frozenset[str] | None, ugc_links: bool = True
) -> list[str]:
    """What is wrong with these elements: a tag off the allow-list, a handler, a bad URL."""
    problems = []
    for el in elements:
        if allowed_tags is not None and el.tag not in allowed_tags:
            problems.append(f"element <{el.tag}>")
        for name, value in el.attrs.items():
            if name.startswith("on") or name in ("style", "srcdoc"):
                problems.append(f"attribute {name} on <{el.tag}>")
            # A formaction is a URL like any other: the page's own Preview button has one.
            urls = (
                "href",
                "src",
                "action",
                "formaction",
                "xlink:href",
                "data",
                "poster",
                "background",
            )
            if name in urls:
                scheme = url_scheme(value)
                if scheme is not None and scheme not in SAFE_SCHEMES:
                    problems.append(f"{scheme}: URL in {name} of <{el.tag}>")
        ugc_rel = el.attrs.get("rel") == "nofollow ugc noopener noreferrer"
        if ugc_links and el.tag == "a" and "href" in el.attrs and not ugc_rel:
            problems.append(f"link without the ugc rel: {el.attrs}")
    return problems


def check_fragment(html: str) -> list[str]:
    """Problems in a sanitised comment fragment."""
    return unsafe_in(parse(html).elements, ALLOWED_TAGS)


def comment_content_elements(html: str) -> list[Element]:
    """Elements inside the comment bodies (div.comment-content) of a page."""
    return [
        el
        for el in parse(html).elements
        if any("comment-content" in mark.split() for mark in el.inside)
    ]


def comments_section_elements(html: str) -> list[Element]:
    """Elements inside the page's comment section."""
    return [el for el in parse(html).elements if any("comments" in m.split() for m in el.inside)]


def structure(elements: list[Element]) -> list[tuple[str, tuple[str, ...]]]:
    """The shape of some markup: each element's tag and attribute names, in order."""
    return [(el.tag, tuple(sorted(el.attrs))) for el in elements]


def comment_ids(html: str) -> list[int]:
    """Ids of the comments on a page, in document order."""
    return [int(x) for x in COMMENT_ID.findall(html)]


def comment_html(html: str, comment_id: int) -> str:
    """The markup of one comment's article (up to its replies)."""
    start = html.index(f'<li id="comment-{comment_id}"')
    end = html.find("</article>", start)
    return html[start:end]


# --- the Flask test client, logged in without the dance ----------------------------------------


def client_login(app: Any, profile: Any) -> Any:
    """A test client logged in as the user behind a Profile (as the callback would leave it)."""
    from blog.auth import accounts
    from blog.clock import utcnow

    with app.app_context():
        user = accounts.login_profile(profile, utcnow())
        session_id = user.get_id()
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = session_id
        session["_fresh"] = True
        session["provider"] = profile.provider
    return client


def client_comment(
    client: Any, body: str, path: str = ESSAY, form: dict[str, str] | None = None
) -> int:
    """Post a comment through the logged-in form of a post page; returns its id."""
    data = dict(form) if form else form_data(client.get(path).text, "/comments/")
    data["comment"] = body
    response = client.post("/comments/", data=data)
    assert response.status_code == 303, response.text[:500]
    match = re.search(r"#comment-(\d+)$", response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match.group(1))
