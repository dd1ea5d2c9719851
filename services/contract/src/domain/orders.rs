//! Orders: the call-off under a framework that the council (the purchasing body) issues to
//! the provider a competition or direct award chose. No I/O.

use chrono::{Days, NaiveDate, NaiveDateTime};
use hub_platform::{FieldError, Pence, Principal, Problem, Role, http::Validate};
use serde::Deserialize;
use utoipa::ToSchema;

use super::{Visible, is_council_staff, may_see, text_errors, working_days::add_working_days};
use crate::ids::{CompetitionId, FrameworkId, LotId, OrderId, ReferralId, VariationId};

/// An order: the call-off the council issues to the provider an award chose, and what became
/// of it (signed, declined, its agreed timescale, whether raised overdue).
#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    pub id: OrderId,
    pub competition_id: CompetitionId,
    pub referral_id: ReferralId,
    pub council: String,
    pub partnership: String,
    pub provider_id: String,
    pub framework_id: FrameworkId,
    pub weekly_rate_pence: Pence,
    pub start_date: NaiveDate,
    pub status: OrderStatus,
    pub issued_at: NaiveDateTime,
    pub due_by: NaiveDate,
    pub signed_by: Option<String>,
    pub signed_at: Option<NaiveDateTime>,
    pub lot_id: Option<LotId>,
    /// A direct award in an emergency: placed before it is signed.
    pub emergency: bool,
    pub timescale_agreed_with: Option<String>,
    pub timescale_recorded_by: Option<String>,
    pub timescale_recorded_at: Option<NaiveDateTime>,
    pub late: bool,
    pub declined_by: Option<String>,
    pub declined_at: Option<NaiveDateTime>,
    pub decline_reason: Option<DeclineReason>,
    /// The provider's own words: kept in this service only.
    pub decline_detail: Option<String>,
    /// When the sweep raised it overdue (once per due day).
    pub overdue_raised_at: Option<NaiveDateTime>,
    /// Raised at every change: the order's `ETag`.
    pub revision: i64,
}

impl Order {
    /// `who` is a user of the provider the order was awarded to; 403 otherwise.
    pub fn provider_acts(&self, who: &Principal) -> Result<(), Problem> {
        if who.is_provider() && who.org == self.provider_id {
            return Ok(());
        }
        Err(Problem::forbidden(
            "only the provider the order was awarded to",
        ))
    }

    /// `who` is a commissioner of the order's council; 403 otherwise.
    pub fn commissioner_acts(&self, who: &Principal) -> Result<(), Problem> {
        if is_council_staff(who, &self.council) && who.has(Role::Commissioner) {
            return Ok(());
        }
        Err(Problem::forbidden("a commissioner of the order's council"))
    }

    /// Only an emergency order still issued has its signature timescale agreed: 409
    /// `/problems/not-an-emergency-order` for a normal order.
    pub fn agree_timescale(&self) -> Result<(), Problem> {
        if !self.emergency {
            return Err(Problem::conflict(
                "not-an-emergency-order",
                "a normal order is due back in the set number of working days",
            ));
        }
        self.status.agree_timescale()
    }

    /// A placement may be made under it now (see [`OrderStatus::place`]).
    pub fn place(&self) -> Result<(), Problem> {
        self.status.place(self.emergency)
    }
}

/// Its council's staff and the provider it was awarded to (see [`may_see`]).
impl Visible for Order {
    const WHAT: &'static str = "order";

    fn visible_to(&self, who: &Principal) -> bool {
        may_see(who, &self.council, &self.provider_id)
    }
}

/// A change to a signed order, recorded on its own (the order itself never changes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderVariation {
    pub id: VariationId,
    pub order_id: OrderId,
    /// 1, 2, … in the order they were recorded (the store numbers it when it adds it).
    pub seq: i32,
    pub what: String,
    pub why: String,
    pub effective_from: NaiveDate,
    pub recorded_by: String,
    pub recorded_by_org: String,
    pub recorded_at: NaiveDateTime,
}

hub_platform::code_enum! {
/// Where an order is in its life. An order is immutable once signed.
pub enum OrderStatus {
    /// Sent to the awarded provider, waiting for its signature.
    Issued,
    /// Signed by the provider: the contract for the placement exists.
    Signed,
    /// Declined by the provider, with its reason.
    Declined,
}
}

impl OrderStatus {
    /// Issued → signed by the provider (the caller records whether late).
    pub fn sign(self) -> Result<Self, Problem> {
        self.issued().map(|()| Self::Signed)
    }

    /// Issued → declined by the provider.
    pub fn decline(self) -> Result<Self, Problem> {
        self.issued().map(|()| Self::Declined)
    }

    /// Only an issued order has its signature timescale agreed.
    pub fn agree_timescale(self) -> Result<(), Problem> {
        self.issued()
    }

    /// Only a signed order is varied (the order itself never changes).
    pub fn vary(self) -> Result<(), Problem> {
        if self == Self::Signed {
            return Ok(());
        }
        Err(Problem::conflict(
            "order-not-signed",
            format!("only a signed order is varied; this one is {self}"),
        ))
    }

    /// A placement is made under a signed order, or an emergency order before its signature.
    pub fn place(self, emergency: bool) -> Result<(), Problem> {
        if self == Self::Signed || (emergency && self == Self::Issued) {
            return Ok(());
        }
        Err(Problem::conflict(
            "order-not-signed",
            format!("the order is {self}; only an emergency order is placed before it is signed"),
        ))
    }

    /// Still issued: neither signed nor declined.
    fn issued(self) -> Result<(), Problem> {
        match self {
            Self::Issued => Ok(()),
            other => Err(not_issued(&other.to_string())),
        }
    }
}

/// 409 `/problems/order-not-issued`: the order is `status` (or "no longer issued" when a
/// concurrent change won the conditional UPDATE).
pub fn not_issued(status: &str) -> Problem {
    Problem::conflict("order-not-issued", format!("the order is {status}"))
}

/// An issued order not signed by its due day is overdue from the day after.
pub fn is_overdue(status: OrderStatus, due_by: NaiveDate, today: NaiveDate) -> bool {
    status == OrderStatus::Issued && today > due_by
}

/// A signature on a day after the order was due back is late (allowed, and recorded).
pub fn is_late(due_by: NaiveDate, signed_on: NaiveDate) -> bool {
    signed_on > due_by
}

/// The day by which an order issued on `issued_on` must be signed: `working_days` England
/// and Wales working days later (`[contract] sign_within_working_days`).
pub fn order_due_by(issued_on: NaiveDate, working_days: u32) -> NaiveDate {
    add_working_days(issued_on, working_days)
}

/// When an emergency order (a direct award) is due back signed until the parties have
/// agreed a timescale: `working_days` working days after the later of its issue and the
/// placement's start, since in an emergency the child may move in first and the signature
/// follow. The commissioner then records the agreed day ([`Timescale`]).
pub fn emergency_due_by(
    issued_on: NaiveDate,
    start_date: NaiveDate,
    working_days: u32,
) -> NaiveDate {
    add_working_days(issued_on.max(start_date), working_days)
}

/// The longest timescale that may be agreed for an emergency order, counted from its issue.
pub const MAX_TIMESCALE_DAYS: u64 = 90;

/// `PUT /v1/orders/{id}/timescale`: the signature timescale the council and the provider
/// agreed for an emergency order (4.4 of the LCR PPA paper).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[schema(as = OrderTimescale)]
#[serde(deny_unknown_fields)]
pub struct Timescale {
    /// The day by which the provider signs. It may already have passed when an agreement
    /// made by phone is recorded afterwards; a signature after it is then recorded late.
    pub due_by: NaiveDate,
    /// Who at the provider agreed it (a name or role).
    pub agreed_with: String,
}

impl Validate for Timescale {
    fn validate(&self) -> Vec<FieldError> {
        text_errors("/agreed_with", &self.agreed_with, true, 200)
    }
}

impl Timescale {
    /// The agreed day may be at most [`MAX_TIMESCALE_DAYS`] after the order was issued.
    pub fn due_by_error(&self, issued_on: NaiveDate) -> Option<FieldError> {
        (self.due_by > issued_on + Days::new(MAX_TIMESCALE_DAYS)).then(|| {
            FieldError::new(
                "/due_by",
                "max",
                format!("a timescale is at most {MAX_TIMESCALE_DAYS} days from the order's issue"),
            )
        })
    }
}

hub_platform::code_enum! {
/// Why a provider declines an order. The code goes into `contract.order_declined`; the
/// provider's own words (`detail`) stay in this service.
pub enum OrderDeclineReason {
    NoVacancy,
    CannotMeetNeeds,
    RateNotAgreed,
    StartDateNotPossible,
    Other,
}
}

/// [`OrderDeclineReason`] by its short name in this service (the schema name is the long one, unique
/// across the platform).
pub type DeclineReason = OrderDeclineReason;

/// `POST /v1/orders/{id}/decline`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeclineOrder {
    pub reason: DeclineReason,
    /// In the provider's words (required for `other`). Kept in this service only.
    #[serde(default)]
    pub detail: Option<String>,
}

impl Validate for DeclineOrder {
    fn validate(&self) -> Vec<FieldError> {
        let detail = self.detail.as_deref().unwrap_or("");
        text_errors("/detail", detail, self.reason == DeclineReason::Other, 2000)
    }
}

/// `POST /v1/orders/{id}/variations`: a change to a signed order, recorded on its own.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[schema(as = NewOrderVariation)]
#[serde(deny_unknown_fields)]
pub struct NewVariation {
    /// What changed (the term and its new wording or value).
    pub what: String,
    /// Why it changed.
    pub why: String,
    /// The day the change takes effect.
    pub effective_from: NaiveDate,
}

impl Validate for NewVariation {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = text_errors("/what", &self.what, true, 4000);
        e.extend(text_errors("/why", &self.why, true, 4000));
        e
    }
}

/// `POST /v1/orders/{id}/sign`: no body, or an empty JSON object.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignOrder {}

impl Validate for SignOrder {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emergency_orders_are_due_after_the_later_of_issue_and_start_until_agreed() {
        // Issued Monday 12 January 2026 for a child who moved in on Saturday 10th: 19th.
        assert_eq!(
            emergency_due_by(d(2026, 1, 12), d(2026, 1, 10), 5),
            d(2026, 1, 19)
        );
        // Issued ahead of a start on Wednesday 14th: five working days from the 14th.
        assert_eq!(
            emergency_due_by(d(2026, 1, 12), d(2026, 1, 14), 5),
            d(2026, 1, 21)
        );
        let t = Timescale {
            due_by: d(2026, 4, 13),
            agreed_with: "registered manager".into(),
        };
        assert!(t.due_by_error(d(2026, 1, 12)).is_some());
        assert!(t.due_by_error(d(2026, 1, 13)).is_none());
    }

    #[test]
    fn only_an_emergency_order_still_issued_has_its_timescale_agreed() {
        let day = d(2026, 1, 12).and_hms_opt(9, 0, 0).unwrap();
        let order = Order {
            id: OrderId::new(),
            competition_id: CompetitionId::new(),
            referral_id: ReferralId::new(),
            council: "E08000014".into(),
            partnership: "LCR-PPA".into(),
            provider_id: "prov-care-assist".into(),
            framework_id: FrameworkId::new(),
            weekly_rate_pence: Pence(317_065),
            start_date: d(2026, 1, 10),
            status: OrderStatus::Issued,
            issued_at: day,
            due_by: d(2026, 1, 19),
            signed_by: None,
            signed_at: None,
            lot_id: None,
            emergency: true,
            timescale_agreed_with: None,
            timescale_recorded_by: None,
            timescale_recorded_at: None,
            late: false,
            declined_by: None,
            declined_at: None,
            decline_reason: None,
            decline_detail: None,
            overdue_raised_at: None,
            revision: 1,
        };
        assert!(order.agree_timescale().is_ok() && order.place().is_ok());
        let signed = Order {
            status: OrderStatus::Signed,
            ..order.clone()
        };
        assert_eq!(signed.agree_timescale().unwrap_err().status, 409);
        let normal = Order {
            emergency: false,
            ..order
        };
        let refused = normal.agree_timescale().unwrap_err();
        assert!(
            refused.problem_type.ends_with("not-an-emergency-order"),
            "{refused:?}"
        );
        assert!(normal.place().is_err());
    }

    #[test]
    fn overdue_is_an_issued_order_after_its_due_day() {
        let due = d(2026, 1, 19);
        assert!(!is_overdue(OrderStatus::Issued, due, due));
        assert!(is_overdue(OrderStatus::Issued, due, d(2026, 1, 20)));
        assert!(!is_overdue(OrderStatus::Signed, due, d(2026, 1, 20)));
        assert!(!is_late(due, due) && is_late(due, d(2026, 1, 20)));
    }

    #[test]
    fn declining_for_another_reason_needs_the_providers_words() {
        let dec: DeclineOrder =
            serde_json::from_value(serde_json::json!({"reason": "other"})).unwrap();
        assert_eq!(dec.validate()[0].field, "/detail");
        let dec: DeclineOrder =
            serde_json::from_value(serde_json::json!({"reason": "no_vacancy"})).unwrap();
        assert!(dec.validate().is_empty());
    }

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
