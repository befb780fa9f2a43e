#!/usr/bin/env bash
# Builds the files of a Terraform Registry release of this provider, and the
# emulator module authors test against, for one platform at a time (the
# release workflow runs it once per platform, then once more with
# --sums-only over all the zips):
#
#   terraform-provider-parallel_{V}_{os}_{arch}.zip   only terraform-provider-parallel_v{V}
#                                                     (.exe on Windows), mode 0755
#   terraform-provider-parallel_{V}_manifest.json     terraform-registry-manifest.json
#   terraform-provider-parallel_{V}_SHA256SUMS        every provider zip of version V in DIR, and the manifest
#   terraform-provider-parallel_{V}_SHA256SUMS.sig    detached GPG signature, when a key is set
#   parallel-emulator_{V}_{os}_{arch}.zip             only parallel-emulator (.exe on Windows), mode 0755
#   parallel-emulator_{V}_SHA256SUMS                  every emulator zip of version V in DIR
#   parallel-emulator_{V}_SHA256SUMS.sig              detached GPG signature, when a key is set
#
# The emulator's files have their own sums, outside the provider's SHA256SUMS
# and manifest, which the registry reads and which must list only provider
# packages.
#
# The zips are reproducible: the same binary gives byte-identical zips, with
# every entry dated SOURCE_DATE_EPOCH (default: the commit's time), in a fixed
# order, with fixed permissions and compression (python3's zipfile). Both
# binaries are built (or found) before any zip is written, so a failure
# leaves no zip of this run behind.
#
# Usage: bash scripts/release.sh [--version V] [--out DIR] [--target TRIPLE]
#                                [--profile release|debug | --binary PATH [--emulator-binary PATH]]
#                                [--sums-only]
#   --version V     the release's version (default: Cargo.toml's)
#   --out DIR       where the files go (default: dist/, ignored by git)
#   --target TRIPLE build for this Rust target, e.g. aarch64-apple-darwin
#                   (default: this machine); needs `rustup target add TRIPLE`
#                   and a C toolchain for it
#   --profile P     the cargo profile to build (default: release)
#   --binary PATH   package this already-built provider binary instead of
#                   building one (its platform is --target's, or this
#                   machine's); the tests package the debug build this way.
#                   The emulator is then the parallel-emulator beside it,
#                   unless --emulator-binary names one
#   --emulator-binary PATH  package this already-built parallel-emulator
#   --sums-only     build nothing: rewrite (and sign) both SHA256SUMS over the
#                   zips already in DIR, as the release workflow's last step
# Env:   PARALLEL_RELEASE_BINARY      same as --binary
#        PARALLEL_RELEASE_EMULATOR_BINARY  same as --emulator-binary
#        PARALLEL_RELEASE_GPG_KEY     the key (ID, fingerprint or e-mail) to
#                                     sign the SHA256SUMS with; unset: unsigned
#        PARALLEL_RELEASE_GPG_PASSPHRASE  its passphrase, if it has one
#        GPG (default gpg), PYTHON (default python3, else python)
#        SOURCE_DATE_EPOCH            the zip entries' date (Unix seconds)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
name=terraform-provider-parallel
emulator_name=parallel-emulator

fail() {
  printf 'release: %s\n' "$*" >&2
  exit 1
}
usage="usage: bash scripts/release.sh [--version V] [--out DIR] [--target TRIPLE] [--profile release|debug | --binary PATH [--emulator-binary PATH]] [--sums-only]"

version="" out="$repo/dist" target="" profile=release sums_only=false
binary="${PARALLEL_RELEASE_BINARY:-}" emulator_binary="${PARALLEL_RELEASE_EMULATOR_BINARY:-}"
while (($# > 0)); do
  case "$1" in
    --version | --out | --target | --profile | --binary | --emulator-binary)
      (($# >= 2)) && [[ -n "$2" ]] || fail "$1 needs a value; $usage"
      case "$1" in
        --version) version=$2 ;;
        --out) out=$2 ;;
        --target) target=$2 ;;
        --profile) profile=$2 ;;
        --binary) binary=$2 ;;
        --emulator-binary) emulator_binary=$2 ;;
      esac
      shift 2
      ;;
    --sums-only) sums_only=true && shift ;;
    -h | --help) echo "$usage" && exit 0 ;;
    *) fail "unknown argument $1; $usage" ;;
  esac
done

cargo_version=$(sed -n '/^\[package\]/,/^\[/ s/^version *= *"\([^"]*\)".*/\1/p' "$repo/Cargo.toml")
[[ -n "$cargo_version" ]] || fail "cannot read the version from Cargo.toml"
version=${version:-$cargo_version}
version=${version#v}
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]] ||
  fail "version $version is not semantic (MAJOR.MINOR.PATCH[-PRERELEASE]), as the registry requires"
if [[ "$version" != "$cargo_version" ]]; then
  echo "release: warning: version $version differs from Cargo.toml's $cargo_version, which the binary reports" >&2
fi

python=${PYTHON:-$(command -v python3 || command -v python || true)}
[[ -n "$python" ]] || fail "python3 not found: it writes the reproducible zips (its standard zipfile module)"
mkdir -p "$out"
out=$(cd "$out" && pwd)
sums="${name}_${version}_SHA256SUMS"
emulator_sums="${emulator_name}_${version}_SHA256SUMS"

# --- build (or take) the binary, and zip it --------------------------------------

if ! $sums_only; then
  host=$(rustc -vV 2>/dev/null | sed -n 's/^host: //p') || true
  if [[ -z "$host" && -n "$binary" ]]; then
    # Packaging a given binary needs no Rust toolchain: name the platform.
    case "$(uname -s)-$(uname -m)" in
      Linux-x86_64) host=x86_64-unknown-linux-gnu ;;
      Linux-aarch64 | Linux-arm64) host=aarch64-unknown-linux-gnu ;;
      Darwin-x86_64) host=x86_64-apple-darwin ;;
      Darwin-arm64) host=aarch64-apple-darwin ;;
    esac
  fi
  triple=${target:-$host}
  [[ -n "$triple" ]] || fail "no --target given and rustc cannot tell this machine's target"
  # Terraform's names for the platforms the registry serves.
  case "$triple" in
    x86_64-*-linux-*) platform=linux_amd64 ;;
    aarch64-*-linux-*) platform=linux_arm64 ;;
    x86_64-apple-darwin) platform=darwin_amd64 ;;
    aarch64-apple-darwin) platform=darwin_arm64 ;;
    x86_64-pc-windows-*) platform=windows_amd64 ;;
    aarch64-pc-windows-*) platform=windows_arm64 ;;
    *) fail "no Terraform platform for target $triple (known: linux, darwin, windows on x86_64 and aarch64)" ;;
  esac
  exe=""
  [[ "$platform" == windows_* ]] && exe=.exe

  if [[ -n "$emulator_binary" && -z "$binary" ]]; then
    fail "--emulator-binary needs --binary too (the provider binary to package with it)"
  fi
  if [[ -z "$binary" ]]; then
    command -v cargo >/dev/null || fail "cargo not found: install Rust with rustup (https://rustup.rs)"
    case "$profile" in
      release) profile_dir=release ;;
      debug | dev) profile=dev profile_dir=debug ;;
      *) fail "--profile $profile: use release or debug" ;;
    esac
    target_args=()
    if [[ "$triple" != "$host" ]]; then
      # Say what is missing before cargo prints "can't find crate for core".
      [[ -d "$(rustc --print sysroot)/lib/rustlib/$triple/lib" ]] ||
        fail "the Rust standard library for $triple is not installed. Add it with
  rustup target add $triple
and make sure a C compiler and linker for $triple are available (aws-lc-sys
compiles C); or build on a $platform machine, as the release workflow does."
      target_args=(--target "$triple")
    fi
    target_dir=$(cd "$repo" && cargo metadata --format-version 1 --no-deps |
      sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p' | sed 's/\\\\/\\/g')
    # Git Bash on Windows: C:\a\target -> /c/a/target.
    if command -v cygpath >/dev/null; then target_dir=$(cygpath -u "$target_dir"); fi
    built_dir="$target_dir/${target_args[*]:+$triple/}$profile_dir"
    # One package per cargo run, so a failure names what failed; the
    # emulator's features are its own, as when it is built alone.
    for package in "$name" "$emulator_name"; do
      echo "release: building $package $version for $triple (profile $profile)" >&2
      (cd "$repo" && cargo build --locked --profile "$profile" ${target_args[@]+"${target_args[@]}"} \
        -p "$package" --bin "$package") ||
        fail "building $package for $triple failed (see above); no zip was written. A cross build needs the target's C compiler and linker"
    done
    binary="$built_dir/$name$exe"
    emulator_binary="$built_dir/$emulator_name$exe"
  fi
  [[ -f "$binary" ]] || fail "no provider binary for $triple at $binary"
  emulator_binary=${emulator_binary:-$(dirname "$binary")/$emulator_name$exe}
  [[ -f "$emulator_binary" ]] ||
    fail "no $emulator_name binary for $triple at $emulator_binary: build it (cargo build -p $emulator_name) or give --emulator-binary PATH; no zip was written"

  epoch=${SOURCE_DATE_EPOCH:-$(git -C "$repo" log -1 --format=%ct 2>/dev/null || echo 315532800)}
  # A zip is written beside its final name and renamed into place, so an
  # interrupted run leaves at most a .tmp file, which this removes.
  trap 'rm -f "$out"/*.zip.tmp' EXIT
  write_zip() { # BINARY ZIP_NAME ENTRY_NAME
    "$python" - "$1" "$out/$2" "$3" "$epoch" <<'EOF'
import os, sys, time, zipfile

binary, zip_path, entry, epoch = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
# Zip dates start in 1980 and carry no time zone: use UTC.
stamp = time.gmtime(max(epoch, 315532800))[:6]
info = zipfile.ZipInfo(entry, date_time=stamp)
info.create_system = 3  # Unix, so that the mode below is honoured
info.external_attr = (0o100755 & 0xFFFF) << 16
info.compress_type = zipfile.ZIP_DEFLATED
with open(binary, "rb") as f:
    data = f.read()
tmp = zip_path + ".tmp"
with zipfile.ZipFile(tmp, "w") as z:
    z.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=6)
os.replace(tmp, zip_path)
EOF
    echo "release: wrote $out/$2"
  }
  write_zip "$binary" "${name}_${version}_${platform}.zip" "${name}_v${version}${exe}"
  write_zip "$emulator_binary" "${emulator_name}_${version}_${platform}.zip" "${emulator_name}${exe}"
  cp "$repo/terraform-registry-manifest.json" "$out/${name}_${version}_manifest.json"
fi

# --- the SHA256SUMS: the provider's over its zips and the manifest, the
# --- emulator's over its zips; each signed when a key is set ---------------------

[[ -f "$out/${name}_${version}_manifest.json" ]] ||
  cp "$repo/terraform-registry-manifest.json" "$out/${name}_${version}_manifest.json"

write_sums() { # NAME SUMS_FILE
  rm -f "$out/$2" "$out/$2.sig"
  "$python" - "$out" "$1" "$version" "$2" <<'EOF' || exit 1
import hashlib, os, sys

out, name, version, sums = sys.argv[1:5]
prefix = f"{name}_{version}_"
files = sorted(
    f for f in os.listdir(out)
    if f.startswith(prefix) and (f.endswith(".zip") or f == prefix + "manifest.json")
)
if not any(f.endswith(".zip") for f in files):
    sys.exit(f"release: no {prefix}*.zip in {out}")
lines = []
for f in files:
    with open(os.path.join(out, f), "rb") as fh:
        lines.append(f"{hashlib.sha256(fh.read()).hexdigest()}  {f}\n")
with open(os.path.join(out, sums), "w", newline="\n") as fh:
    fh.writelines(lines)
EOF
  echo "release: wrote $out/$2:"
  sed 's/^/  /' "$out/$2"
}

sign_sums() { # SUMS_FILE
  if [[ -n "${PARALLEL_RELEASE_GPG_KEY:-}" ]]; then
    gpg=${GPG:-gpg}
    command -v "$gpg" >/dev/null || fail "PARALLEL_RELEASE_GPG_KEY is set but $gpg is not installed"
    sign=("$gpg" --batch --yes --local-user "$PARALLEL_RELEASE_GPG_KEY" --output "$out/$1.sig" --detach-sign)
    if [[ -n "${PARALLEL_RELEASE_GPG_PASSPHRASE:-}" ]]; then
      "${sign[@]}" --pinentry-mode loopback --passphrase-fd 0 "$out/$1" <<<"$PARALLEL_RELEASE_GPG_PASSPHRASE" ||
        fail "gpg could not sign with key $PARALLEL_RELEASE_GPG_KEY"
    else
      "${sign[@]}" "$out/$1" || fail "gpg could not sign with key $PARALLEL_RELEASE_GPG_KEY"
    fi
    echo "release: signed: $out/$1.sig (key $PARALLEL_RELEASE_GPG_KEY)"
  else
    echo "release: $1 is unsigned (set PARALLEL_RELEASE_GPG_KEY to sign it)"
  fi
}

write_sums "$name" "$sums"
write_sums "$emulator_name" "$emulator_sums"
sign_sums "$sums"
sign_sums "$emulator_sums"
