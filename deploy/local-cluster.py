#!/usr/bin/env python3
"""A multi-host Carbon Butler cluster without Kubernetes, from the configuration the Helm chart
renders: the hosts are Linux network namespaces joined by veth pairs to a bridge.

    deploy/local-cluster.py test --bin target/release [--helm PATH]

renders helm/carbon-butler with deploy/local-values.yaml (plus freshly made tokens), takes the
cbutler ConfigMap, the server's and each worker Deployment's environment, the tokens Secret and
the generated signing-key Secret from the rendered manifests, and starts

    cb-redis  10.231.0.2   redis-server
    cb-serve  10.231.0.3   cbutler serve (API :8080, metrics :9090)
    cb-w1     10.231.0.4   cbutler worker, one per rendered worker Deployment (5 agent kinds)
    cb-w2     10.231.0.5   the same

with only the Redis host and the listen addresses translated to the namespaces' addresses. Then
it asks one question per agent kind, cuts host cb-w1 off (its link down) in the middle of a
task, checks that cb-w2 answers it, brings cb-w1 back, checks that its late result is not
recorded twice and that it serves again, and verifies every run's decision log against the
public key of the rendered signing key. Everything is torn down at the end, pass or fail.
Needs root (ip netns), redis-server and PyYAML.
"""

import argparse
import base64
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NET = "10.231.0"
BRIDGE = "cbbr0"
HOSTS = {"cb-redis": 2, "cb-serve": 3, "cb-w1": 4, "cb-w2": 5}
KINDS = ["trade", "lca", "sinks", "factory", "uncertainty"]
QUESTIONS = {
    "trade": "How do China's consumption-based CO2 emissions in 2022 compare with its territorial emissions?",
    "lca": "What is the carbon footprint of 1 m3 of diesel in USLCI?",
    "sinks": "How much CO2 do 10,000 ha of tropical rainforest in Africa with a root-to-shoot ratio of 0.37 remove per year?",
    "factory": "How can an EAF steel plant in Germany cut emissions at least cost with a carbon price of 80 EUR/t?",
    "uncertainty": "What uncertainty do pedigree scores (2,3,1,4,5) imply?",
}


def log(msg):
    print(f"[local-cluster] {msg}", flush=True)


def sh(*args, check=True, **kw):
    return subprocess.run(list(args), check=check, **kw)


def ip_of(host):
    return f"{NET}.{HOSTS[host]}"


class Cluster:
    def __init__(self, binaries, helm):
        self.cbutler = os.path.join(binaries, "cbutler")
        self.helm = helm
        self.dir = tempfile.mkdtemp(prefix="cb-local-cluster-")
        self.procs = {}

    # ---- the chart's configuration ------------------------------------------------------
    def render(self):
        def token(name, role):
            out = sh(self.cbutler, "token", "new", "--name", name, "--role", role, capture_output=True, text=True).stdout
            secret = re.search(r"^# (cb_\S+)$", out, re.M).group(1)
            digest = re.search(r'^sha256 = "([0-9a-f]{64})"$', out, re.M).group(1)
            return secret, {"name": name, "role": role, "sha256": digest}

        self.analyst, a = token("local-analyst", "analyst")
        self.operator, o = token("local-operator", "operator")
        self.auditor, u = token("local-auditor", "auditor")
        override = os.path.join(self.dir, "tokens-values.yaml")
        with open(override, "w") as f:
            yaml.safe_dump({"auth": {"tokens": [a, o, u]}}, f)
        rendered = sh(
            self.helm, "template", "local", os.path.join(ROOT, "helm/carbon-butler"),
            "-f", os.path.join(ROOT, "deploy/local-values.yaml"), "-f", override,
            capture_output=True, text=True,
        ).stdout
        docs = [d for d in yaml.safe_load_all(rendered) if d]
        by = lambda kind, suffix: next(d for d in docs if d["kind"] == kind and d["metadata"]["name"].endswith(suffix))
        self.config = dict(by("ConfigMap", "-config")["data"])
        self.prefix = self.config["CBUTLER_PREFIX"]
        with open(os.path.join(self.dir, "tokens.toml"), "w") as f:
            f.write(by("Secret", "-tokens")["stringData"]["tokens.toml"])
        with open(os.path.join(self.dir, "audit-ed25519.key"), "wb") as f:
            f.write(base64.b64decode(by("Secret", "-audit-key")["data"]["audit-ed25519.key"]))
        os.chmod(os.path.join(self.dir, "audit-ed25519.key"), 0o600)
        # The bundled Redis's generated password, as the chart's Secret holds it.
        self.redis_password = base64.b64decode(by("Secret", "-redis-auth")["data"]["password"]).decode()

        def literal_env(deployment):
            c = deployment["spec"]["template"]["spec"]["containers"][0]
            return c["args"], {e["name"]: e["value"] for e in c.get("env", []) if "value" in e}

        self.server_args, self.server_env = literal_env(by("Deployment", "-server"))
        self.workers = {}
        for kind in KINDS:
            self.workers[kind] = literal_env(by("Deployment", f"-worker-{kind}"))
        log(f"rendered the chart: prefix {self.prefix}, claim after {self.config['CBUTLER_CLAIM_AFTER']} s, "
            f"{len(self.workers)} worker kinds")

    def env_for(self, base, home, **overrides):
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        env.update(self.config)
        env.update(base)
        # Translated to the namespaces: where Redis is, where to listen, where files are.
        env["CBUTLER_REDIS_URL"] = f"redis://:{self.redis_password}@{ip_of('cb-redis')}:6379"
        env["CBUTLER_HOME"] = home
        env.pop("OTEL_RESOURCE_ATTRIBUTES", None)
        env.update(overrides)
        return env

    # ---- hosts --------------------------------------------------------------------------
    def down_network(self):
        for host in HOSTS:
            sh("ip", "netns", "del", host, check=False, stderr=subprocess.DEVNULL)
        sh("ip", "link", "del", BRIDGE, check=False, stderr=subprocess.DEVNULL)

    def up_network(self):
        self.down_network()
        sh("ip", "link", "add", BRIDGE, "type", "bridge")
        sh("ip", "addr", "add", f"{NET}.1/24", "dev", BRIDGE)
        sh("ip", "link", "set", BRIDGE, "up")
        for host in HOSTS:
            outside = f"vh-{host[3:]}"
            sh("ip", "netns", "add", host)
            sh("ip", "link", "add", outside, "type", "veth", "peer", "name", "eth0", "netns", host)
            sh("ip", "link", "set", outside, "master", BRIDGE)
            sh("ip", "link", "set", outside, "up")
            sh("ip", "-n", host, "addr", "add", f"{ip_of(host)}/24", "dev", "eth0")
            sh("ip", "-n", host, "link", "set", "eth0", "up")
            sh("ip", "-n", host, "link", "set", "lo", "up")
        log("hosts up: " + ", ".join(f"{h} {ip_of(h)}" for h in HOSTS))

    def link(self, host, state):
        sh("ip", "link", "set", f"vh-{host[3:]}", state)

    def start(self, name, host, argv, env):
        out = open(os.path.join(self.dir, f"{name}.log"), "w")
        p = subprocess.Popen(["ip", "netns", "exec", host, "env", "-i"] + [f"{k}={v}" for k, v in env.items()] + argv,
                             stdout=out, stderr=subprocess.STDOUT)
        self.procs[name] = p
        return p

    def stop(self, name):
        p = self.procs.pop(name, None)
        if p and p.poll() is None:
            p.kill()
            p.wait()

    def start_worker(self, host, kind, extra=None):
        args, env = self.workers[kind]
        slot = 9090 + KINDS.index(kind)
        env = self.env_for(env, os.path.join(self.dir, f"home-{host}-{kind}"),
                           CBUTLER_NAME=f"{host}-{kind}",
                           CBUTLER_HEALTH_LISTEN=f"{ip_of(host)}:{slot}", **(extra or {}))
        return self.start(f"{host}-{kind}", host, [self.cbutler] + args, env)

    def up(self):
        self.up_network()
        self.start("redis", "cb-redis", ["redis-server", "--bind", ip_of("cb-redis"), "--port", "6379", "--save", "",
                                         "--appendonly", "no", "--protected-mode", "no",
                                         "--requirepass", self.redis_password], {"PATH": os.environ["PATH"]})
        env = self.env_for(self.server_env, os.path.join(self.dir, "home-serve"),
                           CBUTLER_LISTEN=f"{ip_of('cb-serve')}:8080",
                           CBUTLER_METRICS_LISTEN=f"{ip_of('cb-serve')}:9090",
                           CBUTLER_AUTH_FILE=os.path.join(self.dir, "tokens.toml"),
                           CBUTLER_AUDIT_KEY_FILE=os.path.join(self.dir, "audit-ed25519.key"))
        self.start("serve", "cb-serve", [self.cbutler] + self.server_args, env)
        for host in ("cb-w1", "cb-w2"):
            for kind in KINDS:
                # cb-w1's trade tasks take 4 s longer: long enough to cut the host off mid-task.
                extra = {"CBUTLER_FAULT_TASK_DELAY_MS": "4000"} if (host, kind) == ("cb-w1", "trade") else None
                self.start_worker(host, kind, extra)
        self.wait_http(ip_of("cb-serve"), 8080, "/health", 60)
        for host in ("cb-w1", "cb-w2"):
            for i, kind in enumerate(KINDS):
                self.wait_http(ip_of(host), 9090 + i, "/health", 60)
        log("serve and 10 workers are up and healthy")

    def down(self):
        for name in list(self.procs):
            self.stop(name)
        self.down_network()

    # ---- HTTP ---------------------------------------------------------------------------
    def request(self, method, path, token=None, body=None, host=None, port=8080, timeout=30):
        c = http.client.HTTPConnection(host or ip_of("cb-serve"), port, timeout=timeout)
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        c.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
        r = c.getresponse()
        data = r.read().decode()
        c.close()
        return r.status, data

    def wait_http(self, host, port, path, within, expect=200):
        deadline = time.time() + within
        last = None
        while time.time() < deadline:
            try:
                status, body = self.request("GET", path, host=host, port=port, timeout=3)
                if status == expect:
                    return body
                last = f"HTTP {status} {body[:200]}"
            except OSError as e:
                last = str(e)
            time.sleep(0.3)
        raise AssertionError(f"http://{host}:{port}{path} did not answer {expect} within {within} s: {last}")

    def ask(self, question):
        status, body = self.request("POST", "/v1/questions", self.analyst, {"question": question})
        assert status == 202, f"{status} {body}"
        return json.loads(body)["run_id"]

    def events(self, run, within=120):
        """The run's events, read from its SSE stream until the answer (or failure)."""
        c = http.client.HTTPConnection(ip_of("cb-serve"), 8080, timeout=within)
        c.request("GET", f"/v1/runs/{run}/events", headers={"Authorization": f"Bearer {self.analyst}"})
        r = c.getresponse()
        assert r.status == 200, r.status
        out = []
        for raw in r:
            line = raw.decode().rstrip("\n")
            if line.startswith("data:"):
                e = json.loads(line[5:])
                out.append(e)
                if e["type"] in ("answer", "failed"):
                    break
        c.close()
        return out

    def run_state(self, run):
        status, body = self.request("GET", f"/v1/runs/{run}", self.analyst)
        assert status == 200, body
        return json.loads(body)

    def finished_by(self, run):
        events = self.events(run)
        assert events[-1]["type"] == "answer", events[-1]
        state = self.run_state(run)
        assert state["status"] == "done" and state["answer"]["table"], state
        return [(e["worker"], e["attempt"]) for e in events if e["type"] == "task_finished"]

    def drain(self, host, kind):
        status, body = self.request("POST", f"/v1/workers/{host}-{kind}/drain", self.operator)
        assert status == 202, f"{status} {body}"
        p = self.procs.pop(f"{host}-{kind}")
        p.wait(timeout=30)

    def redis_cli(self, *args):
        return sh("redis-cli", "-h", ip_of("cb-redis"), "--no-auth-warning", "-a", self.redis_password, *args,
                  capture_output=True, text=True).stdout

    # ---- the test -----------------------------------------------------------------------
    def test(self):
        runs = []
        for kind in KINDS:
            run = self.ask(QUESTIONS[kind])
            who = self.finished_by(run)
            assert who and all(w.startswith(("cb-w1-", "cb-w2-")) for w, _ in who), who
            log(f"{kind}: answered by {who}")
            runs.append(run)

        # Only cb-w1 serves trade now; cut it off in the middle of a task.
        self.drain("cb-w2", "trade")
        run = self.ask(QUESTIONS["trade"])
        deadline = time.time() + 30
        uid = None
        while time.time() < deadline and not uid:
            for key in self.redis_cli("--scan", "--pattern", f"{self.prefix}:owner:{run}/*").split():
                if self.redis_cli("GET", key).strip().startswith("cb-w1-trade"):
                    uid = key.split(":owner:", 1)[1]
            time.sleep(0.2)
        assert uid, "cb-w1 never took the trade task"
        self.link("cb-w1", "down")
        log(f"cb-w1 cut off while running {uid}")
        self.start_worker("cb-w2", "trade")
        who = self.finished_by(run)
        assert who == [("cb-w2-trade-trade-0", 2)], f"the task should move to cb-w2 on attempt 2: {who}"
        log(f"cb-w2 took the task over: {who}")
        runs.append(run)

        # cb-w1 comes back: it reconnects, its late result is not recorded again, and it serves.
        self.link("cb-w1", "up")
        self.wait_http(ip_of("cb-w1"), 9090, "/health", 30)
        time.sleep(6)
        done = self.redis_cli("XRANGE", f"{self.prefix}:done", "-", "+").split()
        assert done.count(uid) == 1, f"{uid} announced {done.count(uid)} times"
        result = json.loads(self.redis_cli("GET", f"{self.prefix}:result:{uid}"))
        assert result["worker"] == "cb-w2-trade-trade-0", result["worker"]
        self.drain("cb-w2", "trade")
        run = self.ask(QUESTIONS["trade"])
        who = self.finished_by(run)
        assert who == [("cb-w1-trade-trade-0", 1)], f"the reconnected host should answer: {who}"
        log(f"cb-w1 is back and answered: {who}")
        runs.append(run)

        # Every run's log verifies against the public key of the chart's signing key.
        env = dict(os.environ, CBUTLER_AUDIT_KEY_FILE=os.path.join(self.dir, "audit-ed25519.key"))
        public = sh(self.cbutler, "audit", "public-key", capture_output=True, text=True, env=env).stdout.strip().split()[-1]
        key_file = os.path.join(self.dir, "public.key")
        with open(key_file, "w") as f:
            f.write(public)
        for run in runs:
            out = sh(self.cbutler, "audit", "verify", run, "--redis",
                     f"redis://:{self.redis_password}@{ip_of('cb-redis')}:6379",
                     "--prefix", self.prefix, "--public-key", key_file, capture_output=True, text=True, check=False)
            assert out.returncode == 0 and "intact" in out.stdout, f"{run}: {out.stdout}{out.stderr}"
        log(f"{len(runs)} decision logs verify against the chart's key {public[:16]}…")
        out = sh(self.cbutler, "audit", "verify-index", "--redis",
                 f"redis://:{self.redis_password}@{ip_of('cb-redis')}:6379", "--prefix", self.prefix,
                 "--public-key", key_file, capture_output=True, text=True, check=False)
        assert out.returncode == 0 and "index intact" in out.stdout, f"{out.stdout}{out.stderr}"
        log("the index of runs verifies, and names every run's log")

        # What Prometheus scrapes: the server's metrics port (no token) and each worker's.
        metrics = self.wait_http(ip_of("cb-serve"), 9090, "/metrics", 10)
        assert 'cbutler_runs_finished_total{status="done"}' in metrics, metrics[:500]
        worker = self.wait_http(ip_of("cb-w1"), 9090, "/metrics", 10)
        assert 'cbutler_worker_tasks_total{agent="trade",outcome="completed"}' in worker, worker[:500]
        status, _ = self.request("GET", "/metrics")
        assert status == 401, f"/metrics on the API port answered {status} without a token"
        log("metrics: the server's and the workers' scrape ports answer; the API's /metrics wants a token")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("command", choices=["test"])
    p.add_argument("--bin", required=True, help="folder with the cbutler binary")
    p.add_argument("--helm", default=shutil.which("helm") or "helm")
    a = p.parse_args()
    if os.geteuid() != 0:
        sys.exit("local-cluster.py needs root: it makes network namespaces (ip netns)")
    cluster = Cluster(os.path.abspath(a.bin), a.helm)
    ok = False
    try:
        cluster.render()
        cluster.up()
        cluster.test()
        ok = True
        log("all ok")
    finally:
        cluster.down()
        if ok:
            shutil.rmtree(cluster.dir, ignore_errors=True)
        else:
            log(f"logs kept in {cluster.dir}")
            for name in sorted(os.listdir(cluster.dir)):
                if name.endswith(".log"):
                    with open(os.path.join(cluster.dir, name)) as f:
                        tail = f.read()[-1500:]
                    print(f"--- {name}\n{tail}")


if __name__ == "__main__":
    main()
