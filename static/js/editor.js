// The post and page editors. Everything here is an addition: without JavaScript the
// editor still works (the "Preview" button shows the full page, the image upload opens
// the Markdown to paste in a new tab, and publish times are typed in UTC).
(function () {
  var form = document.getElementById("post-form");
  var body = document.getElementById("body");
  if (!form || !body || !window.fetch) return;
  var base = form.getAttribute("action").replace(/\/(new|\d+\/edit)$/, "");
  var token = form.querySelector("input[name=csrf_token]");

  function post(url, data, accept) {
    if (token) data.append("csrf_token", token.value);
    return fetch(url, {
      method: "POST", body: data, credentials: "same-origin",
      headers: accept ? { Accept: accept } : {},
    });
  }

  // The live preview: the body rendered by the server's own renderer a moment after typing stops.
  (function () {
    var wrapper = document.getElementById("live-preview-pane");
    var pane = document.getElementById("live-preview");
    if (!wrapper || !pane) return;
    var timer = null;
    wrapper.hidden = false;
    wrapper.parentElement.classList.add("with-preview");
    function refresh() {
      var data = new FormData();
      data.append("body", body.value);
      post(base + "/render", data)
        .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
        .then(function (html) { pane.innerHTML = html; })
        .catch(function () { pane.textContent = "The preview could not be loaded."; });
    }
    body.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(refresh, 400);
    });
    window.cellshopEditorRefresh = refresh;
    refresh();
  })();

  // An image in the body: upload it (with its alt text) and insert its Markdown at the cursor.
  (function () {
    var button = document.getElementById("body-image-upload");
    var file = document.getElementById("body_image");
    var alt = document.getElementById("body_image_alt");
    var status = document.getElementById("body-image-status");
    if (!button || !file || !alt || !status) return;
    function say(text, isError) {
      status.textContent = text;
      status.classList.toggle("text-danger", !!isError);
    }
    button.addEventListener("click", function (event) {
      event.preventDefault();
      if (!file.files.length) { say("Choose an image first.", true); file.focus(); return; }
      if (!alt.value.trim()) { say("Describe the image for readers who can't see it (alt text).", true); alt.focus(); return; }
      var data = new FormData();
      data.append("body_image", file.files[0]);
      data.append("body_image_alt", alt.value);
      button.disabled = true;
      say("Uploading…");
      post(button.getAttribute("formaction"), data, "application/json")
        .then(function (r) { return r.json().then(function (answer) { return { ok: r.ok, answer: answer }; }); })
        .then(function (result) {
          if (!result.ok) { say(result.answer.error || "The image could not be uploaded.", true); return; }
          insertAtCursor(result.answer.markdown);
          file.value = ""; alt.value = "";
          say("Inserted at the cursor: " + result.answer.markdown);
        })
        .catch(function () { say("The image could not be uploaded. Try again.", true); })
        .then(function () { button.disabled = false; });
    });
    function insertAtCursor(markdown) {
      var start = body.selectionStart, end = body.selectionEnd, text = body.value;
      var before = text.slice(0, start), after = text.slice(end);
      // An image is a paragraph of its own: blank lines around it unless there already are.
      var lead = before === "" || /\n\n$/.test(before) ? "" : (/\n$/.test(before) ? "\n" : "\n\n");
      var trail = after === "" || /^\n\n/.test(after) ? "" : (/^\n/.test(after) ? "\n" : "\n\n");
      var inserted = lead + markdown + trail;
      body.value = before + inserted + after;
      var caret = before.length + inserted.length;
      body.setSelectionRange(caret, caret);
      body.focus();
      body.dispatchEvent(new Event("input"));
    }
  })();

  // Publish times: typed in UTC (works without JavaScript); here also in the browser's own time zone.
  (function () {
    var utc = document.getElementById("publish_at");
    var local = document.getElementById("publish-at-local");
    var zone = document.getElementById("publish-at-zone");
    if (!utc || !local) return;
    var zoneName = Intl.DateTimeFormat().resolvedOptions().timeZone || "your time zone";
    if (zone) zone.textContent = zoneName;
    local.closest("[hidden]") && (local.closest("[hidden]").hidden = false);
    function pad(n) { return String(n).padStart(2, "0"); }
    function toLocalInput(date) {
      return date.getFullYear() + "-" + pad(date.getMonth() + 1) + "-" + pad(date.getDate()) + "T" + pad(date.getHours()) + ":" + pad(date.getMinutes());
    }
    function toUtcInput(date) {
      return date.getUTCFullYear() + "-" + pad(date.getUTCMonth() + 1) + "-" + pad(date.getUTCDate()) + "T" + pad(date.getUTCHours()) + ":" + pad(date.getUTCMinutes());
    }
    function fromUtc() {
      local.value = utc.value ? toLocalInput(new Date(utc.value + ":00Z")) : "";
    }
    function fromLocal() {
      utc.value = local.value ? toUtcInput(new Date(local.value)) : "";
    }
    utc.addEventListener("input", fromUtc);
    local.addEventListener("input", fromLocal);
    fromUtc();
  })();

  // Times the editor shows (published, scheduled): UTC in the page, the browser's own time beside it.
  document.querySelectorAll("time.local-time").forEach(function (el) {
    var when = new Date(el.getAttribute("datetime"));
    if (isNaN(when)) return;
    var text = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit", timeZoneName: "short" }).format(when);
    var span = document.createElement("span");
    span.className = "local-time-mine";
    span.textContent = " (" + text + " your time)";
    el.after(span);
  });
})();
