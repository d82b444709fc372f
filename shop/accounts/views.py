"""Sign in and sign out."""

from datetime import UTC, datetime

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user

from shop.accounts import services
from shop.accounts.forms import LoginForm
from shop.accounts.models import User
from shop.extensions import db, limiter, login_manager

bp = Blueprint("accounts", __name__)


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """Flask-Login: the signed-in user for a session, if still active."""
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    return user if user is not None and user.active else None


def _account_key() -> str:
    """Rate-limit key for one account: the e-mail being tried."""
    return "login:" + (request.form.get("email") or "").strip().lower()[:254]


def _failed(response) -> bool:
    """Only failed sign-ins count towards the limits (success redirects)."""
    return response.status_code != 302


def _locked_out(limit):
    """Show the form again, saying when the person may try again."""
    wait = max(1, limit.reset_at - int(datetime.now(UTC).timestamp()))
    minutes = -(-wait // 60)
    form = LoginForm(request.form)
    message = (
        "Too many failed sign-in attempts. For your security, sign-in is paused: "
        f"try again in {minutes} minute{'s' if minutes != 1 else ''}."
    )
    response = current_app.make_response(
        (render_template("accounts/login.html", form=form, lockout=message), 429, {"Retry-After": str(wait)})
    )
    return response


def _limit(config_key: str, **kwargs):
    return limiter.limit(
        lambda: current_app.config[config_key], methods=["POST"], deduct_when=_failed, on_breach=_locked_out, **kwargs
    )


@bp.route("/login", methods=["GET", "POST"])
@_limit("LOGIN_LIMIT_PER_ADDRESS", scope="login-address")
@_limit("LOGIN_LIMIT_PER_ACCOUNT", key_func=_account_key, scope="login-account")
def login():
    """The staff sign-in page."""
    form = LoginForm(next=request.args.get("next", ""))
    if current_user.is_authenticated and request.method == "GET":
        return redirect(services.safe_next_url(form.next.data) or url_for("admin.index"))
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data)
        if user is not None:
            login_user(user)
            services.record_login(user)
            flash(f"Signed in as {user.email}.", "success")
            return redirect(services.safe_next_url(form.next.data) or url_for("admin.index"))
        form.password.errors.append("That e-mail and password don't match an active staff account.")
    return render_template("accounts/login.html", form=form), 200 if request.method == "GET" else 401


@bp.post("/logout")
def logout():
    """Sign out (a POST with a CSRF token, so no other site can sign you out)."""
    logout_user()
    flash("You have been signed out.", "success")
    return redirect(url_for("main.home"))


@login_manager.unauthorized_handler
def unauthorized():
    """Anonymous visitors to staff pages go to the sign-in page, then back."""
    return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))
