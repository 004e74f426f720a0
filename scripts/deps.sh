#!/bin/sh
# Installs the Debian packages yumna-dns needs to build, test and run its demo.
# Idempotent: does nothing when every package is already installed.
set -eu

# unbound, ldnsutils, bind9-utils: the DNSSEC tests validate with unbound (run
# as a test process on a port chosen at run time; the package's own service is
# not used) and check zones and DS with ldns-verify-zone, ldns-key2ds and
# dnssec-dsfromkey.
# mariadb-server-core (mariadbd, mariadb-install-db) rather than mariadb-server:
# the gmysql tests start a private server; no system service is installed.
# chromium, chromium-driver and python3-selenium: the dashboard's browser
# tests (tests/integration/test_dashboard.py), which fail without them.
# systemd: systemd-analyze checks the shipped units (test_operations.py);
# installing the package starts nothing in a container.
# clang-14, libclang-rt-14-dev and libfuzzer-14-dev: `make fuzz` builds the
# libFuzzer targets of tests/fuzz with clang and its sanitizer and fuzzer
# runtimes (the gcc build replays their corpora without them).
# prometheus: for its promtool, which lints both daemons' /metrics output
# (tests/integration/test_metrics.py). The tests never run the server the
# package also ships; on a host running systemd (not in a container) the
# package enables and starts its prometheus service (port 9090), which
# `systemctl disable --now prometheus` stops.
# libfaketime: test_whm_clock.py and `make torture` jump a daemon's wall
# clock forward and back (LD_PRELOAD with a timestamp file it re-reads).
# lego and pebble: tests/integration/test_pdns_clients.py has lego (its pdns
# provider, a real client of the controller's PowerDNS API) get a
# certificate from pebble, a test ACME server that validates the DNS-01
# challenges against a node. Both run as test processes on ports chosen at
# run time; neither package installs a service.
# pdns-backend-geoip and geoip-database: traffic steering by country and
# continent (LUA records' country(), continent()) on nodes whose agent has
# 'geoip-database' set; test_steer_serve.py uses Debian's GeoIP.dat.
# bind9, knot, certbot and python3-certbot-dns-rfc2136: the DNS-side tests
# (RFC 2136 updates, transfers to third-party secondaries, catalog zones,
# zones from an external primary) run a real named and a real knotd as test
# processes on ports chosen at run time, and certbot's RFC 2136 plugin
# against the controller. The packages' own services are stopped and
# disabled below when a service manager started them: tests never use
# port 53.
# dnsperf: `make bench` measures RFC 2136 update throughput with it (-u),
# against the controller's DNS listener and PowerDNS's, with TSIG.
PACKAGES="
build-essential pkg-config meson ninja-build
libmicrohttpd-dev libjansson-dev libgnutls28-dev nettle-dev libgmp-dev libcurl4-gnutls-dev
libknot-dev libidn2-dev libsqlite3-dev libmariadb-dev libcmocka-dev
pdns-server pdns-backend-sqlite3 pdns-backend-mysql
pdns-backend-geoip geoip-database
mariadb-server-core mariadb-client-core python3-pymysql
sqlite3 dnsutils knot-dnsutils bind9-utils knot-dnssecutils systemd
unbound ldnsutils libfaketime lego pebble
bind9 knot certbot python3-certbot-dns-rfc2136 dnsperf
python3 python3-pytest python3-dnspython python3-requests python3-cryptography
chromium chromium-driver python3-selenium
clang-14 libclang-rt-14-dev libfuzzer-14-dev
prometheus
"

missing=""
for p in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done

[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "deps: missing packages:$missing (run as root to install them)" >&2
	exit 1
fi

echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null

# On a host run by systemd, bind9 and knot start their services on port 53
# when installed; the tests run their own instances and need neither.
if [ -d /run/systemd/system ]; then
	for unit in named knot; do
		systemctl disable --now "$unit" >/dev/null 2>&1 || true
	done
fi
