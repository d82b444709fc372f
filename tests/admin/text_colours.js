// Every visible text of the page with its colour and the colour behind it, as Chromium resolved them from
// the CSS (read by tests/admin/test_look_browser.py, which computes the WCAG contrast ratios).
(() => {
  // Colours as Chromium resolved them: "rgb(r, g, b)" or "rgba(r, g, b, a)".
  const parse = c => { const m = c.match(/[\d.]+/g).map(Number); return {r: m[0], g: m[1], b: m[2], a: m.length > 3 ? m[3] : 1}; };
  const blend = (top, under) => ({r: top.r * top.a + under.r * (1 - top.a), g: top.g * top.a + under.g * (1 - top.a),
                                   b: top.b * top.a + under.b * (1 - top.a), a: 1});
  const background = el => {  // the colour behind an element: its own and its ancestors' backgrounds, blended
    const layers = [];
    for (let node = el; node; node = node.parentElement) {
      const c = parse(getComputedStyle(node).backgroundColor);
      if (c.a > 0) { layers.push(c); if (c.a === 1) break; }
    }
    return layers.reverse().reduce((under, top) => blend(top, under), {r: 255, g: 255, b: 255, a: 1});
  };
  const results = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, el = node.parentElement;
    if (!node.textContent.trim() || !el || el.closest('.sr-only, .visually-hidden, .skip-link, option, script, [hidden]')) continue;
    const style = getComputedStyle(el), box = el.getBoundingClientRect();
    if (style.visibility !== 'visible' || style.display === 'none' || box.width === 0 || box.height === 0) continue;
    if (el.closest('.dropdown-menu:not(.show), .collapse:not(.show)')) continue;
    const bg = background(el);
    const fg = blend(parse(style.color), bg);
    const size = parseFloat(style.fontSize), bold = parseInt(style.fontWeight) >= 700;
    results.push({text: node.textContent.trim().slice(0, 40), fg, bg, large: size >= 24 || (bold && size >= 18.66)});
  }
  return results;
})
