/* AG Grid callbacks referenced by name from Python (dashboard/components.py) as
   {"function": "skLeaveGrid(params)"}: dash-ag-grid parses such a call and looks the name up
   here, so nothing is evaluated (CSP without 'unsafe-eval'). */
var dagfuncs = (window.dashAgGridFunctions = window.dashAgGridFunctions || {});

/* Tab and Shift+Tab leave the grid instead of walking through every header and cell: a grid
   is one Tab stop, the arrow keys move inside it (tabToNextCell / tabToNextHeader returning
   false hands the key to the browser). */
dagfuncs.skLeaveGrid = function (params) {
  return false;
};


/* The sv-SE text precomputed by styrkort.formats in data[field + "__fmt"] (a value formatter:
   plain text, far cheaper than a cell renderer per cell); the raw value stays in the cell for
   sorting, filtering and downloads. */
dagfuncs.skFormatted = function (params) {
  var f = params.colDef && params.colDef.field;
  var shown = params.data && f ? params.data[f + "__fmt"] : undefined;
  if (shown === undefined || shown === null) {
    shown = params.value === undefined || params.value === null ? "" : String(params.value);
  }
  return String(shown);
};
