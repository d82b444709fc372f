"""An expired form token in the back office: the form comes back with what was typed, nothing saved.

Flask-WTF's CSRF check runs before any view, so by default a post editor left
open past ``WTF_CSRF_TIME_LIMIT`` gets a bare 400 page and the typed text is
lost. For the views that show a form (create and edit), the view is run
again with saving switched off: it draws the form from what was posted,
with a fresh token.
"""

from flask import current_app, flash, g, make_response, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from shop.errors import render_error

EXPIRED_MESSAGE = "Your session's form token expired, so nothing was saved. Check what you typed below and save again."
# View methods that draw their form again from what was posted (and save nothing while the flag is set).
FORM_VIEWS = ("create_view", "edit_view")


def form_token_expired() -> bool:
    """True while a view runs again after a failed CSRF check: it must show its form and save nothing."""
    return g.get("form_token_expired", False)


def _run_hooks_after_csrf_check():
    """Run the before-request hooks the failed CSRF check cut short (a session check, say); the first answer wins."""
    scopes = (None, *reversed(request.blueprints))  # the order Flask runs them in
    hooks = [hook for scope in scopes for hook in current_app.before_request_funcs.get(scope, ())]
    names = [getattr(hook, "__name__", "") for hook in hooks]
    later = hooks[names.index("csrf_protect") + 1 :] if "csrf_protect" in names else []
    for hook in later:
        try:
            answer = hook()
        except HTTPException as exc:  # raised inside an error handler, Flask wouldn't catch it
            return current_app.handle_user_exception(exc)
        if answer is not None:
            return answer
    return None


class FormTokenRecovery:
    """Mixin for back-office views: a CSRF failure on a form view shows the form again instead of a 400 page."""

    def create_blueprint(self, admin):
        """The view's blueprint, with the CSRF-failure handler (it only sees this view's requests)."""
        blueprint = super().create_blueprint(admin)
        blueprint.register_error_handler(CSRFError, self.form_token_failed)
        return blueprint

    def form_token_failed(self, error: CSRFError):
        """Run a form view again with saving off and the form's fields as posted; other views get the 400 page."""
        if request.method != "POST" or request.endpoint.rsplit(".", 1)[-1] not in FORM_VIEWS:
            return render_error(error)
        g.form_token_expired = True
        answered = _run_hooks_after_csrf_check()
        if answered is not None:
            return answered
        flash(EXPIRED_MESSAGE, "error")
        response = make_response(current_app.view_functions[request.endpoint](**request.view_args))
        if response.status_code == 200:
            response.status_code = 400  # nothing was saved: the request failed, the page says why
        return response
