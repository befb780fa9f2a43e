# Terraform 1.10 or later. A key that exists only while Terraform runs: made
# when the ephemeral resource is opened, revoked when it is closed, and never
# written to the state or a plan file. Terraform opens it in each phase that
# needs it, so `terraform plan` and `terraform apply` each make (and revoke)
# a key of their own.
data "parallel_app" "ci" {
  app_name = "ci"
}

ephemeral "parallel_api_key" "smoke_test" {
  app_id       = data.parallel_app.ci.app_id
  api_key_name = "ci-smoke-test"
}

# A smoke test that runs at every apply with a fresh key; ephemeral values
# may be used in provisioners.
resource "terraform_data" "smoke_test" {
  triggers_replace = [timestamp()]

  provisioner "local-exec" {
    command = "./smoke-test.sh"
    environment = {
      PARALLEL_API_KEY = ephemeral.parallel_api_key.smoke_test.raw_api_key
    }
  }
}
