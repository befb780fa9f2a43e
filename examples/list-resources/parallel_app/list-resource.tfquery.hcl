# Find existing apps with `terraform query` (Terraform 1.14 and later), and
# write import and resource blocks for them with
# `terraform query -generate-config-out=apps.tf`.
list "parallel_app" "services" {
  provider = parallel

  config {
    name_prefix = "svc-"
  }
}
