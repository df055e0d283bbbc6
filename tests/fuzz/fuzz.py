"""The schema-fuzzing tier, run by tests/fuzz/run.sh inside fresh network
and mount namespaces (it refuses to run anywhere else).

1. The world: loopback, two veth NICs (`ethm` 10.213.60.2/24 for
   management, `ethd` for data) and a loop-mounted ext4 image as the storage
   partition; all of it dies with the namespaces.
2. `vdi-appliance init --answer-file`: the first admin and the controller
   (node, NICs, storage roles 1-4, default flat switch, network, subnet,
   pool), so the fuzzed routes do real work.
3. `vdi-appliance serve` on the namespace's 127.0.0.1 with libvirt's test
   driver; the power commands are `true`, belt and braces for the excluded
   routes.
4. `/api/openapi.json` must pass openapi-spec-validator (OpenAPI 3.0).
5. schemathesis from that document, logged in as the admin, bounded by
   FUZZ_EXAMPLES per operation and FUZZ_MAX_TIME seconds, with checks
   not_a_server_error, status_code_conformance, content_type_conformance,
   response_schema_conformance and ours (tests/fuzz/hooks.py: envelope).
   A request without an answer within the timeout is a failure.
6. The service must still answer, must not have logged a panic, and must
   stop cleanly on SIGTERM (by its PID).

Figures (operations, requests, failures, wall-clock) are printed at the end.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WORK = Path(os.environ["FUZZ_WORK"])
BIN = os.environ["VDI_BIN"]
VENV_BIN = Path(sys.executable).parent
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "12"))
MAX_TIME = int(os.environ.get("FUZZ_MAX_TIME", "240"))
SEED = os.environ.get("FUZZ_SEED", "1")
WORKERS = os.environ.get("FUZZ_WORKERS", "2")
REQUEST_TIMEOUT = 30
PASSWORD = "fuzz-admin-pass1"

# Never fuzzed: powering this host off or rebooting it (node/shutdown,
# node/reboot, and a compute node's internal/power), setting the host's
# root password (system/ and setup/root_password run chpasswd on the real
# /etc/shadow: a mount namespace does not protect it), and logging out
# (it would revoke the fuzzer's own token and turn the rest into 401s).
EXCLUDED = [
    "node/shutdown",
    "node/reboot",
    "internal/power",
    "system/root_password",
    "setup/root_password",
    "auth/logout",
]


def log(msg):
    print(f"fuzz: {msg}", flush=True)


def sh(cmd):
    subprocess.run(["sh", "-c", cmd], check=True)


def inside_fresh_namespace():
    """True in a network namespace that has nothing but loopback (a new
    one, as `unshare --net` makes), so no request can leave it."""
    return [name for _, name in socket.if_nameindex()] == ["lo"]


def world():
    storage = WORK / "storage"
    storage.mkdir()
    img = WORK / "storage.img"
    sh(f"truncate -s 512M {img} && mkfs.ext4 -q -F {img}")
    sh(f"mount -o loop {img} {storage}")
    sh("ip link set lo up")
    sh("ip link add ethm type veth peer name ethm-peer")
    sh("ip link add ethd type veth peer name ethd-peer")
    for link in ["ethm", "ethm-peer", "ethd", "ethd-peer"]:
        sh(f"ip link set {link} up")
    sh("ip addr add 10.213.60.2/24 dev ethm")
    return storage


def init(data, storage):
    answers = WORK / "answers.toml"
    answers.write_text(
        f'admin_password = "{PASSWORD}"\nip = "10.213.60.2"\n'
        'manage_interface = "ethm"\nimage_interface = "ethm"\ndata_interface = "ethd"\n'
        'network_name = "default"\nswitch_name = "default"\nswitch_type = "flat"\n'
        f'is_compute = true\n[storages]\n"{storage}" = "1,2,3,4"\n'
    )
    out = subprocess.run(
        [BIN, "init", "--answer-file", str(answers), "--data-dir", str(data),
         "--libvirt-uri", "test:///default"],
        capture_output=True, text=True, timeout=120,
    )
    if out.returncode != 0:
        raise SystemExit(f"fuzz: init failed: {out.stdout}{out.stderr}")
    log(out.stdout.strip().splitlines()[-1])


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(port, method, path, token=None, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=REQUEST_TIMEOUT) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def wait_healthy(port, proc, limit=30):
    until = time.monotonic() + limit
    while time.monotonic() < until:
        if proc.poll() is not None:
            raise SystemExit(f"fuzz: the service exited with {proc.returncode} before answering")
        try:
            if http(port, "GET", "/api/v1/health")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise SystemExit(f"fuzz: the service did not answer within {limit} s")


def ok(port, path, token, body):
    st, text = http(port, "POST", path, token, body)
    v = json.loads(text)
    if st != 200 or v.get("code") != 0:
        raise SystemExit(f"fuzz: seeding {path} failed ({st}): {text!r}")
    return v["data"]


def seed(port, token):
    """A few records so listings and lookups have something to find."""
    ok(port, "/api/v1/group/create", token, {"name": "room-1", "group_type": 1,
                                              "start_ip": "10.213.60.100", "end_ip": "10.213.60.150"})
    users = ok(port, "/api/v1/group/create", token, {"name": "staff", "group_type": 2})
    ok(port, "/api/v1/group/user/create", token,
       {"group_uuid": users["uuid"], "user_name": "alice", "passwd": "alice-pass1"})


def validate(doc):
    from openapi_spec_validator import OpenAPIV30SpecValidator

    errors = list(OpenAPIV30SpecValidator(doc).iter_errors())
    for e in errors[:40]:
        where = "/".join(str(p) for p in e.absolute_path)
        print(f"  invalid at {where or '(top)'}: {e.message[:300]}", file=sys.stderr)
    if errors:
        # Fuzzed all the same (schemathesis copes with some of it): one run
        # shows every problem.
        return [f"/api/openapi.json is not valid OpenAPI 3.0: {len(errors)} errors"]
    ops = sum(len(v) for v in doc["paths"].values())
    log(f"/api/openapi.json is valid OpenAPI {doc['openapi']} ({ops} operations)")
    return []


def summarize(ndjson):
    """Operations, requests, failed checks and errors (requests without an
    answer, the server unreachable) from schemathesis's event stream."""
    ops, requests, failures, errors, selected = set(), set(), {}, [], None
    for line in ndjson.read_text().splitlines():
        ev = json.loads(line)
        ((kind, body),) = ev.items()
        if kind == "LoadingFinished":
            selected = body["statistic"]["operations"]["selected"]
        elif kind == "ScenarioFinished":
            rec = body.get("recorder", {})
            label = rec.get("label")
            if label:
                ops.add(label)
            requests.update(rec.get("interactions", {}).keys())
            for case_checks in rec.get("checks", {}).values():
                for c in case_checks:
                    if c.get("status") == "failure":
                        f = (c.get("failure_info") or {}).get("failure") or {}
                        key = (label, c.get("name"), f.get("title", ""))
                        failures[key] = f.get("message", "")
        elif kind == "NonFatalError":
            value = body.get("value") or {}
            errors.append((body.get("label"), f"{value.get('type', '')}: {value.get('message', '')}"))
    return ops, selected, len(requests), failures, errors


def fuzz(port, token):
    report = WORK / "report"
    cmd = [
        str(VENV_BIN / "st"), "--config-file", str(ROOT / "tests/fuzz/schemathesis.toml"),
        "run", f"http://127.0.0.1:{port}/api/openapi.json",
        "--checks", "not_a_server_error,status_code_conformance,content_type_conformance,"
        "response_schema_conformance,envelope",
        "--header", f"Authorization: Bearer {token}",
        "--phases", "examples,coverage,fuzzing",
        "--max-examples", str(EXAMPLES),
        "--max-time", str(MAX_TIME),
        "--seed", SEED,
        "--workers", WORKERS,
        "--request-timeout", str(REQUEST_TIMEOUT),
        "--generation-database", "none",
        "--continue-on-failure",
        "--suppress-health-check", "all",
        "--report", "ndjson,junit",
        "--report-dir", str(report),
        "--no-color",
    ]
    for op in EXCLUDED:
        cmd += ["--exclude-operation-id", op]
    env = dict(os.environ, SCHEMATHESIS_HOOKS=str(ROOT / "tests/fuzz/hooks.py"))
    t0 = time.monotonic()
    # A hard bound above the fuzzer's own (shrinking and the last requests
    # of a phase may run over --max-time): past it the run has failed.
    try:
        # From the work directory: schemathesis keeps a cache in its cwd.
        st = subprocess.run(cmd, env=env, cwd=WORK, timeout=MAX_TIME + 180).returncode
    except subprocess.TimeoutExpired:
        raise SystemExit(f"fuzz: schemathesis ran over {MAX_TIME + 180} s")
    took = time.monotonic() - t0
    ops, selected, requests, failures, errors = summarize(next(report.glob("*.ndjson")))
    return st, took, ops, selected, requests, failures, errors


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        rc = proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return "did not stop within 60 s of SIGTERM (killed)"
    return None if rc == 0 else f"exited with {rc} after SIGTERM"


def main():
    if not inside_fresh_namespace():
        raise SystemExit("fuzz: run me through tests/fuzz/run.sh (inside fresh namespaces)")
    t_start = time.monotonic()
    storage = world()
    data = WORK / "data"
    init(data, storage)
    port = free_port()
    service_log = WORK / "service.log"
    proc = subprocess.Popen(
        [BIN, "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", str(data),
         "--libvirt-uri", "test:///default", "--log-level", "info",
         "--shutdown-command", "true", "--reboot-command", "true",
         "--node-ssh-timeout-s", "3"],
        stdout=subprocess.DEVNULL, stderr=service_log.open("w"),
    )
    problems = []
    try:
        wait_healthy(port, proc)
        st, text = http(port, "GET", "/api/openapi.json")
        if st != 200:
            raise SystemExit(f"fuzz: GET /api/openapi.json answered {st}")
        problems += validate(json.loads(text))
        st, text = http(port, "POST", "/api/v1/login", body={"name": "admin", "password": PASSWORD})
        token = json.loads(text)["data"]["access_token"]
        seed(port, token)
        rc, took, ops, selected, requests, failures, errors = fuzz(port, token)
        if len(ops) != selected:
            problems.append(f"{len(ops)} of the {selected} selected operations were fuzzed")
        if proc.poll() is not None:
            problems.append(f"the service died during the run (exit {proc.returncode})")
        elif http(port, "GET", "/api/v1/health")[0] != 200:
            problems.append("the service no longer answers /api/v1/health")
    finally:
        if proc.poll() is None:
            why = stop(proc)
            if why:
                problems.append(f"the service {why}")
        subprocess.run(["umount", str(storage)], check=False)
    panics = [l for l in service_log.read_text(errors="replace").splitlines() if "panicked" in l]
    log(f"figures: {len(ops)} operations of {selected} selected, {requests} requests, "
        f"{len(failures)} failed checks (distinct), {len(errors)} errors (unanswered requests "
        f"and other network errors), fuzzer {took:.0f} s, tier {time.monotonic() - t_start:.0f} s")
    for (label, name, title), message in sorted(failures.items()):
        log(f"FAILED {name}: {label}: {title} {message[:300]}")
    for label, message in errors:
        log(f"ERROR {label}: {message[:300]}")
    for p in panics[:20]:
        log(f"PANIC in the service log: {p}")
    problems += [f"{len(failures)} failed checks"] if failures else []
    problems += [f"{len(errors)} unanswered requests or errors"] if errors else []
    problems += [f"{len(panics)} panics in the service log"] if panics else []
    if rc != 0 and not problems:
        problems.append(f"schemathesis exited with {rc}")
    if problems:
        raise SystemExit("fuzz: FAILED: " + "; ".join(problems) + f" (reports in {WORK})")
    log("passed: 0 server errors, 0 unanswered requests, 0 non-envelope replies, "
        "every response matching its declared schema")


if __name__ == "__main__":
    main()
