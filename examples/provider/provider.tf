terraform {
  required_providers {
    parallel = {
      source  = "parallel-web/parallel"
      version = "~> 0.1"
    }
  }
}

# With no arguments the provider reads PARALLEL_ACCESS_TOKEN and talks to
# https://api.parallel.ai/account, which is what most configurations want:
# it keeps the token out of the configuration files.
provider "parallel" {}

# Every argument, for reference. Values set here win over the environment.
provider "parallel" {
  alias = "tuned"

  # An Account API access token from Parallel's OAuth device flow (not an
  # ordinary API key). Prefer the PARALLEL_ACCESS_TOKEN environment variable.
  access_token = var.parallel_access_token

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
