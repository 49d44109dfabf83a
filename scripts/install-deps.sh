#!/usr/bin/env bash
# Installs what the tests need. Idempotent: safe to run again and again.
set -euo pipefail
cd "$(dirname "$0")/.."
