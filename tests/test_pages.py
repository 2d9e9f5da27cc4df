"""Reader pages: home, permalinks, redirects, archives, taxonomies, search, meta, the essay."""

from __future__ import annotations

import functools
import json
import re
import shutil
import textwrap
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import lxml.html
import pytest
from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape

from blog import create_app
from blog.cache import page_cache
from blog.clock import FrozenClock
from blog.config import PROJECT_ROOT
from blog.extensions import db
from blog.models import Post
from tests.conftest import NOW, SHARED, security_corpus

SITE = "http://blog.test"


@pytest.fixture
def make_app(make_app: Callable[..., Flask]) -> Callable[..., Flask]:
    """The shared factory, without the development identity provider these pages never use."""

    def make(**overrides: object) -> Flask:
        overrides.setdefault("DEV_IDP", False)
        return make_app(**overrides)

    return make


def doc(response: object) -> lxml.html.HtmlElement:
    """Parse a response's HTML."""
    return lxml.html.fromstring(response.get_data(as_text=True))  # type: ignore[attr-defined]


def css(element: lxml.html.HtmlElement, selector: str) -> list[lxml.html.HtmlElement]:
    """Elements matching a small CSS subset: descendant chains of tag, .class, #id, [attr=value]."""
    steps = []
    for simple in selector.split():
        match = re.fullmatch(r"([\w*]*)(.*)", simple)
        assert match is not None
        tag, rest = match.groups()
        tests = [
            f"contains(concat(' ', normalize-space(@class), ' '), ' {c} ')"
            for c in re.findall(r"\.([\w-]+)", rest)
        ]
        tests += [f"@id='{i}'" for i in re.findall(r"#([\w-]+)", rest)]
        tests += [f"@{a}='{v}'" for a, v in re.findall(r'\[([\w-]+)="?([^"\]]*)"?\]', rest)]
        steps.append((tag or "*") + "".join(f"[{t}]" for t in tests))
    return list(element.xpath(".//" + "//".join(steps)))


def text_of(element: lxml.html.HtmlElement) -> str:
    """Visible text with whitespace collapsed."""
    return " ".join(element.text_content().split())


def titles(response: object) -> list[str]:
    """The post titles a listing shows, in order."""
    return [text_of(a) for a in css(doc(response), "article .entry-title a")]


PostWriter = Callable[..., object]
SiteBuilder = Callable[..., FlaskClient]


@pytest.fixture(scope="module")
def build_site(
    tmp_path_factory: pytest.TempPathFactory, migrated_sqlite: Path
) -> Iterator[SiteBuilder]:
    """Build read-only sites once per module: fill(write_post) writes posts, project ones copied."""
    apps: list[Flask] = []

    def build(
        fill: Callable[[PostWriter], None], project_posts: tuple[str, ...] = ()
    ) -> FlaskClient:
        root = tmp_path_factory.mktemp("site")
        posts = root / "posts"
        (posts / "images").mkdir(parents=True)
        fill(functools.partial(write_post_file, posts))
        for name in project_posts:
            shutil.copyfile(PROJECT_ROOT / "posts" / name, posts / name)
        database = root / "blog.db"
        shutil.copyfile(migrated_sqlite, database)
        app = create_app(
            {
                "TESTING": True,
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}",
                "POSTS_DIR": posts,
                "CLOCK": FrozenClock(NOW),
                "SYNC_ON_START": True,
                "SYNC_ON_REQUEST": False,
                "SITE_URL": SITE,
                "TIMEZONE": "UTC",
                "DEV_IDP": False,
            }
        )
        apps.append(app)
        return app.test_client()

    yield build
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def write_post_file(folder: Path, name: str, body: str = "Hello, readers.", **meta: object) -> None:
    """Write posts/<name>.md like conftest's write_post, for module-scoped sites."""
    meta.setdefault("title", name.replace("-", " ").title())
    meta.setdefault("date", "2024-01-15 09:00")
    lines = ["---"]
    for key, value in meta.items():
        if isinstance(value, list):
            lines.append(f"{key}:")
            lines.extend(f"  - {item}" for item in value)
        else:
            lines.append(f"{key}: {value}")
    lines += ["---", "", textwrap.dedent(body).strip(), ""]
    (folder / f"{name}.md").write_text("\n".join(lines), encoding="utf-8")


def corpus_params(name: str, every: int = 1) -> Sequence[object]:
    """A bad-input corpus as parameters; one skipped parameter when the corpus is absent."""
    try:
        return list(security_corpus(name))[::every]
    except pytest.skip.Exception as exc:
        return [pytest.param("", marks=pytest.mark.skip(reason=str(exc)))]


# --- home and pagination -----------------------------------------------------------------


@pytest.fixture(scope="module")
def twelve(build_site: SiteBuilder) -> FlaskClient:
    """Twelve posts, one a day in March 2024, each with an excerpt before <!--more-->."""
    return build_site(_twelve)


def _twelve(write_post: PostWriter) -> None:
    for day in range(1, 13):
        write_post(
            f"day-{day:02d}",
            title=f"Day {day:02d}",
            date=f"2024-03-{day:02d} 08:00",
            body=f"Teaser of day {day}.\n\n<!--more-->\n\nHidden rest of day {day}.",
        )


def test_home_shows_the_ten_newest_with_excerpts(twelve: FlaskClient) -> None:
    home = twelve.get("/")
    assert home.status_code == 200
    assert titles(home) == [f"Day {d:02d}" for d in range(12, 2, -1)]
    page = home.get_data(as_text=True)
    assert "Teaser of day 12." in page
    assert "Hidden rest of day 12." not in page
    older = css(doc(home), "nav.pagination a[rel=next]")
    assert [a.get("href") for a in older] == ["/page/2/"]


def test_page_two_then_not_found_past_the_end(twelve: FlaskClient) -> None:
    second = twelve.get("/page/2/")
    assert second.status_code == 200
    assert titles(second) == ["Day 02", "Day 01"]
    assert [a.get("href") for a in css(doc(second), "nav.pagination a[rel=prev]")] == ["/"]
    assert twelve.get("/page/3/").status_code == 404
    assert twelve.get("/page/0/").status_code == 404


def test_an_empty_blog_still_has_a_home_page(client: FlaskClient) -> None:
    home = client.get("/")
    assert home.status_code == 200
    assert "Nothing has been published here yet." in home.get_data(as_text=True)


# --- permalinks and redirects ------------------------------------------------------------


@pytest.fixture(scope="module")
def moved(build_site: SiteBuilder) -> FlaskClient:
    """A post with three old URLs."""
    return build_site(_moved)


def _moved(write_post: PostWriter) -> None:
    write_post(
        "moved-post",
        title="Moved Post",
        date="2024-02-10 10:00",
        aliases=["/old-name/", "/2019/01/01/older-name/", "/legacy/page.html"],
    )


def test_a_post_lives_at_its_dated_permalink(moved: FlaskClient) -> None:
    response = moved.get("/2024/02/10/moved-post/")
    assert response.status_code == 200
    assert text_of(css(doc(response), "h1.entry-title")[0]) == "Moved Post"


@pytest.mark.parametrize(
    "old",
    [
        "/moved-post/",
        "/old-name/",
        "/old-name",
        "/2019/01/01/older-name/",
        "/legacy/page.html",
        "/2023/12/31/moved-post/",  # the wrong date
        "/2024/02/11/moved-post/",
    ],
)
def test_old_urls_redirect_permanently(moved: FlaskClient, old: str) -> None:
    response = moved.get(old)
    assert response.status_code in (301, 308)
    if response.status_code == 308:  # Werkzeug adds the slash first
        response = moved.get(response.headers["Location"])
    assert response.status_code == 301
    assert response.headers["Location"] == "/2024/02/10/moved-post/"


def test_unknown_posts_are_not_found(moved: FlaskClient) -> None:
    for url in ("/2024/02/10/nope/", "/nope/", "/2024/02/10/moved-post/extra/"):
        assert moved.get(url).status_code == 404, url


def test_a_standalone_page_lives_at_its_slug_and_stays_out_of_lists(
    write_post: Callable[..., Path], client_factory: Callable[[], FlaskClient]
) -> None:
    write_post("about", title="About Me", date="2024-01-01", layout="page", body="Who I am.")
    write_post("news", title="Real News", date="2024-01-02", categories=["General"])
    client = client_factory()
    page = client.get("/about/")
    assert page.status_code == 200
    assert "Who I am." in page.get_data(as_text=True)
    assert 'href="/about/"' in page.get_data(as_text=True)  # in the navigation
    assert css(doc(page), ".entry-meta") == []  # no date line on a page
    assert "Leave a Reply" not in page.get_data(as_text=True)
    redirect = client.get("/2024/01/01/about/")
    assert (redirect.status_code, redirect.headers["Location"]) == (301, "/about/")
    assert titles(client.get("/")) == ["Real News"]
    assert titles(client.get("/2024/")) == ["Real News"]
    assert titles(client.get("/2024/01/")) == ["Real News"]
    assert "About Me" not in client.get("/feed/").get_data(as_text=True)
    assert "About Me" not in client.get("/feed/atom/").get_data(as_text=True)


# --- WordPress's default links: /?p=ID and /?page_id=ID --------------------------------------


@pytest.fixture
def by_id(
    write_post: Callable[..., Path], make_app: Callable[..., Flask]
) -> tuple[FlaskClient, dict[str, int]]:
    """A post, a page, a draft and a scheduled post, with their ids."""
    write_post("hello", title="Hello", date="2024-02-10 10:00")
    write_post("about", title="About", date="2024-01-01", layout="page")
    write_post("wip", title="Draft", date="2024-02-01", draft="true")
    write_post("soon", title="Soon", date="2027-01-01")
    app = make_app()
    with app.app_context():
        ids = {slug: id_ for slug, id_ in db.session.execute(db.select(Post.slug, Post.id))}
    return app.test_client(), ids


def test_wordpress_default_links_redirect_to_the_permalink(
    by_id: tuple[FlaskClient, dict[str, int]],
) -> None:
    client, ids = by_id
    # A kept copy of the home page must not answer for it.
    assert client.get("/").status_code == 200
    assert client.get("/").status_code == 200
    cache = page_cache(client.application)
    assert cache is not None and cache.hits == 1
    for query, location in (
        (f"p={ids['hello']}", "/2024/02/10/hello/"),
        (f"p={ids['about']}", "/about/"),  # as on WordPress, `p` finds a page too
        (f"page_id={ids['about']}", "/about/"),
        (f"p={ids['hello']}&utm_source=x", "/2024/02/10/hello/"),
        (f"page/2/?p={ids['hello']}", "/2024/02/10/hello/"),
    ):
        url = query if query.startswith("page/") else f"?{query}"
        response = client.get(f"/{url}")
        assert (response.status_code, response.headers.get("Location")) == (301, location), query


@pytest.mark.parametrize(
    "query",
    [
        "p=wip",
        "p=soon",
        "page_id=hello",  # a post is no page
        "page_id=wip",
        "p=999999",
        "p=",
        "p=abc",
        "p=-1",
        "p=1.5",
        "p=%201",
        "p=0x10",
        "p=%EF%BC%91",  # a fullwidth digit one
        "p=99999999999999999999999999",
        "p=9223372036854775807",
        "page_id=9223372036854775808",
        "page_id=<script>",
    ],
)
def test_wordpress_default_links_to_nothing_visible_are_not_found(
    by_id: tuple[FlaskClient, dict[str, int]], query: str
) -> None:
    client, ids = by_id
    name, _, value = query.partition("=")
    response = client.get(f"/?{name}={ids.get(value, value)}")
    assert response.status_code == 404, query
    assert "<script>" not in response.get_data(as_text=True)


def test_search_on_the_home_page_stays_search(by_id: tuple[FlaskClient, dict[str, int]]) -> None:
    client, _ids = by_id
    response = client.get("/?s=hello")
    assert response.status_code == 200
    assert "Search results for" in response.get_data(as_text=True)
    found = [text_of(a) for a in css(doc(response), "article .entry-title a")]
    assert "Hello" in found and "Draft" not in found


@pytest.fixture
def client_factory(make_app: Callable[..., Flask]) -> Callable[[], FlaskClient]:
    """Build the app after the test has written its posts."""
    return lambda: make_app().test_client()


# --- archives and taxonomies -------------------------------------------------------------


@pytest.fixture(scope="module")
def library(build_site: SiteBuilder) -> FlaskClient:
    """Posts across two years with categories and tags, and a page."""
    return build_site(_library)


def _library(write_post: PostWriter) -> None:
    write_post("about-the-blog", title="About The Blog", layout="page")
    write_post(
        "screening-calls",
        title="Screening Calls",
        date="2024-03-05",
        categories=["Recruiting/Interviews"],
        tags=["Job Search", "calls"],
    )
    write_post(
        "sourcing", title="Sourcing", date="2024-03-20", categories=["Recruiting"], tags=["calls"]
    )
    write_post(
        "offers",
        title="Offers",
        date="2024-04-02",
        categories=["Negotiation/Salary"],
        tags=["C/C++"],
    )
    write_post("old-times", title="Old Times", date="2023-12-31 23:00", categories=["Recruiting"])


def test_year_and_month_archives(library: FlaskClient) -> None:
    assert titles(library.get("/2024/")) == ["Offers", "Sourcing", "Screening Calls"]
    march = library.get("/2024/03/")
    assert titles(march) == ["Sourcing", "Screening Calls"]
    assert "Archives: March 2024" in march.get_data(as_text=True)
    assert titles(library.get("/2023/12/")) == ["Old Times"]
    for url in ("/2024/13/", "/2022/", "/2024/05/"):
        assert library.get(url).status_code == 404, url


def test_day_archives(library: FlaskClient) -> None:
    day = library.get("/2024/03/05/")
    assert day.status_code == 200
    assert titles(day) == ["Screening Calls"]
    assert "Archives: March 5, 2024" in day.get_data(as_text=True)
    assert titles(library.get("/2023/12/31/")) == ["Old Times"]
    # Empty, a page's date (pages stay out of archives), impossible or out of range.
    for url in (
        "/2024/03/06/",
        "/2024/01/15/",
        "/2024/02/30/",
        "/2023/02/29/",
        "/2024/03/00/",
        "/2024/03/32/",
        "/2024/13/05/",
        "/2024/00/05/",
        "/0000/01/01/",
        "/0001/01/01/",
        "/0001/",
        "/9999/12/31/",
        "/2024/03/05/page/2/",
    ):
        assert library.get(url).status_code == 404, url


def test_hierarchical_categories_have_lowercase_urls_and_parents_include_children(
    library: FlaskClient,
) -> None:
    child = library.get("/category/recruiting/interviews/")
    assert child.status_code == 200
    assert titles(child) == ["Screening Calls"]
    parent = library.get("/category/recruiting/")
    assert titles(parent) == ["Sourcing", "Screening Calls", "Old Times"]
    # No post is filed under Negotiation itself: the parent exists through its child.
    assert titles(library.get("/category/negotiation/")) == ["Offers"]
    assert titles(library.get("/category/negotiation/salary/")) == ["Offers"]
    upper = library.get("/category/Recruiting/Interviews/")
    assert (upper.status_code, upper.headers["Location"]) == (
        301,
        "/category/recruiting/interviews/",
    )
    assert library.get("/category/nothing/").status_code == 404
    post = library.get("/2024/03/05/screening-calls/")
    links = [a.get("href") for a in css(doc(post), ".cat-links a")]
    assert links == ["/category/recruiting/interviews/"]


def test_tag_pages(library: FlaskClient) -> None:
    assert titles(library.get("/tag/calls/")) == ["Sourcing", "Screening Calls"]
    assert titles(library.get("/tag/job-search/")) == ["Screening Calls"]
    assert library.get("/tag/Calls/").headers["Location"] == "/tag/calls/"
    assert library.get("/tag/Calls/page/2/").headers["Location"] == "/tag/calls/page/2/"
    assert library.get("/tag/unknown/").status_code == 404
    assert titles(library.get("/tag/c-c/")) == ["Offers"]  # tags do not nest: one segment
    post = library.get("/2024/03/05/screening-calls/")
    tags = [(a.get("href"), text_of(a)) for a in css(doc(post), ".tags-links a")]
    assert tags == [("/tag/calls/", "calls"), ("/tag/job-search/", "Job Search")]


def test_previous_and_next_post_links(library: FlaskClient) -> None:
    middle = doc(library.get("/2024/03/20/sourcing/"))
    assert [a.get("href") for a in css(middle, ".nav-previous a")] == [
        "/2024/03/05/screening-calls/"
    ]
    assert [a.get("href") for a in css(middle, ".nav-next a")] == ["/2024/04/02/offers/"]
    newest = doc(library.get("/2024/04/02/offers/"))
    assert css(newest, ".nav-next a") == []
    oldest = doc(library.get("/2023/12/31/old-times/"))
    assert css(oldest, ".nav-previous a") == []
    assert text_of(css(oldest, ".nav-next a")[0]) == "Next post Screening Calls"


def test_archive_and_term_listings_paginate(
    write_post: Callable[..., Path], make_app: Callable[..., Flask]
) -> None:
    for hour in range(1, 6):
        write_post(
            f"p{hour}",
            title=f"P{hour}",
            date=f"2024-03-05 0{hour}:00",
            categories=["Recruiting/Interviews"],
            tags=["calls"],
        )
    client = make_app(POSTS_PER_PAGE=2).test_client()
    for base in (
        "/category/recruiting/",
        "/category/recruiting/interviews/",
        "/tag/calls/",
        "/2024/",
        "/2024/03/",
        "/2024/03/05/",
    ):
        assert titles(client.get(base)) == ["P5", "P4"], base
        second = client.get(f"{base}page/2/")
        assert titles(second) == ["P3", "P2"], base
        links = {a.get("rel"): a.get("href") for a in css(doc(second), "nav.pagination a")}
        assert links == {"next": f"{base}page/3/", "prev": base}
        assert titles(client.get(f"{base}page/3/")) == ["P1"], base
        assert client.get(f"{base}page/4/").status_code == 404, base


# --- search ------------------------------------------------------------------------------


@pytest.fixture
def searchable(write_post: Callable[..., Path], make_app: Callable[..., Flask]) -> FlaskClient:
    """Posts whose ranking for a few words is known, on each database backend."""
    _searchable(write_post)
    return make_app().test_client()


@pytest.fixture(scope="module")
def search_site(build_site: SiteBuilder) -> FlaskClient:
    """The same posts once per module, for the many hostile queries."""
    return build_site(_searchable)


def _searchable(write_post: PostWriter) -> None:
    write_post("body-match", title="Weekly Notes", body="Notes on the interview I ran today.")
    write_post("title-match", title="Interview Habits", body="Habits that make a good day.")
    write_post("once", title="First Offer", body="A negotiation happened. " + "Filler words. " * 5)
    write_post(
        "thrice",
        title="Second Offer",
        body="Negotiation, negotiation and more negotiation. " + "Filler. " * 3,
    )
    write_post("draft-match", title="Hidden Interview", draft="true")


def hits(response: object) -> list[str]:
    """The titles on a search results page, in order."""
    return [text_of(a) for a in css(doc(response), "article.search-result .entry-title a")]


def test_search_ranks_title_matches_above_body_matches(searchable: FlaskClient) -> None:
    response = searchable.get("/?s=interview")
    assert response.status_code == 200
    assert hits(response) == ["Interview Habits", "Weekly Notes"]


def test_search_ranks_more_occurrences_higher_and_highlights(searchable: FlaskClient) -> None:
    response = searchable.get("/?s=negotiation")
    assert hits(response) == ["Second Offer", "First Offer"]
    snippets = [
        lxml.html.tostring(p, encoding="unicode")
        for p in css(doc(response), "article.search-result .snippet")
    ]
    assert "<mark>Negotiation</mark>, <mark>negotiation</mark>" in snippets[0]
    assert "<mark>negotiation</mark>" in snippets[1]


def test_search_matches_every_word_and_prefixes(searchable: FlaskClient) -> None:
    assert hits(searchable.get("/?s=weekly+interview")) == ["Weekly Notes"]
    assert hits(searchable.get("/?s=negoti")) == ["Second Offer", "First Offer"]


def test_search_without_results_or_words(search_site: FlaskClient) -> None:
    none = search_site.get("/?s=zebra")
    assert none.status_code == 200
    assert "Sorry, nothing matched “zebra”" in none.get_data(as_text=True)
    empty = search_site.get("/?s=")
    assert empty.status_code == 200
    assert "Type one or more words" in empty.get_data(as_text=True)
    assert css(doc(empty), 'meta[name="robots"]')[0].get("content") == "noindex, follow"


def assert_no_injected_markup(page: lxml.html.HtmlElement) -> None:
    """Only our own scripts, and no event-handler attributes anywhere."""
    for script in page.iter("script"):
        src = script.get("src")
        assert (src or "").startswith("/static/") or script.get("type") == "application/ld+json"
    for element in page.iter():
        if isinstance(element.tag, str):
            assert not [a for a in element.attrib if a.lower().startswith("on")], element.tag


@pytest.mark.parametrize("payload", corpus_params("pat_xss_alert.txt", every=37))
def test_search_echoes_hostile_queries_escaped(search_site: FlaskClient, payload: str) -> None:
    response = search_site.get("/", query_string={"s": payload})
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    shown = payload.strip()[:200]
    assert str(escape(shown)) in body
    if "<" in shown:
        assert shown not in body
    assert_no_injected_markup(doc(response))


def test_search_snippets_escape_post_text(
    write_post: Callable[..., Path], make_app: Callable[..., Flask]
) -> None:
    write_post("code-post", title="Code", body="Use `<script>alert(1)</script>` for payload tests.")
    client = make_app().test_client()
    response = client.get("/?s=payload")
    snippet = lxml.html.tostring(css(doc(response), ".snippet")[0], encoding="unicode")
    assert "&lt;script&gt;" in snippet
    assert "<mark>payload</mark>" in snippet
    assert_no_injected_markup(doc(response))


# --- 404 ---------------------------------------------------------------------------------


def test_not_found_page_helps_with_search_and_recent_posts(library: FlaskClient) -> None:
    response = library.get("/no/such/page/")
    assert response.status_code == 404
    page = doc(response)
    assert "can’t be found" in response.get_data(as_text=True)  # noqa: RUF001
    forms = css(page, "main form.search-form")
    assert len(forms) == 1
    assert forms[0].get("action") == "/"
    assert css(forms[0], 'input[name="s"]')
    assert [text_of(a) for a in css(page, "main li a")][:2] == ["Offers", "Sourcing"]
    assert css(page, 'meta[name="robots"]')[0].get("content") == "noindex"


# --- meta: canonical, Open Graph, Twitter, JSON-LD ---------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/2024/03/05/screening-calls/",
        "/2024/",
        "/2024/03/",
        "/category/recruiting/",
        "/tag/calls/",
        "/about-the-blog/",
        "/?s=calls",
    ],
)
def test_every_page_has_canonical_open_graph_and_twitter_meta(
    library: FlaskClient, url: str
) -> None:
    response = library.get(url)
    assert response.status_code == 200
    page = doc(response)
    canonical = [link.get("href") for link in css(page, 'link[rel="canonical"]')]
    assert canonical == [SITE + url.split("?")[0]]

    def meta(attr: str, name: str) -> str:
        found = css(page, f'meta[{attr}="{name}"]')
        assert len(found) == 1, name
        return str(found[0].get("content"))

    assert meta("property", "og:url") == canonical[0]
    assert meta("property", "og:title")
    assert meta("property", "og:site_name") == "True Connections"
    assert meta("property", "og:type") in ("website", "article")
    assert meta("property", "og:description")
    assert meta("name", "twitter:card") in ("summary", "summary_large_image")
    assert meta("name", "twitter:title") == meta("property", "og:title")
    assert meta("name", "description")


def test_a_post_has_article_meta_and_blogposting_json_ld(
    write_post: Callable[..., Path], make_app: Callable[..., Flask]
) -> None:
    write_post(
        "rich",
        title="Rich Post",
        date="2024-05-01 09:30",
        updated="2024-05-03 10:00",
        author="Jane Recruiter",
        summary="What the post is about.",
        categories=["Recruiting"],
        tags=["trust"],
        image="images/cover.png",
    )
    page = doc(make_app().test_client().get("/2024/05/01/rich/"))
    assert css(page, 'meta[property="og:type"]')[0].get("content") == "article"
    assert css(page, 'meta[property="og:image"]')[0].get("content") == (
        f"{SITE}/media/images/cover.png"
    )
    assert css(page, 'meta[name="twitter:card"]')[0].get("content") == "summary_large_image"
    assert css(page, 'meta[name="description"]')[0].get("content") == ("What the post is about.")
    scripts = css(page, 'script[type="application/ld+json"]')
    assert len(scripts) == 1
    data = json.loads(scripts[0].text)
    assert data["@context"] == "https://schema.org"
    assert data["@type"] == "BlogPosting"
    assert data["headline"] == "Rich Post"
    assert data["datePublished"] == "2024-05-01T09:30:00+00:00"
    assert data["dateModified"] == "2024-05-03T10:00:00+00:00"
    assert data["author"] == {
        "@type": "Person",
        "name": "Jane Recruiter",
        "url": f"{SITE}/author/jane-recruiter/",
    }
    assert data["url"] == data["mainEntityOfPage"] == f"{SITE}/2024/05/01/rich/"
    assert data["keywords"] == ["trust"]
    assert data["articleSection"] == ["Recruiting"]
    assert data["description"] == "What the post is about."
    assert data["image"] == f"{SITE}/media/images/cover.png"


def test_json_ld_cannot_be_broken_out_of(
    write_post: Callable[..., Path], make_app: Callable[..., Flask]
) -> None:
    write_post("sneaky", title="'\"</script><script>alert(1)</script>'", summary="<b>&</b>")
    response = make_app().test_client().get("/2024/01/15/sneaky/")
    assert response.status_code == 200
    assert "<script>alert(1)" not in response.get_data(as_text=True)
    data = json.loads(css(doc(response), 'script[type="application/ld+json"]')[0].text)
    assert data["headline"] == '"</script><script>alert(1)</script>'
    assert data["description"] == "<b>&</b>"
    assert_no_injected_markup(doc(response))


# --- the essay ---------------------------------------------------------------------------


def essay_paragraphs() -> list[str]:
    """The article body of the original page: every paragraph before "Leave a Reply"."""
    source = SHARED / "source" / "making-true-connections.txt"
    if not source.is_file():
        pytest.skip("../shared/source/making-true-connections.txt is absent: cannot compare")
    text = source.read_text(encoding="utf-8").split("Leave a Reply", 1)[0]
    paragraphs = [" ".join(p.split()) for p in text.split("\n\n") if p.strip()]
    assert paragraphs[0] == "Making TRUE Connections"  # the title line, not the body
    return paragraphs[1:]


@pytest.fixture(scope="module")
def essay_site(build_site: SiteBuilder) -> FlaskClient:
    """The project's real posts: the essay and the About page."""

    return build_site(lambda _write: None, ("making-true-connections.md", "about.md"))


@pytest.fixture
def essay_page(essay_site: FlaskClient) -> lxml.html.HtmlElement:
    """The essay's post page."""
    response = essay_site.get("/2019/06/10/making-true-connections/")
    assert response.status_code == 200
    return doc(response)


def test_essay_body_is_the_original_word_for_word(essay_page: lxml.html.HtmlElement) -> None:
    body = css(essay_page, ".entry-content")[0]
    assert [text_of(p) for p in css(body, "p")] == essay_paragraphs()


def test_essay_page_mirrors_the_wordpress_post(essay_page: lxml.html.HtmlElement) -> None:
    assert text_of(css(essay_page, ".site-title")[0]) == "True Connections"
    assert text_of(css(essay_page, ".site-description")[0]) == (
        "Recruiting, networking and the people in between"
    )
    assert text_of(css(essay_page, "h1.entry-title")[0]) == "Making TRUE Connections"
    meta = css(essay_page, ".entry-meta")[0]
    assert text_of(css(meta, "time")[0]) == "June 10, 2019"
    assert css(meta, "time")[0].get("datetime") == "2019-06-10T09:00:00+00:00"
    assert text_of(css(meta, ".author")[0]) == "The Author"
    assert [text_of(a) for a in css(essay_page, ".entry-footer .cat-links a")] == ["Recruiting"]
    assert text_of(css(meta, ".reading-time")[0]) == "2 min read"  # 455 words
    tags = [text_of(a) for a in css(essay_page, ".tags-links a")]
    assert {"networking", "trust"} <= set(tags)
    headings = [text_of(h) for h in essay_page.iter("h2", "h3")]
    assert "Share this:" in headings
    assert "Leave a Reply" in text_of(css(essay_page, "#comments")[0])


def test_essay_share_links_are_plain_links_without_third_party_scripts(
    essay_page: lxml.html.HtmlElement,
) -> None:
    permalink = f"{SITE}/2019/06/10/making-true-connections/"
    links = {
        text_of(a).split(" (")[0]: str(a.get("href")) for a in css(essay_page, ".share-links a")
    }
    assert set(links) == {"LinkedIn", "X", "Facebook", "Email", "Copy link"}
    encoded = "http%3A//blog.test/2019/06/10/making-true-connections/"
    assert links["LinkedIn"].startswith("https://www.linkedin.com/sharing/share-offsite/?url=")
    assert links["X"].startswith("https://x.com/intent/post?url=")
    assert links["Facebook"].startswith("https://www.facebook.com/sharer/sharer.php?u=")
    assert links["Email"].startswith("mailto:?subject=")
    for name in ("LinkedIn", "X", "Facebook", "Email"):
        assert encoded in links[name], name
    assert links["Copy link"] == permalink
    assert_no_injected_markup(essay_page)
    external = [s.get("src") for s in essay_page.iter("script") if s.get("src")]
    assert all(src.startswith("/static/") for src in external)
    assert not css(essay_page, "iframe")


def test_about_page_from_the_project(essay_site: FlaskClient) -> None:
    response = essay_site.get("/about/")
    assert response.status_code == 200
    assert text_of(css(doc(response), "h1.entry-title")[0]) == "About"


# --- caching and cookies -----------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/2019/06/10/making-true-connections/",
        "/about/",
        "/2019/",
        "/2019/06/",
        "/category/recruiting/",
        "/tag/trust/",
        "/?s=trust",
        "/feed/",
        "/feed/atom/",
        "/sitemap.xml",
        "/robots.txt",
    ],
)
def test_public_pages_set_no_cookie_and_are_cacheable(essay_site: FlaskClient, url: str) -> None:
    client = essay_site
    response = client.get(url)
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    assert re.fullmatch(r"public, max-age=\d+", response.headers["Cache-Control"])
    assert "Cookie" in response.headers.get("Vary", "")
    etag = response.headers["ETag"]
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    changed = client.get(url, headers={"If-None-Match": '"something-else"'})
    assert changed.status_code == 200


def test_a_page_that_touches_the_session_is_private(
    essay: Path, make_app: Callable[..., Flask]
) -> None:
    from flask import session

    from blog.cache.http import make_cacheable

    app = make_app()
    with app.test_request_context("/"):
        session["seen"] = True
        response = make_cacheable(app.make_response("personal"))
    assert response.headers["Cache-Control"] == "private, no-store"
    assert "ETag" not in response.headers


def test_archives_go_by_the_local_date_in_the_sites_zone(
    make_app: Callable[..., Flask], write_post: Callable[..., Path]
) -> None:
    # 23:30 on January 31st in New York is already February 1st in UTC.
    write_post("late-night", date="2024-01-31 23:30 -05:00")
    write_post("new-month", date="2024-02-01 00:30 -05:00")
    client = make_app(TIMEZONE="America/New_York").test_client()
    january = client.get("/2024/01/").get_data(as_text=True)
    february = client.get("/2024/02/").get_data(as_text=True)
    assert "Late Night" in january and "New Month" not in january
    assert "New Month" in february and "Late Night" not in february
    assert titles(client.get("/2024/01/31/")) == ["Late Night"]
    assert titles(client.get("/2024/02/01/")) == ["New Month"]
    assert client.get("/2024/01/31/late-night/").status_code == 200
    assert client.get("/0000/").status_code == 404
    assert client.get("/9999/12/").status_code == 404
