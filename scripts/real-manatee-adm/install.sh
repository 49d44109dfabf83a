#!/usr/bin/env bash
# Makes Joyent's own manatee-adm (manatee 2.1.1) runnable on this machine's
# Node, to judge the lab and `tritonsh manatee` with it
# (tests/manatee_adm_agreement.rs). Idempotent.
#
#   scripts/real-manatee-adm/install.sh SRC
#
# SRC is a checkout of github.com/TritonDataCenter/manatee (it is not on
# npm). Its npm dependencies are installed without their build scripts;
# the two that do not run on Node 20 are stood in for by the files beside
# this script. Then: MANATEE_ADM_DIR=SRC cargo test --test manatee_adm_agreement
set -euo pipefail
src=${1:?usage: install.sh MANATEE_SOURCE_DIR}
here=$(cd "$(dirname "$0")" && pwd)
[ -f "$src/bin/manatee-adm" ] || { echo "install.sh: $src has no bin/manatee-adm: not a manatee checkout" >&2; exit 1; }
cd "$src"
if [ ! -f node_modules/.tritonsh-ready ]; then
    # Only manatee-adm's own dependencies: the git ones (the state machine,
    # test tools) and manta/posix (backups, the sitter) are not needed.
    node -e '
        const fs = require("fs");
        const p = JSON.parse(fs.readFileSync("package.json"));
        for (const k of Object.keys(p.dependencies))
            if (/git/.test(p.dependencies[k]) || k === "manta" || k === "posix") delete p.dependencies[k];
        delete p.devDependencies; p.scripts = {};
        fs.writeFileSync("package.tritonsh.json", JSON.stringify(p, null, 1));'
    cp package.json package.orig.json
    cp package.tritonsh.json package.json
    npm install --ignore-scripts --no-audit --no-fund
    cp package.orig.json package.json
    touch node_modules/.tritonsh-ready
fi
cp "$here/bignum.js" node_modules/bignum/index.js
cp "$here/node20-ready-state.js" node_modules/.tritonsh-ready-state.js
echo "manatee-adm $(ZK_IPS=127.0.0.1 SHARD=x node -r ./node_modules/.tritonsh-ready-state.js bin/manatee-adm version 2>/dev/null) ready in $src"
