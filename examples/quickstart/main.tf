# Quickstart: one key handed to a consumer, plus one key per service from a
# local module. Needs only the parallel provider (terraform_data is built
# into Terraform), so it also runs offline against the emulator.
#
#   export PARALLEL_ACCESS_TOKEN=...            # Account API access token
#   terraform init
#   terraform apply -var app_id=<your app's UUID>

terraform {
  # terraform_data arrived in Terraform 1.4.
  required_version = ">= 1.4"

  required_providers {
    parallel = {
      source  = "parallel-web/parallel"
      version = "~> 0.1"
    }
  }
}

# Token from PARALLEL_ACCESS_TOKEN, API address from PARALLEL_SERVICE_API_URL
# (or the public API), so nothing secret lives in this file.
provider "parallel" {}

variable "app_id" {
  description = "UUID of the Parallel app the keys belong to."
  type        = string
}

variable "key_generation" {
  description = "Change this value to rotate the quickstart key."
  type        = string
  default     = "1"
}

resource "parallel_api_key" "quickstart" {
  app_id       = var.app_id
  api_key_name = "quickstart"

  keepers = {
    generation = var.key_generation
  }

  # Rotation creates the new key before revoking the old one.
  lifecycle {
    create_before_destroy = true
  }
}

# Stands in for the real consumer of the key (a secret manager entry, a
# Kubernetes secret, a CI variable...). The key goes in triggers_replace
# rather than input: terraform_data copies input to its output attribute
# without the sensitive mark, which would print the secret in plans
# (hashicorp/terraform#35609). A new key replaces the consumer too.
resource "terraform_data" "consumer" {
  triggers_replace = {
    api_key = parallel_api_key.quickstart.raw_api_key
  }
}

module "service_keys" {
  source = "./modules/app_keys"

  app_id   = var.app_id
  services = ["search", "extract"]
}

output "api_key_id" {
  value = parallel_api_key.quickstart.api_key_id
}

output "api_key_display_value" {
  description = "Masked form of the key, safe to show."
  value       = parallel_api_key.quickstart.display_value
}

output "api_key" {
  description = "The secret. Read it with: terraform output -raw api_key"
  value       = parallel_api_key.quickstart.raw_api_key
  sensitive   = true
}

output "consumer_received" {
  description = "What the consumer was given (the same secret)."
  value       = terraform_data.consumer.triggers_replace.api_key
  sensitive   = true
}

output "service_key_ids" {
  value = module.service_keys.api_key_ids
}

output "service_keys" {
  value     = module.service_keys.raw_api_keys
  sensitive = true
}
