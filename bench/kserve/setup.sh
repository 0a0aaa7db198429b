#!/usr/bin/env bash
# Sets up KServe's Python sklearnserver (default tag v0.12.1) for bench/kserve-vs-servekit.mjs without PyPI.
#
# Usage (as root):  bench/kserve/setup.sh KSERVE --cloudevents SRC --timing-asgi SRC [--root DIR] [--rev REV]
#                                          [--fastapi SRC --starlette SRC --uvicorn SRC]
#   KSERVE            a KServe checkout: a work tree (`git clone --branch v0.12.1 https://github.com/kserve/kserve`)
#                     or a bare git directory (then REV, default v0.12.1, is exported from it)
#   --root DIR        a Debian root to install into and run KServe in with chroot (default /: this system).
#                     KServe 0.12.1 needs orjson, which Debian 12 does not package; Debian 13 (trixie) does.
#   --cloudevents SRC github.com/cloudevents/sdk-python (work tree or bare git dir; tag 1.10.1 exported from a
#                     bare one): KServe's `cloudevents` dependency, which Debian does not package
#   --timing-asgi SRC github.com/steinnes/timing-asgi (tag v0.3.1): KServe's `timing-asgi` dependency, ditto
#   --fastapi SRC --starlette SRC --uvicorn SRC   github.com/fastapi/fastapi (tag 0.109.2), encode/starlette (0.36.3),
#                     encode/uvicorn (0.21.1): the pure-Python web stack of KServe 0.12.1's poetry.lock, used instead
#                     of Debian's newer fastapi/starlette/uvicorn (Debian's stays available: kserve-env-debian.json)
#
# What it installs, and from where:
#   1. Debian packages (apt-get, inside DIR): python3 and the KServe 0.12.1 dependencies Debian has: fastapi,
#      starlette, uvicorn, uvloop, httptools (uvicorn[standard]), pydantic, orjson, numpy, pandas, scikit-learn,
#      joblib, grpcio, protobuf, prometheus-client, httpx, tabulate, psutil, kubernetes, six, python-dateutil,
#      boto3, requests, azure (storage blob/file-share), google-auth. Versions are Debian's, not KServe's
#      poetry.lock's; the runner prints both.
#   2. Into DIR/opt/kserve-bench/site (a PYTHONPATH directory), the unmodified sources of python/kserve/kserve and
#      python/sklearnserver/sklearnserver from KSERVE, `cloudevents` and `timing_asgi` from their checkouts, and a
#      minimal NAME-VERSION.dist-info/METADATA for each (KServe reads its own version with
#      importlib.metadata.version("kserve") at start-up; pip would have written these files).
#   3. Into DIR/opt/kserve-bench/stubs, stand-ins for two packages Debian does not have that KServe 0.12.1 imports at
#      the top of a module but never uses when serving a local sklearn model (no KServe file is changed):
#        ray.serve (Ray 2.10: model_server.py, model_repository.py, dataplane.py import Deployment/DeploymentHandle
#          for Ray Serve deployments and isinstance checks; the classes here are empty and never instantiated)
#        google.cloud.storage (storage.py imports it for gs:// model URIs; Client() raises)
#   4. DIR/opt/kserve-bench/model/iris/model.joblib: RandomForestClassifier(n_estimators=10, max_depth=5,
#      random_state=0) trained on all 150 iris rows by DIR's scikit-learn (the recipe of the fixture
#      sklearn/iris_random_forest, which Debian 12's sklearn 1.2.1 wrote and sklearn >= 1.3 refuses to unpickle:
#      "node array from the pickle has an incompatible dtype", the missing_go_to_left field), and expected.json
#      with its predictions of X[::10]. Both servers serve this one file.
#   5. bench/out/kserve-env.json: where all this is and the versions, read by bench/kserve-vs-servekit.mjs. With
#      --fastapi/--starlette/--uvicorn, those three go to DIR/opt/kserve-bench/lock-site, first on kserve-env.json's
#      PYTHONPATH, and bench/out/kserve-env-debian.json runs the same KServe on Debian's three instead
#      (`node bench/kserve-vs-servekit.mjs --env bench/out/kserve-env-debian.json`).
set -euo pipefail

usage() { sed -n '2,12p' "$0" >&2; exit 2; }
[ $# -ge 1 ] || usage
KSERVE=$1; shift
ROOT=/; REV=v0.12.1; CLOUDEVENTS=; TIMING_ASGI=; FASTAPI=; STARLETTE=; UVICORN=
while [ $# -gt 0 ]; do
  case $1 in
    --root) ROOT=$2; shift 2 ;;
    --rev) REV=$2; shift 2 ;;
    --cloudevents) CLOUDEVENTS=$2; shift 2 ;;
    --timing-asgi) TIMING_ASGI=$2; shift 2 ;;
    --fastapi) FASTAPI=$2; shift 2 ;;
    --starlette) STARLETTE=$2; shift 2 ;;
    --uvicorn) UVICORN=$2; shift 2 ;;
    *) usage ;;
  esac
done
[ -n "$CLOUDEVENTS" ] && [ -n "$TIMING_ASGI" ] || { echo "--cloudevents and --timing-asgi are required" >&2; usage; }
HERE=$(cd "$(dirname "$0")/../.." && pwd)
ROOT=$(cd "$ROOT" && pwd)
BASE=/opt/kserve-bench # inside ROOT
SITE=$ROOT$BASE/site STUBS=$ROOT$BASE/stubs MODEL=$ROOT$BASE/model/iris LOCK_SITE=$ROOT$BASE/lock-site

in_root() { if [ "$ROOT" = / ]; then "$@"; else chroot "$ROOT" "$@"; fi; }

# export_tree SRC REV SUBDIR DEST: copy SUBDIR of SRC (a work tree, or REV of a bare git dir) into DEST.
export_tree() {
  local src=$1 rev=$2 sub=$3 dest=$4
  if [ -e "$src/$sub" ]; then cp -r "$src/$sub" "$dest/"
  else git --git-dir="$src" archive "$rev" "$sub" | tar -x -C "$dest" --strip-components=$(($(tr -cd / <<<"$sub" | wc -c)))
  fi
}
# show_file SRC REV PATH: a file of SRC (a work tree, or REV of a bare git dir) on stdout.
show_file() { if [ -e "$1/$3" ]; then cat "$1/$3"; else git --git-dir="$1" show "$2:$3"; fi; }
# commit_of SRC REV: the commit a work tree is at, or REV's commit in a bare git dir.
commit_of() { if [ -e "$1/.git" ]; then git -C "$1" rev-parse HEAD; else git --git-dir="$1" rev-parse "$2^{commit}"; fi; }

echo "== 1. Debian packages in $ROOT"
in_root apt-get update
in_root apt-get install -y --no-install-recommends python3 python3-fastapi python3-starlette python3-uvicorn \
  python3-uvloop python3-httptools python3-pydantic python3-orjson python3-numpy python3-pandas python3-sklearn \
  python3-joblib python3-grpcio python3-protobuf python3-prometheus-client python3-httpx python3-tabulate \
  python3-psutil python3-kubernetes python3-six python3-dateutil python3-boto3 python3-requests python3-azure \
  python3-google-auth

echo "== 2. KServe $REV, cloudevents 1.10.1, timing-asgi v0.3.1 into $SITE"
rm -rf "$ROOT$BASE"; mkdir -p "$SITE" "$STUBS/ray/serve" "$STUBS/google/cloud" "$MODEL"
export_tree "$KSERVE" "$REV" python/kserve/kserve "$SITE"
export_tree "$KSERVE" "$REV" python/sklearnserver/sklearnserver "$SITE"
export_tree "$CLOUDEVENTS" 1.10.1 cloudevents "$SITE"
export_tree "$TIMING_ASGI" v0.3.1 timing_asgi "$SITE"
kserve_version=$(show_file "$KSERVE" "$REV" python/kserve/pyproject.toml | sed -n 's/^version = "\(.*\)"/\1/p')
# dist_info DIR NAME:VERSION…: the METADATA pip would have written, so importlib.metadata finds each package.
dist_info() {
  local dir=$1 nv name version; shift
  for nv in "$@"; do
    name=${nv%%:*} version=${nv#*:}
    mkdir -p "$dir/${name//-/_}-$version.dist-info"
    printf 'Metadata-Version: 2.1\nName: %s\nVersion: %s\n' "$name" "$version" >"$dir/${name//-/_}-$version.dist-info/METADATA"
  done
}
dist_info "$SITE" "kserve:$kserve_version" "sklearnserver:$kserve_version" cloudevents:1.10.1 timing-asgi:0.3.1
if [ -n "$FASTAPI$STARLETTE$UVICORN" ]; then
  [ -n "$FASTAPI" ] && [ -n "$STARLETTE" ] && [ -n "$UVICORN" ] || { echo "give all of --fastapi --starlette --uvicorn" >&2; exit 2; }
  echo "== 2b. fastapi 0.109.2, starlette 0.36.3, uvicorn 0.21.1 (KServe 0.12.1's poetry.lock) into $LOCK_SITE"
  mkdir -p "$LOCK_SITE"
  export_tree "$FASTAPI" 0.109.2 fastapi "$LOCK_SITE"
  export_tree "$STARLETTE" 0.36.3 starlette "$LOCK_SITE"
  export_tree "$UVICORN" 0.21.1 uvicorn "$LOCK_SITE"
  dist_info "$LOCK_SITE" fastapi:0.109.2 starlette:0.36.3 uvicorn:0.21.1
fi

echo "== 3. stand-ins for ray.serve and google.cloud.storage in $STUBS"
cat >"$STUBS/ray/__init__.py" <<'PY'
# Stand-in for Ray (Debian has no Ray): KServe 0.12.1 imports ray.serve at the top of model_server.py,
# model_repository.py and protocol/dataplane.py, and uses it only for Ray Serve deployments, which serving a local
# sklearn model never creates. Nothing here is ever instantiated.
PY
cat >"$STUBS/ray/serve/__init__.py" <<'PY'
def start(*args, **kwargs):
    raise RuntimeError("Ray Serve is not installed (benchmark stand-in)")
PY
printf 'class Deployment:\n    """Never instantiated: no Ray Serve deployment exists here."""\n' >"$STUBS/ray/serve/api.py"
printf 'class DeploymentHandle:\n    """Never instantiated: isinstance(model, DeploymentHandle) is always False here."""\n' \
  >"$STUBS/ray/serve/handle.py"
cat >"$STUBS/google/cloud/storage.py" <<'PY'
# Stand-in for google-cloud-storage (Debian does not package it): KServe's storage.py imports it at the top and uses
# it only for gs:// model URIs; the benchmark serves a local directory.
class Client:
    def __init__(self, *args, **kwargs):
        raise RuntimeError("google-cloud-storage is not installed (benchmark stand-in)")
PY

echo "== 4. the iris model, trained by $ROOT's scikit-learn, in $MODEL"
in_root python3 -W ignore::FutureWarning - "$BASE/model/iris" <<'PY'
import json, sys, joblib, sklearn
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier
X, y = load_iris(return_X_y=True)
model = RandomForestClassifier(n_estimators=10, max_depth=5, random_state=0).fit(X, y)
joblib.dump(model, f"{sys.argv[1]}/model.joblib")
with open(f"{sys.argv[1]}/expected.json", "w") as f:
    json.dump({"recipe": "RandomForestClassifier(n_estimators=10, max_depth=5, random_state=0), iris, all 150 rows",
               "sklearn": sklearn.__version__, "inputs": X[::10].tolist(), "predict": model.predict(X[::10]).tolist()}, f)
PY

echo "== 5. versions, bench/out/kserve-env*.json"
# versions PYTHONPATH: the versions that python3 finds on PYTHONPATH in ROOT, as JSON.
versions() {
  in_root env PYTHONPATH="$1" python3 -W ignore - <<'PY'
import json, platform
from importlib.metadata import version
names = ["kserve", "fastapi", "starlette", "uvicorn", "uvloop", "httptools", "pydantic", "pydantic-core", "orjson",
         "numpy", "pandas", "scikit-learn", "joblib", "grpcio", "cloudevents", "timing-asgi", "prometheus-client"]
out = {"python": platform.python_version()}
for n in names:
    try:
        out[n] = version(n)
    except Exception as e:
        out[n] = f"? ({type(e).__name__})"
print(json.dumps(out))
PY
}
# write_env FILE PYTHONPATH: what bench/kserve-vs-servekit.mjs needs to start this KServe (the lock stack's commits
# when PYTHONPATH starts with lock-site).
write_env() {
  cat >"$1" <<JSON
{
  "root": "$ROOT",
  "pythonPath": "$2",
  "modelDir": "$BASE/model/iris",
  "kserveRev": "$REV",
  "kserveCommit": "$(commit_of "$KSERVE" "$REV")",
  "cloudeventsCommit": "$(commit_of "$CLOUDEVENTS" 1.10.1)",
  "timingAsgiCommit": "$(commit_of "$TIMING_ASGI" v0.3.1)",
  "lockWebStackCommits": "$([ "$2" = "${2#"$BASE/lock-site"}" ] || echo "fastapi $(commit_of "$FASTAPI" 0.109.2), starlette $(commit_of "$STARLETTE" 0.36.3), uvicorn $(commit_of "$UVICORN" 0.21.1)")",
  "versions": $(versions "$2")
}
JSON
  cat "$1"
}
mkdir -p "$HERE/bench/out"
rm -f "$HERE/bench/out/kserve-env-debian.json"
if [ -n "$FASTAPI" ]; then
  write_env "$HERE/bench/out/kserve-env.json" "$BASE/lock-site:$BASE/site:$BASE/stubs"
  write_env "$HERE/bench/out/kserve-env-debian.json" "$BASE/site:$BASE/stubs"
else
  write_env "$HERE/bench/out/kserve-env.json" "$BASE/site:$BASE/stubs"
fi
echo "== check: python3 -m sklearnserver imports"
in_root env PYTHONPATH="$BASE/site:$BASE/stubs" python3 -W ignore -c 'import sklearnserver, kserve; print("ok")'
[ -z "$FASTAPI" ] || in_root env PYTHONPATH="$BASE/lock-site:$BASE/site:$BASE/stubs" python3 -W ignore -c \
  'import sklearnserver, kserve, fastapi, uvicorn; print("ok, fastapi", fastapi.__version__, "uvicorn", uvicorn.__version__)'
