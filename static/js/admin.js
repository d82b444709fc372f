// The back office under a Content-Security-Policy without 'unsafe-inline': inline onclick=
// handlers and javascript: links are refused, so what Flask-Admin's templates did inline is done
// here (templates/admin/actions.html and model/row_actions.html carry data- attributes instead).
(function () {
  // "List", "Edit", "Add filter" and column-help links are javascript:void(0) in Flask-Admin's
  // templates; Bootstrap and Flask-Admin's scripts handle their clicks.
  document.querySelectorAll('a[href^="javascript:"]').forEach(function (link) {
    link.setAttribute("href", "#");
  });
  // In the capture phase: Bootstrap's and Flask-Admin's handlers may stop the click from bubbling.
  document.addEventListener("click", function (event) {
    var link = event.target.closest('a[href="#"]');
    if (link) event.preventDefault();
    var asking = event.target.closest("[data-confirm]");
    if (asking && !window.confirm(asking.getAttribute("data-confirm"))) event.preventDefault();
    var action = event.target.closest("[data-model-action]");
    if (action && window.modelActions) window.modelActions.execute(action.getAttribute("data-model-action"));
  }, true);
})();
