// The header's cart count. Public pages come from a cache, the same bytes for every visitor, so the count
// can't be in their HTML: the shop sets a cart_count cookie (a number only) whenever the cart changes.
(function () {
  var badge = document.querySelector("[data-cart-count]");
  if (!badge) return;
  var match = document.cookie.match(/(?:^|;\s*)cart_count=(\d{1,5})/);
  var count = match ? parseInt(match[1], 10) : 0;
  if (count > 0) {
    badge.textContent = String(count);
    badge.setAttribute("aria-label", count === 1 ? "1 unit" : count + " units");
    badge.hidden = false;
  }
})();
