# Every app of the organization, for example to look one up by name or to
# report on them.
data "parallel_apps" "all" {}

output "app_names" {
  value = [for app in data.parallel_apps.all.apps : app.app_name]
}
