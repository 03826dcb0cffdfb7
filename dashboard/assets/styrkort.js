/* Clientside helpers (served from /assets, so the CSP needs no inline script). */
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
    /* The pager after a long grid (components.pager): which button was pressed -> the grid's
       paginationGoTo. */
    pagerGo: function () {
      var trig = window.dash_clientside.callback_context.triggered_id;
      var go = {"sk-pager-first": "first", "sk-pager-prev": "previous",
                "sk-pager-next": "next", "sk-pager-last": "last"}[trig && trig.type];
      return go || window.dash_clientside.no_update;
    },
    /* The grid's paginationInfo -> 'Sida 2 av 12 · rader 26–50 av 290' and which buttons can be
       used (as components.pager_status words it). */
    pagerStatus: function (info, texts) {
      var nu = window.dash_clientside.no_update;
      if (!info || !texts || !info.pageSize) { return [nu, nu, nu, nu, nu]; }
      var pages = Math.max(1, info.totalPages || 0), page = Math.min(pages, (info.currentPage || 0) + 1);
      var rows = info.rowCount || 0, size = info.pageSize;
      var n = function (x) { return Number(x).toLocaleString(texts.locale); };
      var text = String(texts.status).replace("{page}", n(page)).replace("{pages}", n(pages))
        .replace("{first}", n(rows ? (page - 1) * size + 1 : 0)).replace("{last}", n(Math.min(page * size, rows)))
        .replace("{rows}", n(rows));
      var atStart = page <= 1, atEnd = page >= pages;
      return [text, atStart, atStart, atEnd, atEnd];
    },
    setLang: function (search) {
      var en = /(^|[?&])lang=en(&|$)/.test(search || "");
      document.documentElement.lang = en ? "en" : "sv";
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
