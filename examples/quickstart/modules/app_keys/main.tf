# One API key per service, named "<name_prefix><service>".

terraform {
  # A child module must name the provider's source too: without it Terraform
  # would look for hashicorp/parallel.
  required_providers {
    parallel = {
      source = "parallel-web/parallel"
    }
  }
}

variable "app_id" {
  description = "UUID of the Parallel app the keys belong to."
  type        = string
}

variable "services" {
  description = "Services that each get their own key."
  type        = set(string)
}

variable "name_prefix" {
  description = "Prefix of every key's name, to tell the keys apart in the Parallel platform."
  type        = string
  default     = "svc-"
}

resource "parallel_api_key" "service" {
  for_each = var.services

  app_id       = var.app_id
  api_key_name = "${var.name_prefix}${each.key}"

  lifecycle {
    create_before_destroy = true
  }
}

output "api_key_ids" {
  description = "Key IDs by service."
  value       = { for service, key in parallel_api_key.service : service => key.api_key_id }
}

output "raw_api_keys" {
  description = "The secrets by service."
  value       = { for service, key in parallel_api_key.service : service => key.raw_api_key }
  sensitive   = true
}
