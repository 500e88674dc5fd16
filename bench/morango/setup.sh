#!/usr/bin/env bash
# Creates (idempotently) the virtual environment used by the morango baseline
# harness and prints what it installed.
#
#   MORANGO_VENV   where to put the venv       (default /tmp/morango-venv)
#   MORANGO_PYTHON interpreter to build it with (default: python3.11, then python3.10, python3)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="${MORANGO_VENV:-/tmp/morango-venv}"
REQS="$HERE/requirements.txt"

pick_python() {
    if [[ -n "${MORANGO_PYTHON:-}" ]]; then echo "$MORANGO_PYTHON"; return; fi
    # morango 0.8.x requires django>=3,<4, i.e. Django 3.2, which supports
    # Python 3.6-3.10 (3.2.16+ also runs on 3.11, as used and checked here) and
    # is not supported on 3.12+; so prefer 3.11 and older interpreters.
    for p in python3.11 python3.10 python3.9 python3.8; do
        if command -v "$p" >/dev/null 2>&1; then command -v "$p"; return; fi
    done
    if command -v uv >/dev/null 2>&1; then
        for v in 3.11 3.10; do
            if p="$(uv python find "$v" 2>/dev/null)"; then echo "$p"; return; fi
        done
    fi
    command -v python3
}

PY="$(pick_python)"
echo "setup.sh: interpreter $PY ($("$PY" -V 2>&1)), venv $VENV" >&2

stamp="$VENV/.bench-requirements.sha256"
want="$(sha256sum "$REQS" | cut -d' ' -f1)"
if [[ -x "$VENV/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    echo "setup.sh: venv already up to date" >&2
else
    [[ -x "$VENV/bin/python" ]] || "$PY" -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --upgrade pip >&2
    "$VENV/bin/python" -m pip install -q -r "$REQS" >&2
    echo "$want" > "$stamp"
fi

"$VENV/bin/python" - <<'PY'
import sys, importlib.metadata as md
print("python", sys.version.split()[0], sys.executable)
for name in ("morango", "Django", "djangorestframework", "django-mptt", "requests",
             "urllib3", "rsa", "cheroot"):
    try:
        print(f"{name} {md.version(name)}")
    except md.PackageNotFoundError:
        print(f"{name} (not installed)")
PY
"$VENV/bin/python" -c "import django, morango; print('import check ok: django', django.get_version(), 'morango', morango.__version__)"
