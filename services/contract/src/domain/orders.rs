//! Orders: the call-off under a framework that the council (the purchasing body) issues to
//! the provider a competition or direct award chose. No I/O.

use chrono::NaiveDate;
use hub_platform::http::Validate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::working_days::add_working_days;

/// Where an order is in its life. An order is immutable once signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// Sent to the awarded provider, waiting for its signature.
    Issued,
    /// Signed by the provider: the contract for the placement exists.
    Signed,
}

impl OrderStatus {
    pub fn code(self) -> &'static str {
        match self {
            Self::Issued => "issued",
            Self::Signed => "signed",
        }
    }
}

/// The day by which an order issued on `issued_on` must be signed: `working_days` England
/// and Wales working days later (`[contract] sign_within_working_days`).
pub fn order_due_by(issued_on: NaiveDate, working_days: u32) -> NaiveDate {
    add_working_days(issued_on, working_days)
}

/// `POST /v1/orders/{id}/sign`: no body, or an empty JSON object.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignOrder {}

impl Validate for SignOrder {}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn orders_are_due_five_working_days_after_issue() {
        // Monday 12 January 2026 → Monday 19 January.
        assert_eq!(order_due_by(d(2026, 1, 12), 5), d(2026, 1, 19));
        // Friday 16 January → Friday 23 January; issued on a Saturday → Friday 23 January too.
        assert_eq!(order_due_by(d(2026, 1, 16), 5), d(2026, 1, 23));
        assert_eq!(order_due_by(d(2026, 1, 17), 5), d(2026, 1, 23));
        // Easter 2026: Good Friday 3 April and Easter Monday 6 April do not count.
        // Thursday 2 April → Tue 7, Wed 8, Thu 9, Fri 10, Mon 13 April.
        assert_eq!(order_due_by(d(2026, 4, 2), 5), d(2026, 4, 13));
        // Christmas 2026: Fri 25 and Mon 28 (Boxing Day substitute) and Fri 1 January do not count.
        // Thursday 24 December → Tue 29, Wed 30, Thu 31, Mon 4, Tue 5 January 2027.
        assert_eq!(order_due_by(d(2026, 12, 24), 5), d(2027, 1, 5));
    }
}
