#!/usr/bin/env bash
# Installs everything LaborSign needs on a fresh Debian/Ubuntu machine: system packages
# (Chinese fonts, Chromium for browser tests, poppler/NSS tools for signature checks) and a
# virtual environment with the pinned Python dependencies. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(fonts-wqy-microhei chromium poppler-utils libnss3-tools)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'
