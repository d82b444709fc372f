"""The URLs each benchmarked page is loaded with: many distinct ones, drawn with a Zipf-like skew.

A page's distinct URLs are shuffled into a popularity order, then a long
sequence is drawn with weight 1/rank^s: a few URLs come back often, most
rarely, as with real visitors. The load generator cycles through the sequence.
Result pages past the first are asked for only when the dataset's stats say
the filters match enough products, so the benchmark itself causes no 404s.
"""

import random
from dataclasses import dataclass
from itertools import accumulate
from urllib.parse import urlencode

from bench import synth, vocab

PAGES = ("home", "catalog", "catalog_facets", "product", "blog", "post", "search", "feed")
SEQUENCE_LENGTH = 20_000
ZIPF_S = 1.1
FACETED_URLS = 2_000
SEARCH_URLS = 1_500
PER_PAGE = 24
POSTS_PER_PAGE = 10
SORTS = {"relevance": 50, "price": 20, "name": 15, "newest": 15}
PAGE_WEIGHTS = (70, 20, 10)
FIXED_VALUES = {
    "format": ("fresh", "cryopreserved"),
    "grade": ("research", "gmp"),
    "pricing": ("list", "quote"),
    "stock": ("in",),
    "cmv": ("positive", "negative"),
    "sex": ("F", "M"),
    "age": ("18-29", "30-39", "40-49", "50+"),
}
FACET_ORDER = ("category", "format", "grade", "pricing", "stock", "cmv", "sex", "age", "hla")
HLA_CHOICES = 16


@dataclass
class PageUrls:
    """What one page is loaded with."""

    name: str
    sequence: list[str]
    distinct: int

    @property
    def drawn(self) -> int:
        """How many distinct URLs the sequence actually visits."""
        return len(set(self.sequence))

    def samples(self, count: int = 5) -> list[str]:
        """The first ``count`` distinct URLs of the sequence (the popular ones come early)."""
        return list(dict.fromkeys(self.sequence))[:count]


def zipf_sequence(urls: list[str], rng: random.Random, length: int = SEQUENCE_LENGTH) -> list[str]:
    """``length`` draws from ``urls`` in a random popularity order, with weight 1/rank^ZIPF_S."""
    if len(urls) == 1:
        return list(urls)
    ranked = rng.sample(urls, len(urls))
    cum = list(accumulate(1 / (rank + 1) ** ZIPF_S for rank in range(len(ranked))))
    return rng.choices(ranked, cum_weights=cum, k=length)


# PostgreSQL's "english" text search drops these words (SQLite's FTS5 keeps them): alone in a search
# they find nothing there, so they would load the two databases differently. Not searched for.
ENGLISH_STOPWORDS = frozenset(
    {
        "i", "me", "my", "myself", "we", "our", "ours", "ourselves", "you", "your", "yours", "yourself",
        "yourselves", "he", "him", "his", "himself", "she", "her", "hers", "herself", "it", "its", "itself", "they",
        "them", "their", "theirs", "themselves", "what", "which", "who", "whom", "this", "that", "these", "those",
        "am", "is", "are", "was", "were", "be", "been", "being", "have", "has", "had", "having", "do", "does", "did",
        "doing", "a", "an", "the", "and", "but", "if", "or", "because", "as", "until", "while", "of", "at", "by",
        "for", "with", "about", "against", "between", "into", "through", "during", "before", "after", "above",
        "below", "to", "from", "up", "down", "in", "out", "on", "off", "over", "under", "again", "further", "then",
        "once", "here", "there", "when", "where", "why", "how", "all", "any", "both", "each", "few", "more", "most",
        "other", "some", "such", "no", "nor", "not", "only", "own", "same", "so", "than", "too", "very", "can",
        "will", "just", "don", "should", "now",
    }
)  # fmt: skip


def search_vocabulary() -> tuple[list[str], list[str]]:
    """Words of the generated products: (generic description words, category-specific words), stop words out."""
    generic = sorted(set().union(*synth.SENTENCE_WORDS))
    texts = [vocab.QUALIFIERS]
    for families in vocab.FAMILIES.values():
        for f in families:
            texts.append((f.base, f.cell_type, f.markers, f.isolation, *f.uses))
    words = {w for group in texts for t in group for w in synth.WORD.findall(t.lower())}
    specific = sorted(w for w in words - set(generic) - vocab.STOPWORDS - ENGLISH_STOPWORDS if len(w) >= 3)
    return [w for w in generic if len(w) >= 3 and w not in ENGLISH_STOPWORDS], specific


def search_queries(rng: random.Random, count: int) -> list[str]:
    """Distinct searches: single words, word pairs and word prefixes ("leuko")."""
    generic, specific = search_vocabulary()
    words = generic + specific
    queries: set[str] = set()
    for _ in range(count * 20):
        if len(queries) >= count:
            break
        kind = rng.random()
        if kind < 0.4:
            queries.add(rng.choice(words))
        elif kind < 0.85:
            queries.add(" ".join(rng.sample(words, 2)))
        else:
            word = rng.choice([w for w in words if len(w) >= 6])
            queries.add(word[: rng.randint(4, len(word) - 1)])
    return sorted(queries)


def facet_values(stats: dict) -> dict[str, tuple[str, ...]]:
    """The values each facet may be filtered on: fixed ones, the categories, the commonest HLA alleles."""
    facets = stats["facets"]
    hla = sorted(facets.get("hla", {}), key=lambda a: -facets["hla"][a])[:HLA_CHOICES]
    return {**FIXED_VALUES, "category": tuple(sorted(facets.get("category", {}))), "hla": tuple(hla)}


def estimate(stats: dict, pairs: list[tuple[str, str]], word: str) -> float:
    """Expected matches, assuming independent filters (category-specific words count as unknown: 0)."""
    active = max(1, stats["active"])
    expected = float(active)
    for facet, value in pairs:
        expected *= stats["facets"].get(facet, {}).get(value, 0) / active
    return expected * stats["words"].get(word, 0) / active


def faceted_url(rng: random.Random, stats: dict, values: dict, words: tuple[list[str], list[str]]) -> str:
    """/products/ with a search and two facets, a sort, and a page that exists."""
    generic, specific = words
    chosen = sorted(rng.sample([f for f in FACET_ORDER if values[f]], 2), key=FACET_ORDER.index)
    pairs = [(facet, rng.choice(values[facet])) for facet in chosen]
    word = rng.choice(generic) if rng.random() < 0.7 else rng.choice(specific)
    expected = estimate(stats, pairs, word)
    # A third of the estimate must fill the earlier pages: the filters are not quite independent, and
    # a word counts as found where the search (prefixes, stems) may find less (one 404 in a run with a half).
    pages = [p for p in range(1, 4) if p == 1 or expected / 3 > PER_PAGE * (p - 1)]
    page = rng.choices(pages, weights=PAGE_WEIGHTS[: len(pages)])[0]
    sort = rng.choices(list(SORTS), weights=list(SORTS.values()))[0]
    query = [
        ("q", word),
        *pairs,
        ("sort", "" if sort == "relevance" else sort),
        ("page", str(page) if page > 1 else ""),
    ]
    return "/products/?" + urlencode([(k, v) for k, v in query if v])


def faceted_urls(rng: random.Random, stats: dict, count: int = FACETED_URLS) -> list[str]:
    """Distinct faceted catalog URLs."""
    values, words = facet_values(stats), search_vocabulary()
    urls: set[str] = set()
    for _ in range(count * 20):
        if len(urls) >= count:
            break
        urls.add(faceted_url(rng, stats, values, words))
    return sorted(urls)


@dataclass
class Slugs:
    """The public slugs the URLs are made of."""

    products: list[str]
    posts: list[str]
    topics: list[str]
    categories: list[str]


def public_slugs() -> Slugs:
    """Slugs of active products, visible posts, topics and categories (inside an app context)."""
    from sqlalchemy import select

    from shop.blog.models import Post, Topic
    from shop.catalog.models import Category, Product
    from shop.extensions import db

    products = db.session.scalars(select(Product.slug).where(Product.active).order_by(Product.id)).all()
    posts = db.session.scalars(select(Post.slug).where(Post.visible(synth.utcnow())).order_by(Post.id)).all()
    topics = db.session.scalars(select(Topic.slug).order_by(Topic.id)).all()
    categories = db.session.scalars(select(Category.slug).order_by(Category.id)).all()
    db.session.rollback()
    return Slugs(list(products), list(posts), list(topics), list(categories))


# How deep visitors page through lists: most stop at page 1-3, a few go further.
LIST_PAGES = (1, 2, 3, 4, 5, 8, 12, 20)
CAMPAIGNS = ("newsletter", "linkedin", "google", "conference")


def catalog_urls(stats: dict, slugs: Slugs) -> list[str]:
    """The whole catalog and each category's listing, in every sort order, pages that exist."""
    urls = []
    per_category = stats["facets"].get("category", {})
    for category in [None, *slugs.categories]:
        count = stats["active"] if category is None else per_category.get(category, 0)
        last = max(1, -(-count // PER_PAGE))
        for sort in SORTS:
            for page in (p for p in LIST_PAGES if p <= last):
                query = [("category", category or ""), ("sort", "" if sort == "relevance" else sort)]
                query.append(("page", str(page) if page > 1 else ""))
                encoded = urlencode([(k, v) for k, v in query if v])
                urls.append("/products/" + ("?" + encoded if encoded else ""))
    return urls


def blog_urls(slugs: Slugs) -> list[str]:
    """The blog's pages, the topic list, each topic's pages (whether a topic has that many pages or not:
    a page past the end is a cheap 404 the benchmark counts as an error, so only pages 1-2 per topic)."""
    last = max(1, -(-len(slugs.posts) // POSTS_PER_PAGE))
    urls = ["/blog/"] + [f"/blog/?page={p}" for p in LIST_PAGES[1:] if p <= last] + ["/blog/topics/"]
    for topic in slugs.topics:
        urls += [f"/blog/topics/{topic}"] + ([f"/blog/topics/{topic}?page=2"] if last > 2 * len(slugs.topics) else [])
    return urls


def page_urls(name: str, rng: random.Random, stats: dict, slugs: Slugs) -> list[str]:
    """Every distinct URL of one page."""
    product_slugs, post_slugs = slugs.products, slugs.posts
    if name == "home":  # campaign links add parameters the page ignores (they share its cache entry)
        return ["/"] + [f"/?utm_source={source}&utm_medium=email" for source in CAMPAIGNS]
    if name == "catalog":
        return catalog_urls(stats, slugs)
    if name == "blog":
        return blog_urls(slugs)
    if name == "feed":
        return ["/blog/feed.xml"] + [f"/blog/topics/{topic}/feed.xml" for topic in slugs.topics]
    if name == "catalog_facets":
        return faceted_urls(rng, stats)
    if name == "product":
        return [f"/products/{slug}" for slug in product_slugs]
    if name == "post":
        return [f"/blog/{slug}" for slug in post_slugs]
    if name == "search":
        return ["/search?" + urlencode({"q": q}) for q in search_queries(rng, SEARCH_URLS)]
    raise ValueError(f"unknown page {name!r}")


def build_pages(app, stats: dict, names: list[str], seed: int = 1) -> dict[str, PageUrls]:
    """The URL sequence of each page in ``names``."""
    with app.app_context():
        slugs = public_slugs()
    pages = {}
    for name in names:
        # One generator per page, so a page's URLs don't depend on which other pages run.
        rng = random.Random(f"{seed}-{name}")
        urls = page_urls(name, rng, stats, slugs)
        pages[name] = PageUrls(name, zipf_sequence(urls, rng), len(urls))
    return pages
