// Pan (drag) and zoom (wheel, buttons) of an inline SVG by its viewBox; no libraries.
// panZoom(svg) returns {fit, zoom, centre}; the page and the player both use it.
function panZoom(svg) {
  const full = svg.viewBox.baseVal;
  const home = { x: full.x, y: full.y, w: full.width, h: full.height };
  let view = Object.assign({}, home);
  svg.removeAttribute("width");
  svg.removeAttribute("height");
  function apply() {
    svg.setAttribute("viewBox", [view.x, view.y, view.w, view.h].join(" "));
  }
  function toSvg(clientX, clientY) {
    const r = svg.getBoundingClientRect();
    const scale = Math.max(view.w / r.width, view.h / r.height);
    const left = r.left + (r.width - view.w / scale) / 2;
    const top = r.top + (r.height - view.h / scale) / 2;
    return { x: view.x + (clientX - left) * scale, y: view.y + (clientY - top) * scale,
             scale: scale };
  }
  function zoom(factor, at) {
    const c = at || { x: view.x + view.w / 2, y: view.y + view.h / 2 };
    view.x = c.x - (c.x - view.x) * factor;
    view.y = c.y - (c.y - view.y) * factor;
    view.w *= factor;
    view.h *= factor;
    apply();
  }
  function fit() {
    view = Object.assign({}, home);
    apply();
  }
  function centre(x, y, width) {
    const w = Math.max(width || 0, 400);
    view.h = view.h * w / view.w;
    view.w = w;
    view.x = x - view.w / 2;
    view.y = y - view.h / 2;
    apply();
  }
  svg.addEventListener("wheel", function (event) {
    event.preventDefault();
    zoom(event.deltaY > 0 ? 1.15 : 1 / 1.15, toSvg(event.clientX, event.clientY));
  }, { passive: false });
  let drag = null;
  svg.addEventListener("mousedown", function (event) {
    drag = { x: event.clientX, y: event.clientY, moved: false };
  });
  window.addEventListener("mousemove", function (event) {
    if (!drag) return;
    const scale = toSvg(0, 0).scale;
    const dx = event.clientX - drag.x, dy = event.clientY - drag.y;
    if (Math.abs(dx) + Math.abs(dy) > 2) drag.moved = true;
    view.x -= dx * scale;
    view.y -= dy * scale;
    drag.x = event.clientX;
    drag.y = event.clientY;
    apply();
  });
  window.addEventListener("mouseup", function () {
    if (drag && drag.moved) svg.dataset.dragged = "1";
    drag = null;
    setTimeout(function () { delete svg.dataset.dragged; }, 0);
  });
  apply();
  return { fit: fit, zoom: zoom, centre: centre };
}
