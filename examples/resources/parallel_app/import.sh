# An existing app is imported by its ID (data "parallel_apps" lists them):
terraform import parallel_app.search 3fa85f64-5717-4562-b3fc-2c963f66afa6

# or, with Terraform 1.12 and later, by identity in an import block:
#   import {
#     to       = parallel_app.search
#     identity = { app_id = "3fa85f64-5717-4562-b3fc-2c963f66afa6" }
#   }
