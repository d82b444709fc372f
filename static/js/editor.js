// The post editor's live preview: the body is rendered by the server's own
// renderer (same as the public page) a moment after typing stops. Without
// JavaScript the "Preview" button shows the full page instead.
(function () {
  var form = document.getElementById("post-form");
  var body = document.getElementById("body");
  var pane = document.getElementById("live-preview");
  if (!form || !body || !pane || !window.fetch) return;
  var url = form.getAttribute("action").replace(/\/(new|\d+\/edit)$/, "/render");
  var token = form.querySelector("input[name=csrf_token]");
  var timer = null;
  pane.hidden = false;
  pane.parentElement.classList.add("with-preview");
  function refresh() {
    var data = new FormData();
    data.append("body", body.value);
    if (token) data.append("csrf_token", token.value);
    fetch(url, { method: "POST", body: data, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) { pane.innerHTML = html; })
      .catch(function () { pane.textContent = "The preview could not be loaded."; });
  }
  body.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(refresh, 400);
  });
  refresh();
})();
