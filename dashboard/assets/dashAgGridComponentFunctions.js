/* AG Grid cell renderers referenced by name from Python (dashboard/components.py), so no
   function strings are evaluated (CSP without 'unsafe-eval'). Values are rendered as text. */
var dagcomponentfuncs = (window.dashAgGridComponentFunctions = window.dashAgGridComponentFunctions || {});

/* cellRendererParams.lang: the language of the cell's text when it is not the page's
   (Swedish warehouse text on an English page is marked lang="sv"). */
function skLangProps(props, extra) {
  var out = extra || {};
  if (props.lang) {
    out.lang = String(props.lang);
  }
  return out;
}

/* Text, optionally marked with its language. */
dagcomponentfuncs.SkText = function (props) {
  var text = props.value === undefined || props.value === null ? "" : String(props.value);
  return React.createElement("span", skLangProps(props), text);
};

/* A relative link (href in data[field + "__href"], must start with "/" but not "//"). */
dagcomponentfuncs.SkLink = function (props) {
  var f = props.colDef && props.colDef.field;
  var url = props.data && f ? props.data[f + "__href"] : null;
  var text = props.value === undefined || props.value === null ? "" : String(props.value);
  if (typeof url !== "string" || url.charAt(0) !== "/" || url.charAt(1) === "/") {
    return React.createElement("span", skLangProps(props), text);
  }
  return React.createElement(SkCellLink, { href: url, text: text, cell: props.eGridCell, extra: skLangProps(props, {}) });
};

/* The link is no Tab stop of its own (the grid is one Tab stop, see dashAgGridFunctions.js):
   arrow to its cell and press Enter to follow it; a mouse click works as on any link. */
function SkCellLink(p) {
  var ref = React.useRef(null);
  React.useEffect(function () {
    var cell = p.cell;
    if (!cell) return undefined;
    var onKey = function (e) {
      if (e.key === "Enter" && ref.current && !e.defaultPrevented) {
        e.preventDefault();
        ref.current.click();
      }
    };
    cell.addEventListener("keydown", onKey);
    return function () { cell.removeEventListener("keydown", onKey); };
  }, [p.cell]);
  return React.createElement("a", Object.assign({}, p.extra, { href: p.href, ref: ref, tabIndex: -1 }), p.text);
}
