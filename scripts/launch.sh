#!/usr/bin/env bash
# Quick start (a): set up .venv and serve the dashboard with the sample model and data loaded.
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
ensure_venv
install_requirements requirements.txt
cd "$ROOT"
echo "RiskPrune on http://127.0.0.1:${PORT:-8501}" >&2
exec "$VENV/bin/python" -m streamlit run app.py --server.address 127.0.0.1 --server.port "${PORT:-8501}" "$@"
