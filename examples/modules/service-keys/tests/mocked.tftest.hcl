# Plan-level tests with a mocked provider (Terraform >= 1.7): no API, no
# emulator, no token. Terraform starts the provider only to read its
# schema; every resource is planned and "applied" by the mock, whose
# computed attributes take the defaults below. Use it for what needs no
# real key: names, for_each shapes, validation. The emulator-backed
# service_keys.tftest.hcl covers what a real apply does (creating,
# rotating, revoking).

mock_provider "parallel" {
  mock_resource "parallel_api_key" {
    defaults = {
      api_key_id    = "00000000-0000-4000-8000-000000000001"
      display_value = "mock-***0001"
      raw_api_key   = "mock-secret"
    }
  }
}

variables {
  app_id   = "6f9a3c2e-1b7d-4e58-9c0a-2d4b6e8f1a3c"
  services = ["search", "extract", "chat"]
}

run "one_key_per_service_named_with_the_prefix" {
  command = plan

  assert {
    condition     = keys(parallel_api_key.service) == ["chat", "extract", "search"]
    error_message = "Expected one key for each of chat, extract and search."
  }

  assert {
    condition     = [for key in parallel_api_key.service : key.api_key_name] == ["svc-chat", "svc-extract", "svc-search"]
    error_message = "Key names must be the default prefix followed by the service."
  }

  assert {
    condition     = alltrue([for key in parallel_api_key.service : key.keepers.generation == "1"])
    error_message = "Every key must carry the module's generation as a keeper."
  }
}

run "prefix_and_generation_reach_every_key" {
  command = plan

  variables {
    name_prefix = "ci-"
    generation  = "7"
  }

  assert {
    condition     = alltrue([for service, key in parallel_api_key.service : key.api_key_name == "ci-${service}" && key.keepers.generation == "7"])
    error_message = "name_prefix and generation must reach every key."
  }
}

run "outputs_carry_what_the_keys_return" {
  # Applied by the mock: the computed attributes are the defaults above.
  assert {
    condition     = output.api_key_ids == { chat = "00000000-0000-4000-8000-000000000001", extract = "00000000-0000-4000-8000-000000000001", search = "00000000-0000-4000-8000-000000000001" }
    error_message = "api_key_ids must map each service to its key's ID."
  }

  assert {
    condition     = output.raw_api_keys["search"] == "mock-secret"
    error_message = "raw_api_keys must map each service to its key's secret."
  }
}

run "a_service_name_with_spaces_is_refused" {
  command = plan

  variables {
    services = ["Search Service"]
  }

  expect_failures = [var.services]
}
