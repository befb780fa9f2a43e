variable "app_id" {
  description = "UUID of the Parallel app the keys belong to."
  type        = string
}

# The simplest key. Its secret is in raw_api_key, marked sensitive.
resource "parallel_api_key" "basic" {
  app_id       = var.app_id
  api_key_name = "reporting-batch"
}

# A key rotated by changing a keeper: Terraform creates the replacement
# first, points consumers at it, and only then revokes the old key.
variable "search_key_generation" {
  description = "Bump to rotate the search service's key."
  type        = string
  default     = "2025-01"
}

resource "parallel_api_key" "search" {
  app_id       = var.app_id
  api_key_name = "search-service"

  keepers = {
    generation = var.search_key_generation
  }

  timeouts {
    create = "2m"
    delete = "2m"
  }

  lifecycle {
    create_before_destroy = true
  }
}

# Handing the key to whatever consumes it. terraform_data stands in here for
# a secret store entry, a Kubernetes secret, a CI variable and so on; the
# sensitive mark travels with the value, so plans show (sensitive value).
# (Not terraform_data's input: it is copied to the output attribute without
# the mark, which would print the secret in plans.)
resource "terraform_data" "search_service_config" {
  # Any change, such as a rotation, re-delivers the key.
  triggers_replace = {
    api_key    = parallel_api_key.search.raw_api_key
    api_key_id = parallel_api_key.search.api_key_id
  }
}

# From a module, outputs that carry the secret must be marked sensitive.
output "search_api_key" {
  value     = parallel_api_key.search.raw_api_key
  sensitive = true
}

# The masked form is safe to show.
output "search_api_key_display" {
  value = parallel_api_key.search.display_value
}

# One key per service, each with its own name.
resource "parallel_api_key" "service" {
  for_each = toset(["search", "extract"])

  app_id       = var.app_id
  api_key_name = "svc-${each.key}"
}
