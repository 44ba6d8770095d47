#!/bin/sh
# Runs before the madoguchi services start (ExecStartPre=+): finishes an update that a power cut
# interrupted between switching PREFIX/current and checking the new release. If the new release does
# not run, PREFIX/current goes back to PREFIX/previous (a rename: atomic). Plain sh on purpose: it must
# work when the new release's Python environment does not.
#   health-guard.sh PREFIX
set -u
prefix=${1:-@PREFIX@}
pending="$prefix/.health-pending"
[ -f "$pending" ] || exit 0
if env -u PYTHONPATH "$prefix/current/venv/bin/madoguchi" --version >/dev/null 2>&1; then
  rm -f "$pending"
  exit 0
fi
previous=$(readlink "$prefix/previous" 2>/dev/null) || { echo "madoguchi: current release does not start and there is no previous one" >&2; exit 0; }
ln -sfn "$previous" "$prefix/.current.guard" && mv -T "$prefix/.current.guard" "$prefix/current" || exit 1
rm -f "$pending"
echo "madoguchi: the new release did not start after an interrupted update; rolled back to $previous" >&2
exit 0
