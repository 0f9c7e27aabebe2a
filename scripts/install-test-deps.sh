#!/usr/bin/env bash
# Installs the system packages the tests need (Debian). Safe to run again.
# ejabberd is the real XMPP server the transport tests run a private instance of; the
# package's own system service is kept from starting (policy-rc.d) while it installs: we never
# touch it. The machine is left as found: a policy-rc.d this script created is removed again.
set -euo pipefail

install_packages() {
  local SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  local POLICY=/usr/sbin/policy-rc.d
  if [ ! -e "$POLICY" ]; then
    # Removed on any exit, failed installs included; one that was already there is never touched.
    trap "$SUDO rm -f $POLICY" EXIT
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$POLICY" >/dev/null
    $SUDO chmod +x "$POLICY"
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
}

# The pinned JS SDK, exactly as package-lock.json records it (npm ci never upgrades).
install_js_peer() {
  local dir
  dir="$(cd "$(dirname "$0")/.." && pwd)/fixtures/js-peer"
  if [ ! -f "$dir/node_modules/connectycube/package.json" ]; then
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}

need=()
command -v ejabberdctl >/dev/null 2>&1 || need+=(ejabberd)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
# The official JS SDK runs as a test peer (fixtures/js-peer): node and npm.
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v npm >/dev/null 2>&1 || need+=(npm)
if [ ${#need[@]} -gt 0 ]; then
  install_packages
fi
install_js_peer

