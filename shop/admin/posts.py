"""The post editor: write, preview, save as draft, schedule, publish, unpublish; revisions."""

from datetime import UTC

from flask import abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_admin import expose
from flask_login import current_user
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from shop import images
from shop.admin import fields
from shop.admin.catalog import product_lookup
from shop.admin.form_tokens import form_token_expired
from shop.admin.locking import STALE_MESSAGE, refusal
from shop.admin.lookups import LOOKUP_WIDGET_ARGS
from shop.admin.security import StaffModelView, StaffView
from shop.admin.strict_params import require_record_id
from shop.blog import services
from shop.blog.forms import BodyImageForm, PostForm
from shop.blog.models import STATUSES, Post, PostRevision, Topic
from shop.catalog.models import Product
from shop.extensions import db
from shop.markdown import render_markdown
from shop.models import utcnow
from shop.text import strip_control_characters
from shop.urls import record_id, small_index

POSTS_PER_PAGE = 50


class PostEditorView(StaffView):
    """Posts for marketing: a list, the editor, previews and revisions."""

    view_permission = edit_permission = "blog.edit"

    @expose("/")
    def index(self):
        """Posts, newest change first, a page at a time, filterable by status and searchable by title."""
        status = request.args.get("status", "")
        q = (request.args.get("q") or "").strip()[:200]
        query = select(Post).order_by(Post.updated_at.desc(), Post.id.desc())
        if status in STATUSES:
            query = query.where(Post.status == status)
        if q:
            query = query.where(func.lower(Post.title).contains(q.lower(), autoescape=True))
        page = small_index(request.args.get("page"))
        if page is None:
            abort(400, description="The page in the address must be a whole number, e.g. ?page=2.")
        # One row more than a page says whether there is a next one, without counting every post.
        rows = db.session.scalars(
            query.options(selectinload(Post.topics)).offset(page * POSTS_PER_PAGE).limit(POSTS_PER_PAGE + 1)
        ).all()
        return self.render(
            "admin/posts/list.html",
            posts=rows[:POSTS_PER_PAGE],
            page=page,
            more=len(rows) > POSTS_PER_PAGE,
            statuses=STATUSES,
            status=status,
            q=q,
            now=utcnow(),
        )

    @expose("/new", methods=["GET", "POST"])
    def create_view(self):
        """Write a new post."""
        return self._edit(Post(author_name=current_user.name or current_user.email, author_id=current_user.id))

    @expose("/<id:post_id>/edit", methods=["GET", "POST"])
    def edit_view(self, post_id: int):
        """Change a post."""
        return self._edit(self._post_or_404(post_id))

    def _edit(self, post: Post):
        form = PostForm(post=post)
        if request.method == "GET":
            _fill(form, post)
        elif form_token_expired():
            _hold_cover(form)  # already told; the form shows what was typed, with a fresh token
        elif form.validate_on_submit():
            problem = refusal(form.expected_version.data, post) if post.id is not None else None
            if problem:
                flash(problem, "error")
                _hold_cover(form)
            else:
                saved = self._save(form, post)
                if saved is not None:
                    return redirect(url_for(".edit_view", post_id=saved.id))
        else:
            flash("Not saved: please correct the fields marked below.", "error")
            _hold_cover(form)
        return self.render(
            "admin/posts/edit.html",
            form=form,
            post=post,
            statuses=STATUSES,
            now=utcnow(),
            pending_cover=_pending_cover(form),
            image_form=BodyImageForm(formdata=None),
        )

    def _save(self, form: PostForm, post: Post) -> Post | None:
        """Save the content, then do what the button asked (draft, publish, schedule, unpublish)."""
        folder = _posts_folder()
        new_cover = _pending_cover(form)
        if form.uploading_cover():
            try:
                uploaded = images.save_image(form.cover_image.data, folder)
            except images.ImageRejected as exc:
                form.cover_image.errors.append(str(exc))
                flash("Not saved: please correct the fields marked below.", "error")
                return None
            if new_cover:
                images.delete_image(new_cover, folder)  # the file chosen now replaces the one kept from before
            new_cover = uploaded
        old_cover = post.cover_image
        try:
            services.save_post(post, _content(form), actor=current_user.email)
            if new_cover:
                post.cover_image = new_cover
            message = _apply_action(form, post)
            db.session.commit()
        except StaleDataError:
            db.session.rollback()
            if new_cover:
                form.pending_cover.data = _cover_signer().dumps(new_cover)  # kept for the next try
            flash(STALE_MESSAGE, "error")
            return None
        if new_cover and old_cover:
            images.delete_image(old_cover, folder)
        flash(message, "success")
        return post

    @expose("/images", methods=["POST"])
    def upload_body_image(self):
        """Store an image for a post's body and answer with the Markdown that shows it.

        The editor's script asks for JSON and puts the Markdown at the cursor; without JavaScript
        the button opens a page with the Markdown to copy into the body.
        """
        form = BodyImageForm()
        wants_json = request.accept_mimetypes.best == "application/json"
        problem = None
        if not form.validate_on_submit():
            problem = next(iter(form.errors.values()))[0]
        else:
            try:
                name = images.save_image(form.body_image.data, _posts_folder())
            except images.ImageRejected as exc:
                problem = str(exc)
        if problem:
            if wants_json:
                return jsonify(error=problem), 400
            return self.render("admin/posts/body_image.html", problem=problem), 400
        url = url_for("main.upload", name=f"posts/{name}")
        markdown = form.markdown(url)
        if wants_json:
            return jsonify(markdown=markdown, url=url)
        return self.render("admin/posts/body_image.html", markdown=markdown, url=url, alt=form.body_image_alt.data)

    @expose("/preview", methods=["POST"])
    def preview(self):
        """The post as the public page will show it, from the form as it is now (nothing is saved)."""
        post_id = request.form.get("post_id", "")
        post = self._post_or_404(require_record_id(post_id)) if post_id else None
        form = PostForm(post=post)
        form.validate()  # fills slug and the helpers; errors don't stop a preview
        with db.session.no_autoflush:
            draft = _preview_post(form, post)
            html = render_template(
                "blog/post.html",
                post=draft,
                related_posts=[],
                related_products=services.related_products(draft),
                post_json_ld={},
                preview=True,
                **services.sidebar_context(),
            )
        db.session.rollback()  # the transient post and any new topics must never be saved
        return html

    @expose("/render", methods=["POST"])
    def render_body(self):
        """The body's HTML for the editor's live preview pane (the same renderer as the site)."""
        return str(render_markdown(request.form.get("body", "")[: services.MAX_BODY_LENGTH]))

    @expose("/<id:post_id>/revisions")
    def revisions(self, post_id: int):
        """A post's saved revisions, newest first."""
        post = self._post_or_404(post_id)
        return self.render("admin/posts/revisions.html", post=post, revisions=post.revisions)

    @expose("/<id:post_id>/revisions/<id:number>/restore", methods=["POST"])
    def restore(self, post_id: int, number: int):
        """Bring back an earlier revision (as a new revision, so nothing is lost)."""
        post = self._post_or_404(post_id)
        revision = db.session.scalar(
            select(PostRevision).where(PostRevision.post_id == post.id, PostRevision.number == number)
        )
        if revision is None:
            abort(404, description="There is no such revision of this post.")
        services.restore_revision(post, revision, actor=current_user.email)
        db.session.commit()
        flash(f"Revision {number} restored as revision {post.revision}.", "success")
        return redirect(url_for(".edit_view", post_id=post.id))

    def _post_or_404(self, post_id: int) -> Post:
        post = db.session.get(Post, post_id)
        if post is None:
            abort(404, description="There is no such post.")
        return post


def _posts_folder():
    return current_app.config["UPLOAD_FOLDER"] / "posts"


def _cover_signer() -> URLSafeSerializer:
    """Signs the name of a cover kept between tries, so a form can only name a file this editor stored."""
    return URLSafeSerializer(current_app.secret_key, salt="post-editor-pending-cover")


def _pending_cover(form: PostForm) -> str | None:
    """The stored name of the cover kept from an earlier try, if the form carries a genuine one still on disk."""
    try:
        name = _cover_signer().loads(form.pending_cover.data or "")
    except BadSignature:
        return None
    if not isinstance(name, str) or not images.STORED_NAME.fullmatch(name) or not (_posts_folder() / name).exists():
        return None
    return name


def _hold_cover(form: PostForm) -> None:
    """A refused try with a cover chosen: store the cover now and carry its name, so it is not lost."""
    if not form.uploading_cover():
        return
    try:
        name = images.save_image(form.cover_image.data, _posts_folder())
    except images.ImageRejected as exc:
        form.cover_image.errors = [*form.cover_image.errors, str(exc)]
        return
    kept = _pending_cover(form)
    if kept:
        images.delete_image(kept, _posts_folder())
    form.pending_cover.data = _cover_signer().dumps(name)


def _fill(form: PostForm, post: Post) -> None:
    """Put a post's values into the form."""
    form.title.data = post.title
    form.slug.data = post.slug
    form.summary.data = post.summary
    form.body.data = post.body
    form.topics.data = [t.id for t in post.topics]
    form.references.data = "\n".join(post.references or [])
    form.related_products.data = ", ".join(p.catalog_number for p in post.related_products)
    form.author_name.data = post.author_name
    form.cover_alt.data = post.cover_alt
    if post.status == "scheduled" and post.published_at:
        form.publish_at.data = post.published_at.astimezone(UTC).replace(tzinfo=None)
    form.expected_version.data = str(post.version or "")


def _topic_names(form: PostForm) -> list[str]:
    ids = [i for i in form.topics.data or [] if record_id(str(i))]  # a made-up id beyond int4 fails the query
    chosen = {t.id: t.name for t in db.session.scalars(select(Topic).where(Topic.id.in_(ids)))}
    return [*chosen.values(), *form.new_topic_names()]


def _content(form: PostForm) -> services.PostContent:
    numbers = form.catalog_numbers()
    products = (
        db.session.scalars(select(Product).where(func.upper(Product.catalog_number).in_(numbers))).all()
        if numbers
        else []
    )
    return services.PostContent(
        title=form.title.data or "",
        slug=form.slug.data or services.slugify(form.title.data or ""),
        summary=form.summary.data or "",
        body=form.body.data or "",
        references=form.reference_lines(),
        topic_names=_topic_names(form),
        related_products=list(products),
        cover_alt=form.cover_alt.data or "",
        author_name=form.author_name.data or "",
    )


def _apply_action(form: PostForm, post: Post) -> str:
    """Publish, schedule or unpublish as asked; returns what to tell the editor."""
    action = form.action.data
    if action == "publish":
        services.publish_post(post)
        return "Published. The post is live."
    if action == "schedule":
        services.schedule_post(post, form.publish_at.data.replace(tzinfo=UTC))
        return f"Scheduled for {post.published_at:%d %b %Y, %H:%M} UTC."
    if action == "unpublish":
        services.unpublish_post(post)
        return "Unpublished. The post is a draft again and no longer on the site."
    if post.status == "published":
        return "Saved. The changes are live."
    return "Saved."


def _preview_post(form: PostForm, post: Post | None) -> Post:
    """A Post object that is never added to the session, for the preview."""
    content = _content(form)
    draft = Post(
        title=content.title or "(untitled)",
        slug=content.slug,
        summary=content.summary,
        body=content.body,
        body_html=str(render_markdown(content.body)),
        references=content.references,
        author_name=content.author_name,
        cover_image=_pending_cover(form) or (post.cover_image if post else None),
        cover_alt=content.cover_alt,
        status="draft",
        published_at=form.publish_at.data.replace(tzinfo=UTC) if form.publish_at.data else utcnow(),
        updated_at=utcnow(),
    )
    existing = {t.name: t for t in db.session.scalars(select(Topic))}
    draft.topics = [existing.get(name) or Topic(name=name, slug=services.slugify(name)) for name in content.topic_names]
    draft.related_products = content.related_products
    return draft


TOPIC_PRODUCTS_LOOKUP = product_lookup("products", several=True)


class TopicView(StaffModelView):
    """Topics, and the products that go with each (shown as related products on posts)."""

    view_permission = edit_permission = "blog.edit"
    form_ajax_refs = {"products": TOPIC_PRODUCTS_LOOKUP}
    form_widget_args = {"products": LOOKUP_WIDGET_ARGS}
    column_list = ("name", "slug", "description")
    column_searchable_list = ("name", "slug")
    column_default_sort = "name"
    form_columns = ("name", "slug", "description", "products")
    form_overrides = {"slug": fields.slug_field(80)}
    form_args = {
        "name": {"filters": [lambda value: strip_control_characters(value or "").strip()]},
        # Reaches the topic's Atom feed, where a control character would make the XML invalid.
        "description": {"filters": [lambda value: strip_control_characters(value or "")]},
        "products": TOPIC_PRODUCTS_LOOKUP.field_args,
    }
