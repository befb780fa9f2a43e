# The organization's prepaid balance, read at every plan.
data "parallel_balance" "org" {}

output "credit_dollars" {
  value = data.parallel_balance.org.credit_balance_cents / 100
}

# Fail the plan early when the credit runs low (invoice-billed
# organizations show 0 and are left alone).
check "enough_credit" {
  assert {
    condition     = data.parallel_balance.org.will_invoice || data.parallel_balance.org.credit_balance_cents >= 500
    error_message = "Less than $5.00 of Parallel credit left: top it up with the parallel_add_balance action."
  }
}
