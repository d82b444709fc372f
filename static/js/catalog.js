// Progressive enhancement for the catalog: everything works without this file.
(function () {
  var FOCUS_KEY = "catalog-focus";

  // Sorting applies as soon as a choice is made; the Apply buttons are for visitors without JavaScript.
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
  document.querySelectorAll("[data-js-hide]").forEach(function (el) { el.hidden = true; });

  var form = document.querySelector("form[data-facets]");
  if (!form) { return; }
  var toggle = form.querySelector(".filters-toggle");

  function setOpen(open) {
    form.classList.toggle("is-open", open);
    if (toggle) { toggle.setAttribute("aria-expanded", open ? "true" : "false"); }
  }

  // On a small screen the panel is folded by the stylesheet from the first paint; this button unfolds it.
  if (toggle) {
    toggle.addEventListener("click", function (event) {
      event.preventDefault();
      setOpen(!form.classList.contains("is-open"));
    });
  }

  // Remember which option was ticked, so that the next page puts focus back on it.
  function applyFrom(name, value) {
    try {
      sessionStorage.setItem(FOCUS_KEY, JSON.stringify({ name: name, value: value, open: form.classList.contains("is-open") }));
    } catch (e) { /* storage refused: the page still applies, focus starts at the top */ }
    form.submit();
  }

  form.addEventListener("change", function (event) {
    var box = event.target;
    if (box.type === "checkbox") { applyFrom(box.name, box.value); }
  });

  // The HLA type-ahead: any allele with lots in stock, typed or picked from the list, ticks its box.
  var finder = form.querySelector("[data-allele-finder]");
  if (finder) {
    finder.closest(".allele-finder").hidden = false;
    var known = {};
    form.querySelectorAll("#hla-alleles option").forEach(function (option) {
      known[option.value.toUpperCase()] = option.value;
    });
    var pick = function () {
      var typed = finder.value.trim().toUpperCase().replace(/^HLA-/, "");
      var allele = known[typed];
      if (!allele) { return false; }
      var box = form.querySelector('input[type="checkbox"][name="hla"][value="' + allele + '"]');
      if (box) {
        if (!box.checked) { box.checked = true; }
      } else {
        var hidden = document.createElement("input");
        hidden.type = "hidden";
        hidden.name = "hla";
        hidden.value = allele;
        form.appendChild(hidden);
      }
      finder.value = "";
      applyFrom("hla", allele);
      return true;
    };
    finder.addEventListener("input", function () {
      finder.setCustomValidity("");
      // Picking from the list fills the whole allele at once.
      if (known[finder.value.trim().toUpperCase()]) { pick(); }
    });
    finder.addEventListener("keydown", function (event) {
      if (event.key !== "Enter") { return; }
      event.preventDefault();
      if (!pick()) {
        finder.setCustomValidity("No lot in stock has a donor with that allele. Write it like B*08:01.");
        finder.reportValidity();
      }
    });
  }

  // Back from applying a filter: focus the option that was ticked (the panel open as it was).
  var stored = null;
  try {
    stored = JSON.parse(sessionStorage.getItem(FOCUS_KEY) || "null");
    sessionStorage.removeItem(FOCUS_KEY);
  } catch (e) { stored = null; }
  if (stored && stored.name) {
    if (stored.open) { setOpen(true); }
    var boxes = form.querySelectorAll('input[type="checkbox"]');
    for (var i = 0; i < boxes.length; i++) {
      if (boxes[i].name === stored.name && boxes[i].value === stored.value) {
        boxes[i].focus();
        break;
      }
    }
  }
})();
