// rldg view: the episode table, the episode page and the lockstep comparison.
// Plain JavaScript, DOM and SVG: no framework, no plotting library, nothing fetched from a CDN.
// Routes live in the URL hash: #/?filters (table), #/episode/N, #/compare/A/B,
// #/find/DATASET/EPISODE_ID (the links `rldg report` writes).
"use strict";

const SOURCE_COLORS = { rl: "#0072B2", human: "#E69F00", intervention: "#D55E00", scripted: "#009E73" };
const OTHER_COLOR = "#777777";
const STAGE_COLORS = ["#c6dbef", "#fdd0a2", "#c7e9c0", "#dadaeb", "#fcbba1", "#d9d9d9", "#9ecae1", "#fdae6b"];
const LINE_COLOR = "#1f3b73";
const SVG_NS = "http://www.w3.org/2000/svg";
const PAGE_SIZE = 50;
const TEXT_FILTERS = ["dataset", "source", "policy_id", "variant", "split", "task", "data_split"];

let INFO = null;          // /api/info
let current = null;       // the open episode or comparison view (has .seek, .stop)
const selected = new Set(); // rows ticked for comparison

function sourceColor(s) { return SOURCE_COLORS[s] || OTHER_COLOR; }
function stageColor(s) { return STAGE_COLORS[((s % STAGE_COLORS.length) + STAGE_COLORS.length) % STAGE_COLORS.length]; }

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) if (c !== null && c !== undefined) node.append(c);
  return node;
}

function svg(tag, attrs) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  return node;
}

async function api(path) {
  const response = await fetch(path);
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || `${response.status} ${path}`);
  return body;
}

function setStatus(text) { document.getElementById("status").textContent = text || ""; }

function fmt(v) {
  if (v === null || v === undefined) return "–";
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : v.toFixed(3);
  return String(v);
}

// ---------------------------------------------------------------- router

async function route() {
  if (current) { current.stop(); current = null; }
  const hash = location.hash.replace(/^#/, "") || "/";
  const [path, queryString] = hash.split("?");
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  const main = document.getElementById("main");
  try {
    if (parts[0] === "episode" && parts.length === 2) {
      current = await showEpisodes(main, [Number(parts[1])]);
    } else if (parts[0] === "compare" && parts.length === 3) {
      current = await showEpisodes(main, [Number(parts[1]), Number(parts[2])]);
    } else if (parts[0] === "find" && parts.length === 3) {
      const found = await api(`/api/find?dataset=${encodeURIComponent(parts[1])}&episode_id=${encodeURIComponent(parts[2])}`);
      location.replace(`#/episode/${found.row}`);
    } else {
      await showTable(main, new URLSearchParams(queryString || ""));
    }
  } catch (err) {
    main.replaceChildren(el("div", { class: "error-box", id: "page-error", text: String(err.message || err) }));
  }
}

// ---------------------------------------------------------------- table

const COLUMNS = [
  ["row", "#"], ["dataset", "dataset"], ["episode_id", "episode"], ["source", "source"],
  ["policy_id", "policy"], ["task", "task"], ["variant", "variant"], ["split", "split"],
  ["data_split", "tfds split"], ["success", "success"], ["length", "length"],
  ["stages", "stages"], ["steps_per_source", "who acted (steps)"], ["handoff", "hand-off"],
];
const SORTABLE = new Set(["row", "dataset", "episode_id", "source", "policy_id", "task", "variant",
  "split", "data_split", "success", "length", "handoff"]);

async function showTable(main, params) {
  const offset = Number(params.get("offset") || 0);
  const query = new URLSearchParams(params);
  query.set("offset", offset);
  query.set("limit", PAGE_SIZE);
  setStatus("loading table…");
  const page = await api(`/api/episodes?${query}`);
  setStatus("");
  const facets = INFO.facets;

  const filters = el("form", { class: "filters", id: "filters" });
  const select = (name, label, values) => {
    const s = el("select", { name, id: `filter-${name}` }, el("option", { value: "", text: "(all)" }));
    for (const v of values) s.append(el("option", { value: String(v), text: String(v) === "" ? "(empty)" : String(v) }));
    s.value = params.get(name) || "";
    return el("label", {}, label, s);
  };
  for (const name of TEXT_FILTERS) {
    if ((facets[name] || []).length > 1 || params.get(name)) filters.append(select(name, name.replace("_", " "), facets[name]));
  }
  filters.append(select("success", "success", ["true", "false"]));
  filters.append(select("step_source", "acted", facets.step_source || []));
  filters.append(select("stage", "stage", facets.stage || []));
  filters.append(el("label", {}, "episode id", el("input", { name: "q", id: "filter-q", value: params.get("q") || "", size: 12 })));
  filters.append(el("label", {}, "min length", el("input", { name: "min_length", type: "number", value: params.get("min_length") || "" })));
  filters.append(el("label", {}, "max length", el("input", { name: "max_length", type: "number", value: params.get("max_length") || "" })));
  const errorsBox = el("input", { type: "checkbox", name: "errors", value: "1" });
  errorsBox.checked = params.get("errors") === "1";
  filters.append(el("label", {}, "errors only", errorsBox));
  const apply = () => {
    const next = new URLSearchParams();
    for (const [k, v] of new FormData(filters)) if (v !== "") next.set(k, v);
    for (const k of ["sort", "desc"]) if (params.get(k)) next.set(k, params.get(k));
    location.hash = `#/?${next}`;
  };
  filters.addEventListener("change", apply);
  filters.addEventListener("submit", (e) => { e.preventDefault(); apply(); });

  const sort = params.get("sort") || "row";
  const desc = params.get("desc") === "1";
  const head = el("tr", {}, el("th", { text: "compare" }));
  for (const [key, label] of COLUMNS) {
    const cls = key === sort ? (desc ? "sorted-desc" : "sorted-asc") : null;
    const th = el("th", { text: label, class: cls, "data-key": key });
    if (SORTABLE.has(key)) th.addEventListener("click", () => {
      const next = new URLSearchParams(params);
      next.delete("offset");
      next.set("sort", key);
      if (key === sort && !desc) next.set("desc", "1"); else next.delete("desc");
      location.hash = `#/?${next}`;
    });
    head.append(th);
  }
  const body = el("tbody", { id: "episode-rows" });
  for (const row of page.rows) body.append(tableRow(row));
  const table = el("table", { class: "episodes", id: "episodes" }, el("thead", {}, head), body);

  const pageInfo = `${page.total ? offset + 1 : 0}–${Math.min(offset + PAGE_SIZE, page.total)} of ${page.total} episodes`;
  const go = (newOffset) => { const next = new URLSearchParams(params); next.set("offset", newOffset); location.hash = `#/?${next}`; };
  const compareButton = el("button", { id: "compare", type: "button", text: "compare ticked (2)", disabled: selected.size !== 2 });
  compareButton.addEventListener("click", () => { const [a, b] = [...selected]; location.hash = `#/compare/${a}/${b}`; });
  const pager = el("div", { class: "pager" },
    el("button", { type: "button", text: "◀ previous", disabled: offset <= 0, onclick: () => go(Math.max(0, offset - PAGE_SIZE)) }),
    el("span", { id: "page-info", text: pageInfo }),
    el("button", { type: "button", text: "next ▶", disabled: offset + PAGE_SIZE >= page.total, onclick: () => go(offset + PAGE_SIZE) }),
    compareButton);
  const problems = INFO.problems.length ? el("div", { class: "warn-box", id: "problems", text: INFO.problems.join("\n") }) : null;
  main.replaceChildren(problems || "", filters, pager, table);
  main.dataset.view = "table";
}

function whoBar(counts, length) {
  const bar = el("span", { class: "who", title: Object.entries(counts).map(([k, v]) => `${k}: ${v}`).join(", ") });
  for (const [source, n] of Object.entries(counts)) {
    const part = el("span", {});
    part.style.width = `${(100 * n) / Math.max(1, length)}%`;
    part.style.background = sourceColor(source);
    bar.append(part);
  }
  return bar;
}

function tableRow(row) {
  const tr = el("tr", { class: row.error ? "error" : null, "data-row": row.row, title: row.error || "" });
  const tick = el("input", { type: "checkbox", "aria-label": `compare episode ${row.row}` });
  tick.checked = selected.has(row.row);
  tick.addEventListener("change", () => {
    if (tick.checked) selected.add(row.row); else selected.delete(row.row);
    while (selected.size > 2) selected.delete(selected.values().next().value);
    document.querySelectorAll("#episode-rows input[type=checkbox]").forEach((box) => {
      box.checked = selected.has(Number(box.closest("tr").dataset.row));
    });
    document.getElementById("compare").disabled = selected.size !== 2;
  });
  tr.append(el("td", {}, tick));
  for (const [key] of COLUMNS) {
    let cell;
    if (key === "episode_id") cell = el("a", { href: `#/episode/${row.row}`, class: "episode-link", text: row.episode_id || "(no id)" });
    else if (key === "source") { cell = el("span", { class: "tag", text: row.source }); cell.style.background = sourceColor(row.source); }
    else if (key === "steps_per_source") {
      cell = el("span", {}, whoBar(row.steps_per_source, row.length),
        " " + Object.entries(row.steps_per_source).map(([k, v]) => `${k} ${v}`).join(", "));
    } else if (key === "stages") cell = row.stages.join(", ");
    else if (key === "success") cell = row.success === null ? "–" : (row.success ? "✓" : "✗");
    else cell = fmt(row[key]);
    tr.append(el("td", { "data-key": key }, cell));
  }
  return tr;
}

// ---------------------------------------------------------------- episode page(s)

async function showEpisodes(main, rows) {
  setStatus("loading episode…");
  const episodes = await Promise.all(rows.map((r) => api(`/api/episode/${r}`)));
  setStatus("");
  // one time axis for all panels: in a comparison, step t sits at the same x in both
  const steps = Math.max(1, ...episodes.map((e) => e.num_steps || 0));
  const panels = episodes.map((ep) => new EpisodePanel(ep, steps));
  const fps = Math.max(...episodes.map((e) => e.fps || 10));
  let step = 0;
  let playing = null;

  const scrubber = el("input", { type: "range", id: "scrubber", min: 0, max: steps - 1, value: 0, step: 1, "aria-label": "step" });
  const label = el("span", { class: "step-label", id: "step-label" });
  const play = el("button", { type: "button", id: "play", text: "▶ play" });
  const seek = (t) => {
    step = Math.max(0, Math.min(steps - 1, Math.round(t)));
    scrubber.value = step;
    label.textContent = `step ${step} / ${steps - 1}` + (panels.length > 1 ? " (lockstep)" : "");
    for (const p of panels) p.show(step);
  };
  const stop = () => {
    if (playing !== null) cancelAnimationFrame(playing);
    playing = null;
    play.textContent = "▶ play";
  };
  const start = () => {
    if (step >= steps - 1) seek(0);
    const t0 = performance.now();
    const s0 = step;
    const tick = (now) => {
      const t = s0 + Math.floor(((now - t0) / 1000) * fps);
      seek(t);
      if (t >= steps - 1) { stop(); return; }
      playing = requestAnimationFrame(tick);
    };
    play.textContent = "⏸ pause";
    playing = requestAnimationFrame(tick);
  };
  play.addEventListener("click", () => (playing === null ? start() : stop()));
  scrubber.addEventListener("input", () => { stop(); seek(Number(scrubber.value)); });
  for (const p of panels) p.onseek = (t) => { stop(); seek(t); };
  const onKey = (e) => {
    if (e.target instanceof HTMLInputElement && e.target.type !== "range") return;
    if (e.target instanceof HTMLButtonElement && (e.key === " " || e.key === "Enter")) return; // its click does it
    const jump = e.shiftKey ? 10 : 1;
    if (e.key === "ArrowRight" || e.key === ".") { stop(); seek(step + jump); }
    else if (e.key === "ArrowLeft" || e.key === ",") { stop(); seek(step - jump); }
    else if (e.key === "Home") { stop(); seek(0); }
    else if (e.key === "End") { stop(); seek(steps - 1); }
    else if (e.key === " ") { playing === null ? start() : stop(); }
    else return;
    e.preventDefault();
  };
  document.addEventListener("keydown", onKey);

  const controls = el("div", { class: "controls" }, play, scrubber, label,
    el("span", { class: "keys" }, el("kbd", { text: "←" }), el("kbd", { text: "→" }), " step (shift ×10) ",
      el("kbd", { text: "space" }), ` play at ${fmt(fps)} steps/s`));
  const title = panels.length > 1 ? el("h2", { text: `comparing episodes ${rows.join(" and ")}` }) : null;
  main.replaceChildren(title || "", controls, el("div", { class: "panels" }, ...panels.map((p) => p.node)));
  main.dataset.view = panels.length > 1 ? "compare" : "episode";
  seek(0);
  for (const p of panels) p.preload();
  return { stop: () => { stop(); document.removeEventListener("keydown", onKey); }, seek };
}

class EpisodePanel {
  constructor(ep, axisSteps) {
    this.ep = ep;
    this.numSteps = ep.num_steps || 0;
    this.axis = Math.max(1, axisSteps || this.numSteps);
    this.onseek = null;
    this.cursors = [];
    this.readouts = [];
    this.images = [];
    const info = ep.info;
    const heading = el("h3", {}, `${ep.dataset} · ${info.episode_id} `,
      el("a", { href: `#/episode/${ep.row}`, text: `#${ep.row}` }));
    this.node = el("section", { class: "panel", "data-row": ep.row }, heading);
    if (ep.error) {
      this.node.append(el("div", { class: "error-box episode-error", text: ep.error }));
      return;
    }
    if (ep.violations.length) this.node.append(el("div", { class: "warn-box", text: "contract violations:\n" + ep.violations.join("\n") }));
    const cams = el("div", { class: "cameras" });
    for (const cam of ep.cameras) {
      const img = el("img", { alt: cam, class: "frame", "data-camera": cam, width: 256, height: 256 });
      this.images.push(img);
      cams.append(el("figure", {}, img, el("figcaption", { text: cam })));
    }
    this.node.append(el("div", { class: "top" }, cams, this.metadataTable()), this.trackGrid());
  }

  frameUrl(cam, t) { return `/api/frame/${this.ep.row}/${cam}/${t}`; }

  preload() {
    // Fetch every frame once so scrubbing is instant (the server sends the stored JPEG bytes).
    this.cache = [];
    for (const cam of this.ep.cameras || []) {
      for (let t = 0; t < Math.min(this.numSteps, 3000); t++) {
        const image = new Image();
        image.src = this.frameUrl(cam, t);
        this.cache.push(image);
      }
    }
  }

  metadataTable() {
    const table = el("table", { class: "meta" });
    const meta = Object.assign({}, this.ep.metadata, {
      steps: this.numSteps, fps: this.ep.fps, "hand-off step": this.ep.info.handoff,
      "who acted": Object.entries(this.ep.info.steps_per_source).map(([k, v]) => `${k} ${v}`).join(", "),
      instruction: this.ep.instructions.join(" | "), file: this.ep.dataset_path,
    });
    if (this.ep.missing_metadata.length) meta["missing metadata"] = this.ep.missing_metadata.join(", ");
    for (const [k, v] of Object.entries(meta)) table.append(el("tr", {}, el("td", { text: k }), el("td", { text: fmt(v) })));
    return el("details", { open: true }, el("summary", { text: "metadata" }), table);
  }

  trackGrid() {
    const grid = el("div", { class: "tracks" });
    const series = this.ep.series;
    const group = (name) => grid.append(el("div", { class: "group", text: name }));
    const lineTrack = (name, values) => this.addTrack(grid, name, values, this.lineSvg(values, this.axis));
    const vector = (name, short, rows) => {
      if (!rows || !rows.length) return;
      group(name);
      for (let d = 0; d < rows[0].length; d++) lineTrack(`${short}[${d}]`, rows.map((r) => r[d]));
    };
    group("who acted · stage");
    this.addTrack(grid, "source", this.ep.source, this.bandSvg(this.ep.source, sourceColor, "source-band"), true);
    if (series.stage) this.addTrack(grid, "stage", series.stage, this.bandSvg(series.stage, stageColor, "stage-band"), true);
    grid.append(el("div", {}), this.legend());
    group("reward · discount");
    if (series.reward) lineTrack("reward", series.reward);
    if (series.discount) lineTrack("discount", series.discount);
    vector("action", "action", series.action);
    vector("observation/state", "state", series["observation/state"]);
    return el("div", { class: "plots" }, grid);
  }

  legend() {
    const sources = [...new Set(this.ep.source)];
    const stages = [...new Set(this.ep.series.stage || [])];
    const item = (color, text) => { const i = el("i"); i.style.background = color; return el("span", {}, i, text); };
    return el("div", { class: "legend" }, ...sources.map((s) => item(sourceColor(s), s)),
      ...stages.map((s) => item(stageColor(s), `stage ${s}`)));
  }

  addTrack(grid, name, values, plot, band) {
    const readout = el("div", { class: "track-label", title: name });
    this.readouts.push([readout, name, values]);
    const cursor = svg("line", { class: "cursor", x1: 0.5, x2: 0.5, y1: 0, y2: 1, stroke: "#d00",
      "stroke-width": 1.5, "vector-effect": "non-scaling-stroke" });
    plot.append(cursor);
    this.cursors.push(cursor);
    const handoff = this.ep.info.handoff;
    if (handoff !== null && handoff !== undefined) {
      plot.append(svg("line", { class: "handoff", x1: handoff, x2: handoff, y1: 0, y2: 1, stroke: "#000",
        "stroke-dasharray": "3 2", "stroke-width": band ? 2 : 1, "vector-effect": "non-scaling-stroke" }));
    }
    plot.addEventListener("click", (e) => {
      const box = plot.getBoundingClientRect();
      const t = Math.floor(((e.clientX - box.left) / box.width) * this.axis);
      if (this.onseek) this.onseek(t);
    });
    grid.append(readout, plot);
  }

  lineSvg(values, n) {
    const plot = svg("svg", { viewBox: `0 0 ${Math.max(1, n)} 1`, preserveAspectRatio: "none", class: "line" });
    const finite = values.filter((v) => v !== null && Number.isFinite(v));
    let lo = Math.min(...finite, 0), hi = Math.max(...finite, 0);
    if (!finite.length) { lo = 0; hi = 1; }
    if (hi - lo < 1e-9) { hi = lo + 1; }
    const pad = (hi - lo) * 0.08;
    const y = (v) => 1 - (v - lo + pad) / (hi - lo + 2 * pad);
    plot.append(svg("line", { x1: 0, x2: n, y1: y(0), y2: y(0), stroke: "#ccc", "vector-effect": "non-scaling-stroke" }));
    const points = values.map((v, t) => (v === null ? null : `${t + 0.5},${y(v).toFixed(4)}`)).filter(Boolean).join(" ");
    plot.append(svg("polyline", { points, fill: "none", stroke: LINE_COLOR, "stroke-width": 1.3, "vector-effect": "non-scaling-stroke" }));
    return plot;
  }

  bandSvg(values, color, cls) {
    const n = values.length;
    const plot = svg("svg", { viewBox: `0 0 ${this.axis} 1`, preserveAspectRatio: "none", class: `band ${cls}` });
    let start = 0;
    for (let t = 1; t <= n; t++) {
      if (t === n || values[t] !== values[start]) {
        const rect = svg("rect", { x: start, y: 0, width: t - start, height: 1, fill: color(values[start]), "data-value": values[start] });
        const title = svg("title", {});
        title.textContent = `${values[start]}: steps ${start}–${t - 1}`;
        rect.append(title);
        plot.append(rect);
        start = t;
      }
    }
    return plot;
  }

  show(step) {
    if (this.ep.error) return;
    const t = Math.min(step, this.numSteps - 1);
    for (const img of this.images) {
      const url = this.frameUrl(img.dataset.camera, t);
      if (img.getAttribute("src") !== url) img.setAttribute("src", url);
    }
    for (const cursor of this.cursors) { cursor.setAttribute("x1", t + 0.5); cursor.setAttribute("x2", t + 0.5); }
    for (const [readout, name, values] of this.readouts) readout.textContent = `${name} ${fmt(values[t])}`;
    this.node.dataset.step = t;
  }
}

// ---------------------------------------------------------------- start

async function boot() {
  try {
    INFO = await api("/api/info");
  } catch (err) {
    document.getElementById("main").replaceChildren(el("div", { class: "error-box", text: String(err.message || err) }));
    return;
  }
  document.getElementById("datasets").textContent =
    INFO.datasets.map((d) => `${d.label} ${d.version} (${d.episodes} episodes)`).join(" · ");
  window.addEventListener("hashchange", route);
  await route();
}

boot();
