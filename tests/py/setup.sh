#!/usr/bin/env bash
# Sets up .venv with the py-libp2p secio peer used by tests/tests/py_secio_interop.rs.
# Idempotent: seconds when nothing changed. `cargo xtask test` and .ci/run call it.
set -euo pipefail
cd "$(dirname "$0")/../.."
# .venv gets the pinned tests/py/requirements.txt (libp2p==0.8.1 and every resolved dependency; ~2 min from
# scratch, seconds when unchanged). fastecdsa has no wheel here: it is compiled against GMP, hence a C
# compiler and libgmp-dev (and, for Debian's own python3, its headers and venv module).
py_sys_pkgs=()
for p in gcc libgmp-dev; do dpkg -s "$p" >/dev/null 2>&1 || py_sys_pkgs+=("$p"); done
python3 -c 'import ensurepip' >/dev/null 2>&1 || py_sys_pkgs+=(python3-venv)
python3 -c 'import os, sys, sysconfig; sys.exit(not os.path.isfile(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' \
    || py_sys_pkgs+=(python3-dev)
if [ "${#py_sys_pkgs[@]}" -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y --no-install-recommends "${py_sys_pkgs[@]}" \
        || { apt-get update && apt-get install -y --no-install-recommends "${py_sys_pkgs[@]}"; }
fi
if ! cmp -s tests/py/requirements.txt .venv/.requirements.installed 2>/dev/null; then
    [ -x .venv/bin/python ] || python3 -m venv .venv
    .venv/bin/pip install --disable-pip-version-check -q -r tests/py/requirements.txt
    cp tests/py/requirements.txt .venv/.requirements.installed
fi

