/* Clientside helpers (served from /assets, so the CSP needs no inline script). */

/* A page that draws charts has plotly.js in its first HTML as a deferred script (data-sk-plotly,
   dashboard/plotly_bundle.py), so it downloads and starts while Dash is still fetching the page.
   Dash's graph asks `window.Plotly || <load plotly.js itself>` when the first chart mounts; until
   the script has run, window.Plotly here is a promise of it, so the graph waits for that script
   instead of loading and running plotly.js a second time. If the script fails, it is loaded
   once more the same way Dash would. */
(function () {
  var tag = document.querySelector("script[data-sk-plotly]");
  if (!tag || window.Plotly) { return; }
  var real = null;
  var ready = new Promise(function (resolve, reject) {
    tag.addEventListener("load", function () { resolve(real); });
    tag.addEventListener("error", function () {
      var again = document.createElement("script");
      again.src = tag.src;
      again.onload = function () { resolve(real); };
      again.onerror = reject;
      document.head.appendChild(again);
    });
  });
  Object.defineProperty(window, "Plotly", {
    configurable: true, enumerable: true,
    get: function () { return real || ready; },
    set: function (value) { real = value; }
  });
})();

window.dash_clientside = Object.assign({}, window.dash_clientside, {
  styrkort: {
    /* A chart's PNG made by Plotly in the browser: the figure on screen with the export layout
       (title, source, margins) from figures.export_spec, downloaded as <filename>.png. */
    pngExport: function (nClicks, figure, spec) {
      if (!nClicks || !figure || !spec) {
        return window.dash_clientside.no_update;
      }
      var fail = function (e) { return (spec.fail || "") + String((e && e.message) || e || ""); };
      var layout = Object.assign({}, figure.layout || {}, spec.layout);
      // plotly.js arrives with the first chart (Dash loads it lazily): wait for it briefly
      var plotly = new Promise(function (resolve, reject) {
        var waited = 0;
        (function poll() {
          if (window.Plotly && window.Plotly.toImage) { resolve(window.Plotly); return; }
          if ((waited += 100) > 15000) { reject(new Error("Plotly")); return; }
          setTimeout(poll, 100);
        })();
      });
      return plotly
        .then(function (P) {
          return P.toImage({data: figure.data || [], layout: layout},
                           {format: "png", width: spec.width, height: spec.height});
        })
        .then(function (url) {
          var a = document.createElement("a");
          a.href = url;
          a.download = spec.filename + ".png";
          document.body.appendChild(a);
          a.click();
          a.remove();
          return "";
        })
        .catch(fail);
    },
    /* /kommun's year selector -> the URL's search, as dashboard.i18n.search_string words it
       (year, alla, then the language part the server wrote: "" or "lang=en"; "senaste" = no
       year). */
    kommunYearSearch: function (year, langQuery, alla) {
      if (!year) { return window.dash_clientside.no_update; }
      var p = [];
      if (year !== "senaste") { p.push("year=" + encodeURIComponent(year)); }
      if (alla) { p.push("alla=" + encodeURIComponent(alla)); }
      if (langQuery) { p.push(String(langQuery)); }
      return p.length ? "?" + p.join("&") : "";
    },
    /* <html lang> = the language the server answered in (the header callback's sk-page-lang). */
    setLang: function (lang) {
      if (typeof lang === "string" && /^[a-z]{2}$/.test(lang)) { document.documentElement.lang = lang; }
      return "";
    },
    /* The municipality on screen (/kommun/1480, /trender?code=1480), kept in localStorage by a
       dcc.Store so the "Trender" menu item can open it; other pages leave it unchanged. */
    rememberMunicipality: function (pathname, search) {
      var m = /^\/kommun\/([0-9]{4})\/?$/.exec(pathname || "");
      if (!m && /^\/trender\/?$/.test(pathname || "")) {
        m = /(?:^|[?&])code=([0-9]{4})(?:&|$)/.exec(search || "");
      }
      return m ? m[1] : window.dash_clientside.no_update;
    }
  }
});

/* Search on /: arrow keys move between the box and its hits, Escape goes back to the box. */
document.addEventListener("keydown", function (ev) {
  var box = document.getElementById("home-search");
  var list = document.getElementById("home-search-results");
  if (!box || !list) { return; }
  var links = Array.prototype.slice.call(list.querySelectorAll("a"));
  if (!links.length) { return; }
  var i = links.indexOf(document.activeElement);
  if (ev.target === box && ev.key === "ArrowDown") {
    links[0].focus(); ev.preventDefault();
  } else if (i >= 0 && ev.key === "ArrowDown") {
    links[Math.min(i + 1, links.length - 1)].focus(); ev.preventDefault();
  } else if (i >= 0 && ev.key === "ArrowUp") {
    (i === 0 ? box : links[i - 1]).focus(); ev.preventDefault();
  } else if (i >= 0 && ev.key === "Escape") {
    box.focus(); ev.preventDefault();
  }
});

/* The menu button of the header on narrow screens: opens and closes the main menu; Escape closes
   it and returns to the button. */
document.addEventListener("click", function (ev) {
  var btn = ev.target.closest ? ev.target.closest("#sk-menu-button") : null;
  if (!btn) { return; }
  var header = btn.closest(".sk-navbar");
  if (!header) { return; }
  var open = !header.classList.contains("sk-nav-open");
  header.classList.toggle("sk-nav-open", open);
  btn.setAttribute("aria-expanded", open ? "true" : "false");
  if (open) {
    var first = header.querySelector("#sk-nav-menu a");
    if (first) { first.focus(); }
  }
});
document.addEventListener("keydown", function (ev) {
  if (ev.key !== "Escape") { return; }
  var header = document.querySelector(".sk-navbar.sk-nav-open");
  if (!header) { return; }
  header.classList.remove("sk-nav-open");
  var btn = header.querySelector("#sk-menu-button");
  if (btn) { btn.setAttribute("aria-expanded", "false"); btn.focus(); }
});

/* StaticHtml (dashboard/static_html.py): a part of the page no callback touches, sent as the
   markup React would have made (one component instead of hundreds). Its links carry
   data-sk-link and navigate inside the app exactly like dcc.Link. */
window.styrkort_static = {
  StaticHtml: function (props) {
    var attrs = Object.assign({}, props.attrs || {});
    if (props.id) { attrs.id = props.id; }
    if (!/^(input|img|br|hr|col|wbr|source|track|area|embed|link|meta|base)$/.test(props.tag || "")) {
      attrs.dangerouslySetInnerHTML = {__html: props.html || ""};
    }
    return window.React.createElement(props.tag || "div", attrs);
  }
};
document.addEventListener("click", function (e) {
  var a = e.target && e.target.closest ? e.target.closest("a[data-sk-link]") : null;
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) {
    return;
  }
  var href = a.getAttribute("href") || "";
  if (href.charAt(0) !== "/" || href.charAt(1) === "/") { return; }
  e.preventDefault();
  window.history.pushState({}, "", href);
  window.dispatchEvent(new CustomEvent("_dashprivate_pushstate"));
  window.scrollTo(0, 0);
});

/* Long tables (components.table_with_downloads): filter box, sort choice, pager, and the arrow
   keys between a table's links. Delegated listeners, so tables a callback inserts later work
   too; the rows are StaticHtml markup, which React does not re-render, so moving and hiding
   them here is safe. The server wrote page 1 (later rows hidden): nothing to do on load. */
(function () {
  function wrapOf(el) { return el && el.closest ? el.closest(".sk-table") : null; }
  function tableOf(w) { return w.querySelector("table.sk-plain-table"); }
  function rowsOf(table) {
    var body = table.tBodies[0];
    return body ? Array.prototype.slice.call(body.rows) : [];
  }
  function fill(text, values, locale) {
    return String(text).replace(/\{(\w+)\}/g, function (m, k) {
      var v = values[k];
      if (v === undefined) { return m; }
      return typeof v === "number" ? v.toLocaleString(locale) : String(v);
    });
  }
  /* Show page `page` of the rows the filter keeps; update the pager and the filter status. */
  function show(w, page) {
    var table = tableOf(w);
    if (!table) { return; }
    var size = parseInt(table.getAttribute("data-page-size") || "0", 10);
    var all = rowsOf(table);
    var kept = all.filter(function (r) { return r.getAttribute("data-out") !== "1"; });
    var pages = size ? Math.max(1, Math.ceil(kept.length / size)) : 1;
    page = Math.min(Math.max(1, page || 1), pages);
    all.forEach(function (r) { r.hidden = r.getAttribute("data-out") === "1"; });
    if (size) {
      kept.forEach(function (r, i) { r.hidden = i < (page - 1) * size || i >= page * size; });
    }
    w.setAttribute("data-page", String(page));
    var pager = w.querySelector(".sk-pager");
    if (pager && size) {
      var locale = pager.getAttribute("data-locale") || "sv-SE";
      var status = pager.querySelector(".sk-pager-status");
      if (status) {
        status.textContent = fill(pager.getAttribute("data-status"), {
          page: page, pages: pages, first: kept.length ? (page - 1) * size + 1 : 0,
          last: Math.min(page * size, kept.length), rows: kept.length}, locale);
      }
      pager.querySelectorAll("button[data-sk-page]").forEach(function (b) {
        var k = b.getAttribute("data-sk-page");
        b.disabled = (k === "first" || k === "prev") ? page <= 1 : page >= pages;
      });
    }
    var fs = w.querySelector(".sk-filter-status");
    var box = w.querySelector("input.sk-filter");
    if (fs) {
      var q = box ? box.value.trim() : "";
      fs.textContent = q ? fill(fs.getAttribute("data-text"), {shown: kept.length, rows: all.length, query: q},
                                fs.getAttribute("data-locale") || "sv-SE") : "";
    }
  }
  document.addEventListener("click", function (e) {
    var b = e.target && e.target.closest ? e.target.closest("button[data-sk-page]") : null;
    var w = wrapOf(b);
    if (!w) { return; }
    var page = parseInt(w.getAttribute("data-page") || "1", 10);
    var go = {first: 1, prev: page - 1, next: page + 1, last: 1e9}[b.getAttribute("data-sk-page")];
    show(w, go);
  });
  document.addEventListener("input", function (e) {
    var box = e.target;
    if (!box || !box.classList || !box.classList.contains("sk-filter")) { return; }
    var w = wrapOf(box);
    if (!w || !tableOf(w)) { return; }
    var q = box.value.trim().toLocaleLowerCase();
    rowsOf(tableOf(w)).forEach(function (r) {
      if (q && r.textContent.toLocaleLowerCase().indexOf(q) < 0) { r.setAttribute("data-out", "1"); }
      else { r.removeAttribute("data-out"); }
    });
    show(w, 1);
  });
  document.addEventListener("change", function (e) {
    var sel = e.target;
    if (!sel || !sel.classList || !sel.classList.contains("sk-sort")) { return; }
    var w = wrapOf(sel);
    var table = w && tableOf(w);
    if (!table || !table.tBodies[0]) { return; }
    var rows = rowsOf(table);
    rows.forEach(function (r, i) { if (!r.hasAttribute("data-i")) { r.setAttribute("data-i", String(i)); } });
    var m = /^(\d+):(asc|desc)$/.exec(sel.value || "");
    var col = m ? parseInt(m[1], 10) : -1, dir = m && m[2] === "desc" ? -1 : 1;
    var key = function (r) {
      if (col < 0) { return parseInt(r.getAttribute("data-i"), 10); }
      var c = r.cells[col];
      if (!c) { return null; }
      var v = c.getAttribute("data-v");
      if (v !== null && v !== "") { return Number(v); }
      var s = c.textContent.trim();
      return s === "" ? null : s;
    };
    var keyed = rows.map(function (r) { return [key(r), r]; });
    keyed.sort(function (a, b) {
      if (a[0] === null || b[0] === null) { return (a[0] === null) - (b[0] === null); }  // empty last
      if (typeof a[0] === "number" && typeof b[0] === "number") { return dir * (a[0] - b[0]); }
      return dir * String(a[0]).localeCompare(String(b[0]), "sv");
    });
    keyed.forEach(function (x) { table.tBodies[0].appendChild(x[1]); });
    table.querySelectorAll("thead th").forEach(function (th, i) {
      if (i === col) { th.setAttribute("aria-sort", dir > 0 ? "ascending" : "descending"); }
      else { th.removeAttribute("aria-sort"); }
    });
    show(w, 1);
  });
  /* In a long table the region is the one Tab stop; up/down (Home/End) move between the links
     of the rows on screen, Escape goes back to the region, Tab leaves the table. */
  document.addEventListener("keydown", function (e) {
    var region = e.target && e.target.closest ? e.target.closest(".sk-keyboard-table") : null;
    if (!region || ["ArrowDown", "ArrowUp", "Home", "End", "Escape"].indexOf(e.key) < 0) { return; }
    var links = Array.prototype.slice.call(region.querySelectorAll("tbody tr:not([hidden]) a[href]"));
    if (e.key === "Escape") {
      if (e.target !== region) { region.focus(); e.preventDefault(); }
      return;
    }
    if (!links.length) { return; }
    var i = links.indexOf(document.activeElement), j;
    if (e.key === "Home") { j = 0; }
    else if (e.key === "End") { j = links.length - 1; }
    else if (e.key === "ArrowDown") { j = i < 0 ? 0 : Math.min(i + 1, links.length - 1); }
    else { j = i <= 0 ? (i < 0 ? -1 : 0) : i - 1; }
    if (j >= 0) { links[j].focus(); e.preventDefault(); }
  });
})();

/* Lazy charts (components.graph lazy=True: /trender after the first chart, Diagram 1 on /kostnad,
   the grant map, unit charts from the second row): drawn when they come into view. The figure
   waits in the wrapper's data-sk-figure and goes to its dcc.Graph through
   dash_clientside.set_props (the graph's figure prop, as a callback would set it, so the PNG
   export reads it too). A new figure (another municipality) is drawn when it is in view. */
(function () {
  if (!("IntersectionObserver" in window) || !("MutationObserver" in window)) { return; }
  function draw(el) {
    var fig = el.getAttribute("data-sk-figure");
    if (!fig || el.__skDrawn === fig || !window.dash_clientside || !window.dash_clientside.set_props) { return; }
    el.__skDrawn = fig;
    try {
      window.dash_clientside.set_props(JSON.parse(el.getAttribute("data-sk-graph")), {figure: JSON.parse(fig)});
    } catch (err) { el.__skDrawn = null; }
  }
  // drawn once a tenth of it is in view (a sliver of an empty frame at the bottom edge is not
  // worth the 50-150 ms of main thread a chart costs while the page is loading)
  var io = new IntersectionObserver(function (entries) {
    entries.forEach(function (e) { if (e.isIntersecting) { draw(e.target); } });
  }, {rootMargin: "0px", threshold: 0.1});
  function scan() {
    document.querySelectorAll("[data-sk-figure]").forEach(function (el) {
      var fig = el.getAttribute("data-sk-figure");
      if (el.__skWatched !== fig) {       // new, or a new figure: look again whether it is in view
        el.__skWatched = fig;
        io.unobserve(el);
        io.observe(el);
      }
    });
  }
  new MutationObserver(scan).observe(document.documentElement,
    {subtree: true, childList: true, attributes: true, attributeFilter: ["data-sk-figure"]});
})();
