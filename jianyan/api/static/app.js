/* jianyan internal page: 检索 / 查重 / 文档. Vanilla JS, no build step, no external requests.
 *
 * Rule for the whole file: text from the server or the user is only ever inserted with
 * textContent / text nodes (see `el`), never as HTML.
 */
(function () {
  "use strict";

  // -- constants ------------------------------------------------------------------------------
  const TOKEN_KEY = "jianyan.token";
  // Names of types and statuses come from the server (/labels.js), the same table the CLI prints.
  const LABELS = window.JIANYAN_LABELS || { doc_types: {}, statuses: {}, verdicts: {} };
  const DOC_TYPE_NAMES = LABELS.doc_types;
  const STATUS_NAMES = LABELS.statuses;
  const VERDICT_NOTES = {
    duplicate: "本稿与已收录提案的内容大量相同或意思基本一致。",
    overlap: "本稿有部分段落与已收录提案相同或意思相近。",
    related: "已收录提案中有主题相关的内容，可供参考。",
    none: "未发现与已收录提案重复的内容。",
  };
  const SENTENCE_END = "。！？；!?;\n";
  const SNIPPET_CHARS = 300;
  const CONTEXT_CHARS = 80;
  const PAGE_SIZE = 20;
  const SEARCH_K = 20;
  const JOB_POLL_MS = 400;

  // -- DOM helpers ----------------------------------------------------------------------------
  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));

  /** Create an element. props: class, text, on<event>, or any attribute; kids: nodes or strings. */
  function el(tag, props, ...kids) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      // Styles through the CSSOM: a style attribute would be blocked by the page's CSP.
      else if (key === "style" && typeof value === "object") Object.assign(node.style, value);
      else if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const kid of kids.flat()) {
      if (kid === null || kid === undefined || kid === false) continue;
      node.append(kid instanceof Node ? kid : String(kid));
    }
    return node;
  }

  /** Replace a node's children, skipping null/false kids (replaceChildren would print "null"). */
  function fill(node, ...kids) {
    node.replaceChildren(...kids.flat().filter((k) => k !== null && k !== undefined && k !== false));
    return node;
  }

  function showAlert(node, message) {
    node.textContent = message || "";
    node.hidden = !message;
  }

  function setBusy(button, busy, busyText) {
    if (busy) {
      button.dataset.label = button.dataset.label || button.textContent;
      button.textContent = busyText;
    } else if (button.dataset.label) {
      button.textContent = button.dataset.label;
    }
    button.disabled = busy;
  }

  const typeName = (t) => DOC_TYPE_NAMES[t] || t || "—";
  const pct = (x) => `${(Math.round((x || 0) * 1000) / 10).toString()}%`;
  const num = (n) => (n === null || n === undefined ? "—" : Number(n).toLocaleString("zh-CN"));
  const headingPath = (path) => (path && path.length ? path.join(" › ") : "");

  function fileSize(bytes) {
    if (bytes < 1024) return `${bytes} B`;
    if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
    return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  }

  // -- token ----------------------------------------------------------------------------------
  const Token = {
    memory: "", // fallback when localStorage is unavailable
    get() {
      try { return localStorage.getItem(TOKEN_KEY) || Token.memory; } catch (e) { return Token.memory; }
    },
    set(value) {
      try {
        if (value) localStorage.setItem(TOKEN_KEY, value); else localStorage.removeItem(TOKEN_KEY);
      } catch (e) { /* storage disabled: the token lasts for this page only */ }
      Token.memory = value;
    },
  };

  function authHeaders() {
    const token = Token.get();
    return token ? { Authorization: `Bearer ${token}` } : {};
  }

  // -- API ------------------------------------------------------------------------------------
  class ApiError extends Error {
    constructor(status, code, message, details) {
      super(message);
      this.status = status;
      this.code = code;
      this.details = details;
    }
  }

  /** Turn an error body (or anything) into an ApiError with a Chinese message. */
  function toApiError(status, body) {
    const err = body && body.error;
    if (err && err.message) return new ApiError(status, err.code || "", err.message, err.details);
    return new ApiError(status, "http_error", `服务器返回错误（HTTP ${status}）`);
  }

  /** One JSON request. opts: method, json (body object), form (FormData). Throws ApiError. */
  async function api(path, opts = {}) {
    const headers = { Accept: "application/json", ...authHeaders() };
    let body;
    if (opts.json !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(opts.json);
    } else if (opts.form) {
      body = opts.form;
    }
    let resp;
    try {
      resp = await fetch(path, { method: opts.method || (body ? "POST" : "GET"), headers, body });
    } catch (e) {
      throw new ApiError(0, "network", "无法连接服务器，请检查网络后重试");
    }
    let data = null;
    try { data = await resp.json(); } catch (e) { data = null; }
    if (!resp.ok) {
      const error = toApiError(resp.status, data);
      if ((resp.status === 401 || resp.status === 403) && isReadPath(path, opts)) askForReadToken(error.message);
      throw error;
    }
    return data;
  }

  function isReadPath(path, opts) {
    const method = (opts.method || "GET").toUpperCase();
    return !(path.startsWith("/api/documents") && (method === "DELETE" || (method === "POST" && opts.form)));
  }

  /** Multipart POST through XMLHttpRequest, for upload progress. onProgress(loaded, total). */
  function uploadWithProgress(path, form, onProgress) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open("POST", path);
      xhr.setRequestHeader("Accept", "application/json");
      for (const [k, v] of Object.entries(authHeaders())) xhr.setRequestHeader(k, v);
      xhr.upload.addEventListener("progress", (e) => onProgress(e.loaded, e.lengthComputable ? e.total : 0));
      xhr.addEventListener("load", () => {
        let data = null;
        try { data = JSON.parse(xhr.responseText); } catch (e) { data = null; }
        if (xhr.status >= 200 && xhr.status < 300) resolve(data);
        else reject(toApiError(xhr.status, data));
      });
      xhr.addEventListener("error", () => reject(new ApiError(0, "network", "上传中断：无法连接服务器")));
      xhr.send(form);
    });
  }

  /** The message to show for an error; 401/403 get a lead-in that says what to do. */
  function errorText(err, action) {
    if (!(err instanceof ApiError)) return `出错了：${err && err.message ? err.message : err}`;
    if (err.status === 401) return `需要令牌：${action || "请先填写令牌"}。（${err.message}）`;
    if (err.status === 403) return `令牌无效或没有权限：请检查令牌是否填写正确。（${err.message}）`;
    return err.message;
  }

  // -- marked text ----------------------------------------------------------------------------
  /**
   * Render `text` as one <p> per line, with ranges marked.
   * ranges: [{start, end, cls, tag?: "mark"|"span", attrs?}] (offsets into text; may overlap).
   * Overlapping ranges produce one element carrying all their classes and attributes.
   */
  function renderLines(text, ranges, lineClass) {
    const frag = document.createDocumentFragment();
    const live = normaliseRanges(ranges, text.length);
    let pos = 0;
    for (const line of text.split("\n")) {
      const start = pos;
      const end = pos + line.length;
      pos = end + 1;
      if (!line.trim()) continue;
      const p = el("p", { class: lineClass ? lineClass(start, end, line) : null, "data-start": start });
      appendSegments(p, text, start, end, live.filter((r) => r.start < end && r.end > start));
      frag.append(p);
    }
    return frag;
  }

  /** Render a single-line snippet (newlines shown as spaces) with ranges marked. */
  function renderInline(text, ranges) {
    const span = el("span", { class: "inline-text" });
    const flat = text.replace(/\n/g, " ");
    appendSegments(span, flat, 0, flat.length, normaliseRanges(ranges, flat.length));
    return span;
  }

  function normaliseRanges(ranges, length) {
    return (ranges || [])
      .map((r) => ({ ...r, start: Math.max(0, Math.min(length, r.start)), end: Math.max(0, Math.min(length, r.end)) }))
      .filter((r) => r.end > r.start);
  }

  function appendSegments(parent, text, from, to, ranges) {
    const cuts = new Set([from, to]);
    for (const r of ranges) {
      if (r.start > from && r.start < to) cuts.add(r.start);
      if (r.end > from && r.end < to) cuts.add(r.end);
    }
    const points = Array.from(cuts).sort((a, b) => a - b);
    for (let i = 0; i + 1 < points.length; i += 1) {
      const a = points[i];
      const b = points[i + 1];
      const piece = text.slice(a, b);
      const active = ranges.filter((r) => r.start <= a && r.end >= b);
      if (!active.length) {
        parent.append(piece);
        continue;
      }
      const tag = active.some((r) => (r.tag || "mark") === "mark") ? "mark" : "span";
      const node = el(tag, { class: active.map((r) => r.cls).filter(Boolean).join(" ") }, piece);
      for (const r of active) {
        for (const [k, v] of Object.entries(r.attrs || {})) node.setAttribute(k, v);
      }
      parent.append(node);
    }
  }

  // -- tabs -----------------------------------------------------------------------------------
  const TABS = ["search", "dupes", "docs"];
  const tabLoaded = {};

  function currentTab() {
    const name = location.hash.replace("#", "");
    return TABS.includes(name) ? name : "search";
  }

  function showTab(name) {
    for (const tab of $$(".tab")) {
      const on = tab.dataset.tab === name;
      tab.classList.toggle("active", on);
      tab.setAttribute("aria-selected", on ? "true" : "false");
    }
    for (const panel of $$(".panel")) panel.hidden = panel.dataset.panel !== name;
    if (name === "docs" && !tabLoaded.docs) {
      tabLoaded.docs = true;
      loadDocuments();
    }
    if (name === "search") $("#search-query").focus();
  }

  // -- stats ----------------------------------------------------------------------------------
  let stats = null;

  async function loadStats() {
    try {
      stats = await api("/api/stats");
    } catch (err) {
      $("#stats-line").textContent = err.status === 401 || err.status === 403 ? "需要令牌" : "";
      return;
    }
    renderStatsLine(stats);
    fillCategoryOptions(stats.categories || []);
    fillYearOptions(stats.year_min, stats.year_max);
  }

  function renderStatsLine(s) {
    const parts = [`收录 ${num(s.documents)} 篇`];
    for (const [type, name] of Object.entries(DOC_TYPE_NAMES)) {
      if (s.by_type && s.by_type[type]) parts.push(`${name} ${num(s.by_type[type])}`);
    }
    if (s.year_min && s.year_max) parts.push(s.year_min === s.year_max ? `${s.year_min} 年` : `${s.year_min}–${s.year_max} 年`);
    $("#stats-line").textContent = parts.join(" · ");
  }

  function fillCategoryOptions(categories) {
    const select = $("#search-category");
    const chosen = select.value;
    select.replaceChildren(el("option", { value: "" }, "全部类别"),
      ...categories.map((c) => el("option", { value: c }, c)));
    select.value = categories.includes(chosen) ? chosen : "";
  }

  function fillYearOptions(min, max) {
    const select = $("#clusters-year");
    const chosen = select.value;
    const years = [];
    if (min && max) for (let y = max; y >= min && years.length < 80; y -= 1) years.push(String(y));
    select.replaceChildren(el("option", { value: "" }, "全部年份"), ...years.map((y) => el("option", { value: y }, `${y} 年`)));
    select.value = years.includes(chosen) ? chosen : "";
    const range = min && max ? `文档库中的年份：${min}–${max}` : "";
    $("#search-year-from").title = range;
    $("#search-year-to").title = range;
  }

  // -- read token dialog ----------------------------------------------------------------------
  let tokenDialogOpen = false;

  function askForReadToken(message) {
    const dialog = $("#token-dialog");
    if (tokenDialogOpen || !dialog.showModal) return;
    tokenDialogOpen = true;
    $("#token-dialog-message").textContent = `${message || "本服务需要令牌才能查询"}。请输入管理员提供的令牌。`.replace("。。", "。");
    $("#token-dialog-input").value = "";
    dialog.showModal();
  }

  function onTokenDialogClose() {
    tokenDialogOpen = false;
    const dialog = $("#token-dialog");
    const value = $("#token-dialog-input").value.trim();
    if (dialog.returnValue !== "ok" || !value) return;
    Token.set(value);
    renderTokenStatus();
    loadStats();
    if (tabLoaded.docs) loadDocuments();
  }

  // -- 检索 -------------------------------------------------------------------------------------
  let searchSeq = 0;

  function readSearchForm() {
    const yearFrom = parseInt($("#search-year-from").value, 10);
    const yearTo = parseInt($("#search-year-to").value, 10);
    return {
      query: $("#search-query").value.trim(),
      mode: ($("input[name=mode]:checked") || {}).value || "hybrid",
      k: SEARCH_K,
      doc_type: $("#search-type").value || null,
      year_from: Number.isFinite(yearFrom) ? yearFrom : null,
      year_to: Number.isFinite(yearTo) ? yearTo : null,
      category: $("#search-category").value || null,
    };
  }

  async function runSearch() {
    const body = readSearchForm();
    const errorBox = $("#search-error");
    if (!body.query) {
      showAlert(errorBox, "请输入检索内容");
      $("#search-query").focus();
      return;
    }
    showAlert(errorBox, "");
    const seq = ++searchSeq;
    const button = $("#search-submit");
    setBusy(button, true, "检索中…");
    $("#search-results").setAttribute("aria-busy", "true");
    try {
      const data = await api("/api/search", { json: body });
      if (seq === searchSeq) renderSearchResults(data);
    } catch (err) {
      if (seq === searchSeq) {
        showAlert(errorBox, errorText(err, "请输入查询令牌"));
        $("#search-results").replaceChildren();
        $("#search-summary").textContent = "";
      }
    } finally {
      if (seq === searchSeq) {
        setBusy(button, false);
        $("#search-results").removeAttribute("aria-busy");
      }
    }
  }

  function renderSearchResults(data) {
    const results = data.results || [];
    $("#search-hint").hidden = true;
    const summary = $("#search-summary");
    summary.replaceChildren();
    if (!results.length) {
      summary.append(el("div", { class: "notice", "data-testid": "search-notice" }, data.notice || "没有找到相关文档"));
    } else {
      summary.append(`找到 ${results.length} 篇相关文档${results.length >= SEARCH_K ? `（只列出最相关的 ${SEARCH_K} 篇）` : ""}`);
      if (data.nothing_close) {
        // Calibrated on the dev precedent queries (nothing_close.py): said plainly, above the list.
        summary.append(el("div", { class: "nothing-close", role: "status", "data-testid": "nothing-close" },
          el("strong", null, "未找到相近的先例"),
          `：排在前面的文档与检索内容只是大致相关（估计无先例的概率 ${pct(data.nothing_close_probability)}），请谨慎参考。`));
      } else if (data.notice) {
        summary.append(el("span", { class: "notice inline", "data-testid": "search-notice" }, data.notice));
      }
    }
    $("#search-results").replaceChildren(...results.map(renderResult));
  }

  function renderResult(result) {
    const passages = result.passages || [];
    const open = (passage) => openDocument(result.document_id, passage);
    return el("article", { class: "card result", "data-testid": "result", "data-document-id": result.document_id },
      el("div", { class: "result-head" },
        el("button", { type: "button", class: "result-title link", "data-testid": "result-title",
          onclick: () => open(passages[0] || null) }, result.title || result.external_id || "（无标题）"),
        el("div", { class: "result-meta" },
          el("span", { class: `badge type-${result.doc_type}`, "data-testid": "result-type" }, typeName(result.doc_type)),
          result.year ? el("span", { class: "meta-item" }, `${result.year} 年`) : null,
          el("span", { class: "meta-item mono", "data-testid": "result-external-id" }, result.external_id))),
      el("div", { class: "passages" }, passages.map((p) => renderPassage(p, open))));
  }

  function renderPassage(passage, open) {
    const { text, ranges, before, after } = snippet(passage.text || "", passage.highlights || [], SNIPPET_CHARS);
    const path = headingPath(passage.heading_path);
    return el("div", {
      class: "passage", role: "button", tabindex: "0", title: "查看全文中的这一段",
      "data-testid": "passage", "data-passage-id": passage.passage_id,
      onclick: () => open(passage),
      onkeydown: (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); open(passage); } },
    },
    path ? el("div", { class: "heading-path", "data-testid": "passage-path" }, path) : null,
    el("div", { class: "snippet", "data-testid": "passage-text" },
      before ? "…" : null, renderInline(text, ranges.map((r) => ({ ...r, cls: "hl" }))), after ? "…" : null));
  }

  /** Cut a long passage to a window of `max` chars holding as many highlights as possible. */
  function snippet(text, highlights, max) {
    const spans = highlights.map(([s, e]) => ({ start: s, end: e }));
    if (text.length <= max) return { text, ranges: spans, before: false, after: false };
    let best = 0;
    let bestCount = -1;
    for (const h of spans) {
      const start = Math.max(0, Math.min(h.start - 30, text.length - max));
      const count = spans.filter((x) => x.start >= start && x.end <= start + max).length;
      if (count > bestCount) { best = start; bestCount = count; }
    }
    const end = Math.min(text.length, best + max);
    const ranges = spans.filter((x) => x.end > best && x.start < end).map((x) => ({ start: x.start - best, end: x.end - best }));
    return { text: text.slice(best, end), ranges, before: best > 0, after: end < text.length };
  }

  function onSearchKey(e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      runSearch();
    }
  }

  function autoGrow(textarea) {
    textarea.style.height = "auto";
    textarea.style.height = `${Math.min(textarea.scrollHeight + 2, 260)}px`;
  }

  function onFilterChange() {
    if ($("#search-query").value.trim() && !$("#search-results").hasAttribute("aria-busy")) runSearch();
  }

  // -- document viewer ------------------------------------------------------------------------
  const docCache = new Map();
  let viewerSeq = 0;
  let viewerReturnFocus = null;

  async function fetchDocument(id) {
    if (!docCache.has(id)) {
      const promise = api(`/api/documents/id:${encodeURIComponent(id)}`);  // id: never means an external id
      docCache.set(id, promise);
      promise.catch(() => docCache.delete(id));
    }
    return docCache.get(id);
  }

  /** Open a document in the side panel; `passage` ({start, end, text, highlights}) is marked and shown. */
  async function openDocument(id, passage) {
    const seq = ++viewerSeq;
    viewerReturnFocus = document.activeElement;
    openViewerShell();
    try {
      const doc = await fetchDocument(id);
      if (seq !== viewerSeq) return;
      renderViewer(doc, passage);
    } catch (err) {
      if (seq === viewerSeq) showAlert($("#viewer-error"), errorText(err));
    }
  }

  function openViewerShell() {
    $("#viewer-title").textContent = "正在打开…";
    $("#viewer-kicker").textContent = "";
    $("#viewer-meta").replaceChildren();
    $("#viewer-text").replaceChildren();
    $("#viewer-outline").hidden = true;
    $("#viewer-focus-hint").hidden = true;
    showAlert($("#viewer-error"), "");
    $("#viewer").hidden = false;
    $("#viewer-backdrop").hidden = false;
    document.body.classList.add("viewer-open");
    $("#viewer-close").focus();
  }

  function closeViewer() {
    viewerSeq += 1;
    $("#viewer").hidden = true;
    $("#viewer-backdrop").hidden = true;
    document.body.classList.remove("viewer-open");
    if (viewerReturnFocus && viewerReturnFocus.focus) viewerReturnFocus.focus();
  }

  function renderViewer(doc, passage) {
    $("#viewer-kicker").textContent = [typeName(doc.doc_type), doc.year ? `${doc.year} 年` : ""].filter(Boolean).join(" · ");
    $("#viewer-title").textContent = doc.title || doc.external_id;
    renderMeta(doc);
    renderOutline(doc.structure || []);
    const text = doc.text || "";
    const headings = flattenStructure(doc.structure || []);
    const ranges = headingRanges(headings, text).concat(focusRanges(text, passage));
    const lineStarts = new Map(headings.map((n) => [n.start, (n.label || "").trim()]));
    const lineClass = (start, end, line) => (lineStarts.get(start) === line.trim() ? "heading-line" : null);
    $("#viewer-text").replaceChildren(renderLines(text, ranges, lineClass));
    renderFocusHint(passage);
    if (!scrollToFocus()) $("#viewer-body").scrollTop = 0;
  }

  function renderFocusHint(passage) {
    $("#viewer-focus-hint").hidden = !passage;
    if (!passage) return;
    const words = passage.highlights && passage.highlights.length;
    fill($("#viewer-focus-text"), el("mark", { class: "focus" }, "蓝色底纹"),
      words ? "为检索命中的段落，" : "为与本稿对应的段落。",
      words ? el("mark", { class: "hl" }, "黄色") : null, words ? "为命中的词语。" : null);
  }

  function scrollToFocus() {
    const focus = $("#viewer-text [data-testid=doc-focus]");
    if (focus) focus.scrollIntoView({ block: "center" });
    return !!focus;
  }

  const LOW_OCR_CONFIDENCE = 0.85;

  function renderMeta(doc) {
    const rows = [
      ["编号", doc.external_id], ["文号", doc.doc_number], ["类型", typeName(doc.doc_type)],
      ["主送", (doc.extra || {}).addressees],
      ["附件", ((doc.extra || {}).attachments || []).map((n, i, all) => all.length > 1 ? `${i + 1}. ${n}` : n).join("；") || null],
      ["日期", doc.date || (doc.year ? `${doc.year} 年` : null)], ["提案人", doc.doc_type === "proposal" ? doc.author : null],
      ["作者", doc.doc_type !== "proposal" ? doc.author : null], ["发文机关", doc.issuer], ["类别", doc.category],
      ["篇幅", `${num(doc.n_chars)} 字，${num(doc.n_passages)} 段`], ["来源", doc.source],
      ["格式", (doc.extra || {}).converted_from ? `${doc.source_format.toUpperCase()}（经 LibreOffice 转换读取）` : null],
      ["字体", (doc.extra || {}).script === "traditional" ? "繁体（原文显示；检索与查重按简体匹配）" : null],
      ["文字识别", recognisedNote((doc.extra || {}).recognised)],
    ];
    $("#viewer-meta").replaceChildren(...rows.filter(([, v]) => v).flatMap(([k, v]) => [
      el("dt", null, k), el("dd", { class: k === "来源" || k === "编号" ? "mono" : null,
                                    "data-testid": k === "文字识别" ? "doc-recognised" : null }, v)]));
  }

  // Which pages were recognised from a scan (OCR), and how confidently: recognised text may
  // hold errors that native text does not.
  function recognisedNote(rec) {
    if (!rec || !rec.pages || !rec.pages.length) return null;
    const pct = (c) => `${Math.round(c * 100)}%`;
    const all = rec.pages.length === rec.of_pages;
    const low = rec.pages.filter((p) => p.confidence < LOW_OCR_CONFIDENCE);
    const which = all ? `全部 ${rec.of_pages} 页` : `第 ${rec.pages.map((p) => p.page).join("、")} 页（共 ${rec.of_pages} 页）`;
    return `${which}为扫描件，文字由识别得到，平均置信度 ${pct(rec.confidence)}` +
      (low.length ? `；置信度较低：${low.map((p) => `第 ${p.page} 页 ${pct(p.confidence)}`).join("、")}，请对照原件核对` : "");
  }

  function flattenStructure(nodes, depth = 0, out = []) {
    for (const n of nodes) {
      out.push({ ...n, depth });
      flattenStructure(n.children || [], depth + 1, out);
    }
    return out;
  }

  function renderOutline(structure) {
    const flat = flattenStructure(structure);
    const box = $("#viewer-outline");
    box.hidden = flat.length < 2;
    $("#viewer-outline-list").replaceChildren(...flat.map((n) => el("li", { class: `depth-${Math.min(n.depth, 3)}` },
      el("button", { type: "button", class: "link", onclick: () => scrollToOffset(n.start) }, n.label))));
  }

  function scrollToOffset(offset) {
    const lines = $$("#viewer-text p");
    let target = lines[0];
    for (const p of lines) if (Number(p.dataset.start) <= offset) target = p;
    if (target) target.scrollIntoView({ block: "start", behavior: "smooth" });
  }

  /** Headings that open a paragraph or sit inside one (一是…) are set in bold, up to their first comma. */
  function headingRanges(headings, text) {
    const out = [];
    for (const n of headings) {
      if (!n.label || !text.startsWith(n.label, n.start)) continue;
      const cut = n.label.search(/[，,；;：:。]/);
      const length = cut > 0 ? cut : n.label.length;
      if (length <= 24) out.push({ start: n.start, end: n.start + length, cls: "inline-heading", tag: "span" });
    }
    return out;
  }

  /** The passage (and its highlighted words) as ranges into the full text. */
  function focusRanges(text, passage) {
    if (!passage) return [];
    let start = passage.start;
    if (passage.text && text.slice(start, passage.end) !== passage.text) {
      const found = text.indexOf(passage.text);
      if (found < 0) return [];
      start = found;
    }
    const end = passage.text ? start + passage.text.length : passage.end;
    const focus = [{ start, end, cls: "focus", attrs: { "data-testid": "doc-focus" } }];
    const words = (passage.highlights || []).map(([s, e]) => ({ start: start + s, end: start + e, cls: "hl" }));
    return focus.concat(words);
  }

  // -- 查重 -------------------------------------------------------------------------------------
  let dupesFile = null;

  function updateDraftCount() {
    const n = $("#dupes-text").value.trim().length;
    $("#dupes-count").textContent = n ? `${num(n)} 字${n < 20 ? "（至少 20 字）" : ""}` : "0 字";
  }

  function onDupesFileChange() {
    const input = $("#dupes-file");
    dupesFile = input.files && input.files[0] ? input.files[0] : null;
    const label = $("#dupes-file-name");
    label.hidden = !dupesFile;
    label.textContent = dupesFile ? `已选择：${dupesFile.name}（${fileSize(dupesFile.size)}），将按文件查重` : "";
    $("#dupes-file-clear").hidden = !dupesFile;
    $("#dupes-text").disabled = !!dupesFile;
  }

  function clearDupesFile() {
    $("#dupes-file").value = "";
    onDupesFileChange();
  }

  async function runDupes() {
    const errorBox = $("#dupes-error");
    const title = $("#dupes-title").value.trim();
    const text = $("#dupes-text").value.trim();
    if (!dupesFile && text.length < 20) {
      showAlert(errorBox, text ? `提案正文太短（${text.length} 字），至少需要 20 字才能查重` : "请粘贴提案正文，或选择一份提案文件");
      return;
    }
    showAlert(errorBox, "");
    const button = $("#dupes-submit");
    setBusy(button, true, "查重中…");
    const result = $("#dupes-result");
    result.replaceChildren(el("div", { class: "loading" }, "正在比对已收录的提案…"));
    try {
      const data = dupesFile ? await api("/api/dupes/file", { form: dupesForm(title) }) : await api("/api/dupes", { json: { title, text } });
      const pasts = await fetchPastTexts(data.matches || []);
      result.replaceChildren(renderDupes(data, pasts));
    } catch (err) {
      result.replaceChildren();
      showAlert(errorBox, errorText(err, "请输入查询令牌"));
    } finally {
      setBusy(button, false);
    }
  }

  function dupesForm(title) {
    const form = new FormData();
    form.append("file", dupesFile, dupesFile.name);
    if (title) form.append("title", title);
    return form;
  }

  /** Full texts of the matched proposals (for context around evidence); missing ones are null. */
  async function fetchPastTexts(matches) {
    const docs = await Promise.all(matches.map((m) => fetchDocument(m.document_id).catch(() => null)));
    const out = new Map();
    matches.forEach((m, i) => out.set(m.document_id, docs[i] ? docs[i].text || "" : null));
    return out;
  }

  function renderDupes(data, pasts) {
    const matches = data.matches || [];
    const box = el("div", { class: "dupes-output" });
    box.append(renderVerdict(data));
    matches.forEach((m, i) => box.append(renderMatch(m, i, data.draft_text || "", pasts.get(m.document_id))));
    return box;
  }

  function renderVerdict(data) {
    const n = (data.matches || []).length;
    return el("div", { class: `card verdict verdict-${data.verdict}`, "data-testid": "verdict", "data-verdict": data.verdict },
      el("div", { class: "verdict-label" }, el("span", { class: "verdict-kicker" }, "查重结论"),
        el("strong", { class: "verdict-name", "data-testid": "verdict-name" }, data.verdict_name)),
      el("div", { class: "verdict-text" },
        el("p", null, VERDICT_NOTES[data.verdict] || ""),
        n ? el("p", { class: "muted" }, `共找到 ${n} 件相似的已收录提案，按相似程度排列。`) : null,
        data.probability === null || data.probability === undefined ? null
          : el("p", { class: "probability", "data-testid": "verdict-probability" },
            `最相近的一件是本稿改写的估计概率：${pct(data.probability)}（由语义相似度与双方近邻比较校准得出）`),
        data.notice ? el("p", { class: "notice", "data-testid": "dupes-notice" }, data.notice) : null));
  }

  function scoreText(scores) {
    const reworded = scores.probability === undefined ? "" : `；同一提案改写的概率 ${pct(scores.probability)}`;
    return `相同文字占本稿 ${pct(scores.copied_draft)}、占原提案 ${pct(scores.copied_past)}；语义相似度 ${(scores.semantic || 0).toFixed(3)}${reworded}`;
  }

  function renderMatch(match, index, draftText, pastText) {
    const evidence = match.evidence || [];
    const body = el("div", { class: "match-body" });
    const views = {
      evidence: () => renderEvidenceTable(match, draftText, pastText),
      full: () => renderFullCompare(match, draftText, pastText),
    };
    const switcher = el("div", { class: "segmented small", role: "tablist" });
    const show = (name) => {
      body.replaceChildren(views[name]());
      for (const b of switcher.children) b.classList.toggle("active", b.dataset.view === name);
    };
    switcher.append(
      el("button", { type: "button", class: "seg-btn", "data-view": "evidence", "data-testid": "view-evidence", onclick: () => show("evidence") }, `逐段对照（${evidence.length}）`),
      pastText !== null && pastText !== undefined
        ? el("button", { type: "button", class: "seg-btn", "data-view": "full", "data-testid": "view-full", onclick: () => show("full") }, "全文对照")
        : null);
    const card = el("details", { class: `card match verdict-${match.verdict}`, "data-testid": "match",
      "data-external-id": match.external_id, open: index < 3 || match.verdict !== "related" ? true : null },
    el("summary", { class: "match-head" },
      el("span", { class: `badge verdict-badge verdict-${match.verdict}` }, match.verdict_name),
      el("span", { class: "match-title" }, match.title || match.external_id),
      match.probability === null || match.probability === undefined ? null
        : el("span", { class: "meta-item probability", "data-testid": "match-probability",
          title: "由语义相似度与双方近邻比较得出的校准概率" }, `改写概率 ${pct(match.probability)}`),
      el("span", { class: "meta-item mono" }, match.external_id),
      match.year ? el("span", { class: "meta-item" }, `${match.year} 年`) : null),
    el("div", { class: "match-tools" },
      el("div", { class: "scores", "data-testid": "match-scores" }, scoreText(match.scores || {})),
      el("div", { class: "match-actions" }, switcher,
        el("button", { type: "button", class: "btn small ghost", onclick: () => openDocument(match.document_id, null) }, "查看原提案"))),
    body);
    show("evidence");
    return card;
  }

  function kindLabel(ev) {
    return ev.kind === "copied" ? "相同文字" : `意思相近 ${(ev.similarity || 0).toFixed(2)}`;
  }

  function renderEvidenceTable(match, draftText, pastText) {
    const evidence = match.evidence || [];
    if (!evidence.length) return el("p", { class: "muted pad" }, "没有逐段证据（仅主题相关）。");
    return el("div", { class: "compare", "data-testid": "side-by-side" },
      el("div", { class: "compare-head" },
        el("div", null, "本稿"),
        el("div", null, `原提案 ${match.external_id}`)),
      evidence.map((ev, i) => renderEvidenceRow(ev, i, draftText, pastText, match.document_id)));
  }

  function renderEvidenceRow(ev, i, draftText, pastText, documentId) {
    const cls = ev.kind === "copied" ? "copied" : "para";
    const onOpen = (span) => openDocument(documentId, { start: span.start, end: span.end, text: span.text });
    return el("div", { class: `evidence-row kind-${cls}`, "data-testid": "evidence-row", "data-kind": ev.kind },
      el("div", { class: "evidence-label" },
        el("span", { class: "row-no" }, String(i + 1)),
        el("span", { class: `chip ${cls}`, "data-testid": "evidence-kind" }, kindLabel(ev)),
        el("span", { class: "muted" }, `${num((ev.draft.text || "").length)} 字`)),
      el("div", { class: "compare-grid" },
        renderEvidenceSide(ev.draft, draftText, cls, "evidence-draft", null, "本稿"),
        renderEvidenceSide(ev.past, pastText, cls, "evidence-past", onOpen, "原提案")));
  }

  function renderEvidenceSide(span, fullText, cls, testid, onOpen, sideName) {
    const path = headingPath(span.heading_path);
    const ctx = contextOf(fullText, span);
    const open = onOpen ? el("button", { type: "button", class: "link open-past", onclick: () => onOpen(span) }, "在原文中查看") : null;
    const lines = renderLines(ctx.text, [{ start: ctx.start, end: ctx.end, cls: `ev ${cls}` }]);
    if (ctx.before && lines.firstChild) lines.firstChild.prepend("…");
    if (ctx.after && lines.lastChild) lines.lastChild.append("…");
    return el("div", { class: "compare-side", "data-testid": testid, "data-side": sideName },
      path || open ? el("div", { class: "heading-path" }, el("span", null, path), open) : null,
      el("div", { class: "ctx" }, lines));
  }

  /** The span with its surrounding sentence(s), cut at sentence ends within CONTEXT_CHARS. */
  function contextOf(fullText, span) {
    const spanText = span.text || "";
    if (!fullText || fullText.slice(span.start, span.end) !== spanText) {
      return { text: spanText, start: 0, end: spanText.length, before: false, after: false };
    }
    let from = Math.max(0, span.start - CONTEXT_CHARS);
    const lastEnd = lastIndexOfAny(fullText, SENTENCE_END, from, span.start);
    const cutBefore = lastEnd < 0 && from > 0;
    if (lastEnd >= 0) from = lastEnd + 1;
    let to = Math.min(fullText.length, span.end + CONTEXT_CHARS);
    const nextEnd = indexOfAny(fullText, SENTENCE_END, Math.max(span.end - 1, span.start), to);
    const cutAfter = nextEnd < 0 && to < fullText.length;
    if (nextEnd >= 0) to = nextEnd + 1;
    return { text: fullText.slice(from, to), start: span.start - from, end: span.end - from, before: cutBefore, after: cutAfter };
  }

  function lastIndexOfAny(text, chars, from, to) {
    for (let i = to - 1; i >= from; i -= 1) if (chars.includes(text[i])) return i;
    return -1;
  }

  function indexOfAny(text, chars, from, to) {
    for (let i = from; i < to; i += 1) if (chars.includes(text[i])) return i;
    return -1;
  }

  function renderFullCompare(match, draftText, pastText) {
    const spans = (side) => (match.evidence || []).map((ev) => ({
      start: ev[side].start, end: ev[side].end, cls: `ev ${ev.kind === "copied" ? "copied" : "para"}`,
    }));
    return el("div", { class: "compare full", "data-testid": "full-compare" },
      el("div", { class: "compare-head" }, el("div", null, "本稿全文"), el("div", null, `原提案 ${match.external_id} 全文`)),
      el("div", { class: "compare-grid" },
        el("div", { class: "compare-side", "data-side": "本稿全文" }, renderLines(draftText, spans("draft"))),
        el("div", { class: "compare-side", "data-side": "原提案全文" }, renderLines(pastText || "", spans("past")))),
      el("div", { class: "legend" }, el("mark", { class: "ev copied" }, "相同文字"), el("mark", { class: "ev para" }, "意思相近")));
  }

  // -- 并案 -------------------------------------------------------------------------------------
  async function loadClusters() {
    const year = $("#clusters-year").value;
    const list = $("#clusters-list");
    const button = $("#clusters-load");
    showAlert($("#clusters-error"), "");
    setBusy(button, true, "分组中…");
    try {
      const data = await api(`/api/dupes/clusters${year ? `?year=${encodeURIComponent(year)}` : ""}`);
      list.replaceChildren(renderClusters(data.clusters || []));
    } catch (err) {
      list.replaceChildren();
      showAlert($("#clusters-error"), errorText(err));
    } finally {
      setBusy(button, false);
    }
  }

  function renderClusters(clusters) {
    if (!clusters.length) return el("p", { class: "muted" }, "没有发现需要并案的提案。");
    return el("ol", { class: "clusters" }, clusters.map((c, i) => el("li", { class: "cluster", "data-testid": "cluster" },
      el("div", { class: "cluster-head" }, `第 ${i + 1} 组 · ${c.members.length} 件`),
      el("ul", { class: "cluster-members" }, c.members.map((m) => el("li", null,
        el("span", { class: "mono meta-item" }, m.external_id), " ", m.title || "",
        m.author ? el("span", { class: "muted" }, `（${m.author}）`) : null))),
      el("ul", { class: "cluster-pairs" }, (c.pairs || []).map((p) => el("li", { class: "muted" },
        `${p.a} 与 ${p.b}：`, el("span", { class: `badge verdict-badge verdict-${p.verdict}` }, p.verdict_name),
        ` ${scoreText(p.scores || {})}`))))));
  }

  // -- 文档: token ------------------------------------------------------------------------------
  function renderTokenStatus() {
    const has = !!Token.get();
    const status = $("#token-status");
    status.textContent = has ? "已保存令牌，上传和删除时会自动附上。" : "未设置令牌：可以查看，但不能上传或删除。";
    status.classList.toggle("ok", has);
    $("#token-input").value = "";
    $("#token-input").placeholder = has ? "已保存令牌" : "输入令牌";
  }

  function onTokenSave(e) {
    e.preventDefault();
    const value = $("#token-input").value.trim();
    if (!value) return;
    Token.set(value);
    renderTokenStatus();
  }

  function onTokenClear() {
    Token.set("");
    renderTokenStatus();
  }

  // -- 文档: upload -----------------------------------------------------------------------------
  let uploadFiles = [];

  function setUploadFiles(files) {
    uploadFiles = Array.from(files || []);
    $("#upload-files").replaceChildren(...uploadFiles.map((f) => el("li", null,
      el("span", { class: "file-name" }, f.name), el("span", { class: "muted" }, fileSize(f.size)))));
  }

  function onDrop(e) {
    e.preventDefault();
    $("#dropzone").classList.remove("dragging");
    if (e.dataTransfer && e.dataTransfer.files && e.dataTransfer.files.length) setUploadFiles(e.dataTransfer.files);
  }

  function onDragOver(e) {
    e.preventDefault();
    $("#dropzone").classList.add("dragging");
  }

  async function runUpload(e) {
    e.preventDefault();
    const errorBox = $("#upload-error");
    if (!uploadFiles.length) {
      showAlert(errorBox, "请先选择要上传的文件");
      return;
    }
    if (!Token.get()) {
      showAlert(errorBox, "需要令牌：上传文档需要写入令牌，请先在左侧“令牌”栏填写并保存。");
      $("#token-input").focus();
      return;
    }
    showAlert(errorBox, "");
    const button = $("#upload-submit");
    setBusy(button, true, "上传中…");
    $("#job").hidden = true;
    try {
      let sent = [0, 0];
      const job = await uploadWithProgress("/api/documents", uploadForm(), (loaded, total) => {
        sent = [loaded, total];
        showUploadProgress(loaded, total, false);
      });
      showUploadProgress(sent[1] || 1, sent[1] || 1, true);
      setBusy(button, true, "导入中…");
      const finished = await followJob(job);
      if (finished.status === "done") {
        setUploadFiles([]);
        $("#upload-input").value = "";
      }
      docCache.clear();
      loadDocuments();
      loadStats();
    } catch (err) {
      $("#upload-progress").hidden = true;
      showAlert(errorBox, errorText(err, "上传文档需要写入令牌，请在左侧“令牌”栏填写"));
    } finally {
      setBusy(button, false);
    }
  }

  function uploadForm() {
    const form = new FormData();
    for (const f of uploadFiles) form.append("files", f, f.name);
    const docType = $("#upload-type").value;
    const mapping = $("#upload-mapping").value.trim();
    if (docType) form.append("doc_type", docType);
    if (mapping) form.append("mapping", mapping);
    return form;
  }

  function showUploadProgress(loaded, total, done) {
    const box = $("#upload-progress");
    box.hidden = false;
    const fraction = total ? loaded / total : 0;
    $("#upload-bar").style.width = `${Math.round(fraction * 100)}%`;
    $("#upload-progress-text").textContent = done ? "上传完成，已交给后台导入" : "正在上传";
    $("#upload-progress-pct").textContent = total > 1 ? `${Math.round(fraction * 100)}%（${fileSize(loaded)} / ${fileSize(total)}）` : `${Math.round(fraction * 100)}%`;
  }

  /** Poll a job until it is done or failed, rendering each state. Resolves with the final job. */
  async function followJob(job) {
    renderJob(job);
    while (job.status !== "done" && job.status !== "failed") {
      await new Promise((resolve) => setTimeout(resolve, JOB_POLL_MS));
      job = await api(`/api/jobs/${encodeURIComponent(job.id)}`);
      renderJob(job);
    }
    return job;
  }

  function renderJob(job) {
    const box = $("#job");
    box.hidden = false;
    box.dataset.status = job.status;
    const emb = job.embedding || {};
    const fraction = emb.total_chars ? emb.done_chars / emb.total_chars : 0;
    const finished = job.status === "done" || job.status === "failed";
    const ocr = job.recognising || {};
    const reading = !finished && job.phase === "reading" && ocr.total_pages;
    fill(box,
      el("div", { class: "job-head" },
        el("span", { class: `badge job-${job.status}`, "data-testid": "job-phase" }, job.phase_name || job.phase),
        el("span", { class: "job-counts", "data-testid": "job-counts" }, countsText(job.counts || {}, job.files || [])),
        finished && job.seconds ? el("span", { class: "muted" }, `用时 ${job.seconds} 秒`) : null),
      reading ? el("div", { class: "progress-block", "data-testid": "job-ocr" },
        el("div", { class: "progress-label" }, el("span", null, `识别扫描件 ${ocr.file}`),
          el("span", null, `${ocr.done_pages} / ${ocr.total_pages} 页`)),
        el("div", { class: "bar" }, el("div", { class: "bar-fill",
          style: { width: `${Math.round(100 * ocr.done_pages / ocr.total_pages)}%` } }))) : null,
      !finished && emb.total_chars ? el("div", { class: "progress-block" },
        el("div", { class: "progress-label" }, el("span", null, "向量化"),
          el("span", null, `${num(emb.done_chars)} / ${num(emb.total_chars)} 字`)),
        el("div", { class: "bar" }, el("div", { class: "bar-fill", style: { width: `${Math.round(fraction * 100)}%` } }))) : null,
      job.error ? el("div", { class: "alert error" }, job.error) : null,
      renderOutcomes(job.outcomes || []));
  }

  function countsText(counts, files) {
    const parts = Object.entries(STATUS_NAMES).filter(([k]) => counts[k]).map(([k, name]) => `${name} ${counts[k]}`);
    return parts.length ? parts.join("，") : `${files.length} 个文件`;
  }

  function renderOutcomes(outcomes) {
    if (!outcomes.length) return null;
    return el("table", { class: "outcomes", "data-testid": "job-outcomes" },
      el("thead", null, el("tr", null, el("th", null, "文件"), el("th", null, "结果"), el("th", null, "编号"), el("th", null, "说明"))),
      el("tbody", null, outcomes.map((o) => el("tr", { "data-status": o.status },
        el("td", { class: "file-name" }, o.source),
        el("td", null, el("span", { class: `badge status-${o.status}`, "data-testid": "outcome-status" }, STATUS_NAMES[o.status] || o.status)),
        el("td", { class: "mono" }, o.external_id || "—"),
        el("td", null, o.message || "")))));
  }

  // -- 文档: list -------------------------------------------------------------------------------
  const docsState = { offset: 0, total: 0 };
  let docsSeq = 0;

  async function loadDocuments() {
    const seq = ++docsSeq;
    const params = new URLSearchParams({ limit: String(PAGE_SIZE), offset: String(docsState.offset) });
    const type = $("#docs-type").value;
    const q = $("#docs-q").value.trim();
    if (type) params.set("type", type);
    if (q) params.set("q", q);
    showAlert($("#docs-error"), "");
    try {
      const data = await api(`/api/documents?${params}`);
      if (seq !== docsSeq) return;
      if (!data.items.length && data.total && docsState.offset >= data.total) {
        docsState.offset = Math.max(0, Math.floor((data.total - 1) / PAGE_SIZE) * PAGE_SIZE);
        loadDocuments();
        return;
      }
      docsState.total = data.total;
      renderDocuments(data);
    } catch (err) {
      if (seq === docsSeq) showAlert($("#docs-error"), errorText(err, "请输入查询令牌"));
    }
  }

  function renderDocuments(data) {
    $("#docs-total").textContent = `共 ${num(data.total)} 篇`;
    const body = $("#docs-body");
    if (!data.items.length) {
      body.replaceChildren(el("tr", null, el("td", { colspan: "7", class: "muted center" }, "没有符合条件的文档")));
    } else {
      body.replaceChildren(...data.items.map(renderDocRow));
    }
    const pages = Math.max(1, Math.ceil(data.total / PAGE_SIZE));
    const page = Math.floor(data.offset / PAGE_SIZE) + 1;
    $("#docs-page").textContent = `第 ${page} / ${pages} 页`;
    $("#docs-prev").disabled = page <= 1;
    $("#docs-next").disabled = page >= pages;
  }

  function renderDocRow(doc) {
    return el("tr", { "data-testid": "doc-row", "data-id": doc.id, "data-external-id": doc.external_id },
      el("td", { class: "title-cell" }, el("button", { type: "button", class: "link", "data-testid": "doc-row-title",
        onclick: () => openDocument(doc.id, null) }, doc.title || doc.external_id)),
      el("td", null, el("span", { class: `badge type-${doc.doc_type}` }, typeName(doc.doc_type))),
      el("td", null, doc.year || "—"),
      el("td", { class: "mono ext-id", title: doc.external_id }, doc.external_id),
      el("td", null, doc.category || "—"),
      el("td", { class: "num" }, `${num(doc.n_chars)} 字`),
      el("td", { class: "actions" }, el("button", { type: "button", class: "btn small danger-ghost", "data-testid": "doc-delete",
        onclick: () => deleteDocument(doc) }, "删除")));
  }

  function onDocsPage(delta) {
    docsState.offset = Math.max(0, docsState.offset + delta * PAGE_SIZE);
    loadDocuments();
  }

  function onDocsFilter(e) {
    if (e) e.preventDefault();
    docsState.offset = 0;
    loadDocuments();
  }

  // -- 文档: delete -----------------------------------------------------------------------------
  function confirmDialog(title, message) {
    const dialog = $("#confirm-dialog");
    $("#confirm-title").textContent = title;
    $("#confirm-message").textContent = message;
    dialog.returnValue = "";
    return new Promise((resolve) => {
      dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
      dialog.showModal();
    });
  }

  async function deleteDocument(doc) {
    const label = doc.title || doc.external_id;
    if (!(await confirmDialog("删除文档", `确定要删除“${label}”（${doc.external_id}）吗？删除后检索和查重都不再包含这篇文档，此操作不能撤销。`))) return;
    const errorBox = $("#docs-error");
    try {
      await api(`/api/documents/id:${encodeURIComponent(doc.id)}`, { method: "DELETE" });
      docCache.delete(doc.id);
      showAlert(errorBox, "");
      flash(`已删除“${label}”`);
      loadDocuments();
      loadStats();
    } catch (err) {
      showAlert(errorBox, errorText(err, "删除文档需要写入令牌，请在上方“令牌”栏填写"));
    }
  }

  function flash(message) {
    const node = el("div", { class: "toast", role: "status", "data-testid": "toast" }, message);
    document.body.append(node);
    setTimeout(() => node.remove(), 3000);
  }

  // -- wiring ---------------------------------------------------------------------------------
  function bindSearch() {
    const box = $("#search-query");
    $("#search-form").addEventListener("submit", (e) => { e.preventDefault(); runSearch(); });
    box.addEventListener("keydown", onSearchKey);
    box.addEventListener("input", () => autoGrow(box));
    for (const sel of ["input[name=mode]", "#search-type", "#search-category", "#search-year-from", "#search-year-to"]) {
      for (const node of $$(sel)) node.addEventListener("change", onFilterChange);
    }
  }

  function bindDupes() {
    $("#dupes-form").addEventListener("submit", (e) => { e.preventDefault(); runDupes(); });
    $("#dupes-text").addEventListener("input", updateDraftCount);
    $("#dupes-file").addEventListener("change", onDupesFileChange);
    $("#dupes-file-clear").addEventListener("click", clearDupesFile);
    $("#clusters-load").addEventListener("click", loadClusters);
  }

  function bindDocs() {
    $("#token-form").addEventListener("submit", onTokenSave);
    $("#token-clear").addEventListener("click", onTokenClear);
    $("#upload-form").addEventListener("submit", runUpload);
    $("#upload-input").addEventListener("change", (e) => setUploadFiles(e.target.files));
    const zone = $("#dropzone");
    zone.addEventListener("dragover", onDragOver);
    zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
    zone.addEventListener("drop", onDrop);
    $("#docs-filter").addEventListener("submit", onDocsFilter);
    $("#docs-type").addEventListener("change", onDocsFilter);
    $("#docs-prev").addEventListener("click", () => onDocsPage(-1));
    $("#docs-next").addEventListener("click", () => onDocsPage(1));
  }

  function bindViewer() {
    $("#viewer-close").addEventListener("click", closeViewer);
    $("#viewer-focus-button").addEventListener("click", scrollToFocus);
    $("#viewer-backdrop").addEventListener("click", closeViewer);
    document.addEventListener("keydown", (e) => {
      if (e.key === "Escape" && !$("#viewer").hidden && !document.querySelector("dialog[open]")) closeViewer();
    });
    $("#token-dialog").addEventListener("close", onTokenDialogClose);
  }

  function init() {
    bindSearch();
    bindDupes();
    bindDocs();
    bindViewer();
    renderTokenStatus();
    updateDraftCount();
    window.addEventListener("hashchange", () => showTab(currentTab()));
    showTab(currentTab());
    loadStats();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
