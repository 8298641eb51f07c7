// The backprop player: one frame per op's backward, in the engine's order.
(function () {
  const data = JSON.parse(document.getElementById("graph-data").textContent);
  const frames = data.frames;
  const svg = document.querySelector("svg.graph");
  panZoom(svg);
  const nodes = {};
  svg.querySelectorAll("g.node").forEach(function (g) { nodes[g.dataset.key] = g; });
  const edges = Array.from(svg.querySelectorAll("path.edge"));
  const overlay = document.getElementById("overlay");
  const slider = document.getElementById("slider");
  const counter = document.getElementById("counter");
  const playButton = document.getElementById("play");
  let current = 0, timer = null;

  function show(k) {
    current = Math.max(0, Math.min(frames.length - 1, k));
    const frame = frames[current];
    const done = new Set(), complete = new Set(), received = {};
    for (let i = 0; i <= current; i++) {
      done.add(frames[i].op);
      frames[i].complete.forEach(function (key) { complete.add(key); });
      frames[i].arrivals.forEach(function (a) { received[a[0]] = a; });
    }
    for (const key in nodes) {
      const c = nodes[key].classList;
      c.toggle("done", done.has(key) || complete.has(key));
      c.toggle("current", key === frame.op);
      c.toggle("partial", key in received && !complete.has(key));
      c.remove("arriving");
    }
    frame.arrivals.forEach(function (a) { nodes[a[0]].classList.add("arriving"); });
    const inputs = new Set(frame.arrivals.map(function (a) { return a[0]; }));
    edges.forEach(function (e) {
      const to = e.dataset.to, from = e.dataset.from;
      e.classList.toggle("flowing", to === frame.op && inputs.has(from));
      e.classList.toggle("done", done.has(to) && !(to === frame.op));
    });
    overlay.innerHTML = frame.badges;
    document.getElementById("heading").innerHTML = frame.heading;
    document.getElementById("text").innerHTML = frame.text;
    slider.value = current;
    counter.textContent = "step " + (current + 1) + " of " + frames.length;
    document.body.dataset.frame = current;
  }

  function pause() {
    if (timer !== null) clearInterval(timer);
    timer = null;
    playButton.textContent = "play";
  }
  function play() {
    if (current === frames.length - 1) show(0);
    playButton.textContent = "pause";
    timer = setInterval(function () {
      if (current >= frames.length - 1) { pause(); return; }
      show(current + 1);
    }, data.interval);
  }
  function step(by) { pause(); show(current + by); }

  playButton.addEventListener("click", function () { if (timer === null) play(); else pause(); });
  document.getElementById("back").addEventListener("click", function () { step(-1); });
  document.getElementById("forward").addEventListener("click", function () { step(1); });
  document.getElementById("first").addEventListener("click", function () { pause(); show(0); });
  document.getElementById("last").addEventListener("click", function () {
    pause();
    show(frames.length - 1);
  });
  slider.addEventListener("input", function () { pause(); show(+slider.value); });
  document.addEventListener("keydown", function (event) {
    if (event.target === slider) return;  // the slider moves itself with the arrows
    if (event.key === "ArrowRight") { event.preventDefault(); step(1); }
    else if (event.key === "ArrowLeft") { event.preventDefault(); step(-1); }
    else if (event.key === " ") { event.preventDefault(); playButton.click(); }
    else if (event.key === "Home") { pause(); show(0); }
    else if (event.key === "End") { pause(); show(frames.length - 1); }
  });
  show(0);
  window.graphkitPlayer = { frames: frames.length, show: show, play: play, pause: pause,
                            current: function () { return current; } };
})();
