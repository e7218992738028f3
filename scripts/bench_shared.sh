#!/usr/bin/env bash
# Seawall against LiteLLM and Portkey with the shared harness (../shared/bench), one run.
# The harness folder is read-only in the repo's neighbourhood, so it is copied to a scratch
# folder once (BENCH_WORK) where its setup.sh installs nginx, wrk, LiteLLM and Portkey.
# Usage: scripts/bench_shared.sh [harness options...]   e.g. -c "1 8 32 128" -d 10
#        PRESETS="--preset portkey --preset litellm" chooses the competitors (default: both);
#        PRESETS=none measures Seawall alone against the direct baseline (make bench).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${SHARED_BENCH:-$ROOT/../shared/bench}
WORK=${BENCH_WORK:-$ROOT/build/shared-bench}
[ -d "$SHARED" ] || { echo "no shared bench harness at $SHARED"; exit 2; }
if [ ! -x "$WORK/run_gateway_bench.sh" ]; then
  mkdir -p "$WORK" && cp -r "$SHARED"/. "$WORK"/ && chmod -R u+w "$WORK"
fi
PRESETS=${PRESETS:---preset portkey --preset litellm}
if [ "$PRESETS" = none ]; then
  PRESETS=""
  [ -f "$WORK/.setup-done" ] || [ -f "$WORK/.setup-core" ] || { (cd "$WORK" && SKIP_LITELLM=1 SKIP_PORTKEY=1 ./setup.sh) && touch "$WORK/.setup-core"; }
else
  [ -f "$WORK/.setup-done" ] || { (cd "$WORK" && ./setup.sh) && touch "$WORK/.setup-done"; }
fi
SEAWALL="$ROOT/.venv/bin/seawall"
WORKERS=${SEAWALL_WORKERS:-2}
# The minimal config from the README, pointed at the harness's mock upstream.
CMD="printf 'server: {access_log: false}\nproviders:\n  - name: sim-a\n    kind: openai\n    base_url: %s\n    api_key: \${SIM_KEY}\nmodels:\n  - name: gpt-4o-mini\n    targets:\n      - provider: sim-a\n        model: gpt-4o-mini\n' \"\$MOCK_URL\" > \"\$RUN_DIR/seawall.yaml\" && exec $SEAWALL serve --config \"\$RUN_DIR/seawall.yaml\" --port \"\$PORT\" --workers $WORKERS"
cd "$WORK"
exec ./run_gateway_bench.sh --gw seawall --port 18090 --cmd "$CMD" $PRESETS "$@"
