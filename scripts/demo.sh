#!/usr/bin/env bash
# The whole job, end to end, with nothing but cargo and terraform:
#   build the provider and the emulator, package the provider as a registry
#   release and install that the way a user would (the zip in a filesystem
#   mirror, so `terraform init` works offline), apply the
#   quickstart against the emulator, rotate a key, destroy, clean up.
#   Credentials the way a user has them after `parallel-cli login` once: no
#   PARALLEL_ACCESS_TOKEN, only the CLI's saved login in HOME, whose access
#   tokens live a few seconds, so the provider refreshes them mid-run.
#
# Usage: bash scripts/demo.sh
# Env:   TERRAFORM=/path/to/terraform to pick a binary (default: PATH, then
#        /usr/local/bin/terraform).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
fail() {
  printf 'demo: %s\n' "$*" >&2
  exit 1
}

# --- prerequisites -----------------------------------------------------------

command -v cargo >/dev/null || fail "cargo not found: install Rust with rustup (https://rustup.rs)."
tf="${TERRAFORM:-$(command -v terraform || true)}"
if [[ -z "$tf" && -x /usr/local/bin/terraform ]]; then
  tf=/usr/local/bin/terraform
fi
[[ -n "$tf" && -x "$tf" ]] ||
  fail "terraform not found: install Terraform >= 1.4 (https://developer.hashicorp.com/terraform/install)."

# --- scratch space, removed on every exit -------------------------------------

scratch="$(mktemp -d "${TMPDIR:-/tmp}/parallel-demo.XXXXXX")" # mode 700: it will hold a token
emulator_pid=""
cleanup() {
  local status=$?
  if [[ -n "$emulator_pid" ]] && kill -0 "$emulator_pid" 2>/dev/null; then
    kill -TERM "$emulator_pid" 2>/dev/null || true
    wait "$emulator_pid" 2>/dev/null || true
  fi
  if [[ $status -ne 0 && -s "$scratch/emulator.err" ]]; then
    echo "--- emulator stderr (last lines) ---" >&2
    tail -n 20 "$scratch/emulator.err" >&2
  fi
  rm -rf "$scratch"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- build ---------------------------------------------------------------------

step "Building the provider and the emulator (debug)"
(cd "$repo" && cargo build --bins -p terraform-provider-parallel -p parallel-emulator)
# Ask cargo where it built, so CARGO_TARGET_DIR and .cargo/config are honoured.
target_dir="$(cd "$repo" && cargo metadata --format-version 1 --no-deps |
  sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
bin="$target_dir/debug"
provider_bin="$bin/terraform-provider-parallel"
[[ -x "$provider_bin" && -x "$bin/parallel-emulator" ]] || fail "built binaries not found in $bin"

# --- emulator --------------------------------------------------------------------

# Access tokens live this long; the applies below outlive several of them.
token_lifetime_s=3
home="$scratch/home"
step "Starting parallel-emulator (access tokens live ${token_lifetime_s}s), as if \`parallel-cli login\` had run"
# --cli-login-home saves a CLI login in $home, as `parallel-cli login` would;
# the latency makes every request take a while, so a run outlives a token.
"$bin/parallel-emulator" --seed-app demo-app --cli-login-home "$home" \
  --token-lifetime-s "$token_lifetime_s" --latency-ms 400 \
  >"$scratch/emulator.out" 2>"$scratch/emulator.err" &
emulator_pid=$!

emulator_value() { sed -n "s/^export $1=//p" "$scratch/emulator.out" | head -n 1; }
for _ in $(seq 100); do
  kill -0 "$emulator_pid" 2>/dev/null || fail "the emulator exited early"
  [[ -n "$(emulator_value PARALLEL_APP_ID)" ]] && break
  sleep 0.1
done
api_url="$(emulator_value PARALLEL_SERVICE_API_URL)"
access_token="$(emulator_value PARALLEL_ACCESS_TOKEN)"
app_id="$(emulator_value PARALLEL_APP_ID)"
platform_url="$(emulator_value PARALLEL_PLATFORM_URL)"
[[ -n "$api_url" && -n "$access_token" && -n "$app_id" && -n "$platform_url" ]] ||
  fail "the emulator did not print its address, token and app ID within 10s"
auth_file="$home/.config/parallel-web-tools/auth.json"
[[ -f "$auth_file" ]] || fail "the emulator did not save a CLI login in $auth_file"
echo "Emulator at $api_url, app $app_id; the saved login is $auth_file (tokens kept out of this output)"

# The provider reads these; terraform passes its environment on to it. No
# access token: the provider finds the saved login in HOME, and refreshes it
# at the platform (the emulator plays it too).
unset PARALLEL_ACCESS_TOKEN PARALLEL_CLI_AUTH_FILE
export PARALLEL_SERVICE_API_URL="$api_url" PARALLEL_PLATFORM_URL="$platform_url"

# The emulator's live keys as JSON, secrets included, from its admin route.
# Only curl or bash's /dev/tcp are needed, so a bare machine can run this.
emulator_keys_json() {
  if command -v curl >/dev/null; then
    curl -fsS "$api_url/_emulator/keys"
  else
    local hostport="${api_url#http://}"
    exec 3<>"/dev/tcp/${hostport%%:*}/${hostport##*:}"
    printf 'GET /_emulator/keys HTTP/1.0\r\nHost: %s\r\n\r\n' "$hostport" >&3
    sed '1,/^\r$/d' <&3
    exec 3<&-
  fi
}
# How many refresh grants the platform has served, and every token it issued.
emulator_logins_json() {
  if command -v curl >/dev/null; then
    curl -fsS "$api_url/_emulator/logins"
  else
    local hostport="${api_url#http://}"
    exec 3<>"/dev/tcp/${hostport%%:*}/${hostport##*:}"
    printf 'GET /_emulator/logins HTTP/1.0\r\nHost: %s\r\n\r\n' "$hostport" >&3
    sed '1,/^\r$/d' <&3
    exec 3<&-
  fi
}
refreshes() { emulator_logins_json | sed -n 's/.*"refreshes":\([0-9]*\).*/\1/p'; }
login_secrets() { emulator_logins_json | sed -n 's/.*"issued_secrets":\[\([^]]*\)\].*/\1/p' | tr ',' '\n' | tr -d '"'; }

# One key record per line (the records are flat JSON objects).
key_records() { tr '{' '\n' <<<"$1" | grep '"api_key_id"' || true; }
count_keys() { key_records "$1" | wc -l | tr -d ' '; }
field_of() { sed -n "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p"; }
raw_key_of() { key_records "$1" | grep -F "\"api_key_id\":\"$2\"" | field_of raw_api_key; }
show_keys() {
  local record
  while IFS= read -r record; do
    printf '  %-12s %s  %s\n' "$(field_of api_key_name <<<"$record")" \
      "$(field_of api_key_id <<<"$record")" "$(field_of display_value <<<"$record")"
  done < <(key_records "$1")
}
# Every secret the emulator ever handed out, to prove none reached the output.
remember_secrets() { key_records "$1" | field_of raw_api_key >>"$scratch/secrets"; }

# --- install the provider through a filesystem mirror ---------------------------

step "Packaging the provider as a release and installing it from a filesystem mirror"
# The files of a registry release (scripts/release.sh), made from the debug
# build; the zip goes into a packed mirror: HOST/NAMESPACE/TYPE/<zip>.
bash "$repo/scripts/release.sh" --binary "$provider_bin" --out "$scratch/dist"
(cd "$scratch/dist" && sha256sum -c terraform-provider-parallel_*_SHA256SUMS) ||
  fail "the release files do not match their SHA256SUMS"
mirror="$scratch/mirror"
package_dir="$mirror/registry.terraform.io/parallel-web/parallel"
mkdir -p "$package_dir"
cp "$scratch"/dist/terraform-provider-parallel_*.zip "$package_dir/"

# This provider comes only from the mirror; anything else (there is nothing
# else in the quickstart) would come from its registry as usual.
cat >"$scratch/terraformrc" <<EOF
provider_installation {
  filesystem_mirror {
    path    = "$mirror"
    include = ["registry.terraform.io/parallel-web/parallel"]
  }
  direct {
    exclude = ["registry.terraform.io/parallel-web/parallel"]
  }
}
EOF
export TF_CLI_CONFIG_FILE="$scratch/terraformrc"
export TF_IN_AUTOMATION=1 TF_INPUT=0 CHECKPOINT_DISABLE=1
ls "$package_dir"

# --- the quickstart ---------------------------------------------------------------

work="$scratch/quickstart"
cp -R "$repo/examples/quickstart" "$work"
# Leftovers from someone running terraform in examples/ must not leak in.
rm -rf "$work/.terraform" "$work/.terraform.lock.hcl" "$work"/terraform.tfstate*
# Everything terraform prints is also logged, to be searched for secrets.
# HOME is where the saved login is, as for a user who ran `parallel-cli login`.
terraform() { HOME="$home" "$tf" -chdir="$work" "$@" 2>&1 | tee -a "$scratch/terraform.log"; }
# For values read into the script, which must not reach the screen or log.
terraform_quiet() { HOME="$home" "$tf" -chdir="$work" "$@"; }
: >"$scratch/secrets"

step "terraform init (offline, from the mirror)"
terraform init -input=false
echo "(The lock file warning is expected: a mirror has no registry-signed checksums, so"
echo " the lock file pins only this platform's package; see the README.)"

step "terraform apply (with the saved login only; its access token outlives no run)"
terraform apply -auto-approve -input=false -var "app_id=$app_id"
echo "The provider refreshed the login $(refreshes) time(s) so far, saving each rotated token in $auth_file."

step "terraform output (the secrets stay hidden)"
terraform output

step "The emulator now holds these keys (name, ID, masked value)"
keys="$(emulator_keys_json)"
remember_secrets "$keys"
show_keys "$keys"
[[ "$(count_keys "$keys")" == 3 ]] || fail "expected 3 live keys, found $(count_keys "$keys")"
key_id="$(terraform_quiet output -raw api_key_id)"
secret="$(raw_key_of "$keys" "$key_id")"
[[ -n "$secret" ]] || fail "the emulator has no live key $key_id"
[[ "$(terraform_quiet output -raw consumer_received)" == "$secret" ]] ||
  fail "the consumer did not receive the key the emulator issued"
echo "Key $key_id is live, and the consumer received exactly its secret."

step "Rotating the quickstart key (keepers changed, create_before_destroy)"
terraform apply -auto-approve -input=false -var "app_id=$app_id" -var key_generation=2
new_id="$(terraform_quiet output -raw api_key_id)"
[[ "$new_id" != "$key_id" ]] || fail "rotation kept the same key"
keys="$(emulator_keys_json)"
remember_secrets "$keys"
[[ -z "$(raw_key_of "$keys" "$key_id")" ]] || fail "the old key $key_id is still live after rotation"
[[ -n "$(raw_key_of "$keys" "$new_id")" ]] || fail "the new key $new_id is not live"
echo "Key $key_id was replaced by $new_id, then revoked."

step "terraform destroy"
terraform destroy -auto-approve -input=false -var "app_id=$app_id" -var key_generation=2
keys="$(emulator_keys_json)"
[[ "$(count_keys "$keys")" == 0 ]] || fail "$(count_keys "$keys") keys still live after destroy"
echo "No live keys left in the emulator."
refreshed="$(refreshes)"
[[ "$refreshed" -ge 1 ]] || fail "the saved login was never refreshed"
mode="$(stat -c %a "$auth_file" 2>/dev/null || stat -f %Lp "$auth_file")"
[[ "$mode" == 600 ]] || fail "$auth_file has mode $mode, not 600"
echo "Logged in once: $refreshed refreshes of ${token_lifetime_s}-second tokens, no PARALLEL_ACCESS_TOKEN, and $auth_file still has mode 600."

step "Checking that no secret was ever printed"
login_secrets >>"$scratch/secrets"
if grep -qF -f "$scratch/secrets" "$scratch/terraform.log" ||
  grep -qF "$access_token" "$scratch/terraform.log"; then
  fail "a secret appeared in terraform's output"
fi
echo "None of the $(sort -u "$scratch/secrets" | wc -l | tr -d ' ') API keys and login tokens issued, nor the emulator's own token, appeared in the output."

step "Done: build, offline install, log in once, apply, rotate and destroy all worked."
