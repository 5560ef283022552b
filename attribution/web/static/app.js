// The page's script. How it is built: it isn't. This file is served as written, with no
// build step, no bundler, no framework and nothing loaded from elsewhere (the service's
// Content-Security-Policy forbids it). Plain ES2020 for current browsers.
//
// Flow: POST /v1/attribute -> render the query with matched lines and the match list at
// once -> for the selected match, GET /v1/sources/<id>?lines=a-b (redacted by the
// service) -> render the source with its matched lines aligned to the query's.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const CONTEXT = 30; // source lines shown around a match
  const state = {
    languages: new Map(), // name -> {line_comment, block_comment, extensions}
    byExtension: new Map(),
    filename: null,
    code: "",
    result: null,
    selected: -1,
    token: sessionStorage.getItem("attribution-token") || "",
    excerptSeq: 0,
  };

  // --- talking to the service -------------------------------------------------------------
  async function api(path, options = {}) {
    const headers = Object.assign({ Accept: "application/json" }, options.headers || {});
    if (state.token) headers.Authorization = `Bearer ${state.token}`;
    const resp = await fetch(path, Object.assign({}, options, { headers }));
    let body = null;
    try {
      body = await resp.json();
    } catch (_) {
      body = null;
    }
    if (resp.status === 401 && (await askToken())) return api(path, options);
    if (!resp.ok) {
      const message = body && body.error ? body.error.message : `HTTP ${resp.status}`;
      const err = new Error(message);
      err.status = resp.status;
      throw err;
    }
    return body;
  }

  function askToken() {
    const dialog = $("token-dialog");
    return new Promise((resolve) => {
      dialog.addEventListener(
        "close",
        () => {
          const token = $("token").value.trim();
          if (dialog.returnValue === "ok" && token) {
            state.token = token;
            sessionStorage.setItem("attribution-token", token);
            resolve(true);
          } else {
            resolve(false);
          }
        },
        { once: true },
      );
      dialog.showModal();
    });
  }

  // --- small DOM helpers ------------------------------------------------------------------
  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function setStatus(text, kind) {
    const status = $("status");
    status.textContent = text;
    status.className = "status" + (kind ? ` ${kind}` : "");
  }

  function rangeText(lines) {
    return lines[0] === lines[1] ? `line ${lines[0]}` : `lines ${lines[0]}–${lines[1]}`;
  }

  function linesOf(text) {
    const lines = text.split("\n");
    if (lines.length && lines[lines.length - 1] === "") lines.pop();
    return lines;
  }

  // Lines covered by the spans of a match on one side ("query_lines" or "source_lines").
  function spanLines(match, side) {
    const set = new Set();
    const spans = match.spans && match.spans.length ? match.spans : [match];
    for (const span of spans) {
      for (let n = span[side][0]; n <= span[side][1]; n++) set.add(n);
    }
    return set;
  }

  // Render numbered lines into a .code-view; `marks(n)` gives the line's extra classes.
  function renderCode(view, lines, firstNumber, marks) {
    const frag = document.createDocumentFragment();
    lines.forEach((text, i) => {
      const n = firstNumber + i;
      const row = el("div", "code-line");
      row.dataset.line = String(n);
      const cls = marks(n);
      if (cls) row.className += ` ${cls}`;
      row.append(el("span", "ln", n), el("span", "tx", text || " "));
      frag.append(row);
    });
    view.replaceChildren(frag);
  }

  // --- languages ----------------------------------------------------------------------------
  async function loadLanguages() {
    try {
      const body = await api("/v1/languages");
      const select = $("language");
      for (const lang of body.languages) {
        state.languages.set(lang.name, lang);
        for (const ext of lang.extensions) state.byExtension.set(ext.toLowerCase(), lang.name);
        const option = el("option", null, lang.name);
        option.value = lang.name;
        select.append(option);
      }
    } catch (_) {
      /* the select keeps "auto-detect" only */
    }
  }

  function languageOfFile(name) {
    const dot = name.lastIndexOf(".");
    return dot > 0 ? state.byExtension.get(name.slice(dot).toLowerCase()) || "" : "";
  }

  async function loadIndexInfo() {
    try {
      const s = await api("/v1/stats");
      $("index-info").textContent =
        `index: ${s.sources.toLocaleString()} sources · ${s.repos.toLocaleString()} repositories`;
    } catch (_) {
      $("index-info").textContent = "";
    }
  }

  // --- the query ------------------------------------------------------------------------------
  async function submit() {
    const code = $("code").value;
    if (!code.trim()) {
      setStatus("Paste some code first.", "error");
      $("code").focus();
      return;
    }
    const body = { code };
    const language = $("language").value;
    if (language) body.language = language;
    if (state.filename) body.filename = state.filename;
    $("submit").disabled = true;
    setStatus("Searching…");
    const started = performance.now();
    try {
      const result = await api("/v1/attribute", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
      state.code = code;
      showResult(result, performance.now() - started);
    } catch (err) {
      setStatus(`Error: ${err.message}`, "error");
    } finally {
      $("submit").disabled = false;
    }
  }

  function showResult(result, roundTripMs) {
    const renderStart = performance.now();
    state.result = result;
    state.selected = -1;
    const n = result.matches.length;
    const detected = $("language").value ? "" : ` · detected ${result.query.language}`;
    const timing = ` · ${Math.round(result.elapsed_ms)} ms search, ${Math.round(roundTripMs)} ms in all`;
    if (n) {
      setStatus(`${n} match${n === 1 ? "" : "es"}${detected}${timing}`, "verdict-match");
    } else {
      setStatus(`No match: nothing in the index looks copied${detected}${timing}`, "verdict-none");
    }
    renderMatches(result.matches);
    showQueryView();
    if (n) select(0, false);
    else {
      hideSource();
      renderQuery();
    }
    // how long the answer took to show (the source excerpt follows with its own request)
    document.body.dataset.renderMs = (performance.now() - renderStart).toFixed(1);
  }

  function renderQuery() {
    const result = state.result;
    const all = new Set();
    for (const m of result.matches) for (const n of spanLines(m, "query_lines")) all.add(n);
    const sel = state.selected >= 0 ? spanLines(result.matches[state.selected], "query_lines") : new Set();
    renderCode($("query-view"), linesOf(state.code), 1, (n) =>
      sel.has(n) ? "hl hl-sel" : all.has(n) ? "hl" : "",
    );
  }

  function showQueryView() {
    $("code").hidden = true;
    $("query-view").hidden = false;
    $("edit").hidden = false;
  }

  function showEditor() {
    $("query-view").hidden = true;
    $("edit").hidden = true;
    $("code").hidden = false;
    $("code").focus();
  }

  // --- the match list (a listbox: arrow keys, Home/End) --------------------------------------
  function renderMatches(matches) {
    const list = $("matches");
    const frag = document.createDocumentFragment();
    matches.forEach((m, i) => {
      const item = el("li", "match");
      item.id = `match-${i}`;
      item.setAttribute("role", "option");
      item.setAttribute("aria-selected", "false");
      item.tabIndex = i === 0 ? 0 : -1;
      const where = el("span", "where", `${m.source.repo_name} · ${m.source.path}`);
      const badge = el("span", `badge ${m.source.license_type}`, m.source.license);
      const how = el(
        "span",
        "how",
        `${rangeText(m.query_lines)} ↔ ${rangeText(m.source_lines)} · ${m.match_type} · ` +
          `${Math.round(m.coverage * 100)}% of the snippet · ${copiesText(m)}`,
      );
      item.append(where, badge, how);
      item.addEventListener("click", () => select(i, true));
      frag.append(item);
    });
    list.replaceChildren(frag);
    list.hidden = matches.length === 0;
  }

  function onMatchKey(event) {
    const n = state.result ? state.result.matches.length : 0;
    if (!n) return;
    const moves = { ArrowDown: 1, ArrowRight: 1, ArrowUp: -1, ArrowLeft: -1 };
    let next = null;
    if (event.key in moves) next = Math.min(n - 1, Math.max(0, state.selected + moves[event.key]));
    else if (event.key === "Home") next = 0;
    else if (event.key === "End") next = n - 1;
    else if (event.key === "Enter" || event.key === " ") next = state.selected;
    if (next === null) return;
    event.preventDefault();
    select(next, true);
  }

  function select(i, focus) {
    state.selected = i;
    const items = $("matches").children;
    for (let k = 0; k < items.length; k++) {
      items[k].setAttribute("aria-selected", k === i ? "true" : "false");
      items[k].tabIndex = k === i ? 0 : -1;
    }
    $("matches").setAttribute("aria-activedescendant", `match-${i}`);
    if (focus) items[i].focus();
    else items[i].scrollIntoView({ block: "nearest" });
    renderQuery();
    showSource(state.result.matches[i]);
  }

  // --- the selected match's source -----------------------------------------------------------
  function hideSource() {
    $("source").hidden = true;
    $("source-view").hidden = true;
    $("source-placeholder").hidden = false;
    $("source-link").textContent = "";
    $("excerpt-lines").textContent = "";
  }

  // Only http(s) links from indexed metadata: a `javascript:` or `data:` URL is shown as
  // nothing rather than trusted to the content security policy.
  function webLink(url) {
    if (typeof url !== "string" || !url) return null;
    try {
      const parsed = new URL(url);
      const web = parsed.protocol === "http:" || parsed.protocol === "https:";
      return web && parsed.host ? parsed.href : null;
    } catch {
      return null;
    }
  }

  function showSource(match) {
    const src = match.source;
    $("source").hidden = false;
    $("source-view").hidden = false;
    $("source-placeholder").hidden = true;
    const link = $("source-link");
    link.textContent = `${src.repo_name} / ${src.path}`;
    const href = webLink(src.url);
    if (href) link.href = href;
    else link.removeAttribute("href");
    $("source-meta").textContent =
      `${rangeText(match.source_lines)} · ${match.match_type} · score ${match.score.toFixed(2)} · ${src.swhid}`;
    const badge = $("license-badge");
    badge.textContent = src.license;
    badge.className = `badge ${src.license_type}`;
    $("license-type").textContent = src.license_type;
    fillList($("obligations"), src.obligations, "none listed");
    $("authors").textContent = src.authors.length ? src.authors.join(", ") : "unknown";
    $("copyright").textContent = src.copyright.length ? src.copyright.join("; ") : "none found";
    $("copies").textContent = `${copiesText(match)} hold this code`;
    fillList(
      $("origins"),
      match.origins.map(
        (o) =>
          `${o.repo_name} / ${o.path}` +
          (o.source_lines ? ` · ${rangeText(o.source_lines)}` : "") +
          ` · ${o.license}` +
          (o.kind && o.kind !== "module" ? ` · ${o.kind}` : ""),
      ),
      "none",
    );
    const more = match.copies - 1 - (match.origins_offset || 0) - match.origins.length;
    if (more > 0) $("origins").append(el("li", null, `and ${more} more`));
    $("comment").textContent = attributionComment(match);
    loadExcerpt(match);
  }

  // "4 copies under 2 licenses" when the copies disagree on their license
  function copiesText(match) {
    const n = match.copies;
    const licenses = Object.keys(match.licenses || {}).length;
    return `${n} ${n === 1 ? "copy" : "copies"}` + (licenses > 1 ? ` under ${licenses} licenses` : "");
  }

  function fillList(list, items, empty) {
    const frag = document.createDocumentFragment();
    for (const text of items.length ? items : [empty]) frag.append(el("li", null, text));
    list.replaceChildren(frag);
  }

  async function loadExcerpt(match) {
    const seq = ++state.excerptSeq;
    const [a, b] = match.source_lines;
    const first = Math.max(1, a - CONTEXT);
    const view = $("source-view");
    try {
      const ex = await api(`/v1/sources/${encodeURIComponent(match.source.id)}?lines=${first}-${b + CONTEXT}`);
      if (seq !== state.excerptSeq) return; // a newer selection won
      const marked = spanLines(match, "source_lines");
      renderCode(view, linesOf(ex.excerpt), ex.lines[0], (n) => (marked.has(n) ? "hl hl-sel" : ""));
      const hidden = Object.values(ex.redactions).reduce((s, c) => s + c, 0);
      $("excerpt-lines").textContent =
        `${rangeText(ex.lines)} of ${ex.total_lines}` + (hidden ? ` · ${hidden} secrets redacted` : "");
      align(match);
    } catch (err) {
      if (seq !== state.excerptSeq) return;
      view.replaceChildren(el("div", "code-line gap", `Could not load the source: ${err.message}`));
    }
  }

  // Scroll both code views so the match's first lines sit level with each other (when the
  // panes are side by side; stacked on a narrow screen, each just shows its match).
  function align(match) {
    const q = $("query-view");
    const s = $("source-view");
    const qLine = q.querySelector(`[data-line="${match.query_lines[0]}"]`);
    const sLine = s.querySelector(`[data-line="${match.source_lines[0]}"]`);
    if (!qLine || !sLine) return;
    const top = (node) => node.getBoundingClientRect().top;
    const lead = 3 * qLine.offsetHeight;
    q.scrollTop += top(qLine) - top(q) - lead;
    s.scrollTop += top(sLine) - top(s) - lead;
    const qr = q.getBoundingClientRect();
    const sr = s.getBoundingClientRect();
    if (qr.bottom <= sr.top || sr.bottom <= qr.top) return; // stacked, not side by side
    s.scrollTop += top(sLine) - top(qLine); // level the source with the query ...
    q.scrollTop += top(qLine) - top(sLine); // ... or the query with the source, when clamped
  }

  // A comment to paste above the copied code, in the query language's comment syntax.
  function attributionComment(match) {
    const src = match.source;
    const lines = [
      `Adapted from ${src.repo_name}/${src.path} (${rangeText(match.source_lines)})`,
    ];
    if (src.url) lines.push(src.url);
    lines.push(`Content: ${src.swhid}`);
    for (const c of src.copyright.slice(0, 3)) lines.push(c);
    if (!src.copyright.length && src.authors.length) lines.push(`Authors: ${src.authors.join(", ")}`);
    lines.push(`License: ${src.license}`);
    const lang = state.languages.get(state.result.query.language) || {};
    if (lang.line_comment) return lines.map((l) => `${lang.line_comment} ${l}`).join("\n");
    if (lang.block_comment) {
      const [open, close] = lang.block_comment;
      return [open, ...lines.map((l) => ` ${l}`), close].join("\n");
    }
    return lines.map((l) => `# ${l}`).join("\n");
  }

  async function copyComment() {
    const text = $("comment").textContent;
    const button = $("copy-comment");
    try {
      await navigator.clipboard.writeText(text);
    } catch (_) {
      const range = document.createRange();
      range.selectNodeContents($("comment"));
      const sel = window.getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
      document.execCommand("copy");
    }
    button.textContent = "Copied";
    setTimeout(() => (button.textContent = "Copy"), 1500);
  }

  // --- files: open or drop ---------------------------------------------------------------------
  async function takeFile(file) {
    if (!file) return;
    if (file.size > 1_000_000) {
      setStatus(`${file.name} is too large (over 1 MB).`, "error");
      return;
    }
    $("code").value = await file.text();
    state.filename = file.name;
    const name = $("file-name");
    name.textContent = `File: ${file.name}`;
    name.hidden = false;
    const lang = languageOfFile(file.name);
    if (lang) $("language").value = lang;
    showEditor();
    submit();
  }

  function wireDrop() {
    const zone = $("drop-zone");
    zone.addEventListener("dragover", (e) => {
      e.preventDefault();
      zone.classList.add("dragging");
    });
    zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
    zone.addEventListener("drop", (e) => {
      e.preventDefault();
      zone.classList.remove("dragging");
      takeFile(e.dataTransfer.files[0]);
    });
  }

  // --- start -------------------------------------------------------------------------------------
  function start() {
    $("submit").addEventListener("click", submit);
    $("edit").addEventListener("click", showEditor);
    $("copy-comment").addEventListener("click", copyComment);
    $("file").addEventListener("change", (e) => takeFile(e.target.files[0]));
    $("matches").addEventListener("keydown", onMatchKey);
    $("query-view").addEventListener("keydown", (e) => {
      if (e.key === "Escape" || (e.key === "e" && !e.ctrlKey && !e.metaKey)) {
        e.preventDefault();
        showEditor();
      }
    });
    document.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
        e.preventDefault();
        submit();
      }
    });
    wireDrop();
    loadLanguages();
    loadIndexInfo();
    $("code").focus();
  }

  start();
})();
