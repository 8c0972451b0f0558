# Shared by the .ci scripts: make sure what CaseyOS needs is on this machine.
# Debian/Ubuntu; runs as root or with sudo. Idempotent: installs only what is missing.

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

apt_updated=0
apt_install() {
    if [ $apt_updated = 0 ]; then
        as_root apt-get update -qq
        apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@"
}

ensure_rust() {
    if ! command -v cargo >/dev/null 2>&1; then
        echo "cargo is missing: install the Rust toolchain (https://rustup.rs) and run this again" >&2
        exit 1
    fi
}

ensure_postgres_binaries() {
    if ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
        echo "Installing PostgreSQL..."
        apt_install postgresql
    fi
}

# The test suite talks to PostgreSQL on 127.0.0.1:5432 (trust auth) unless
# CASEYOS_TEST_DATABASE_URL says otherwise; start the machine's cluster if it is down.
ensure_postgres_running() {
    ensure_postgres_binaries
    if [ -n "${CASEYOS_TEST_DATABASE_URL:-}" ]; then
        return
    fi
    if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
        return
    fi
    local version
    version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
    if [ -z "$version" ]; then
        echo "No PostgreSQL cluster is configured; creating one..."
        version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
        as_root pg_createcluster "$version" main
    fi
    echo "Starting PostgreSQL $version..."
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    for _ in $(seq 1 30); do
        pg_isready -q -h 127.0.0.1 -p 5432 && break
        sleep 1
    done
    pg_isready -h 127.0.0.1 -p 5432
    # The tests connect as `postgres` over TCP without a password.
    local hba
    hba=$(as_root runuser -u postgres -- psql -tAc 'show hba_file' 2>/dev/null || true)
    if [ -n "$hba" ] && ! as_root grep -qE '^host\s+all\s+all\s+127\.0\.0\.1/32\s+trust' "$hba"; then
        echo "Allowing trusted local TCP connections for the test cluster..."
        as_root sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
        as_root runuser -u postgres -- psql -qc 'select pg_reload_conf()' >/dev/null
    fi
}

# Two test apps at once (a pool of 40 each) beside a process test's server (32 more) need
# more than PostgreSQL's default 100 connections: past it, new connections are refused and a
# test's pool times out. Raised once, with a restart of the machine's test cluster.
ensure_postgres_connections() {
    if [ -n "${CASEYOS_TEST_DATABASE_URL:-}" ]; then
        return
    fi
    local current version
    current=$(psql -h 127.0.0.1 -U postgres -Atc 'show max_connections' 2>/dev/null || echo 0)
    if [ "${current:-0}" -ge 200 ]; then
        return
    fi
    echo "Raising PostgreSQL's max_connections from $current to 200 (restarting the test cluster)..."
    psql -h 127.0.0.1 -U postgres -qc 'alter system set max_connections = 200'
    version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main restart
    for _ in $(seq 1 30); do
        pg_isready -q -h 127.0.0.1 -p 5432 && break
        sleep 1
    done
    pg_isready -h 127.0.0.1 -p 5432
}

ensure_nextest() {
    if ! cargo nextest --version >/dev/null 2>&1; then
        echo "Installing cargo-nextest..."
        cargo install cargo-nextest --locked
    fi
}

# The SPA toolchain, all from package registries (nothing downloaded by trunk itself):
# the wasm32 target, trunk, a wasm-bindgen CLI equal to the lockfile's wasm-bindgen,
# wasm-opt from binaryen's npm package (Debian's binaryen is too old for rustc's output),
# and Debian's brotli for the precompressed files.
WASM_BINDGEN_VERSION=0.2.130

ensure_wasm_tools() {
    if ! rustup target list --installed 2>/dev/null | grep -q wasm32-unknown-unknown; then
        rustup target add wasm32-unknown-unknown
    fi
    if ! trunk --version >/dev/null 2>&1; then
        echo "Installing trunk (takes a few minutes once)..."
        cargo install trunk@^0.21 --locked
    fi
    if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
        echo "Installing wasm-bindgen-cli $WASM_BINDGEN_VERSION..."
        cargo install "wasm-bindgen-cli@$WASM_BINDGEN_VERSION"
    fi
    if ! command -v npm >/dev/null 2>&1; then
        apt_install nodejs npm
    fi
    if ! wasm-opt --version 2>/dev/null | grep -qE 'version (1[2-9][0-9]|[2-9][0-9][0-9])'; then
        echo "Installing wasm-opt (binaryen) from npm..."
        npm install -g binaryen@132
    fi
    if ! command -v brotli >/dev/null 2>&1; then
        apt_install brotli
    fi
}

# Headless Chromium and its driver, for component and end-to-end tests.
ensure_browser() {
    if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
        apt_install chromium chromium-driver
    fi
}

# The release wasm's budget, gzip -9: 350 KiB = 350 × 1024 = 358,400 bytes (README, "The
# web app"). Every build prints the size; a build over the budget fails.
WEB_WASM_BUDGET_GZIP=358400

build_web() {
    # trunk builds offline: fetch every crate of the lockfile first.
    cargo fetch
    TRUNK_SKIP_VERSION_CHECK=true trunk build --release
    compress_web dist
    check_web_size dist
}

# Writes `<file>.br` (brotli -q 11) and `<file>.gz` (gzip -9) beside each compressible file
# of a web build (trunk replaces the whole folder on every build, so none is ever stale);
# the server sends them as they are to clients that accept them.
compress_web() {
    local file
    find "$1" -type f \( -name '*.wasm' -o -name '*.js' -o -name '*.css' -o -name '*.html' \
        -o -name '*.svg' -o -name '*.json' -o -name '*.txt' \) -print0 |
        while IFS= read -r -d '' file; do
            brotli --quality=11 --force --output="$file.br" "$file"
            gzip -9 --no-name --stdout "$file" >"$file.gz"
        done
}

# Prints the wasm's size (raw, gzip -9, brotli -q 11: the files compress_web wrote) and
# fails when gzip is over WEB_WASM_BUDGET_GZIP.
check_web_size() {
    local wasm raw gz br
    wasm=$(find "$1" -maxdepth 1 -name '*_bg.wasm' | head -n 1)
    if [ -z "$wasm" ] || [ ! -f "$wasm.gz" ] || [ ! -f "$wasm.br" ]; then
        echo "error: no compressed wasm in $1 (run trunk build --release, then compress_web)" >&2
        return 1
    fi
    raw=$(wc -c <"$wasm")
    gz=$(wc -c <"$wasm.gz")
    br=$(wc -c <"$wasm.br")
    echo "Web app wasm $(basename "$wasm"): $raw bytes raw, $gz gzip -9, $br brotli -q 11" \
        "(budget: $WEB_WASM_BUDGET_GZIP gzip = 350 KiB, $((WEB_WASM_BUDGET_GZIP - gz)) to spare)"
    if [ "$gz" -gt "$WEB_WASM_BUDGET_GZIP" ]; then
        echo "error: the web app's wasm is $gz bytes gzip -9, over its budget of" \
            "$WEB_WASM_BUDGET_GZIP bytes (350 KiB); make it smaller (README, \"The web app\")" >&2
        return 1
    fi
}

# axe-core, for the accessibility check of the end-to-end tests (pinned in tests/e2e).
ensure_axe() {
    if [ ! -f tests/e2e/node_modules/axe-core/axe.min.js ]; then
        npm install --prefix tests/e2e --no-audit --no-fund
    fi
}

# schemathesis for .ci/fuzz, in its own virtual environment (target/schemathesis), at the
# version the fuzzing command was written against. Sets $schemathesis to its `st`.
SCHEMATHESIS_VERSION=4.32.5
ensure_schemathesis() {
    local venv=target/schemathesis
    schemathesis=$venv/bin/st
    if [ -x "$schemathesis" ] && "$schemathesis" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
        return
    fi
    if ! python3 -m venv --help >/dev/null 2>&1; then
        apt_install python3-venv
    fi
    echo "Installing schemathesis $SCHEMATHESIS_VERSION..."
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet "schemathesis==$SCHEMATHESIS_VERSION"
}
