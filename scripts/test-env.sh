#!/usr/bin/env bash
# Makes .venv with the pinned test packages (idempotent: reinstalls only when
# scripts/requirements-test.txt changes). Needs only python3.
set -euo pipefail
cd "$(dirname "$0")/.."
req=scripts/requirements-test.txt
stamp=".venv/.installed-$(sha256sum "$req" | cut -c1-16)"
if [ -f "$stamp" ]; then
  exit 0
fi
echo "== installing test packages into .venv ($req)"
python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install -q --disable-pip-version-check -r "$req"
rm -f .venv/.installed-*
touch "$stamp"
