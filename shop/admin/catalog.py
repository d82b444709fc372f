"""Back-office views of the catalog: categories, products, donors and lots."""

from dataclasses import dataclass

from flask import current_app, g, jsonify, request, url_for
from flask_admin import expose
from flask_admin.contrib.sqla.filters import FilterEqual
from flask_admin.form import rules as form_rules
from markupsafe import Markup
from sqlalchemy import false, func, select
from sqlalchemy.orm import joinedload, with_parent
from wtforms import BooleanField, FileField, TextAreaField
from wtforms.validators import InputRequired, ValidationError

from shop import images
from shop.admin import fields
from shop.admin.lookups import LOOKUP_RESULTS, LOOKUP_WIDGET_ARGS, NaturalKeyLoader
from shop.admin.security import StaffModelView
from shop.catalog import rules
from shop.catalog.models import (
    CONTAINERS,
    FORMATS,
    GRADES,
    LOT_STATUSES,
    SEROSTATUS,
    SEXES,
    SHIPPING_CONDITIONS,
    SMOKING,
    Donor,
    DonorAllele,
    Lot,
    Product,
)
from shop.catalog.search import NAME, matching_products, search_terms
from shop.extensions import db
from shop.urls import free_slug, slugify

# Form field names that differ from the product field a CSV row calls them.
FORM_NAMES = {"applications": "applications_text"}
# Product fields typed as text and read by the field's rule (the others are choices, ticks and free text).
RULED_PRODUCT_FIELDS = (
    "catalog_number", "slug", "cells_per_unit", "min_purity", "min_viability", "currency", "lead_time_days",
    "stability_hours",
)  # fmt: skip
LOT_PERCENTAGES = ("viability", "purity", "cd3_pct", "cd4_pct", "cd8_pct", "cd19_pct", "cd14_pct", "cd56_pct")


def _choices(mapping: dict) -> list[tuple[str, str]]:
    return list(mapping.items())


class CatalogView(StaffModelView):
    """Shared behaviour: catalog permissions, and deletes refused while others depend on the record."""

    view_permission = "catalog.view"
    edit_permission = "catalog.edit"
    form_excluded_columns = ("version", "created_at", "updated_at", "lots", "products")
    create_template = "admin/catalog/create.html"
    edit_template = "admin/locking/edit.html"
    conflict_exempt = ("remove_image",)

    def on_model_delete(self, model):
        """Refuse to delete a record others depend on, saying what to do instead."""
        for relation, what in self.delete_blockers:
            count = _related_count(model, relation)
            if count:
                raise ValidationError(f"Not deleted: {model} still has {count} {what}. {self.delete_advice}")

    delete_blockers: tuple[tuple[str, str], ...] = ()
    delete_advice = ""


def _related_count(model, relation: str) -> int:
    """How many records ``model.<relation>`` holds, counted by the database (a category can hold 25,000 products)."""
    attribute = getattr(type(model), relation)
    related = attribute.property.mapper.class_
    return db.session.scalar(select(func.count()).select_from(related).where(with_parent(model, attribute)))


class CategoryView(CatalogView):
    """Categories of products."""

    delete_blockers = (("products", "product(s)"),)
    delete_advice = "Move them to another category first."
    column_list = ("position", "name", "slug")
    column_default_sort = "position"
    column_searchable_list = ("name", "slug")
    form_columns = ("name", "slug", "description", "position")
    form_overrides = {"slug": fields.slug_field(80)}


def _price_text(view, context, model, name):
    from shop.templating import format_money

    return "Quote only" if model.price_cents is None else format_money(model.price_cents, model.currency)


def _lot_status(view, context, model, name):
    """The lot's status, and "Expired" when a fresh lot is past its product's stability window."""
    label = LOT_STATUSES.get(model.status, model.status)
    if model.status == "available" and model.expired:
        until = model.usable_until.strftime("%Y-%m-%d %H:%M UTC")
        return Markup(
            '{} <span class="badge lot-expired" title="Past its stability window since {}">Expired</span>'
        ).format(label, until)
    return label


def _thumbnail(view, context, model, name):
    if not model.image:
        return ""
    src = url_for("main.upload", name="products/" + images.thumbnail_name(model.image))
    return Markup('<img src="{}" alt="" width="48" height="48" class="admin-thumb">').format(src)


SPECIFICATION = [
    "cell_type", "markers", "tissue_source", "mobilization", "format", "container", "unit_size", "cells_per_unit",
    "isolation_method", "min_purity", "min_viability", "grade",
]  # fmt: skip
# The product form in sections, each a group staff think of together (every field of the form is in one).
PRODUCT_SECTIONS = (
    fields.Section(
        "Identity",
        ["name", "catalog_number", "slug", "category", "description", "applications_text", "active", "featured"],
    ),
    fields.Section("Specification", SPECIFICATION),
    fields.Section("Donor selection", ["donor_health", "donor_selectable", "recallable_donors"]),
    fields.Section("Shipping and stability", ["shipping_condition", "lead_time_days", "stability", "stability_hours"]),
    fields.Section("Pricing", ["price", "currency"]),
)


# Flask-Admin drops every field no rule names, the CSRF token too: named here, they stay (hidden_tag renders them).
HIDDEN_FIELDS = (fields.Hidden("csrf_token"), fields.Hidden("expected_version"))


class CurrentImage(form_rules.NestedRule):
    """On an edit form with an image: the image, and its "Remove" tick (a new product has nothing to remove)."""

    def __call__(self, form, form_opts=None, field_args=None):
        """The thumbnail and the fields inside, or nothing without an image."""
        product = getattr(form, "_obj", None)
        if product is None or not product.image:
            return Markup("")
        src = url_for("main.upload", name="products/" + images.thumbnail_name(product.image))
        figure = Markup(
            '<figure class="mb-2"><img src="{}" alt="The current image of {}" width="160" height="160" '
            'class="img-thumbnail"><figcaption class="small text-muted">Current image</figcaption></figure>'
        ).format(src, product.name)
        return figure + super().__call__(form, form_opts, field_args)


class ProductView(CatalogView):
    """Products: specification, price, image and visibility."""

    delete_blockers = (("lots", "lot(s)"),)
    delete_advice = "Untick Active to hide it from the shop instead."
    column_list = ("image", "catalog_number", "name", "category", "format", "grade", "price_cents", "active")
    column_labels = {
        "price_cents": "Price",
        "image": "",
        "catalog_number": "Catalog no.",
        "cell_type": "Cell type",
        "tissue_source": "Tissue source",
        "donor_health": "Donor health",
        "unit_size": "Unit size",
        "cells_per_unit": "Cells per unit",
        "isolation_method": "Isolation method",
        "min_purity": "Minimum purity (%)",
        "min_viability": "Minimum viability (%)",
        "lead_time_days": "Lead time (business days)",
        "stability_hours": "Stability window (hours from collection; fresh products)",
        "shipping_condition": "Shipping condition",
        "donor_selectable": "Buyers may state donor criteria",
        "recallable_donors": "Recallable donors",
        "featured": "Featured on the home page",
        "active": "Active (shown in the shop)",
    }
    column_choices = {
        "format": _choices(FORMATS),
        "grade": _choices(GRADES),
        "container": _choices(CONTAINERS),
        "shipping_condition": _choices(SHIPPING_CONDITIONS),
    }
    column_formatters = {"price_cents": _price_text, "image": _thumbnail}
    column_searchable_list = ("catalog_number", "name", "markers", "cell_type")
    column_filters = ("category", "format", "grade", "active", "featured", "container", "shipping_condition")
    column_sortable_list = ("catalog_number", "name", ("category", "category.name"), "format", "grade", "price_cents")
    column_default_sort = "catalog_number"
    # description_html is the description rendered, set by the model whenever the description is.
    column_details_exclude_list = ("version", "description_html")
    # The fields a CSV row holds, each read by the same rule (shop/catalog/rules.py), then the image.
    form_columns = (
        *(FORM_NAMES.get(name, name) for name in rules.PRODUCT_FIELDS),
        "image_upload",
        "remove_image",
    )
    form_create_rules = (
        *PRODUCT_SECTIONS,
        fields.Section("Images", ["image_upload"]),
        fields.Hidden("remove_image"),  # never shown: a new product has no image to remove
        *HIDDEN_FIELDS,
    )
    form_edit_rules = (
        *PRODUCT_SECTIONS,
        fields.Section("Images", [CurrentImage(["remove_image"]), "image_upload"]),
        *HIDDEN_FIELDS,
    )
    form_choices = {
        "format": _choices(FORMATS),
        "grade": _choices(GRADES),
        "container": _choices(CONTAINERS),
        "shipping_condition": _choices(SHIPPING_CONDITIONS),
    }
    form_overrides = {
        **{name: fields.product_field(name) for name in RULED_PRODUCT_FIELDS},
        "cells_per_unit": fields.product_field("cells_per_unit", fields.count_shown, fields.CellCountInput()),
    }
    form_args = {
        "slug": {"description": "The end of the product's URL. Leave empty to make it from the name."},
        "catalog_number": {"label": "Catalog number", "description": "e.g. CT-PBMC-CR-10M"},
        "cells_per_unit": {"description": "e.g. 1e7, 1×10^7, 10 million or 10,000,000"},
        "markers": {"description": "e.g. CD3+ CD19+"},
        "stability": {"description": "What buyers should know, e.g. “About 90% viable for 24–36 h after collection.”"},
    }
    form_widget_args = {"description": {"rows": 12}}
    form_extra_fields = {
        "price": fields.product_field("price", rules.price_text)(
            "Price (in the currency below)", description="Empty for quote only, e.g. 1900.00"
        ),
        "applications_text": TextAreaField("Applications", description="One per line."),
        "image_upload": FileField("Image", description="JPEG, PNG or WebP, at least 200 × 200 px, at most 8 MB."),
        "remove_image": BooleanField("Remove the current image"),
    }
    edit_template = "admin/catalog/product_edit.html"
    # The product's lots shown on its edit page; more are a click away in the lot list.
    LOTS_SHOWN = 20

    @expose("/cell-count")
    def cell_count(self):
        """How a typed cell count is read, by the rule the form and the CSV import use (JSON for the form's JS)."""
        typed = request.args.get("text", "")[: rules.CELL_COUNT_TEXT_LIMIT]
        try:
            count = rules.cell_count(typed)
        except rules.RuleError as exc:
            return jsonify(understood=None, message=str(exc))
        said = f"Understood as {rules.cell_count_text(count)} cells." if count is not None else ""
        return jsonify(understood=count, message=said)

    def render(self, template, **kwargs):
        """The edit page also lists the product's lots, with a way to add one."""
        if template == self.edit_template and kwargs.get("model") is not None:
            kwargs["product_lots"] = product_lots(kwargs["model"], self.LOTS_SHOWN, self._lot_list_url)
            kwargs["lot_statuses"] = LOT_STATUSES
        return super().render(template, **kwargs)

    def _lot_list_url(self, catalog_number: str) -> str:
        """The lot list filtered to one product's lots (Flask-Admin numbers its filters: find the one to use)."""
        lots = next(view for view in self.admin._views if isinstance(view, LotView))
        for index, flt in enumerate(lots._filters or []):
            if isinstance(flt, FilterEqual) and str(flt.column) == "product.catalog_number":
                return url_for("lot.index_view", **{f"flt1_{lots.get_filter_arg(index, flt)}": catalog_number})
        return url_for("lot.index_view")

    def _apply_search(self, query, count_query, joins, count_joins, search):
        """Products with every word typed, through the full-text index (the search box's substring match over
        four columns read every product: 250-400 ms on 100,000)."""
        terms = search_terms(search)
        matching = Product.id.in_(matching_products(terms)) if terms else false()
        count_query = count_query.filter(matching) if count_query is not None else None
        return query.filter(matching), count_query, joins, count_joins

    def search_placeholder(self) -> str:
        """What the search box finds."""
        return "Words of the catalog number, name, specification or description"

    def scaffold_form(self):
        """The product form; its slug may be left empty, to be made from the name (as the CSV import does)."""
        form_class = super().scaffold_form()
        slug = form_class.slug.kwargs
        slug["validators"] = [v for v in slug["validators"] if not isinstance(v, InputRequired)]
        return form_class

    def prefill(self, form, model):
        """Show the price in currency units and the applications one per line."""
        form.price.data = model.price_cents
        form.applications_text.data = "\n".join(model.applications or [])

    def validate_form(self, form):
        """Check the image here, so its errors appear next to its field."""
        valid = super().validate_form(form)
        if not hasattr(form, "image_upload") or not valid:
            return valid
        upload = form.image_upload.data
        if upload and getattr(upload, "filename", ""):
            try:
                # Kept on g, not on the view: one view instance serves every request.
                g.saved_image = images.save_image(upload, _image_folder())
            except images.ImageRejected as exc:
                form.image_upload.errors = [*form.image_upload.errors, str(exc)]
                return False
        return True

    def on_model_change(self, form, model, is_created):
        """Apply the converted fields; replace or remove the image."""
        super().on_model_change(form, model, is_created)
        model.price_cents = form.price.data
        if not model.slug:
            model.slug = _free_product_slug(model)
        model.applications = [line.strip() for line in (form.applications_text.data or "").splitlines() if line.strip()]
        g.replaced_image = model.image
        if g.get("saved_image"):
            model.image = g.saved_image
        elif getattr(form, "remove_image", None) is not None and form.remove_image.data:
            model.image = None

    def after_model_change(self, form, model, is_created):
        """Delete a replaced image file once the new one is committed."""
        old = g.pop("replaced_image", None)
        g.pop("saved_image", None)
        if old and old != model.image:
            images.delete_image(old, _image_folder())

    def after_model_delete(self, model):
        """The image goes with the product."""
        if model.image:
            images.delete_image(model.image, _image_folder())

    def handle_view_exception(self, exc):
        """Don't keep an uploaded file for a save that failed."""
        saved = g.pop("saved_image", None)
        if saved:
            images.delete_image(saved, _image_folder())
        return super().handle_view_exception(exc)


@dataclass
class ProductLots:
    """The lots an edit page shows for a product: the newest, how many there are, and where to add one."""

    lots: list
    total: int
    add_url: str
    list_url: str


def product_lots(product: Product, limit: int, list_url) -> ProductLots:
    """The product's newest lots (by collection date) with their donors, and the links to add or see all."""
    query = (
        select(Lot)
        .where(Lot.product_id == product.id)
        .options(joinedload(Lot.donor))
        .order_by(Lot.collected_on.desc(), Lot.id.desc())
        .limit(limit)
    )
    here = url_for("product.edit_view", id=product.id)
    return ProductLots(
        lots=list(db.session.scalars(query)),
        total=_related_count(product, "lots"),
        add_url=url_for("lot.create_view", product=product.catalog_number, url=here),
        list_url=list_url(product.catalog_number),
    )


def _image_folder():
    return current_app.config["UPLOAD_FOLDER"] / "products"


def _free_product_slug(product: Product) -> str:
    """A slug made from the product's name that no other product has."""
    base = slugify(product.name) or slugify(product.catalog_number or "") or "product"
    with db.session.no_autoflush:  # the product itself is not saved yet, and can't be without its slug
        others = select(Product.slug).where(Product.slug.startswith(base), Product.id.is_distinct_from(product.id))
        taken = set(db.session.scalars(others))
    return free_slug(base, taken, rules.TEXT_LENGTHS["slug"])


class DonorView(CatalogView):
    """De-identified donors: a code and the attributes buyers select on."""

    delete_blockers = (("lots", "lot(s)"),)
    delete_advice = "Donor records behind lots are kept for traceability."
    column_list = ("code", "sex", "age", "cmv_status", "ebv_status", "blood_type", "recallable", "donations")
    column_labels = {
        "cmv_status": "CMV",
        "ebv_status": "EBV",
        "bmi": "BMI",
        "blood_type": "Blood type",
        "disease_state": "Disease state",
        "smoking": "Smoking",
    }
    column_choices = {"sex": _choices(SEXES), "cmv_status": _choices(SEROSTATUS), "ebv_status": _choices(SEROSTATUS)}
    column_searchable_list = ("code", "ethnicity")
    column_filters = ("sex", "cmv_status", "ebv_status", "recallable", "smoking", "age", "blood_type")
    column_default_sort = "code"
    form_columns = (
        "code", "sex", "age", "ethnicity", "bmi", "blood_type", "hla_text", "cmv_status", "ebv_status", "smoking",
        "disease_state", "recallable", "donations",
    )  # fmt: skip
    # Buyers filter on these, so each must be chosen (or marked "not tested"), never left at a default.
    form_overrides = {
        "sex": fields.choice_field(SEXES, rules.DONOR_RULES["sex"]),
        "cmv_status": fields.choice_field(SEROSTATUS, rules.DONOR_RULES["cmv"]),
        "ebv_status": fields.choice_field(SEROSTATUS, rules.DONOR_RULES["ebv"]),
        "smoking": fields.choice_field(SMOKING, rules.DONOR_RULES["smoking"]),
        "code": fields.rule_field(rules.donor_code),
        "age": fields.rule_field(rules.donor_age),
        "bmi": fields.rule_field(rules.bmi),
        "donations": fields.rule_field(rules.donations),
    }
    form_extra_fields = {
        "hla_text": fields.HlaTypingField(
            "HLA typing", description="Alleles separated by spaces, e.g. A*02:01 A*24:02 B*07:02"
        ),
    }

    def prefill(self, form, model):
        """Show the alleles as one line."""
        form.hla_text.data = [a.allele for a in model.alleles]

    def on_model_change(self, form, model, is_created):
        """Replace the donor's alleles with those typed."""
        super().on_model_change(form, model, is_created)
        wanted = form.hla_text.data or []
        if [a.allele for a in model.alleles] != wanted:
            model.alleles = [DonorAllele(allele=a) for a in wanted]


class ProductLookup(NaturalKeyLoader):
    """Products found by the words of their name and catalog number, through the full-text index.

    A substring match (LIKE '%…%') read the whole product table for a word
    that matches nothing: 260-330 ms on 100,000 products (SQLite).
    """

    def get_list(self, term: str, offset: int = 0, limit: int = LOOKUP_RESULTS):
        """One page of the products whose name or catalog number has words starting with those typed."""
        terms = search_terms(term)  # words only: % _ * " and the like never reach the database
        if not terms:
            return []
        ids = matching_products(terms, NAME).order_by("id").offset(offset).limit(limit)
        return db.session.scalars(select(Product).where(Product.id.in_(ids)).order_by(Product.id)).all()


def product_lookup(name: str, several: bool = False) -> ProductLookup:
    """Products found as staff type part of a catalog number or name (a select of every product was 8.7 MB)."""
    fields = ("catalog_number", "name")
    return ProductLookup(name, Product, "catalog_number", fields, "catalog number or name", several)


DONOR_LOOKUP = NaturalKeyLoader("donor", Donor, "code", ("code",), "donor code")
LOT_PRODUCT_LOOKUP = product_lookup("product")


class LotView(CatalogView):
    """Lots: what one donor gave for one product, with QC results and stock."""

    form_ajax_refs = {"product": LOT_PRODUCT_LOOKUP, "donor": DONOR_LOOKUP}

    column_list = ("lot_number", "product", "donor", "collected_on", "viability", "units_available", "status")
    column_formatters = {"status": _lot_status}
    column_searchable_list = ("lot_number",)
    column_filters = ("status", "product", "donor", "collected_on", "units_available")
    # Product and donor sort by the lot's own (indexed) keys, grouping each one's lots; sorting by catalog
    # number joined every lot to its product first: 300-450 ms on 100,000 products.
    column_sortable_list = (
        "lot_number", ("product", "product_id"), ("donor", "donor_id"), "collected_on",
        "viability", "units_available", "status",
    )  # fmt: skip
    # Newest first by id, which the primary key gives in order; by collection date (no index) took 180 ms.
    column_default_sort = ("id", True)
    form_columns = (
        "lot_number", "product", "donor", "status", "collected_on", "frozen_on", "total_cells", "units_available",
        "viability", "purity", "cd3_pct", "cd4_pct", "cd8_pct", "cd19_pct", "cd14_pct", "cd56_pct",
    )  # fmt: skip
    form_choices = {"status": _choices(LOT_STATUSES)}
    column_choices = {"status": _choices(LOT_STATUSES)}
    column_labels = {
        "lot_number": "Lot number",
        "collected_on": "Collected on",
        "frozen_on": "Frozen on",
        "total_cells": "Total cells",
        "units_available": "Units available",
        "viability": "Viability (%)",
        "purity": "Purity (%)",
        **{f"cd{n}_pct": f"CD{n} (%)" for n in (3, 4, 8, 19, 14, 56)},
    }
    form_overrides = {
        "lot_number": fields.rule_field(rules.lot_number),
        "units_available": fields.rule_field(rules.units_in_stock),
        "total_cells": fields.CellCountField,
        "collected_on": fields.DateField,
        "frozen_on": fields.DateField,
        **dict.fromkeys(LOT_PERCENTAGES, fields.PercentField),
    }
    form_args = {
        "product": LOT_PRODUCT_LOOKUP.field_args,
        "donor": DONOR_LOOKUP.field_args,
        "total_cells": {"description": "e.g. 1.2e9, 1.2×10^9, 1.2 billion or 1,200,000,000"},
    }
    form_widget_args = {"product": LOOKUP_WIDGET_ARGS, "donor": LOOKUP_WIDGET_ARGS}

    def create_form(self, obj=None):
        """A new lot's form; "Add lot" on a product's page opens it with that product (``?product=`` catalog number)."""
        form = super().create_form(obj)
        if request.method == "GET":
            for name, loader in (("product", LOT_PRODUCT_LOOKUP), ("donor", DONOR_LOOKUP)):
                chosen = loader.get_one(request.args.get(name, ""))
                if chosen is not None:
                    getattr(form, name).data = chosen
        return form

    def validate_form(self, form):
        """Collected and frozen by today, and frozen on or after collection (rules.lot_dates)."""
        valid = super().validate_form(form)
        collected = getattr(form, "collected_on", None)
        frozen = getattr(form, "frozen_on", None)
        if not (valid and collected and frozen):
            return valid
        errors = rules.lot_dates(collected.data, frozen.data)
        for name, message in errors.items():
            field = form[name]
            field.errors = [*field.errors, message]
        return not errors
