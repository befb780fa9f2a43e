variable "app_id" {
  description = "UUID of the Parallel app the keys belong to."
  type        = string
}

# A key replaced every 30 days. After each rotation the replaced key stays
# valid for 24 hours, so services that read their secret only at start-up
# have a day to pick up the new one; an apply after that revokes it.
# Run terraform (plan and apply) at least daily, for example from CI.
resource "parallel_rotating_api_key" "search" {
  app_id       = var.app_id
  name_prefix  = "search"
  rotate_after = "720h"
  overlap      = "24h"

  # Change a value to rotate now, in place, with the same overlap.
  keepers = {
    generation = "1"
  }
}

# Whatever consumes the key gets the new one in the apply that rotates it.
# terraform_data stands in here for a secret store entry, a Kubernetes
# secret, a CI variable and so on. create_before_destroy makes the new
# consumer before the old one goes, so a failed rotation leaves the old one.
resource "terraform_data" "search_service_config" {
  triggers_replace = {
    api_key    = parallel_rotating_api_key.search.raw_api_key
    api_key_id = parallel_rotating_api_key.search.api_key_id
  }

  lifecycle {
    create_before_destroy = true
  }
}

# Outputs that carry the secret must be marked sensitive.
output "search_api_key" {
  value     = parallel_rotating_api_key.search.raw_api_key
  sensitive = true
}

# Safe to show: when the next rotation is due, and the previous key, if any.
output "search_key_rotates_at" {
  value = parallel_rotating_api_key.search.rotates_at
}

output "search_previous_key_revoked_at" {
  value = parallel_rotating_api_key.search.previous_revoke_at
}
