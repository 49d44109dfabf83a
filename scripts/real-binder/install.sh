#!/usr/bin/env bash
# Makes Joyent's own binder runnable on this machine's Node, to judge the
# lab's binder DNS with it (tests/binder_agreement.rs). Idempotent.
#
#   scripts/real-binder/install.sh SRC
#
# SRC is a checkout of github.com/TritonDataCenter/binder (it is not on
# npm). Its npm dependencies are installed without their build scripts
# (dtrace-provider then runs without DTrace, as it does off SmartOS).
# Then: BINDER_DIR=SRC cargo test --test binder_agreement
set -euo pipefail
src=${1:?usage: install.sh BINDER_SOURCE_DIR}
[ -f "$src/lib/server.js" ] && [ -f "$src/lib/zk.js" ] ||
    { echo "install.sh: $src has no lib/server.js and lib/zk.js: not a binder checkout" >&2; exit 1; }
cd "$src"
if [ ! -f node_modules/.tritonsh-ready ]; then
    npm install --ignore-scripts --no-audit --no-fund
    touch node_modules/.tritonsh-ready
fi
echo "binder $(node -p 'require("./package.json").version') ready in $src"
