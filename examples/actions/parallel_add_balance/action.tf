# Terraform 1.14 or later. Adds $25.00 to the organization's prepaid
# balance, charged to its default payment method, only when invoked:
#
#   terraform apply -invoke=action.parallel_add_balance.top_up
#
# Each invocation is a new charge (a new idempotency key is generated for
# it). If an invocation fails in a way that leaves the charge uncertain, the
# error shows the key it used: set idempotency_key to it and invoke again,
# within 24 hours, to find out without being charged twice.
action "parallel_add_balance" "top_up" {
  config {
    amount_cents = 2500
    # idempotency_key = "key-from-the-error-message"
  }
}
