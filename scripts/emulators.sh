#!/usr/bin/env bash
# Installs the cloud emulators the provider drivers are tested against, each in its own virtual
# environment under .emu/ (their pins conflict with the project's and with each other's; see
# docs/providers.md). Idempotent: an emulator already installed at the pinned version is kept.
#
#   scripts/emulators.sh                  install every emulator (moto, mimic, keystone)
#   scripts/emulators.sh mimic keystone   install some
#
# Tests find them there (tests/emulators.py, tests/emulators_openstack.py) and skip without them,
# unless ACCORDS_REQUIRE_EMULATORS=1 (as in CI: .ci/run), which turns the skip into a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
EMU="${ACCORDS_EMULATORS_DIR:-.emu}"
MOTO_VERSION="5.2.5"
# OpenStack (tests/emulators_openstack.py): mimic for Keystone v2 and Nova, the real Keystone for
# v3 in front of mimic's Nova. mimic 2.2.0 (its last release, 2016) loads its plugins on Python
# 3.11 only with attrs < 24 (newer attrs dropped attr.validators.provides); Twisted and klein are
# pinned to the versions checked with it (../shared/docs/CLOUD-EMULATORS.md section 2). No patch
# is applied to mimic: the driver waits for ACTIVE after a reboot, so mimic's reboot-then-delete
# bug (a server deleted while rebooting comes back) is never hit.
MIMIC_VERSION="2.2.0"
MIMIC_PINS=("mimic==$MIMIC_VERSION" "attrs==23.2.0" "Twisted==26.10.0" "klein==24.8.0")
KEYSTONE_VERSION="30.0.0"
# The test-only admin password of the Keystone template (tests/emulators_openstack.py knows it).
KEYSTONE_ADMIN_PASSWORD="accords-keystone-admin"

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

install_mimic() {
  local venv="$EMU/venv-mimic" stamp="$EMU/venv-mimic/.installed-mimic-$MIMIC_VERSION"
  if [ -f "$stamp" ] && [ -x "$venv/bin/twistd" ]; then
    return 0
  fi
  echo "emulators: installing ${MIMIC_PINS[*]} into $venv" >&2
  rm -rf "$venv"
  "$PYTHON" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${MIMIC_PINS[@]}"
  # The imports that fail with a newer attrs: proves the plugins load.
  "$venv/bin/python" -c "import mimic.rest.nova_api, mimic.rest.identity_api" >/dev/null
  touch "$stamp"
}

# Keystone's venv, plus a template under $EMU/keystone-template: a migrated sqlite database with
# the bootstrap admin, and the fernet and credential keys. db_sync, the key setups and bootstrap
# take about 9 s: done once here, each test session then only copies the template (tests never
# write into .emu/). bcrypt runs 4 rounds, set before bootstrap hashes the admin's password, so
# that a token costs about 0.2 s instead of 0.5 s. The catalog's identity URL is a placeholder:
# the tests rewrite it to the port they start Keystone on.
install_keystone() {
  local venv="$EMU/venv-keystone" stamp="$EMU/venv-keystone/.installed-keystone-$KEYSTONE_VERSION"
  local template="$EMU/keystone-template"
  if [ -f "$stamp" ] && [ -x "$venv/bin/keystone-manage" ] && [ -f "$template/keystone.db" ]; then
    return 0
  fi
  echo "emulators: installing keystone==$KEYSTONE_VERSION into $venv" >&2
  rm -rf "$venv" "$template"
  "$PYTHON" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "keystone==$KEYSTONE_VERSION"
  mkdir -p "$template"
  local dir conf manage user group
  dir="$(cd "$template" && pwd)"
  conf="$dir/keystone.conf"
  manage="$venv/bin/keystone-manage"
  user="$(id -un)"
  group="$(id -gn)"
  cat > "$conf" <<CONF
[DEFAULT]
use_stderr = true
[database]
connection = sqlite:///$dir/keystone.db
[identity]
password_hash_rounds = 4
[token]
provider = fernet
[fernet_tokens]
key_repository = $dir/fernet-keys
[fernet_receipts]
key_repository = $dir/fernet-receipts
[credential]
key_repository = $dir/credential-keys
CONF
  if ! {
    "$manage" --config-file "$conf" db_sync &&
    "$manage" --config-file "$conf" fernet_setup --keystone-user "$user" --keystone-group "$group" &&
    "$manage" --config-file "$conf" credential_setup --keystone-user "$user" --keystone-group "$group" &&
    "$manage" --config-file "$conf" bootstrap --bootstrap-password "$KEYSTONE_ADMIN_PASSWORD" \
      --bootstrap-public-url "http://127.0.0.1:5000/v3/" --bootstrap-region-id RegionOne
  } > "$dir/setup.log" 2>&1; then
    echo "emulators: keystone setup failed; see $dir/setup.log" >&2
    exit 1
  fi
  touch "$stamp"
}

mkdir -p "$EMU"
if [ "$#" -eq 0 ]; then set -- moto mimic keystone; fi
for emulator in "$@"; do
  case "$emulator" in
    moto) install_moto ;;
    mimic) install_mimic ;;
    keystone) install_keystone ;;
    *) echo "emulators: unknown emulator $emulator (known: moto, mimic, keystone)" >&2; exit 2 ;;
  esac
done
