"""Sign in and sign out."""

from functools import wraps

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from shop import rate_limits
from shop.accounts import services, sessions
from shop.accounts.forms import LoginForm
from shop.extensions import limiter, login_manager

bp = Blueprint("accounts", __name__)
login_manager.user_loader(sessions.load_session_user)
bp.before_app_request(sessions.end_idle_session)

# The only body the sign-in form sends (it has no file field, so no multipart).
FORM_BODY = "application/x-www-form-urlencoded"


def _account_key() -> str:
    """Rate-limit key for one account: the e-mail being tried, read where LoginForm reads it."""
    return "login:" + (request.form.get("email") or "").strip().lower()[:254]


def _render_login(form: LoginForm, status: int, problem: str | None = None, headers: dict | None = None):
    return current_app.make_response(
        (render_template("accounts/login.html", form=form, problem=problem), status, headers or {})
    )


def _locked_out(limit):
    """Show the form again, saying when the person may try again."""
    wait = rate_limits.retry_after(limit, at_least=1)
    minutes = rate_limits.in_minutes(wait)
    message = (
        "Too many failed sign-in attempts. For your security, sign-in is paused: "
        f"try again in {minutes} minute{'s' if minutes != 1 else ''}."
    )
    return _render_login(LoginForm(request.form), 429, message, {"Retry-After": str(wait)})


def _form_posts_only(view):
    """Refuse sign-in bodies other than the form's, before they count or reach the password check.

    Flask-WTF would also read a JSON body, which the per-account limit never sees.
    """

    @wraps(view)
    def checked(*args, **kwargs):
        if request.method == "POST" and request.mimetype != FORM_BODY:
            return _render_login(LoginForm(formdata=None), 415, "Sign in with the form on this page.")
        return view(*args, **kwargs)

    return checked


def _limit(config_key: str, **kwargs):
    # Every sign-in post counts, atomically and before the password is checked, so no number
    # of parallel requests gets more than the limit's worth of password checks.
    return limiter.limit(lambda: current_app.config[config_key], methods=["POST"], on_breach=_locked_out, **kwargs)


def _forget_failed_attempts_on_account() -> None:
    """The right password was given: the account's count starts again, the address's does not.

    Only someone who knows the password can clear the account's count, and a person who
    mistyped it should not stay one typo from a lockout. Clearing the address's count would
    let anyone with an account of their own buy more guesses at other accounts.
    """
    key = _account_key()
    for counted in limiter.current_limits:
        if key in counted.request_args:
            limiter.limiter.clear(counted.limit, *counted.request_args)


@bp.route("/login", methods=["GET", "POST"])
@_form_posts_only
@_limit("LOGIN_LIMIT_PER_ADDRESS", scope="login-address")
@_limit("LOGIN_LIMIT_PER_ACCOUNT", key_func=_account_key, scope="login-account")
def login():
    """The staff sign-in page."""
    form = LoginForm(next=request.args.get("next", ""))
    if current_user.is_authenticated and request.method == "GET":
        return redirect(services.safe_next_url(form.next.data) or url_for("admin.index"))
    if not form.validate_on_submit():
        return _render_login(form, 200 if request.method == "GET" else 400)
    user = services.authenticate(form.email.data, form.password.data)
    if user is None:
        form.password.errors.append("That e-mail and password don't match an active staff account.")
        return _render_login(form, 401)
    _forget_failed_attempts_on_account()
    sessions.start_session(user)
    services.record_login(user)
    flash(f"Signed in as {user.email}.", "success")
    return redirect(services.safe_next_url(form.next.data) or url_for("admin.index"))


@bp.post("/logout")
def logout():
    """Sign out everywhere (a POST with a CSRF token, so no other site can sign you out)."""
    if current_user.is_authenticated:
        sessions.end_every_session(current_user._get_current_object())
    flash("You have been signed out. Your sessions on other devices and browsers have ended too.", "success")
    return redirect(url_for("main.home"))


@login_manager.unauthorized_handler
def unauthorized():
    """Anonymous visitors to staff pages go to the sign-in page, then back."""
    return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))
