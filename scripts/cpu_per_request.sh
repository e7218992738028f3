#!/bin/bash
# CPU per request of one gateway process under wrk load (robust on a noisy machine, where
# RPS and latency are not): user and system milliseconds from /proc/PID/stat, divided by
# the requests wrk completed.
#   scripts/cpu_per_request.sh PID PORT [connections] [seconds]
# BENCH_BODY_FILE=/path/body.json selects another request body (e.g. "stream": true).
PID=$1; PORT=$2; C=${3:-32}; D=${4:-6}
LUA=${BENCH_LUA:-/work/benchrun/wrk/chat.lua}
ticks() { read -a f < /proc/$PID/stat; echo "${f[13]} ${f[14]}"; }
HZ=$(getconf CLK_TCK)
read ua sa <<< "$(ticks)"
out=$(wrk -t2 -c$C -d${D}s --latency -s $LUA http://127.0.0.1:$PORT/v1/chat/completions 2>&1)
read ub sb <<< "$(ticks)"
req=$(echo "$out" | awk '/requests in/{print $1}')
rps=$(echo "$out" | awk '/Requests\/sec/{print $2}')
p50=$(echo "$out" | awk '$1=="50%"{print $2}')
python3 - "$ua" "$ub" "$sa" "$sb" "$req" "$HZ" "$rps" "$p50" <<'PY'
import sys
ua, ub, sa, sb, req, hz = (float(x) for x in sys.argv[1:7])
print(f"rps={sys.argv[7]} p50={sys.argv[8]} user_ms/req={(ub-ua)*1000/hz/req:.3f} "
      f"sys_ms/req={(sb-sa)*1000/hz/req:.3f} load={open('/proc/loadavg').read().split()[0]}")
PY
echo "$out" | grep -i "non-2xx" || true
