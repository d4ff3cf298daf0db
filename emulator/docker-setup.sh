#!/usr/bin/env bash
# The emulator's data plane (ECS tasks as containers) and the app image build
# need a Docker engine and a registry behind ECR; this sets them up on a
# machine with no container registry on the network (`make emulator`, `make
# demo` and `make test` run it):
#
#   emulator/docker-setup.sh start    install what is missing, start what is not running, make the base image
#   emulator/docker-setup.sh stop     stop what `start` started (nothing else)
#   emulator/docker-setup.sh status   exit 0 when the engine and the registry answer
#
# start:
#   1. apt-get installs docker.io, debootstrap and docker-registry if missing (needs root);
#   2. dockerd --storage-driver=overlay2 --iptables=false (default bridge, ports published on
#      127.0.0.1 through docker-proxy), unless an engine answers;
#   3. a docker-registry on 127.0.0.1:$POCSTACK_REGISTRY_PORT (5000), no auth, data in .pocstack/docker/registry;
#   4. the base image pocstack/python-base:bookworm: a debootstrap (minbase + python3, python3-venv)
#      of Debian bookworm with its security updates, trimmed and `docker import`ed; the root is
#      cached as .pocstack/docker/python-base-bookworm.tar, the .debs in .pocstack/docker/debs;
#   5. files/app/wheelhouse: the wheels of files/app/requirements.lock for the base's CPython 3.11 on
#      x86_64 (`pip download`, whatever Python runs it; fetched again when the lock changes);
#   6. pocstack/hello:bookworm from files/hello: the image the local inventory's second example
#      service mirrors into ECR (a stand-in for a public image; rebuilt when files/hello changes).
# Each step is skipped when its result is there, so a second start takes seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

state=.pocstack/docker
registry_port="${POCSTACK_REGISTRY_PORT:-5000}"
registry_url="http://127.0.0.1:${registry_port}"
base_image="${POCSTACK_BASE_IMAGE:-pocstack/python-base:bookworm}"
mirror="${POCSTACK_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
security_mirror="${POCSTACK_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
python="${PYTHON:-python3}"
mkdir -p "$state"

log() { echo "docker-setup: $*"; }
engine_answers() { docker info >/dev/null 2>&1; }
registry_answers() { curl -fsS -o /dev/null "$registry_url/v2/" 2>/dev/null; }
wait_for() {  # wait_for SECONDS WHAT COMMAND...
  local deadline=$((SECONDS + $1)) what=$2
  shift 2
  until "$@"; do
    if ((SECONDS >= deadline)); then log "$what did not come up within the time allowed"; return 1; fi
    sleep 0.5
  done
}
ours() {  # ours PIDFILE NAME: the pid in the file runs NAME (so a reused pid is never signalled)
  local pid
  pid="$(cat "$1" 2>/dev/null)" || return 1
  [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$2" ]
}

install_packages() {
  local missing=()
  command -v dockerd >/dev/null || missing+=(docker.io)
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  command -v docker-registry >/dev/null || missing+=(docker-registry)
  command -v curl >/dev/null || missing+=(curl)
  ((${#missing[@]} == 0)) && return 0
  if [ "$(id -u)" != 0 ]; then
    log "missing ${missing[*]}; run as root, or: sudo apt-get install ${missing[*]}"
    return 1
  fi
  log "apt-get install ${missing[*]}"
  apt-get update -qq
  # The package's own service start is refused in containers; we start dockerd ourselves.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$state/apt.log" 2>&1 \
    || { tail -20 "$state/apt.log"; return 1; }
}

start_engine() {
  if engine_answers; then log "Docker engine answers"; return 0; fi
  # overlay2 builds the app image in about 30 s where vfs takes 100 s; no
  # iptables rules on the host: published ports go through docker-proxy, and
  # containers need nothing outside the machine.
  log "starting dockerd (overlay2, default bridge, no iptables; log $state/dockerd.log)"
  setsid dockerd --storage-driver=overlay2 --iptables=false --pidfile "$PWD/$state/dockerd.pid" \
    </dev/null >>"$state/dockerd.log" 2>&1 &
  wait_for 60 dockerd engine_answers || { tail -20 "$state/dockerd.log"; return 1; }
}

start_registry() {
  if registry_answers; then log "registry answers at $registry_url"; return 0; fi
  mkdir -p "$state/registry"
  cat >"$state/registry.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $PWD/$state/registry
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$registry_port
EOF
  log "starting docker-registry at $registry_url (log $state/registry.log)"
  setsid docker-registry serve "$state/registry.yml" </dev/null >>"$state/registry.log" 2>&1 &
  echo $! >"$state/registry.pid"
  wait_for 30 docker-registry registry_answers || { tail -20 "$state/registry.log"; return 1; }
}

make_base_image() {
  if docker image inspect "$base_image" >/dev/null 2>&1; then log "base image $base_image exists"; return 0; fi
  local tarball="$state/python-base-bookworm.tar"
  if [ ! -s "$tarball" ]; then
    local root="$state/rootfs"
    rm -rf "$root" && mkdir -p "$state/debs"
    log "debootstrap bookworm (minbase + python3, python3-venv) from $mirror; log $state/debootstrap.log"
    debootstrap --variant=minbase --include=python3,python3-venv --cache-dir="$PWD/$state/debs" \
      bookworm "$root" "$mirror" >"$state/debootstrap.log" 2>&1 || { tail -20 "$state/debootstrap.log"; return 1; }
    printf 'deb %s bookworm main\ndeb %s bookworm-updates main\ndeb %s bookworm-security main\n' \
      "$mirror" "$mirror" "$security_mirror" >"$root/etc/apt/sources.list"
    log "security updates"
    chroot "$root" apt-get update -qq >>"$state/debootstrap.log" 2>&1
    chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get -y -qq upgrade >>"$state/debootstrap.log" 2>&1
    chroot "$root" apt-get clean
    # Docs, man pages, translations and package lists are not needed to run Python.
    rm -rf "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* "$root"/usr/share/man/* \
      "$root"/usr/share/info/* "$root"/usr/share/locale/* "$root"/var/log/* "$root"/var/cache/debconf/*-old "$root"/tmp/*
    tar --numeric-owner -C "$root" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
    rm -rf "$root"
  fi
  log "docker import $tarball as $base_image"
  docker import -c 'ENV LANG=C.UTF-8' -c 'CMD ["python3"]' "$tarball" "$base_image" >/dev/null
}

make_wheelhouse() {
  local lock=files/app/requirements.lock wheels=files/app/wheelhouse stamp
  stamp="$(sha256sum "$lock" | cut -d' ' -f1)"
  if [ "$(cat "$wheels/.lock-sha256" 2>/dev/null)" = "$stamp" ]; then log "wheelhouse is current"; return 0; fi
  log "pip download -r $lock -d $wheels (CPython 3.11, manylinux x86_64 wheels)"
  rm -rf "$wheels" && mkdir -p "$wheels"
  # The base image's Python (Debian bookworm: CPython 3.11, glibc 2.36), not the host's.
  "$python" -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
    --implementation cp --python-version 3.11 --abi cp311 --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    -r "$lock" -d "$wheels"
  echo "$stamp" >"$wheels/.lock-sha256"
}

make_example_image() {
  # A cached build is a second; a changed files/hello is built again.
  log "docker build -t pocstack/hello:bookworm files/hello"
  docker build -q --build-arg BASE_IMAGE="$base_image" -t pocstack/hello:bookworm files/hello >/dev/null
}

stop_all() {
  if ours "$state/registry.pid" registry || ours "$state/registry.pid" docker-registry; then
    kill "$(cat "$state/registry.pid")" && log "registry stopped"
  fi
  rm -f "$state/registry.pid"
  if ours "$state/dockerd.pid" dockerd; then
    local pid
    pid="$(cat "$state/dockerd.pid")"
    kill "$pid"
    for _ in $(seq 1 60); do [ -d "/proc/$pid" ] || break; sleep 0.5; done
    log "dockerd stopped"
  fi
}

case "${1:-}" in
  start)
    install_packages
    start_engine
    start_registry
    make_base_image
    make_wheelhouse
    make_example_image
    log "ready: engine $(docker version --format '{{.Server.Version}}'), registry $registry_url, base $base_image"
    ;;
  stop) stop_all ;;
  status) engine_answers && registry_answers ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
