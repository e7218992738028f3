"""The atomic state scripts behind rate limits and budgets, in Lua (Redis) and Python (memory).

Rate windows are sliding 60-second windows of one-second buckets kept in a hash per limit:
the count in the last 60 buckets is exact to the second and the same on every instance,
because the script reads the clock of the store (Redis TIME). Budgets are one integer per
budget and period, in micro-dollars, holding settled spend plus open reservations.

ADMIT  KEYS: n limit keys, then m budget keys
       ARGV: n, m, (limit, cost) * n, (amount_micro or -1 for soft, estimate_micro, ttl_s) * m
       -> {ok, failed index or -1, retry_after_ms, bucket second,
           (remaining, reset_ms) * n, used_micro * m}
       All or nothing: nothing is counted unless every limit and hard budget admits.
SETTLE KEYS: n limit keys, then m budget keys;  ARGV: n, m, bucket second, delta * n, delta * m
"""
from __future__ import annotations

import math
import time

from ..store.state import MemoryState, Script

WINDOW = 60

ADMIT_LUA = r"""
local n = tonumber(ARGV[1]); local m = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]); local frac = tonumber(t[2]) / 1000000
local oldest_ok = now - 59
local out = {1, -1, 0, now}
local costs = {}
for i = 1, n do
  local key = KEYS[i]
  local limit = tonumber(ARGV[1 + 2 * i]); local cost = tonumber(ARGV[2 + 2 * i])
  costs[i] = cost
  local h = redis.call('HGETALL', key)
  local sum = 0; local buckets = {}; local oldest = now
  for j = 1, #h, 2 do
    local s = tonumber(h[j]); local c = tonumber(h[j + 1])
    if s < oldest_ok then redis.call('HDEL', key, h[j])
    else
      sum = sum + c; buckets[#buckets + 1] = {s, c}
      if s < oldest then oldest = s end
    end
  end
  local remaining = limit - sum
  if sum + cost > limit then
    if out[1] == 1 then
      out[1] = 0; out[2] = i - 1
      table.sort(buckets, function(a, b) return a[1] < b[1] end)
      local need = sum + cost - limit; local freed = 0; local retry = 60
      for _, b in ipairs(buckets) do
        freed = freed + b[2]
        if freed >= need then retry = b[1] + 60 - now - frac; break end
      end
      out[3] = math.ceil(retry * 1000)
    end
  else
    remaining = remaining - cost
  end
  out[#out + 1] = remaining
  out[#out + 1] = math.ceil((oldest + 60 - now - frac) * 1000)
end
local used = {}
for j = 1, m do
  local key = KEYS[n + j]
  local amount = tonumber(ARGV[2 + 2 * n + 3 * j - 2]); local est = tonumber(ARGV[2 + 2 * n + 3 * j - 1])
  local u = tonumber(redis.call('GET', key) or '0')
  used[j] = u
  if amount >= 0 and u + est > amount and out[1] == 1 then
    out[1] = 0; out[2] = n + j - 1; out[3] = -1
  end
end
if out[1] == 1 then
  for i = 1, n do
    if costs[i] > 0 then
      redis.call('HINCRBY', KEYS[i], tostring(now), costs[i])
      redis.call('EXPIRE', KEYS[i], 61)
    end
  end
  for j = 1, m do
    local key = KEYS[n + j]
    local est = tonumber(ARGV[2 + 2 * n + 3 * j - 1]); local ttl = tonumber(ARGV[2 + 2 * n + 3 * j])
    used[j] = redis.call('INCRBY', key, est)
    if ttl > 0 and redis.call('TTL', key) < 0 then redis.call('EXPIRE', key, ttl) end
  end
end
for j = 1, m do out[#out + 1] = used[j] end
return out
"""


def _admit_local(st: MemoryState, keys: list[str], args: list) -> list:
    n, m = int(args[0]), int(args[1])
    t = time.time()
    now = int(t)
    frac = t - now
    oldest_ok = now - (WINDOW - 1)
    out = [1, -1, 0, now]
    costs = []
    for i in range(n):
        key = keys[i]
        limit, cost = int(args[2 + 2 * i]), int(args[3 + 2 * i])
        costs.append(cost)
        h = st.live(key)
        if h is None:
            h = {}
        buckets = sorted((s, c) for s, c in h.items() if s >= oldest_ok)
        if len(buckets) != len(h):
            h = dict(buckets)
            st.data[key] = h
        total = sum(c for _, c in buckets)
        oldest = buckets[0][0] if buckets else now
        remaining = limit - total
        if total + cost > limit:
            if out[0] == 1:
                out[0], out[1] = 0, i
                need, freed, retry = total + cost - limit, 0, 60.0
                for s, c in buckets:
                    freed += c
                    if freed >= need:
                        retry = s + WINDOW - now - frac
                        break
                out[2] = math.ceil(retry * 1000)
        else:
            remaining -= cost
        out += [remaining, math.ceil((oldest + WINDOW - now - frac) * 1000)]
    base = 2 + 2 * n
    used = []
    for j in range(m):
        amount, est = int(args[base + 3 * j]), int(args[base + 3 * j + 1])
        u = int(st.live(keys[n + j]) or 0)
        used.append(u)
        if amount >= 0 and u + est > amount and out[0] == 1:
            out[0], out[1], out[2] = 0, n + j, -1
    if out[0] == 1:
        for i in range(n):
            if costs[i] > 0:
                key = keys[i]
                h = st.live(key)
                if h is None:
                    h = st.data[key] = {}
                h[now] = h.get(now, 0) + costs[i]
                st.expire(key, WINDOW + 1)
        for j in range(m):
            est, ttl = int(args[base + 3 * j + 1]), int(args[base + 3 * j + 2])
            used[j] = st.incr_now(keys[n + j], est, ttl or None)
    return out + used


SETTLE_LUA = r"""
local n = tonumber(ARGV[1]); local m = tonumber(ARGV[2]); local bucket = ARGV[3]
for i = 1, n do
  local d = tonumber(ARGV[3 + i])
  if d ~= 0 and redis.call('HEXISTS', KEYS[i], bucket) == 1 then redis.call('HINCRBY', KEYS[i], bucket, d) end
end
for j = 1, m do
  local d = tonumber(ARGV[3 + n + j])
  if d ~= 0 and redis.call('EXISTS', KEYS[n + j]) == 1 then redis.call('INCRBY', KEYS[n + j], d) end
end
return 1
"""


def _settle_local(st: MemoryState, keys: list[str], args: list) -> int:
    n, m, bucket = int(args[0]), int(args[1]), int(args[2])
    for i in range(n):
        d = int(args[3 + i])
        h = st.live(keys[i])
        if d and h is not None and bucket in h:
            h[bucket] += d
    for j in range(m):
        d = int(args[3 + n + j])
        if d and st.live(keys[n + j]) is not None:
            st.data[keys[n + j]] = int(st.data[keys[n + j]]) + d
    return 1


ADMIT = Script("admit", ADMIT_LUA, _admit_local)
SETTLE = Script("settle", SETTLE_LUA, _settle_local)
