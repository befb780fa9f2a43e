# terraform test, offline: run it against parallel-emulator with
#   PARALLEL_SERVICE_API_URL and PARALLEL_ACCESS_TOKEN from the emulator, and
#   terraform test -var "app_id=$PARALLEL_APP_ID"
# Every run applies for real (keys are created on the emulator); at the end
# terraform test destroys what the runs created, which revokes the keys.

variables {
  services = ["search", "extract"]
}

run "creates_one_key_per_service" {
  assert {
    condition     = keys(output.api_key_ids) == ["extract", "search"]
    error_message = "Expected one key for each of extract and search."
  }

  assert {
    condition     = parallel_api_key.service["search"].api_key_name == "svc-search"
    error_message = "Key names must be the prefix followed by the service."
  }

  # The secrets are there, and differ from their masked form; the assertion
  # compares them without printing them (they are sensitive).
  assert {
    condition     = alltrue([for service, key in output.raw_api_keys : key != "" && key != output.display_values[service]])
    error_message = "Every service must get a secret, distinct from its masked value."
  }
}

run "a_new_generation_rotates_every_key" {
  variables {
    generation = "2"
  }

  assert {
    condition     = alltrue([for service, id in output.api_key_ids : id != run.creates_one_key_per_service.api_key_ids[service]])
    error_message = "Changing generation must replace every key."
  }

  assert {
    condition     = keys(output.raw_api_keys) == ["extract", "search"]
    error_message = "The rotated keys must cover the same services."
  }
}

run "the_name_prefix_is_applied" {
  variables {
    services    = ["search"]
    name_prefix = "ci-"
  }

  assert {
    condition     = [for key in parallel_api_key.service : key.api_key_name] == ["ci-search"]
    error_message = "Only the search key, named ci-search, must remain."
  }
}
