// The interactive graph page: click a node for its facts, fold module calls, search.
(function () {
  const data = JSON.parse(document.getElementById("graph-data").textContent);
  const svg = document.querySelector("svg.graph");
  const view = panZoom(svg);
  const details = document.getElementById("details");
  const nodes = {};
  svg.querySelectorAll("g.node").forEach(function (g) { nodes[g.dataset.key] = g; });
  const clusters = Array.from(svg.querySelectorAll("g.cluster"));
  const edges = Array.from(svg.querySelectorAll("path.edge"));
  const folded = new Set();

  function box(element) {
    const r = element.querySelector("rect");
    const x = +r.getAttribute("x"), y = +r.getAttribute("y");
    return { x: x + +r.getAttribute("width") / 2, top: y,
             bottom: y + +r.getAttribute("height") };
  }
  edges.forEach(function (e) { e.dataset.d = e.getAttribute("d"); });

  function clustersOf(g) {
    const text = g.dataset.clusters;
    return text ? text.split(" ").map(Number) : [];
  }
  // The outermost folded call a node or call sits in, or -1.
  function foldedAround(list) {
    for (const c of list) if (folded.has(c)) return c;
    return -1;
  }
  function curve(a, b) {
    const bend = Math.max(12, (b.top - a.bottom) / 2);
    return "M" + a.x + "," + a.bottom + " C" + a.x + "," + (a.bottom + bend) + " " +
      b.x + "," + (b.top - bend) + " " + b.x + "," + b.top;
  }

  function refresh() {
    const hiddenIn = {};
    for (const key in nodes) {
      const c = foldedAround(clustersOf(nodes[key]));
      hiddenIn[key] = c;
      nodes[key].classList.toggle("hidden", c >= 0);
    }
    clusters.forEach(function (g) {
      const i = +g.dataset.cluster;
      const outer = foldedAround(data.clusters[i].chain.slice(0, -1));
      g.classList.toggle("hidden", outer >= 0);
      g.classList.toggle("folded", folded.has(i) && outer < 0);
    });
    edges.forEach(function (e) {
      const a = hiddenIn[e.dataset.from], b = hiddenIn[e.dataset.to];
      if (a < 0 && b < 0) {
        e.classList.remove("hidden");
        e.setAttribute("d", e.dataset.d);
      } else if (a === b) {
        e.classList.add("hidden");
      } else {
        e.classList.remove("hidden");
        const from = a >= 0 ? box(clusters[a]) : box(nodes[e.dataset.from]);
        const to = b >= 0 ? box(clusters[b]) : box(nodes[e.dataset.to]);
        e.setAttribute("d", curve(from, to));
      }
    });
    document.getElementById("folded-count").textContent =
      folded.size ? folded.size + " folded" : "";
  }

  function toggle(i) {
    if (folded.has(i)) folded.delete(i); else folded.add(i);
    refresh();
  }

  function show(key) {
    const node = data.nodes[key];
    svg.querySelectorAll("g.node.selected").forEach(function (g) {
      g.classList.remove("selected");
    });
    nodes[key].classList.add("selected");
    const rows = node.facts.map(function (pair) {
      return "<tr><th>" + pair[0] + "</th><td>" + pair[1] + "</td></tr>";
    });
    details.innerHTML = "<h2>" + node.heading + "</h2><table>" + rows.join("") + "</table>";
    details.dataset.key = key;
  }

  svg.addEventListener("click", function (event) {
    if (svg.dataset.dragged) return;
    const node = event.target.closest("g.node");
    if (node) { show(node.dataset.key); return; }
    const cluster = event.target.closest("g.cluster");
    if (cluster) toggle(+cluster.dataset.cluster);
  });

  const search = document.getElementById("search");
  const found = document.getElementById("found");
  let matches = [], current = -1;
  search.addEventListener("input", function () {
    const query = search.value.trim().toLowerCase();
    matches = [];
    for (const key in nodes) {
      const hit = query !== "" && data.nodes[key].search.indexOf(query) >= 0;
      nodes[key].classList.toggle("match", hit);
      if (hit) matches.push(key);
    }
    current = -1;
    found.textContent = query === "" ? "" : matches.length + " found";
  });
  search.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || matches.length === 0) return;
    current = (current + 1) % matches.length;
    const key = matches[current];
    clustersOf(nodes[key]).forEach(function (c) { folded.delete(c); });
    refresh();
    const b = box(nodes[key]);
    view.centre(b.x, (b.top + b.bottom) / 2, 900);
    show(key);
  });

  document.getElementById("fit").addEventListener("click", view.fit);
  document.getElementById("zoom-in").addEventListener("click", function () { view.zoom(0.8); });
  document.getElementById("zoom-out").addEventListener("click", function () { view.zoom(1.25); });
  document.getElementById("fold-all").addEventListener("click", function () {
    clusters.forEach(function (g) { folded.add(+g.dataset.cluster); });
    refresh();
  });
  document.getElementById("unfold-all").addEventListener("click", function () {
    folded.clear();
    refresh();
  });
  window.graphkitPage = { toggle: toggle, show: show, folded: folded };
})();
