#!/usr/bin/env bash
# Installs the cloud emulators the provider drivers are tested against, each in its own virtual
# environment under .emu/ (their pins conflict with the project's and with each other's; see
# docs/providers.md). Idempotent: an emulator already installed at the pinned version is kept.
#
#   scripts/emulators.sh            install every emulator
#   scripts/emulators.sh moto       install one
#
# Tests find them there (tests/support/emulators.py) and skip without them, unless
# ACCORDS_REQUIRE_EMULATORS=1 (as in CI: .ci/run), which turns the skip into a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
EMU="${ACCORDS_EMULATORS_DIR:-.emu}"
MOTO_VERSION="5.2.5"

install_moto() {
  local venv="$EMU/venv-moto" stamp="$EMU/venv-moto/.installed-moto-$MOTO_VERSION"
  if [ -f "$stamp" ] && [ -x "$venv/bin/moto_server" ]; then
    return 0
  fi
  echo "emulators: installing moto[server]==$MOTO_VERSION into $venv" >&2
  rm -rf "$venv"
  "$PYTHON" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION"
  "$venv/bin/python" -c "import moto.server" >/dev/null
  touch "$stamp"
}

mkdir -p "$EMU"
if [ "$#" -eq 0 ]; then set -- moto; fi
for emulator in "$@"; do
  case "$emulator" in
    moto) install_moto ;;
    *) echo "emulators: unknown emulator $emulator (known: moto)" >&2; exit 2 ;;
  esac
done
