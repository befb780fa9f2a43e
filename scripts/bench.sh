#!/usr/bin/env bash
# The benchmark suite: builds the release binaries once, then runs
# parallel-bench, which measures the provider next to Terraform's built-in
# terraform_data against the local emulator, prints a table of targets and
# writes <target>/bench/results.json, <target>/bench/scaling.png and
# <target>/bench/memory.png.
#
# Usage: bash scripts/bench.sh [--both] [parallel-bench flags]
#   e.g. bash scripts/bench.sh --quick          (smoke run, about a minute)
#        bash scripts/bench.sh --runs 3 --only verbs,process
#        bash scripts/bench.sh --terraform "$(bash scripts/install-terraform.sh)"
#          (on Terraform 1.15.5)
#        bash scripts/bench.sh --both --only scaling
#          (every section on the terraform on PATH, then on Terraform 1.15.5
#          from scripts/install-terraform.sh, in one report; --terraform may
#          also be given more than once)
# Env:   TERRAFORM=/path/to/terraform, BENCH_RUNS, BENCH_QUICK=1, BENCH_ONLY,
#        BENCH_TIMEOUT_SECS (per terraform command, default 600),
#        BENCH_MAX_MINUTES (whole run, default 90), BENCH_FONT (plot text),
#        BENCH_NO_INSTALL=1 to never apt-get the plot font or valgrind.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

fail() {
  printf 'bench: %s\n' "$*" >&2
  exit 1
}

command -v cargo >/dev/null || fail "cargo not found: install Rust with rustup (https://rustup.rs)."
# --both is ours: the terraform on PATH (or TERRAFORM), then 1.15.5.
both=""
args=()
for arg in "$@"; do
  if [[ "$arg" == --both ]]; then
    both=yes
  else
    args+=("$arg")
  fi
done
set -- ${args[@]+"${args[@]}"}
# parallel-bench's --terraform wins over TERRAFORM and PATH, which then need
# no terraform.
terraform_flag=""
for arg in "$@"; do
  [[ "$arg" == --terraform || "$arg" == --terraform=* ]] && terraform_flag=yes
done
if [[ -n "$both" && -n "$terraform_flag" ]]; then
  fail "--both picks the two terraforms itself: give it or --terraform, not both"
fi
if [[ -z "$terraform_flag" ]]; then
  tf="${TERRAFORM:-$(command -v terraform || true)}"
  if [[ -z "$tf" && -x /usr/local/bin/terraform ]]; then
    tf=/usr/local/bin/terraform
  fi
  [[ -n "$tf" && -x "$tf" ]] ||
    fail "terraform not found: install Terraform >= 1.4 (https://developer.hashicorp.com/terraform/install)."
  export TERRAFORM="$tf"
fi
if [[ -n "$both" ]]; then
  tf15="$(bash "$repo/scripts/install-terraform.sh")" ||
    fail "could not install Terraform 1.15.5 (scripts/install-terraform.sh)"
  set -- --terraform "$TERRAFORM" --terraform "$tf15" "$@"
fi

# The plot's text needs a TrueType font (plotters draws it with ab_glyph, no
# fontconfig). DejaVu Sans comes from Debian's fonts-dejavu-core; without it
# the plot is drawn without text and the report says which line is which.
font="${BENCH_FONT:-/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf}"
if [[ ! -r "$font" && -z "${BENCH_NO_INSTALL:-}" && "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
  echo "bench: installing fonts-dejavu-core for the plot's text" >&2
  apt-get install -y -qq --no-install-recommends fonts-dejavu-core >/dev/null 2>&1 ||
    echo "bench: could not install it; the plot will have no text" >&2
fi
export BENCH_FONT="$font"

# The instructions section runs the provider under valgrind's callgrind.
if ! command -v valgrind >/dev/null && [[ -z "${BENCH_NO_INSTALL:-}" && "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
  echo "bench: installing valgrind for the instructions section" >&2
  apt-get install -y -qq --no-install-recommends valgrind >/dev/null 2>&1 ||
    echo "bench: could not install it; the instructions section will report an error" >&2
fi

# Scratch space for everything the benchmark creates (Terraform working
# directories, plugin sockets): removed on every exit, even if parallel-bench
# itself is killed (its children die with it).
scratch="$(mktemp -d "${TMPDIR:-/tmp}/parallel-bench-run.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "bench: building release binaries" >&2
(cd "$repo" && cargo build --release -p terraform-provider-parallel -p parallel-bench-floor -p parallel-emulator -p parallel-bench)
# Ask cargo where it built, so CARGO_TARGET_DIR and .cargo/config are honoured.
target_dir="$(cd "$repo" && cargo metadata --format-version 1 --no-deps |
  sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
[[ -n "$target_dir" ]] || fail "cannot find cargo's target directory"
release="$target_dir/release"

status=0
TMPDIR="$scratch" "$release/parallel-bench" \
  --bin-dir "$release" --out-dir "$target_dir/bench" "$@" || status=$?
exit "$status"
