/// The labelling app's page: HTML, CSS and script in one string, nothing fetched from elsewhere.
/// `__TOKEN__` is replaced by the server's token (the page is served only to a request that
/// carries it) for the header every change sends.
enum LabelPage {
    static let html = """
    <!doctype html>
    <html lang="en"><head><meta charset="utf-8"><title>facet label</title>
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <style>
    body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1d1d1f;background:#f6f6f6}
    header{position:sticky;top:0;z-index:2;background:#fff;border-bottom:1px solid #ddd;padding:8px 16px;display:flex;flex-wrap:wrap;gap:6px 18px;align-items:center}
    header h1{font-size:16px;margin:0}#progress{font-variant-numeric:tabular-nums}#bar{width:180px;height:8px;background:#eee;border-radius:4px;overflow:hidden}
    #bar div{height:100%;background:#2a7d4f}#msg{color:#555;min-width:220px}#msg.err{color:#a12a00;font-weight:600}
    main{display:grid;grid-template-columns:minmax(320px,520px) 1fr;gap:16px;padding:12px 16px}
    #view{background:#fff;border:1px solid #ddd;border-radius:8px;padding:12px;position:sticky;top:64px;align-self:start}
    #view img.big{width:100%;max-height:420px;object-fit:contain;background:#222;border-radius:4px}
    #view .name{font-weight:600;overflow-wrap:anywhere}#view .label{font-size:18px;margin:6px 0}
    .tags span,.tags button{display:inline-block;background:#eef;border:1px solid #dde;border-radius:3px;padding:1px 6px;margin:2px 4px 2px 0;font-size:12px;cursor:default}
    .tags button{cursor:pointer}.tags button.you{background:#fff3c4;border-color:#e0c060}.tags button small{color:#777}
    .tags span.issue{background:#fde8dc}.group{display:flex;gap:6px;flex-wrap:wrap;margin-top:8px}.group img{width:72px;height:72px;object-fit:cover;border-radius:3px;border:2px solid #ccc}
    .review{margin-top:8px;font-size:13px;color:#333}.review.disputed{color:#8a2d00}.review .given{font-weight:700}
    .keys{color:#666;font-size:12px;margin-top:10px}.keys b{display:inline-block;min-width:14px;padding:0 4px;border:1px solid #bbb;border-radius:3px;background:#fafafa;text-align:center;color:#333}
    #grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(112px,1fr));gap:8px;align-content:start}
    .cell{background:#fff;border:2px solid transparent;border-radius:6px;padding:3px;cursor:pointer;font-size:11px}
    .cell img{width:100%;aspect-ratio:1;object-fit:cover;border-radius:3px;display:block;background:#ddd}
    .cell.cur{border-color:#0060a0}.cell .l{display:block;margin-top:2px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
    .cell .l.none{color:#999}.cell .l.discard{color:#a12a00;text-decoration:line-through}
    select,button{font:inherit}
    </style></head><body>
    <header><h1>facet label</h1><div id="bar"><div></div></div><div id="progress"></div>
    <label>show <select id="filter"></select></label><span id="hist"></span><span id="msg"></span></header>
    <main><section id="view"></section><section id="grid"></section></main>
    <script>
    "use strict";
    const TOKEN = "__TOKEN__";
    let S = null, shown = [], cur = 0;
    const $ = s => document.querySelector(s);
    const esc = s => String(s).replace(/[&<>"']/g, c => ({"&":"&amp;","<":"&lt;",">":"&gt;",'"':"&quot;","'":"&#39;"}[c]));
    function msg(text, err) { const m = $("#msg"); m.textContent = text; m.className = err ? "err" : ""; }
    async function post(path, body) {
      const r = await fetch(path, {method: "POST", headers: {"Content-Type": "application/json", "X-Facet-Token": TOKEN}, body: JSON.stringify(body || {})});
      const j = await r.json().catch(() => ({error: r.status + " " + r.statusText}));
      if (!r.ok) { msg(j.error || ("refused: " + r.status), true); return null; }
      return j;
    }
    function byId(id) { return S.index.get(id); }
    function conflicts() {
      const labels = new Map();
      for (const p of S.photos) if (p.label) { const s = labels.get(p.group) || new Set(); s.add(p.label); labels.set(p.group, s); }
      return new Set([...labels].filter(([, s]) => s.size > 1).map(([g]) => g));
    }
    function filters() {
      const f = [["all", "all photos"], ["unlabelled", "unlabelled"], ["conflicts", "conflicts"], ["label:" + S.discard, "discarded"]];
      if (S.reviewModel) f.splice(1, 0, ["review", `review: labels ${S.reviewModel} disputes`]);
      for (const c of S.classes) f.push(["label:" + c, "class " + c]);
      for (const k of ["lighting", "background", "occlusion"]) {
        for (const v of [...new Set(S.photos.map(p => tag(p, k)).filter(Boolean))].sort()) f.push([k + ":" + v, k + " " + v]);
      }
      for (const i of [...new Set(S.photos.flatMap(p => p.issues))].sort()) f.push(["issue:" + i, "issue " + i]);
      $("#filter").innerHTML = f.map(([v, t]) => `<option value="${esc(v)}">${esc(t)}</option>`).join("");
    }
    function matches(p, f, bad) {
      if (f === "all") return true;
      if (f === "unlabelled") return !p.label;
      if (f === "conflicts") return bad.has(p.group);
      if (f === "review") return !!(p.review && p.review.disputed && p.review.ask);
      const [k, v] = [f.slice(0, f.indexOf(":")), f.slice(f.indexOf(":") + 1)];
      if (k === "label") return p.label === v;
      if (k === "issue") return p.issues.includes(v);
      return tag(p, k) === v;
    }
    function tag(p, k) { return p.tags && p.tags[k] ? p.tags[k].value : null; }
    function refilter(keepId) {
      const f = $("#filter").value, bad = conflicts();
      shown = S.photos.filter(p => matches(p, f, bad));
      // The review: most disputed first (the loss of the label given).
      if (f === "review") shown.sort((a, b) => b.review.loss - a.review.loss);
      const i = keepId ? shown.findIndex(p => p.id === keepId) : -1;
      cur = i >= 0 ? i : Math.min(cur, Math.max(shown.length - 1, 0));
      drawGrid(); drawView(); drawProgress();
    }
    function labelText(p) { return p.label ? p.label : "unlabelled"; }
    function cellText(p, review) {
      if (!review || !p.review) return esc(labelText(p));
      const k = p.review.p.indexOf(Math.max(...p.review.p));
      return `${esc(labelText(p))} → ${esc(S.classes[k])} ${p.review.p[k].toFixed(2)}`;
    }
    function drawGrid() {
      const review = $("#filter").value === "review";
      $("#grid").innerHTML = shown.map((p, i) => `<div class="cell${i === cur ? " cur" : ""}" data-id="${esc(p.id)}">` +
        `<img loading="lazy" src="/thumb/${p.id}" alt="${esc(p.source)}"><span class="${labelClass(p)}">${cellText(p, review)}</span></div>`).join("")
        || `<p>No photo here.</p>`;
    }
    function labelClass(p) { return "l " + (p.label ? (p.label === S.discard ? "discard" : "") : "none"); }
    // After a change: the changed photos' cells, without drawing the grid again (thousands of cells).
    function updateCells(photos) {
      const review = $("#filter").value === "review";
      for (const p of photos) {
        const cell = document.querySelector(`.cell[data-id="${p.id}"]`);
        if (!cell) continue;
        if (!shown.includes(byId(p.id))) { cell.remove(); continue; }
        const l = cell.querySelector(".l");
        l.className = labelClass(byId(p.id)); l.innerHTML = cellText(byId(p.id), review);
      }
    }
    function drawView() {
      const p = shown[cur];
      if (!p) { $("#view").innerHTML = "<p>Nothing to show with this filter.</p>" + keys(); return; }
      const group = S.photos.filter(q => q.group === p.group && q.id !== p.id);
      $("#view").innerHTML = `<img class="big" src="/photo/${p.id}" alt="${esc(p.source)}"><div class="name">${esc(p.source)}</div>` +
        `<div class="label" id="current-label">${esc(labelText(p))}</div>` +
        `<div class="tags">${CONDITIONS.map(([k, key]) => p.tags[k] ? `<button class="tag ${p.tags[k].source}" data-field="${k}" ` +
          `title="${esc(describe(p.tags[k]))}: click or press ${key} to change">${k} <b>${esc(p.tags[k].value)}</b>` +
          `<small> ${esc(p.tags[k].source === "you" ? "set here" : p.tags[k].source === "sheet" ? "sheet" : p.tags[k].score != null ? "auto " + p.tags[k].score.toFixed(2) : "auto")}</small></button>` : "").join("")}` +
        p.issues.map(i => `<span class="issue">${esc(i)}</span>`).join("") + `</div>` + reviewLine(p) +
        (group.length ? `<div>labelled with its ${group.length} near duplicate${group.length > 1 ? "s" : ""}:</div><div class="group">` +
          group.map(q => `<img src="/thumb/${q.id}" title="${esc(q.source)}: ${esc(labelText(q))}">`).join("") + `</div>` : "") + keys();
      const cell = shown[cur] && document.querySelector(`.cell[data-id="${shown[cur].id}"]`);
      document.querySelectorAll(".cell.cur").forEach(c => c.classList.remove("cur"));
      if (cell) { cell.classList.add("cur"); cell.scrollIntoView({block: "nearest"}); }
    }
    const CONDITIONS = [["lighting", "l"], ["background", "b"], ["occlusion", "o"]];
    const OTHER = {dim: "bright", bright: "dim", plain: "cluttered", cluttered: "plain", none: "partial", partial: "none"};
    function describe(t) { return `measured ${t.measured}` + (t.score != null ? ` (score ${t.score})` : "") + (t.reason ? ` — ${t.reason}` : ""); }
    async function flip(field) {
      const p = shown[cur]; if (!p || !p.tags[field]) return;
      const t = p.tags[field];
      // The other value; back to the measured one clears the override.
      const next = t.value === "unknown" ? (field === "lighting" ? "bright" : field === "background" ? "plain" : "none") : OTHER[t.value];
      const u = await post("/api/condition", {id: p.id, field, value: next === t.measured ? null : next, seen: {[p.id]: p.rev}});
      if (!u) return;
      apply(u); drawView(); drawGrid(); drawProgress();
    }
    function reviewLine(p) {
      const r = p.review; if (!r) return "";
      return `<div class="review${r.disputed ? " disputed" : ""}">${esc(r.model)}: ` +
        S.classes.map((c, i) => `<span class="${c === r.given ? "given" : ""}">${esc(c)} ${r.p[i].toFixed(2)}</span>`).join(" · ") +
        ` — ${r.disputed ? "disputes" : "agrees with"} ${esc(r.given)} (loss ${r.loss.toFixed(2)})` +
        (r.ask ? (r.disputed ? ` · <b>c</b> confirms ${esc(r.given)}, a number corrects it` : "") : " · confirmed or changed") + `</div>`;
    }
    async function confirmLabel() {
      const p = shown[cur]; if (!p || !p.label) return;
      const u = await post("/api/condition", {id: p.id, field: "confirmed", value: p.label, seen: {[p.id]: p.rev}});
      if (!u) return;
      apply(u);
      if ($("#filter").value === "review") refilter(); else { drawView(); drawProgress(); }
    }
    function keys() {
      return `<div class="keys">${S.classes.map((c, i) => `<b>${i + 1}</b> ${esc(c)}`).join(" · ")} · <b>x</b> discard · <b>s</b> skip · ` +
        `<b>z</b> undo · <b>Z</b> redo · <b>←</b><b>→</b> move · <b>l</b> <b>b</b> <b>o</b> change lighting, background, occlusion` +
        (S.reviewModel ? ` · <b>c</b> confirm the label` : "") + `</div>`;
    }
    function drawProgress() {
      const n = S.photos.length, counts = {};
      for (const p of S.photos) if (p.label) counts[p.label] = (counts[p.label] || 0) + 1;
      const labelled = S.photos.filter(p => p.label).length;
      $("#progress").textContent = `labelled ${labelled} / ${n} · ` + S.classes.map(c => `${c} ${counts[c] || 0}`).join(" · ") +
        ` · discarded ${counts[S.discard] || 0} · conflicts ${conflicts().size}`;
      $("#bar div").style.width = (n ? 100 * labelled / n : 0) + "%";
      $("#hist").textContent = `undo ${S.undo} · redo ${S.redo}`;
    }
    function apply(u) {
      if (!u) return;
      // A field the server leaves out is empty (an unlabelled photo has no "label").
      for (const q of u.photos) { const p = byId(q.id); if (p) Object.assign(p, {label: null}, q); }
      S.undo = u.undo; S.redo = u.redo;
      msg(u.did);
    }
    // Milliseconds from each labelling key press to the server's answer, which comes once the
    // change is on disk (saved), and to the next photo drawn (shown): read by bench/label.sh.
    window.facetTimings = [];
    async function give(label) {
      const p = shown[cur]; if (!p) return;
      const t0 = performance.now();
      const seen = {};
      for (const q of S.photos) if (q.group === p.group) seen[q.id] = q.rev;
      const u = await post("/api/label", {id: p.id, label, seen});
      if (!u) return;
      const saved = performance.now() - t0;
      apply(u);
      const f = $("#filter").value;
      if (f === "unlabelled" || f === "conflicts" || f === "review") {
        // The photos that no longer match leave; the view shows the next one in the same place.
        const bad = conflicts();
        shown = shown.filter(q => matches(q, f, bad));
        cur = Math.min(cur, Math.max(shown.length - 1, 0));
      } else {
        cur = Math.min(cur + 1, shown.length - 1);
      }
      updateCells(u.photos); drawView(); drawProgress();
      window.facetTimings.push({saved, shown: performance.now() - t0});
    }
    async function walk(which) {
      const u = await post("/api/" + which); if (!u) return;
      apply(u);
      refilter(u.photos.length ? u.photos[0].id : (shown[cur] || {}).id);
    }
    document.addEventListener("keydown", e => {
      if (e.target.tagName === "SELECT") return;
      const k = e.key;
      // z or ctrl+z undo; shift+z or ctrl+shift+z redo (Label Studio's keys).
      if (k === "Z" || (k === "z" && e.shiftKey)) { e.preventDefault(); walk("redo"); return; }
      if (k === "z") { e.preventDefault(); walk("undo"); return; }
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      if (/^[1-9]$/.test(k) && +k <= S.classes.length) { e.preventDefault(); give(S.classes[+k - 1]); }
      else if (k === "x") { e.preventDefault(); give(S.discard); }
      else if (k === "s" || k === "ArrowRight") { e.preventDefault(); cur = Math.min(cur + 1, shown.length - 1); drawView(); }
      else if (k === "ArrowLeft") { e.preventDefault(); cur = Math.max(cur - 1, 0); drawView(); }
      else if (k === "c") { e.preventDefault(); confirmLabel(); }
      else if (k === "l" || k === "b" || k === "o") { e.preventDefault(); flip(CONDITIONS.find(c => c[1] === k)[0]); }
    });
    $("#view").addEventListener("click", e => { const b = e.target.closest("button.tag"); if (b) flip(b.dataset.field); });
    $("#grid").addEventListener("click", e => {
      const c = e.target.closest(".cell");
      if (c) { cur = Math.max(0, shown.findIndex(p => p.id === c.dataset.id)); drawView(); }
    });
    $("#filter").addEventListener("change", () => { cur = 0; refilter(); $("#filter").blur(); });
    (async () => {
      const r = await fetch("/api/state");
      if (!r.ok) { msg("cannot read the state: " + r.status, true); return; }
      S = await r.json();
      S.index = new Map(S.photos.map(p => [p.id, p]));
      if (location.search.includes("token=")) history.replaceState(null, "", "/");
      filters(); refilter();
      msg("ready: " + S.photos.length + " photos");
      window.facetReadyAt = performance.now();
    })();
    </script></body></html>
    """
}
