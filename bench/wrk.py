"""The compiled HTTP load generator: wrk (Debian's package), driven by a generated Lua script.

A Python generator burns as much CPU per request as the server it measures on a 2-core machine;
wrk does not. The Lua script gives every request a unique Idempotency-Key, picks the user (its
JWT and one of its accounts) and a destination at random, and tallies the answers by status (and,
for batches, the items created). `ensure_installed` installs wrk with apt-get when it is missing.
"""

from __future__ import annotations

import json
import resource
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from .load import Outcome

LUA = r"""
local users = __USERS__
local destinations = __DESTINATIONS__
local mode = "__MODE__"
local path = "__PATH__"
local currency = "__CURRENCY__"
local batch_size = __BATCH__
local counter = 0
local prefix = ""
statuses = {}
created = 0
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end

function init(args)
  prefix = (args[1] or "run") .. "-" .. tostring(id) .. "-"
  math.randomseed(id * 7919 + os.time())
end

local function item(u)
  local source = u.accounts[math.random(#u.accounts)]
  local destination = destinations[math.random(#destinations)]
  while destination == source do
    destination = destinations[math.random(#destinations)]
  end
  return '{"source":"' .. source .. '","destination":"' .. destination ..
         '","amount":"0.01","currency":"' .. currency .. '"}'
end

function request()
  counter = counter + 1
  local u = users[math.random(#users)]
  local body
  if mode == "batch" then
    local items = {}
    for i = 1, batch_size do items[i] = item(u) end
    body = '{"transfers":[' .. table.concat(items, ",") .. ']}'
  else
    body = item(u)
  end
  local headers = {
    ["Authorization"] = "Bearer " .. u.token,
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = prefix .. counter,
  }
  return wrk.format("POST", path, headers, body)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if mode == "batch" and status == 200 then
    local _, n = string.gsub(body, '"status":"created"', "")
    created = created + n
  elseif status == 201 then
    created = created + 1
  end
end

function done(summary, latency, requests)
  local all, made = {}, 0
  for _, thread in ipairs(threads) do
    made = made + thread:get("created")
    for status, n in pairs(thread:get("statuses")) do
      all[tostring(status)] = (all[tostring(status)] or 0) + n
    end
  end
  local parts = {}
  for status, n in pairs(all) do table.insert(parts, '"' .. status .. '":' .. n) end
  io.write(string.format(
    'WRK-RESULT {"elapsed_us":%d,"requests":%d,"created":%d,"p50_us":%d,"p95_us":%d,"p99_us":%d,' ..
    '"socket_errors":%d,"statuses":{%s}}\n',
    summary.duration, summary.requests, made, latency:percentile(50), latency:percentile(95),
    latency:percentile(99),
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    table.concat(parts, ",")))
end
"""


def ensure_installed() -> str:
    """The path of wrk, installed from Debian's packages with apt-get if missing."""
    found = shutil.which("wrk")
    if found:
        return found
    print("  wrk not found: installing Debian's package (apt-get install -y wrk)")
    apt = ["apt-get"] if shutil.which("sudo") is None else ["sudo", "apt-get"]
    subprocess.run([*apt, "install", "-y", "-q", "wrk"], check=False, capture_output=True)
    found = shutil.which("wrk")
    if not found:
        subprocess.run([*apt, "update", "-q"], check=False, capture_output=True)
        subprocess.run([*apt, "install", "-y", "-q", "wrk"], check=True, capture_output=True)
        found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk could not be installed")
    return found


def _lua_list(values: list) -> str:
    return "{" + ",".join(_lua(v) for v in values) + "}"


def _lua(value: object) -> str:
    if isinstance(value, dict):
        return "{" + ",".join(f"{k}={_lua(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return _lua_list(value)
    return json.dumps(value)


@dataclass
class Script:
    """A generated wrk script: who sends (users with a token and their source accounts), where to."""

    path: Path

    @classmethod
    def write(
        cls,
        path: Path,
        *,
        users: list[dict],
        destinations: list[str],
        mode: str,
        url_path: str,
        currency: str,
        batch: int = 100,
    ) -> Script:
        text = (
            LUA.replace("__USERS__", _lua_list(users))
            .replace("__DESTINATIONS__", _lua_list(destinations))
            .replace("__MODE__", mode)
            .replace("__PATH__", url_path)
            .replace("__CURRENCY__", currency)
            .replace("__BATCH__", str(batch))
        )
        path.write_text(text)
        return cls(path)


@dataclass
class WrkOutcome(Outcome):
    """What wrk measured; latencies are only its percentiles, and `cpu_seconds` is wrk's own CPU."""

    requests: int = 0
    created_items: int = 0
    p50: float = 0.0
    p95: float = 0.0
    p99: float = 0.0
    cpu_seconds: float = 0.0

    @property
    def created(self) -> int:
        return self.created_items


def run(
    base_url: str, script: Script, *, connections: int, duration: float, threads: int = 2, run_id: str = ""
) -> WrkOutcome:
    """Run wrk for `duration` seconds with `connections` open connections (a closed loop)."""
    binary = ensure_installed()
    threads = max(1, min(threads, connections))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run(
        [
            binary,
            "-t",
            str(threads),
            "-c",
            str(connections),
            "-d",
            f"{max(1, round(duration))}s",
            "--timeout",
            "30s",
            "-s",
            str(script.path),
            base_url,
            "--",
            run_id or f"r{time.time_ns()}",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    line = next((ln for ln in result.stdout.splitlines() if ln.startswith("WRK-RESULT ")), None)
    if line is None:
        raise SystemExit(f"wrk failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    data = json.loads(line.removeprefix("WRK-RESULT "))
    if not data["requests"]:
        print(f"  wrk completed no request:\n{result.stdout}\n{result.stderr}")
    outcome = WrkOutcome(elapsed=data["elapsed_us"] / 1e6 or time.perf_counter() - started)
    for status, count in data["statuses"].items():
        outcome.statuses[int(status)] += count
        if int(status) >= 400:
            outcome.problems[f"{status}"] += count
    if data["socket_errors"]:
        outcome.statuses["socket_errors"] += data["socket_errors"]
    outcome.requests = data["requests"]
    outcome.created_items = data["created"]
    outcome.p50, outcome.p95, outcome.p99 = (data[k] / 1e6 for k in ("p50_us", "p95_us", "p99_us"))
    outcome.cpu_seconds = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return outcome
