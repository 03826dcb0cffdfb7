#!/usr/bin/env bash
# Rebuild dashboard/vendor/plotly-styrkort.min.js from the npm registry (plotly.js, esbuild at the
# versions pinned in package.json / package-lock.json). Same options as plotly.js's own
# esbuild-config.js, minus the map (MapLibre) CSS, which no included trace needs.
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund --silent
npx esbuild entry.js --bundle --minify --format=iife --global-name=Plotly --target=es2016 \
  --define:global=window --define:define.amd=false --loader:.css=empty \
  --legal-comments=eof --log-level=warning --outfile=../plotly-styrkort.min.js
echo "built $(wc -c < ../plotly-styrkort.min.js) bytes: $(realpath ../plotly-styrkort.min.js)"
