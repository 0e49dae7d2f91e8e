#!/usr/bin/env bash
# The browser tests (test/browser/) drive Debian's `chromium` in headless mode; nothing downloads a
# browser. This installs the package when it is missing (npm test runs it first, and so does CI).
set -euo pipefail
if [ -n "${CHROMIUM_PATH:-}" ] && [ -x "${CHROMIUM_PATH}" ]; then exit 0; fi
if command -v chromium >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "The browser tests need Chromium: install Debian's chromium package (apt-get install chromium), or set CHROMIUM_PATH to a Chromium binary." >&2
  exit 1
fi
echo "Installing Debian's chromium for the browser tests..."
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
command -v chromium >/dev/null
