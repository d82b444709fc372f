// The header's quote-basket count: read from the basket_count cookie (a number the /quote/ pages set), so the
// cached pages stay the same for every visitor. Without JavaScript the count is on the basket page itself.
(function () {
  var match = document.cookie.match(/(?:^|;\s*)basket_count=(\d{1,3})(?:;|$)/);
  var count = match ? parseInt(match[1], 10) : 0;
  document.querySelectorAll("[data-basket-count]").forEach(function (badge) {
    if (count > 0) {
      badge.querySelector("[data-count]").textContent = String(count);
      badge.hidden = false;
    }
  });
})();
