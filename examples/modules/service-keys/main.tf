# One API key per service, rotated together by changing `generation`.
# tests/ holds `terraform test` files: service_keys.tftest.hcl applies it
# against parallel-emulator, mocked.tftest.hcl plans it with a mocked
# provider (Terraform >= 1.7); see docs/guides/testing-modules-offline.md.

terraform {
  # terraform test arrived in Terraform 1.6.
  required_version = ">= 1.6"

  required_providers {
    parallel = {
      source  = "parallel-web/parallel"
      version = "~> 0.1"
    }
  }
}

variable "app_id" {
  description = "UUID of the Parallel app the keys belong to."
  type        = string
}

variable "services" {
  description = "Services that each get their own key, named \"<name_prefix><service>\"."
  type        = set(string)

  validation {
    condition     = alltrue([for service in var.services : can(regex("^[a-z0-9][a-z0-9-]*$", service))])
    error_message = "Service names are lowercase letters, digits and dashes, starting with a letter or digit."
  }
}

variable "name_prefix" {
  description = "Prefix of every key's name, to tell the keys apart in the Parallel platform."
  type        = string
  default     = "svc-"
}

variable "generation" {
  description = "Change this value to rotate every key of the module."
  type        = string
  default     = "1"
}

resource "parallel_api_key" "service" {
  for_each = var.services

  app_id       = var.app_id
  api_key_name = "${var.name_prefix}${each.key}"
  keepers      = { generation = var.generation }

  # A rotation creates the new keys before revoking the old ones.
  lifecycle {
    create_before_destroy = true
  }
}

output "api_key_ids" {
  description = "Key IDs by service."
  value       = { for service, key in parallel_api_key.service : service => key.api_key_id }
}

output "display_values" {
  description = "Masked keys by service, safe to show."
  value       = { for service, key in parallel_api_key.service : service => key.display_value }
}

output "raw_api_keys" {
  description = "The secrets by service."
  value       = { for service, key in parallel_api_key.service : service => key.raw_api_key }
  sensitive   = true
}
