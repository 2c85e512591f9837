#!/usr/bin/env bash
# Regenerates docs/architecture.svg: the folder-level import graph of lib/ (dependency-cruiser ->
# Graphviz dot). Folders are collapsed to one node each (lib/ml's subfolders and the two entry
# points keep their own); an edge that breaks a rule of .dependency-cruiser.cjs is drawn red.
# Needs Graphviz (Debian: apt-get install graphviz). Usage: npm run docs:graph
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
command -v dot >/dev/null || { echo "architecture-graph: Graphviz's dot is missing (apt-get install graphviz)" >&2; exit 1; }
out=docs/architecture.svg
tmp="$(mktemp)"
trap 'rm -f "$tmp"' EXIT
npx --no-install depcruise lib --config .dependency-cruiser.cjs --include-only '^lib/' \
  --collapse '^lib/(ml/[^/]+/|ml/index\.ts$|[^/]+/|[^/]+\.ts$)' --output-type dot >"$tmp"
# Top to bottom, so that the layers read from the CLI down to util/.
sed -i 's/rankdir="LR"/rankdir="TB"/; s/ranksep="0.18"/ranksep="0.35"/' "$tmp"
dot -T svg "$tmp" >"$out"
echo "wrote $out"
