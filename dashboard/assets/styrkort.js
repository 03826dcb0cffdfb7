/* Clientside helpers (served from /assets, so the CSP needs no inline script). */
window.dash_clientside = Object.assign({}, window.dash_clientside, {
  styrkort: {
    setLang: function (search) {
      var en = /(^|[?&])lang=en(&|$)/.test(search || "");
      document.documentElement.lang = en ? "en" : "sv";
      return "";
    }
  }
});
