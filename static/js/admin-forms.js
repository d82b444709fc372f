// Back-office forms (templates/admin/locking/edit.html, admin/catalog/create.html); everything here only
// helps: without JavaScript the server does the same on save.
(function () {
  // A cell count box says how the typed text is read, asking the server's rule (shop/catalog/rules.py)
  // as staff type, so "10 million" shows "Understood as 10,000,000 (1 × 10⁷) cells." at once.
  document.querySelectorAll("input[data-understood-url]").forEach(function (input) {
    var output = document.getElementById(input.getAttribute("data-understood"));
    var timer = null;
    var asked = 0;
    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () {
        var text = input.value.trim();
        var ask = ++asked;
        if (!text) { output.textContent = ""; return; }
        var url = input.getAttribute("data-understood-url") + "?text=" + encodeURIComponent(text);
        fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
          .then(function (response) { return response.ok ? response.json() : null; })
          .then(function (answer) {
            if (!answer || ask !== asked) return;
            output.textContent = answer.message;
            output.classList.toggle("text-danger", answer.understood === null);
          })
          .catch(function () {});
      }, 250);
    });
  });

  // After a refused stale save: "Take theirs" puts the other person's saved value into the field,
  // "Keep mine" puts back what was typed (the server applies the choice on save either way).
  document.querySelectorAll(".conflict-choice input[type=radio]").forEach(function (radio) {
    radio.addEventListener("change", function () {
      if (!radio.checked) return;
      var field = radio.form && radio.form.elements[radio.getAttribute("data-field")];
      if (!field || field.length > 1 && !field.tagName) return;  // several controls of one name: left to the server
      var value = radio.getAttribute("data-value");
      if (field.type === "checkbox") {
        field.checked = value === "y";
      } else {
        field.value = value;
      }
      field.dispatchEvent(new Event("change", { bubbles: true }));
      field.classList.toggle("is-valid", radio.value === "theirs");
    });
  });
})();
