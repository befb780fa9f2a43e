# Find an app by name instead of hard-coding its UUID.
data "parallel_app" "reporting" {
  app_name = "reporting"
}

resource "parallel_api_key" "reporting" {
  app_id       = data.parallel_app.reporting.app_id
  api_key_name = "reporting-batch"
}
