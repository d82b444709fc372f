"""The staff back office under /admin/, built on Flask-Admin.

Flask-Admin gives the list, search, filter, sort, create/edit/delete and
export screens; the views here add permissions, validation that explains
itself, optimistic locking and the audit log.
"""

from flask import Flask
from flask_admin import Admin
from flask_admin.theme import Bootstrap4Theme

from shop import audit, errors
from shop.accounts.models import User
from shop.admin.alerts import DonorAlertView
from shop.admin.audit_log import AuditView, SignInView
from shop.admin.catalog import CategoryView, DonorView, LotView, ProductView
from shop.admin.catalog_csv import CatalogCSVView
from shop.admin.dashboard import DashboardView
from shop.admin.inquiries import InquiryView
from shop.admin.orders import OrderView
from shop.admin.outbox import OutboxView
from shop.admin.pages import PageEditorView
from shop.admin.posts import PostEditorView, TopicView
from shop.admin.subscribers import SubscriberView
from shop.admin.users import UserView
from shop.alerts.models import AlertFilter
from shop.blog.models import Topic
from shop.catalog.models import Category, Donor, Lot, Product
from shop.extensions import db
from shop.inquiries.models import Inquiry
from shop.mail.models import OutboxMessage
from shop.payments.models import Order
from shop.security_headers import csp_nonce
from shop.subscriptions.models import Subscriber


def init_admin(app: Flask) -> Admin:
    """Mount the back office on the app, one fresh set of views per app."""
    admin = Admin(
        app,
        name="CellShop back office",
        index_view=DashboardView(name="Dashboard", url="/admin"),
        theme=Bootstrap4Theme(base_template="admin/cellshop_base.html", swatch="default"),
        # Flask-Admin's inline <script> tags (modal forms) carry this request's nonce; public pages have none.
        csp_nonce_generator=csp_nonce,
    )
    admin.add_view(InquiryView(Inquiry, db, name="Inquiries", endpoint="inquiries_admin", url="/admin/inquiries"))
    admin.add_view(OrderView(Order, db, name="Orders", endpoint="order"))
    admin.add_view(DonorAlertView(AlertFilter, db, name="Donor alerts", endpoint="donor_alerts"))
    admin.add_view(ProductView(Product, db, name="Products", category="Catalog"))
    admin.add_view(CategoryView(Category, db, name="Categories", category="Catalog"))
    admin.add_view(DonorView(Donor, db, name="Donors", category="Catalog"))
    admin.add_view(LotView(Lot, db, name="Lots", category="Catalog"))
    admin.add_view(CatalogCSVView(name="Import / export", endpoint="catalog_csv", category="Catalog"))
    admin.add_view(PostEditorView(name="Posts", endpoint="posts", category="Blog"))
    admin.add_view(TopicView(Topic, db, name="Topics", category="Blog"))
    admin.add_view(SubscriberView(Subscriber, db, name="Subscribers", endpoint="subscribers", category="Blog"))
    # Not endpoint "pages": that is the public pages' blueprint.
    admin.add_view(PageEditorView(name="Pages", endpoint="site_pages", url="pages"))
    admin.add_view(OutboxView(OutboxMessage, db, name="Mail outbox", endpoint="outbox"))
    admin.add_view(UserView(User, db, name="Staff", endpoint="users"))
    admin.add_view(AuditView(audit.AuditEntry, db, name="Audit log", endpoint="audit", category="Activity"))
    admin.add_view(SignInView(audit.SignIn, db, name="Sign-ins", endpoint="sign_ins", category="Activity"))
    # A 403 or 404 inside the back office leads back into it, not to the catalog.
    errors.register_area(
        app,
        prefix=admin.url,
        home_endpoint="admin.index",
        home_label="Back to the dashboard",
        forbidden="Your role doesn't give access to this page of the back office. Ask an administrator if you need it.",
    )
    return admin
