# Shared by launch.sh and test.sh: find Python 3.11, create .venv, install a requirements file
# only when it changed since the last install (a stamp holds its hash).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"

find_python() {
  for py in python3.11 python3 python; do
    if command -v "$py" >/dev/null 2>&1 && "$py" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
      echo "$py"; return 0
    fi
  done
  echo "RiskPrune needs Python 3.11 (python3.11 not found)." >&2
  return 1
}

ensure_venv() {
  if [ ! -x "$VENV/bin/python" ]; then
    "$(find_python)" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
  fi
}

install_requirements() {  # $1 = requirements file (relative to ROOT)
  local req="$ROOT/$1" stamp="$VENV/.installed-$(basename "$1")"
  local digest
  digest="$(cat "$ROOT"/requirements*.txt "$ROOT/pyproject.toml" | sha256sum | cut -d' ' -f1)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$digest" ]; then
    echo "Installing $1 into .venv (first run takes a few minutes)..." >&2
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req"
    # the project itself, editable: `core` and `ui` import from benchmarks and scripts without sys.path edits
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -e "$ROOT"
    echo "$digest" > "$stamp"
  fi
}
