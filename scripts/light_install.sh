#!/usr/bin/env bash
# From a fresh clone to a gateway answering its first request, with the light install
# (`pip install .`, no extras), timed; then the venv's size. README "A light install" and
# docs/benchmarks.md quote it. Usage: scripts/light_install.sh [REPO] [--no-cache]
# (--no-cache: pip downloads every wheel, as on a new machine). Needs git, python3.11, curl.
set -euo pipefail
REPO=${1:-$(cd "$(dirname "$0")/.." && pwd)}
NOCACHE=${2:-}
WORK=$(mktemp -d /tmp/seawall-light-XXXX)
SIM_PORT=${SIM_PORT:-19101} GW_PORT=${GW_PORT:-18080}
cleanup() { kill "${SIM_PID:-}" "${GW_PID:-}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
now() { date +%s.%N; }
t0=$(now)
git clone -q "$REPO" "$WORK/seawall"
cd "$WORK/seawall"
python3.11 -m venv .venv
t_venv=$(now)
.venv/bin/pip install -q ${NOCACHE:+--no-cache-dir} . 2>&1 | grep -v '^WARNING: Location' || true
t_pip=$(now)
# the README's Serving block, on free ports
python3.11 -c "import re; t = open('README.md').read(); print(re.search(r'^\`\`\`yaml\n(.*?)^\`\`\`', t, re.M | re.S).group(1).replace('127.0.0.1:9101', '127.0.0.1:$SIM_PORT'), end='')" > seawall.yaml
.venv/bin/seawall simulate --port "$SIM_PORT" >sim.log 2>&1 & SIM_PID=$!
.venv/bin/seawall serve --config seawall.yaml --port "$GW_PORT" >gw.log 2>&1 & GW_PID=$!
until curl -sf -o /dev/null "localhost:$GW_PORT/v1/chat/completions" \
    -d '{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}'; do
  kill -0 "$GW_PID" || { cat gw.log; exit 1; }
  sleep 0.1
done
t_first=$(now)
printf 'clone + venv: %.1f s\npip install .: %.1f s\nstart to first answer: %.1f s\ntotal (fresh clone to first answer): %.1f s\n' \
  "$(echo "$t_venv - $t0" | bc)" "$(echo "$t_pip - $t_venv" | bc)" "$(echo "$t_first - $t_pip" | bc)" "$(echo "$t_first - $t0" | bc)"
echo "venv size: $(du -sh .venv | cut -f1)"
echo "start-up log:"; cat gw.log | head -12
