# One app per service, each with its own key.
resource "parallel_app" "search" {
  app_name = "search-service"
}

resource "parallel_api_key" "search" {
  app_id       = parallel_app.search.app_id
  api_key_name = "search-service"
}

# An app moved out of this configuration without deleting it: with ABANDON,
# destroying (or removing) the resource leaves the app and its keys alive.
resource "parallel_app" "legacy" {
  app_name        = "legacy-batch"
  deletion_policy = "ABANDON"
}
