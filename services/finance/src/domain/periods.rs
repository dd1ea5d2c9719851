//! A partnership's accounting periods: open, or closed and locked. A closed period never
//! changes (issue 10 rule 10): its payments, budget and ledger lines stand, and a late change
//! goes into the next open period as an adjustment. No I/O.

use chrono::NaiveDateTime;
use hub_platform::{Problem, calendar::FinancialYear};

hub_platform::code_enum! {
    /// Whether a period takes changes.
    pub enum PeriodStatus { Open, Closed }
}

/// One period of a partnership's financial year and where it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountingPeriod {
    pub partnership: String,
    pub year: FinancialYear,
    /// 1 (April) to 12 (March).
    pub period: i32,
    pub status: PeriodStatus,
}

/// Who closed a period, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closure {
    pub partnership: String,
    pub year: i32,
    pub period: i32,
    pub closed_by: String,
    pub closed_org: String,
    pub closed_at: NaiveDateTime,
}

impl AccountingPeriod {
    /// The one transition: an open period closes, by `closed_by` of `closed_org` at `at`; a
    /// closed one is 409 `period-closed`.
    pub fn close(
        &self,
        closed_by: &str,
        closed_org: &str,
        at: NaiveDateTime,
    ) -> Result<Closure, Problem> {
        self.require_open()?;
        Ok(Closure {
            partnership: self.partnership.clone(),
            year: self.year.0,
            period: self.period,
            closed_by: closed_by.to_owned(),
            closed_org: closed_org.to_owned(),
            closed_at: at,
        })
    }

    /// A change that would land in the period (a budget version from it): 409
    /// `period-closed` if it is closed.
    pub fn require_open(&self) -> Result<(), Problem> {
        match self.status {
            PeriodStatus::Open => Ok(()),
            PeriodStatus::Closed => Err(Problem::conflict(
                "period-closed",
                format!(
                    "P{} of {} for {} is closed: it cannot change",
                    self.period,
                    self.year.label(),
                    self.partnership
                ),
            )),
        }
    }

    /// The period payments sent for this one are counted in: this one if it is open; if it
    /// is closed, with `adjust` the first open one after it (`next_open`), else 409
    /// `period-closed` (and `year-closed` with none open to adjust into).
    pub fn posting(&self, adjust: bool, next_open: Option<i32>) -> Result<i32, Problem> {
        if self.status == PeriodStatus::Open {
            return Ok(self.period);
        }
        let label = self.year.label();
        match (adjust, next_open) {
            (true, Some(p)) => Ok(p),
            (true, None) => Err(Problem::conflict(
                "year-closed",
                format!(
                    "every period of {label} after P{} is closed: there is nowhere to post an adjustment",
                    self.period
                ),
            )),
            (false, next) => Err(Problem::conflict(
                "period-closed",
                format!(
                    "P{} of {label} is closed: send the payments again with adjust=true to post them to {} as an adjustment",
                    self.period,
                    next.map_or_else(
                        || "the next open period (there is none)".to_owned(),
                        |p| format!("P{p}")
                    )
                ),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slug(p: Problem) -> String {
        p.problem_type
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_owned()
    }

    fn period(status: PeriodStatus) -> AccountingPeriod {
        AccountingPeriod {
            partnership: "AIM".into(),
            year: FinancialYear(2018),
            period: 3,
            status,
        }
    }

    #[test]
    fn an_open_period_closes_once() {
        let at = chrono::DateTime::UNIX_EPOCH.naive_utc();
        let closure = period(PeriodStatus::Open)
            .close("u", "E08000012", at)
            .unwrap();
        assert_eq!((closure.year, closure.period), (2018, 3));
        let again = period(PeriodStatus::Closed)
            .close("u", "E08000012", at)
            .unwrap_err();
        assert_eq!(slug(again), "period-closed");
    }

    #[test]
    fn a_closed_period_posts_to_the_next_open_one_only_when_asked() {
        assert_eq!(period(PeriodStatus::Open).posting(false, None), Ok(3));
        let closed = period(PeriodStatus::Closed);
        assert_eq!(closed.posting(true, Some(5)), Ok(5));
        assert_eq!(slug(closed.posting(true, None).unwrap_err()), "year-closed");
        assert_eq!(
            slug(closed.posting(false, Some(5)).unwrap_err()),
            "period-closed"
        );
    }
}
