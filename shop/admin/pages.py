"""The page editor: About, Quality, Shipping, Terms, Privacy and any page marketing adds; revisions."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_admin import expose
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from shop.admin.form_tokens import form_token_expired
from shop.admin.locking import STALE_MESSAGE, refusal
from shop.admin.security import StaffView
from shop.admin.strict_params import require_record_id
from shop.blog.forms import BodyImageForm
from shop.extensions import db
from shop.markdown import render_markdown
from shop.models import utcnow
from shop.pages import services
from shop.pages.forms import PageForm
from shop.pages.models import Page, PageRevision


class PageEditorView(StaffView):
    """The site's pages for marketing: a list, the editor with a live preview, a full preview, revisions."""

    view_permission = edit_permission = "pages.edit"

    @expose("/")
    def index(self):
        """Every page: the standard ones first, then the others."""
        pages = services.standard_first(db.session.scalars(select(Page)).all())
        written = {p.slug for p in pages}
        missing = [(slug, title) for slug, title in services.STANDARD_PAGES.items() if slug not in written]
        return self.render("admin/pages/list.html", pages=pages, missing=missing, standard=services.STANDARD_PAGES)

    @expose("/new", methods=["GET", "POST"])
    def create_view(self):
        """Write a new page (a standard page's slug and title come from the list's "Write it" link)."""
        slug = request.args.get("slug", "")
        page = Page(slug="", title="", published=True)
        if request.method == "GET" and slug in services.STANDARD_PAGES:
            page.slug, page.title = slug, services.STANDARD_PAGES[slug]
        return self._edit(page)

    @expose("/<id:page_id>/edit", methods=["GET", "POST"])
    def edit_view(self, page_id: int):
        """Change a page."""
        return self._edit(self._page_or_404(page_id))

    def _edit(self, page: Page):
        form = PageForm(page=page)
        if request.method == "GET":
            _fill(form, page)
        elif form_token_expired():
            pass  # already told; the form shows what was typed, with a fresh token
        elif form.validate_on_submit():
            problem = refusal(form.expected_version.data, page) if page.id is not None else None
            if problem:
                flash(problem, "error")
            elif self._save(form, page):
                return redirect(url_for(".edit_view", page_id=page.id))
        else:
            flash("Not saved: please correct the fields marked below.", "error")
        return self.render(
            "admin/pages/edit.html",
            form=form,
            page=page,
            standard=services.STANDARD_PAGES,
            image_form=BodyImageForm(formdata=None),
        )

    def _save(self, form: PageForm, page: Page) -> bool:
        try:
            services.save_page(page, _content(form), actor=current_user.email)
            db.session.commit()
        except StaleDataError:
            db.session.rollback()
            flash(STALE_MESSAGE, "error")
            return False
        flash("Saved. The page is live." if page.published else "Saved. The page is hidden from the site.", "success")
        return True

    @expose("/preview", methods=["POST"])
    def preview(self):
        """The page as the public will see it, from the form as it is now (nothing is saved)."""
        page_id = request.form.get("page_id", "")
        page = self._page_or_404(require_record_id(page_id)) if page_id else None
        form = PageForm(page=page)
        form.validate()  # fills the slug; errors don't stop a preview
        content = _content(form)
        draft = Page(
            slug=content.slug,
            title=content.title or "(untitled)",
            summary=content.summary,
            body_html=str(render_markdown(content.body)),
            updated_at=utcnow(),
        )
        return render_template("pages/page.html", page=draft, section_pages=services.public_pages(), preview=True)

    @expose("/render", methods=["POST"])
    def render_body(self):
        """The body's HTML for the editor's live preview pane (the same renderer as the site)."""
        return str(render_markdown(request.form.get("body", "")[: services.MAX_BODY_LENGTH]))

    @expose("/<id:page_id>/revisions")
    def revisions(self, page_id: int):
        """A page's saved revisions, newest first."""
        page = self._page_or_404(page_id)
        return self.render("admin/pages/revisions.html", page=page, revisions=page.revisions)

    @expose("/<id:page_id>/revisions/<id:number>/restore", methods=["POST"])
    def restore(self, page_id: int, number: int):
        """Bring back an earlier revision (as a new revision, so nothing is lost)."""
        page = self._page_or_404(page_id)
        revision = db.session.scalar(
            select(PageRevision).where(PageRevision.page_id == page.id, PageRevision.number == number)
        )
        if revision is None:
            abort(404, description="There is no such revision of this page.")
        services.restore_revision(page, revision, actor=current_user.email)
        db.session.commit()
        flash(f"Revision {number} restored as revision {page.revision}.", "success")
        return redirect(url_for(".edit_view", page_id=page.id))

    @expose("/<id:page_id>/delete", methods=["POST"])
    def delete_view(self, page_id: int):
        """Delete a page marketing added; the standard pages can be hidden but not deleted (the footer links them)."""
        page = self._page_or_404(page_id)
        if page.slug in services.STANDARD_PAGES:
            flash(
                "The standard pages can't be deleted: the footer links to them. "
                "Untick “Shown on the site” to hide one.",
                "error",
            )
            return redirect(url_for(".edit_view", page_id=page.id))
        db.session.delete(page)
        db.session.commit()
        flash(f"Page “{page.title}” deleted.", "success")
        return redirect(url_for(".index"))

    def _page_or_404(self, page_id: int) -> Page:
        page = db.session.get(Page, page_id)
        if page is None:
            abort(404, description="There is no such page.")
        return page


def _fill(form: PageForm, page: Page) -> None:
    """Put a page's values into the form."""
    form.title.data = page.title
    form.slug.data = page.slug
    form.summary.data = page.summary
    form.body.data = page.body
    form.published.data = page.published if page.published is not None else True
    form.expected_version.data = str(page.version or "")


def _content(form: PageForm) -> services.PageContent:
    return services.PageContent(
        title=form.title.data or "",
        slug=form.slug.data or "",
        summary=form.summary.data or "",
        body=form.body.data or "",
        published=bool(form.published.data),
    )
