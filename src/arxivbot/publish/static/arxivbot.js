/* arxivbot's page script: search across every day, filters, collapsing, copy-link and feedback.
 *
 * The page works without it (every paper of the day is in the HTML). Untrusted text (titles,
 * abstracts, summaries) only ever reaches the page as text nodes: nothing here sets innerHTML.
 * Everything is fetched from the page's own site (the search index, the vendored MiniSearch), so
 * the page needs no external request and keeps a strict Content-Security-Policy.
 */
(function () {
  "use strict";

  var body = document.body;
  var root = body.getAttribute("data-root") || "";
  var assetsVersion = body.getAttribute("data-assets") || "";
  var RESULTS_SHOWN = 50;
  var LONG_ABSTRACT = 600; // characters: longer abstracts start collapsed
  var SEARCH_SCHEMA = 1;

  function $(id) { return document.getElementById(id); }

  function storageGet(name) {
    try { return window.localStorage.getItem(name); } catch (e) { return null; }
  }
  function storageSet(name, value) {
    try {
      if (value === null) { window.localStorage.removeItem(name); } else { window.localStorage.setItem(name, value); }
    } catch (e) { /* storage disabled: the page still works, it just forgets */ }
  }

  // --- anchors ------------------------------------------------------------------------------------

  // Old-style ids (hep-th/9901001) are anchored as hep-th_9901001; earlier pages used "arxiv-<id>".
  function followLegacyAnchor() {
    var hash = decodeURIComponent(window.location.hash.slice(1));
    if (!hash || document.getElementById(hash)) { return; }
    var anchor = hash.replace(/^arxiv-/, "").replace(/[^A-Za-z0-9.\-]/g, "_");
    var target = document.getElementById(anchor);
    if (target) {
      window.location.replace("#" + anchor); // a real hash navigation: :target and scrolling follow
    }
  }

  // --- reading comfort ------------------------------------------------------------------------------

  function collapseLongAbstracts() {
    var abstracts = document.querySelectorAll("article.paper .abstract");
    Array.prototype.forEach.call(abstracts, function (abstract, position) {
      if (abstract.textContent.length <= LONG_ABSTRACT) { return; }
      abstract.id = abstract.id || "abstract-" + position;
      abstract.classList.add("clamped");
      var toggle = document.createElement("button");
      toggle.type = "button";
      toggle.className = "more";
      toggle.textContent = "Show more";
      toggle.setAttribute("aria-expanded", "false");
      toggle.setAttribute("aria-controls", abstract.id);
      toggle.addEventListener("click", function () {
        var open = abstract.classList.toggle("clamped") === false;
        toggle.textContent = open ? "Show less" : "Show more";
        toggle.setAttribute("aria-expanded", open ? "true" : "false");
      });
      abstract.parentNode.insertBefore(toggle, abstract.nextSibling);
    });
  }

  function enableCopyLinks() {
    var buttons = document.querySelectorAll("button.copy-link");
    Array.prototype.forEach.call(buttons, function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        var url = new URL(button.getAttribute("data-href"), window.location.href).href;
        var done = function (text) {
          button.textContent = text;
          window.setTimeout(function () { button.textContent = "Copy link"; }, 2000);
        };
        if (navigator.clipboard && navigator.clipboard.writeText) {
          navigator.clipboard.writeText(url).then(function () { done("Link copied"); }, function () {
            window.location.href = url; // no clipboard here: at least show the link in the address bar
          });
        } else {
          window.location.href = url;
        }
      });
    });
  }

  // --- filters ----------------------------------------------------------------------------------------

  var controls = {
    form: $("tools"), query: $("q"), status: $("search-status"),
    category: $("f-category"), keyword: $("f-keyword"), summary: $("f-summary"),
    from: $("f-from"), to: $("f-to"), sort: $("f-sort"),
    results: $("results"), resultsList: $("results-list"), resultsCount: $("results-count"),
    filterStatus: $("filter-status")
  };

  function currentFilters() {
    return {
      category: controls.category.value,
      keyword: controls.keyword.value,
      summary: controls.summary.checked,
      from: controls.from.value,
      to: controls.to.value,
      sort: controls.sort.value
    };
  }

  function keep(paper, filters) {
    if (filters.category && paper.category !== filters.category) { return false; }
    if (filters.keyword && paper.keywords.indexOf(filters.keyword) < 0 &&
        paper.reason.toLowerCase().indexOf(filters.keyword.toLowerCase()) < 0) { return false; }
    if (filters.summary && !paper.hasSummary) { return false; }
    if (filters.from && paper.day < filters.from) { return false; }
    if (filters.to && paper.day > filters.to) { return false; }
    return true;
  }

  function articlePaper(article) {
    var keywords = [];
    try { keywords = JSON.parse(article.getAttribute("data-keywords") || "[]"); } catch (e) { keywords = []; }
    var reason = article.querySelector(".reason");
    return {
      category: article.getAttribute("data-category"),
      keywords: keywords,
      reason: reason ? reason.textContent : "",
      hasSummary: article.getAttribute("data-summary") === "yes",
      day: "" // a day page's own papers are not filtered by the day range: the range searches the archive
    };
  }

  function filterDayPapers(filters) {
    var articles = document.querySelectorAll("article.paper");
    var shown = 0;
    Array.prototype.forEach.call(articles, function (article) {
      var visible = keep(articlePaper(article), { category: filters.category, keyword: filters.keyword,
        summary: filters.summary });
      article.hidden = !visible;
      if (visible) { shown += 1; }
    });
    if (!controls.filterStatus) { return; }
    controls.filterStatus.textContent = shown === articles.length ? "" :
      "Showing " + shown + " of " + articles.length + " papers of this day.";
  }

  // --- search -------------------------------------------------------------------------------------------

  var search = { index: null, papers: new Map(), loading: null, failed: false };

  function loadScript(src) {
    return new Promise(function (resolve, reject) {
      if (window.MiniSearch) { resolve(); return; }
      var script = document.createElement("script");
      script.src = src;
      script.onload = function () { resolve(); };
      script.onerror = function () { reject(new Error("cannot load " + src)); };
      document.head.appendChild(script);
    });
  }

  function fetchJSON(path) {
    return fetch(root + path, { credentials: "same-origin" }).then(function (response) {
      if (!response.ok) { throw new Error(path + ": HTTP " + response.status); }
      return response.json();
    });
  }

  function validPaper(paper) {
    return paper && typeof paper.id === "string" && typeof paper.day === "string" &&
      typeof paper.title === "string" && typeof paper.anchor === "string" && Array.isArray(paper.keywords);
  }

  function loadIndex() {
    if (search.loading) { return search.loading; }
    setStatus("Loading the search index…");
    search.loading = loadScript(root + "static/vendor/minisearch.js?v=" + assetsVersion)
      .then(function () { return fetchJSON("search/manifest.json"); })
      .then(function (manifest) {
        if (!manifest || manifest.schema !== SEARCH_SCHEMA || !Array.isArray(manifest.shards)) {
          throw new Error("unexpected search manifest");
        }
        // Searching the archive: offer the categories and keywords of every day, not only this one's.
        addOptions(controls.category, manifest.categories);
        addOptions(controls.keyword, manifest.keywords);
        return Promise.all(manifest.shards.map(function (shard) { return fetchJSON(shard.url); }));
      })
      .then(function (shards) {
        var documents = [];
        shards.forEach(function (shard) {
          if (!shard || !Array.isArray(shard.papers)) { throw new Error("unexpected search shard"); }
          shard.papers.forEach(function (paper) {
            if (!validPaper(paper)) { throw new Error("unexpected paper in the search index"); }
            paper.hasSummary = Boolean(paper.summary);
            search.papers.set(paper.id, paper);
            documents.push(paper);
          });
        });
        var index = new window.MiniSearch({
          fields: ["title", "authors", "abstract", "summary", "reason"],
          storeFields: [],
          searchOptions: {
            boost: { title: 3, authors: 2, reason: 1.5 },
            // Prefixes and typos only for longer terms: a one- or two-letter prefix matches most of the
            // vocabulary and would cost more than a keystroke's budget for no useful result.
            prefix: function (term) { return term.length > 2; },
            fuzzy: function (term) { return term.length > 4 ? 0.2 : false; },
            combineWith: "AND"
          }
        });
        return index.addAllAsync(documents, { chunkSize: 500 }).then(function () {
          search.index = index;
          var days = new Set(documents.map(function (paper) { return paper.day; })).size;
          setStatus("Searching " + documents.length + " papers from " + days + " days.");
        });
      })
      .catch(function () {
        search.failed = true;
        controls.query.value = "";
        controls.query.placeholder = "Search unavailable";
        controls.query.disabled = true;
        controls.query.setAttribute("aria-invalid", "true");
        setStatus("Search unavailable: the search index could not be loaded. This day's papers are below.");
        showResults(false);
      });
    return search.loading;
  }

  function addOptions(select, values) {
    if (!Array.isArray(values)) { return; }
    var present = new Set(Array.prototype.map.call(select.options, function (option) { return option.value; }));
    values.forEach(function (value) {
      if (typeof value !== "string" || present.has(value)) { return; }
      var option = document.createElement("option");
      option.textContent = value;
      select.appendChild(option);
      present.add(value);
    });
  }

  function setStatus(text) { controls.status.textContent = text; }

  function showResults(visible) { controls.results.hidden = !visible; }

  function compareDay(a, b) { return a.day === b.day ? a.rank - b.rank : (a.day < b.day ? 1 : -1); }

  function runSearch() {
    var filters = currentFilters();
    var query = controls.query.value.trim();
    filterDayPapers(filters);
    if (!query && !filters.from && !filters.to) { showResults(false); return; }
    if (search.failed) { return; }
    if (!search.index) { loadIndex().then(function () { if (search.index) { runSearch(); } }); return; }
    var hits;
    if (query) {
      hits = search.index.search(query, {
        filter: function (result) { return keep(search.papers.get(result.id), filters); }
      }).map(function (result) { return { paper: search.papers.get(result.id), terms: result.terms }; });
    } else {
      hits = [];
      search.papers.forEach(function (paper) { if (keep(paper, filters)) { hits.push({ paper: paper, terms: [] }); } });
      if (filters.sort === "best") { hits.sort(function (a, b) { return compareDay(a.paper, b.paper); }); }
    }
    if (filters.sort === "score") {
      hits.sort(function (a, b) { return b.paper.score - a.paper.score || compareDay(a.paper, b.paper); });
    } else if (filters.sort === "day") {
      hits.sort(function (a, b) { return compareDay(a.paper, b.paper); });
    }
    renderResults(hits);
  }

  function escapeRegExp(text) { return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"); }

  function termPattern(terms) {
    var words = terms.filter(function (t) { return t.length > 0; })
      .sort(function (a, b) { return b.length - a.length; }).map(escapeRegExp);
    return words.length ? new RegExp("(" + words.join("|") + ")", "gi") : null;
  }

  // Text with every match of ``pattern`` in a <mark>, built from text nodes only.
  function appendMarked(parent, text, pattern) {
    if (!pattern) { parent.appendChild(document.createTextNode(text)); return; }
    var position = 0;
    text.replace(pattern, function (match, group, offset) {
      if (offset > position) { parent.appendChild(document.createTextNode(text.slice(position, offset))); }
      var mark = document.createElement("mark");
      mark.textContent = match;
      parent.appendChild(mark);
      position = offset + match.length;
      return match;
    });
    if (position < text.length) { parent.appendChild(document.createTextNode(text.slice(position))); }
  }

  function snippet(paper, pattern) {
    var sources = [paper.abstract || "", paper.summary || ""];
    for (var i = 0; i < sources.length; i += 1) {
      if (!pattern) { break; }
      pattern.lastIndex = 0;
      var found = pattern.exec(sources[i]);
      pattern.lastIndex = 0;
      if (found) {
        var start = Math.max(0, found.index - 90);
        var end = Math.min(sources[i].length, found.index + 160);
        return (start > 0 ? "…" : "") + sources[i].slice(start, end) + (end < sources[i].length ? "…" : "");
      }
    }
    var text = sources[0];
    return text.length > 250 ? text.slice(0, 250) + "…" : text;
  }

  function renderResults(hits) {
    var list = controls.resultsList;
    while (list.firstChild) { list.removeChild(list.firstChild); }
    hits.slice(0, RESULTS_SHOWN).forEach(function (hit) {
      var paper = hit.paper;
      var pattern = termPattern(hit.terms || []);
      var item = document.createElement("li");
      item.className = "result";
      var heading = document.createElement("h3");
      var link = document.createElement("a");
      link.href = root + paper.day + "/#" + encodeURIComponent(paper.anchor);
      appendMarked(link, paper.title, pattern);
      heading.appendChild(link);
      item.appendChild(heading);
      var meta = document.createElement("p");
      meta.className = "meta";
      meta.textContent = [paper.day, paper.category, "score " + Number(paper.score).toFixed(1),
        paper.hasSummary ? "summary" : "", paper.reason].filter(Boolean).join(" · ");
      item.appendChild(meta);
      var authors = document.createElement("p");
      authors.className = "meta";
      appendMarked(authors, paper.authors, pattern);
      item.appendChild(authors);
      var text = document.createElement("p");
      text.className = "snippet";
      appendMarked(text, snippet(paper, pattern), pattern);
      item.appendChild(text);
      list.appendChild(item);
    });
    var count = hits.length === 0 ? "No paper matches." :
      hits.length + (hits.length === 1 ? " paper" : " papers") +
      (hits.length > RESULTS_SHOWN ? " (the first " + RESULTS_SHOWN + " shown)." : ".");
    controls.resultsCount.textContent = count;
    showResults(true);
  }

  function enableTools() {
    if (!controls.form) { return; }
    controls.form.hidden = false;
    controls.form.addEventListener("submit", function (event) { event.preventDefault(); runSearch(); });
    controls.form.addEventListener("reset", function () { window.setTimeout(runSearch, 0); });
    controls.query.addEventListener("focus", function () { loadIndex(); }, { once: true });
    controls.query.addEventListener("input", runSearch);
    [controls.category, controls.keyword, controls.summary, controls.from, controls.to, controls.sort]
      .forEach(function (control) { control.addEventListener("change", runSearch); });
  }

  // --- feedback (only in pages served by ``arxivbot serve``) ------------------------------------------

  var VERDICTS = "arxivbot.verdicts";
  var TOKEN = "arxivbot.token";

  function storedVerdicts() {
    try { return JSON.parse(storageGet(VERDICTS) || "{}") || {}; } catch (e) { return {}; }
  }

  function askToken(message) {
    var panel = $("token-panel");
    var input = $("token-input");
    $("token-status").textContent = message || "";
    panel.hidden = false;
    input.value = "";
    input.focus();
    return new Promise(function (resolve, reject) {
      function finish(token) {
        $("token-save").onclick = null;
        $("token-cancel").onclick = null;
        input.onkeydown = null;
        panel.hidden = true;
        if (token) { storageSet(TOKEN, token); resolve(token); } else { reject(new Error("no token")); }
      }
      $("token-save").onclick = function () { finish(input.value.trim()); };
      $("token-cancel").onclick = function () { finish(""); };
      input.onkeydown = function (event) { if (event.key === "Enter") { event.preventDefault(); finish(input.value.trim()); } };
    });
  }

  function note(article, text, bad) {
    var element = article.querySelector(".actions .note");
    if (!element) {
      element = document.createElement("span");
      element.className = "note";
      element.setAttribute("role", "status");
      article.querySelector(".actions").appendChild(element);
    }
    element.classList.toggle("bad", Boolean(bad));
    element.textContent = text;
  }

  function showVerdict(article, verdict) {
    Array.prototype.forEach.call(article.querySelectorAll("button.verdict"), function (button) {
      button.setAttribute("aria-pressed", button.getAttribute("data-verdict") === verdict ? "true" : "false");
    });
  }

  function sendVerdict(endpoint, article, verdict, token) {
    var id = article.getAttribute("data-id");
    return fetch(endpoint, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Authorization": "Bearer " + token },
      body: JSON.stringify({ id: id, verdict: verdict })
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (answer) {
        if (response.status === 401 || response.status === 403) {
          storageSet(TOKEN, null);
          return askToken(answer.error || "The token was refused.").then(function (fresh) {
            return sendVerdict(endpoint, article, verdict, fresh);
          });
        }
        if (!response.ok) { throw new Error(answer.error || "HTTP " + response.status); }
        var verdicts = storedVerdicts();
        if (verdict === "none") { delete verdicts[id]; } else { verdicts[id] = verdict; }
        storageSet(VERDICTS, JSON.stringify(verdicts));
        showVerdict(article, verdict);
        note(article, verdict === "none" ? "Verdict removed." : "Recorded: " + verdict + ".", false);
      });
    });
  }

  function enableFeedback() {
    var endpointPath = body.getAttribute("data-feedback");
    if (!endpointPath) { return; }
    var endpoint = root + endpointPath;
    var verdicts = storedVerdicts();
    Array.prototype.forEach.call(document.querySelectorAll("article.paper"), function (article) {
      showVerdict(article, verdicts[article.getAttribute("data-id")] || "none");
      Array.prototype.forEach.call(article.querySelectorAll("button.verdict"), function (button) {
        button.addEventListener("click", function () {
          var pressed = button.getAttribute("aria-pressed") === "true";
          var verdict = pressed ? "none" : button.getAttribute("data-verdict");
          var token = storageGet(TOKEN);
          var ready = token ? Promise.resolve(token) : askToken("");
          ready.then(function (value) { return sendVerdict(endpoint, article, verdict, value); })
            .catch(function (error) {
              note(article, error.message === "no token" ? "Not recorded: no token." : "Not recorded: " + error.message, true);
            });
        });
      });
    });
  }

  followLegacyAnchor();
  window.addEventListener("hashchange", followLegacyAnchor);
  collapseLongAbstracts();
  enableCopyLinks();
  enableTools();
  enableFeedback();
}());
