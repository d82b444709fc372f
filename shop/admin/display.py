"""How every back-office list and details page shows values: times, Markdown, search hints.

Flask-Admin prints a datetime as Python does (``2026-12-01 05:17:24.590049+00:00``), flattens a
Markdown description into one line, and hints the search box with column names (``cell_type``).
The mixin here, part of every model view, shows times as people read them, a Markdown field as the
site renders it (the sanitised HTML stored beside it), and the search hint in the columns' labels.
"""

from datetime import date, datetime

from flask_admin.model import typefmt
from jinja2 import pass_context
from markupsafe import Markup

from shop.markdown import render_markdown
from shop.times import format_datetime, iso_datetime


def _human_time_element(view, value, name) -> Markup:
    """A time the reader can read, in a <time> a machine can too (and that never wraps)."""
    machine = iso_datetime(value) if isinstance(value, datetime) else value.isoformat()
    return Markup('<time class="admin-time" datetime="{}">{}</time>').format(machine, format_datetime(value))


def _export_time(view, value, name) -> str:
    """A spreadsheet gets a time it can sort and parse, to the second."""
    return iso_datetime(value) if isinstance(value, datetime) else value.isoformat()


TIME_FORMATTERS = {datetime: _human_time_element, date: _human_time_element}


def joined_list(words: list[str]) -> str:
    """ "a, b or c" for a search hint."""
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


class HumanDisplay:
    """Mixin for model views: human times, rendered Markdown on the details page, a worded search hint.

    ``markdown_columns`` names Markdown columns to render; a column ``x`` with a stored ``x_html``
    beside it (the site's sanitised rendering, e.g. Product.description) is found without being named.
    """

    column_type_formatters = {**typefmt.BASE_FORMATTERS, **TIME_FORMATTERS}
    column_type_formatters_detail = {**typefmt.DETAIL_FORMATTERS, **TIME_FORMATTERS}
    column_type_formatters_export = {**typefmt.EXPORT_FORMATTERS, datetime: _export_time, date: _export_time}
    markdown_columns: tuple[str, ...] = ()

    @pass_context
    def get_detail_value(self, context, model, name):
        """A Markdown column as HTML (the stored sanitised rendering when there is one); others as usual."""
        stored = getattr(type(model), f"{name}_html", None)
        if stored is not None or name in self.markdown_columns:
            html = getattr(model, f"{name}_html") if stored is not None else render_markdown(getattr(model, name))
            return Markup('<div class="admin-prose">{}</div>').format(Markup(html or ""))
        return self._get_list_value(
            context, model, name, self.column_formatters_detail, self.column_type_formatters_detail
        )

    def search_placeholder(self) -> str | None:
        """ "Search catalog no., name, markers or cell type": the columns' labels, not their names."""
        if not self.column_searchable_list:
            return None
        words = []
        for column in self.column_searchable_list:
            key = column if isinstance(column, str) else column.key
            label = self.column_labels.get(key) if self.column_labels else None
            word = label or key.replace("_", " ").replace(".", " ")
            words.append(word if word[1:2].isupper() else word[:1].lower() + word[1:])
        return "Search " + joined_list(words)
