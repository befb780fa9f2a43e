#!/usr/bin/env bash
# Writes docs/ (the Terraform Registry documentation) from the provider's
# schema descriptions, the examples under examples/ and the hand-written
# templates under templates/, the way tfplugindocs would. The schema is what
# Terraform itself reports: `terraform providers schema -json`, with
# dev_overrides pointing at the debug build (no `terraform init`, so no
# network). docgen/ does the rendering; see its crate documentation.
#
# Usage: bash scripts/docs.sh           # rewrite docs/
#        bash scripts/docs.sh --check   # change nothing; list each file of
#                                       # docs/ that differs, is missing or is
#                                       # extra, and exit 1 if any
# Env:   TERRAFORM=/path/to/terraform to pick a binary. The default is
#        Terraform 1.15.5 from scripts/install-terraform.sh (installed on first
#        use), because Terraform 1.12 and later also report the resources'
#        identity schemas, which then appear on their pages.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

fail() {
  printf 'docs: %s\n' "$*" >&2
  exit 1
}

mode=()
case "${1:-}" in
  "") ;;
  --check) mode=(--check) ;;
  *) fail "unknown argument ${1}; usage: bash scripts/docs.sh [--check]" ;;
esac

command -v cargo >/dev/null || fail "cargo not found: install Rust with rustup (https://rustup.rs)."
tf="${TERRAFORM:-}"
if [[ -z "$tf" ]]; then
  tf=$(bash "$repo/scripts/install-terraform.sh") || fail "installing Terraform 1.15.5 failed (see above)."
fi
[[ -x "$tf" ]] || fail "TERRAFORM=$tf is not an executable."

cd "$repo"
cargo build --quiet -p terraform-provider-parallel -p docgen --bins
bin="${CARGO_TARGET_DIR:-$repo/target}/debug"

exec "$bin/docgen" ${mode[@]+"${mode[@]}"} \
  --root "$repo" \
  --provider-source parallel-web/parallel \
  --provider-dir "$bin" \
  --terraform "$tf"
