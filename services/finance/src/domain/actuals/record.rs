//! An upload and its payments once recorded, and when a payment sent again is the one
//! recorded before.

use chrono::{NaiveDate, NaiveDateTime};
use hub_platform::Pence;

use super::Payment;
use crate::ids::{PaymentId, UploadId};

hub_platform::code_enum! {
    /// How an upload's payments were sent.
    pub enum UploadFormat { Csv, Json }
}

/// One upload as recorded: what it was for, where its payments were counted, and what it
/// applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    pub id: UploadId,
    pub partnership: String,
    pub year: i32,
    /// The period the payments were sent for.
    pub requested_period: i32,
    /// The period they are counted in (the next open one for an adjustment).
    pub posted_period: i32,
    pub format: UploadFormat,
    /// What makes an upload the same upload (see `api::actuals`).
    pub content_sha256: String,
    pub rows_read: i32,
    /// Payments recorded by this upload.
    pub applied: i32,
    /// Payments skipped because the same payment was recorded before.
    pub already_recorded: i32,
    pub applied_pence: Pence,
    pub uploaded_by: String,
    pub uploaded_org: String,
    pub uploaded_at: NaiveDateTime,
}

/// One payment as recorded (an actual line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedPayment {
    pub id: PaymentId,
    pub upload_id: UploadId,
    pub partnership: String,
    pub council: String,
    pub year: i32,
    /// The period it is counted in.
    pub period: i32,
    /// For an adjustment: the closed period it belongs to.
    pub adjusts_period: Option<i32>,
    pub budget_line: String,
    pub amount_pence: Pence,
    pub payment_reference: String,
    pub paid_on: NaiveDate,
    pub provider_id: Option<String>,
    /// The payer's reference to what it pays for (free text of up to 64 characters).
    pub contract_id: Option<String>,
    /// The CSV line (header = 1) or JSON index it came from.
    pub line_no: i32,
    pub created_at: NaiveDateTime,
}

impl RecordedPayment {
    /// Whether `sent` (for `year`) is this payment sent again: its year, line, amount and date
    /// agree. A payment with the same reference that differs is a conflict.
    pub fn is_resent(&self, sent: &Payment, year: i32) -> bool {
        self.year == year
            && self.budget_line == sent.budget_line
            && self.amount_pence == sent.amount
            && self.paid_on == sent.paid_on
    }
}
