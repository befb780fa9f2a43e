//! One file per action type (Terraform 1.14 and later).

pub mod add_balance;
