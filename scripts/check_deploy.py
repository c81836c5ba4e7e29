#!/usr/bin/env python3
"""Checks the deployment manifests offline: python3 scripts/check_deploy.py [REPO_ROOT]

- deploy/spinkube/*.yaml parse (PyYAML), and the kinds, cross-references and settings that
  make promagg work on SpinKube are what docs/deploy/spinkube.md says: a SpinApp of the
  HTTP-only manifest with its runtime config (Redis) from a Secret, kv_backend=redis, and a
  CronJob with concurrencyPolicy Forbid that POSTs /-/push to the SpinApp's Service.
- the SpinApp's fields exist in spin-operator's SpinAppSpec (v1alpha1), since no schema of
  that custom resource ships offline.
- built-in kinds (Secret, CronJob, Deployment, Service) validate against the Kubernetes
  OpenAPI schemas bundled by the `kubernetes-validate` package.
- `kubectl kustomize deploy/spinkube` renders every resource.

Exit status 0 when everything holds; otherwise each problem is printed as `FAIL: ...`.
Set PROMAGG_SKIP_EXTERNAL=1 to skip (not fail) the checks whose tools are missing.
"""

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

try:
    import yaml
except ImportError:  # pragma: no cover - reported below
    yaml = None

ROOT = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent
SPINKUBE = ROOT / "deploy" / "spinkube"
SKIP_EXTERNAL = os.environ.get("PROMAGG_SKIP_EXTERNAL") == "1"

# spin-operator api/v1alpha1 SpinAppSpec JSON field names.
SPINAPP_SPEC_FIELDS = {
    "executor", "image", "imagePullSecrets", "checks", "replicas", "enableAutoscaling",
    "runtimeConfig", "volumes", "volumeMounts", "variables", "serviceAnnotations",
    "deploymentAnnotations", "podAnnotations", "podLabels", "resources", "components",
    "serviceAccountName", "invocationLimits",
}
RUNTIME_CONFIG_FIELDS = {"loadFromSecret", "sqliteDatabases", "keyValueStores", "llmCompute"}
SPIN_VAR_FIELDS = {"name", "value", "valueFrom"}

failures = []


def fail(msg):
    failures.append(msg)
    print(f"FAIL: {msg}")


def load_docs():
    docs = []
    for path in sorted(SPINKUBE.glob("*.yaml")):
        try:
            for i, doc in enumerate(yaml.safe_load_all(path.read_text())):
                if doc is not None:
                    docs.append((f"{path.name}#{i}", doc))
        except yaml.YAMLError as e:
            fail(f"{path.name} does not parse as YAML: {e}")
    return docs


def by_kind(docs, kind):
    return [(where, d) for where, d in docs if d.get("kind") == kind]


def check_spin_manifest():
    path = SPINKUBE / "spin.toml"
    manifest = tomllib.loads(path.read_text())
    triggers = manifest.get("trigger", {})
    if set(triggers) != {"http"}:
        fail(f"{path.name}: SpinKube's shim runs HTTP triggers only, found {sorted(triggers)}")
    for comp_id, comp in manifest.get("component", {}).items():
        if "-cloud" in comp.get("source", ""):
            fail(f"{path.name}: component {comp_id} uses a no-atomics build; SpinKube has atomics")
    if manifest["variables"].get("kv_backend", {}).get("default") != "redis":
        fail(f"{path.name}: kv_backend must default to redis (all replicas share Redis)")
    return manifest


def check_spinapp(docs, manifest):
    apps = by_kind(docs, "SpinApp")
    if len(apps) != 1:
        fail(f"expected one SpinApp, found {len(apps)}")
        return None
    where, app = apps[0]
    if app.get("apiVersion") != "core.spinkube.dev/v1alpha1":
        fail(f"{where}: apiVersion {app.get('apiVersion')!r} is not core.spinkube.dev/v1alpha1")
    spec = app.get("spec", {})
    for field in sorted(set(spec) - SPINAPP_SPEC_FIELDS):
        fail(f"{where}: spec.{field} is not a SpinAppSpec field")
    for field in ("image", "executor"):
        if not spec.get(field):
            fail(f"{where}: spec.{field} is required")
    rc = spec.get("runtimeConfig", {})
    for field in sorted(set(rc) - RUNTIME_CONFIG_FIELDS):
        fail(f"{where}: spec.runtimeConfig.{field} is not a RuntimeConfig field")
    declared = set(manifest.get("variables", {}))
    values = {}
    for var in spec.get("variables", []):
        for field in sorted(set(var) - SPIN_VAR_FIELDS):
            fail(f"{where}: variable field {field} is not a SpinVar field")
        if var.get("name") not in declared:
            fail(f"{where}: variable {var.get('name')!r} is not declared in spin.toml")
        values[var.get("name")] = var.get("value")
    if values.get("kv_backend") != "redis":
        fail(f"{where}: variable kv_backend must be 'redis' (got {values.get('kv_backend')!r})")
    secret_name = rc.get("loadFromSecret")
    secrets = {d["metadata"]["name"]: d for _, d in by_kind(docs, "Secret")}
    if secret_name not in secrets:
        fail(f"{where}: runtimeConfig.loadFromSecret names {secret_name!r}, not a Secret here")
    else:
        data = secrets[secret_name].get("stringData", {})
        if set(data) != {"runtime-config.toml"}:
            fail(f"Secret {secret_name}: must hold exactly the key runtime-config.toml")
        else:
            rt = tomllib.loads(data["runtime-config.toml"])
            store = rt.get("key_value_store", {}).get("default", {})
            if store.get("type") != "redis" or not str(store.get("url", "")).startswith("redis"):
                fail(f"Secret {secret_name}: key_value_store.default must be Redis, got {store}")
    for var in spec.get("variables", []):
        ref = (var.get("valueFrom") or {}).get("secretKeyRef")
        if ref and ref.get("key") not in secrets.get(ref.get("name"), {}).get("stringData", {}):
            fail(f"{where}: variable {var['name']} references a missing Secret key {ref}")
    return app


def check_cronjob(docs, app):
    jobs = by_kind(docs, "CronJob")
    if len(jobs) != 1:
        fail(f"expected one CronJob, found {len(jobs)}")
        return
    where, job = jobs[0]
    spec = job.get("spec", {})
    if spec.get("concurrencyPolicy") != "Forbid":
        fail(f"{where}: concurrencyPolicy must be Forbid (one fold at a time)")
    if len(str(spec.get("schedule", "")).split()) != 5:
        fail(f"{where}: schedule {spec.get('schedule')!r} is not a five-field cron expression")
    containers = spec["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    argv = [str(a) for c in containers for a in c.get("command", []) + c.get("args", [])]
    name = app["metadata"]["name"] if app else "?"
    if "-X" not in argv or argv[argv.index("-X") + 1] != "POST":
        fail(f"{where}: the job must send POST (got {argv})")
    if not any(a.startswith(f"http://{name}") and a.endswith("/-/push") for a in argv):
        fail(f"{where}: the job must call http://{name}.../-/push (the SpinApp's Service)")


def check_kustomization(docs):
    kust = yaml.safe_load((SPINKUBE / "kustomization.yaml").read_text())
    listed = set(kust.get("resources", []))
    present = {p.name for p in SPINKUBE.glob("*.yaml")} - {"kustomization.yaml"}
    if listed != present:
        fail(f"kustomization.yaml lists {sorted(listed)}, the directory has {sorted(present)}")


def check_schemas(docs):
    try:
        import kubernetes_validate
    except ImportError:
        msg = "kubernetes-validate is not installed (pip install kubernetes-validate)"
        if SKIP_EXTERNAL:
            print(f"skipped: {msg}")
            return
        fail(msg)
        return
    version = kubernetes_validate.latest_version()
    for where, doc in docs:
        if doc.get("kind") in ("SpinApp", "Kustomization"):
            continue
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except Exception as e:  # ValidationError, SchemaNotFoundError, ...
            first = str(e).splitlines()[0] if str(e) else type(e).__name__
            fail(f"{where} ({doc.get('kind')}): not valid for Kubernetes {version}: {first}")


def check_kustomize_renders():
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        msg = "kubectl is not installed: `kubectl kustomize` not run"
        if SKIP_EXTERNAL:
            print(f"skipped: {msg}")
            return
        fail(msg)
        return
    out = subprocess.run(
        [kubectl, "kustomize", str(SPINKUBE)], capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        fail(f"kubectl kustomize failed: {out.stderr.strip()}")
        return
    kinds = sorted(d["kind"] for d in yaml.safe_load_all(out.stdout) if d)
    want = ["CronJob", "Deployment", "Secret", "Secret", "Service", "SpinApp"]
    if kinds != want:
        fail(f"kubectl kustomize rendered {kinds}, expected {want}")


def main():
    if yaml is None:
        print("FAIL: PyYAML is not installed (pip install pyyaml)")
        return 1
    docs = load_docs()
    manifest = check_spin_manifest()
    app = check_spinapp(docs, manifest)
    check_cronjob(docs, app)
    check_kustomization(docs)
    check_schemas(docs)
    check_kustomize_renders()
    if failures:
        print(f"{len(failures)} problem(s) in deploy/spinkube")
        return 1
    print(f"deploy/spinkube: {len(docs)} resources OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
