'use strict';
// plotly.js with only the trace types styrkort's pages draw (dashboard/plotly_bundle.py
// TRACE_TYPES; a test fails when a page uses another). scatter is always in core.
var Plotly = require('plotly.js/lib/core');

Plotly.register([
    require('plotly.js/lib/bar'),
    require('plotly.js/lib/choropleth'),
]);

module.exports = Plotly;
