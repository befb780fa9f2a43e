terraform {
  required_providers {
    parallel = {
      source  = "parallel-web/parallel"
      version = "~> 0.1"
    }
  }
}

# With no arguments the provider uses PARALLEL_ACCESS_TOKEN when it is set
# (CI), else the login `parallel-cli login` saved, which it refreshes itself;
# it talks to https://api.parallel.ai/account. No secret in your files.
provider "parallel" {}

# Every argument, for reference. Values set here win over the environment.
provider "parallel" {
  alias = "tuned"

  # An Account API access token from Parallel's OAuth device flow (not an
  # ordinary API key). Prefer the PARALLEL_ACCESS_TOKEN environment variable.
  access_token = var.parallel_access_token

  # Or, without access_token: the Parallel CLI's saved login in another file
  # (defaults to PARALLEL_CLI_AUTH_FILE, then
  # ~/.config/parallel-web-tools/auth.json), for one of its organizations
  # (defaults to the one the CLI selected).
  # cli_auth_file = "/secure/parallel/auth.json"
  # org_id        = "4f6e0c9a-1b2d-4e8f-9a3c-5d7e1f2a3b4c"

  # Defaults to PARALLEL_SERVICE_API_URL, then the public API.
  base_url = "https://api.parallel.ai/account"

  max_retries     = 6
  request_timeout = "45s"

  # Extra CAs to trust, for a TLS-inspecting corporate proxy.
  ca_cert_file = "/etc/ssl/certs/corporate-proxy-ca.pem"
}

variable "parallel_access_token" {
  type      = string
  sensitive = true
}
