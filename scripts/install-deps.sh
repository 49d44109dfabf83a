#!/usr/bin/env bash
# Installs what the tests need. Idempotent: safe to run again and again.
set -euo pipefail
cd "$(dirname "$0")/.."

# --- ZooKeeper (Debian `zookeeper`, 3.8): every lab binder instance runs a real server ---
install_zookeeper() {
    if [ -f /usr/share/java/zookeeper.jar ] && command -v java >/dev/null 2>&1; then
        return 0
    fi
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
        apt-get install -y zookeeper || { apt-get update && apt-get install -y zookeeper; }
    else
        echo "install-deps: the lab needs ZooKeeper: run as root, or apt-get install zookeeper" >&2
        return 1
    fi
}
install_zookeeper

# --- Node and Joyent's sdc-clients (tests/sdc_clients.rs runs them unchanged against a lab) ---
install_sdc_clients() {
    local dir=tests/sdc-clients
    if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
        if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
            apt-get install -y nodejs npm || { apt-get update && apt-get install -y nodejs npm; }
        else
            echo "install-deps: node and npm are needed for tests/sdc_clients.rs (install Node.js 18+)" >&2
            return 1
        fi
    fi
    # Already installed at the pinned version: nothing to do.
    if [ -f "$dir/node_modules/sdc-clients/package.json" ] &&
        grep -q '"version": "13.0.6"' "$dir/node_modules/sdc-clients/package.json"; then
        return 0
    fi
    if [ -f "$dir/package-lock.json" ]; then
        (cd "$dir" && npm ci --no-audit --no-fund)
    else
        (cd "$dir" && npm install --no-audit --no-fund)
    fi
}
install_sdc_clients

# --- PostgreSQL 15 (Debian `postgresql-15`): every lab manatee instance runs a real server ---
# Only the server binaries are used (the Debian `15/main` cluster is not).
# As root the lab runs them as the `postgres` user, which the package creates.
install_postgresql() {
    if [ -x /usr/lib/postgresql/15/bin/postgres ] && [ -x /usr/lib/postgresql/15/bin/pg_basebackup ] &&
        id postgres >/dev/null 2>&1; then
        return 0
    fi
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
        apt-get install -y postgresql-15 || { apt-get update && apt-get install -y postgresql-15; }
        id postgres >/dev/null 2>&1 ||
            useradd --system --user-group --home-dir /var/lib/postgresql --shell /bin/bash postgres
    else
        echo "install-deps: the lab needs PostgreSQL 15: run as root, or apt-get install postgresql-15" >&2
        return 1
    fi
}
install_postgresql

# --- iproute2 (`ip`): as root, the lab's standbys route their upstream's
# address from their own, so pg_stat_replication.client_addr is faithful ---
install_iproute2() {
    if command -v ip >/dev/null 2>&1; then
        return 0
    fi
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
        apt-get install -y iproute2 || { apt-get update && apt-get install -y iproute2; }
    else
        echo "install-deps: the lab wants iproute2 (ip) for faithful client_addr; apt-get install iproute2" >&2
    fi
}
install_iproute2
