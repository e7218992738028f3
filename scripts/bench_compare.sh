#!/usr/bin/env bash
# Seawall at another commit against this working tree, in one run of the shared harness
# (../shared/bench): the same machine, mock and load for both, so a refactor's speed can be
# compared honestly. Both run the README's minimal config with everything on (governance,
# guards, audit to SQLite, resilience, metrics; access log off) and --workers 2.
# Usage: scripts/bench_compare.sh REF [harness options...]   e.g. scripts/bench_compare.sh 7a1a9da -c "1 32" -d 10
#        NEW=REF2 scripts/bench_compare.sh REF ...   compares two commits instead (REF2 in place of this tree)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
REF=${1:?usage: scripts/bench_compare.sh REF [harness options]}; shift
SHARED=${SHARED_BENCH:-$ROOT/../shared/bench}
WORK=${BENCH_WORK:-$ROOT/build/shared-bench}
OLD=$ROOT/build/compare-$REF
if [ ! -x "$WORK/run_gateway_bench.sh" ]; then
  mkdir -p "$WORK" && cp -r "$SHARED"/. "$WORK"/ && chmod -R u+w "$WORK"
fi
[ -f "$WORK/.setup-done" ] || [ -f "$WORK/.setup-core" ] || { (cd "$WORK" && SKIP_LITELLM=1 SKIP_PORTKEY=1 ./setup.sh) && touch "$WORK/.setup-core"; }
[ -d "$OLD" ] || git -C "$ROOT" worktree add -q --detach "$OLD" "$REF"
NEWTREE=$ROOT
NEWNAME=now
if [ -n "${NEW:-}" ]; then
  NEWTREE=$ROOT/build/compare-$NEW
  NEWNAME=$NEW
  [ -d "$NEWTREE" ] || git -C "$ROOT" worktree add -q --detach "$NEWTREE" "$NEW"
fi
PY="$ROOT/.venv/bin/python"
WORKERS=${SEAWALL_WORKERS:-2}
# $1 of the command: the source tree whose seawall package is imported (PYTHONPATH wins over
# the editable install)
cmd() {
  echo "printf 'server: {access_log: false}\nproviders:\n  - name: sim-a\n    kind: openai\n    base_url: %s\n    api_key: \${SIM_KEY}\nmodels:\n  - name: gpt-4o-mini\n    targets:\n      - provider: sim-a\n        model: gpt-4o-mini\n' \"\$MOCK_URL\" > \"\$RUN_DIR/seawall.yaml\" && cd \"\$RUN_DIR\" && HF_HUB_OFFLINE=1 PYTHONPATH=$1/src exec $PY -m seawall.cli serve --config \"\$RUN_DIR/seawall.yaml\" --port \"\$PORT\" --workers $WORKERS"
}
cd "$WORK"
exec ./run_gateway_bench.sh --gw "seawall-$REF" --port 18091 --cmd "$(cmd "$OLD")" \
  --gw "seawall-$NEWNAME" --port 18092 --cmd "$(cmd "$NEWTREE")" "$@"
