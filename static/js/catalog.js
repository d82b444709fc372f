// Progressive enhancement for the catalog: everything works without this file.
(function () {
  // Sorting applies as soon as a choice is made; the Apply button is for no-JS visitors.
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
  document.querySelectorAll(".js-hide").forEach(function (el) { el.hidden = true; });
  // The filter panel starts open (for no-JS visitors); on a phone, fold it away.
  var filters = document.getElementById("filters");
  if (filters && window.matchMedia("(max-width: 899px)").matches) {
    filters.open = false;
  }
})();
