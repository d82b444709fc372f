"""Atom feeds of all posts and of each topic, checked with a real feed parser."""

import calendar
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import feedparser
import pytest
from sqlalchemy import select, update

from shop.blog.feeds import atom_feed
from shop.blog.models import Post, Topic
from shop.models import utcnow
from tests.blog.conftest import seed_posts, seed_topics

ATOM = "{http://www.w3.org/2005/Atom}"


def fetch(client, url: str):
    """GET a feed, check it is well-formed Atom, and return it parsed."""
    response = client.get(url)
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    parsed = feedparser.parse(response.data)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    return parsed


def published(entry) -> datetime:
    return datetime.fromtimestamp(calendar.timegm(entry.published_parsed), UTC)


def check_entries(parsed, posts) -> None:
    """The feed's entries are exactly ``posts``, in order, with absolute links, dates, authors and topics."""
    slugs = seed_topics()
    assert [e.title for e in parsed.entries] == [p.title for p in posts]
    assert [e.link for e in parsed.entries] == [f"http://localhost{p.url}" for p in posts]
    assert [e.id for e in parsed.entries] == [f"http://localhost{p.url}" for p in posts]
    assert [published(e) for e in parsed.entries] == [p.published_at for p in posts]
    assert [e.author for e in parsed.entries] == [p.author for p in posts]
    assert [sorted(t.term for t in e.tags) for e in parsed.entries] == [
        sorted(slugs[name] for name in p.topics) for p in posts
    ]
    assert [sorted(t.label for t in e.tags) for e in parsed.entries] == [sorted(p.topics) for p in posts]
    assert [e.summary for e in parsed.entries] == [p.summary for p in posts]


def test_blog_feed(client, seeded):
    """/blog/feed.xml: every post, newest first, with absolute links, dates, author and categories."""
    parsed = fetch(client, "/blog/feed.xml")
    assert parsed.feed.title == "CellShop blog"
    assert parsed.feed.link == "http://localhost/blog/"
    assert any(link.rel == "self" and link.href == "http://localhost/blog/feed.xml" for link in parsed.feed.links)
    check_entries(parsed, seed_posts())
    dates = [published(e) for e in parsed.entries]
    assert dates == sorted(dates, reverse=True)


def test_topic_feed_has_only_that_topics_posts(client, seeded):
    """/blog/topics/car-t/feed.xml lists the CAR-T posts only."""
    parsed = fetch(client, "/blog/topics/car-t/feed.xml")
    assert parsed.feed.title == "CellShop blog: CAR-T"
    assert parsed.feed.link == "http://localhost/blog/topics/car-t"
    car_t = [p for p in seed_posts() if "CAR-T" in p.topics]
    assert len(car_t) == 7
    check_entries(parsed, car_t)
    assert "http://localhost/blog/car-nk-cells-as-an-allogeneic-option" not in [e.link for e in parsed.entries]


def test_feeds_are_linked_from_the_pages(client, seeded):
    """Feed readers find the feeds from the blog and topic pages."""
    assert 'type="application/atom+xml" title="CellShop blog" href="/blog/feed.xml"' in client.get("/blog/").text
    topic_page = client.get("/blog/topics/car-t").text
    assert 'href="/blog/topics/car-t/feed.xml"' in topic_page


@pytest.mark.parametrize("url", ["/blog/topics/no-such-topic/feed.xml", "/blog/topics/Car-T/feed.xml"])
def test_unknown_topic_feed_is_a_404(client, seeded, url):
    assert client.get(url).status_code == 404


def test_entry_content_is_the_sanitised_html(client, db, make_post):
    """An entry's content is the post's stored, sanitised HTML, escaped inside the XML."""
    body = "# Findings\n\nCD8+ **cells** <script>alert(1)</script> [x](javascript:alert(1)) [ok](https://example.com)"
    post = make_post("Sanitised In Feeds", body=body, topics=["CAR-T"])
    response = client.get("/blog/feed.xml")
    (entry,) = ET.fromstring(response.data).findall(f"{ATOM}entry")
    content = entry.find(f"{ATOM}content")
    assert content.get("type") == "html"
    assert content.text == post.body_html
    assert "<h2>Findings</h2>" in content.text
    assert "<script" not in content.text
    assert 'href="javascript:' not in content.text

    parsed = fetch(client, "/blog/topics/car-t/feed.xml")
    (parsed_entry,) = parsed.entries
    assert "<h2>Findings</h2>" in parsed_entry.content[0].value
    assert '<a href="https://example.com"' in parsed_entry.content[0].value


def test_markup_characters_in_text_keep_the_feed_well_formed(client, db, make_post):
    """Titles, summaries, authors and topic names with &, < and quotes are escaped."""
    title = 'CD4 & CD8 <T cells> "compared"'
    make_post(title, summary="Less < more & so on", author="O'Brien & Co", topics=["R&D <lab>"])
    parsed = fetch(client, "/blog/feed.xml")
    (entry,) = parsed.entries
    assert entry.title == title
    assert entry.summary == "Less < more & so on"
    assert entry.author == "O'Brien & Co"
    assert [t.label for t in entry.tags] == ["R&D <lab>"]


def test_feed_without_posts_is_valid(client, db):
    """An empty blog still has a valid feed with no entries."""
    parsed = fetch(client, "/blog/feed.xml")
    assert parsed.entries == []


def test_feed_updated_is_the_newest_change(client, db, make_post):
    """The feed's <updated> is the latest publication or edit among its posts."""
    make_post("Older Post", published_at=utcnow() - timedelta(days=10))
    newest = make_post("Newer Post", published_at=utcnow() - timedelta(days=2))
    parsed = fetch(client, "/blog/feed.xml")
    updated = datetime.fromtimestamp(calendar.timegm(parsed.feed.updated_parsed), UTC)
    assert updated == newest.modified_at.replace(microsecond=0)
    assert [e.title for e in parsed.entries] == ["Newer Post", "Older Post"]


PASTED = "Line one\x0bline two\x0c and more"  # Word writes \x0b for a manual line break


@pytest.mark.parametrize(
    "field",
    [
        "title",
        "summary",
        "body",
        "author",
        "topic",
    ],
)
def test_control_characters_keep_the_feed_well_formed(client, db, make_post, field):
    """Text pasted from a word processor into any field must not break the feed for every subscriber."""
    values = {"summary": "A summary.", "body": "Body text.", "author": "Dr. Author", "topics": ["Pasted"]}
    if field == "topic":
        values["topics"] = [PASTED]
    elif field != "title":
        values[field] = PASTED
    title = PASTED if field == "title" else "Pasted From Word"
    make_post(title, slug="pasted", **values)
    parsed = fetch(client, "/blog/feed.xml")
    assert [e.link for e in parsed.entries] == ["http://localhost/blog/pasted"]


# Every character XML 1.0 forbids that a str can hold: the C0 controls but tab, LF and CR, U+FFFE, U+FFFF.
# (Lone surrogates cannot be stored by either database; the last test renders them without one.)
NOT_XML = [chr(c) for c in range(0x20) if chr(c) not in "\t\n\r"] + ["\ufffe", "\uffff"]


def _with(char: str, text: str) -> str:
    """``text`` with ``char`` in its middle and at its end."""
    middle = len(text) // 2
    return f"{text[:middle]}{char}{text[middle:]}{char}"


@pytest.mark.parametrize("char", NOT_XML, ids=[f"U+{ord(c):04X}" for c in NOT_XML])
def test_a_character_xml_forbids_in_any_stored_field_leaves_both_feeds_valid(client, db, make_post, char):
    """Rows written before saving stripped these (or by another path): every feed field still parses, text kept."""
    if char == "\x00" and db.engine.dialect.name == "postgresql":
        pytest.skip("PostgreSQL refuses NUL in text, so it can never reach a feed")
    post = make_post("Clean Title", slug="dirty", topics=["Dirty Topic"])
    topic = post.topics[0]
    db.session.execute(
        update(Post)
        .where(Post.id == post.id)
        .values(
            title=_with(char, "Dirty Title"),
            summary=_with(char, "Dirty summary"),
            author_name=_with(char, "Dr. Dirty"),
            body_html=_with(char, "<p>Dirty body</p>"),
        )
    )
    db.session.execute(
        update(Topic)
        .where(Topic.id == topic.id)
        .values(name=_with(char, "Dirty Topic"), description=_with(char, "Dirty description"))
    )
    db.session.commit()

    for url in ("/blog/feed.xml", f"/blog/topics/{topic.slug}/feed.xml"):
        ET.fromstring(client.get(url).data)  # raises on invalid XML
        parsed = fetch(client, url)  # and feedparser: no bozo
        (entry,) = parsed.entries
        assert (entry.title, entry.summary, entry.author) == ("Dirty Title", "Dirty summary", "Dr. Dirty")
        assert [tag.label for tag in entry.tags] == ["Dirty Topic"]
        assert entry.content[0].value == "<p>Dirty body</p>"
    assert parsed.feed.title == "CellShop blog: Dirty Topic"
    assert parsed.feed.subtitle == "Dirty description"


def test_lone_surrogates_and_noncharacters_are_dropped_from_the_feed(app):
    """What no database stores, rendered straight from objects: still valid XML, text kept."""
    topic = Topic(name="Odd\ud800 Topic\udfff", slug="odd", description="Odd\ufffe description\uffff")
    post = Post(title="Odd\udc00 Title", slug="odd", summary="Odd\ud83d summary", author_name="Dr.\ufffe Odd")
    post.body_html, post.topics = "<p>Odd\udfff body</p>", [topic]
    post.published_at = post.updated_at = utcnow()
    with app.test_request_context():
        feed = atom_feed([post], topic)

    root = ET.fromstring(feed.encode("utf-8"))  # encoding alone would fail on a surrogate
    assert root.find(f"{ATOM}title").text == "CellShop blog: Odd Topic"
    assert root.find(f"{ATOM}subtitle").text == "Odd description"
    entry = root.find(f"{ATOM}entry")
    assert entry.find(f"{ATOM}title").text == "Odd Title"
    assert entry.find(f"{ATOM}summary").text == "Odd summary"
    assert entry.find(f"{ATOM}author/{ATOM}name").text == "Dr. Odd"
    assert entry.find(f"{ATOM}content").text == "<p>Odd body</p>"


@pytest.mark.parametrize("char", ["\x0b", "\x00", "\x1f", "\ufffe"], ids=["VT", "NUL", "US", "U+FFFE"])
def test_staff_saving_a_topic_with_control_characters_is_refused(client, auth, db, char):
    """The request guard refuses what no keyboard types, in the back office too: nothing is saved."""
    auth.login("marketing")
    response = client.post(
        "/admin/topic/new/", data={"name": f"Pasted{char} Topic", "slug": "pasted", "description": f"Line{char} two"}
    )

    assert response.status_code == 400
    assert "The request contains a control character" in response.text
    assert db.session.scalars(select(Topic).where(Topic.slug == "pasted")).first() is None
