//! Payments (actuals) as a finance lead sends them: a CSV file or a JSON list, read and
//! checked line by line. No I/O.
//!
//! CSV: a header line, then one payment a line. Columns (any order, names as here):
//! `payment_reference`, `paid_on` (`2018-06-30` or `30/06/2018`), `budget_line`, `amount`
//! (pounds and pence: `1234.56`, `-12.5`, `£1,234.56`), and optionally `council` (GSS code;
//! the uploader's own council if absent), `provider_id`, `contract_id`, `adjusts_period`.
//! No free text: a payment file must not carry a child's details. Every problem names its
//! line and column as `/rows/<line>/<column>` (the header is line 1); in JSON
//! `/payments/<index>/<field>`.
//!
//! **A payment belongs to its period.** Payments are uploaded for a period, and each one's
//! `paid_on` must fall within that period (a December payment sent for June is refused:
//! 422 naming its `paid_on`), so a period's actual is the money paid in it. The one
//! exception is an explicit adjustment: a payment of an earlier period of the same year that
//! was recorded late says so with `adjusts_period` (the period, 1–12, it was paid in, earlier
//! than the period uploaded for); its `paid_on` must fall within *that* period. It is
//! counted in the period uploaded for (or, for a closed period sent with `adjust=true`, the
//! next open one), and keeps the period it adjusts as its trail. A payment can never be
//! dated in a later period than the one it is counted in.
//!
//! **Amounts are bounded.** A payment line is at most `Pence::MAX_PAYMENT_LINE`
//! (£10,000,000.00) either way; anything larger (and `i64::MIN`, whose absolute value does
//! not exist) is 422 naming the amount.
//!
//! Seams: `parse` reads a CSV file or a JSON list into [`Payment`]s; `check` holds them to
//! the rules; `record` is what an upload and its payments are once recorded.

mod check;
mod parse;
mod record;

use chrono::NaiveDate;
use hub_platform::{FieldError, Pence};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use check::{Rules, check};
pub use parse::{ReadCsv, from_json, parse_date, parse_pounds, read_csv};
pub use record::{RecordedPayment, Upload, UploadFormat};

pub const REQUIRED_COLUMNS: [&str; 4] = ["payment_reference", "paid_on", "budget_line", "amount"];
pub const OPTIONAL_COLUMNS: [&str; 4] = ["council", "provider_id", "contract_id", "adjusts_period"];
/// The most rows one upload may have.
pub const MAX_ROWS: usize = 50_000;

/// One payment as sent in JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ActualsPaymentIn)]
pub struct PaymentIn {
    /// The payer's own reference; a payment is recorded once per council and reference.
    pub payment_reference: String,
    pub paid_on: NaiveDate,
    pub budget_line: String,
    /// Negative for a refund or credit.
    pub amount_pence: Pence,
    /// GSS code; the uploader's own council if absent.
    #[serde(default)]
    pub council: Option<String>,
    #[serde(default)]
    pub provider_id: Option<String>,
    /// The order, placement, block or service contract it pays for, if any.
    #[serde(default)]
    pub contract_id: Option<String>,
    /// For a payment of an earlier period recorded late: the period (1–12) it was paid in,
    /// earlier than the period uploaded for; `paid_on` must fall within it.
    #[serde(default)]
    pub adjusts_period: Option<i32>,
}

/// A payment read from a file or a JSON list, with where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    /// The CSV line (header = 1) or the JSON list index.
    pub line: usize,
    pub payment_reference: String,
    pub paid_on: NaiveDate,
    pub budget_line: String,
    pub amount: Pence,
    pub council: Option<String>,
    pub provider_id: Option<String>,
    pub contract_id: Option<String>,
    /// An explicit adjustment: the earlier period it was paid in.
    pub adjusts_period: Option<i32>,
}

/// Orders errors by the line (or index) their field names, keeping their order within it.
pub fn by_line(mut errors: Vec<FieldError>) -> Vec<FieldError> {
    errors.sort_by_key(|e| {
        e.field
            .split('/')
            .nth(2)
            .and_then(|n| n.parse::<usize>().ok())
            .unwrap_or(0)
    });
    errors
}
