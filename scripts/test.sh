#!/usr/bin/env bash
# Quick start (b): install everything the tests need (Python packages, Debian chromium and
# poppler-utils), check the code with ruff and run the whole suite. Fails on a lint problem, any
# failed test and on "no tests collected". Arguments go to pytest, e.g. the fast core subset:
#   bash scripts/test.sh -m "not app and not cli and not slow and not browser"
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
ensure_venv
install_requirements requirements-test.txt

need_apt=()
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
command -v pdftoppm >/dev/null 2>&1 || need_apt+=(poppler-utils)
if [ ${#need_apt[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "Installing Debian packages: ${need_apt[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

cd "$ROOT"
echo "ruff check ." >&2
"$VENV/bin/ruff" check --quiet . || { echo "ruff found problems (fix them, or run: .venv/bin/ruff check --fix .)" >&2; exit 1; }
set +e
"$VENV/bin/python" -m pytest "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
  echo "pytest collected no tests: failing on purpose." >&2
  exit 1
fi
exit "$status"
