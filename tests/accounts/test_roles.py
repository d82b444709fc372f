"""Roles are data: what each role may do, and what the User model refuses."""

import pytest

from shop.accounts.models import User
from shop.accounts.roles import PERMISSIONS, ROLES, role_choices, role_permissions


def staff(role: str, active: bool = True) -> User:
    return User(email=f"{role}@staff.test", role=role, active=active)


def allowed(user: User) -> set[str]:
    return {permission for permission in PERMISSIONS if user.can(permission)}


def test_admin_has_every_permission():
    assert role_permissions("admin") == frozenset(PERMISSIONS)
    assert allowed(staff("admin")) == set(PERMISSIONS)


def test_marketing_edits_catalog_and_blog_but_not_users():
    user = staff("marketing")
    assert {"catalog.view", "catalog.edit", "blog.edit"} <= allowed(user)
    assert not user.can("users.manage")
    assert not user.can("audit.view")
    assert not user.can("inquiries.work")


def test_sales_views_catalog_and_works_inquiries_but_cannot_edit_catalog():
    user = staff("sales")
    assert {"catalog.view", "inquiries.work", "orders.view"} <= allowed(user)
    assert not user.can("catalog.edit")
    assert not user.can("blog.edit")
    assert not user.can("users.manage")


@pytest.mark.parametrize("role", sorted(ROLES))
def test_can_follows_the_role_table(role):
    assert allowed(staff(role)) == set(role_permissions(role))
    assert role_permissions(role) <= set(PERMISSIONS)  # no role names a permission that doesn't exist


@pytest.mark.parametrize("role", sorted(ROLES))
def test_deactivated_user_can_nothing(role):
    assert allowed(staff(role, active=False)) == set()


def test_unknown_permission_is_never_granted():
    assert not staff("admin").can("everything")


def test_unknown_role_has_no_permissions():
    assert role_permissions("boss") == frozenset()


def test_unknown_role_is_refused_by_the_model():
    with pytest.raises(ValueError, match="boss"):
        User(email="x@staff.test", role="boss")


def test_role_cannot_be_changed_to_an_unknown_one():
    user = staff("sales")
    with pytest.raises(ValueError):
        user.role = "root"
    assert user.role == "sales"


def test_role_choices_offer_every_role_with_a_label():
    assert dict(role_choices()) == {"admin": "Administrator", "marketing": "Marketing", "sales": "Sales"}


def test_email_is_stored_trimmed_and_lower_case():
    assert User(email="  Ada@CellShop.Example ", role="admin").email == "ada@cellshop.example"


def test_stored_roles_keep_their_permissions_after_a_round_trip(make_user, db):
    for role in ROLES:
        make_user(role)
    db.session.expire_all()
    for user in db.session.scalars(db.select(User)):
        assert allowed(user) == set(role_permissions(user.role))
