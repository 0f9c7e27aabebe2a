#!/usr/bin/env bash
# Installs the system packages the tests need (Debian). Safe to run again.
# ejabberd is the real XMPP server the transport tests run a private instance of; the
# package's own system service is kept from starting (policy-rc.d): we never touch it.
set -euo pipefail

need=()
command -v ejabberdctl >/dev/null 2>&1 || need+=(ejabberd)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
[ ${#need[@]} -eq 0 ] && exit 0

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
